"""Stand-in for API Gateway (REST, v1 proxy): an HTTP server that turns requests into Lambda events and back."""

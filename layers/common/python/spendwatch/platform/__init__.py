"""What the functions run on: AWS clients, HTTP, secrets, observability, settings and the clock."""

"""Stand-in for AWS Lambda: loads the functions by their handler strings, shapes context and events, fires runs."""

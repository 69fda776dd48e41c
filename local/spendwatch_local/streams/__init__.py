"""Stand-in for Lambda's DynamoDB Streams event source mappings: polls, filters, batches, retries, invokes."""

"""Alert functions: evaluation (cost aggregates -> alert items) and delivery (alert items -> Slack and SNS)."""

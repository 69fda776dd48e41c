"""Where alerts go: SNS, Slack, and the console when no Slack webhook is configured."""

"""Stand-in for EventBridge scheduled rules: parses rate()/cron() expressions and fires them on time."""

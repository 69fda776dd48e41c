"""The domain: cost records, money, aggregates, budgets, alerts, history, spend, usage, forecasts and detection.

Pure code: no boto3, no table keys. What it needs from storage it asks through the protocols in ``ports``.
"""

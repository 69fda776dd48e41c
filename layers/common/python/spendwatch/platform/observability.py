"""Logging for every function: structured JSON via Powertools, never a secret in a log line."""

from __future__ import annotations

from aws_lambda_powertools import Logger

# Tracer is left out on purpose: importing it loads the X-Ray SDK (~150 ms of cold start) even when disabled.
logger = Logger(service="spendwatch")

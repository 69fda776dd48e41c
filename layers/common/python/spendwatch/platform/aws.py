"""Cached AWS client factories with timeouts and retries; adapters take clients as parameters."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config as BotoConfig

# Standard retry mode backs off on throttling and 5xx; the timeouts keep a stuck call from eating a Lambda.
CLIENT_CONFIG = BotoConfig(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)


@cache
def client(service: str) -> Any:
    """One client per service per process (honours AWS_ENDPOINT_URL for local and test endpoints)."""
    return boto3.client(service, config=CLIENT_CONFIG)

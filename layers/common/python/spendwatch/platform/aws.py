"""Cached AWS client factories with timeouts and retries; adapters take clients as parameters."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config as BotoConfig

# Standard retry mode backs off on throttling and 5xx; the timeouts keep a stuck call from eating a Lambda.
CLIENT_CONFIG = BotoConfig(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)


@cache
def client(service: str, region: str | None = None) -> Any:
    """One client per service (and region, when one is named) per process.

    botocore honours ``AWS_ENDPOINT_URL`` and the per-service ``AWS_ENDPOINT_URL_<SERVICE>`` (e.g.
    ``AWS_ENDPOINT_URL_PRICING``) for local and test endpoints.
    """
    if region is None:
        return boto3.client(service, config=CLIENT_CONFIG)
    return boto3.client(service, region_name=region, config=CLIENT_CONFIG)

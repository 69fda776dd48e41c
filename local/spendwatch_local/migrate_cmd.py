"""``spendwatch migrate-usage``: move usage stored per source (before usage was kept per metric) to its metric's
partitions, against AWS_ENDPOINT_URL if set, else real AWS."""

from __future__ import annotations

import json
import os

import boto3
from spendwatch.platform import resources
from spendwatch.store import Store, StoreError

from spendwatch_local.aws import DEFAULT_REGION, ENDPOINT_ENV
from spendwatch_local.console import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Console


def run_migrate_usage(table: str | None, console: Console) -> int:
    """Move every legacy usage item; prints ``{"table", "moved"}`` as JSON."""
    name = table or os.environ.get(resources.ENV_TABLE)
    if not name:
        console.error(f"no table: pass --table or set {resources.ENV_TABLE}")
        return EXIT_USAGE
    client = boto3.client(
        "dynamodb",
        region_name=os.environ.get("AWS_DEFAULT_REGION", DEFAULT_REGION),
        endpoint_url=os.environ.get(ENDPOINT_ENV) or None,
    )
    try:
        moved = Store(client, name).migrate_legacy_usage()
    except StoreError as exc:
        console.error(str(exc))
        return EXIT_FAILED
    console.line(json.dumps({"table": name, "moved": moved}))
    return EXIT_OK

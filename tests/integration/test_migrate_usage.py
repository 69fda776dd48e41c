"""Usage written in the per-source layout of older tables moves to the per-metric layout with
`spendwatch migrate-usage`, nothing lost, and reads back through the API like any usage."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.integration.conftest import TABLE, call_api, write_config

LEGACY = [
    # (source, metric, day, tenant, quantity, event)
    ("api", "storage_gb", "2026-10-30", "acme", "120.5", "old-batch#0"),
    ("api", "storage_gb", "2026-11-02", "acme", "130", "old-batch#1"),
    ("api", "emails_sent", "2026-11-02", "globex", "900", "old-batch#2"),
    ("demo-do", "droplet_hours", "2026-11-02", "", "48", ""),
]


def _legacy_item(source: str, metric: str, day: str, tenant: str, quantity: str, event: str) -> dict[str, Any]:
    """A usage item as tables stored it before usage was kept per metric: one partition per source and month."""
    return {
        "pk": {"S": f"USAGE#{source}#{day[:7]}"},
        "sk": {"S": f"{day}#legacy-{metric}-{tenant}-{event}"},
        "item_type": {"S": "usage"},
        "metric": {"S": metric},
        "quantity": {"N": quantity},
        "unit": {"S": "u"},
        "day": {"S": day},
        "ProviderName": {"S": ""},
        "ServiceName": {"S": ""},
        "ResourceId": {"S": ""},
        "x_tenant": {"S": tenant},
        "x_source": {"S": source},
        "x_collected_at": {"S": f"{day}T08:00:00+00:00"},
        "x_event": {"S": event},
    }


def _usage_rows() -> list[tuple[str, str, str, str, str]]:
    status, body = call_api("/v1/usage", {"start": "2026-10-01", "end": "2026-11-30"})
    assert status == 200, body
    return sorted((r["source"], r["metric"], r["day"], r["tenant"], r["quantity"]) for r in body["items"])


def test_legacy_usage_moves_to_its_metric_and_reads_back(
    aws_env: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from spendwatch_local.cli import main

    write_config(aws_env, 'currency = "USD"\n')
    ddb = boto3.client("dynamodb")
    for row in LEGACY:
        ddb.put_item(TableName=TABLE, Item=_legacy_item(*row))
    assert _usage_rows() == [], "the per-metric layout does not see the legacy items"

    assert main(["migrate-usage", "--table", TABLE]) == 0
    assert '"moved": 4' in capsys.readouterr().out
    expected = sorted((s, m, d, t, q) for s, m, d, t, q, _e in LEGACY)
    assert _usage_rows() == expected
    legacy_partitions = {f"USAGE#{s}#{d[:7]}" for s, *_rest in LEGACY for d in [_rest[1]]}
    left = [i for i in ddb.scan(TableName=TABLE)["Items"] if i["pk"]["S"] in legacy_partitions]
    assert left == []

    assert main(["migrate-usage", "--table", TABLE]) == 0
    assert '"moved": 0' in capsys.readouterr().out
    assert _usage_rows() == expected

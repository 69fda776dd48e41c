"""From a scheduled event to the API: Vercel's FOCUS charges served over HTTP, collected on moto, to the cent."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from spendwatch.domain.money import to_cents

from tests.fakes.vercel import EXAMPLE, FakeVercel, Reply, example_rows
from tests.integration.conftest import TABLE, LambdaContext, call_api, scheduled_event, write_config

DAYS = {"start": "2025-03-10", "end": "2025-03-12"}
TOKEN = "vercel-integration-token"
TEAM = "team_9fKq3XcV1bNm"
CONFIG = f"""currency = "USD"
[[sources]]
name = "vercel"
type = "vercel"
team_id = "{TEAM}"
"""


def _collect(**window: str) -> dict[str, Any]:
    from collect.handler import handler

    result: dict[str, Any] = handler(scheduled_event("vercel", **window), LambdaContext())
    return result


def _sums(column: str) -> dict[str, str]:
    """Exact BilledCost per value of a column (or ``Tags.KEY``), straight from the served file, in cents."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        row = json.loads(line, parse_float=Decimal)
        key = row["Tags"].get(column[5:]) if column.startswith("Tags.") else row.get(column)
        sums[key or "(none)"] += Decimal(row["BilledCost"])
    return {key: f"{to_cents(amount):f}" for key, amount in sums.items()}


def _totals(group_by: str) -> dict[str, str]:
    status, body = call_api("/v1/costs", {**DAYS, "group_by": group_by})
    assert status == 200, body
    return {group["key"]: group["total"] for group in body["groups"]}


def _cost_items(aws_env: dict[str, Any]) -> int:
    items = aws_env["dynamodb"].scan(TableName=TABLE)["Items"]
    return sum(1 for item in items if item["item_type"]["S"] == "cost")


@pytest.fixture
def served(aws_env: dict[str, Any]) -> Iterator[FakeVercel]:
    """A fake Vercel API on a local port (gzip on, as Vercel does), with VERCEL_API_URL and VERCEL_TOKEN set."""
    with FakeVercel(example_rows(), token=TOKEN, team_id=TEAM, compress=True) as fake:
        aws_env["monkeypatch"].setenv("VERCEL_API_URL", fake.url)
        aws_env["monkeypatch"].setenv("VERCEL_TOKEN", TOKEN)
        write_config(aws_env, CONFIG)
        yield fake


def test_collected_totals_equal_the_charges_to_the_cent(served: FakeVercel) -> None:
    run = _collect(**DAYS)

    assert run["status"] == "succeeded", run
    # 22 charges + 12 usage items: 4 services x 3 days (the credit measures no usage)
    assert (run["records_read"], run["records_written"], run["rejected"], run["requests"]) == (22, 34, 0, 1)
    assert run["window"] == DAYS and run["data_through"] == "2025-03-13T00:00:00Z"
    assert _totals("provider") == _sums("ServiceProviderName")
    assert _totals("service") == _sums("ServiceName")
    assert _totals("region") == _sums("RegionId")
    assert _totals("tag:ProjectName") == _sums("Tags.ProjectName")
    assert _totals("account") == {TEAM: _sums("ServiceProviderName")["Vercel"]}
    request = served.requests[0]
    assert (request["from"], request["to"], request["teamId"]) == (
        "2025-03-10T00:00:00.000Z",
        "2025-03-13T00:00:00.000Z",
        TEAM,
    )


def test_recollecting_changes_nothing(served: FakeVercel, aws_env: dict[str, Any]) -> None:
    _collect(**DAYS)
    before = {dim: _totals(dim) for dim in ("provider", "service", "region", "account", "tag:ProjectName")}
    usage_before = call_api("/v1/usage", DAYS)

    assert _collect(**DAYS)["status"] == "succeeded"

    assert {dim: _totals(dim) for dim in before} == before
    assert _cost_items(aws_env) == 22
    assert call_api("/v1/usage", DAYS) == usage_before


def test_consumed_quantities_are_served_as_usage(served: FakeVercel) -> None:
    _collect(**DAYS)

    status, body = call_api("/v1/usage", DAYS)

    assert status == 200, body
    found = {(u["day"], u["metric"], u["unit"], u["service"]): Decimal(u["quantity"]) for u in body["items"]}
    expected: dict[tuple[str, str, str, str], Decimal] = defaultdict(Decimal)
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        row = json.loads(line, parse_float=Decimal)
        if row["ChargeCategory"] == "Usage":
            unit = row["ConsumedUnit"]
            expected[(row["ChargePeriodStart"][:10], unit.lower(), unit, row["ServiceName"])] += row["ConsumedQuantity"]
    assert found == expected and len(found) == 12
    assert {(u["tenant"], u["source"]) for u in body["items"]} == {("", "vercel")}


def test_a_broken_line_is_counted_and_the_rest_kept(aws_env: dict[str, Any]) -> None:
    rows: list[Any] = example_rows()
    rows.insert(5, '{"BilledCost": 0.5, "BillingCurr')
    with FakeVercel(rows, token=TOKEN) as fake:
        aws_env["monkeypatch"].setenv("VERCEL_API_URL", fake.url)
        aws_env["monkeypatch"].setenv("VERCEL_TOKEN", TOKEN)
        write_config(aws_env, '[[sources]]\nname = "vercel"\ntype = "vercel"\n')
        run = _collect(**DAYS)

    assert run["status"] == "partial"
    assert (run["records_read"], run["records_written"], run["rejected"]) == (23, 22 + 12, 1)
    assert run["first_rejection"] == "/v1/billing/charges 2025-03-10..2025-03-12 line 6: not valid JSON"
    assert _totals("provider") == _sums("ServiceProviderName")


def test_rate_limits_and_server_errors_are_ridden_out(served: FakeVercel) -> None:
    served.then(Reply(429, b'{"error": {"code": "rate_limited"}}', {"Retry-After": "1"}), Reply(500))

    run = _collect(**DAYS)

    assert run["status"] == "succeeded" and run["requests"] == 3
    assert _totals("provider") == _sums("ServiceProviderName")


def test_a_refused_token_fails_the_run_without_showing_it(served: FakeVercel, aws_env: dict[str, Any]) -> None:
    aws_env["monkeypatch"].setenv("VERCEL_TOKEN", "revoked-token-value")

    run = _collect(**DAYS)

    assert run["status"] == "failed" and run["requests"] == 1
    assert "Vercel charges 2025-03-10..2025-03-12: HTTP 403 forbidden: Not authorized" in run["error"]
    assert "revoked-token-value" not in json.dumps(run)
    status, body = call_api("/v1/collections")
    assert status == 200 and body["items"][0]["status"] == "failed"


def test_a_missing_token_fails_before_any_request(served: FakeVercel, aws_env: dict[str, Any]) -> None:
    aws_env["monkeypatch"].delenv("VERCEL_TOKEN")

    run = _collect(**DAYS)

    assert run["status"] == "failed" and run["requests"] == 0 and served.requests == []
    assert "cannot read secret 'spendwatch/vercel-token'" in run["error"]

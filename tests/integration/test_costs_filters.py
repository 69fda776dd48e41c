"""GET /v1/costs with filters: the real FOCUS sample collected on moto, answered from the daily combinations.

Every expectation is computed straight from the CSV, so a filter that drops or double-counts a charge fails.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from spendwatch.domain import aggregates
from spendwatch.domain.money import to_cents

from tests.conftest import FOCUS_SAMPLE
from tests.integration.conftest import LambdaContext, Query, call_api, scheduled_event

SEPT = {"start": "2024-09-01", "end": "2024-09-30"}
Row = dict[str, str]


def _value(row: Row, column: str) -> str:
    raw = row[column]
    return "" if raw == "NULL" else raw.strip()


def _rows() -> list[Row]:
    with FOCUS_SAMPLE.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _tags(row: Row) -> dict[str, str]:
    text = _value(row, "Tags")
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in json.loads(text).items()} if text else {}


def _dimension(row: Row, dimension: str) -> str:
    columns = {"provider": "ProviderName", "service": "ServiceName", "region": "RegionId", "sku": "SkuId"}
    if dimension == "account":
        value = _value(row, "SubAccountId") or _value(row, "BillingAccountId")
    elif dimension.startswith("tag:"):
        value = _tags(row).get(dimension[4:], "")
    else:
        value = _value(row, columns[dimension])
    return value or "(none)"


def _expected(keep: Callable[[Row], bool], group_by: str) -> dict[str, str]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for row in _rows():
        if keep(row):
            sums[_dimension(row, group_by)] += Decimal(row["BilledCost"])
    return {key: f"{to_cents(amount):f}" for key, amount in sums.items()}


def _groups(query: Query) -> tuple[dict[str, Any], dict[str, str]]:
    status, body = call_api("/v1/costs", {**SEPT, **query})
    assert status == 200, body
    return body, {group["key"]: group["total"] for group in body["groups"]}


CASES: list[tuple[Query, Callable[[Row], bool], str]] = [
    ({"provider": "AWS", "group_by": "service"}, lambda r: r["ProviderName"] == "AWS", "service"),
    ({"provider": "Microsoft", "group_by": "region"}, lambda r: r["ProviderName"] == "Microsoft", "region"),
    ({"region": "us-west-2", "group_by": "provider"}, lambda r: _value(r, "RegionId") == "us-west-2", "provider"),
    (
        {"tag": "environment=prod", "group_by": "account"},
        lambda r: _tags(r).get("environment") == "prod",
        "account",
    ),
    (
        {"tag": ["environment=dev", "application=BrightPathMatrix"], "group_by": "tag:business_unit"},
        lambda r: _tags(r).get("environment") == "dev" and _tags(r).get("application") == "BrightPathMatrix",
        "tag:business_unit",
    ),
    (
        {"provider": "AWS", "service": "Amazon Simple Queue Service", "group_by": "sku"},
        lambda r: r["ProviderName"] == "AWS" and r["ServiceName"] == "Amazon Simple Queue Service",
        "sku",
    ),
    ({"region": "(none)", "group_by": "service"}, lambda r: _value(r, "RegionId") == "", "service"),
]


@pytest.mark.parametrize(("query", "keep", "group_by"), CASES, ids=lambda c: str(c) if isinstance(c, dict) else "")
def test_filtered_totals_equal_the_csv(focus_collected: dict[str, Any], query: Query, keep: Any, group_by: str) -> None:
    body, groups = _groups(query)

    assert groups == _expected(keep, group_by)
    assert body["total"] == f"{to_cents(sum((Decimal(r['BilledCost']) for r in _rows() if keep(r)), Decimal(0))):f}"


def test_days_without_combinations_read_the_charges_and_agree(
    focus_collected: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from collect.handler import handler

    query: Query = {"provider": "AWS", "tag": "environment=dev", "group_by": "region", "granularity": "month"}
    _, from_cells = _groups(query)
    monkeypatch.setattr(aggregates, "MAX_CELLS", 1)  # every day now has too many combinations to keep
    assert handler(scheduled_event("focus"), LambdaContext())["status"] == "succeeded"

    _, from_charges = _groups(query)
    monkeypatch.undo()  # the module's other tests read the combinations again
    assert handler(scheduled_event("focus"), LambdaContext())["status"] == "succeeded"

    assert from_charges == from_cells
    assert from_cells == _expected(
        lambda r: r["ProviderName"] == "AWS" and _tags(r).get("environment") == "dev", "region"
    )


def test_the_response_names_its_filters(focus_collected: dict[str, Any]) -> None:
    body, _ = _groups({"provider": "AWS", "tag": ["environment=dev", "env=prod"]})

    assert body["filters"] == {"provider": "AWS", "tag": {"environment": "dev", "env": "prod"}}
    assert body["group_by"] is None


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"tag": "environment"}, "KEY=VALUE"),
        ({"tag": ["env=a", "env=b"]}, "two different values"),
        ({"provider": ""}, "provider"),
    ],
)
def test_malformed_filters_are_400(focus_collected: dict[str, Any], query: Query, message: str) -> None:
    status, body = call_api("/v1/costs", {**SEPT, **query})

    assert status == 400
    assert body["error"]["code"] == "invalid_parameter"
    assert message in body["error"]["message"]


def test_a_filter_nothing_matches_is_an_empty_answer(focus_collected: dict[str, Any]) -> None:
    body, groups = _groups({"provider": "NoSuchCloud", "group_by": "service"})

    assert groups == {}
    assert body["total"] == "0.00"

"""GET /v1/export: every charge of the real FOCUS sample comes back once, exactly, in pages."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from spendwatch.domain.export import FOCUS_COLUMNS

from tests.conftest import FOCUS_SAMPLE
from tests.integration.conftest import LambdaContext, Query, api_event

SEPT = {"start": "2024-09-01", "end": "2024-09-30"}


def _get(query: Query) -> dict[str, Any]:
    from api.handler import handler

    response: dict[str, Any] = handler(api_event("/v1/export", query), LambdaContext())
    return response


def _header(response: dict[str, Any], name: str) -> str | None:
    values = response.get("multiValueHeaders", {}).get(name) or [response.get("headers", {}).get(name)]
    return values[0]


def _all_rows(query: dict[str, str]) -> tuple[list[dict[str, str]], int]:
    rows: list[dict[str, str]] = []
    pages = 0
    token = None
    while True:
        response = _get({**query, **({"next_token": token} if token else {})})
        assert response["statusCode"] == 200, response["body"]
        assert _header(response, "Content-Type") == "text/csv; charset=utf-8"
        rows += list(csv.DictReader(io.StringIO(response["body"])))
        pages += 1
        token = _header(response, "X-Next-Token")
        if token is None:
            assert _header(response, "Link") is None
            return rows, pages
        assert str(_header(response, "Link")).endswith('>; rel="next"')


def _source_rows() -> list[dict[str, str]]:
    with FOCUS_SAMPLE.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_focus_export_holds_every_charge_once_exactly(focus_collected: dict[str, Any]) -> None:
    rows, pages = _all_rows({**SEPT, "format": "focus", "limit": "300"})

    source = _source_rows()
    assert pages == 4
    assert list(rows[0]) == list(FOCUS_COLUMNS)
    assert len(rows) == len(source) == 1000
    assert sum(Decimal(r["BilledCost"]) for r in rows) == sum(Decimal(r["BilledCost"]) for r in source)
    assert sorted(Decimal(r["BilledCost"]) for r in rows) == sorted(Decimal(r["BilledCost"]) for r in source)
    assert all(re.fullmatch(r"-?\d+(\.\d+)?", r["BilledCost"]) for r in rows)  # plain decimals, no exponents
    assert {r["x_source"] for r in rows} == {"focus"}
    tagged = [json.loads(r["Tags"]) for r in rows if r["Tags"]]
    assert sum(1 for tags in tagged if tags.get("environment") == "dev") == 426
    assert [r["ChargePeriodStart"][:10] for r in rows] == sorted(r["ChargePeriodStart"][:10] for r in rows)


def test_plain_csv_filtered_by_provider_and_tag(focus_collected: dict[str, Any]) -> None:
    rows, _ = _all_rows({**SEPT, "format": "csv", "provider": "AWS", "tag": "environment=prod"})

    expected = [
        r
        for r in _source_rows()
        if r["ProviderName"] == "AWS"
        and r["Tags"] not in ("", "NULL")
        and json.loads(r["Tags"]).get("environment") == "prod"
    ]
    assert len(rows) == len(expected) > 0
    assert {r["provider"] for r in rows} == {"AWS"}
    assert sum(Decimal(r["amount"]) for r in rows) == sum(Decimal(r["BilledCost"]) for r in expected)
    assert list(rows[0])[:4] == ["day", "provider", "service", "account"]


def test_a_range_without_charges_is_a_header_only(focus_collected: dict[str, Any]) -> None:
    response = _get({"start": "2023-01-01", "end": "2023-01-31", "format": "focus"})

    assert response["statusCode"] == 200
    assert response["body"] == ",".join(FOCUS_COLUMNS) + "\r\n"
    assert _header(response, "X-Next-Token") is None


@pytest.mark.parametrize(
    "query",
    [
        {"format": "xlsx"},
        {"next_token": "bm90LWEtdG9rZW4="},
        {"limit": "0"},
        {"start": "2024-09-30", "end": "2024-09-01"},
    ],
)
def test_bad_export_requests_are_400(focus_collected: dict[str, Any], query: dict[str, str]) -> None:
    response = _get({**SEPT, **query})

    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["code"] == "invalid_parameter"


def test_a_token_from_another_range_is_refused(focus_collected: dict[str, Any]) -> None:
    token = _header(_get({**SEPT, "limit": "10"}), "X-Next-Token")

    assert token is not None
    response = _get({"start": "2024-09-25", "end": "2024-09-30", "next_token": token})

    assert response["statusCode"] == 400
    assert "another request" in json.loads(response["body"])["error"]["message"]


def test_a_page_out_of_time_hands_out_its_token_and_loses_nothing(focus_collected: dict[str, Any]) -> None:
    from datetime import date

    from spendwatch.domain.export import export_page

    from tests.integration.conftest import store

    rows: list[dict[str, str]] = []
    token = None
    pages = 0
    while True:
        page = export_page(store(), date(2024, 9, 1), date(2024, 9, 1), "focus", {}, 5000, token, seconds=0)
        rows += list(csv.DictReader(io.StringIO(page.body)))
        pages += 1
        token = page.next_token
        if token is None:
            break

    expected = [r for r in _source_rows() if r["ChargePeriodStart"].startswith("2024-09-01")]
    assert pages == len(rows) == len(expected)  # out of time after every row: one row per page
    assert sorted(Decimal(r["BilledCost"]) for r in rows) == sorted(Decimal(r["BilledCost"]) for r in expected)

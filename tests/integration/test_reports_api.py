"""GET /v1/reports and /v1/reports/{id}: report items as the report function stores them, paged newest first."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from spendwatch.domain.reports import Report, ReportLine

from tests.integration.conftest import call_api, store


def _report(kind: str, start: date, end: date, total: str = "1234.5678") -> Report:
    return Report.model_validate(
        {
            "kind": kind,
            "start": start,
            "end": end,
            "timezone": "Europe/Berlin",
            "generated_at": datetime(2026, 11, 2, 6, 0, tzinfo=UTC),
            "currency": "EUR",
            "total": Decimal(total),
            "previous_total": Decimal("1000"),
            "breakdown": {"service": [ReportLine(key="Amazon EC2", amount=Decimal("0.005"), previous=None)]},
            "alerts_opened": 3,
            "artifacts": {"html": "s3://bucket/reports/x.html"},
        }
    )


def test_no_reports_is_an_empty_page(aws_env: dict[str, Any]) -> None:
    assert call_api("/v1/reports") == (200, {"items": [], "next_token": None})


def test_a_stored_report_is_served_exactly(aws_env: dict[str, Any]) -> None:
    store().put_report(_report("monthly", date(2026, 10, 1), date(2026, 10, 31)))

    status, body = call_api("/v1/reports/2026-10-01-monthly")

    assert status == 200
    assert body == {
        "id": "2026-10-01-monthly",
        "kind": "monthly",
        "start": "2026-10-01",
        "end": "2026-10-31",
        "timezone": "Europe/Berlin",
        "generated_at": "2026-11-02T06:00:00Z",
        "currency": "EUR",
        "total": "1234.57",
        "previous_total": "1000.00",
        "change_pct": "23.5",
        "projected_month_end": None,
        "projection": None,
        "breakdown": {"service": [{"key": "Amazon EC2", "amount": "0.00", "previous": None}]},
        "movers": {},
        "budgets": [],
        "alerts_opened": 3,
        "alerts": [],
        "recommendations": {"open": 0, "monthly_savings": "0.00"},
        "unit_costs": [],
        "artifacts": {"html": "s3://bucket/reports/x.html"},
    }


def test_reports_page_newest_first_and_filter_by_kind(aws_env: dict[str, Any]) -> None:
    first = date(2026, 9, 1)
    for n in range(7):
        day = first + timedelta(days=n)
        store().put_report(_report("daily", day, day))
    store().put_report(_report("monthly", first, date(2026, 9, 30)))

    seen: list[str] = []
    token: str | None = None
    while True:
        status, body = call_api("/v1/reports", {"limit": "3", **({"next_token": token} if token else {})})
        assert status == 200
        assert len(body["items"]) <= 3
        seen += [item["id"] for item in body["items"]]
        token = body["next_token"]
        if token is None:
            break

    assert seen == sorted(seen, reverse=True)
    assert len(seen) == 8
    status, body = call_api("/v1/reports", {"kind": "monthly"})
    assert [item["id"] for item in body["items"]] == ["2026-09-01-monthly"]


@pytest.mark.parametrize(
    ("path", "query", "status", "code"),
    [
        ("/v1/reports/2026-10-01-monthly", None, 404, "not_found"),
        ("/v1/reports/not-an-id", None, 400, "invalid_parameter"),
        ("/v1/reports", {"next_token": "bm90LWEtdG9rZW4="}, 400, "invalid_parameter"),
        ("/v1/reports", {"kind": "hourly"}, 400, "invalid_parameter"),
    ],
)
def test_bad_report_requests(
    aws_env: dict[str, Any], path: str, query: dict[str, str] | None, status: int, code: str
) -> None:
    got_status, body = call_api(path, query)

    assert got_status == status
    assert body["error"]["code"] == code


def test_a_report_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="end is before start"):
        _report("weekly", date(2026, 10, 8), date(2026, 10, 1))

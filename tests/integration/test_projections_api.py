"""Projections and the summary over the API, from stored daily totals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from spendwatch.domain.aggregates import PeriodTotals
from spendwatch.domain.models import CostItem
from spendwatch.platform import clock

from tests.integration.conftest import call_api, store, write_config

pytestmark = pytest.mark.calendar

TODAY = clock.utc_now().replace(hour=0, minute=0, second=0, microsecond=0)
DAYS = 120


@pytest.fixture
def history(aws_env: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """120 days of two providers with a weekly rhythm, written as the collectors would.

    The clock is pinned to noon of TODAY for the test: the expectations are built from TODAY, and a run that
    straddles midnight would otherwise compare them with the API's next day.
    """
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv(clock.NOW_ENV, (TODAY + timedelta(hours=12)).isoformat())
    clock.reset()
    write_config(aws_env, 'currency = "USD"\n[[budgets]]\nname = "total"\namount = "3000"\n')
    days = {}
    for n in range(DAYS, 0, -1):
        start = TODAY - timedelta(days=n)
        totals = PeriodTotals()
        for provider, base in (("AWS", Decimal("40")), ("DigitalOcean", Decimal("8.64"))):
            amount = base * (Decimal("0.7") if start.weekday() >= 5 else 1)
            totals.add(
                CostItem(
                    ProviderName=provider,
                    ServiceName=f"{provider} compute",
                    BilledCost=amount,
                    BillingCurrency="USD",
                    ChargePeriodStart=start,
                    ChargePeriodEnd=start + timedelta(days=1),
                    x_source="s",
                    x_collected_at=TODAY,
                )
            )
        days[start.date().isoformat()] = totals
    store().replace_day_totals("s", days)
    yield aws_env
    monkeypatch.undo()
    clock.reset()


def test_projections_by_provider(history: dict[str, Any]) -> None:
    status, body = call_api("/v1/projections", {"horizon_days": "60", "group_by": "provider"})
    assert status == 200, body
    assert body["currency"] == "USD" and body["interval"] == 0.8 and body["start"] == TODAY.date().isoformat()
    groups = {g["key"]: g for g in body["groups"]}
    assert set(groups) == {"AWS", "DigitalOcean"}
    for group in groups.values():
        assert len(group["points"]) == 60
        for point in group["points"]:
            assert Decimal(point["lower"]) <= Decimal(point["amount"]) <= Decimal(point["upper"])
        end = group["month_end"]
        assert Decimal(end["lower"]) <= Decimal(end["amount"]) <= Decimal(end["upper"])
        assert Decimal(end["amount"]) >= Decimal(group["month_to_date"])
        assert group["accuracy"] is not None and group["accuracy"]["samples"] >= 1
    # A flat weekly rhythm forecasts itself: a weekday of AWS is about 40, a weekend day about 28.
    weekday = next(p for p in groups["AWS"]["points"] if datetime.fromisoformat(p["period"]).weekday() == 2)
    assert abs(Decimal(weekday["amount"]) - 40) < 4


def test_projection_errors(history: dict[str, Any]) -> None:
    assert call_api("/v1/projections", {"horizon_days": "45"})[0] == 400
    assert call_api("/v1/projections", {"group_by": "colour"})[0] == 400
    assert call_api("/v1/projections", {"level": "1.5"})[0] == 400


def test_summary_agrees_with_costs(history: dict[str, Any]) -> None:
    status, summary = call_api("/v1/costs/summary")
    assert status == 200, summary
    first = TODAY.date().replace(day=1)
    status, costs = call_api("/v1/costs", {"start": first.isoformat(), "end": TODAY.date().isoformat()})
    assert summary["month_to_date"] == costs["total"]
    projected = summary["projected_month_end"]
    assert Decimal(projected["lower"]) <= Decimal(projected["amount"]) <= Decimal(projected["upper"])
    assert [b["name"] for b in summary["budgets"]] == ["total"]
    assert summary["budgets"][0]["status"]["spent"] == summary["month_to_date"]

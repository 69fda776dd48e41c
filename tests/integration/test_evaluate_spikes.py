"""Spikes and first-seen through the evaluate function: one alert per event, at the broadest scope, with drivers."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from spendwatch.domain.aggregates import PeriodTotals
from spendwatch.domain.models import CostItem
from spendwatch.platform import clock
from spendwatch.store.base import to_item

from tests.integration.conftest import LambdaContext, store, write_config

pytestmark = pytest.mark.calendar

TODAY = clock.utc_now().replace(hour=0, minute=0, second=0, microsecond=0)


def _item(provider: str, service: str, amount: Decimal, day: datetime, sku: str = "") -> CostItem:
    return CostItem(
        ProviderName=provider,
        ServiceName=service,
        SkuId=sku,
        BilledCost=amount,
        BillingCurrency="USD",
        ChargePeriodStart=day,
        ChargePeriodEnd=day + timedelta(days=1),
        x_source="s",
        x_collected_at=TODAY,
    )


def _history(spike_day: int | None = None, new_service_day: int | None = None) -> list[dict[str, Any]]:
    """60 days of three services; optionally EC2 at 4x on one day and a new service from another."""
    days: dict[str, PeriodTotals] = {}
    for n in range(60, 0, -1):
        day = TODAY - timedelta(days=n)
        weekend = day.weekday() >= 5
        totals = PeriodTotals()
        ec2 = Decimal("40") * (Decimal("0.7") if weekend else 1) * (4 if n == spike_day else 1)
        totals.add(_item("AWS", "Amazon EC2", ec2, day))
        totals.add(_item("AWS", "Amazon S3", Decimal("6.10"), day))
        totals.add(_item("DigitalOcean", "Droplets", Decimal("8.64"), day))
        if new_service_day is not None and n <= new_service_day:
            totals.add(_item("AWS", "Amazon SageMaker", Decimal("12.00"), day, sku="SM-ML-T3"))
        days[day.date().isoformat()] = totals
    store().replace_day_totals("s", days)
    return [
        {
            "eventID": day,
            "eventName": "INSERT",
            "dynamodb": {"NewImage": to_item({"item_type": "agg_day", "period": day, "source": "s"})},
        }
        for day in days
    ]


def _evaluate(records: list[dict[str, Any]]) -> None:
    from alert.evaluate.handler import handler

    handler({"Records": records}, LambdaContext())


@pytest.fixture
def env(aws_env: dict[str, Any]) -> dict[str, Any]:
    write_config(aws_env, 'currency = "USD"\n')
    return aws_env


def test_a_service_spike_alerts_once_at_the_top_naming_the_service(env: dict[str, Any]) -> None:
    records = _history(spike_day=5)

    _evaluate(records)
    _evaluate(records)  # re-evaluating the same data: nothing new

    spikes = [a for a in store().alerts() if a.kind == "spike"]
    assert len(spikes) == 1
    alert = spikes[0]
    assert alert.period == (TODAY - timedelta(days=5)).date().isoformat()
    assert alert.actual is not None and alert.expected is not None and alert.actual > 2 * alert.expected
    assert alert.drivers and (alert.drivers[0].dimension, alert.drivers[0].key) in {
        ("service", "Amazon EC2"),
        ("provider", "AWS"),
    }
    assert "Amazon EC2" in alert.message
    assert any(d.key == "Amazon EC2" and d.share > Decimal("0.9") for d in alert.drivers)


def test_old_spikes_in_a_backfill_do_not_page(env: dict[str, Any]) -> None:
    _evaluate(_history(spike_day=40))
    assert [a for a in store().alerts() if a.kind == "spike"] == []


def test_a_new_service_is_first_seen_once(env: dict[str, Any]) -> None:
    _evaluate(_history(new_service_day=3))
    found = [a for a in store().alerts() if a.kind == "first_seen"]
    day = (TODAY - timedelta(days=3)).date().isoformat()
    assert {(str(a.scope), a.period) for a in found} == {
        (str({"service": "Amazon SageMaker"}), day),
        (str({"sku": "SM-ML-T3"}), day),
    }
    assert len(found) == 2

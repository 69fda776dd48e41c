"""Utilisation alerts: a resource's CPU or memory daily average above ``[utilisation]`` raises one warning per
resource, day and measure as the collected utilisation reaches evaluation through the table's stream; a day
collected again below its threshold settles its alert, and a replay raises nothing new."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from spendwatch.domain.models import UsageItem
from spendwatch.store import table as store_table

from tests.integration.conftest import TABLE, LambdaContext, store, write_config
from tests.integration.stream_tap import tapped

NOW = "2026-11-24T08:00:00+00:00"
TODAY = date(2026, 11, 24)
CONFIG = """
currency = "USD"

[utilisation]
cpu = "70%"
memory = "85%"
"""


@pytest.fixture
def evaluated(aws_env: dict[str, Any]) -> Iterator[dict[str, Any]]:
    write_config(aws_env, CONFIG)
    with tapped(aws_env, TABLE, NOW) as env:
        yield env


def _day(resource: str, day: date, cpu: str | None = None, memory: str | None = None) -> list[UsageItem]:
    """A droplet's day as the DigitalOcean collector writes it (ratios, 1.0 = all of it)."""
    common: dict[str, Any] = {
        "unit": "ratio",
        "day": day,
        "ProviderName": "DigitalOcean",
        "ServiceName": "Droplets",
        "ResourceId": resource,
        "x_source": "do",
        "x_collected_at": datetime(2026, 11, 24, 7, tzinfo=UTC),
    }
    items = []
    if cpu is not None:
        items.append(UsageItem(metric="cpu_utilisation_avg", quantity=Decimal(cpu), **common))
        items.append(UsageItem(metric="cpu_utilisation_peak", quantity=Decimal("0.99"), **common))
    if memory is not None:
        items.append(UsageItem(metric="memory_utilisation_avg", quantity=Decimal(memory), **common))
    return items


def _evaluate(env: dict[str, Any]) -> int:
    from alert.evaluate.handler import handler

    records = env["tap"].take(store_table.ALERT_EVALUATE)
    for start in range(0, len(records), store_table.ALERT_EVALUATE.batch_size):
        event = {"Records": records[start : start + store_table.ALERT_EVALUATE.batch_size]}
        assert handler(event, LambdaContext()) == {"batchItemFailures": []}
    return len(records)


def _alerts() -> dict[tuple[str, str, str], dict[str, Any]]:
    return {
        (a.rule, a.scope["resource"], a.period): a.model_dump(mode="json")
        for a in store().alerts()
        if a.kind == "utilisation"
    }


def test_hot_days_alert_once_per_resource_day_and_measure(evaluated: dict[str, Any]) -> None:
    yesterday, before = TODAY - timedelta(days=1), TODAY - timedelta(days=2)
    store().put_usage(
        [
            *_day("3164444", before, cpu="0.70", memory="0.86"),  # CPU exactly at 70 %: not above
            *_day("3164444", yesterday, cpu="0.8312", memory="0.40"),
            *_day("3164450", yesterday, cpu="0.03", memory="0.2"),  # an idle one
        ]
    )
    assert _evaluate(evaluated) == 9
    alerts = _alerts()
    assert set(alerts) == {
        ("utilisation:memory", "3164444", before.isoformat()),
        ("utilisation:cpu", "3164444", yesterday.isoformat()),
    }
    cpu = alerts[("utilisation:cpu", "3164444", yesterday.isoformat())]
    assert (cpu["severity"], cpu["level"], cpu["status"]) == ("warning", "70%", "open")
    assert cpu["scope"] == {"provider": "DigitalOcean", "resource": "3164444"}
    assert (Decimal(cpu["actual"]), Decimal(cpu["threshold"])) == (Decimal("0.8312"), Decimal("0.7"))
    assert "83.1%" in cpu["title"] and yesterday.isoformat() in cpu["title"]
    assert cpu["data_through"].startswith(TODAY.isoformat())  # the end of yesterday
    memory = alerts[("utilisation:memory", "3164444", before.isoformat())]
    assert (memory["level"], Decimal(memory["threshold"])) == ("85%", Decimal("0.85"))

    # Collected again (the collector re-reads its window) with a new collection time: the same day raises nothing
    # new.
    again = [
        item.model_copy(update={"x_collected_at": datetime(2026, 11, 24, 8, tzinfo=UTC)})
        for item in _day("3164444", yesterday, cpu="0.8312", memory="0.40")
    ]
    store().put_usage(again)
    assert _evaluate(evaluated) == 3
    assert len(store().alerts()) == 2

    # The day collected again below the threshold (a partial day completed): its alert settles, the other stays.
    store().put_usage(_day("3164444", yesterday, cpu="0.65", memory="0.40"))
    assert _evaluate(evaluated) == 3
    statuses = {key: a["status"] for key, a in _alerts().items()}
    assert statuses == {
        ("utilisation:cpu", "3164444", yesterday.isoformat()): "resolved",
        ("utilisation:memory", "3164444", before.isoformat()): "open",
    }


def test_old_days_are_not_judged(evaluated: dict[str, Any]) -> None:
    # A backfill of a month ago: past the 14 days evaluation judges, nobody is paged about it.
    store().put_usage(_day("3164444", TODAY - timedelta(days=30), cpu="0.95"))
    assert _evaluate(evaluated) == 2
    assert _alerts() == {}

"""Plan limits checked as usage arrives: usage pushed over the API reaches evaluation through the table's stream,
which raises one capacity alert per (limit, period, level), resolves what no longer holds, and never repeats."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from spendwatch.platform import clock
from spendwatch.store import table as store_table

from tests.integration.conftest import TABLE, LambdaContext, call_api, store, write_config
from tests.integration.stream_tap import tapped

NOW = "2026-11-24T08:00:00+00:00"
TODAY = date(2026, 11, 24)
CONFIG = """
currency = "USD"

[[limits]]
name = "kv-storage"
metric = "kv_storage_mb"
limit = "30"
basis = "level"
scope = { tenant = "acme" }
thresholds = ["75%", "90%", "within:7d"]
plan = "KV free"

[[limits]]
name = "kv-commands"
metric = "kv_commands"
limit = "10000"
basis = "sum"
period = "day"
"""


@pytest.fixture
def limits(aws_env: dict[str, Any]) -> Iterator[dict[str, Any]]:
    write_config(aws_env, CONFIG)
    with tapped(aws_env, TABLE, NOW) as env:
        yield env


def _push(key: str, records: list[dict[str, Any]]) -> None:
    status, body = call_api("/v1/usage", method="POST", body={"idempotency_key": key, "records": records})
    assert status == 200, body


def _level(mb: Decimal, day: date, tenant: str = "acme") -> dict[str, Any]:
    return {"metric": "kv_storage_mb", "quantity": str(mb), "unit": "MB", "day": day.isoformat(), "tenant": tenant}


def _evaluate(env: dict[str, Any]) -> int:
    """Hand evaluation what the stream holds for it; the number of records it was given."""
    from alert.evaluate.handler import handler

    records = env["tap"].take(store_table.ALERT_EVALUATE)
    for start in range(0, len(records), store_table.ALERT_EVALUATE.batch_size):
        event = {"Records": records[start : start + store_table.ALERT_EVALUATE.batch_size]}
        assert handler(event, LambdaContext()) == {"batchItemFailures": []}
    return len(records)


def _alerts() -> dict[str, dict[str, Any]]:
    return {a.level: a.model_dump(mode="json") for a in store().alerts() if a.kind == "capacity"}


def test_levels_alert_once_each_and_resolve_when_usage_falls_back(limits: dict[str, Any]) -> None:
    # 22 days growing 1 MB a day to 22 MB (73 %): below 75 %, the limit 8 days out.
    days = [TODAY - timedelta(days=23 - n) for n in range(22)]
    _push("grow-0001", [_level(Decimal(1 + n), day) for n, day in enumerate(days)])
    assert _evaluate(limits) == 22
    assert _alerts() == {}

    # Two more days: 24 MB (80 %), and the limit 6 days out. (Pushed usage adds up per day, so each day's level
    # is pushed once.)
    _push("grow-0002", [_level(Decimal(23), TODAY - timedelta(days=1))])
    _push("grow-0003", [_level(Decimal(24), TODAY)])
    _evaluate(limits)
    alerts = _alerts()
    assert set(alerts) == {"75%", "within:7d"}
    assert alerts["75%"]["severity"] == "warning" and alerts["75%"]["period"] == "2026-11"
    assert alerts["within:7d"]["severity"] == "warning"
    assert "forecast to be reached on 2026-11-30" in alerts["within:7d"]["title"]
    assert alerts["75%"]["scope"] == {"tenant": "acme"} and alerts["75%"]["data_through"].startswith("2026-11-25")

    # The same pushes again are replays; evaluating their records raises nothing new.
    _push("grow-0003", [_level(Decimal(24), TODAY)])
    _evaluate(limits)
    assert set(_alerts()) == {"75%", "within:7d"}

    # Over the limit: 90 % and exceeded are critical, within:7d gives way to exceeded.
    _push("grow-0004", [_level(Decimal(8), TODAY)])  # pushes add up: 24 + 8 = 32 MB today
    _evaluate(limits)
    alerts = _alerts()
    assert {level: a["severity"] for level, a in alerts.items()} == {
        "75%": "warning",
        "within:7d": "warning",
        "90%": "critical",
        "exceeded": "critical",
    }
    assert alerts["within:7d"]["status"] == "resolved"
    assert [a["status"] for level, a in alerts.items() if level != "within:7d"] == ["open"] * 3

    # Another tenant's usage is outside the limit's scope.
    _push("other-0001", [_level(Decimal(500), TODAY, tenant="globex")])
    _evaluate(limits)
    assert len(_alerts()) == 4


def test_a_sum_limit_alerts_per_day_and_its_alerts_end_with_the_day(limits: dict[str, Any]) -> None:
    from alert.evaluate.handler import handler

    record = {"metric": "kv_commands", "quantity": "9500", "unit": "commands", "day": TODAY.isoformat()}
    _push("cmds-0001", [record])
    _evaluate(limits)
    alerts = _alerts()
    assert {level: (a["severity"], a["period"]) for level, a in alerts.items()} == {
        "75%": ("warning", "2026-11-24"),
        "90%": ("critical", "2026-11-24"),
    }

    # The hourly check the next day resolves them: their period is over.
    limits["monkeypatch"].setenv(clock.NOW_ENV, "2026-11-25T01:00:00+00:00")
    clock.reset()
    handler({"detail-type": "Scheduled Event", "detail": {"check": "staleness"}}, LambdaContext())
    assert {a["status"] for a in _alerts().values()} == {"resolved"}

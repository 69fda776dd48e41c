"""Alert hygiene on moto: acknowledging or snoozing an alert quiets the next alerts of its rule and scope (a
snooze until it ends, an acknowledgement until the condition resolves or gets worse); staleness judges the age of
the data, not only of the last run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from spendwatch.domain.aggregates import PeriodTotals
from spendwatch.domain.models import CostItem
from spendwatch.domain.runs import CollectionRun, CollectionWindow
from spendwatch.platform import clock
from spendwatch.store import table as store_table

from tests.integration.conftest import TABLE, LambdaContext, call_api, store, write_config
from tests.integration.stream_tap import tapped

DAY1 = datetime.fromisoformat("2026-11-23T08:00:00+00:00")
DAY2 = DAY1 + timedelta(days=1)
CONFIG = """
currency = "USD"
[[sources]]
name = "s"
type = "focus"
path = "s3://bucket/prefix/"
schedule = "rate(6 hours)"
[[budgets]]
name = "total"
amount = "100.00"
period = "month"
thresholds = ["80%", "100%"]
"""


@pytest.fixture
def env(aws_env: dict[str, Any]) -> Iterator[dict[str, Any]]:
    from api import deps

    deps.settings.cache_clear()
    write_config(aws_env, CONFIG)
    with tapped(aws_env, TABLE, DAY1.isoformat()) as tapped_env:
        yield tapped_env


def _at(env: dict[str, Any], moment: datetime) -> None:
    env["monkeypatch"].setenv(clock.NOW_ENV, moment.isoformat())
    clock.reset()


def _run(status: str, moment: datetime, data_through: datetime | None = None) -> None:
    run = CollectionRun(
        run_id=f"{status}-{moment:%d%H}",
        source="s",
        type="focus",
        status=status,
        window=CollectionWindow(start=moment.date(), end=moment.date()),
        started_at=moment,
        finished_at=moment,
        data_through=data_through,
        error="cannot list s3://bucket/prefix/" if status == "failed" else None,
    )
    store().put_run(run)


def _spend(amount: str, moment: datetime) -> None:
    totals = PeriodTotals()
    start = moment.replace(hour=0)
    totals.add(
        CostItem(
            ProviderName="AWS",
            ServiceName="EC2",
            BilledCost=Decimal(amount),
            BillingCurrency="USD",
            ChargePeriodStart=start,
            ChargePeriodEnd=start + timedelta(days=1),
            x_source="s",
            x_collected_at=moment,
        )
    )
    store().replace_day_totals("s", {start.date().isoformat(): totals})


def _evaluate_and_deliver(env: dict[str, Any]) -> None:
    """Evaluation over what the stream holds for it, then delivery of the alerts it wrote (console channel)."""
    from alert.deliver.handler import handler as deliver
    from alert.evaluate.handler import handler as evaluate

    records = env["tap"].take(store_table.ALERT_EVALUATE)
    if records:
        assert evaluate({"Records": records}, LambdaContext()) == {"batchItemFailures": []}
    outbox = env["tap"].take(store_table.ALERT_DELIVER)
    if outbox:
        assert deliver({"Records": outbox}, LambdaContext()) == {"batchItemFailures": []}


def _collection_alerts() -> dict[str, Any]:
    return {a.period: a for a in store().alerts() if a.kind == "collection"}


def test_a_snoozed_collection_failure_does_not_page_again_the_next_day(env: dict[str, Any]) -> None:
    _run("failed", DAY1)
    _evaluate_and_deliver(env)
    first = _collection_alerts()[DAY1.date().isoformat()]
    assert first.status == "open" and first.delivery["console"].status == "delivered"
    status, body = call_api(f"/v1/alerts/{first.id}/snooze", method="POST", body={"hours": 48})
    assert status == 200, body

    _at(env, DAY2)
    _run("failed", DAY2)
    _evaluate_and_deliver(env)
    second = _collection_alerts()[DAY2.date().isoformat()]
    assert (second.status, second.quieted_by) == ("snoozed", first.id)
    # The clock runs on from the pinned moment: the snooze ends 48 hours after it was asked for.
    assert second.snoozed_until is not None
    assert abs(second.snoozed_until - (DAY1 + timedelta(hours=48))) < timedelta(minutes=1)
    assert second.delivery == {}, "stored and listed, not sent"

    # The snooze over, the next failure pages again.
    _at(env, DAY1 + timedelta(days=3))
    _run("failed", DAY1 + timedelta(days=3))
    _evaluate_and_deliver(env)
    third = _collection_alerts()[(DAY1 + timedelta(days=3)).date().isoformat()]
    assert third.status == "open" and third.delivery["console"].status == "delivered"


def test_an_acknowledged_failure_quiets_the_next_until_a_success_resolves_it(env: dict[str, Any]) -> None:
    _run("failed", DAY1)
    _evaluate_and_deliver(env)
    first = _collection_alerts()[DAY1.date().isoformat()]
    assert call_api(f"/v1/alerts/{first.id}/ack", method="POST")[0] == 200

    _at(env, DAY2)
    _run("failed", DAY2)
    _evaluate_and_deliver(env)
    second = _collection_alerts()[DAY2.date().isoformat()]
    assert (second.status, second.quieted_by, second.delivery) == ("acknowledged", first.id, {})

    _run("succeeded", DAY2 + timedelta(hours=1), data_through=DAY2)
    _evaluate_and_deliver(env)
    assert {a.status for a in _collection_alerts().values()} == {"resolved"}
    _at(env, DAY2 + timedelta(days=1))
    _run("failed", DAY2 + timedelta(days=1))
    _evaluate_and_deliver(env)
    assert _collection_alerts()[(DAY2 + timedelta(days=1)).date().isoformat()].status == "open"


def test_an_acknowledged_threshold_does_not_quiet_a_worse_one(env: dict[str, Any]) -> None:
    _spend("85.00", DAY1)
    _evaluate_and_deliver(env)
    (eighty,) = [a for a in store().alerts() if a.kind == "budget"]
    assert eighty.level == "80%"
    assert call_api(f"/v1/alerts/{eighty.id}/ack", method="POST")[0] == 200

    _spend("120.00", DAY1)
    _evaluate_and_deliver(env)
    hundred = next(a for a in store().alerts() if a.level == "100%")
    assert (hundred.status, hundred.quieted_by) == ("open", None), "the next threshold is worse: it pages"
    assert hundred.delivery["console"].status == "delivered"


def test_runs_that_succeed_without_new_data_are_stale(env: dict[str, Any]) -> None:
    from alert.evaluate.handler import handler

    # The run an hour ago succeeded, but the export it read ends five days ago.
    _run("succeeded", DAY1 - timedelta(hours=1), data_through=DAY1 - timedelta(days=5))
    handler({"detail-type": "Scheduled Event", "detail": {"check": "staleness"}}, LambdaContext())
    (stale,) = [a for a in store().alerts() if a.kind == "staleness"]
    assert "but its data ends 2026-11-18 08:00Z" in stale.message
    assert stale.data_through == DAY1 - timedelta(days=5)

    # Fresh data the next run: the alert resolves.
    _run("succeeded", DAY1, data_through=DAY1 - timedelta(hours=8))
    env["tap"].take(store_table.ALERT_DELIVER)
    _evaluate_and_deliver(env)
    assert store().get_alert(stale.id).status == "resolved"  # type: ignore[union-attr]

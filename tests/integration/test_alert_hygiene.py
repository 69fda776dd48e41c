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


def test_info_alerts_go_out_once_a_day_in_a_digest(aws_env: dict[str, Any]) -> None:
    from alert.deliver.handler import handler as deliver
    from alert.evaluate.handler import handler as evaluate

    config = CONFIG.replace('currency = "USD"\n', 'currency = "USD"\ntimezone = "Europe/Berlin"\n', 1)
    write_config(aws_env, config + '[alerts]\ninfo = "digest"\ndigest_at = "09:00"\n')
    aws_env["monkeypatch"].setenv(clock.NOW_ENV, "2026-11-24T08:30:00+00:00")  # 09:30 in Berlin
    clock.reset()
    with tapped(aws_env, TABLE, "2026-11-24T08:30:00+00:00") as env:
        opened = {
            "before": datetime.fromisoformat("2026-11-23T07:00:00+00:00"),  # the day before's digest
            "in": datetime.fromisoformat("2026-11-23T12:00:00+00:00"),
            "also": datetime.fromisoformat("2026-11-24T07:59:00+00:00"),
            "after": datetime.fromisoformat("2026-11-24T08:10:00+00:00"),  # tomorrow's digest
        }
        for name, at in opened.items():
            alert = _info_alert(name, at)
            assert store().put_alert_once(alert)
        outbox = env["tap"].take(store_table.ALERT_DELIVER)
        assert deliver({"Records": outbox}, LambdaContext()) == {"batchItemFailures": []}
        assert all(a.delivery == {} for a in store().alerts()), "info alerts are not sent one by one"

        for _ in range(2):  # the hourly check twice: one digest
            evaluate({"detail-type": "Scheduled Event", "detail": {"check": "staleness"}}, LambdaContext())
        (digest,) = [a for a in store().alerts() if a.kind == "digest"]
        assert (digest.period, digest.severity, digest.rule) == ("2026-11-24", "info", "digest:info")
        assert digest.title == "2 info alerts in the last day"
        assert "spike: info in" in digest.message and "info also" in digest.message and "after" not in digest.message
        outbox = env["tap"].take(store_table.ALERT_DELIVER)
        assert deliver({"Records": outbox}, LambdaContext()) == {"batchItemFailures": []}
        assert store().get_alert(digest.id).delivery["console"].status == "delivered"  # type: ignore[union-attr]


def _info_alert(name: str, at: datetime) -> Any:
    from spendwatch.domain.alerts import Alert, alert_id

    scope = {"service": name}
    return Alert(
        id=alert_id("spike:service", scope, at.date().isoformat(), name),
        kind="spike",
        severity="info",
        rule="spike:service",
        scope=scope,
        period=at.date().isoformat(),
        level=name,
        title=f"info {name}",
        message="m",
        created_at=at,
        updated_at=at,
    )


def _hourly(env: dict[str, Any], moment: datetime) -> None:
    from alert.evaluate.handler import handler

    _at(env, moment)
    handler({"detail-type": "Scheduled Event", "detail": {"check": "staleness"}}, LambdaContext())


def test_a_critical_alert_nobody_acknowledged_is_sent_again_once(env: dict[str, Any]) -> None:
    _run("succeeded", DAY1, data_through=DAY1)  # fresh data: the hourly checks raise no staleness alerts
    _spend("120.00", DAY1)
    _evaluate_and_deliver(env)
    critical = next(a for a in store().alerts() if a.level == "100%")
    warning = next(a for a in store().alerts() if a.level == "80%")
    assert critical.severity == "critical" and critical.delivery["console"].status == "delivered"

    _hourly(env, DAY1 + timedelta(hours=23))
    _evaluate_and_deliver(env)
    assert store().get_alert(critical.id).reminder == ""  # type: ignore[union-attr]

    _hourly(env, DAY1 + timedelta(hours=24, minutes=5))
    _evaluate_and_deliver(env)
    reminded = store().get_alert(critical.id)
    assert reminded is not None and reminded.reminder == "sent"
    assert reminded.delivery["console:reminder"].status == "delivered"
    assert store().get_alert(warning.id).reminder == "", "warnings are not reminded of"  # type: ignore[union-attr]

    _hourly(env, DAY1 + timedelta(hours=30))
    assert not env["tap"].take(store_table.ALERT_DELIVER), "once only"


def test_an_acknowledged_critical_alert_is_not_reminded_of(env: dict[str, Any]) -> None:
    _run("succeeded", DAY1, data_through=DAY1)
    _spend("120.00", DAY1)
    _evaluate_and_deliver(env)
    critical = next(a for a in store().alerts() if a.level == "100%")
    assert call_api(f"/v1/alerts/{critical.id}/ack", method="POST")[0] == 200
    _hourly(env, DAY1 + timedelta(hours=25))
    assert store().get_alert(critical.id).reminder == ""  # type: ignore[union-attr]

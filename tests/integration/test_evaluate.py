"""The evaluate function on moto: thresholds crossed become one alert each, once; runs raise and resolve alerts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from spendwatch.domain.aggregates import PeriodTotals
from spendwatch.domain.models import CostItem
from spendwatch.domain.runs import CollectionRun
from spendwatch.platform import clock
from spendwatch.store.base import to_item

from tests.integration.conftest import LambdaContext, call_api, store, write_config

pytestmark = pytest.mark.calendar

CONFIG = """
currency = "USD"
timezone = "UTC"
[[sources]]
name = "s"
type = "focus"
path = "s3://bucket/prefix/"
schedule = "rate(6 hours)"
[[budgets]]
name = "total"
amount = "100.00"
period = "month"
thresholds = ["50%", "80%", "100%", "$10"]
"""
TODAY = clock.utc_now().replace(hour=0, minute=0, second=0, microsecond=0)


@pytest.fixture
def env(aws_env: dict[str, Any]) -> dict[str, Any]:
    write_config(aws_env, CONFIG)
    return aws_env


def _spend(amount: str) -> dict[str, Any]:
    """Replace today's totals of source "s" and return the stream record that write produces."""
    totals = PeriodTotals()
    totals.add(
        CostItem(
            ProviderName="AWS",
            ServiceName="EC2",
            BilledCost=Decimal(amount),
            BillingCurrency="USD",
            ChargePeriodStart=TODAY,
            ChargePeriodEnd=TODAY + timedelta(days=1),
            x_source="s",
            x_collected_at=TODAY,
        )
    )
    day = TODAY.date().isoformat()
    store().replace_day_totals("s", {day: totals})
    image = {"pk": f"AGG#D#{day[:7]}", "sk": f"s#{day}", "item_type": "agg_day", "source": "s", "period": day}
    return _record(image)


def _record(image: dict[str, Any], event: str = "INSERT") -> dict[str, Any]:
    return {
        "eventID": "1",
        "eventName": event,
        "eventSource": "aws:dynamodb",
        "dynamodb": {"NewImage": to_item(image), "SequenceNumber": "1", "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }


def _run_record(status: str, error: str | None = None) -> dict[str, Any]:
    run = CollectionRun(
        run_id=status,
        source="s",
        type="focus",
        status=status,
        started_at=clock.utc_now(),
        finished_at=clock.utc_now(),
        error=error,
    )
    image = {**run.model_dump(mode="json"), "pk": "RUN", "sk": f"x#{status}", "item_type": "run"}
    return _record({k: v for k, v in image.items() if v is not None}, "MODIFY")


def _evaluate(*records: dict[str, Any]) -> dict[str, Any]:
    from alert.evaluate.handler import handler

    result: dict[str, Any] = handler({"Records": list(records)}, LambdaContext())
    return result


def _alerts() -> list[dict[str, Any]]:
    return [a.model_dump(mode="json") for a in store().alerts()]


def test_each_threshold_crossed_alerts_once(env: dict[str, Any]) -> None:
    assert _evaluate(_spend("85.00")) == {"batchItemFailures": []}

    alerts = _alerts()
    assert sorted(a["level"] for a in alerts) == ["$10", "50%", "80%"]
    assert {a["kind"] for a in alerts} == {"budget"}
    by_level = {a["level"]: a for a in alerts}
    assert by_level["80%"]["severity"] == "warning" and by_level["50%"]["severity"] == "info"
    assert "85.00 USD spent of 100.00 USD" in by_level["80%"]["message"]

    _evaluate(_spend("85.00"))  # the same data again: nothing new
    assert len(_alerts()) == 3

    _evaluate(_spend("120.00"))  # escalation: only the next level is new
    levels = sorted(a["level"] for a in _alerts())
    assert levels == ["$10", "100%", "50%", "80%"]
    assert {a["severity"] for a in _alerts() if a["level"] == "100%"} == {"critical"}


def test_failed_run_alerts_and_a_later_success_resolves(env: dict[str, Any]) -> None:
    _evaluate(_run_record("failed", "cannot list s3://bucket/prefix/"))
    _evaluate(_run_record("failed", "again"))  # same source, same day: still one alert
    alerts = _alerts()
    assert [(a["kind"], a["status"]) for a in alerts] == [("collection", "open")]
    assert "cannot list" in alerts[0]["message"]

    _evaluate(_run_record("succeeded"))
    assert [a["status"] for a in _alerts()] == ["resolved"]


def test_staleness_check_on_schedule(env: dict[str, Any]) -> None:
    from alert.evaluate.handler import handler

    handler({"detail-type": "Scheduled Event", "detail": {"check": "staleness"}}, LambdaContext())
    alerts = _alerts()
    assert [(a["kind"], a["scope"]) for a in alerts] == [("staleness", {"source": "s"})]
    assert "has never succeeded" in alerts[0]["message"]


def test_unreadable_records_are_skipped(env: dict[str, Any]) -> None:
    broken = {"eventID": "9", "dynamodb": {"NewImage": {"item_type": {"S": "agg_day"}}}}
    assert _evaluate(broken, _spend("60.00")) == {"batchItemFailures": []}
    assert sorted(a["level"] for a in _alerts()) == ["$10", "50%"]
    assert call_api("/health", token=None)[0] == 200


def test_alerts_api_lists_acknowledges_snoozes_and_resolves(env: dict[str, Any]) -> None:
    _evaluate(_spend("85.00"))
    status, page = call_api("/v1/alerts", {"status": "open", "kind": "budget"})
    assert status == 200 and len(page["items"]) == 3
    first = page["items"][0]
    assert {"id", "kind", "severity", "status", "scope", "title", "message", "drivers", "data_through"} <= set(first)

    status, acked = call_api(f"/v1/alerts/{first['id']}/ack", method="POST")
    assert status == 200 and acked["status"] == "acknowledged"
    assert len(call_api("/v1/alerts", {"status": "open"})[1]["items"]) == 2

    second = page["items"][1]["id"]
    status, snoozed = call_api(f"/v1/alerts/{second}/snooze", method="POST", body={"hours": 2})
    assert status == 200 and snoozed["status"] == "snoozed" and snoozed["snoozed_until"]
    assert (
        call_api(f"/v1/alerts/{second}/snooze", method="POST", body={"hours": 2, "until": "2030-01-01T00:00:00Z"})[0]
        == 422
    )
    assert call_api(f"/v1/alerts/{second}/snooze", method="POST", body={"until": "2020-01-01T00:00:00Z"})[0] == 422

    assert call_api(f"/v1/alerts/{second}/resolve", method="POST")[1]["status"] == "resolved"
    assert call_api(f"/v1/alerts/{second}/ack", method="POST")[0] == 409
    assert call_api(f"/v1/alerts/{'0' * 32}/ack", method="POST")[0] == 404
    assert call_api("/v1/alerts", {"status": "lost"})[0] == 400

    status, one = call_api("/v1/alerts", {"limit": "2"})
    assert len(one["items"]) == 2 and one["next_token"]
    status, two = call_api("/v1/alerts", {"limit": "2", "next_token": one["next_token"]})
    assert len(two["items"]) == 1 and two["next_token"] is None


def test_a_budget_created_over_the_api_is_evaluated_from_its_stream_record(env: dict[str, Any]) -> None:
    _spend("30.00")
    status, budget = call_api(
        "/v1/budgets", method="POST", body={"name": "small", "amount": "40", "thresholds": ["50%", "70%", "90%"]}
    )
    assert status == 201
    record = _record({"pk": "BUDGET", "sk": budget["id"], "item_type": "budget", "id": budget["id"]})
    _evaluate(record)
    small = sorted(a["level"] for a in _alerts() if a["rule"] == f"budget:{budget['id']}")
    assert small == ["50%", "70%"]


def test_forecast_threshold_alerts_before_the_budget_is_crossed(env: dict[str, Any]) -> None:
    history = {}
    for n in range(90, 0, -1):
        start = TODAY - timedelta(days=n)
        totals = PeriodTotals()
        totals.add(
            CostItem(
                ProviderName="AWS",
                ServiceName="EC2",
                BilledCost=Decimal("10.00"),
                BillingCurrency="USD",
                ChargePeriodStart=start,
                ChargePeriodEnd=start + timedelta(days=1),
                x_source="s",
                x_collected_at=TODAY,
            )
        )
        history[start.date().isoformat()] = totals
    store().replace_day_totals("s", history)
    spent = Decimal(10) * (TODAY.day - 1)
    # A budget the month-to-date has not reached but a steady $10/day will: the forecast threshold fires.
    amount = spent + Decimal(10) * 3
    status, budget = call_api(
        "/v1/budgets", method="POST", body={"name": "fc", "amount": f"{amount}", "thresholds": ["forecast:100%"]}
    )
    assert status == 201
    _evaluate(_record({"pk": "BUDGET", "sk": budget["id"], "item_type": "budget", "id": budget["id"]}))

    forecast = [a for a in _alerts() if a["kind"] == "forecast"]
    days_left = (TODAY.replace(month=TODAY.month % 12 + 1, day=1, year=TODAY.year + TODAY.month // 12) - TODAY).days
    if days_left > 3:
        assert len(forecast) == 1, _alerts()
        assert "crossed on" in forecast[0]["message"] and forecast[0]["level"] == "forecast:100%"
    else:  # near the month's end the period cannot reach the amount: no forecast alert
        assert forecast == []


def test_restated_spend_resolves_thresholds_no_longer_crossed(env: dict[str, Any]) -> None:
    _evaluate(_spend("85.00"))
    _evaluate(_spend("45.00"))  # the provider restated the day down

    status = {a["level"]: a["status"] for a in _alerts()}
    assert status == {"$10": "open", "50%": "resolved", "80%": "resolved"}

"""PagerDuty: Events API v2 events the fake (which checks PagerDuty's documented shape) accepts, retries, secrecy."""

from __future__ import annotations

from typing import Any

import httpx
from spendwatch.channels.pagerduty import EVENTS_URL, MAX_ATTEMPTS, PagerDutyChannel, event
from spendwatch.domain.channels import ChannelConfig

from spendwatch_local.fakes.pagerduty import FakePagerDuty, event_problems
from tests.unit.test_slack import make_alert

KEY = "R0UT1NGKEY0123456789abcdefABCDEF"  # 32 characters, as PagerDuty's integration keys are
CONFIG = ChannelConfig(type="pagerduty", name="pagerduty", min_severity="critical")


def channel(fake: FakePagerDuty, waits: list[float] | None = None) -> PagerDutyChannel:
    client = httpx.Client(transport=fake.transport())
    return PagerDutyChannel(CONFIG, KEY, EVENTS_URL, pause=(waits if waits is not None else []).append, client=client)


def test_trigger_carries_what_pagerduty_requires_and_the_alert_id_as_dedup_key() -> None:
    alert = make_alert(severity="critical", drivers=2)
    body: dict[str, Any] = event(KEY, "trigger", alert)
    assert event_problems(body) == []
    assert body["dedup_key"] == alert.id and body["event_action"] == "trigger"
    payload = body["payload"]
    assert payload["severity"] == "critical" and payload["summary"] == f"CRITICAL: {alert.title}"
    assert payload["source"] == "spendwatch: provider=AWS"
    details = payload["custom_details"]
    assert details["alert_id"] == alert.id and details["actual"] == "400.10 USD" and len(details["drivers"]) == 2


def test_each_severity_maps_to_pagerdutys_own() -> None:
    for severity in ("info", "warning", "critical"):
        assert event(KEY, "trigger", make_alert(severity=severity))["payload"]["severity"] == severity


def test_a_resolve_needs_only_the_dedup_key() -> None:
    alert = make_alert()
    assert event(KEY, "resolve", alert) == {"routing_key": KEY, "event_action": "resolve", "dedup_key": alert.id}


def test_trigger_then_resolve_open_and_close_one_incident() -> None:
    fake = FakePagerDuty()
    alert = make_alert(severity="critical")
    pagerduty = channel(fake)
    assert pagerduty.send([alert])[alert.id].status == "delivered"
    assert pagerduty.resolve([alert])[alert.id].status == "delivered"
    assert fake.actions(alert.id) == ["trigger", "resolve"]
    assert fake.incidents[alert.id].status == "resolved" and fake.incidents[alert.id].triggers == 1


def test_429_and_5xx_are_retried_with_backoff() -> None:
    fake = FakePagerDuty().throttle().fail(status=502)
    waits: list[float] = []
    alert = make_alert()
    result = channel(fake, waits).send([alert])[alert.id]
    assert result.status == "delivered" and result.attempts == 3 and len(waits) == 2
    assert fake.actions(alert.id) == ["trigger"]


def test_a_server_that_keeps_failing_fails_after_the_bounded_attempts() -> None:
    fake = FakePagerDuty().fail(times=MAX_ATTEMPTS)
    alert = make_alert()
    result = channel(fake).send([alert])[alert.id]
    assert result.status == "failed" and result.attempts == MAX_ATTEMPTS
    assert "HTTP 500" in str(result.error) and fake.events == []


def test_an_invalid_event_is_final_and_its_reason_kept_without_the_routing_key() -> None:
    fake = FakePagerDuty()
    wrong = PagerDutyChannel(
        CONFIG, "short-key", EVENTS_URL, pause=[].append, client=httpx.Client(transport=fake.transport())
    )
    alert = make_alert()
    result = wrong.send([alert])[alert.id]
    assert result.status == "failed" and result.attempts == 1
    assert "HTTP 400" in str(result.error) and "routing_key" in str(result.error)
    assert "short-key" not in str(result.error)


def test_the_routing_key_is_not_in_the_channels_repr() -> None:
    assert KEY not in repr(channel(FakePagerDuty()))

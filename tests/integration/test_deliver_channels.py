"""PagerDuty and webhook channels end to end on moto: secrets from Secrets Manager, the stream's real records
(filtered as the event source mapping filters them), the real handler, and fake PagerDuty and webhook servers.

PagerDuty triggers when an alert opens and resolves, with the same dedup key, when it is resolved; a retried
batch never triggers twice; a channel's min_severity and kinds leave other alerts alone, not failed.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from spendwatch.channels import pagerduty, slack, webhook
from spendwatch.domain.alerts import Alert
from spendwatch.platform import resources
from spendwatch.store.table import ALERT_DELIVER

from alert.deliver.handler import handler
from spendwatch_local.fakes.pagerduty import FakePagerDuty
from spendwatch_local.fakes.slack import FakeSlack
from spendwatch_local.fakes.webhook import FakeWebhook
from tests.integration.conftest import TABLE, LambdaContext, store, write_config
from tests.integration.stream_tap import StreamTap, tapped
from tests.unit.test_slack import make_alert

ROUTING_KEY = "R0UT1NGKEY0123456789abcdefABCDEF"
SIGNING_SECRET = "webhook-signing-secret-for-tests"
CONFIG = """
currency = "USD"

[[channels]]
type = "pagerduty"
min_severity = "critical"

[[channels]]
type = "webhook"
name = "ops"
url = "{hook}"
secret = "hooks/ops"
min_severity = "warning"
kinds = ["budget"]

[[channels]]
type = "email"
address = "finops@example.com"
"""


@dataclass
class World:
    """The fakes, the stream tap and the environment."""

    pagerduty: FakePagerDuty
    hook: FakeWebhook
    slack: FakeSlack
    tap: StreamTap
    env: dict[str, Any]

    def batch(self) -> dict[str, Any]:
        """What Lambda would invoke the deliver function with for the stream written since the last batch."""
        return {"Records": self.tap.take(ALERT_DELIVER)}

    def invoke(self, event: dict[str, Any]) -> list[str]:
        """One invocation; the sequence numbers it reported failed."""
        response = handler(copy.deepcopy(event), LambdaContext())
        return [f["itemIdentifier"] for f in response["batchItemFailures"]]

    def put(self, *alerts: Alert) -> dict[str, Any]:
        for alert in alerts:
            assert store().put_alert_once(alert)
        return self.batch()

    def resolve(self, alert: Alert) -> None:
        """What POST /v1/alerts/{id}/resolve (or evaluation) does to an alert."""
        store().update_alert(alert.id, {"status": "resolved", "updated_at": "2026-11-24T10:00:00+00:00"})


@pytest.fixture
def world(aws_env: dict[str, Any]) -> Iterator[World]:
    monkeypatch: pytest.MonkeyPatch = aws_env["monkeypatch"]
    for name in ("PAGERDUTY_ROUTING_KEY", "WEBHOOK_SIGNING_SECRET", resources.ENV_TOPIC):
        monkeypatch.delenv(name, raising=False)
    secrets = boto3.client("secretsmanager")
    secrets.create_secret(Name="spendwatch/pagerduty-routing-key", SecretString=ROUTING_KEY)
    secrets.create_secret(Name="hooks/ops", SecretString=SIGNING_SECRET)
    parameters.clear_caches()
    for module in (pagerduty, webhook, slack):
        monkeypatch.setattr(module, "sleep", lambda _seconds: None)
    with (
        tapped(aws_env, TABLE, "2026-11-24T09:00:00+00:00") as env,
        FakePagerDuty() as fake_pagerduty,
        FakeWebhook(SIGNING_SECRET) as hook,
        FakeSlack() as fake_slack,
    ):
        write_config(env, CONFIG.format(hook=hook.hook_url))
        monkeypatch.setenv("PAGERDUTY_EVENTS_URL", fake_pagerduty.events_url)
        monkeypatch.setenv("SLACK_WEBHOOK_URL", fake_slack.url)
        yield World(fake_pagerduty, hook, fake_slack, env["tap"], env)
    parameters.clear_caches()


def delivery(alert: Alert) -> dict[str, str]:
    stored = store().get_alert(alert.id)
    assert stored is not None
    return {name: state.status for name, state in stored.delivery.items()}


def test_pagerduty_triggers_on_open_and_resolves_on_resolve_with_the_alert_id_as_dedup_key(world: World) -> None:
    alert = make_alert(severity="critical")
    assert world.invoke(world.put(alert)) == []

    incident = world.pagerduty.incidents[alert.id]
    assert incident.status == "triggered" and incident.severity == "critical"
    assert [p.event for p in world.hook.accepted] == ["alert.open"]
    assert delivery(alert) == {"slack": "delivered", "pagerduty": "delivered", "ops": "delivered"}

    world.resolve(alert)
    event = world.batch()
    # Of the writes since (three delivery states, the resolution), only the resolution reaches delivery.
    assert [r["eventName"] for r in event["Records"]] == ["MODIFY"]
    assert world.invoke(event) == []

    assert world.pagerduty.actions(alert.id) == ["trigger", "resolve"]
    assert world.pagerduty.incidents[alert.id].status == "resolved"
    assert [p.event for p in world.hook.accepted] == ["alert.open", "alert.resolved"]
    states = delivery(alert)
    assert states["pagerduty:resolve"] == "delivered" and states["ops:resolve"] == "delivered"
    assert "slack:resolve" not in states and len(world.slack.accepted) == 1  # Slack is not told of resolutions
    # Recording the resolution's delivery state is no new resolution.
    assert world.batch()["Records"] == []


def test_a_retried_batch_does_not_trigger_twice(world: World) -> None:
    alert = make_alert(severity="critical")
    world.hook.fail(times=webhook.MAX_ATTEMPTS)
    event = world.put(alert)

    first = world.invoke(event)
    assert first == [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]  # the webhook failed
    assert delivery(alert)["ops"] == "failed" and delivery(alert)["pagerduty"] == "delivered"

    assert world.invoke(event) == []  # Lambda's retry of the same batch
    assert world.invoke(event) == []  # and a duplicate delivery of it

    assert world.pagerduty.actions(alert.id) == ["trigger"]
    assert world.pagerduty.incidents[alert.id].triggers == 1
    assert delivery(alert)["ops"] == "delivered" and len(world.hook.accepted) == 1


def test_a_failed_resolve_is_retried_and_sent_once(world: World) -> None:
    alert = make_alert(severity="critical")
    assert world.invoke(world.put(alert)) == []
    world.resolve(alert)
    event = world.batch()
    world.pagerduty.fail(times=pagerduty.MAX_ATTEMPTS)

    assert len(world.invoke(event)) == 1
    assert delivery(alert)["pagerduty:resolve"] == "failed" and delivery(alert)["ops:resolve"] == "delivered"
    assert world.invoke(event) == []

    assert world.pagerduty.actions(alert.id) == ["trigger", "resolve"]
    assert [p.event for p in world.hook.accepted] == ["alert.open", "alert.resolved"]


def test_alerts_a_channel_filters_out_are_neither_sent_nor_failed(world: World) -> None:
    warning_budget = make_alert(0, severity="warning")  # the webhook's, not PagerDuty's (critical only)
    critical_spike = make_alert(1, severity="critical", kind="spike", rule="spike:total")  # PagerDuty's, not the hook's
    info_budget = make_alert(2, severity="info")  # neither

    assert world.invoke(world.put(warning_budget, critical_spike, info_budget)) == []

    assert delivery(warning_budget) == {"slack": "delivered", "ops": "delivered"}
    assert delivery(critical_spike) == {"slack": "delivered", "pagerduty": "delivered"}
    assert delivery(info_budget) == {"slack": "delivered"}
    assert list(world.pagerduty.incidents) == [critical_spike.id]
    assert [p.alert["id"] for p in world.hook.accepted] == [warning_budget.id]

    # Resolving an alert PagerDuty never opened sends PagerDuty nothing.
    world.resolve(warning_budget)
    assert world.invoke(world.batch()) == []
    assert world.pagerduty.events == [e for e in world.pagerduty.events if e["dedup_key"] == critical_spike.id]
    assert (
        "pagerduty:resolve" not in delivery(warning_budget) and delivery(warning_budget)["ops:resolve"] == "delivered"
    )


def test_an_unreadable_routing_key_fails_pagerduty_only_and_names_the_secret_not_a_value(world: World) -> None:
    boto3.client("secretsmanager").delete_secret(
        SecretId="spendwatch/pagerduty-routing-key", ForceDeleteWithoutRecovery=True
    )
    parameters.clear_caches()
    alert = make_alert(severity="critical")
    event = world.put(alert)

    assert len(world.invoke(event)) == 1

    stored = store().get_alert(alert.id)
    assert stored is not None
    error = str(stored.delivery["pagerduty"].error)
    assert "spendwatch/pagerduty-routing-key" in error and "PAGERDUTY_ROUTING_KEY" in error
    assert stored.delivery["slack"].status == "delivered" and stored.delivery["ops"].status == "delivered"
    assert world.pagerduty.events == []

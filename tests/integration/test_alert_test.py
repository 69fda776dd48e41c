"""Test alerts and e-mail channels on moto: the local runtime's e-mail subscriptions, ``POST /v1/alerts/test`` and
``spendwatch test-alert`` sending a marked, unstored test alert to every channel with fake Slack, PagerDuty and
webhook servers, and answering per channel."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from spendwatch.channels import pagerduty, slack, webhook
from spendwatch.platform import resources

from spendwatch_local.aws import provision
from spendwatch_local.cli import main
from spendwatch_local.fakes.pagerduty import FakePagerDuty
from spendwatch_local.fakes.slack import FakeSlack
from spendwatch_local.fakes.webhook import FakeWebhook
from tests.integration.conftest import BUCKET, TABLE, call_api, clear_caches, store, write_config
from tests.integration.stream_tap import tapped

ROUTING_KEY = "R0UT1NGKEY0123456789abcdefABCDEF"
SIGNING_SECRET = "webhook-signing-secret-for-tests"
CONFIG = """
[[channels]]
type = "email"
address = "finops@example.com"
min_severity = "warning"
kinds = []

[[channels]]
type = "email"
name = "budgets"
address = "budgets@example.com"
kinds = ["budget"]

[[channels]]
type = "pagerduty"
min_severity = "critical"

[[channels]]
type = "webhook"
name = "ops"
url = "{hook}"
"""


def subscriptions(topic_arn: str) -> dict[str, dict[str, Any]]:
    """The topic's e-mail subscriptions by address, with their attributes."""
    sns = boto3.client("sns")
    found = {}
    for subscription in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]:
        if subscription["Protocol"] == "email":
            attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])
            found[subscription["Endpoint"]] = attributes["Attributes"]
    return found


@dataclass
class World:
    pagerduty: FakePagerDuty
    hook: FakeWebhook
    slack: FakeSlack
    topic_arn: str
    config_path: str


@pytest.fixture
def world(aws_env: dict[str, Any]) -> Iterator[World]:
    monkeypatch: pytest.MonkeyPatch = aws_env["monkeypatch"]
    for module in (pagerduty, webhook, slack):
        monkeypatch.setattr(module, "sleep", lambda _seconds: None)
    with (
        tapped(aws_env, TABLE, "2026-11-24T09:00:00+00:00") as env,
        FakePagerDuty() as fake_pagerduty,
        FakeWebhook(SIGNING_SECRET) as hook,
        FakeSlack() as fake_slack,
    ):
        path = write_config(env, CONFIG.format(hook=hook.hook_url))
        from spendwatch.domain.config import load_config

        created = provision(TABLE, BUCKET, "us-east-1", channels=load_config(path).channels)
        for name, value in {
            resources.ENV_TOPIC: created.topic_arn,
            "SLACK_WEBHOOK_URL": fake_slack.url,
            "PAGERDUTY_ROUTING_KEY": ROUTING_KEY,
            "PAGERDUTY_EVENTS_URL": fake_pagerduty.events_url,
            "WEBHOOK_SIGNING_SECRET": SIGNING_SECRET,
        }.items():
            monkeypatch.setenv(name, value)
        clear_caches()
        yield World(fake_pagerduty, hook, fake_slack, created.topic_arn, str(path))


def test_the_local_runtime_subscribes_each_email_channel_with_its_filter_policy(world: World) -> None:
    found = subscriptions(world.topic_arn)
    assert set(found) == {"finops@example.com", "budgets@example.com"}
    assert json.loads(found["finops@example.com"]["FilterPolicy"]) == {
        "$or": [{"severity": ["warning", "critical"]}, {"kind": ["report"]}]
    }
    assert json.loads(found["budgets@example.com"]["FilterPolicy"]) == {
        "severity": ["info", "warning", "critical"],
        "kind": ["budget", "test"],
    }
    assert found["budgets@example.com"].get("FilterPolicyScope", "MessageAttributes") == "MessageAttributes"


def test_provisioning_again_updates_a_changed_filter_and_subscribes_no_one_twice(world: World) -> None:
    from spendwatch.domain.config import parse_config

    changed = parse_config('[[channels]]\ntype = "email"\naddress = "finops@example.com"\nmin_severity = "critical"\n')
    provision(TABLE, BUCKET, "us-east-1", channels=changed.channels)
    found = subscriptions(world.topic_arn)
    assert len(boto3.client("sns").list_subscriptions_by_topic(TopicArn=world.topic_arn)["Subscriptions"]) == 2
    assert json.loads(found["finops@example.com"]["FilterPolicy"]) == {
        "$or": [{"severity": ["critical"]}, {"kind": ["report"]}]
    }


def _check_every_channel_got_the_marked_test_alert(world: World, answer: dict[str, Any]) -> None:
    assert answer == {
        "channels": [
            {"channel": name, "delivered": True, "error": None}
            for name in ("sns", "slack", "pagerduty", "ops", "email", "budgets")
        ]
    }
    (message,) = world.slack.accepted
    assert message["blocks"][0]["text"]["text"].endswith("[TEST] spendwatch test alert")
    (event,) = world.pagerduty.events
    assert event["payload"]["summary"] == "CRITICAL: [TEST] spendwatch test alert"
    (post,) = world.hook.accepted
    assert post.event == "alert.test" and post.alert["title"].startswith("[TEST]") and post.alert["kind"] == "test"
    assert store().alerts() == []  # never stored


def test_post_alerts_test_sends_to_every_channel_and_answers_per_channel(world: World) -> None:
    status, answer = call_api("/v1/alerts/test", method="POST")
    assert status == 200
    _check_every_channel_got_the_marked_test_alert(world, answer)


def test_post_alerts_test_says_which_channel_failed_and_why_without_secrets(world: World) -> None:
    world.pagerduty.fail(times=pagerduty.MAX_ATTEMPTS)
    boto3.client("sns").unsubscribe(SubscriptionArn=_arn(world.topic_arn, "budgets@example.com"))

    status, answer = call_api("/v1/alerts/test", method="POST")

    assert status == 200
    outcomes = {c["channel"]: c for c in answer["channels"]}
    assert outcomes["pagerduty"]["delivered"] is False and "HTTP 500" in outcomes["pagerduty"]["error"]
    assert outcomes["budgets"]["delivered"] is False and "no e-mail subscription" in outcomes["budgets"]["error"]
    assert all(outcomes[name]["delivered"] for name in ("sns", "slack", "ops", "email"))
    assert ROUTING_KEY not in json.dumps(answer) and SIGNING_SECRET not in json.dumps(answer)


def test_spendwatch_test_alert_prints_each_channel_and_exits_0_when_all_delivered(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["test-alert", "--config", world.config_path]) == 0
    _check_every_channel_got_the_marked_test_alert(world, json.loads(capsys.readouterr().out))


def test_spendwatch_test_alert_exits_non_zero_when_a_channel_did_not_deliver(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world.slack.reject("no_service", status=404)
    assert main(["test-alert", "--config", world.config_path]) == 1
    captured = capsys.readouterr()
    outcomes = {c["channel"]: c for c in json.loads(captured.out)["channels"]}
    assert outcomes["slack"]["delivered"] is False and "no_service" in outcomes["slack"]["error"]
    assert "slack: not delivered" in captured.err


def _arn(topic_arn: str, address: str) -> str:
    for subscription in boto3.client("sns").list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]:
        if subscription["Endpoint"] == address:
            return str(subscription["SubscriptionArn"])
    raise AssertionError(address)

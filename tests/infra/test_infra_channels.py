"""Channels in the stack: an e-mail subscription per e-mail channel with its filter policy, and the grants that
sending alerts needs (deliver and, for test alerts, the api), with cdk-nag satisfied."""

from __future__ import annotations

import json
from typing import Any

import pytest
from spendwatch.platform import resources

from tests.infra.conftest import BASE_CONFIG, Synthesise, Synthesised

CHANNELS = """
[[channels]]
type = "email"
address = "finops@example.com"
min_severity = "warning"
kinds = []

[[channels]]
type = "email"
address = "budgets@example.com"
kinds = ["budget", "forecast", "report"]

[[channels]]
type = "pagerduty"
min_severity = "critical"

[[channels]]
type = "webhook"
name = "ops"
url = "https://hooks.example.com/spendwatch"
secret = "team/ops-hook"
"""


@pytest.fixture(scope="module")
def synth(synthesiser: Synthesise, tmp_path_factory: pytest.TempPathFactory) -> Synthesised:
    return synthesiser(tmp_path_factory.mktemp("channels"), BASE_CONFIG + CHANNELS)


def _function(synth: Synthesised, name: str) -> tuple[str, dict[str, Any]]:
    handler = resources.FUNCTIONS[name]
    ((found, function),) = [
        (k, r) for k, r in synth.resources("AWS::Lambda::Function").items() if r["Properties"]["Handler"] == handler
    ]
    return found, function


def _statements(synth: Synthesised, name: str) -> list[dict[str, Any]]:
    role_id = _function(synth, name)[1]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in synth.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _secret_names(statements: list[dict[str, Any]]) -> set[str]:
    found = set()
    for statement in statements:
        if "secretsmanager:GetSecretValue" not in json.dumps(statement["Action"]):
            continue
        arns = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        found |= {arn["Fn::Join"][1][-1].removeprefix(":secret:").removesuffix("-??????") for arn in arns}
    return found


def test_each_email_channel_is_a_subscription_of_the_topic_with_its_filter_policy(synth: Synthesised) -> None:
    (topic_id,) = synth.resources("AWS::SNS::Topic")
    subscriptions = {
        s["Properties"]["Endpoint"]: s["Properties"] for s in synth.resources("AWS::SNS::Subscription").values()
    }
    assert set(subscriptions) == {"finops@example.com", "budgets@example.com"}
    for properties in subscriptions.values():
        assert properties["Protocol"] == "email" and properties["TopicArn"] == {"Ref": topic_id}
        assert properties["FilterPolicyScope"] == "MessageAttributes"
    # Alerts at warning and above of every kind, or a report (published as info) whatever its severity.
    reports = {"kind": ["report"]}
    assert subscriptions["finops@example.com"]["FilterPolicy"] == {
        "$or": [{"severity": ["warning", "critical"]}, reports]
    }
    assert subscriptions["budgets@example.com"]["FilterPolicy"] == {
        "$or": [{"severity": ["info", "warning", "critical"], "kind": ["budget", "forecast", "test"]}, reports]
    }


def test_deliver_reads_the_slack_pagerduty_and_webhook_secrets_and_no_other(synth: Synthesised) -> None:
    statements = _statements(synth, "alert-deliver")
    assert _secret_names(statements) == {
        "spendwatch/slack-webhook-url",
        "spendwatch/pagerduty-routing-key",
        "team/ops-hook",
    }


def test_the_api_may_send_test_alerts_publish_read_the_secrets_and_list_subscriptions(synth: Synthesised) -> None:
    (topic_id,) = synth.resources("AWS::SNS::Topic")
    statements = _statements(synth, "api")
    on_topic = set()
    for statement in statements:
        if statement["Resource"] == {"Ref": topic_id} and statement["Effect"] == "Allow":
            action = statement["Action"]
            on_topic |= {action} if isinstance(action, str) else set(action)
    assert on_topic == {"sns:Publish", "sns:ListSubscriptionsByTopic"}
    assert _secret_names(statements) == _secret_names(_statements(synth, "alert-deliver"))
    environment = _function(synth, "api")[1]["Properties"]["Environment"]["Variables"]
    assert environment[resources.ENV_TOPIC] == {"Ref": topic_id}


def test_cdk_nag_reports_no_unacknowledged_findings(synth: Synthesised) -> None:
    for plugin in synth.validation_report()["pluginReports"]:
        assert plugin["conclusion"] == "success", plugin
        assert plugin.get("violations", []) == []
    assert synth.unused_acknowledgments() == set()

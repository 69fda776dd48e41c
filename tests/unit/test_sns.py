"""SNS: a subject SNS accepts, a readable body, filterable attributes, and per-alert outcomes from PublishBatch."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber
from spendwatch.channels.render import render_text
from spendwatch.channels.sns import MAX_SUBJECT, SnsChannel, attributes, budget_name, entry, subject

from tests.unit.test_slack import make_alert

TOPIC = "arn:aws:sns:us-east-1:123456789012:spendwatch-alerts"


class FakeSns:
    """An SNS client that records PublishBatch calls and answers as scripted."""

    def __init__(self, refuse: set[str] | None = None, error: Exception | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.refuse = refuse or set()
        self.error = error

    def publish_batch(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.error:
            raise self.error
        entries = kwargs["PublishBatchRequestEntries"]
        return {
            "Successful": [
                {"Id": e["Id"], "MessageId": f"msg-{e['Id']}"} for e in entries if e["Id"] not in self.refuse
            ],
            "Failed": [
                {"Id": e["Id"], "Code": "InternalError", "SenderFault": False}
                for e in entries
                if e["Id"] in self.refuse
            ],
            "ResponseMetadata": {"RetryAttempts": 1},
        }


def test_subject_is_one_line_under_100_characters() -> None:
    alert = make_alert(severity="critical", title="Spend spike\non\tEC2 " + "x" * 200)
    text = subject(alert)

    assert text.startswith("[spendwatch] CRITICAL: Spend spike on EC2 ")
    assert len(text) == MAX_SUBJECT < 100 and text.endswith("…")
    assert "\n" not in text and "\t" not in text


def test_attributes_carry_severity_kind_provider_and_budget_as_strings() -> None:
    attrs = attributes(make_alert(severity="critical", rule="budget:config-total", scope={"provider": "AWS"}))

    assert attrs == {
        "severity": {"DataType": "String", "StringValue": "critical"},
        "kind": {"DataType": "String", "StringValue": "budget"},
        "alert_id": {"DataType": "String", "StringValue": attrs["alert_id"]["StringValue"]},
        "provider": {"DataType": "String", "StringValue": "AWS"},
        "budget": {"DataType": "String", "StringValue": "config-total"},
    }


def test_attributes_that_do_not_apply_are_left_out_not_empty() -> None:
    attrs = attributes(make_alert(kind="spike", rule="spike:service", scope={}))
    assert set(attrs) == {"severity", "kind", "alert_id"}


def test_budget_name_comes_from_budget_and_forecast_rules_only() -> None:
    assert budget_name(make_alert(kind="forecast", rule="forecast:team-data:100%")) == "team-data"
    assert budget_name(make_alert(kind="budget", rule="budget:total")) == "total"
    assert budget_name(make_alert(kind="spike", rule="budget:total")) is None
    assert budget_name(make_alert(kind="budget", rule="total")) is None


def test_body_is_readable_plain_text_with_drivers_and_freshness() -> None:
    body = render_text(make_alert(drivers=7))

    assert body.splitlines()[:2] == [
        "WARNING budget alert: AWS budget at 80% (0)",
        "AWS spend 400.10 of 500.00 USD this month",
    ]
    assert "Scope: provider=AWS" in body
    assert "Period: 2026-11 (level 80%)" in body
    assert "Amounts: actual 400.10 USD · threshold 400.00 USD" in body
    assert "  - service Amazon EC2 0: expected 1.50 USD, actual 9.25 USD (80% of the change)" in body
    assert "  - and 2 more" in body
    assert "Data through 2026-11-24 09:00 UTC" in body


def test_publish_batch_request_is_valid_for_sns() -> None:
    client = boto3.client("sns", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    alert = make_alert(severity="critical")
    with Stubber(client) as stub:
        stub.add_response(
            "publish_batch",
            {"Successful": [{"Id": "m0", "MessageId": "1"}], "Failed": []},
            {"TopicArn": TOPIC, "PublishBatchRequestEntries": [entry("m0", alert)]},
        )
        outcomes = SnsChannel(client, TOPIC).send([alert])
        stub.assert_no_pending_responses()
    assert outcomes[alert.id].status == "delivered"


def test_alerts_go_out_ten_per_call_and_a_refused_entry_fails_only_its_alert() -> None:
    alerts = [make_alert(n) for n in range(23)]
    sns = FakeSns(refuse={"m3"})
    outcomes = SnsChannel(sns, TOPIC).send(alerts)

    assert [len(c["PublishBatchRequestEntries"]) for c in sns.calls] == [10, 10, 3]
    failed = {i for i, o in outcomes.items() if o.status == "failed"}
    assert failed == {alerts[3].id, alerts[13].id}  # "m3" of each call of ten
    assert outcomes[alerts[3].id].error == "SNS refused the message: InternalError"
    assert outcomes[alerts[0].id].attempts == 2  # botocore retried once (RetryAttempts 1)


def test_a_failed_call_fails_its_alerts_with_the_error_code() -> None:
    error = ClientError(
        {"Error": {"Code": "NotFound", "Message": "Topic does not exist"}, "ResponseMetadata": {"RetryAttempts": 0}},
        "PublishBatch",
    )
    alerts = [make_alert(n) for n in range(2)]
    outcomes = SnsChannel(FakeSns(error=error), TOPIC).send(alerts)
    assert {(o.status, o.attempts, o.error) for o in outcomes.values()} == {
        ("failed", 1, "SNS PublishBatch failed: NotFound")
    }


def test_a_connection_failure_fails_its_alerts() -> None:
    alerts = [make_alert()]
    outcomes = SnsChannel(FakeSns(error=EndpointConnectionError(endpoint_url="https://sns")), TOPIC).send(alerts)
    assert outcomes[alerts[0].id].error == "SNS PublishBatch failed: EndpointConnectionError"

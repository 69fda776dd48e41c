"""Delivery end to end on moto: real alert items, the table's real stream records, the real handler, Slack over HTTP.

Each test writes alerts with the store, reads the INSERT records moto's stream produced (filtered like the
event source mapping filters them), and hands them to the handler as Lambda would, retries included.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from spendwatch.channels import slack
from spendwatch.domain.alerts import Alert
from spendwatch.platform import resources
from spendwatch.store.table import ALERT_DELIVER

from alert.deliver.handler import handler
from spendwatch_local.fakes.slack import FakeSlack
from spendwatch_local.streams.filters import matches_any
from tests.integration.conftest import TABLE, LambdaContext, store, write_config
from tests.unit.test_slack import NOW, make_alert

TOPIC_NAME = "spendwatch-alerts"
TOPIC_ARN = f"arn:aws:sns:us-east-1:123456789012:{TOPIC_NAME}"


# -- the stream, as Lambda delivers it ----------------------------------------------------------------------
def stream_records() -> list[dict[str, Any]]:
    """Every record on the table's stream so far, oldest first (moto keeps them all)."""
    arn = boto3.client("dynamodb").describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams")
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
        records.extend(streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"])
    return [_as_lambda_record(record, arn) for record in records]


def _as_lambda_record(record: dict[str, Any], arn: str) -> dict[str, Any]:
    # boto3 turns the creation time into a datetime and moto leaves out the source ARN; Lambda sends both raw.
    shaped = copy.deepcopy(record)
    created = shaped["dynamodb"].get("ApproximateCreationDateTime")
    if created is not None and hasattr(created, "timestamp"):
        shaped["dynamodb"]["ApproximateCreationDateTime"] = int(created.timestamp())
    shaped["eventSourceARN"] = arn
    return shaped


def passes_filter(record: dict[str, Any]) -> bool:
    """The deliver function's event-source filters, applied as Lambda applies them."""
    return matches_any(ALERT_DELIVER.filter_patterns(), record)


def delivery_batch() -> dict[str, Any]:
    """The event Lambda would invoke the deliver function with for the stream so far."""
    return {"Records": [r for r in stream_records() if passes_filter(r)]}


def sequence(record: dict[str, Any]) -> str:
    """A record's sequence number (what the batch response names)."""
    return str(record["dynamodb"]["SequenceNumber"])


def failed(response: dict[str, Any]) -> list[str]:
    """Sequence numbers the handler reported as failed."""
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


# -- fixtures -----------------------------------------------------------------------------------------------
@dataclass
class World:
    """What a test sees: the fake Slack, the SNS subscriber queue and the waits the handler asked for."""

    slack: FakeSlack
    env: dict[str, Any]
    waits: list[float] = field(default_factory=list)
    queue_url: str = ""

    def put(self, *alerts: Alert) -> dict[str, Any]:
        """Store alerts (as evaluation does) and return the stream batch they produce."""
        for alert in alerts:
            assert store().put_alert_once(alert)
        return delivery_batch()

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        """One Lambda invocation of the deliver function."""
        response: dict[str, Any] = handler(copy.deepcopy(event), LambdaContext())
        return response

    def sns_messages(self) -> list[dict[str, Any]]:
        """Every message the topic delivered to its SQS subscriber."""
        sqs = boto3.client("sqs")
        found: list[dict[str, Any]] = []
        while batch := sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages"):
            found.extend(batch)
            sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)],
            )
        return found


def create_topic(filter_policy: dict[str, Any] | None = None) -> str:
    """The alerts topic with an SQS subscriber (raw delivery, so attributes arrive as message attributes)."""
    topic = boto3.client("sns").create_topic(Name=TOPIC_NAME)["TopicArn"]
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName=f"subscriber-{len(filter_policy or {})}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {"RawMessageDelivery": "true"}
    if filter_policy:
        attributes["FilterPolicy"] = json.dumps(filter_policy)
    boto3.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes=attributes)
    return str(queue_url)


@pytest.fixture
def world(aws_env: dict[str, Any]) -> Iterator[World]:
    """Moto (table, stream, topic + subscriber), a fake Slack webhook, and a clock that records waits."""
    monkeypatch: pytest.MonkeyPatch = aws_env["monkeypatch"]
    # moto's DynamoDB Streams in mock_aws mode need this (architecture notes).
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    write_config(aws_env, 'currency = "USD"\n')
    # Powertools caches secrets per process; each test starts from what its own moto holds.
    parameters.clear_caches()
    with FakeSlack() as fake:
        found = World(fake, aws_env)
        monkeypatch.setenv("SLACK_WEBHOOK_URL", fake.url)
        monkeypatch.setenv(resources.ENV_TOPIC, TOPIC_ARN)
        monkeypatch.setattr(slack, "sleep", found.waits.append)
        found.queue_url = create_topic()
        yield found
    parameters.clear_caches()


# -- tests --------------------------------------------------------------------------------------------------
def test_a_batch_goes_out_as_one_slack_message_and_one_sns_message_per_alert(world: World) -> None:
    alerts = [make_alert(n, severity=s) for n, s in enumerate(["warning", "critical", "info"])]
    event = world.put(*alerts)
    assert len(event["Records"]) == 3

    response = world.invoke(event)

    assert failed(response) == []
    assert len(world.slack.accepted) == 1
    assert sorted(world.slack.accepted_alert_ids()) == sorted(a.id for a in alerts)
    messages = world.sns_messages()
    assert sorted(m["MessageAttributes"]["alert_id"]["StringValue"] for m in messages) == sorted(a.id for a in alerts)
    for alert in alerts:
        stored = store().get_alert(alert.id)
        assert stored is not None
        assert stored.delivery["slack"].status == "delivered" and stored.delivery["slack"].attempts == 1
        assert stored.delivery["sns"].status == "delivered" and stored.delivery["sns"].delivered_at is not None


def test_sns_attributes_let_a_subscriber_filter_on_severity(world: World) -> None:
    critical_only = create_topic({"severity": ["critical"]})
    alerts = [make_alert(0, severity="warning"), make_alert(1, severity="critical")]
    world.invoke(world.put(*alerts))

    received = boto3.client("sqs").receive_message(
        QueueUrl=critical_only, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )["Messages"]
    assert [m["MessageAttributes"]["alert_id"]["StringValue"] for m in received] == [alerts[1].id]
    attrs = {k: v["StringValue"] for k, v in received[0]["MessageAttributes"].items()}
    assert attrs == {
        "severity": "critical",
        "kind": "budget",
        "provider": "AWS",
        "budget": "config-aws",
        "alert_id": alerts[1].id,
    }
    assert received[0]["Body"].startswith("CRITICAL budget alert: AWS budget at 80% (1)")


def test_slack_failing_for_a_while_delivers_each_alert_exactly_once_across_lambda_retries(world: World) -> None:
    alerts = [make_alert(n) for n in range(3)]
    event = world.put(*alerts)
    world.slack.fail(times=slack.MAX_ATTEMPTS + 2)

    # Given Slack answers 500 longer than one invocation retries, the records fail and Lambda retries the batch.
    first = world.invoke(event)
    assert failed(first) == [sequence(r) for r in event["Records"]]
    stored = store().get_alert(alerts[0].id)
    assert stored is not None
    assert stored.delivery["slack"].status == "failed" and stored.delivery["slack"].attempts == slack.MAX_ATTEMPTS
    assert stored.delivery["slack"].error == f"slack webhook: HTTP 500 after {slack.MAX_ATTEMPTS} attempts"
    assert world.slack.accepted == []

    # When Lambda retries the same batch, Slack recovers after two more 500s: one message, SNS not re-sent.
    second = world.invoke(event)
    assert failed(second) == []
    assert len(world.slack.accepted) == 1

    # And a further retry of the same batch (Lambda redelivers at least once) posts nothing at all.
    posts = len(world.slack.posts)
    third = world.invoke(event)
    assert failed(third) == [] and len(world.slack.posts) == posts

    assert sorted(world.slack.accepted_alert_ids()) == sorted(a.id for a in alerts)
    assert len(world.sns_messages()) == 3
    stored = store().get_alert(alerts[0].id)
    assert stored is not None and stored.delivery["slack"].status == "delivered"
    assert stored.delivery["slack"].attempts == slack.MAX_ATTEMPTS + 3 and stored.delivery["slack"].error is None


def test_slack_429_retry_after_is_honoured_then_the_message_goes_once(world: World) -> None:
    alerts = [make_alert(n) for n in range(2)]
    world.slack.rate_limit(retry_after=30)

    response = world.invoke(world.put(*alerts))

    assert failed(response) == []
    assert world.waits == [30.0]
    assert [p.status for p in world.slack.posts] == [429, 200]
    assert sorted(world.slack.accepted_alert_ids()) == sorted(a.id for a in alerts)


def test_a_permanent_slack_error_fails_the_records_for_the_on_failure_destination(world: World) -> None:
    event = world.put(make_alert())
    world.slack.reject("no_service", 404)

    response = world.invoke(event)

    assert failed(response) == [sequence(event["Records"][0])]
    stored = store().get_alert(make_alert().id)
    assert stored is not None
    assert stored.delivery["slack"].status == "failed" and stored.delivery["slack"].attempts == 1
    assert stored.delivery["slack"].error == "slack webhook answered HTTP 404: no_service"
    assert world.slack.url.rsplit("/", 1)[1] not in str(stored.delivery)
    assert stored.delivery["sns"].status == "delivered"


def test_sns_failing_fails_the_records_and_a_retry_after_recovery_delivers_without_reposting_slack(
    world: World,
) -> None:
    alerts = [make_alert(n) for n in range(2)]
    event = world.put(*alerts)
    world.env["monkeypatch"].setenv(resources.ENV_TOPIC, TOPIC_ARN.replace(TOPIC_NAME, "not-created-yet"))

    first = world.invoke(event)

    assert failed(first) == [sequence(r) for r in event["Records"]]
    stored = store().get_alert(alerts[0].id)
    assert stored is not None
    assert stored.delivery["sns"].status == "failed" and stored.delivery["sns"].error == (
        "SNS PublishBatch failed: NotFound"
    )
    assert len(world.slack.accepted) == 1

    # The topic appears (the stack finished deploying, a permission was fixed); Lambda retries the batch.
    world.env["monkeypatch"].setenv(resources.ENV_TOPIC, TOPIC_ARN)
    second = world.invoke(event)

    assert failed(second) == []
    assert sorted(m["MessageAttributes"]["alert_id"]["StringValue"] for m in world.sns_messages()) == sorted(
        a.id for a in alerts
    )
    assert len(world.slack.accepted) == 1 and len(world.slack.posts) == 1
    stored = store().get_alert(alerts[0].id)
    assert stored is not None and stored.delivery["sns"].status == "delivered" and stored.delivery["sns"].attempts == 2


def test_a_poison_record_fails_alone_while_the_rest_of_the_batch_is_delivered(world: World) -> None:
    alerts = [make_alert(n) for n in range(3)]
    event = world.put(*alerts)
    poison = event["Records"][1]
    poison["dynamodb"]["NewImage"]["severity"] = {"S": "catastrophic"}

    response = world.invoke(event)

    assert failed(response) == [sequence(poison)]
    assert sorted(world.slack.accepted_alert_ids()) == sorted([alerts[0].id, alerts[2].id])
    assert len(world.sns_messages()) == 2

    # Lambda retries from the failed record on: the poison fails again, the record after it is not re-sent.
    retry = world.invoke({"Records": event["Records"][1:]})
    assert failed(retry) == [sequence(poison)]
    assert len(world.slack.accepted) == 1 and world.sns_messages() == []


def test_records_that_are_not_alerts_at_all_fail_alone(world: World) -> None:
    event = world.put(make_alert())
    broken = copy.deepcopy(event["Records"][0])
    broken["dynamodb"]["SequenceNumber"] = "9" * 21
    broken["dynamodb"]["NewImage"] = {"item_type": {"S": "alert"}, "id": {"N": "not a number"}}
    event["Records"].append(broken)

    response = world.invoke(event)

    assert failed(response) == ["9" * 21]
    assert world.slack.accepted_alert_ids() == [make_alert().id]


def test_an_entirely_failed_batch_is_reported_not_raised(world: World) -> None:
    event = world.put(make_alert())
    event["Records"][0]["dynamodb"]["NewImage"]["kind"] = {"S": "nonsense"}

    response = world.invoke(event)

    assert failed(response) == [sequence(event["Records"][0])]
    assert world.slack.posts == []


@pytest.mark.parametrize(
    ("change", "delivered"),
    [
        ({"status": "acknowledged"}, False),
        ({"status": "resolved"}, False),
        ({"status": "snoozed", "snoozed_until": (NOW + timedelta(days=3650)).isoformat()}, False),
        ({"status": "snoozed", "snoozed_until": (NOW - timedelta(days=3650)).isoformat()}, True),
    ],
)
def test_alerts_acknowledged_resolved_or_snoozed_before_delivery_are_not_sent(
    world: World, change: dict[str, Any], delivered: bool
) -> None:
    alert = make_alert()
    event = world.put(alert)
    store().update_alert(alert.id, change)

    response = world.invoke(event)

    assert failed(response) == []
    assert bool(world.slack.accepted) is delivered
    assert bool(world.sns_messages()) is delivered
    stored = store().get_alert(alert.id)
    assert stored is not None and bool(stored.delivery) is delivered


def test_an_alert_deleted_before_delivery_is_skipped(world: World) -> None:
    alert = make_alert()
    event = world.put(alert)
    boto3.client("dynamodb").delete_item(TableName=TABLE, Key={"pk": {"S": "ALERT"}, "sk": {"S": alert.id}})

    assert failed(world.invoke(event)) == [] and world.slack.posts == []


def test_without_a_webhook_alerts_are_printed_and_recorded_as_console(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # No SLACK_WEBHOOK_URL and no secret in Secrets Manager: Slack is simply not configured.
    world.env["monkeypatch"].delenv("SLACK_WEBHOOK_URL")
    alert = make_alert(severity="critical")

    response = world.invoke(world.put(alert))

    assert failed(response) == []
    assert "CRITICAL budget alert: AWS budget at 80% (0)" in capsys.readouterr().out
    assert world.slack.posts == []
    stored = store().get_alert(alert.id)
    assert stored is not None and stored.delivery["console"].status == "delivered" and "slack" not in stored.delivery


def test_deployed_the_webhook_comes_from_secrets_manager(world: World) -> None:
    world.env["monkeypatch"].delenv("SLACK_WEBHOOK_URL")
    boto3.client("secretsmanager").create_secret(Name="spendwatch/slack-webhook-url", SecretString=world.slack.url)
    alert = make_alert()

    response = world.invoke(world.put(alert))

    assert failed(response) == []
    assert world.slack.accepted_alert_ids() == [alert.id]

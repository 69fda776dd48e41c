"""The stream pipeline run locally with the real functions: a write to the table ends up on the alerts topic.

A failed collection run is written; the poller hands its record to the real evaluate function, which writes a
collection alert; the alert item's INSERT reaches the real deliver function, which publishes it to SNS. Nothing
here calls a handler directly: the poller does, as Lambda's event source mappings do when deployed.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from spendwatch.domain.runs import CollectionRun
from spendwatch.platform import clock, resources
from spendwatch.store import Store
from spendwatch.store import table as store_table

from spendwatch_local.streams.poller import PollerSettings, StreamPoller, function_handlers
from tests.integration.conftest import clear_caches

pytestmark = pytest.mark.calendar

REGION = "us-east-1"
CONFIG = """
currency = "USD"
timezone = "UTC"
[[sources]]
name = "s"
type = "focus"
path = "s3://bucket/prefix/"
schedule = "rate(6 hours)"
"""


@pytest.fixture
def pipeline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A moto server with the table, the alerts topic and a queue subscribed to it; the functions' env set."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "SLACK_WEBHOOK_URL"):
        monkeypatch.delenv(key, raising=False)
    table = f"spendwatch-{uuid.uuid4().hex[:8]}"
    config = tmp_path / "spendwatch.toml"
    config.write_text(CONFIG, encoding="utf-8")
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv(resources.ENV_TABLE, table)
    monkeypatch.setenv(resources.ENV_CONFIG, str(config))
    clear_caches()
    boto3.client("dynamodb").create_table(**store_table.table_create_kwargs(table))
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name=f"alerts-{uuid.uuid4().hex[:8]}")["TopicArn"]
    monkeypatch.setenv(resources.ENV_TOPIC, topic)
    queue = sqs.create_queue(QueueName=f"subscriber-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    yield {"endpoint": endpoint, "table": table, "sqs": sqs, "queue": queue}
    clear_caches()
    server.stop()


def test_a_failed_run_becomes_an_alert_on_the_topic(pipeline: dict[str, Any]) -> None:
    # Given the poller running the real evaluate and deliver functions
    settings = PollerSettings(
        poll_interval_seconds=0.02, idle_interval_seconds=0.05, batching_window_seconds=0.1, retry_delay_seconds=0
    )
    poller = StreamPoller(
        store_table.STREAM_CONSUMERS,
        function_handlers(store_table.STREAM_CONSUMERS),
        table=pipeline["table"],
        region=REGION,
        endpoint_url=pipeline["endpoint"],
        settings=dataclasses.replace(settings, failure_queue=f"failures-{uuid.uuid4().hex[:8]}"),
    )
    poller.start()
    try:
        # When a collection run fails
        now = clock.utc_now()
        run = CollectionRun(
            run_id="r1", source="s", type="focus", status="failed", started_at=now, finished_at=now, error="boom"
        )
        Store(boto3.client("dynamodb"), pipeline["table"]).put_run(run)

        # Then a collection alert reaches the topic's subscribers, once
        messages = _receive(pipeline, expected=1)
        time.sleep(0.5)
        messages += _receive(pipeline, expected=0)
    finally:
        poller.stop(timeout=10)
    assert len(messages) == 1
    attributes = {k: v["StringValue"] for k, v in messages[0]["MessageAttributes"].items()}
    assert attributes["kind"] == "collection"
    assert "Collection of s failed" in messages[0]["Body"]
    assert "boom" in messages[0]["Body"]
    stats = poller.stats()
    assert stats[store_table.ALERT_EVALUATE.function].invocations >= 1
    assert stats[store_table.ALERT_DELIVER.function].records_delivered == 1
    assert all(s.failures_sent == 0 for s in stats.values())


def _receive(pipeline: dict[str, Any], expected: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(messages) < expected and time.monotonic() < deadline:
        response = pipeline["sqs"].receive_message(
            QueueUrl=pipeline["queue"], MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=1
        )
        messages += response.get("Messages", [])
    if expected == 0:
        response = pipeline["sqs"].receive_message(
            QueueUrl=pipeline["queue"], MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )
        messages += response.get("Messages", [])
    return messages

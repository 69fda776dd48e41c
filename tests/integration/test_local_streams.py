"""The local stream poller on a real moto server: filtering, Lambda's event shape, failures, stop and resume."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from spendwatch.store import table as store_table
from spendwatch.store.table import ALERT_DELIVER, ALERT_EVALUATE, PRICE, RECOMMEND, STREAM_CONSUMERS, StreamConsumer

from spendwatch_local.streams.poller import PollerSettings, StreamPoller

REGION = "eu-central-1"
# Fast, but every rule of the deployed mappings applies: only the waits are shorter.
FAST = PollerSettings(
    poll_interval_seconds=0.02,
    idle_interval_seconds=0.05,
    batching_window_seconds=0.3,
    retry_delay_seconds=0.0,
    shard_refresh_seconds=0.5,
)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """A real moto server, as ``spendwatch local`` embeds it."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A fresh table (created from the shared definition) and the clients to fill it."""
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    table = f"spendwatch-{uuid.uuid4().hex[:8]}"
    ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
    description = ddb.create_table(**store_table.table_create_kwargs(table))["TableDescription"]
    return {
        "endpoint": endpoint,
        "table": table,
        "stream_arn": description["LatestStreamArn"],
        "dynamodb": ddb,
        "sqs": boto3.client("sqs", endpoint_url=endpoint, region_name=REGION),
        "settings": dataclasses.replace(FAST, failure_queue=f"failures-{uuid.uuid4().hex[:8]}"),
    }


@dataclass
class Recorder:
    """A stand-in function: records every invocation; fails the records whose pk is in ``poison``."""

    poison: set[str] = field(default_factory=set)
    mode: str = "partial"  # "partial": report the first poison record; "raise": refuse a batch holding one
    events: list[dict[str, Any]] = field(default_factory=list)
    contexts: list[Any] = field(default_factory=list)
    invoked_at: list[float] = field(default_factory=list)
    processed: list[str] = field(default_factory=list)
    after: Callable[[], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self.lock:
            self.invoked_at.append(time.time())
            self.events.append(json.loads(json.dumps(event)))  # what crosses the wire must be plain JSON
            self.contexts.append(context)
        try:
            return self._handle(event["Records"])
        finally:
            if self.after is not None:
                self.after()

    def _handle(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        keys = [pk(record) for record in records]
        if self.mode == "raise" and set(keys) & self.poison:
            raise RuntimeError("poison record")
        for record, key in zip(records, keys, strict=True):
            if key in self.poison:
                # Ordered processing: stop at the first failure; Lambda retries from it.
                return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
            with self.lock:
                self.processed.append(key)
        return {"batchItemFailures": []}

    def received(self) -> list[str]:
        with self.lock:
            return [pk(record) for event in self.events for record in event["Records"]]


def pk(record: dict[str, Any]) -> str:
    image = record["dynamodb"].get("NewImage") or record["dynamodb"]["OldImage"]
    return str(image["pk"]["S"])


def item(key: str, item_type: str, **extra: str) -> dict[str, Any]:
    return {
        "pk": {"S": key},
        "sk": {"S": "x"},
        "item_type": {"S": item_type},
        **{k: {"S": v} for k, v in extra.items()},
    }


def put_all(aws: dict[str, Any], items: list[dict[str, Any]]) -> None:
    """One BatchWriteItem, so the records arrive together and share a batch."""
    requests = [{"PutRequest": {"Item": i}} for i in items]
    aws["dynamodb"].batch_write_item(RequestItems={aws["table"]: requests})


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def failure_messages(aws: dict[str, Any], poller: StreamPoller, expected: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while len(messages) < expected and time.monotonic() < deadline:
        response = aws["sqs"].receive_message(QueueUrl=poller.failure_queue_url, MaxNumberOfMessages=10)
        messages += [json.loads(m["Body"]) for m in response.get("Messages", [])]
    return messages


@pytest.fixture
def run_poller(aws: dict[str, Any]) -> Iterator[Callable[..., StreamPoller]]:
    """Start pollers on the test table; every one is stopped at the end of the test."""
    started: list[StreamPoller] = []

    def start(
        handlers: dict[str, Any], consumers: tuple[StreamConsumer, ...] = STREAM_CONSUMERS, **kwargs: Any
    ) -> StreamPoller:
        kwargs.setdefault("settings", aws["settings"])
        poller = StreamPoller(
            consumers, handlers, table=aws["table"], region=REGION, endpoint_url=aws["endpoint"], **kwargs
        )
        poller.start()
        started.append(poller)
        return poller

    yield start
    for poller in started:
        poller.stop(timeout=5)


def sequences(recorder: Recorder) -> dict[str, str]:
    return {pk(r): r["dynamodb"]["SequenceNumber"] for event in recorder.events for r in event["Records"]}


# --- filtering and the event shape ---------------------------------------------------------------------------


def test_each_consumer_receives_only_its_items_in_lambdas_event_shape(
    aws: dict[str, Any], run_poller: Callable[..., StreamPoller]
) -> None:
    evaluate, deliver, price, recommend = Recorder(), Recorder(), Recorder(), Recorder()
    poller = run_poller(
        {
            ALERT_EVALUATE.function: evaluate,
            ALERT_DELIVER.function: deliver,
            PRICE.function: price,
            RECOMMEND.function: recommend,
        }
    )
    ddb, table = aws["dynamodb"], aws["table"]
    written_at = time.time()
    types = ("agg_day", "agg_month", "cost", "usage", "run", "alert", "budget", "idempotency")
    put_all(aws, [item(f"{t}#1", t) for t in types])
    ddb.put_item(TableName=table, Item=item("agg_day#1", "agg_day", total="12.34"))  # a restated day: MODIFY
    ddb.put_item(TableName=table, Item=item("alert#1", "alert", status="acknowledged"))  # MODIFY: never re-delivered
    ddb.put_item(TableName=table, Item=item("run#1", "run"))  # unchanged: DynamoDB writes no record for it
    ddb.delete_item(TableName=table, Key={"pk": {"S": "cost#1"}, "sk": {"S": "x"}})  # REMOVE

    inserted = [f"{t}#1" for t in types if t in ALERT_EVALUATE.item_types]
    wait_for(lambda: len(evaluate.received()) >= len(inserted) + 1 and len(deliver.received()) >= 1)
    wait_for(lambda: len(price.received()) >= 1 and len(recommend.received()) >= 1)
    time.sleep(0.5)  # anything wrongly let through would arrive by now
    assert evaluate.received() == [*inserted, "agg_day#1"]
    assert price.received() == ["usage#1"]
    assert recommend.received() == ["run#1"]
    assert [r["eventName"] for e in evaluate.events for r in e["Records"]] == ["INSERT"] * len(inserted) + ["MODIFY"]
    assert deliver.received() == ["alert#1"]

    (event,) = deliver.events
    (record,) = event["Records"]
    created = record["dynamodb"].pop("ApproximateCreationDateTime")
    assert isinstance(created, int)
    assert written_at - 2 <= created <= time.time()
    assert record["eventID"]
    assert {k: v for k, v in record.items() if k != "eventID"} == {
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": {
            "Keys": {"pk": {"S": "alert#1"}, "sk": {"S": "x"}},
            "NewImage": item("alert#1", "alert"),
            "SequenceNumber": record["dynamodb"]["SequenceNumber"],
            "SizeBytes": record["dynamodb"]["SizeBytes"],
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": aws["stream_arn"],
    }
    modify = evaluate.events[-1]["Records"][-1]["dynamodb"]
    assert modify["OldImage"] == item("agg_day#1", "agg_day")
    assert modify["NewImage"] == item("agg_day#1", "agg_day", total="12.34")
    assert deliver.contexts[0].function_name == "spendwatch-alert-deliver"
    assert (
        deliver.contexts[0].invoked_function_arn
        == f"arn:aws:lambda:{REGION}:123456789012:function:spendwatch-alert-deliver"
    )
    assert poller.stream_arn == aws["stream_arn"]
    assert failure_messages(aws, poller, 0) == []


def test_records_of_one_write_burst_share_a_batch(aws: dict[str, Any], run_poller: Callable[..., StreamPoller]) -> None:
    deliver = Recorder()
    run_poller({ALERT_DELIVER.function: deliver}, consumers=(ALERT_DELIVER,))
    put_all(aws, [item(f"alert#{i}", "alert") for i in range(10)])
    wait_for(lambda: len(deliver.received()) == 10)
    assert len(deliver.events) == 1
    # Records come in stream order.
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in deliver.events[0]["Records"]]
    assert numbers == sorted(numbers)


def test_batches_hold_at_most_batch_size_records(aws: dict[str, Any], run_poller: Callable[..., StreamPoller]) -> None:
    deliver = Recorder()
    run_poller({ALERT_DELIVER.function: deliver}, consumers=(ALERT_DELIVER,))
    for start in range(0, 60, 20):
        put_all(aws, [item(f"alert#{i:02d}", "alert") for i in range(start, start + 20)])
    wait_for(lambda: len(deliver.received()) == 60)
    assert max(len(e["Records"]) for e in deliver.events) == ALERT_DELIVER.batch_size
    assert deliver.received() == [f"alert#{i:02d}" for i in range(60)]


# --- failures ------------------------------------------------------------------------------------------------


def test_a_failed_record_is_retried_then_described_on_the_failure_queue(
    aws: dict[str, Any], run_poller: Callable[..., StreamPoller]
) -> None:
    # Given a delivery that always fails one alert in the middle of a batch
    deliver = Recorder(poison={"alert#2"})
    poller = run_poller({ALERT_DELIVER.function: deliver}, consumers=(ALERT_DELIVER,))
    keys = [f"alert#{i}" for i in range(5)]
    put_all(aws, [item(k, "alert") for k in keys])

    # Then, once the retries are spent, Lambda's on-failure record names the records it gave up on
    (message,) = failure_messages(aws, poller, 1)
    seq = sequences(deliver)
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == 1 + ALERT_DELIVER.retry_attempts
    assert message["requestContext"]["functionArn"].endswith(":function:spendwatch-alert-deliver")
    assert message["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert message["version"] == "1.0"
    assert message["timestamp"].endswith("Z")
    info = message["DDBStreamBatchInfo"]
    assert info["streamArn"] == aws["stream_arn"]
    assert info["shardId"].startswith("shardId-")
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (seq["alert#2"], seq["alert#4"])
    assert info["batchSize"] == 3
    # the records before the failed one were delivered once and never again
    received = deliver.received()
    assert received.count("alert#0") == received.count("alert#1") == 1
    assert received.count("alert#2") == 1 + ALERT_DELIVER.retry_attempts
    # nothing was processed twice, and every record is processed or named on the queue
    assert deliver.processed == ["alert#0", "alert#1"]
    time.sleep(0.3)
    assert failure_messages(aws, poller, 0) == []
    assert poller.checkpoints()[ALERT_DELIVER.function][info["shardId"]] == seq["alert#4"]


def test_a_raising_handler_is_bisected_and_only_the_poison_record_is_given_up(
    aws: dict[str, Any], run_poller: Callable[..., StreamPoller]
) -> None:
    deliver = Recorder(poison={"alert#5"}, mode="raise")
    poller = run_poller({ALERT_DELIVER.function: deliver}, consumers=(ALERT_DELIVER,))
    keys = [f"alert#{i}" for i in range(8)]
    put_all(aws, [item(k, "alert") for k in keys])

    (message,) = failure_messages(aws, poller, 1)
    seq = sequences(deliver)
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["responseContext"]["functionError"] == "Unhandled"
    info = message["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        seq["alert#5"],
        seq["alert#5"],
        1,
    )
    wait_for(lambda: len(deliver.processed) == 7)
    assert sorted(deliver.processed) == sorted(set(keys) - {"alert#5"})  # each exactly once
    stats = poller.stats()[ALERT_DELIVER.function]
    assert (stats.failures_sent, stats.records_discarded) == (1, 1)


def test_the_poller_keeps_going_after_a_poison_record(
    aws: dict[str, Any], run_poller: Callable[..., StreamPoller]
) -> None:
    deliver = Recorder(poison={"alert#bad"}, mode="raise")
    poller = run_poller({ALERT_DELIVER.function: deliver}, consumers=(ALERT_DELIVER,))
    put_all(aws, [item("alert#bad", "alert")])
    failure_messages(aws, poller, 1)
    put_all(aws, [item("alert#good", "alert")])
    wait_for(lambda: deliver.processed == ["alert#good"])


def test_records_past_their_maximum_age_go_to_the_failure_queue(
    aws: dict[str, Any], run_poller: Callable[..., StreamPoller]
) -> None:
    # Unbounded retries end when the record is older than the maximum age (60 s at least when deployed). 3 s
    # leaves the first read time on a busy machine: a record already too old when first read is never invoked.
    consumer = dataclasses.replace(ALERT_DELIVER, retry_attempts=-1, max_record_age_seconds=3)
    deliver = Recorder(poison={"alert#old"})
    settings = dataclasses.replace(aws["settings"], retry_delay_seconds=0.1)
    poller = run_poller({consumer.function: deliver}, consumers=(consumer,), settings=settings)
    put_all(aws, [item("alert#old", "alert")])
    (message,) = failure_messages(aws, poller, 1)
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["requestContext"]["approximateInvokeCount"] == len(deliver.events) >= 2


# --- stop and resume -----------------------------------------------------------------------------------------


def test_stop_then_resume_from_checkpoints_loses_and_repeats_nothing(
    aws: dict[str, Any], run_poller: Callable[..., StreamPoller]
) -> None:
    # Given a poller that is stopped right after its first invocation, with records still unread or buffered
    first = Recorder()
    poller = run_poller({ALERT_DELIVER.function: first}, consumers=(ALERT_DELIVER,))
    first.after = poller.stop_event.set
    keys = [f"alert#{i:02d}" for i in range(40)]
    put_all(aws, [item(k, "alert") for k in keys[:25]])
    put_all(aws, [item(k, "alert") for k in keys[25:30]])
    wait_for(lambda: bool(first.events))
    poller.stop(timeout=5)
    checkpoints = poller.checkpoints()
    put_all(aws, [item(k, "alert") for k in keys[30:]])  # written while nothing polls

    # When a new poller resumes from the checkpoints
    second = Recorder()
    run_poller({ALERT_DELIVER.function: second}, consumers=(ALERT_DELIVER,), resume_from=checkpoints)

    # Then every record is delivered exactly once across both
    wait_for(lambda: len(first.processed) + len(second.processed) == len(keys))
    time.sleep(0.3)
    assert sorted(first.processed + second.processed) == keys
    assert len(first.events) == 1


def test_latest_reads_only_what_is_written_after_start(
    aws: dict[str, Any], run_poller: Callable[..., StreamPoller]
) -> None:
    put_all(aws, [item("alert#before", "alert")])
    deliver = Recorder()
    settings = dataclasses.replace(aws["settings"], starting_position="LATEST")
    run_poller({ALERT_DELIVER.function: deliver}, consumers=(ALERT_DELIVER,), settings=settings)
    put_all(aws, [item("alert#after", "alert")])
    wait_for(lambda: deliver.received() == ["alert#after"])


def test_trim_horizon_reads_what_was_written_before_start(
    aws: dict[str, Any], run_poller: Callable[..., StreamPoller]
) -> None:
    put_all(aws, [item("alert#before", "alert")])
    deliver = Recorder()
    run_poller({ALERT_DELIVER.function: deliver}, consumers=(ALERT_DELIVER,))
    wait_for(lambda: deliver.received() == ["alert#before"])


def test_a_missing_handler_is_refused_before_anything_starts(aws: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="alert-deliver"):
        StreamPoller(STREAM_CONSUMERS, {ALERT_EVALUATE.function: Recorder()}, table=aws["table"], region=REGION)


def test_delivery_latency_with_the_deployed_batching_window(
    aws: dict[str, Any], run_poller: Callable[..., StreamPoller]
) -> None:
    # The deployed window (5 s) is honoured: a lone record waits for company, then goes.
    deliver = Recorder()
    consumer = dataclasses.replace(ALERT_DELIVER, max_batching_window_seconds=1)
    settings = dataclasses.replace(aws["settings"], batching_window_seconds=None)
    run_poller({consumer.function: deliver}, consumers=(consumer,), settings=settings)
    written = time.time()
    put_all(aws, [item("alert#lone", "alert")])
    wait_for(lambda: bool(deliver.invoked_at))
    assert 1.0 <= deliver.invoked_at[0] - written < 2.5

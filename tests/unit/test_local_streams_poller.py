"""The stream poller's shard handling on a fake streams API: parents before children, new shards, LATEST, expiry."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError
from spendwatch.store.table import ALERT_DELIVER, StreamConsumer

from spendwatch_local.foreground import FOREGROUND
from spendwatch_local.streams.poller import PollerSettings, StreamClients, StreamPoller
from spendwatch_local.streams.shapes import StreamArn

ARN = "arn:aws:dynamodb:eu-central-1:123456789012:table/spendwatch/stream/2026-11-24T08:00:00.000"
SETTINGS = PollerSettings(
    poll_interval_seconds=0.01,
    idle_interval_seconds=0.02,
    batching_window_seconds=0.0,
    retry_delay_seconds=0.0,
    shard_refresh_seconds=0.0,
)


@dataclass
class FakeStreams:
    """DynamoDB Streams with shards that can close, split and appear; one page of DescribeStream per shard."""

    shards: dict[str, dict[str, Any]] = field(default_factory=dict)
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    next_sequence: int = 100
    expire_next: int = 0  # the next N GetRecords calls fail with ExpiredIteratorException
    reads: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_shard(self, shard_id: str, parent: str | None = None) -> None:
        with self.lock:
            shard: dict[str, Any] = {"ShardId": shard_id, "SequenceNumberRange": {"StartingSequenceNumber": "0"}}
            if parent:
                shard["ParentShardId"] = parent
            self.shards[shard_id] = shard
            self.records[shard_id] = []

    def close(self, shard_id: str) -> None:
        with self.lock:
            self.shards[shard_id]["SequenceNumberRange"]["EndingSequenceNumber"] = str(self.next_sequence)

    def write(self, shard_id: str, key: str, item_type: str = "alert") -> None:
        with self.lock:
            self.next_sequence += 1
            self.records[shard_id].append(
                {
                    "eventID": key,
                    "eventName": "INSERT",
                    "eventVersion": "1.0",
                    "eventSource": "aws:dynamodb",
                    "awsRegion": "us-east-1",
                    "dynamodb": {
                        "ApproximateCreationDateTime": time.time(),
                        "Keys": {"pk": {"S": key}},
                        "NewImage": {"pk": {"S": key}, "item_type": {"S": item_type}},
                        "SequenceNumber": str(self.next_sequence),
                        "SizeBytes": 10,
                        "StreamViewType": "NEW_AND_OLD_IMAGES",
                    },
                }
            )

    def describe_stream(self, StreamArn: str, ExclusiveStartShardId: str | None = None) -> dict[str, Any]:
        with self.lock:
            ids = list(self.shards)
        start = ids.index(ExclusiveStartShardId) + 1 if ExclusiveStartShardId else 0
        page = ids[start : start + 1]
        description: dict[str, Any] = {"StreamArn": StreamArn, "Shards": [dict(self.shards[i]) for i in page]}
        if start + 1 < len(ids):
            description["LastEvaluatedShardId"] = page[-1]
        return {"StreamDescription": description}

    def get_shard_iterator(self, **kwargs: Any) -> dict[str, Any]:
        shard_id, kind = kwargs["ShardId"], kwargs["ShardIteratorType"]
        with self.lock:
            records = self.records[shard_id]
            if kind == "TRIM_HORIZON":
                index = 0
            elif kind == "LATEST":
                index = len(records)
            else:
                after = int(kwargs["SequenceNumber"])
                index = len([r for r in records if int(r["dynamodb"]["SequenceNumber"]) <= after])
        return {"ShardIterator": f"{shard_id}|{index}"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        self.reads += 1
        if self.expire_next:
            self.expire_next -= 1
            raise ClientError({"Error": {"Code": "ExpiredIteratorException"}}, "GetRecords")
        shard_id, index_text = ShardIterator.split("|")
        index = int(index_text)
        with self.lock:
            batch = self.records[shard_id][index : index + Limit]
            closed = "EndingSequenceNumber" in self.shards[shard_id]["SequenceNumberRange"]
            end = index + len(batch)
            drained = end >= len(self.records[shard_id])
        response: dict[str, Any] = {"Records": batch}
        if not (closed and drained):
            response["NextShardIterator"] = f"{shard_id}|{end}"
        return response


@dataclass
class FakeSqs:
    messages: list[str] = field(default_factory=list)

    def send_message(self, QueueUrl: str, MessageBody: str) -> dict[str, Any]:
        self.messages.append(MessageBody)
        return {"MessageId": str(len(self.messages))}


@dataclass
class Recorder:
    keys: list[str] = field(default_factory=list)
    batches: list[list[str]] = field(default_factory=list)

    def __call__(self, event: dict[str, Any], context: Any) -> None:
        keys = [r["dynamodb"]["NewImage"]["pk"]["S"] for r in event["Records"]]
        self.batches.append(keys)
        self.keys.extend(keys)


@pytest.fixture
def streams() -> FakeStreams:
    return FakeStreams()


@pytest.fixture
def start(streams: FakeStreams) -> Iterator[Callable[..., tuple[StreamPoller, Recorder]]]:
    pollers: list[StreamPoller] = []

    def run(consumer: StreamConsumer = ALERT_DELIVER, **settings: Any) -> tuple[StreamPoller, Recorder]:
        recorder = Recorder()
        clients = StreamClients(streams, FakeSqs(), "queue", StreamArn.parse(ARN))
        poller = StreamPoller(
            [consumer],
            {consumer.function: recorder},
            table="spendwatch",
            region="eu-central-1",
            settings=PollerSettings(**{**SETTINGS.__dict__, **settings}),
            clients=clients,
        )
        poller.start()
        pollers.append(poller)
        return poller, recorder

    yield run
    for poller in pollers:
        poller.stop(timeout=2)


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_child_shard_is_read_only_after_its_parent(streams: FakeStreams, start: Callable[..., Any]) -> None:
    streams.add_shard("parent")
    streams.add_shard("child", parent="parent")
    streams.write("child", "c1")
    streams.write("parent", "p1")
    streams.write("parent", "p2")
    _, recorder = start()
    time.sleep(0.1)
    assert recorder.keys == ["p1", "p2"]  # the parent is still open: the child waits
    streams.close("parent")
    wait_for(lambda: recorder.keys == ["p1", "p2", "c1"])


def test_shards_that_appear_later_are_read_from_their_beginning(
    streams: FakeStreams, start: Callable[..., Any]
) -> None:
    streams.add_shard("first")
    _, recorder = start(starting_position="LATEST")
    streams.close("first")
    streams.add_shard("second", parent="first")
    streams.write("second", "s1")  # may be written before the poller notices the shard
    wait_for(lambda: recorder.keys == ["s1"])


def test_latest_skips_earlier_records_and_closed_shards(streams: FakeStreams, start: Callable[..., Any]) -> None:
    streams.add_shard("old")
    streams.write("old", "old1")
    streams.close("old")
    streams.add_shard("open", parent="old")
    streams.write("open", "before")
    _, recorder = start(starting_position="LATEST")
    streams.write("open", "after")
    wait_for(lambda: recorder.keys == ["after"])


def test_an_expired_iterator_is_replaced_without_losing_or_repeating(
    streams: FakeStreams, start: Callable[..., Any]
) -> None:
    streams.add_shard("s")
    streams.write("s", "a")
    _, recorder = start()
    wait_for(lambda: recorder.keys == ["a"])
    streams.expire_next = 2
    streams.write("s", "b")
    wait_for(lambda: recorder.keys == ["a", "b"])


def test_filtered_records_are_checkpointed_too(streams: FakeStreams, start: Callable[..., Any]) -> None:
    streams.add_shard("s")
    streams.write("s", "a")
    streams.write("s", "x", item_type="cost")
    poller, recorder = start()
    wait_for(lambda: poller.checkpoints()[ALERT_DELIVER.function].get("s") == "102")
    assert recorder.keys == ["a"]


def test_a_stop_leaves_buffered_records_unchecked(streams: FakeStreams, start: Callable[..., Any]) -> None:
    streams.add_shard("s")
    streams.write("s", "a")
    poller, recorder = start(batching_window_seconds=30.0)  # "a" waits in the buffer for company
    wait_for(lambda: streams.reads >= 3)
    poller.stop(timeout=2)
    assert recorder.keys == []
    assert poller.checkpoints()[ALERT_DELIVER.function] == {}


def test_a_full_batch_goes_without_waiting_for_the_window(streams: FakeStreams, start: Callable[..., Any]) -> None:
    streams.add_shard("s")
    for i in range(ALERT_DELIVER.batch_size + 3):
        streams.write("s", f"k{i}")
    _, recorder = start(batching_window_seconds=30.0)
    wait_for(lambda: len(recorder.batches) == 1)
    assert len(recorder.batches[0]) == ALERT_DELIVER.batch_size


def test_start_twice_is_refused(streams: FakeStreams, start: Callable[..., Any]) -> None:
    streams.add_shard("s")
    poller, _ = start()
    with pytest.raises(RuntimeError, match="already running"):
        poller.start()


def test_properties_need_a_started_poller() -> None:
    poller = StreamPoller([ALERT_DELIVER], {ALERT_DELIVER.function: Recorder()}, table="t", region="eu-central-1")
    with pytest.raises(RuntimeError, match="not been started"):
        _ = poller.failure_queue_url


@pytest.mark.parametrize(
    "settings", [{"starting_position": "AT_TIMESTAMP"}, {"poll_interval_seconds": 0}, {"idle_interval_seconds": -1}]
)
def test_settings_are_checked(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        PollerSettings(**settings)


def test_batches_wait_while_a_request_is_answered_and_not_longer(
    streams: FakeStreams, start: Callable[..., Any]
) -> None:
    streams.add_shard("s")
    _, recorder = start()
    with FOREGROUND.serving():
        streams.write("s", "a")
        time.sleep(0.3)
        assert recorder.keys == []  # a person is waiting for the API: the batch waits
    wait_for(lambda: recorder.keys == ["a"], timeout=1.0)  # and goes as soon as the answer is out

"""The local stand-in for Lambda's DynamoDB event source mappings: poll the table's stream, filter, batch, invoke.

One thread per consumer reads every shard of the stream (a child shard only once its parent is finished, as
Lambda does), keeps the records its filter criteria match, gathers them into batches of up to ``batch_size`` or
for up to ``max_batching_window_seconds``, and hands each batch to the handler as Lambda's event. Failures follow
``batching``; whatever is finally given up on goes to a local SQS queue as Lambda's on-failure record.
A shard's checkpoint only moves past records that are done, so a poller stopped at any point and resumed from
``checkpoints()`` loses nothing.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError
from spendwatch.platform.resources import FUNCTIONS
from spendwatch.store.table import StreamConsumer

from spendwatch_local.foreground import FOREGROUND
from spendwatch_local.lambdas.functions import load_handler
from spendwatch_local.lambdas.shapes import LambdaContext
from spendwatch_local.streams.batching import BatchIO, RetryPolicy, run_batch
from spendwatch_local.streams.filters import check_pattern, matches_any
from spendwatch_local.streams.shapes import (
    Discard,
    Outcome,
    StreamArn,
    StreamRecord,
    failure_record,
    handler_error,
    interpret_response,
    is_unchanged,
    lambda_event,
    to_lambda_record,
)

FAILURE_QUEUE_NAME: Final = "spendwatch-stream-failures"
TRIM_HORIZON: Final = "TRIM_HORIZON"
LATEST: Final = "LATEST"
# GetRecords returns at most 1000 records a call.
_MAX_READ: Final = 1000
_BOTO_CONFIG: Final = BotoConfig(connect_timeout=2, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"})
_AWS_ERRORS: Final = (ClientError, BotoCoreError)

Handler = Callable[[dict[str, Any], Any], Any]
Log = Logger | logging.Logger


@dataclass(frozen=True)
class PollerSettings:
    """How eagerly the poller reads; the defaults behave like the deployed event source mappings."""

    # Lambda polls each shard about four times a second; an idle stream is polled less and less often, down to
    # once per ``idle_interval_seconds`` (moto keeps every shard iterator it hands out, so idle polls cost memory).
    poll_interval_seconds: float = 0.25
    idle_interval_seconds: float = 1.0
    # None keeps each consumer's own batching window; a number replaces every window (tests, snappier demos).
    batching_window_seconds: float | None = None
    retry_delay_seconds: float = 1.0
    shard_refresh_seconds: float = 10.0
    starting_position: str = TRIM_HORIZON
    failure_queue: str = FAILURE_QUEUE_NAME
    function_name_prefix: str = "spendwatch-"
    function_timeout_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.starting_position not in (TRIM_HORIZON, LATEST):
            raise ValueError(f"starting_position must be {TRIM_HORIZON} or {LATEST}, not {self.starting_position!r}")
        if min(self.poll_interval_seconds, self.idle_interval_seconds) <= 0:
            raise ValueError("poll intervals must be positive")


@dataclass
class ConsumerStats:
    """What one consumer has done so far (read from other threads for display and tests)."""

    invocations: int = 0
    records_delivered: int = 0
    records_discarded: int = 0
    failures_sent: int = 0


@dataclass
class _Shard:
    """Where one consumer stands in one shard."""

    shard_id: str
    parent_id: str | None
    start: tuple[str, str | None]  # shard iterator type and sequence number for the first GetShardIterator
    iterator: str | None = None
    closed: bool = False  # the shard holds no more records
    buffer: list[StreamRecord] = field(default_factory=list)
    buffered_since: float | None = None  # monotonic time the oldest buffered record was read
    last_read: str | None = None
    checkpoint: str | None = None  # every record up to and including this one is done

    @property
    def finished(self) -> bool:
        """Closed, and nothing read from it is still waiting."""
        return self.closed and not self.buffer


@dataclass(frozen=True)
class StreamClients:
    """What the poller talks to: the streams API, SQS for failure records, and which stream and queue."""

    streams: Any
    sqs: Any
    failure_queue_url: str
    stream: StreamArn


def function_handlers(consumers: Iterable[StreamConsumer]) -> dict[str, Handler]:
    """Each consumer's handler, imported from ``functions/`` as Lambda resolves its handler setting."""
    return {consumer.function: load_handler(FUNCTIONS[consumer.function]) for consumer in consumers}


class StreamPoller:
    """Lambda's event source mappings for the table's stream, run locally: ``start()``, then ``stop()``."""

    def __init__(
        self,
        consumers: Sequence[StreamConsumer],
        handlers: Mapping[str, Handler],
        *,
        table: str,
        region: str,
        endpoint_url: str | None = None,
        settings: PollerSettings | None = None,
        stop: threading.Event | None = None,
        resume_from: Mapping[str, Mapping[str, str]] | None = None,
        logger: Log | None = None,
        clients: StreamClients | None = None,
    ) -> None:
        missing = sorted({consumer.function for consumer in consumers} - set(handlers))
        if missing:
            raise ValueError(f"no handler for stream consumer(s) {missing}")
        for consumer in consumers:
            for pattern in consumer.filter_patterns():
                check_pattern(pattern, consumer.function)
        self.consumers = tuple(consumers)
        self.table = table
        self.region = region
        self.endpoint_url = endpoint_url
        self.settings = settings or PollerSettings()
        self.stop_event = stop or threading.Event()
        self.log: Log = logger or logging.getLogger(__name__)
        self._handlers = dict(handlers)
        self._resume = {name: dict(shards) for name, shards in (resume_from or {}).items()}
        self._workers: list[_ConsumerWorker] = []
        self._threads: list[threading.Thread] = []
        self._clients = clients  # given in tests; otherwise connected in start()

    @property
    def stream_arn(self) -> str:
        """The stream being read (after ``start()``)."""
        return self._started().stream.arn

    @property
    def failure_queue_url(self) -> str:
        """The local SQS queue standing in for the on-failure destination (after ``start()``)."""
        return self._started().failure_queue_url

    def start(self) -> None:
        """Find the stream and its shards, create the failure queue, and start one thread per consumer."""
        if self._threads:
            raise RuntimeError("the stream poller is already running")
        self._clients = clients = self._clients or self._connect()
        shards = list_shards(clients.streams, clients.stream.arn)
        for consumer in self.consumers:
            worker = _ConsumerWorker(self, consumer, clients, shards)
            thread = threading.Thread(target=worker.run, name=f"spendwatch-stream-{consumer.function}", daemon=True)
            self._workers.append(worker)
            self._threads.append(thread)
        for thread in self._threads:
            thread.start()
        self.log.info("stream poller started", extra={"stream": clients.stream.arn, "shards": len(shards)})

    def stop(self, timeout: float = 30.0) -> None:
        """Ask every consumer to stop and wait for the invocation in progress, if any, to return."""
        self.stop_event.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [thread.name for thread in self._threads if thread.is_alive()]
        if alive:
            self.log.warning("stream consumers still busy at stop", extra={"threads": alive})

    def checkpoints(self) -> dict[str, dict[str, str]]:
        """Per consumer and shard, the last sequence number that is done: pass it as ``resume_from`` to go on."""
        return {worker.consumer.function: worker.checkpoints() for worker in self._workers}

    def stats(self) -> dict[str, ConsumerStats]:
        """Per consumer, what it has done so far."""
        return {worker.consumer.function: worker.stats for worker in self._workers}

    def resume_point(self, consumer: str, shard_id: str) -> str | None:
        """Where ``consumer`` left ``shard_id`` in an earlier run, if it was given one."""
        return self._resume.get(consumer, {}).get(shard_id)

    def handler(self, consumer: str) -> Handler:
        """The callable that stands in for ``consumer``'s function."""
        return self._handlers[consumer]

    def _started(self) -> StreamClients:
        if self._clients is None:
            raise RuntimeError("the stream poller has not been started")
        return self._clients

    def _connect(self) -> StreamClients:
        session = boto3.session.Session(region_name=self.region)

        def client(service: str) -> Any:
            return session.client(service, endpoint_url=self.endpoint_url, config=_BOTO_CONFIG)

        table = client("dynamodb").describe_table(TableName=self.table)["Table"]
        if not table.get("LatestStreamArn"):
            raise ValueError(f"table {self.table!r} has no stream")
        sqs = client("sqs")
        queue_url = str(sqs.create_queue(QueueName=self.settings.failure_queue)["QueueUrl"])
        return StreamClients(client("dynamodbstreams"), sqs, queue_url, StreamArn.parse(table["LatestStreamArn"]))


def list_shards(streams: Any, stream_arn: str) -> list[dict[str, Any]]:
    """Every shard of the stream, following ``DescribeStream``'s pages."""
    shards: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"StreamArn": stream_arn}
    while True:
        description = streams.describe_stream(**kwargs)["StreamDescription"]
        shards.extend(description.get("Shards", []))
        last = description.get("LastEvaluatedShardId")
        if not last:
            return shards
        kwargs["ExclusiveStartShardId"] = last


class _ConsumerWorker:
    """One event source mapping: its shards, its batches, its handler."""

    def __init__(
        self,
        poller: StreamPoller,
        consumer: StreamConsumer,
        clients: StreamClients,
        shards: Sequence[Mapping[str, Any]],
    ) -> None:
        self.poller = poller
        self.consumer = consumer
        self.clients = clients
        self.settings = poller.settings
        self.stats = ConsumerStats()
        self.patterns = consumer.filter_patterns()
        self.policy = RetryPolicy.of(consumer, self.settings.retry_delay_seconds)
        window = self.settings.batching_window_seconds
        self.window = float(consumer.max_batching_window_seconds if window is None else window)
        self.shards: dict[str, _Shard] = {}
        self._idle_polls = 0
        self._next_refresh = time.monotonic() + self.settings.shard_refresh_seconds
        self._lock = threading.Lock()  # the shard table is read by checkpoints() from other threads
        for shard in shards:
            self._track(shard, at_start=True)

    # --- the loop --------------------------------------------------------------------------------------------

    def run(self) -> None:
        """Poll until stopped; AWS errors are logged and retried, never fatal."""
        stop = self.poller.stop_event
        while not stop.is_set():
            FOREGROUND.give_way(stop)
            try:
                busy = self._cycle()
            except _AWS_ERRORS as exc:
                self.poller.log.warning(
                    "stream poll failed", extra={"function": self.consumer.function, "error": str(exc)}
                )
                busy = False
            stop.wait(0 if busy else self._idle_delay())

    def _cycle(self) -> bool:
        """One pass over the readable shards; True when anything was read or delivered."""
        self._refresh_if_due()
        busy = False
        for shard in self._readable():
            busy |= self._read(shard)
            if self._batch_ready(shard):
                self._deliver(shard)
                busy = True
            if self.poller.stop_event.is_set():
                break
        self._idle_polls = 0 if busy else self._idle_polls + 1
        return busy

    def _idle_delay(self) -> float:
        delay = min(self.settings.idle_interval_seconds, self.settings.poll_interval_seconds * 2.0**self._idle_polls)
        waiting = [s.buffered_since for s in self.shards.values() if s.buffered_since is not None]
        if waiting:
            # Wake up in time to deliver a batch whose window closes first.
            delay = min(delay, max(0.0, min(waiting) + self.window - time.monotonic()))
        return delay

    # --- shards ----------------------------------------------------------------------------------------------

    def _track(self, shard: Mapping[str, Any], *, at_start: bool) -> None:
        shard_id = str(shard["ShardId"])
        if shard_id in self.shards:
            return
        state = _Shard(shard_id, shard.get("ParentShardId"), self._start_of(shard, at_start))
        with self._lock:
            self.shards[shard_id] = state
        if state.start[0] == LATEST:
            if "EndingSequenceNumber" in shard.get("SequenceNumberRange", {}):
                state.closed = True  # a closed shard has nothing later than "now"
            else:
                # Taken now, so that every record written after start() is seen.
                self._open(state)

    def _start_of(self, shard: Mapping[str, Any], at_start: bool) -> tuple[str, str | None]:
        resumed = self.poller.resume_point(self.consumer.function, str(shard["ShardId"]))
        if resumed is not None:
            return "AFTER_SEQUENCE_NUMBER", resumed
        # Shards that appear later are read from their beginning, or their first records would be skipped.
        return (self.settings.starting_position if at_start else TRIM_HORIZON), None

    def _refresh_if_due(self) -> None:
        if time.monotonic() < self._next_refresh:
            return
        self._next_refresh = time.monotonic() + self.settings.shard_refresh_seconds
        for shard in list_shards(self.clients.streams, self.clients.stream.arn):
            self._track(shard, at_start=False)

    def _readable(self) -> list[_Shard]:
        """Unfinished shards whose parent, if still in the stream, is finished: a key's changes stay in order."""
        return [
            shard
            for shard in self.shards.values()
            if not shard.finished
            and (shard.parent_id is None or shard.parent_id not in self.shards or self.shards[shard.parent_id].finished)
        ]

    def _open(self, shard: _Shard) -> None:
        kind, sequence = shard.start
        if shard.last_read is not None:
            kind, sequence = "AFTER_SEQUENCE_NUMBER", shard.last_read
        kwargs: dict[str, Any] = {"StreamArn": self.clients.stream.arn, "ShardId": shard.shard_id}
        kwargs["ShardIteratorType"] = kind
        if sequence is not None:
            kwargs["SequenceNumber"] = sequence
        shard.iterator = str(self.clients.streams.get_shard_iterator(**kwargs)["ShardIterator"])

    # --- reading ---------------------------------------------------------------------------------------------

    def _read(self, shard: _Shard) -> bool:
        """Read what fits in the next batch; True when records came back."""
        room = min(self.consumer.batch_size - len(shard.buffer), _MAX_READ)
        if shard.closed or room <= 0:
            return False
        if shard.iterator is None:
            self._open(shard)
        try:
            response = self.clients.streams.get_records(ShardIterator=shard.iterator, Limit=room)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ExpiredIteratorException":
                raise
            shard.iterator = None  # iterators live 15 minutes; take a new one where reading stopped
            return False
        shard.iterator = response.get("NextShardIterator")
        shard.closed = shard.iterator is None
        records = response.get("Records", [])
        for raw in records:
            self._accept(shard, raw)
        return bool(records)

    def _accept(self, shard: _Shard, raw: Mapping[str, Any]) -> None:
        record = to_lambda_record(raw, self.clients.stream)
        shard.last_read = record.sequence
        if is_unchanged(raw) or not matches_any(self.patterns, record.event):
            if not shard.buffer:
                self._checkpoint(shard, record.sequence)  # filtered out is done; Lambda checkpoints past it too
            return
        if not shard.buffer:
            shard.buffered_since = time.monotonic()
        shard.buffer.append(record)

    def _batch_ready(self, shard: _Shard) -> bool:
        if not shard.buffer:
            return False
        if len(shard.buffer) >= self.consumer.batch_size or shard.closed:
            return True
        return shard.buffered_since is not None and time.monotonic() - shard.buffered_since >= self.window

    # --- delivering ------------------------------------------------------------------------------------------

    def _deliver(self, shard: _Shard) -> None:
        batch = list(shard.buffer)
        io = BatchIO(
            invoke=self._invoke,
            discard=lambda discard: self._discard(shard, discard),
            checkpoint=lambda record: self._checkpoint(shard, record.sequence),
            wait=self.poller.stop_event.wait,
            now=time.time,
            stopping=self.poller.stop_event.is_set,
        )
        if run_batch(batch, self.policy, io):
            shard.buffer.clear()
            shard.buffered_since = None
            # Records read after the batch's last one were all filtered out: done as well.
            self._checkpoint(shard, shard.last_read)

    def _invoke(self, records: Sequence[StreamRecord]) -> Outcome:
        FOREGROUND.give_way(self.poller.stop_event)
        self.stats.invocations += 1
        self.stats.records_delivered += len(records)
        context = LambdaContext(
            function_name=self._function_name,
            region=self.clients.stream.region,
            timeout_seconds=self.settings.function_timeout_seconds,
        )
        try:
            response = self.poller.handler(self.consumer.function)(lambda_event(records), context)
        except Exception as exc:
            # A raising handler is a failed invocation, as in Lambda; the poller keeps going.
            self.poller.log.exception("stream handler raised", extra=self._log_keys(records))
            return handler_error(exc)
        outcome = interpret_response(response, records)
        if not outcome.succeeded:
            self.poller.log.warning("stream batch failed", extra={**self._log_keys(records), "reason": outcome.reason})
        return outcome

    def _discard(self, shard: _Shard, discard: Discard) -> bool:
        """Send the on-failure record, retrying until the queue takes it or the poller stops."""
        body = json.dumps(
            failure_record(
                discard,
                stream=self.clients.stream,
                shard_id=shard.shard_id,
                function_name=self._function_name,
                now=time.time(),
            )
        )
        while True:
            try:
                self.clients.sqs.send_message(QueueUrl=self.clients.failure_queue_url, MessageBody=body)
            except _AWS_ERRORS as exc:
                self.poller.log.warning("cannot send a stream failure record", extra={"error": str(exc)})
                if self.poller.stop_event.wait(self.settings.idle_interval_seconds):
                    return False
                continue
            self.stats.records_discarded += len(discard.records)
            self.stats.failures_sent += 1
            self.poller.log.warning(
                "stream records sent to the failure queue",
                extra={**self._log_keys(discard.records), "condition": discard.condition},
            )
            return True

    def _checkpoint(self, shard: _Shard, sequence: str | None) -> None:
        if sequence is None:
            return
        shard.checkpoint = sequence
        # Records up to the checkpoint are done: drop them, so a stop leaves only unfinished ones buffered.
        shard.buffer = [record for record in shard.buffer if record.position > int(sequence)]

    def checkpoints(self) -> dict[str, str]:
        """Per shard, the last sequence number that is done."""
        with self._lock:
            return {shard_id: shard.checkpoint for shard_id, shard in self.shards.items() if shard.checkpoint}

    @property
    def _function_name(self) -> str:
        return f"{self.settings.function_name_prefix}{self.consumer.function}"

    def _log_keys(self, records: Sequence[StreamRecord]) -> dict[str, Any]:
        return {
            "function": self.consumer.function,
            "records": len(records),
            "first_sequence": records[0].sequence,
            "last_sequence": records[-1].sequence,
        }

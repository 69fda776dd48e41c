"""What Lambda does with one batch from a stream: invoke, retry, bisect, expire, discard, checkpoint.

Pure logic: the invocation, the on-failure destination, the checkpoint and the clock are passed in, so the rules
are tested without a stream. The rules are those of an event source mapping with ``ReportBatchItemFailures``:
- success (no ``batchItemFailures``): checkpoint the batch;
- a partial response: checkpoint before the lowest failed record and retry from there (a retry);
- an error (or a response Lambda cannot use): with bisect on, split the batch in two and run each half, which
  costs no retry; otherwise retry the whole batch;
- past ``retry_attempts`` retries, or older than ``max_record_age``: tell the on-failure destination, then
  checkpoint past the records, so a poison record never blocks the shard and is never silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from spendwatch.store.table import StreamConsumer

from spendwatch_local.streams.shapes import RECORD_TOO_OLD, RETRIES_EXHAUSTED, Discard, Outcome, StreamRecord


@dataclass(frozen=True)
class RetryPolicy:
    """The failure settings of one event source mapping; -1 means unbounded, as in Lambda."""

    retry_attempts: int = -1
    max_record_age_seconds: float = -1
    bisect_on_error: bool = False
    retry_delay_seconds: float = 0.0

    @classmethod
    def of(cls, consumer: StreamConsumer, retry_delay_seconds: float = 0.0) -> RetryPolicy:
        """The policy the shared consumer definition gives its deployed event source mapping."""
        return cls(
            retry_attempts=consumer.retry_attempts,
            max_record_age_seconds=consumer.max_record_age_seconds,
            bisect_on_error=consumer.bisect_batch_on_error,
            retry_delay_seconds=retry_delay_seconds,
        )


@dataclass(frozen=True)
class BatchIO:
    """How a batch reaches the world: each callable is the poller's, or a fake in tests."""

    invoke: Callable[[Sequence[StreamRecord]], Outcome]
    # Sends to the on-failure destination; False when it could not (the poller is stopping).
    discard: Callable[[Discard], bool]
    # Everything up to and including this record is done.
    checkpoint: Callable[[StreamRecord], None]
    # Waits before a retry; True when the poller is stopping instead.
    wait: Callable[[float], bool]
    now: Callable[[], float]
    stopping: Callable[[], bool] = lambda: False


@dataclass
class _Pending:
    records: list[StreamRecord]
    retries: int = 0
    invocations: int = 0
    last_outcome: Outcome | None = field(default=None)


def run_batch(records: Sequence[StreamRecord], policy: RetryPolicy, io: BatchIO) -> bool:
    """Handle ``records`` until each is done (processed, or discarded to the destination); False if stopped first."""
    # A stack, worked from the end, so that bisected halves run in stream order.
    pending = [_Pending(list(records))]
    while pending:
        batch = pending.pop()
        if io.stopping() or not _expire(batch, policy, io):
            return False
        if not batch.records:
            continue
        outcome = io.invoke(batch.records)
        batch.invocations += 1
        follow_up = _after(batch, outcome, policy, io)
        if follow_up is None:
            return False
        pending.extend(follow_up)
    return True


def split_expired(records: Sequence[StreamRecord], max_age_seconds: float, now: float) -> int:
    """How many leading records are older than ``max_age_seconds`` (records are in creation order)."""
    if max_age_seconds < 0:
        return 0
    oldest_allowed = now - max_age_seconds
    count = 0
    for record in records:
        if record.created_at >= oldest_allowed:
            break
        count += 1
    return count


def bisect(records: Sequence[StreamRecord]) -> tuple[list[StreamRecord], list[StreamRecord]]:
    """The two halves Lambda splits a failed batch into (the first is the larger when the count is odd)."""
    middle = (len(records) + 1) // 2
    return list(records[:middle]), list(records[middle:])


def _expire(batch: _Pending, policy: RetryPolicy, io: BatchIO) -> bool:
    count = split_expired(batch.records, policy.max_record_age_seconds, io.now())
    if not count:
        return True
    expired = batch.records[:count]
    if not io.discard(Discard(expired, RECORD_TOO_OLD, batch.invocations, batch.last_outcome)):
        return False
    io.checkpoint(expired[-1])
    del batch.records[:count]
    return True


def _after(batch: _Pending, outcome: Outcome, policy: RetryPolicy, io: BatchIO) -> list[_Pending] | None:
    """What remains to run after an invocation; None when the poller stopped first."""
    if outcome.succeeded:
        io.checkpoint(batch.records[-1])
        return []
    start = outcome.retry_from or 0
    if start:
        io.checkpoint(batch.records[start - 1])
    rest = batch.records[start:]
    if outcome.invocation_failed and policy.bisect_on_error and len(rest) > 1:
        first, second = bisect(rest)
        # Splitting a batch costs no retry; the halves go back on the stack, the first on top.
        return [
            _Pending(second, batch.retries, batch.invocations, outcome),
            _Pending(first, batch.retries, batch.invocations, outcome),
        ]
    return _retry_or_discard(_Pending(rest, batch.retries + 1, batch.invocations, outcome), policy, io)


def _retry_or_discard(batch: _Pending, policy: RetryPolicy, io: BatchIO) -> list[_Pending] | None:
    if 0 <= policy.retry_attempts < batch.retries:
        if not io.discard(Discard(batch.records, RETRIES_EXHAUSTED, batch.invocations, batch.last_outcome)):
            return None
        io.checkpoint(batch.records[-1])
        return []
    if io.wait(policy.retry_delay_seconds):
        return None
    return [batch]

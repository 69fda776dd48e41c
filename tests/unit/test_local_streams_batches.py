"""Lambda's batch rules for stream consumers: retries, bisection, record age, discards, checkpoints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spendwatch.store.table import ALERT_DELIVER

from spendwatch_local.streams.batching import BatchIO, RetryPolicy, bisect, run_batch, split_expired
from spendwatch_local.streams.shapes import (
    SUCCEEDED,
    Discard,
    Outcome,
    StreamRecord,
    handler_error,
    interpret_response,
)

NOW = 1_800_000_000.0


def batch(*sequences: int, age: float = 0.0) -> list[StreamRecord]:
    return [StreamRecord(event={"n": n}, sequence=str(n), created_at=NOW - age) for n in sequences]


@dataclass
class FakeStream:
    """Invokes a fake function that fails the records in ``poison`` (partially, or by raising)."""

    poison: set[int] = field(default_factory=set)
    raises: bool = False
    heal_after: int | None = None  # the poison records succeed from this invocation on
    stop_after: int | None = None  # the poller stops after this many invocations
    now: float = NOW
    send_fails: bool = False
    invocations: list[list[int]] = field(default_factory=list)
    succeeded: list[int] = field(default_factory=list)
    discards: list[Discard] = field(default_factory=list)
    checkpoints: list[int] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)

    def invoke(self, records: Sequence[StreamRecord]) -> Outcome:
        numbers = [int(r.sequence) for r in records]
        self.invocations.append(numbers)
        healed = self.heal_after is not None and len(self.invocations) > self.heal_after
        failed = [n for n in numbers if n in self.poison and not healed]
        if failed and self.raises:
            return handler_error(RuntimeError("poison"))
        # An ordered consumer: it stops at its first failure and reports it.
        done = numbers if not failed else numbers[: numbers.index(failed[0])]
        self.succeeded.extend(done)
        if not failed:
            return SUCCEEDED
        return interpret_response({"batchItemFailures": [{"itemIdentifier": str(failed[0])}]}, records)

    def discard(self, discard: Discard) -> bool:
        if self.send_fails:
            return False
        self.discards.append(discard)
        return True

    def io(self) -> BatchIO:
        return BatchIO(
            invoke=self.invoke,
            discard=self.discard,
            checkpoint=lambda record: self.checkpoints.append(int(record.sequence)),
            wait=lambda seconds: bool(self.waits.append(seconds)),
            now=lambda: self.now,
            stopping=lambda: self.stop_after is not None and len(self.invocations) >= self.stop_after,
        )

    def discarded(self) -> list[list[int]]:
        return [[int(r.sequence) for r in d.records] for d in self.discards]


POLICY = RetryPolicy(retry_attempts=3, max_record_age_seconds=3600, bisect_on_error=True, retry_delay_seconds=0.5)


def test_policy_comes_from_the_shared_definition() -> None:
    policy = RetryPolicy.of(ALERT_DELIVER, retry_delay_seconds=2)
    assert policy == RetryPolicy(
        retry_attempts=ALERT_DELIVER.retry_attempts,
        max_record_age_seconds=ALERT_DELIVER.max_record_age_seconds,
        bisect_on_error=ALERT_DELIVER.bisect_batch_on_error,
        retry_delay_seconds=2,
    )


def test_success_checkpoints_the_whole_batch_once() -> None:
    stream = FakeStream()
    assert run_batch(batch(1, 2, 3), POLICY, stream.io())
    assert stream.invocations == [[1, 2, 3]]
    assert stream.checkpoints == [3]
    assert stream.discards == []


def test_partial_failure_retries_from_the_failed_record_then_discards_the_rest() -> None:
    # Given a record that always fails in the middle of a batch
    stream = FakeStream(poison={3})
    # When the batch runs
    assert run_batch(batch(1, 2, 3, 4, 5), POLICY, stream.io())
    # Then the records before it are done once, and it is retried from there (Lambda's documented behaviour)
    assert stream.invocations == [[1, 2, 3, 4, 5]] + [[3, 4, 5]] * 3
    assert stream.succeeded == [1, 2]
    assert stream.checkpoints == [2, 5]
    # and what never succeeded is described to the failure destination, nothing is silently dropped
    assert stream.discarded() == [[3, 4, 5]]
    (discard,) = stream.discards
    assert discard.condition == "RetryAttemptsExhausted"
    assert discard.invocations == 4
    assert discard.last_outcome is not None and not discard.last_outcome.function_error
    assert stream.waits == [0.5, 0.5, 0.5]


def test_a_raising_handler_is_bisected_down_to_the_poison_record() -> None:
    stream = FakeStream(poison={3}, raises=True)
    assert run_batch(batch(1, 2, 3, 4, 5), POLICY, stream.io())
    # Splitting costs no retry; the single poison record then gets the retries.
    assert stream.invocations == [[1, 2, 3, 4, 5], [1, 2, 3], [1, 2], [3], [3], [3], [3], [4, 5]]
    assert stream.discarded() == [[3]]
    assert stream.discards[0].last_outcome is not None and stream.discards[0].last_outcome.function_error
    assert sorted(stream.succeeded) == [1, 2, 4, 5]
    assert stream.checkpoints == [2, 3, 5]


def test_without_bisect_a_raising_handler_loses_the_whole_batch_to_the_destination() -> None:
    stream = FakeStream(poison={3}, raises=True)
    policy = RetryPolicy(retry_attempts=1, max_record_age_seconds=-1, bisect_on_error=False)
    assert run_batch(batch(1, 2, 3), policy, stream.io())
    assert stream.invocations == [[1, 2, 3]] * 2
    assert stream.discarded() == [[1, 2, 3]]


def test_a_transient_failure_is_retried_until_it_succeeds() -> None:
    stream = FakeStream(poison={2}, heal_after=2)
    assert run_batch(batch(1, 2, 3), POLICY, stream.io())
    assert stream.invocations == [[1, 2, 3], [2, 3], [2, 3]]
    assert stream.succeeded == [1, 2, 3]
    assert stream.discards == []
    assert stream.checkpoints == [1, 3]


def test_zero_retries_discards_after_the_first_failure() -> None:
    stream = FakeStream(poison={1})
    policy = RetryPolicy(retry_attempts=0, max_record_age_seconds=-1, bisect_on_error=False)
    assert run_batch(batch(1), policy, stream.io())
    assert stream.invocations == [[1]]
    assert stream.discarded() == [[1]]


def test_unbounded_retries_end_when_the_records_are_too_old() -> None:
    stream = FakeStream(poison={1})
    policy = RetryPolicy(retry_attempts=-1, max_record_age_seconds=60, bisect_on_error=False)
    io = stream.io()
    ages = iter(range(0, 1000, 25))
    io = BatchIO(io.invoke, io.discard, io.checkpoint, io.wait, now=lambda: NOW + next(ages), stopping=io.stopping)
    assert run_batch(batch(1), policy, io)
    assert len(stream.invocations) == 3  # at ages 0, 25 and 50 s; at 75 s the record is past 60 s
    (discard,) = stream.discards
    assert discard.condition == "RecordAgeExceeded"
    assert discard.invocations == 3
    assert stream.checkpoints == [1]


def test_records_already_too_old_are_discarded_without_an_invocation() -> None:
    stream = FakeStream()
    records = batch(1, 2, age=7200) + batch(3)
    assert run_batch(records, POLICY, stream.io())
    assert stream.discarded() == [[1, 2]]
    assert stream.discards[0].last_outcome is None
    assert stream.invocations == [[3]]
    assert stream.checkpoints == [2, 3]


def test_stopping_leaves_the_unfinished_records_unchecked() -> None:
    stream = FakeStream(poison={2}, stop_after=1)
    assert not run_batch(batch(1, 2, 3), POLICY, stream.io())
    assert stream.checkpoints == [1]  # 2 and 3 are read again by whoever resumes from the checkpoint
    assert stream.discards == []


def test_a_destination_that_cannot_be_reached_keeps_the_records() -> None:
    stream = FakeStream(poison={1}, send_fails=True)
    policy = RetryPolicy(retry_attempts=0, max_record_age_seconds=-1)
    assert not run_batch(batch(1, 2), policy, stream.io())
    assert stream.checkpoints == []


def test_a_wait_interrupted_by_stop_ends_the_run() -> None:
    stream = FakeStream(poison={1})
    io = stream.io()
    io = BatchIO(io.invoke, io.discard, io.checkpoint, wait=lambda _: True, now=io.now)
    assert not run_batch(batch(1), POLICY, io)
    assert stream.invocations == [[1]]


def test_bisect_and_expiry_helpers() -> None:
    assert [[int(r.sequence) for r in half] for half in bisect(batch(1, 2, 3))] == [[1, 2], [3]]
    assert split_expired(batch(1, 2, age=61) + batch(3), 60, NOW) == 2
    assert split_expired(batch(1, age=10_000), -1, NOW) == 0


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=30),
    poison=st.sets(st.integers(min_value=1, max_value=30), max_size=4),
    raises=st.booleans(),
    bisect_on_error=st.booleans(),
    retries=st.integers(min_value=0, max_value=3),
)
def test_every_record_ends_processed_or_discarded_and_checkpoints_only_advance(
    size: int, poison: set[int], raises: bool, bisect_on_error: bool, retries: int
) -> None:
    stream = FakeStream(poison=poison, raises=raises)
    policy = RetryPolicy(retry_attempts=retries, max_record_age_seconds=-1, bisect_on_error=bisect_on_error)
    numbers = list(range(1, size + 1))
    assert run_batch(batch(*numbers), policy, stream.io())
    discarded = [n for d in stream.discarded() for n in d]
    # Nothing lost: each record succeeded or is named in exactly one failure record.
    assert sorted(set(stream.succeeded) | set(discarded)) == numbers
    assert len(discarded) == len(set(discarded))
    if bisect_on_error or not raises:
        # Records before the first poison record are never given up on.
        assert all(n not in discarded for n in numbers if n < min(poison, default=size + 1))
    # Checkpoints move forward only, and the last one covers the batch.
    assert stream.checkpoints == sorted(stream.checkpoints)
    assert stream.checkpoints[-1] == size
    # A poison record is never reported as processed.
    assert not set(stream.succeeded) & {p for p in poison if p <= size}


@pytest.mark.parametrize("bisect_on_error", [True, False])
def test_an_ordered_consumer_never_processes_a_record_twice(bisect_on_error: bool) -> None:
    # A handler that stops at its first failure sees records after it again, but succeeds on each only once.
    stream = FakeStream(poison={4, 7})
    policy = RetryPolicy(retry_attempts=2, max_record_age_seconds=-1, bisect_on_error=bisect_on_error)
    assert run_batch(batch(*range(1, 11)), policy, stream.io())
    assert stream.succeeded == [1, 2, 3]
    assert stream.discarded() == [[4, 5, 6, 7, 8, 9, 10]]

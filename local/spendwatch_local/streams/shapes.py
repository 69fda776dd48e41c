"""What Lambda hands a stream consumer and what it writes when it gives up: records, events, responses, failures.

The records come from the DynamoDB Streams API; Lambda's event differs from them in a few ways that moto's copy
does not get right (``eventSourceARN``, ``eventVersion``, ``awsRegion``, the creation time as epoch seconds).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

EVENT_VERSION: Final = "1.1"
EVENT_SOURCE: Final = "aws:dynamodb"
FAILURE_RECORD_VERSION: Final = "1.0"
RETRIES_EXHAUSTED: Final = "RetryAttemptsExhausted"
RECORD_TOO_OLD: Final = "RecordAgeExceeded"
_STREAM_RECORD_KEYS: Final = (
    "ApproximateCreationDateTime",
    "Keys",
    "NewImage",
    "OldImage",
    "SequenceNumber",
    "SizeBytes",
    "StreamViewType",
)


@dataclass(frozen=True)
class StreamArn:
    """The parts of a DynamoDB stream ARN: ``arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL``."""

    arn: str
    partition: str
    region: str
    account: str
    table: str

    @classmethod
    def parse(cls, arn: str) -> StreamArn:
        """Split ``arn``; ValueError if it is not a DynamoDB stream ARN."""
        parts = arn.split(":", 5)
        resource = parts[5].split("/") if len(parts) == 6 else []
        if parts[0] != "arn" or len(resource) < 4 or parts[2] != "dynamodb" or resource[2] != "stream":
            raise ValueError(f"not a DynamoDB stream ARN: {arn!r}")
        return cls(arn=arn, partition=parts[1], region=parts[3], account=parts[4], table=resource[1])

    def function_arn(self, function_name: str) -> str:
        """The ARN a function of this name has in the stream's account and region."""
        return f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:{function_name}"


@dataclass(frozen=True)
class StreamRecord:
    """One record in the shape Lambda delivers it, with its sequence number and precise creation time."""

    event: dict[str, Any]
    sequence: str
    created_at: float  # epoch seconds; the event carries whole seconds only

    @property
    def position(self) -> int:
        """The sequence number as a number: sequence numbers order records within a shard."""
        return int(self.sequence)


def to_lambda_record(raw: Mapping[str, Any], stream: StreamArn) -> StreamRecord:
    """A ``GetRecords`` record as Lambda's event carries it."""
    source = raw["dynamodb"]
    created_at = epoch_seconds(source["ApproximateCreationDateTime"])
    dynamodb = {key: source[key] for key in _STREAM_RECORD_KEYS if key in source}
    dynamodb["ApproximateCreationDateTime"] = int(created_at)
    event: dict[str, Any] = {
        "eventID": raw["eventID"],
        "eventName": raw["eventName"],
        "eventVersion": EVENT_VERSION,
        "eventSource": EVENT_SOURCE,
        "awsRegion": stream.region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream.arn,
    }
    if "userIdentity" in raw:  # present on deletions made by TTL
        event["userIdentity"] = raw["userIdentity"]
    return StreamRecord(event=event, sequence=str(source["SequenceNumber"]), created_at=created_at)


def is_unchanged(raw: Mapping[str, Any]) -> bool:
    """A MODIFY that changed nothing: DynamoDB writes no stream record for it, moto does."""
    dynamodb = raw.get("dynamodb", {})
    return (
        raw.get("eventName") == "MODIFY" and "NewImage" in dynamodb and dynamodb["NewImage"] == dynamodb.get("OldImage")
    )


def epoch_seconds(value: Any) -> float:
    """A creation time as boto3 returns it (an aware datetime) or as JSON carries it (a number)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return float(value)


def lambda_event(records: Sequence[StreamRecord]) -> dict[str, Any]:
    """The event one invocation receives."""
    return {"Records": [record.event for record in records]}


@dataclass(frozen=True)
class Outcome:
    """How an invocation ended: ``retry_from`` is the index of the first record to retry, None when all succeeded."""

    retry_from: int | None = None
    function_error: bool = False  # the handler raised (Lambda reports "Unhandled")
    partial: bool = False  # a valid partial batch response: the records before ``retry_from`` are done
    reason: str = ""

    @property
    def succeeded(self) -> bool:
        """True when every record is done."""
        return self.retry_from is None

    @property
    def invocation_failed(self) -> bool:
        """True when nothing in the batch counts as done: an error, or a response Lambda cannot use."""
        return not self.succeeded and not self.partial


SUCCEEDED: Final = Outcome()


def handler_error(exc: BaseException) -> Outcome:
    """The outcome of a handler that raised: the whole batch failed with an unhandled function error."""
    return Outcome(retry_from=0, function_error=True, reason=f"{type(exc).__name__}: {exc}")


def interpret_response(response: Any, records: Sequence[StreamRecord]) -> Outcome:
    """Read a partial batch response the way Lambda does with ``ReportBatchItemFailures`` on."""
    if response is None or (isinstance(response, Mapping) and not response.get("batchItemFailures")):
        return SUCCEEDED
    if not isinstance(response, Mapping) or not isinstance(response["batchItemFailures"], list):
        return Outcome(retry_from=0, reason="the response is not a batch item failure list")
    index = {record.sequence: i for i, record in enumerate(records)}
    failed: list[int] = []
    for item in response["batchItemFailures"]:
        identifier = item.get("itemIdentifier") if isinstance(item, Mapping) else None
        if not isinstance(identifier, str) or identifier not in index:
            # An empty, null, misnamed or unknown identifier fails the whole batch.
            return Outcome(retry_from=0, reason=f"invalid itemIdentifier {identifier!r}")
        failed.append(index[identifier])
    # Lambda checkpoints before the lowest failed sequence number and retries everything from there.
    lowest = min(failed)
    return Outcome(retry_from=lowest, partial=True, reason=f"record {records[lowest].sequence} failed")


def iso_seconds(epoch: float) -> str:
    """``2019-11-14T00:13:19Z``."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(epoch: float) -> str:
    """``2019-11-14T00:13:49.717Z``."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Discard:
    """Records Lambda gave up on, and why: what its on-failure destination is told."""

    records: Sequence[StreamRecord]
    condition: str
    invocations: int
    last_outcome: Outcome | None = None


def failure_record(
    discard: Discard, *, stream: StreamArn, shard_id: str, function_name: str, now: float
) -> dict[str, Any]:
    """The invocation record Lambda sends to a stream's on-failure destination (metadata, not the records)."""
    first, last = discard.records[0], discard.records[-1]
    record: dict[str, Any] = {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": stream.function_arn(function_name),
            "condition": discard.condition,
            "approximateInvokeCount": discard.invocations,
        }
    }
    if discard.last_outcome is not None:
        # Records dropped before any invocation have no response to report.
        record["responseContext"] = response_context(discard.last_outcome)
    record["version"] = FAILURE_RECORD_VERSION
    record["timestamp"] = iso_millis(now)
    record["DDBStreamBatchInfo"] = {
        "shardId": shard_id,
        "startSequenceNumber": first.sequence,
        "endSequenceNumber": last.sequence,
        "approximateArrivalOfFirstRecord": iso_seconds(first.created_at),
        "approximateArrivalOfLastRecord": iso_seconds(last.created_at),
        "batchSize": len(discard.records),
        "streamArn": stream.arn,
    }
    return record


def response_context(outcome: Outcome) -> dict[str, Any]:
    """The last invocation's result as the failure record reports it; a partial response is not an error."""
    context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if outcome.function_error:
        context["functionError"] = "Unhandled"
    return context

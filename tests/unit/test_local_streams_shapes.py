"""Stream records as Lambda delivers them, partial batch responses as Lambda reads them, failure records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from dateutil.tz import tzlocal

from spendwatch_local.streams.shapes import (
    Discard,
    StreamArn,
    StreamRecord,
    failure_record,
    handler_error,
    interpret_response,
    is_unchanged,
    lambda_event,
    to_lambda_record,
)

ARN = "arn:aws:dynamodb:eu-central-1:123456789012:table/spendwatch/stream/2026-11-24T08:49:14.054677"
STREAM = StreamArn.parse(ARN)


def moto_record(sequence: int = 1, event_name: str = "INSERT", **images: Any) -> dict[str, Any]:
    """A record as boto3 returns it from moto's GetRecords (datetime, no eventSourceARN, version 1.0)."""
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": datetime(2026, 11, 24, 8, 49, 14, 98000, tzinfo=tzlocal()),
        "Keys": {"pk": {"S": "a"}, "sk": {"S": "b"}},
        "SequenceNumber": str(sequence),
        "SizeBytes": 294,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
        **images,
    }
    return {
        "awsRegion": "us-east-1",
        "dynamodb": dynamodb,
        "eventID": f"id-{sequence}",
        "eventName": event_name,
        "eventSource": "aws:dynamodb",
        "eventVersion": "1.0",
    }


def records(*sequences: int) -> list[StreamRecord]:
    return [to_lambda_record(moto_record(s, NewImage={"pk": {"S": str(s)}}), STREAM) for s in sequences]


def test_stream_arn_parts() -> None:
    assert (STREAM.partition, STREAM.region, STREAM.account, STREAM.table) == (
        "aws",
        "eu-central-1",
        "123456789012",
        "spendwatch",
    )
    assert STREAM.function_arn("f") == "arn:aws:lambda:eu-central-1:123456789012:function:f"
    with pytest.raises(ValueError, match="not a DynamoDB stream ARN"):
        StreamArn.parse("arn:aws:dynamodb:eu-central-1:123456789012:table/spendwatch")


def test_record_is_lambdas_shape() -> None:
    new = {"pk": {"S": "a"}, "sk": {"S": "b"}, "n": {"N": "1.5"}}
    record = to_lambda_record(moto_record(7, "MODIFY", NewImage=new, OldImage={"pk": {"S": "a"}}), STREAM)
    created = datetime(2026, 11, 24, 8, 49, 14, 98000, tzinfo=tzlocal()).timestamp()
    assert record.event == {
        "eventID": "id-7",
        "eventName": "MODIFY",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-central-1",  # moto says us-east-1 whatever the region
        "dynamodb": {
            "ApproximateCreationDateTime": int(created),
            "Keys": {"pk": {"S": "a"}, "sk": {"S": "b"}},
            "NewImage": new,
            "OldImage": {"pk": {"S": "a"}},
            "SequenceNumber": "7",
            "SizeBytes": 294,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": ARN,
    }
    assert list(record.event) == [
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    ]
    assert record.sequence == "7"
    assert record.created_at == pytest.approx(created)
    json.dumps(lambda_event([record]))  # the event is plain JSON, as a handler receives it


def test_numeric_creation_time_is_accepted() -> None:
    raw = moto_record(1)
    raw["dynamodb"]["ApproximateCreationDateTime"] = 1795000000.5
    record = to_lambda_record(raw, STREAM)
    assert record.event["dynamodb"]["ApproximateCreationDateTime"] == 1795000000
    assert record.created_at == 1795000000.5


def test_ttl_deletions_keep_their_user_identity() -> None:
    raw = moto_record(1, "REMOVE", OldImage={"pk": {"S": "a"}})
    raw["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert to_lambda_record(raw, STREAM).event["userIdentity"] == raw["userIdentity"]


def test_unchanged_modify_is_recognised() -> None:
    image = {"pk": {"S": "a"}, "v": {"N": "1"}}
    assert is_unchanged(moto_record(1, "MODIFY", NewImage=image, OldImage=dict(image)))
    assert not is_unchanged(moto_record(1, "MODIFY", NewImage=image, OldImage={"pk": {"S": "a"}}))
    assert not is_unchanged(moto_record(1, "INSERT", NewImage=image))


@pytest.mark.parametrize("response", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}])
def test_empty_responses_mean_success(response: Any) -> None:
    assert interpret_response(response, records(1, 2)).succeeded


def test_lowest_failed_record_is_where_the_retry_starts() -> None:
    batch = records(10, 11, 12, 13)
    outcome = interpret_response({"batchItemFailures": [{"itemIdentifier": "13"}, {"itemIdentifier": "11"}]}, batch)
    assert (outcome.retry_from, outcome.partial, outcome.function_error) == (1, True, False)
    assert not outcome.invocation_failed


@pytest.mark.parametrize(
    "response",
    [
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"itemidentifier": "10"}]},
        {"batchItemFailures": [{"itemIdentifier": "99"}]},
        {"batchItemFailures": ["10"]},
        {"batchItemFailures": "10"},
        "ok",
    ],
)
def test_unusable_responses_fail_the_whole_batch(response: Any) -> None:
    outcome = interpret_response(response, records(10, 11))
    assert outcome.retry_from == 0
    assert outcome.invocation_failed
    assert not outcome.function_error


def test_raising_is_an_unhandled_function_error() -> None:
    outcome = handler_error(RuntimeError("boom"))
    assert (outcome.retry_from, outcome.function_error, outcome.invocation_failed) == (0, True, True)
    assert outcome.reason == "RuntimeError: boom"


def test_failure_record_is_lambdas_on_failure_shape() -> None:
    batch = records(10, 11, 12)
    now = datetime(2026, 11, 24, 9, 0, 1, 717000, tzinfo=UTC).timestamp()
    discard = Discard(batch[1:], "RetryAttemptsExhausted", invocations=4, last_outcome=handler_error(ValueError()))
    record = failure_record(discard, stream=STREAM, shard_id="shardId-1", function_name="spendwatch-f", now=now)
    assert list(record) == ["requestContext", "responseContext", "version", "timestamp", "DDBStreamBatchInfo"]
    assert record["requestContext"]["requestId"]
    assert {k: v for k, v in record["requestContext"].items() if k != "requestId"} == {
        "functionArn": "arn:aws:lambda:eu-central-1:123456789012:function:spendwatch-f",
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 4,
    }
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert record["version"] == "1.0"
    assert record["timestamp"] == "2026-11-24T09:00:01.717Z"
    arrival = datetime.fromtimestamp(batch[1].created_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert record["DDBStreamBatchInfo"] == {
        "shardId": "shardId-1",
        "startSequenceNumber": "11",
        "endSequenceNumber": "12",
        "approximateArrivalOfFirstRecord": arrival,
        "approximateArrivalOfLastRecord": arrival,
        "batchSize": 2,
        "streamArn": ARN,
    }


def test_partial_failure_is_not_a_function_error() -> None:
    batch = records(10, 11)
    outcome = interpret_response({"batchItemFailures": [{"itemIdentifier": "10"}]}, batch)
    record = failure_record(
        Discard(batch, "RetryAttemptsExhausted", 4, outcome), stream=STREAM, shard_id="s", function_name="f", now=0
    )
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}


def test_records_too_old_before_any_invocation_have_no_response() -> None:
    record = failure_record(
        Discard(records(10), "RecordAgeExceeded", 0), stream=STREAM, shard_id="s", function_name="f", now=0
    )
    assert "responseContext" not in record
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0

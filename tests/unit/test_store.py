"""Store behaviour that depends on DynamoDB's exact answers, pinned with botocore's Stubber."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from spendwatch.store import InvalidTokenError, Store, StoreError
from spendwatch.store.keys import decode_token, encode_token


def _client() -> object:
    return boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def _records(n: int) -> list[dict[str, object]]:
    return [{"pk": "P", "sk": f"{i:04d}", "v": i} for i in range(n)]


def test_unprocessed_items_are_retried_until_written() -> None:
    client = _client()
    store = Store(client, "t", sleep=lambda _s: None)
    with Stubber(client) as stub:
        unprocessed = {"t": [{"PutRequest": {"Item": {"pk": {"S": "P"}, "sk": {"S": "0003"}, "v": {"N": "3"}}}}]}
        stub.add_response("batch_write_item", {"UnprocessedItems": unprocessed})
        stub.add_response("batch_write_item", {"UnprocessedItems": {}}, {"RequestItems": {"t": unprocessed["t"]}})
        assert store.batch_put(_records(5)) == 5
        stub.assert_no_pending_responses()
    assert store.requests == 2


def test_batches_hold_at_most_25_items() -> None:
    client = _client()
    store = Store(client, "t")
    with Stubber(client) as stub:
        for _ in range(3):
            stub.add_response("batch_write_item", {"UnprocessedItems": {}})
        assert store.batch_put(_records(60)) == 60
        stub.assert_no_pending_responses()
    assert store.requests == 3


def test_items_never_written_raise_with_the_count() -> None:
    client = _client()
    store = Store(client, "t", sleep=lambda _s: None)
    item = {"PutRequest": {"Item": {"pk": {"S": "P"}, "sk": {"S": "0000"}, "v": {"N": "0"}}}}
    with Stubber(client) as stub:
        for _ in range(8):
            stub.add_response("batch_write_item", {"UnprocessedItems": {"t": [item]}})
        with pytest.raises(StoreError, match="1 of 1 items unprocessed"):
            store.batch_put(_records(1))


def test_client_errors_become_store_errors() -> None:
    client = _client()
    store = Store(client, "t")
    with Stubber(client) as stub:
        stub.add_client_error("batch_write_item", "ResourceNotFoundException", "no table")
        with pytest.raises(StoreError, match="1 items unwritten"):
            store.batch_put(_records(1))


def test_paging_tokens_round_trip_and_reject_other_partitions() -> None:
    key = {"pk": {"S": "RUN"}, "sk": {"S": "2026#x"}}
    assert decode_token(encode_token(key), "RUN") == key
    with pytest.raises(InvalidTokenError):
        decode_token(encode_token({"pk": {"S": "COST#x#2024-09-01"}, "sk": {"S": "a"}}), "RUN")
    with pytest.raises(InvalidTokenError):
        decode_token("%%%not-base64", "RUN")

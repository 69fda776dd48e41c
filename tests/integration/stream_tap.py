"""Read the table's stream on moto as Lambda's event source mapping would: new records only, filtered per consumer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from spendwatch.platform import clock
from spendwatch.store.table import StreamConsumer

from spendwatch_local.streams.filters import matches_any
from spendwatch_local.streams.shapes import StreamArn, is_unchanged, to_lambda_record


class StreamTap:
    """Every shard's position is kept, and each consumer's place in what was read."""

    def __init__(self, table: str) -> None:
        self.arn = boto3.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
        self.streams = boto3.client("dynamodbstreams")
        self.iterators: dict[str, str] = {}
        for shard in self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]:
            self.iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                StreamArn=self.arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        self.records: list[dict[str, Any]] = []
        self.seen: dict[str, int] = {}

    def _read(self) -> None:
        stream = StreamArn.parse(self.arn)
        for shard, start in list(self.iterators.items()):
            iterator = start
            while True:
                page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                iterator = page["NextShardIterator"]
                raw = [r for r in page["Records"] if not is_unchanged(r)]
                self.records += [to_lambda_record(r, stream).event for r in raw]
                if not page["Records"]:
                    break
            self.iterators[shard] = iterator

    def take(self, consumer: StreamConsumer) -> list[dict[str, Any]]:
        """The records written since this consumer's last take that its filter lets through."""
        self._read()
        start, self.seen[consumer.function] = self.seen.get(consumer.function, 0), len(self.records)
        return [record for record in self.records[start:] if matches_any(consumer.filter_patterns(), record)]


@contextmanager
def tapped(env: dict[str, Any], table: str, now: str) -> Iterator[dict[str, Any]]:
    """The clock pinned at ``now`` and ``env["tap"]`` on the table's stream; the clock let go afterwards."""
    # moto answers DynamoDB Streams in-process only with account-id endpoints off.
    env["monkeypatch"].setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    env["monkeypatch"].setenv(clock.NOW_ENV, now)
    clock.reset()
    env["tap"] = StreamTap(table)
    try:
        yield env
    finally:
        env["monkeypatch"].delenv(clock.NOW_ENV)
        clock.reset()

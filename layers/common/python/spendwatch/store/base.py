"""The table client every item family builds on: calls, batched writes, paged queries, item conversion."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from spendwatch.store.keys import PK, SK, decode_token, encode_token

BATCH_SIZE = 25  # BatchWriteItem's limit
PARALLEL_READS = 8  # partitions read at the same time by one request (a client's pool keeps 10 connections)
MAX_BATCH_ATTEMPTS = 8

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class StoreError(RuntimeError):
    """The table refused or failed a request; the message says what was not done."""


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    """Python values to DynamoDB attribute values (Decimal stays exact; None is dropped)."""
    return {key: _serializer.serialize(value) for key, value in data.items() if value is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values to Python values."""
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def attribute_value(value: Any) -> dict[str, Any]:
    """One Python value as a DynamoDB attribute value."""
    return dict(_serializer.serialize(value))


def conditional(
    kind: str, body: dict[str, Any], condition: str, names: dict[str, str], values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One action of a write transaction (``Put``, ``Update``, ``Delete``...), taken only when ``condition`` holds."""
    action = {
        **body,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {**body.get("ExpressionAttributeNames", {}), **names},
    }
    merged = {**body.get("ExpressionAttributeValues", {}), **(values or {})}
    if merged:
        action["ExpressionAttributeValues"] = merged
    return {kind: action}


def _condition_failed(exc: ClientError) -> bool:
    """Whether a cancelled transaction was cancelled because one of its conditions did not hold."""
    error = exc.response.get("Error", {})
    if error.get("Code") != "TransactionCanceledException":
        return False
    reasons = exc.response.get("CancellationReasons") or []
    codes = {str(reason.get("Code")) for reason in reasons if isinstance(reason, dict)}
    return "ConditionalCheckFailed" in codes or (not reasons and "ConditionalCheckFailed" in str(error.get("Message")))


@dataclass
class Table:
    """Single-table access. ``client`` is a low-level boto3 DynamoDB client; ``requests`` counts calls."""

    client: Any
    table: str
    sleep: Callable[[float], None] = time.sleep
    requests: int = field(default=0, init=False)
    # (month, metric) pairs already in the month's list of usage metrics (written once per store object).
    _noted_metrics: set[tuple[str, str]] = field(default_factory=set, init=False, repr=False)

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        self.requests += 1
        try:
            response: dict[str, Any] = getattr(self.client, operation)(TableName=self.table, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"DynamoDB {operation} on {self.table} failed: {exc}") from exc
        return response

    def _put_new(self, item: dict[str, Any]) -> bool:
        """Put an item unless one with its key exists; False when it existed."""
        return self._put_if(item, "attribute_not_exists(#pk)", {"#pk": PK})

    def _put_if(
        self, item: dict[str, Any], condition: str, names: dict[str, str], values: dict[str, Any] | None = None
    ) -> bool:
        """Put an item when ``condition`` holds for the stored one; False when it did not (nothing written)."""
        self.requests += 1
        kwargs: dict[str, Any] = {"ConditionExpression": condition, "ExpressionAttributeNames": names}
        if values:
            kwargs["ExpressionAttributeValues"] = values
        try:
            self.client.put_item(TableName=self.table, Item=item, **kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise StoreError(f"DynamoDB put_item on {self.table} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"DynamoDB put_item on {self.table} failed: {exc}") from exc
        return True

    def _write_together(self, actions: list[dict[str, Any]]) -> bool:
        """Write ``actions`` (TransactWriteItems' ``Put``, ``Update``, ``Delete`` or ``ConditionCheck``, without the
        table name) in one transaction: all of them or none. False, nothing written, when a condition failed."""
        self.requests += 1
        items = [{kind: {"TableName": self.table, **body}} for action in actions for kind, body in action.items()]
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise StoreError(f"DynamoDB transact_write_items on {self.table} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"DynamoDB transact_write_items on {self.table} failed: {exc}") from exc
        return True

    # -- writes -------------------------------------------------------------------------------------
    def batch_put(self, records: Iterable[dict[str, Any]]) -> int:
        """Put records in batches of 25, retrying unprocessed items with backoff; returns records written."""
        written = 0
        batch: list[dict[str, Any]] = []
        for record in records:
            batch.append(to_item(record))
            if len(batch) == BATCH_SIZE:
                written += self._write_batch(batch)
                batch = []
        if batch:
            written += self._write_batch(batch)
        return written

    def _write_batch(self, items: list[dict[str, Any]]) -> int:
        pending: list[dict[str, Any]] = [{"PutRequest": {"Item": item}} for item in items]
        for attempt in range(MAX_BATCH_ATTEMPTS):
            self.requests += 1
            try:
                response = self.client.batch_write_item(RequestItems={self.table: pending})
            except (ClientError, BotoCoreError) as exc:
                raise StoreError(f"DynamoDB batch write failed with {len(pending)} items unwritten: {exc}") from exc
            pending = response.get("UnprocessedItems", {}).get(self.table, [])
            if not pending:
                return len(items)
            # Full jitter backoff, as AWS recommends for unprocessed items.
            self.sleep(random.uniform(0, min(5.0, 0.05 * 2**attempt)))  # noqa: S311 - jitter, not security
        raise StoreError(f"DynamoDB left {len(pending)} of {len(items)} items unprocessed after retries")

    def put(self, record: dict[str, Any]) -> None:
        """Put one record."""
        self._call("put_item", Item=to_item(record))

    def _get(self, pk: str, sk: str, consistent: bool = False) -> dict[str, Any] | None:
        item = self._call("get_item", Key=to_item({PK: pk, SK: sk}), ConsistentRead=consistent).get("Item")
        return from_item(item) if item else None

    def _set(self, pk: str, sk: str, changes: dict[str, Any]) -> None:
        """Set attributes of an existing item; a dotted path (``delivery.slack``) sets a key of a map attribute."""
        expression, names, values = set_expression(changes)
        self._call(
            "update_item",
            Key=to_item({PK: pk, SK: sk}),
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(#pk)",
            ExpressionAttributeNames={**names, "#pk": PK},
            ExpressionAttributeValues=values,
        )

    def _delete(self, pk: str, sk: str) -> bool:
        response = self._call("delete_item", Key=to_item({PK: pk, SK: sk}), ReturnValues="ALL_OLD")
        return "Attributes" in response

    # -- reads --------------------------------------------------------------------------------------
    def query(
        self,
        pk: str,
        *,
        begins_with: str | None = None,
        between: tuple[str, str] | None = None,
        consistent: bool = False,
        after: dict[str, Any] | None = None,
        attributes: Iterable[str] = (),
    ) -> Iterator[dict[str, Any]]:
        """Every record of a partition (optionally a sort-key prefix or range, or after a key), following pages."""
        condition = "#pk = :pk"
        values: dict[str, Any] = {":pk": {"S": pk}}
        if begins_with:
            condition += " AND begins_with(#sk, :prefix)"
            values[":prefix"] = {"S": begins_with}
        elif between:
            condition += " AND #sk BETWEEN :low AND :high"
            values[":low"], values[":high"] = {"S": between[0]}, {"S": between[1]}
        names = {"#pk": PK, "#sk": SK} if (begins_with or between) else {"#pk": PK}
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ConsistentRead": consistent,
        }
        if after is not None:
            kwargs["ExclusiveStartKey"] = after
        projected = {f"#a{n}": name for n, name in enumerate(attributes)}
        if projected:
            names.update(projected)
            kwargs["ProjectionExpression"] = ", ".join(projected)
        while True:
            page = self._call("query", **kwargs)
            yield from (from_item(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def query_side_by_side(
        self, pks: Sequence[str], *, between: tuple[str, str] | None = None, attributes: Iterable[str] = ()
    ) -> Iterator[list[dict[str, Any]]]:
        """Each partition's records (or those in a sort-key range), in the order of ``pks``: up to
        ``PARALLEL_READS`` partitions are read at the same time (and held), so a year of months costs about two
        round trips rather than twelve."""
        names = tuple(attributes)

        def read(pk: str) -> list[dict[str, Any]]:
            return list(self.query(pk, between=between, attributes=names))

        if len(pks) <= 1:
            yield from (read(pk) for pk in pks)
            return
        from collections import deque
        from concurrent.futures import Future, ThreadPoolExecutor

        waiting = iter(pks)
        with ThreadPoolExecutor(max_workers=min(PARALLEL_READS, len(pks)), thread_name_prefix="store-read") as pool:
            reading: deque[Future[list[dict[str, Any]]]] = deque(
                pool.submit(read, pk) for pk in islice(waiting, PARALLEL_READS)
            )
            while reading:
                records = reading.popleft().result()
                reading.extend(pool.submit(read, pk) for pk in islice(waiting, 1))
                yield records

    def _newest_first(
        self, pk: str, limit: int, next_token: str | None, equals: dict[str, str] | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": PK},
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        for n, (name, value) in enumerate((equals or {}).items()):
            kwargs["ExpressionAttributeNames"][f"#f{n}"] = name
            kwargs["ExpressionAttributeValues"][f":f{n}"] = {"S": value}
        if equals:
            kwargs["FilterExpression"] = " AND ".join(f"#f{n} = :f{n}" for n in range(len(equals)))
        if next_token:
            kwargs["ExclusiveStartKey"] = decode_token(next_token, pk)
        page = self._call("query", **kwargs)
        last = page.get("LastEvaluatedKey")
        return [from_item(item) for item in page.get("Items", [])], encode_token(last) if last else None


def set_expression(changes: dict[str, Any]) -> tuple[str, dict[str, str], dict[str, Any]]:
    """``SET`` of each (possibly dotted: ``delivery.slack``) path in ``changes``, with its names and values."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    parts = []
    for n, (path, value) in enumerate(sorted(changes.items())):
        refs = []
        for m, segment in enumerate(path.split(".")):
            names[f"#n{n}_{m}"] = segment
            refs.append(f"#n{n}_{m}")
        values[f":v{n}"] = attribute_value(value)
        parts.append(f"{'.'.join(refs)} = :v{n}")
    return "SET " + ", ".join(parts), names, values

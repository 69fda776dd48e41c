"""The single-table DynamoDB adapter. Every key and access pattern is documented in docs/data-model.md."""

from __future__ import annotations

import base64
import binascii
import json
import random
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from spendwatch.domain.aggregates import PeriodTotals
from spendwatch.domain.alerts import ALERT_RETENTION, ALERTS_PK, Alert
from spendwatch.domain.reports import REPORT_RETENTION, REPORTS_PK, Report
from spendwatch.domain.runs import CollectionRun
from spendwatch.platform.clock import utc_now
from spendwatch.platform.resources import TABLE_PARTITION_KEY as PK
from spendwatch.platform.resources import TABLE_SORT_KEY as SK
from spendwatch.platform.resources import TABLE_TTL_ATTRIBUTE

if TYPE_CHECKING:
    from spendwatch.domain.models import CostItem, UsageItem

BATCH_SIZE = 25  # BatchWriteItem's limit
MAX_BATCH_ATTEMPTS = 8
RUN_RETENTION = timedelta(days=400)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class StoreError(RuntimeError):
    """The table refused or failed a request; the message says what was not done."""


class InvalidTokenError(ValueError):
    """A paging token that this store did not issue."""


def cost_pk(source: str, day: str) -> str:
    """Partition of one source's cost items for one day."""
    return f"COST#{source}#{day}"


def day_agg_pk(month: str) -> str:
    """Partition of all sources' daily aggregates in one month (``YYYY-MM``)."""
    return f"AGG#D#{month}"


def month_agg_pk(year: str) -> str:
    """Partition of all sources' monthly aggregates in one year (``YYYY``)."""
    return f"AGG#M#{year}"


RUNS_PK = "RUN"


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    """Python values to DynamoDB attribute values (Decimal stays exact; None is dropped)."""
    return {key: _serializer.serialize(value) for key, value in data.items() if value is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values to Python values."""
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def cost_record(item: CostItem) -> dict[str, Any]:
    """The stored form of a cost item."""
    data = item.model_dump(mode="python", exclude={"x_occurrence"})
    for name in ("ChargePeriodStart", "ChargePeriodEnd", "x_collected_at"):
        data[name] = data[name].isoformat()
    data.update({PK: cost_pk(item.x_source, item.day.isoformat()), SK: item.identity, "item_type": "cost"})
    data["day"] = item.day.isoformat()
    return data


def usage_pk(source: str, month: str) -> str:
    """Partition of one source's usage items for one month (``YYYY-MM``); sort keys start with the day."""
    return f"USAGE#{source}#{month}"


def usage_record(item: UsageItem) -> dict[str, Any]:
    """The stored form of a usage item."""
    data = item.model_dump(mode="python")
    data["day"] = item.day.isoformat()
    data["x_collected_at"] = item.x_collected_at.isoformat()
    data.update(
        {PK: usage_pk(item.x_source, data["day"][:7]), SK: f"{data['day']}#{item.identity}", "item_type": "usage"}
    )
    return data


def encode_token(key: dict[str, Any]) -> str:
    """An opaque paging token from a LastEvaluatedKey."""
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def decode_token(token: str, partition: str | Collection[str]) -> dict[str, Any]:
    """Check and decode a paging token; it must point into ``partition`` (or one of several)."""
    allowed = {partition} if isinstance(partition, str) else partition
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidTokenError("next_token is not a token this API issued") from exc
    if not isinstance(key, dict) or set(key) != {PK, SK} or not all(_is_string(key[k]) for k in (PK, SK)):
        raise InvalidTokenError("next_token is not a token this API issued")
    if key[PK]["S"] not in allowed:
        raise InvalidTokenError("next_token belongs to another request")
    return key


def _is_string(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"S"} and isinstance(value["S"], str)


@dataclass
class Store:
    """Single-table access. ``client`` is a low-level boto3 DynamoDB client; ``requests`` counts calls."""

    client: Any
    table: str
    sleep: Callable[[float], None] = time.sleep
    requests: int = field(default=0, init=False)

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        self.requests += 1
        try:
            response: dict[str, Any] = getattr(self.client, operation)(TableName=self.table, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"DynamoDB {operation} on {self.table} failed: {exc}") from exc
        return response

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

    # -- aggregates ---------------------------------------------------------------------------------
    def replace_day_totals(self, source: str, days: dict[str, PeriodTotals]) -> None:
        """Overwrite a source's daily aggregates for the given days and recompute their months.

        Each touched month is read once (before writing) so its total is stored days with this run's
        days substituted; days and months then go out in the same batches.
        """
        now = utc_now().isoformat()
        records = [
            _agg_record(day_agg_pk(day[:7]), "agg_day", source, day, totals, now) for day, totals in days.items()
        ]
        for month in sorted({day[:7] for day in days}):
            month_totals = PeriodTotals()
            for day, totals in days.items():
                if day.startswith(month):
                    month_totals.merge(totals)
            stored_days = self.query(
                day_agg_pk(month), begins_with=f"{source}#", consistent=True, attributes=("period", "totals", "items")
            )
            for record in stored_days:
                if record["period"] not in days:
                    month_totals.merge(PeriodTotals.from_attr(record["totals"], int(record.get("items", 0))))
            month_totals.drop_cells()
            records.append(_agg_record(month_agg_pk(month[:4]), "agg_month", source, month, month_totals, now))
        self.batch_put(records)

    def day_totals(self, start: date, end: date, with_cells: bool = False) -> Iterator[tuple[str, str, PeriodTotals]]:
        """(source, day, totals) for every stored day in [start, end]; one query per month touched.

        The combinations (cells) are read only when asked for: they are most of an aggregate's size.
        """
        first, last = start.isoformat(), end.isoformat()
        attributes = ["source", "period", "totals", *(["cells"] if with_cells else [])]
        for month in _months(start, end):
            for record in self.query(day_agg_pk(month), attributes=attributes):
                if first <= record["period"] <= last:
                    cells = record.get("cells", {}) if with_cells else None
                    yield record["source"], record["period"], PeriodTotals.from_attr(record["totals"], cells=cells)

    def month_totals(self, year: str) -> Iterator[tuple[str, str, PeriodTotals]]:
        """(source, month, totals) for every stored month of a year; one query."""
        for record in self.query(month_agg_pk(year)):
            yield record["source"], record["period"], PeriodTotals.from_attr(record["totals"])

    # -- usage --------------------------------------------------------------------------------------
    def usage(self, source: str, start: date, end: date) -> Iterator[dict[str, Any]]:
        """A source's usage records for days in [start, end]; one query per month touched."""
        low, high = start.isoformat(), f"{end.isoformat()}#~"
        for month in _months(start, end):
            yield from self.query(usage_pk(source, month), between=(low, high))

    def claim_once(self, key: str, fingerprint: str, ttl: timedelta) -> str | None:
        """Record that ``key`` was used for ``fingerprint``; returns the fingerprint it already had, else None."""
        item = to_item(
            {
                PK: f"IDEMPOTENCY#{key}",
                SK: "-",
                "item_type": "idempotency",
                "fingerprint": fingerprint,
                TABLE_TTL_ATTRIBUTE: int((utc_now() + ttl).timestamp()),
            }
        )
        self.requests += 1
        try:
            self.client.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(#pk)",
                ExpressionAttributeNames={"#pk": PK},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise StoreError(f"DynamoDB put_item on {self.table} failed: {exc}") from exc
            existing = self._call("get_item", Key=to_item({PK: f"IDEMPOTENCY#{key}", SK: "-"}), ConsistentRead=True)
            return str(from_item(existing.get("Item", {})).get("fingerprint", ""))
        except BotoCoreError as exc:
            raise StoreError(f"DynamoDB put_item on {self.table} failed: {exc}") from exc
        return None

    # -- alerts -------------------------------------------------------------------------------------
    def put_alert_once(self, alert: Alert) -> bool:
        """Write a new alert unless one with its id exists; True when this call created it."""
        record = alert.model_dump(mode="json")
        record.update({PK: ALERTS_PK, SK: alert.id, "item_type": "alert"})
        record[TABLE_TTL_ATTRIBUTE] = int((alert.created_at + ALERT_RETENTION).timestamp())
        self.requests += 1
        try:
            self.client.put_item(
                TableName=self.table,
                Item=to_item(_exact(record, alert)),
                ConditionExpression="attribute_not_exists(#pk)",
                ExpressionAttributeNames={"#pk": PK},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise StoreError(f"DynamoDB put_item on {self.table} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"DynamoDB put_item on {self.table} failed: {exc}") from exc
        return True

    def get_alert(self, alert_id: str) -> Alert | None:
        """One alert by id, read consistently."""
        response = self._call("get_item", Key=to_item({PK: ALERTS_PK, SK: alert_id}), ConsistentRead=True)
        item = response.get("Item")
        return _alert(from_item(item)) if item else None

    def alerts(self) -> list[Alert]:
        """Every stored alert (alerts are few: one per rule, scope, period and level)."""
        return [_alert(record) for record in self.query(ALERTS_PK)]

    def update_alert(self, alert_id: str, changes: dict[str, Any]) -> None:
        """Set top-level attributes of an existing alert (status, snooze, delivery.<channel>...)."""
        names: dict[str, str] = {"#pk": PK}
        values: dict[str, Any] = {}
        parts = []
        for n, (path, value) in enumerate(sorted(changes.items())):
            segments = path.split(".")
            refs = []
            for m, segment in enumerate(segments):
                names[f"#n{n}_{m}"] = segment
                refs.append(f"#n{n}_{m}")
            values[f":v{n}"] = _serializer.serialize(value)
            parts.append(f"{'.'.join(refs)} = :v{n}")
        self._call(
            "update_item",
            Key=to_item({PK: ALERTS_PK, SK: alert_id}),
            UpdateExpression="SET " + ", ".join(parts),
            ConditionExpression="attribute_exists(#pk)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    # -- budgets ------------------------------------------------------------------------------------
    def budgets(self) -> list[dict[str, Any]]:
        """Every budget created over the API (budgets are few)."""
        return list(self.query("BUDGET"))

    def delete(self, pk: str, sk: str) -> bool:
        """Delete one item; False when there was none."""
        response = self._call("delete_item", Key=to_item({PK: pk, SK: sk}), ReturnValues="ALL_OLD")
        return "Attributes" in response

    # -- collection runs ----------------------------------------------------------------------------
    def put_run(self, run: CollectionRun) -> None:
        """Create or update the record of a collection run."""
        data = run.model_dump(mode="json")
        data.update(
            {
                PK: RUNS_PK,
                SK: f"{data['started_at']}#{run.run_id}",
                "item_type": "run",
                TABLE_TTL_ATTRIBUTE: int((run.started_at + RUN_RETENTION).timestamp()),
            }
        )
        self.put(data)

    def list_runs(self, limit: int, next_token: str | None = None) -> tuple[list[CollectionRun], str | None]:
        """Collection runs, newest first, one page at a time."""
        records, token = self._newest_first(RUNS_PK, limit, next_token)
        return [CollectionRun.model_validate(_strip_keys(r)) for r in records], token

    # -- reports ------------------------------------------------------------------------------------
    def put_report(self, report: Report) -> None:
        """Store a report (a report re-sent for the same period and kind replaces the earlier one)."""
        data = report.model_dump(mode="python")
        data["generated_at"] = report.generated_at.isoformat()
        data["start"], data["end"] = report.start.isoformat(), report.end.isoformat()
        expires = datetime.combine(report.end, datetime.min.time(), UTC) + REPORT_RETENTION
        data.update(
            {PK: REPORTS_PK, SK: report.id, "item_type": "report", TABLE_TTL_ATTRIBUTE: int(expires.timestamp())}
        )
        self.put(data)

    def list_reports(
        self, limit: int, next_token: str | None = None, kind: str | None = None
    ) -> tuple[list[Report], str | None]:
        """Reports, newest period first, one page at a time (a page may be short when ``kind`` filters)."""
        records, token = self._newest_first(REPORTS_PK, limit, next_token, {"kind": kind} if kind else None)
        return [Report.model_validate(_strip_keys(r)) for r in records], token

    def get_report(self, report_id: str) -> Report | None:
        """One report by id."""
        item = self._call("get_item", Key=to_item({PK: REPORTS_PK, SK: report_id})).get("Item")
        return Report.model_validate(_strip_keys(from_item(item))) if item else None

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


def _agg_record(pk: str, item_type: str, source: str, period: str, totals: PeriodTotals, now: str) -> dict[str, Any]:
    return {
        PK: pk,
        SK: f"{source}#{period}",
        "item_type": item_type,
        "source": source,
        "period": period,
        "items": totals.items,
        "totals": totals.to_attr(),
        "cells": totals.cells_attr() or None,
        "updated_at": now,
    }


def _exact(record: dict[str, Any], alert: Alert) -> dict[str, Any]:
    """Money back to Decimal after a JSON dump (DynamoDB numbers stay exact)."""
    for name in ("actual", "expected", "threshold"):
        value = getattr(alert, name)
        if value is not None:
            record[name] = value
    record["drivers"] = [driver.model_dump(mode="python") for driver in alert.drivers]
    return record


def _alert(record: dict[str, Any]) -> Alert:
    return Alert.model_validate(_strip_keys(record))


def _strip_keys(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in (PK, SK, "item_type", TABLE_TTL_ATTRIBUTE)}


def _months(start: date, end: date) -> list[str]:
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months

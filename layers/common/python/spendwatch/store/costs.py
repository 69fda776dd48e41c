"""Charges (cost items, one partition per source and day) and usage (one partition per metric and month)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import date, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from spendwatch.domain.aggregates import months_between
from spendwatch.platform.clock import utc_now
from spendwatch.store.base import Table, from_item, to_item
from spendwatch.store.keys import (
    COST,
    IDEMPOTENCY,
    ITEM_TYPE,
    PK,
    SK,
    TTL,
    USAGE,
    USAGE_METRICS,
    USAGE_METRICS_PK,
    cost_pk,
    decode_token,
    encode_token,
    idempotency_pk,
    strip_keys,
    usage_pk,
)

if TYPE_CHECKING:
    from spendwatch.domain.models import CostItem, UsageItem


def cost_record(item: CostItem) -> dict[str, Any]:
    """The stored form of a cost item."""
    data = item.model_dump(mode="python", exclude={"x_occurrence"})
    for name in ("ChargePeriodStart", "ChargePeriodEnd", "x_collected_at"):
        data[name] = data[name].isoformat()
    data.update({PK: cost_pk(item.x_source, item.day.isoformat()), SK: item.identity, ITEM_TYPE: COST})
    data["day"] = item.day.isoformat()
    return data


def usage_record(item: UsageItem) -> dict[str, Any]:
    """The stored form of a usage item."""
    data = item.model_dump(mode="python")
    data["day"] = item.day.isoformat()
    data["x_collected_at"] = item.x_collected_at.isoformat()
    data.update({PK: usage_pk(item.metric, data["day"][:7]), SK: f"{data['day']}#{item.identity}", ITEM_TYPE: USAGE})
    return data


def usage_image(item: UsageItem) -> dict[str, Any]:
    """:func:`usage_record` in DynamoDB's wire shape, as a stream record's ``NewImage`` carries it."""
    return to_item(usage_record(item))


def usage_fields(record: dict[str, Any]) -> dict[str, Any]:
    """A stored usage record's fields as the usage model takes them (the stored day is the model's day)."""
    from spendwatch.domain.models import UsageItem

    return {name: value for name, value in record.items() if name in UsageItem.model_fields}


class ChargeStore(Table):
    """Charges and usage as stored, without the table's own attributes."""

    def charges(self, source: str, day: str) -> Iterator[dict[str, Any]]:
        """Every stored charge of one source on one day (``YYYY-MM-DD``)."""
        return (strip_keys(record) for record in self.query(cost_pk(source, day)))

    def charges_in_order(
        self, partitions: Sequence[tuple[str, str]], next_token: str | None = None
    ) -> Iterator[tuple[dict[str, Any], Callable[[], str]]]:
        """The charges of (source, day) partitions in the given order, each with how to get the token that resumes
        after it (encoded only when called: a page needs one token, not one per charge).

        ``next_token`` (a token this method returned) resumes the walk; one from elsewhere raises
        :class:`~spendwatch.store.keys.InvalidTokenError`.
        """
        pks = [cost_pk(source, day) for source, day in partitions]
        after = decode_token(next_token, set(pks)) if next_token else None
        if after is not None:
            pks = pks[pks.index(after[PK]["S"]) :]
        for pk in pks:
            start = after if after is not None and after[PK]["S"] == pk else None
            for record in self.query(pk, after=start):
                resume = {PK: {"S": record[PK]}, SK: {"S": record[SK]}}
                yield strip_keys(record), partial(encode_token, resume)

    def usage_metrics(self, start: date, end: date) -> set[str]:
        """Every metric with usage in the months [start, end] touches: one query."""
        first, last = start.isoformat()[:7], end.isoformat()[:7]
        found: set[str] = set()
        for record in self.query(USAGE_METRICS_PK, between=(first, last)):
            found |= set(record.get("metrics", ()))
        return found

    def usage(self, start: date, end: date, metrics: Collection[str] | None = None) -> Iterator[dict[str, Any]]:
        """Usage records of days [start, end], of ``metrics`` (default: every metric with usage then), every
        source's: one query per metric and month."""
        wanted = sorted(self.usage_metrics(start, end) if metrics is None else metrics)
        low, high = start.isoformat(), f"{end.isoformat()}#~"
        pks = [usage_pk(metric, month) for month in months_between(start, end) for metric in wanted]
        for records in self.query_side_by_side(pks, between=(low, high)):
            yield from (strip_keys(r) for r in records)

    def usage_items(self, start: date, end: date, metrics: Collection[str]) -> Iterator[UsageItem]:
        """The usage items of ``metrics`` on days [start, end], every source's: one query per metric and month."""
        from spendwatch.domain.models import UsageItem

        for record in self.usage(start, end, metrics):
            yield UsageItem.model_validate(usage_fields(record))

    def put_usage_records(self, records: list[dict[str, Any]]) -> int:
        """Write stored-form usage records in batches, and note their metrics in each month's metric list."""
        written = self.batch_put(records)
        months: dict[str, set[str]] = {}
        for record in records:
            months.setdefault(record["day"][:7], set()).add(record["metric"])
        for month, metrics in months.items():
            fresh = {metric for metric in metrics if (month, metric) not in self._noted_metrics}
            if fresh:
                self._call(
                    "update_item",
                    Key=to_item({PK: USAGE_METRICS_PK, SK: month}),
                    UpdateExpression="SET #type = :type ADD #metrics :metrics",
                    ExpressionAttributeNames={"#type": ITEM_TYPE, "#metrics": "metrics"},
                    ExpressionAttributeValues={":type": {"S": USAGE_METRICS}, ":metrics": {"SS": sorted(fresh)}},
                )
                self._noted_metrics |= {(month, metric) for metric in fresh}
        return written

    def put_charges(self, items: Iterable[CostItem]) -> int:
        """Write cost items as they are (their daily totals are the caller's: ``replace_day_totals``)."""
        return self.batch_put(cost_record(item) for item in items)

    def migrate_legacy_usage(self) -> int:
        """Move usage items kept per source and month (the layout before usage was kept per metric) into their
        metric's partitions, and return how many moved. Each is written before its old copy is deleted, so an
        interrupted run loses nothing, and running it again moves only what is left."""
        from spendwatch.domain.models import UsageItem

        moved = 0
        scan: dict[str, Any] = {
            "FilterExpression": "#type = :usage",
            "ExpressionAttributeNames": {"#type": ITEM_TYPE},
            "ExpressionAttributeValues": {":usage": {"S": USAGE}},
        }
        while True:
            page = self._call("scan", **scan)
            legacy = [r for r in map(from_item, page.get("Items", [])) if r[PK] != usage_pk(r["metric"], r["day"][:7])]
            if legacy:
                items = [UsageItem.model_validate(usage_fields(strip_keys(r))) for r in legacy]
                self.put_usage_records([usage_record(item) for item in items])
                for record in legacy:
                    self._delete(record[PK], record[SK])
                moved += len(legacy)
            if "LastEvaluatedKey" not in page:
                return moved
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def put_usage(self, items: Iterable[UsageItem]) -> int:
        """Store usage items in batches; the same quantity re-collected overwrites itself."""
        return self.put_usage_records([usage_record(item) for item in items])

    def claim_once(self, key: str, fingerprint: str, ttl: timedelta) -> str | None:
        """Record that ``key`` was used for ``fingerprint``; returns the fingerprint it already had, else None."""
        record = {
            PK: idempotency_pk(key),
            SK: "-",
            ITEM_TYPE: IDEMPOTENCY,
            "fingerprint": fingerprint,
            TTL: int((utc_now() + ttl).timestamp()),
        }
        if self._put_new(to_item(record)):
            return None
        existing = self._get(idempotency_pk(key), "-", consistent=True) or {}
        return str(existing.get("fingerprint", ""))

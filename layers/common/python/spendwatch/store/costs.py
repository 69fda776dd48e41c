"""Charges (cost items, one partition per source and day) and usage (one partition per source and month)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from spendwatch.domain.aggregates import months_between
from spendwatch.platform.clock import utc_now
from spendwatch.store.base import Table, to_item
from spendwatch.store.keys import (
    COST,
    IDEMPOTENCY,
    ITEM_TYPE,
    PK,
    SK,
    TTL,
    USAGE,
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
    data.update({PK: usage_pk(item.x_source, data["day"][:7]), SK: f"{data['day']}#{item.identity}", ITEM_TYPE: USAGE})
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

    def usage(self, source: str, start: date, end: date) -> Iterator[dict[str, Any]]:
        """A source's usage records for days in [start, end]; one query per month touched."""
        low, high = start.isoformat(), f"{end.isoformat()}#~"
        for month in months_between(start, end):
            yield from (strip_keys(r) for r in self.query(usage_pk(source, month), between=(low, high)))

    def usage_items(self, sources: Iterable[str], month: str) -> Iterator[UsageItem]:
        """Every usage item of the given sources in one month (``YYYY-MM``): one query per source."""
        from spendwatch.domain.models import UsageItem

        for source in sources:
            for record in self.query(usage_pk(source, month)):
                yield UsageItem.model_validate(usage_fields(strip_keys(record)))

    def put_usage(self, items: Iterable[UsageItem]) -> int:
        """Store usage items in batches; the same quantity re-collected overwrites itself."""
        return self.batch_put(usage_record(item) for item in items)

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

"""Daily and monthly aggregates: one item per source and day (partitioned by month) and per source and month."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from spendwatch.domain.aggregates import PeriodTotals, month_total, months_between
from spendwatch.platform.clock import utc_now
from spendwatch.store.base import Table, to_item
from spendwatch.store.keys import DAY_AGGREGATE, ITEM_TYPE, MONTH_AGGREGATE, PK, SK, day_agg_pk, month_agg_pk


def aggregate_record(
    source: str,
    period: str,
    totals: PeriodTotals,
    now: str,
    fingerprint: str | None = None,
    days: dict[str, dict[str, Decimal]] | None = None,
) -> dict[str, Any]:
    """The stored form of a day's (``YYYY-MM-DD``) or a month's (``YYYY-MM``) totals of one source.

    ``fingerprint`` (priced days) is a digest of the charges behind the totals: the same charges, the same digest.
    ``days`` (months) is each of the month's days' total per currency: a year of daily totals in two reads.
    """
    daily = len(period) == 10
    return {
        PK: day_agg_pk(period[:7]) if daily else month_agg_pk(period[:4]),
        SK: f"{source}#{period}",
        ITEM_TYPE: DAY_AGGREGATE if daily else MONTH_AGGREGATE,
        "source": source,
        "period": period,
        "items": totals.items,
        "totals": totals.to_attr(),
        "cells": totals.cells_attr() or None,
        "updated_at": now,
        "fingerprint": fingerprint,
        "days": days,
    }


def aggregate_image(source: str, period: str, totals: PeriodTotals, now: str) -> dict[str, Any]:
    """:func:`aggregate_record` in DynamoDB's wire shape, as a stream record's ``NewImage`` carries it."""
    return to_item(aggregate_record(source, period, totals, now))


def day_sums(
    month: str, new_days: dict[str, PeriodTotals], stored_days: list[tuple[str, PeriodTotals]]
) -> dict[str, dict[str, Decimal]]:
    """Each day of ``month``'s total per currency: the stored days with the newly collected days substituted."""
    merged = dict(stored_days)
    merged.update((day, totals) for day, totals in new_days.items() if day.startswith(month))
    return {day: {c: t.total for c, t in totals.currencies.items()} for day, totals in sorted(merged.items())}


class AggregateStore(Table):
    """Reads and writes of the aggregates."""

    def replace_day_totals(
        self, source: str, days: dict[str, PeriodTotals], fingerprints: dict[str, str] | None = None
    ) -> None:
        """Overwrite a source's daily aggregates for the given days and recompute their months.

        Each touched month is read once (before writing) so its total is stored days with this run's
        days substituted; days and months then go out in the same batches.
        """
        now = utc_now().isoformat()
        marks = fingerprints or {}
        records = [aggregate_record(source, day, totals, now, marks.get(day)) for day, totals in days.items()]
        for month in sorted({day[:7] for day in days}):
            stored = [
                (record["period"], PeriodTotals.from_attr(record["totals"], int(record.get("items", 0))))
                for record in self.query(
                    day_agg_pk(month),
                    begins_with=f"{source}#",
                    consistent=True,
                    attributes=("period", "totals", "items"),
                )
            ]
            total = month_total(month, days, stored)
            records.append(aggregate_record(source, month, total, now, days=day_sums(month, days, stored)))
        self.batch_put(records)

    def day_totals(self, start: date, end: date, with_cells: bool = False) -> Iterator[tuple[str, str, PeriodTotals]]:
        """(source, day, totals) for every stored day in [start, end]; one query per month touched.

        The combinations (cells) are read only when asked for: they are most of an aggregate's size, so those
        months are read one after another; without them, side by side.
        """
        return self._days_of(months_between(start, end), start, end, with_cells)

    def _days_of(
        self, months: list[str], start: date, end: date, with_cells: bool
    ) -> Iterator[tuple[str, str, PeriodTotals]]:
        """``day_totals`` of the given months' days that fall in [start, end]."""
        first, last = start.isoformat(), end.isoformat()
        attributes = ["source", "period", "totals", *(["cells"] if with_cells else [])]
        pks = [day_agg_pk(m) for m in months]
        partitions: Iterable[Iterable[dict[str, Any]]] = (
            (self.query(pk, attributes=attributes) for pk in pks)
            if with_cells
            else self.query_side_by_side(pks, attributes=attributes)
        )
        for records in partitions:
            for record in records:
                if first <= record["period"] <= last:
                    cells = record.get("cells", {}) if with_cells else None
                    yield record["source"], record["period"], PeriodTotals.from_attr(record["totals"], cells=cells)

    def day_sums(self, start: date, end: date) -> Iterator[tuple[str, str, dict[str, Decimal]]]:
        """(source, day, total per currency) for every stored day in [start, end]: what ``day_totals`` gives
        without the breakdowns, read from the monthly aggregates (one query per year touched).

        Months whose aggregates were written before they kept their days are read from their daily aggregates
        (side by side).
        """
        first, last = start.isoformat(), end.isoformat()
        kept = self._month_days(start, end)
        for sources in kept.values():
            for source, by_day in sources or ():
                for day in sorted(d for d in by_day if first <= d <= last):
                    yield source, day, {currency: Decimal(amount) for currency, amount in by_day[day].items()}
        without_days = [month for month, sources in kept.items() if sources is None]
        for source, day, totals in self._days_of(without_days, start, end, with_cells=False):
            yield source, day, {currency: t.total for currency, t in totals.currencies.items()}

    def _month_days(self, start: date, end: date) -> dict[str, list[tuple[str, dict[str, Any]]] | None]:
        """Each month of [start, end]: (source, its days) from the monthly aggregates, or None when an aggregate
        of the month has no days kept."""
        months: dict[str, list[tuple[str, dict[str, Any]]] | None] = {m: [] for m in months_between(start, end)}
        years = sorted({month[:4] for month in months})
        for records in self.query_side_by_side(
            [month_agg_pk(y) for y in years], attributes=("source", "period", "days")
        ):
            for record in records:
                month = str(record["period"])
                if month not in months:
                    continue
                sources = months[month]
                if "days" not in record:
                    months[month] = None
                elif sources is not None:
                    sources.append((str(record["source"]), record["days"]))
        return months

    def day_fingerprints(self, month: str, prefix: str) -> dict[tuple[str, str], str | None]:
        """(source, day) -> fingerprint of every daily aggregate in ``month`` whose source starts with ``prefix``."""
        found: dict[tuple[str, str], str | None] = {}
        for record in self.query(day_agg_pk(month), begins_with=prefix, attributes=("source", "period", "fingerprint")):
            found[(str(record["source"]), str(record["period"]))] = record.get("fingerprint")
        return found

    def month_totals(self, year: str) -> Iterator[tuple[str, str, PeriodTotals]]:
        """(source, month, totals) for every stored month of a year; one query."""
        for record in self.query(month_agg_pk(year)):
            yield record["source"], record["period"], PeriodTotals.from_attr(record["totals"])

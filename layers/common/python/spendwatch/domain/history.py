"""Cost history from the pre-aggregated totals: group, bucket by day or month, stay exact."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from spendwatch.domain.aggregates import (
    DIMENSIONS,
    NONE_KEY,
    TAG_PREFIX,
    PeriodTotals,
    Totals,
    cell_values,
    dimension_values,
    matches,
)
from spendwatch.domain.money import ZERO
from spendwatch.domain.ports import Charges

Granularity = Literal["day", "month"]
ALL = "all"
MAX_YEARS = 3
# Filtered questions about days whose combinations were not kept read those days' charges: one query per
# source and day. Past this many the request is refused rather than left to time out.
MAX_CHARGE_DAYS = 400
_TAG_KEY = re.compile(r"^tag:.{1,128}$", re.DOTALL)


class QueryError(ValueError):
    """A history request that cannot be answered as asked (bad range, unknown grouping)."""


def check_group_by(group_by: str | None) -> str | None:
    """Accept a known dimension or ``tag:KEY``; QueryError otherwise."""
    if group_by is None or group_by in DIMENSIONS or _TAG_KEY.match(group_by):
        return group_by
    allowed = ", ".join([*DIMENSIONS, "tag:KEY"])
    raise QueryError(f"group_by must be one of {allowed}")


def check_range(start: date, end: date) -> None:
    """``end`` is inclusive, not before ``start``, and less than three years after it."""
    if end < start:
        raise QueryError("end is before start")
    if start.year + MAX_YEARS > date.max.year:
        return  # no date is three years after start
    try:
        limit = start.replace(year=start.year + MAX_YEARS)
    except ValueError:  # 29 February
        limit = start.replace(year=start.year + MAX_YEARS, day=28)
    if end >= limit:
        raise QueryError(f"the range is longer than {MAX_YEARS} years; ask for less")


@dataclass
class Group:
    """One group's total and its amount per period."""

    key: str
    total: Decimal = ZERO
    points: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class History:
    """The answer to a history question, exact amounts (formatting happens at the API edge)."""

    start: date
    end: date
    granularity: Granularity
    group_by: str | None
    currency: str
    periods: list[str]
    total: Decimal
    groups: list[Group]
    other_currencies: list[str]


def periods(start: date, end: date, granularity: Granularity) -> list[str]:
    """Every period label from start to end inclusive (``YYYY-MM-DD`` or ``YYYY-MM``)."""
    labels: list[str] = []
    day = start
    while day <= end:
        label = day.isoformat() if granularity == "day" else day.isoformat()[:7]
        if not labels or labels[-1] != label:
            labels.append(label)
        day += timedelta(days=1)
    return labels


def _month_bounds(month: str) -> tuple[date, date]:
    first = date.fromisoformat(f"{month}-01")
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def _period_totals(store: Charges, start: date, end: date, granularity: Granularity) -> dict[str, PeriodTotals]:
    """Totals per period label, all sources merged; whole months come from monthly aggregates."""
    result: dict[str, PeriodTotals] = defaultdict(PeriodTotals)
    whole_months: set[str] = set()
    if granularity == "month":
        for month in periods(start, end, "month"):
            first, last = _month_bounds(month)
            if start <= first and last <= end:
                whole_months.add(month)
        for year in sorted({m[:4] for m in whole_months}):
            for _source, month, totals in store.month_totals(year):
                if month in whole_months:
                    result[month].merge(totals)
    daily = [(s, e) for s, e in _daily_ranges(start, end, whole_months)]
    for first, last in daily:
        for _source, day, totals in store.day_totals(first, last):
            result[day if granularity == "day" else day[:7]].merge(totals)
    return result


def _daily_ranges(start: date, end: date, skip_months: set[str]) -> list[tuple[date, date]]:
    """Date ranges not covered by whole-month aggregates (at most the two edge months)."""
    if not skip_months:
        return [(start, end)]
    ranges = []
    first_whole = _month_bounds(min(skip_months))[0]
    last_whole = _month_bounds(max(skip_months))[1]
    if start < first_whole:
        ranges.append((start, first_whole - timedelta(days=1)))
    if end > last_whole:
        ranges.append((last_whole + timedelta(days=1), end))
    return ranges


def history(
    store: Charges,
    start: date,
    end: date,
    granularity: Granularity,
    group_by: str | None,
    currency: str,
    where: Mapping[str, Any] | None = None,
) -> History:
    """Cost per group and period in ``currency`` over [start, end], only what falls in ``where`` if given."""
    check_range(start, end)
    check_group_by(group_by)
    labels = periods(start, end, granularity)
    if where:
        amounts, others = _filtered_amounts(store, start, end, granularity, group_by, currency, where)
    else:
        amounts, others = _amounts(store, start, end, granularity, group_by, currency)
    groups: dict[str, Group] = {}
    grand = ZERO
    for label, by_key in sorted(amounts.items()):
        for key, amount in by_key.items():
            grand += amount
            group = groups.setdefault(key, Group(key))
            group.total += amount
            group.points[label] = group.points.get(label, ZERO) + amount
    ordered = sorted(groups.values(), key=lambda g: (-g.total, g.key))
    return History(start, end, granularity, group_by, currency, labels, grand, ordered, sorted(others))


Amounts = dict[str, dict[str, Decimal]]  # period label -> group key -> amount


def _add(amounts: Amounts, label: str, key: str, amount: Decimal) -> None:
    by_key = amounts.setdefault(label, {})
    by_key[key] = by_key.get(key, ZERO) + amount


def _amounts(
    store: Charges, start: date, end: date, granularity: Granularity, group_by: str | None, currency: str
) -> tuple[Amounts, set[str]]:
    amounts: Amounts = {}
    others: set[str] = set()
    if group_by is None and granularity == "day":
        # The daily totals alone, without their breakdowns: what the summary, page and forecasts read.
        for _source, day, sums in store.day_sums(start, end):
            others.update(c for c in sums if c != currency)
            if currency in sums:
                _add(amounts, day, ALL, sums[currency])
        return amounts, others
    for label, period_totals in _period_totals(store, start, end, granularity).items():
        others.update(c for c in period_totals.currencies if c != currency)
        totals = period_totals.currencies.get(currency)
        if totals is None:
            continue
        for key, amount in _split(totals, group_by).items():
            _add(amounts, label, key, amount)
    return amounts, others


def _filtered_amounts(
    store: Charges,
    start: date,
    end: date,
    granularity: Granularity,
    group_by: str | None,
    currency: str,
    where: Mapping[str, Any],
) -> tuple[Amounts, set[str]]:
    """Filtered totals from each day's cells; days without cells (or a grouping cells lack) read charges."""
    amounts: Amounts = {}
    others: set[str] = set()
    charge_days: list[tuple[str, str]] = []
    for source, day, period_totals in store.day_totals(start, end, with_cells=True):
        others.update(c for c in period_totals.currencies if c != currency)
        totals = period_totals.currencies.get(currency)
        if totals is None:
            continue
        label = day if granularity == "day" else day[:7]
        if totals.cells is None or group_by == "sku":
            charge_days.append((source, day))
            continue
        for cell, amount in totals.cells.items():
            values = cell_values(cell)
            if matches(values, where):
                _add(amounts, label, _key(values, group_by), amount)
    if len(charge_days) > MAX_CHARGE_DAYS:
        raise QueryError(
            f"this filter needs the charges of {len(charge_days)} source-days (at most {MAX_CHARGE_DAYS}); "
            "ask for a shorter range"
        )
    for source, day in charge_days:
        label = day if granularity == "day" else day[:7]
        for record in store.charges(source, day):
            values = dimension_values(record)
            if record.get("BillingCurrency") == currency and matches(values, where):
                _add(amounts, label, _key(values, group_by), Decimal(record["BilledCost"]))
    return amounts, others


def _key(values: Mapping[str, str], group_by: str | None) -> str:
    return ALL if group_by is None else values.get(group_by, NONE_KEY)


def _split(totals: Totals, group_by: str | None) -> dict[str, Decimal]:
    if group_by is None:
        return {ALL: totals.total}
    return totals.group(group_by) if group_by.startswith(TAG_PREFIX) or group_by in DIMENSIONS else {}

"""The scope-spend engine: spend per day of any scope, for the API, evaluation and reports alike.

A scope naming one dimension (or none) reads the per-dimension daily totals; a scope combining dimensions
(provider and tag, say) reads each day's combinations, and days whose combinations were not kept (too many)
read their charges: one query per source and day. Daily totals are read once per window and kept, so many
questions about the same days (every budget of an evaluation, say) cost one read.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from spendwatch.domain.aggregates import PeriodTotals, cell_values, dimension_values, matches
from spendwatch.domain.budgets import daily_series, scope_amount, single_dimension
from spendwatch.domain.money import ZERO
from spendwatch.domain.ports import Charges

DayTotals = list[tuple[str, str, PeriodTotals]]  # (source, day, totals)


class ScopeSpend:
    """Spend of scopes per day from one store, with the daily totals of the widest window asked for kept."""

    def __init__(self, store: Charges) -> None:
        self.store = store
        self._windows: dict[bool, tuple[date, date, DayTotals]] = {}

    def _days(self, start: date, end: date, with_cells: bool) -> DayTotals:
        """Stored day totals of [start, end] (read once; a wider window later reads the union once)."""
        kept = self._windows.get(with_cells) or (self._windows.get(True) if not with_cells else None)
        if kept is None or not (kept[0] <= start and end <= kept[1]):
            low, high = (min(start, kept[0]), max(end, kept[1])) if kept is not None else (start, end)
            kept = (low, high, list(self.store.day_totals(low, high, with_cells=with_cells)))
            self._windows[with_cells] = kept
        first, last = start.isoformat(), end.isoformat()
        return [entry for entry in kept[2] if first <= entry[1] <= last]

    def load(self, start: date, end: date) -> None:
        """Read the daily totals of [start, end] now (later questions inside the window need no read)."""
        self._days(start, end, with_cells=False)

    def day(self, day: date) -> PeriodTotals:
        """All sources' totals of one day merged (inside a loaded window)."""
        merged = PeriodTotals()
        for _source, _day, totals in self._days(day, day, with_cells=False):
            merged.merge(totals)
        return merged

    def series(self, scope: dict[str, Any], currency: str, start: date, end: date) -> list[tuple[date, Decimal]]:
        """Cost per day of ``scope`` in ``currency`` over [start, end], zero-filled."""
        single = single_dimension(scope)
        days: list[tuple[str, Decimal]] = []
        partitions: list[tuple[str, str]] = []
        for source, day, period_totals in self._days(start, end, with_cells=single is None):
            totals = period_totals.currencies.get(currency)
            if single is not None:
                days.append((day, scope_amount(period_totals, currency, *single)))
            elif totals is not None and totals.cells is not None:
                days.append((day, sum((a for k, a in totals.cells.items() if matches(cell_values(k), scope)), ZERO)))
            elif totals is not None:
                partitions.append((source, day))
        days += self._from_charges(partitions, scope, currency)
        return daily_series(days, start, end)

    def total(self, scope: dict[str, Any], currency: str, start: date, end: date) -> Decimal:
        """Spend of ``scope`` over [start, end]."""
        return sum((amount for _, amount in self.series(scope, currency, start, end)), ZERO)

    def _from_charges(
        self, partitions: list[tuple[str, str]], scope: dict[str, Any], currency: str
    ) -> list[tuple[str, Decimal]]:
        sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for source, day in partitions:
            for item in self.store.charges(source, day):
                if item.get("BillingCurrency") == currency and matches(dimension_values(item), scope):
                    sums[day] += Decimal(item["BilledCost"])
        return list(sums.items())


def scope_series(
    store: Charges, scope: dict[str, Any], currency: str, start: date, end: date
) -> list[tuple[date, Decimal]]:
    """Cost per day of ``scope`` over [start, end], zero-filled: one question, read and forgotten."""
    return ScopeSpend(store).series(scope, currency, start, end)

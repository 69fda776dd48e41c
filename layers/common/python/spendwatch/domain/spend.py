"""Spend for any scope and day range, from the daily aggregates or, for multi-dimension scopes, the items."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from spendwatch.domain.aggregates import cell_values, dimension_values, matches
from spendwatch.domain.budgets import daily_series, scope_amount, single_dimension
from spendwatch.domain.money import ZERO
from spendwatch.store import Store, cost_pk


def scope_series(
    store: Store, scope: dict[str, Any], currency: str, start: date, end: date
) -> list[tuple[date, Decimal]]:
    """Cost per day of ``scope`` in ``currency`` over [start, end], zero-filled.

    Read from the daily aggregates, one query per month: a scope naming one dimension (or none) from the
    per-dimension totals, a scope combining dimensions (provider and tag, say) from the day's combinations.
    Days whose combinations were not kept (too many) read their charges: one query per source and day.
    """
    single = single_dimension(scope)
    days: list[tuple[str, Decimal]] = []
    partitions: list[tuple[str, str]] = []
    for source, day, period_totals in store.day_totals(start, end, with_cells=single is None):
        totals = period_totals.currencies.get(currency)
        if single is not None:
            days.append((day, scope_amount(period_totals, currency, *single)))
        elif totals is not None and totals.cells is not None:
            days.append((day, sum((a for k, a in totals.cells.items() if matches(cell_values(k), scope)), ZERO)))
        elif totals is not None:
            partitions.append((source, day))
    days += _from_items(store, partitions, scope, currency)
    return daily_series(days, start, end)


def _from_items(
    store: Store, partitions: list[tuple[str, str]], scope: dict[str, Any], currency: str
) -> list[tuple[str, Decimal]]:
    sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for source, day in partitions:
        for item in store.query(cost_pk(source, day)):
            if item.get("BillingCurrency") == currency and matches(dimension_values(item), scope):
                sums[day] += Decimal(item["BilledCost"])
    return list(sums.items())

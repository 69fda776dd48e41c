"""Spend for any scope and day range, from the daily aggregates or, for multi-dimension scopes, the items."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from spendwatch.budgets import daily_series, matches, scope_amount, single_dimension
from spendwatch.money import ZERO
from spendwatch.store import Store, cost_pk


def scope_series(
    store: Store, scope: dict[str, Any], currency: str, start: date, end: date
) -> list[tuple[date, Decimal]]:
    """Cost per day of ``scope`` in ``currency`` over [start, end], zero-filled.

    A scope naming one dimension (or none) is read from the daily aggregates: one query per month. A scope
    combining dimensions (provider and tag, say) has no aggregate, so the charges of each (source, day) that
    has data are read and filtered: one query per source and day.
    """
    single = single_dimension(scope)
    days: list[tuple[str, Decimal]] = []
    partitions: list[tuple[str, str]] = []
    for source, day, totals in store.day_totals(start, end):
        if single is not None:
            days.append((day, scope_amount(totals, currency, *single)))
        elif totals.currencies.get(currency):
            partitions.append((source, day))
    if single is None:
        days = _from_items(store, partitions, scope, currency)
    return daily_series(days, start, end)


def _from_items(
    store: Store, partitions: list[tuple[str, str]], scope: dict[str, Any], currency: str
) -> list[tuple[str, Decimal]]:
    sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for source, day in partitions:
        for item in store.query(cost_pk(source, day)):
            if item.get("BillingCurrency") == currency and matches(item, scope):
                sums[day] += Decimal(item["BilledCost"])
    return list(sums.items())

"""A year of daily totals read from the monthly aggregates: the same days and amounts as the daily aggregates give,
through re-collection, several sources and currencies, a turn of the year, and months written before they kept days."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from spendwatch.domain.aggregates import PeriodTotals, Totals
from spendwatch.domain.history import history
from spendwatch.store import Store, StoreError
from spendwatch.store.keys import month_agg_pk

from tests.integration.conftest import TABLE, store

START, END = date(2025, 11, 20), date(2026, 2, 10)


def _totals(*amounts: tuple[str, str]) -> PeriodTotals:
    totals = PeriodTotals()
    for amount, currency in amounts:
        one = Totals()
        one.add(Decimal(amount), {"provider": "AWS", "service": "EC2"})
        totals.currencies.setdefault(currency, Totals()).merge(one)
        totals.items += 1
    return totals


def _load() -> None:
    """Two sources over the turn of the year; ``aws`` re-collects three days (one of them twice)."""
    table = store()
    day = START - timedelta(days=5)
    aws: dict[str, PeriodTotals] = {}
    do: dict[str, PeriodTotals] = {}
    while day <= END + timedelta(days=5):
        n = day.toordinal() % 97
        aws[day.isoformat()] = _totals((f"{n}.125", "USD"))
        if day.day % 3 == 0:
            do[day.isoformat()] = _totals((f"{n}.5", "USD"), ("7.01", "EUR"))
        day += timedelta(days=1)
    table.replace_day_totals("aws", aws)
    table.replace_day_totals("do", do)
    table.replace_day_totals("aws", {"2025-12-31": _totals(("1.1", "USD")), "2026-01-01": _totals(("2.2", "USD"))})
    table.replace_day_totals("aws", {"2025-12-31": _totals(("3.3", "USD"), ("4", "EUR"))})


def _by_day_totals(start: date, end: date) -> list[tuple[str, str, dict[str, Decimal]]]:
    rows = store().day_totals(start, end)
    return sorted((s, d, {c: t.total for c, t in totals.currencies.items()}) for s, d, totals in rows)


def test_day_sums_are_the_daily_aggregates_totals(aws_env: dict[str, Any]) -> None:
    _load()
    sums = sorted(store().day_sums(START, END))
    assert sums == _by_day_totals(START, END)
    assert ("aws", "2025-12-31", {"USD": Decimal("3.3"), "EUR": Decimal("4")}) in sums
    assert ("aws", "2026-01-01", {"USD": Decimal("2.2")}) in sums
    assert min(d for _, d, _ in sums) == START.isoformat() and max(d for _, d, _ in sums) == END.isoformat()


def test_a_month_without_kept_days_is_read_from_its_daily_aggregates(aws_env: dict[str, Any]) -> None:
    _load()
    dynamodb = boto3.client("dynamodb")
    dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": month_agg_pk("2025")}, "sk": {"S": "do#2025-12"}},
        UpdateExpression="REMOVE days",
    )
    reads: list[str] = []
    table = store()
    table.client.meta.events.register(
        "provide-client-params.dynamodb.Query",
        lambda params, **_: reads.append(params["ExpressionAttributeValues"][":pk"]["S"]),
    )
    assert sorted(table.day_sums(START, END)) == _by_day_totals(START, END)
    assert sorted(reads) == ["AGG#D#2025-12", "AGG#M#2025", "AGG#M#2026"]


def test_daily_history_without_grouping_reads_two_partitions_for_a_year(aws_env: dict[str, Any]) -> None:
    _load()
    table = store()
    reads: list[str] = []
    table.client.meta.events.register(
        "provide-client-params.dynamodb.Query",
        lambda params, **_: reads.append(params["ExpressionAttributeValues"][":pk"]["S"]),
    )
    usd = history(table, START, END, "day", None, "USD")
    assert sorted(reads) == ["AGG#M#2025", "AGG#M#2026"]
    expected: dict[str, Decimal] = {}
    for _source, day, sums in _by_day_totals(START, END):
        if "USD" in sums:
            expected[day] = expected.get(day, Decimal(0)) + sums["USD"]
    assert usd.groups[0].points == expected and usd.total == sum(expected.values())
    assert usd.other_currencies == ["EUR"]
    by_provider = history(table, START, END, "day", "provider", "USD")
    assert by_provider.groups[0].key == "AWS" and by_provider.groups[0].points == expected


def test_partitions_read_side_by_side_come_back_in_the_order_asked(aws_env: dict[str, Any]) -> None:
    _load()
    table = store()
    months = [f"AGG#D#{m}" for m in ("2026-02", "2025-11", "2026-01", "2025-12", "2030-01")]
    side_by_side = list(table.query_side_by_side(months, attributes=("period",)))
    assert side_by_side == [list(table.query(pk, attributes=("period",))) for pk in months]
    assert [{r["period"][:7] for r in records} for records in side_by_side[:4]] == [
        {"2026-02"},
        {"2025-11"},
        {"2026-01"},
        {"2025-12"},
    ]
    assert side_by_side[4] == []
    two_years = [f"AGG#D#{year}-{month:02d}" for year in (2026, 2025) for month in range(12, 0, -1)]  # > 8 at once
    assert list(table.query_side_by_side(two_years)) == [list(table.query(pk)) for pk in two_years]
    broken = Store(boto3.client("dynamodb"), "no-such-table")
    with pytest.raises(StoreError):
        list(broken.query_side_by_side(months))

"""Spike and first-seen rules over the recent affected days, at the broadest scope that explains the change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from spendwatch.domain.aggregates import NONE_KEY, PeriodTotals
from spendwatch.domain.alerts import Alert, Driver
from spendwatch.domain.detect import DEFAULT_CONFIG, detect_spike, explain_spike, first_seen, seen_values
from spendwatch.domain.detect.spike import SpikeResult
from spendwatch.domain.money import format_money

from alert.evaluate.inputs import FIRST_SEEN_HISTORY, Inputs
from alert.evaluate.rules import Stamp

MIN_FIRST_SEEN_HISTORY = 14
DRIVER_DIMENSIONS = ("provider", "service", "account", "region", "tenant", "sku")
# Broadest first: a change the whole bill shows is reported once, at the top, with the services behind it.
SCOPE_DIMENSIONS = ("provider", "service")

Breakdown = dict[str, dict[str, Decimal]]


def _breakdown(totals: PeriodTotals, currency: str) -> Breakdown:
    found = totals.currencies.get(currency)
    if found is None:
        return {}
    dims = [*DRIVER_DIMENSIONS, *(d for d in found.by if d.startswith("tag:"))]
    return {dim: found.group(dim) for dim in dims if found.by.get(dim)}


def detected(inputs: Inputs, stamp: Stamp) -> Iterator[Alert]:
    """Spike alerts and first-seen alerts for the recent affected days."""
    if not inputs.judged_days:
        return
    lookback = max(DEFAULT_CONFIG.lookback_days, FIRST_SEEN_HISTORY)
    currency = inputs.config.currency
    for day in inputs.judged_days:
        before = [day - timedelta(days=n) for n in range(lookback, 0, -1)]
        breakdowns = {d: _breakdown(inputs.days.get(d, PeriodTotals()), currency) for d in before}
        today = _breakdown(inputs.days.get(day, PeriodTotals()), currency)
        yield from _spikes(stamp, day, today, breakdowns, currency)
        yield from _first_seen(stamp, day, today, breakdowns, currency)


def _spikes(
    stamp: Stamp, day: date, today: Breakdown, history: dict[date, Breakdown], currency: str
) -> Iterator[Alert]:
    scopes: list[tuple[str, str]] = [("", "")]
    scopes += [(dim, key) for dim in SCOPE_DIMENSIONS for key in sorted(today.get(dim, {}))]
    explained: set[tuple[str, str]] = set()
    # Days before the first data are "not collected yet", not zero-cost days: a first day is never a spike.
    first = min((d for d, b in history.items() if b), default=day)
    started = {d: b for d, b in history.items() if d >= first}
    for dimension, key in scopes:
        if (dimension, key) in explained:
            continue
        series = [(d, _amount(b, dimension, key)) for d, b in started.items()] + [(day, _amount(today, dimension, key))]
        result = detect_spike(series, day)
        if not result.is_spike:
            continue
        drivers = _useful(explain_spike(result, today, history, top=10))
        # The narrower scopes this alert already names as drivers are not alerted again.
        explained.update((d.dimension, d.key) for d in drivers)
        yield _spike_alert(stamp, result, dimension, key, drivers, currency)


def _useful(drivers: list[Driver], top: int = 5) -> list[Driver]:
    """Named values only ("(none)" explains nothing), the most specific dimensions first, biggest share first."""
    order = {dim: n for n, dim in enumerate(("service", "provider", "account", "region"))}
    named = [d for d in drivers if d.key != NONE_KEY]
    return sorted(named, key=lambda d: (order.get(d.dimension, len(order)), -d.share))[:top]


def _amount(breakdown: Breakdown, dimension: str, key: str) -> Decimal:
    if not dimension:
        return sum(breakdown.get("provider", {}).values(), Decimal(0))
    return breakdown.get(dimension, {}).get(key, Decimal(0))


def _spike_alert(
    stamp: Stamp, result: SpikeResult, dimension: str, key: str, drivers: list[Driver], currency: str
) -> Alert:
    scope = {dimension: key} if dimension else {}
    where = f"{dimension} {key}" if dimension else "total cost"
    top = ", ".join(
        f"{d.dimension} {d.key} ({format_money(d.expected)} → {format_money(d.actual)})" for d in drivers[:3]
    )
    return stamp.alert(
        kind="spike",
        severity=result.severity or "warning",
        rule=f"spike:{dimension or 'total'}",
        scope=scope,
        period=result.day.isoformat(),
        level="spike",
        title=f"Spike in {where} on {result.day.isoformat()}: {format_money(result.actual)} {currency}"
        f" vs {format_money(result.expected or Decimal(0))} expected",
        message=f"{result.reason}. Driven by {top or 'no single value'}.",
        currency=currency,
        actual=result.actual,
        expected=result.expected,
        drivers=drivers,
    )


def _first_seen(
    stamp: Stamp, day: date, today: Breakdown, history: dict[date, Breakdown], currency: str
) -> Iterator[Alert]:
    with_data = [b for b in history.values() if b]
    if len(with_data) < MIN_FIRST_SEEN_HISTORY:
        return  # the first weeks of data would make everything look new
    for found in first_seen(seen_values(with_data), today):
        if found.key == NONE_KEY:
            continue  # a source without SKUs (or regions) is not a new SKU
        yield stamp.alert(
            kind="first_seen",
            severity="info",
            rule=f"first_seen:{found.dimension}",
            scope={found.dimension: found.key},
            period=day.isoformat(),
            level="new",
            title=f"New {found.dimension}: {found.key}",
            message=f"{found.dimension} {found.key} cost {format_money(found.amount)} {currency} on {day.isoformat()}, "
            f"the first time in the last {FIRST_SEEN_HISTORY} days.",
            currency=currency,
            actual=found.amount,
        )

"""Budgets: periods in the configured time zone, thresholds, and spend to date for a budget's scope."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from spendwatch.domain.aggregates import TAG_PREFIX, PeriodTotals
from spendwatch.domain.config import Budget, Config, Period
from spendwatch.domain.money import ZERO

if TYPE_CHECKING:
    from spendwatch.domain.ports import Budgets

_PCT = re.compile(r"^(?P<forecast>forecast:)?(?P<n>\d+(?:\.\d+)?)%$")
_ABS = re.compile(r"^(?P<forecast>forecast:)?\$(?P<n>\d+(?:\.\d{1,2})?)$")


@dataclass(frozen=True)
class Threshold:
    """One threshold of a budget, resolved to an amount."""

    label: str
    amount: Decimal
    forecast: bool

    def severity(self, budget_amount: Decimal) -> str:
        """Critical at or over the budget, warning from 80 %, info below."""
        ratio = self.amount / budget_amount
        return "critical" if ratio >= 1 else "warning" if ratio >= Decimal("0.8") else "info"


def thresholds(budget: Budget) -> list[Threshold]:
    """The budget's thresholds as amounts, lowest first."""
    resolved = []
    for label in budget.thresholds:
        pct, absolute = _PCT.match(label), _ABS.match(label)
        if pct:
            resolved.append(Threshold(label, budget.amount * Decimal(pct["n"]) / 100, bool(pct["forecast"])))
        elif absolute:
            resolved.append(Threshold(label, Decimal(absolute["n"]), bool(absolute["forecast"])))
    return sorted(resolved, key=lambda t: (t.forecast, t.amount))


def local_today(now: datetime, timezone: str) -> date:
    """The calendar date it is now in ``timezone``."""
    return now.astimezone(ZoneInfo(timezone)).date()


def period_bounds(period: Period, day: date) -> tuple[date, date]:
    """First and last calendar day of the ``period`` containing ``day`` (weeks start on Monday)."""
    if period == "day":
        return day, day
    if period == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if period == "month":
        start = day.replace(day=1)
    elif period == "quarter":
        start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    else:
        start = date(day.year, 1, 1)
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    year, month = divmod(start.month - 1 + months, 12)
    return start, date(start.year + year, month + 1, 1) - timedelta(days=1)


def period_label(period: Period, start: date) -> str:
    """A readable, sortable name for a budget period: 2026-11-24, 2026-W48, 2026-11, 2026-Q4, 2026."""
    if period == "day":
        return start.isoformat()
    if period == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return start.isoformat()[:7]
    if period == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


@dataclass(frozen=True)
class BudgetPeriod:
    """A budget's current period: its name and days, and the last of its days spend can have reached."""

    label: str
    start: date
    end: date
    through: date


def current_period(budget: Budget, now: datetime, timezone: str) -> BudgetPeriod:
    """The period of ``budget`` that contains ``now`` in ``timezone``, counted through today (UTC) at the latest.

    ``now`` is one reading of the clock in UTC, so both bounds come from the same instant, even at midnight.
    """
    start, end = period_bounds(budget.period, local_today(now, timezone))
    return BudgetPeriod(period_label(budget.period, start), start, end, min(end, now.date()))


@dataclass(frozen=True)
class BudgetStanding:
    """Spend so far in a budget's current period and the share of the budget it uses (a percentage)."""

    period: BudgetPeriod
    spent: Decimal
    utilisation: Decimal


def budget_standing(budget: Budget, period: BudgetPeriod, series: Iterable[tuple[date, Decimal]]) -> BudgetStanding:
    """The standing of ``budget`` from its daily spend in ``period`` (``start`` to ``through``, in its currency)."""
    spent = sum((amount for _, amount in series), ZERO)
    return BudgetStanding(period, spent, (spent / budget.amount * 100).quantize(ZERO.scaleb(-1)))


def single_dimension(scope: dict[str, Any]) -> tuple[str, str] | None:
    """``(dimension, value)`` when the scope names one dimension (``("", "")`` for the whole account)."""
    if not scope:
        return "", ""
    tags = scope.get("tag") or {}
    plain = {k: v for k, v in scope.items() if k != "tag"}
    if len(plain) + len(tags) != 1:
        return None
    if tags:
        key, value = next(iter(tags.items()))
        return f"{TAG_PREFIX}{key}", value
    return next(iter(plain.items()))


def scope_amount(totals: PeriodTotals, currency: str, dimension: str, value: str) -> Decimal:
    """A day's cost in ``currency`` for one dimension value (or the whole total when dimension is empty)."""
    found = totals.currencies.get(currency)
    if found is None:
        return ZERO
    if not dimension:
        return found.total
    return found.group(dimension).get(value, ZERO)


def daily_series(days: Iterable[tuple[str, Decimal]], start: date, end: date) -> list[tuple[date, Decimal]]:
    """Sum (day, amount) pairs into one amount per day over [start, end], zero-filled."""
    sums: dict[str, Decimal] = {}
    for label, amount in days:
        sums[label] = sums.get(label, ZERO) + amount
    return [
        (start + timedelta(days=n), sums.get((start + timedelta(days=n)).isoformat(), ZERO))
        for n in range((end - start).days + 1)
    ]


@dataclass(frozen=True)
class StoredBudget:
    """A budget with its id and origin (``config`` budgets are read-only over the API)."""

    id: str
    budget: Budget
    origin: str
    created_at: datetime | None = None
    updated_at: datetime | None = None


def config_budget_id(name: str) -> str:
    """The stable id of a budget defined in spendwatch.toml."""
    return f"config-{re.sub(r'[^a-z0-9-]+', '-', name.lower()).strip('-')}"


def all_budgets(config: Config, stored: Budgets) -> list[StoredBudget]:
    """Every budget: those in spendwatch.toml (read-only over the API), then those created over the API."""
    from_config = [StoredBudget(config_budget_id(b.name), b, "config") for b in config.budgets]
    return from_config + stored.budgets()


def needs_forecast(budget: Budget, spent: Decimal) -> bool:
    """True when a forecast threshold of ``budget`` is not yet crossed by actual spend (so a forecast may cross it)."""
    return any(t.forecast and spent < t.amount for t in thresholds(budget))

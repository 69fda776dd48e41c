"""What one evaluation knows: config, the clock, the affected days, and cached daily totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from spendwatch.domain.aggregates import PeriodTotals
from spendwatch.domain.alerts import Alert, alert_id
from spendwatch.domain.budgets import daily_series, scope_amount, single_dimension
from spendwatch.domain.config import Config
from spendwatch.domain.runs import CollectionRun
from spendwatch.domain.spend import scope_series
from spendwatch.store import Store


@dataclass
class Context:
    """An evaluation's inputs; day totals are read once per month partition and shared by every rule."""

    store: Store
    config: Config
    now: datetime
    affected_days: set[date] = field(default_factory=set)
    budgets_changed: bool = False
    failed_runs: list[CollectionRun] = field(default_factory=list)
    succeeded_runs: list[CollectionRun] = field(default_factory=list)
    _days: dict[str, list[tuple[str, PeriodTotals]]] = field(default_factory=dict)
    _loaded: tuple[date, date] | None = None
    _freshness: datetime | None = None

    def load(self, start: date, end: date) -> None:
        """Make sure daily totals for [start, end] are in memory."""
        if self._loaded and self._loaded[0] <= start and end <= self._loaded[1]:
            return
        if self._loaded:
            start, end = min(start, self._loaded[0]), max(end, self._loaded[1])
        self._days = {}
        for source, day, totals in self.store.day_totals(start, end):
            self._days.setdefault(day, []).append((source, totals))
        self._loaded = (start, end)

    def day(self, day: date) -> PeriodTotals:
        """All sources' totals of one day merged."""
        merged = PeriodTotals()
        for _source, totals in self._days.get(day.isoformat(), []):
            merged.merge(totals)
        return merged

    def series(self, scope: dict[str, Any], currency: str, start: date, end: date) -> list[tuple[date, Decimal]]:
        """Cost per day of a scope; single-dimension scopes come from the cache."""
        single = single_dimension(scope)
        if single is None:
            return scope_series(self.store, scope, currency, start, end)
        self.load(start, end)
        pairs = [
            (day, scope_amount(totals, currency, *single))
            for day, sources in self._days.items()
            if start.isoformat() <= day <= end.isoformat()
            for _source, totals in sources
        ]
        return daily_series(pairs, start, end)

    def data_through(self) -> datetime | None:
        """The freshest data any source has delivered, from the newest runs (one query, cached)."""
        if self._freshness is None:
            runs, _ = self.store.list_runs(50)
            seen = [r.data_through for r in runs + self.succeeded_runs if r.data_through]
            self._freshness = max(seen) if seen else None
        return self._freshness

    def history_days(self, before: date, days: int) -> list[date]:
        """The ``days`` calendar days before ``before``."""
        return [before - timedelta(days=n) for n in range(days, 0, -1)]


@dataclass
class Proposal:
    """An alert a rule wants raised: written only if no alert with its id exists."""

    alert: Alert


def make_alert(context: Context, **fields: Any) -> Alert:
    """An Alert with its deterministic id, timestamps and data freshness filled in."""
    fields.setdefault("scope", {})
    fields.setdefault("level", "")
    fields.setdefault("data_through", context.data_through())
    return Alert(
        id=alert_id(fields["rule"], fields["scope"], fields["period"], fields["level"]),
        created_at=context.now,
        updated_at=context.now,
        **fields,
    )

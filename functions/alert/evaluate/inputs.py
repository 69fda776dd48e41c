"""What one evaluation needs, read once: the batch's changes, budgets and their periods' spend, open alerts,
recent daily totals for spike detection, and the freshest data any source delivered."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from spendwatch.domain.aggregates import PeriodTotals
from spendwatch.domain.alerts import Alert, reminder_due
from spendwatch.domain.budgets import (
    StoredBudget,
    all_budgets,
    local_today,
    needs_forecast,
    period_bounds,
    period_label,
)
from spendwatch.domain.capacity import Capacity, standings
from spendwatch.domain.config import Config
from spendwatch.domain.detect import DEFAULT_CONFIG
from spendwatch.domain.freshness import newest_by_source, scope_freshness
from spendwatch.domain.models import UsageItem
from spendwatch.domain.money import ZERO
from spendwatch.domain.runs import CollectionRun
from spendwatch.domain.spend import ScopeSpend
from spendwatch.domain.utilisation import UTILISATION_ALERT_METRICS
from spendwatch.store import Store
from spendwatch.store.records import BudgetChanged, DayTotalsChanged, RunRecorded, UsageChanged, readable

# Forecasts learn weekly rhythm and trend from this much history before the period.
FORECAST_HISTORY_DAYS = 120
# Backfilling a year must not page about every spike of that year: only recent days are judged.
RECENT_DAYS = 14
# Utilisation is re-read over a window (DigitalOcean: 14 days) on every run: a day is judged while it is new, so
# a first collection raises an alert for the last days that ran hot, not one for each day of the window.
UTILISATION_RECENT_DAYS = 3
FIRST_SEEN_HISTORY = 60
DIGEST_LOOKBACK = timedelta(days=2)
# The newest runs read for freshness and the hourly check (several a day per source).
RUNS_READ = 200


@dataclass
class Changes:
    """What a stream batch changed: days with new totals, budgets, finished runs."""

    affected_days: set[date] = field(default_factory=set)
    budgets_changed: bool = False
    failed_runs: list[CollectionRun] = field(default_factory=list)
    succeeded_runs: list[CollectionRun] = field(default_factory=list)
    usage_metrics: set[str] = field(default_factory=set)
    # Days whose utilisation (CPU, memory daily averages) was written: judged against ``[utilisation]``.
    utilisation_days: set[date] = field(default_factory=set)

    @classmethod
    def of(cls, records: Iterable[Mapping[str, Any]]) -> Changes:
        """The changes in a batch; a record that cannot be read is logged and skipped."""
        changes = cls()
        for change in readable(records):
            if isinstance(change, DayTotalsChanged):
                changes.affected_days.add(change.day)
            elif isinstance(change, BudgetChanged):
                changes.budgets_changed = True
            elif isinstance(change, RunRecorded) and change.run.status == "failed":
                changes.failed_runs.append(change.run)
            elif isinstance(change, RunRecorded) and change.run.status in ("succeeded", "partial"):
                changes.succeeded_runs.append(change.run)
            elif isinstance(change, UsageChanged):
                changes.usage_metrics.add(change.metric)
                if change.metric in UTILISATION_ALERT_METRICS:
                    changes.utilisation_days.add(change.day)
        return changes


@dataclass(frozen=True)
class BudgetPeriod:
    """A budget's current period and its spend so far (with the longer history a forecast learns from)."""

    stored: StoredBudget
    currency: str
    start: date
    end: date
    today: date
    label: str
    spent: Decimal
    history: list[tuple[date, Decimal]] | None = None


@dataclass
class Inputs:
    """Everything the rules look at; nothing here is read again while they run."""

    config: Config
    now: datetime
    changes: Changes
    # The freshest data any source delivered: read on first use (only an evaluation that raises alerts needs it).
    data_through: Callable[[dict[str, Any]], datetime | None] = field(default=lambda _scope: None)
    budgets: list[BudgetPeriod] = field(default_factory=list)
    open_alerts: list[Alert] = field(default_factory=list)
    judged_days: list[date] = field(default_factory=list)
    days: dict[date, PeriodTotals] = field(default_factory=dict)
    latest_runs: dict[str, CollectionRun] = field(default_factory=dict)
    capacities: list[Capacity] = field(default_factory=list)
    utilisation: list[UsageItem] = field(default_factory=list)
    resource_names: dict[str, str] = field(default_factory=dict)
    # The hourly check with a daily digest: the alerts opened in the last two days.
    recent_alerts: list[Alert] = field(default_factory=list)
    # The hourly check: critical alerts nobody acknowledged whose one reminder is due.
    reminders_due: list[str] = field(default_factory=list)


def resource_names(store: Store, sources: Iterable[str]) -> dict[str, str]:
    """Droplet or instance id -> name from the sources' stored inventories, for the alerts' words."""
    names: dict[str, str] = {}
    for source in sorted(sources):
        inventory = store.inventory(source)
        if inventory is not None:
            names.update({droplet.id: droplet.name for droplet in inventory.droplets or [] if droplet.name})
            names.update({instance.id: instance.name for instance in inventory.instances or [] if instance.name})
    return names


class Freshness:
    """Each scope's data freshness (``domain.freshness``), from the newest runs, read on first use (one query)."""

    def __init__(self, store: Store, config: Config, also: Iterable[CollectionRun] = ()) -> None:
        self.store, self.also = store, tuple(also)
        self.types = {source.name: source.type for source in config.sources}
        self._fresh: dict[str, datetime] | None = None

    def __call__(self, scope: dict[str, Any]) -> datetime | None:
        if self._fresh is None:
            runs, _ = self.store.list_runs(RUNS_READ)
            self._fresh = newest_by_source([*runs, *self.also])
        return scope_freshness(scope, self._fresh, self.types)


def read_for_changes(store: Store, config: Config, now: datetime, changes: Changes, forecast: bool = True) -> Inputs:
    """Read what evaluating a batch's changes needs (budgets only when days or budgets changed, and so on)."""
    inputs = Inputs(config, now, changes, Freshness(store, config, changes.succeeded_runs))
    spend = ScopeSpend(store)
    if changes.affected_days or changes.budgets_changed:
        inputs.budgets = [budget_period(spend, stored, config, now, forecast) for stored in all_budgets(config, store)]
    limits = [limit for limit in config.limits if limit.metric in changes.usage_metrics]
    recent = sorted(
        d for d in changes.utilisation_days if now.date() - timedelta(UTILISATION_RECENT_DAYS) <= d <= now.date()
    )
    if changes.affected_days or changes.budgets_changed or changes.succeeded_runs or limits or recent:
        inputs.open_alerts = [a for a in store.alerts() if a.status != "resolved"]
    if limits:
        inputs.capacities = standings(store, limits, now.date())
    if recent:
        days = set(recent)
        read = store.usage_items(recent[0], recent[-1], UTILISATION_ALERT_METRICS)
        inputs.utilisation = [item for item in read if item.day in days]
        inputs.resource_names = resource_names(store, {item.x_source for item in inputs.utilisation})
    if changes.affected_days:
        inputs.judged_days = sorted(
            d for d in changes.affected_days if now.date() - timedelta(RECENT_DAYS) <= d <= now.date()
        )
    if inputs.judged_days:
        lookback = max(DEFAULT_CONFIG.lookback_days, FIRST_SEEN_HISTORY)
        first, last = inputs.judged_days[0] - timedelta(days=lookback), inputs.judged_days[-1]
        spend.load(first, last)
        inputs.days = {
            first + timedelta(days=n): spend.day(first + timedelta(days=n)) for n in range((last - first).days + 1)
        }
    return inputs


def budget_period(
    spend: ScopeSpend, stored: StoredBudget, config: Config, now: datetime, forecast: bool
) -> BudgetPeriod:
    """A budget's current period with its spend to date (and, when a forecast threshold is open, its history)."""
    budget = stored.budget
    currency = budget.currency or config.currency
    today = local_today(now, config.timezone)
    start, end = period_bounds(budget.period, today)
    spent = sum((a for _, a in spend.series(budget.scope, currency, start, min(end, today))), ZERO)
    history = None
    if forecast and needs_forecast(budget, spent):
        first = start - timedelta(days=FORECAST_HISTORY_DAYS)
        history = spend.series(budget.scope, currency, first, min(end, today))
    label = period_label(budget.period, start)
    return BudgetPeriod(stored, currency, start, end, today, label, spent, history)


def read_for_schedule(store: Store, config: Config, now: datetime) -> Inputs:
    """Read what the hourly check needs: each source's newest successful run, and open capacity alerts (whose
    period may have ended)."""
    inputs = Inputs(config, now, Changes(), Freshness(store, config))
    every = store.alerts()
    inputs.open_alerts = [a for a in every if a.status != "resolved" and a.kind == "capacity"]
    after = config.alerts.renotify_after_hours
    inputs.reminders_due = [a.id for a in every if reminder_due(a, now, after)]
    if config.alerts.info == "digest":
        inputs.recent_alerts = [a for a in every if a.created_at >= now - DIGEST_LOOKBACK]
    runs, _ = store.list_runs(RUNS_READ)
    for run in runs:  # newest first: keep each source's newest successful run
        if run.status in ("succeeded", "partial") and run.source not in inputs.latest_runs:
            inputs.latest_runs[run.source] = run
    return inputs

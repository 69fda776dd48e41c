"""A report's figures, read once through the store with the same domain code the API answers with.

- totals, breakdowns and movers: ``domain.history`` (what ``GET /v1/costs`` runs), so the total is the API's;
- the CSV's rows per (day, provider, service): history by service filtered to each provider;
- the month-end projection: ``domain.forecast`` over the last year, as the summary computes it;
- budgets: each budget's period holding the report's last day, spend through that day (``domain.budgets``);
- alerts opened in the period (local days of the config's time zone), open recommendations, unit costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from spendwatch.domain.aggregates import NONE_KEY
from spendwatch.domain.budgets import BudgetPeriod, all_budgets, budget_standing, period_bounds, period_label
from spendwatch.domain.history import History, history
from spendwatch.domain.money import ZERO
from spendwatch.domain.recommendations.model import by_savings
from spendwatch.domain.report_periods import ReportKind, period_of, previous_period
from spendwatch.domain.reports import (
    Report,
    ReportAlert,
    ReportBudget,
    ReportLine,
    ReportPoint,
    ReportProjection,
    ReportUnitCost,
)
from spendwatch.domain.spend import ScopeSpend
from spendwatch.domain.unit_costs import unit_cost_rows

if TYPE_CHECKING:
    from spendwatch.domain.config import Config
    from spendwatch.domain.forecast import ForecastPoint
    from spendwatch.store import Store

DIMENSIONS = ("provider", "service", "tenant")
TOP_LINES = 10
TOP_MOVERS = 5
HISTORY_DAYS = 365
INTERVAL_LEVEL = 0.8
CHART_DAYS: dict[ReportKind, int] = {"daily": 30, "weekly": 56, "monthly": 92}
WARN_UTILISATION = Decimal(80)
MAX_ALERTS = 50  # listed on the item (alerts_opened counts them all): a busy month stays far below 400 KB

CsvRow = tuple[date, str, str, Decimal]  # day, provider, service, amount


@dataclass
class Figures:
    """A built report and what its files need besides: the CSV's rows and the chart's forecast."""

    report: Report
    rows: list[CsvRow] = field(default_factory=list)
    forecast: list[ForecastPoint] = field(default_factory=list)


def build(store: Store, config: Config, kind: ReportKind, today: date, now: datetime) -> Figures:
    """The report of the last complete ``kind`` period before ``today`` (a local date), made at ``now``."""
    currency = config.currency
    start, end = period_of(kind, today)
    before = previous_period(kind, start)
    current = history(store, start, end, "day", None, currency)
    previous = history(store, *before, "day", None, currency)
    breakdown, movers = lines(store, currency, (start, end), before)
    projection, trend, forecast = project(store, currency, kind, end, today)
    opened = alerts_opened(store, config.timezone, start, end)
    recs = by_savings(store.recommendations(), status="open")
    report = Report(
        kind=kind,
        start=start,
        end=end,
        timezone=config.timezone,
        generated_at=now,
        currency=currency,
        total=current.total,
        previous_total=previous.total,
        previous_start=before[0],
        previous_end=before[1],
        projected_month_end=projection.amount,
        projection=projection,
        breakdown=breakdown,
        movers=movers,
        budgets=budgets(store, config, end),
        alerts_opened=len(opened),
        alerts=opened[:MAX_ALERTS],
        recommendations_open=len(recs),
        recommendations_monthly_savings=sum((r.monthly_savings for r in recs if r.currency == currency), ZERO),
        unit_costs=[
            ReportUnitCost(name=r.name, tenant=r.tenant, cost=r.cost, quantity=r.quantity, unit_cost=r.unit_cost)
            for unit in config.unit_costs
            for r in unit_cost_rows(store, unit, currency, start, end)
        ],
        trend=trend,
    )
    return Figures(report, csv_rows(store, currency, start, end, breakdown.get("provider", [])), forecast)


def _totals(result: History) -> dict[str, Decimal]:
    return {group.key: group.total for group in result.groups}


def lines(
    store: Store, currency: str, period: tuple[date, date], before: tuple[date, date]
) -> tuple[dict[str, list[ReportLine]], dict[str, list[ReportLine]]]:
    """Per dimension: the largest rows of the period (with the period before's amounts) and the biggest movers."""
    breakdown: dict[str, list[ReportLine]] = {}
    movers: dict[str, list[ReportLine]] = {}
    for dimension in DIMENSIONS:
        now = _totals(history(store, *period, "day", dimension, currency))
        then = _totals(history(store, *before, "day", dimension, currency))
        if dimension == "tenant" and set(now) | set(then) <= {NONE_KEY}:
            continue  # no tenants: nothing to say per tenant
        rows = [ReportLine(key=k, amount=now.get(k, ZERO), previous=then.get(k, ZERO)) for k in sorted({*now, *then})]
        largest = sorted((r for r in rows if r.amount != 0), key=lambda r: (-r.amount, r.key))
        changed = sorted((r for r in rows if r.change != 0), key=lambda r: (-abs(r.change), r.key))
        # Every provider is kept: the CSV's rows are read per provider.
        breakdown[dimension] = largest if dimension == "provider" else largest[:TOP_LINES]
        movers[dimension] = changed[:TOP_MOVERS]
    return breakdown, movers


def csv_rows(store: Store, currency: str, start: date, end: date, providers: list[ReportLine]) -> list[CsvRow]:
    """One row per (day, provider, service) with cost in the period, read per provider (its day combinations)."""
    rows: list[CsvRow] = []
    for provider in providers:
        result = history(store, start, end, "day", "service", currency, {"provider": provider.key})
        for group in result.groups:
            rows += [(date.fromisoformat(d), provider.key, group.key, a) for d, a in group.points.items() if a != 0]
    return sorted(rows, key=lambda row: (row[0], row[1], row[2]))


def project(
    store: Store, currency: str, kind: ReportKind, end: date, today: date
) -> tuple[ReportProjection, list[ReportPoint], list[ForecastPoint]]:
    """The month-end projection as of ``today`` (as the summary makes it), the chart's days and its forecast."""
    from spendwatch.domain.forecast import forecast

    result = history(store, today - timedelta(days=HISTORY_DAYS), today, "day", None, currency)
    points = result.groups[0].points if result.groups else {}
    series = [(date.fromisoformat(p), points.get(p, ZERO)) for p in result.periods]
    made = forecast(series, today, 30, INTERVAL_LEVEL)
    amount, lower, upper = made.month_end
    month_end = (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    first = end - timedelta(days=CHART_DAYS[kind] - 1)
    trend = [ReportPoint(day=day, amount=amount) for day, amount in series if first <= day <= end]
    projection = ReportProjection(
        month=today.isoformat()[:7], amount=amount, lower=lower, upper=upper, level=round(INTERVAL_LEVEL * 100)
    )
    return projection, trend, [p for p in made.points if p.day <= month_end]


def budgets(store: Store, config: Config, end: date) -> list[ReportBudget]:
    """Each budget's standing in its period that holds ``end``, counting spend through ``end``."""
    spend = ScopeSpend(store)
    found = []
    for stored in all_budgets(config, store):
        budget = stored.budget
        currency = budget.currency or config.currency
        first, last = period_bounds(budget.period, end)
        period = BudgetPeriod(period_label(budget.period, first), first, last, end)
        standing = budget_standing(budget, period, spend.series(budget.scope, currency, first, end))
        used = standing.utilisation
        found.append(
            ReportBudget(
                id=stored.id,
                name=budget.name,
                period=period.label,
                start=first,
                end=last,
                amount=budget.amount,
                currency=currency,
                spent=standing.spent,
                utilisation=used,
                status="over" if used >= 100 else "warning" if used >= WARN_UTILISATION else "ok",
            )
        )
    return found


def alerts_opened(store: Store, timezone: str, start: date, end: date) -> list[ReportAlert]:
    """Alerts created during the period's local days, oldest first."""
    zone = ZoneInfo(timezone)
    low = datetime.combine(start, time(), zone)
    high = datetime.combine(end + timedelta(days=1), time(), zone)
    opened = sorted((a for a in store.alerts() if low <= a.created_at < high), key=lambda a: (a.created_at, a.id))
    return [
        ReportAlert(id=a.id, kind=a.kind, severity=a.severity, title=a.title, created_at=a.created_at) for a in opened
    ]

"""The numbers everything that summarises reads: the summary route, /metrics, the dashboard page and each budget's
standing in the budget routes.

Computing them in one place is what makes them agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from spendwatch.domain.aggregates import PeriodTotals
from spendwatch.domain.alerts import Alert, effective_alert
from spendwatch.domain.budgets import all_budgets, budget_standing, current_period
from spendwatch.domain.history import history
from spendwatch.domain.money import ZERO, format_money
from spendwatch.domain.recommendations.model import by_savings
from spendwatch.domain.runs import CollectionRun
from spendwatch.domain.spend import scope_series
from spendwatch.platform.clock import utc_now

from api import deps
from api.schemas import BudgetStatus
from api.views.capacity import capacity_now

if TYPE_CHECKING:
    from spendwatch.domain.audit import AuditEntry
    from spendwatch.domain.budgets import StoredBudget
    from spendwatch.domain.capacity import Capacity
    from spendwatch.domain.forecast import ForecastPoint
    from spendwatch.domain.recommendations.model import Recommendation
    from spendwatch.domain.reports import Report
    from spendwatch.domain.unit_costs import UnitCostRow

HISTORY_DAYS = 365
RUN_PAGES = 10  # how far back /metrics and the page look for each source's latest run (10 x 200 runs)
INTERVAL_LEVEL = 0.8  # of the month-end projection and the daily forecast band


@dataclass
class MonthSummary:
    """Month to date against the same days last month, and the month-end projection."""

    today: date
    currency: str
    month: str
    month_to_date: Decimal
    same_period_last_month: Decimal
    change_pct: Decimal | None
    projected: tuple[Decimal, Decimal, Decimal]
    accuracy: dict[str, Any] | None
    series: list[tuple[date, Decimal]] = field(repr=False)
    forecast: list[ForecastPoint] = field(repr=False)


def daily_total(today: date) -> list[tuple[date, Decimal]]:
    """Every day's total of the last year up to ``today``, in the configured currency."""
    result = history(deps.store(), today - timedelta(days=HISTORY_DAYS), today, "day", None, deps.config().currency)
    points = result.groups[0].points if result.groups else {}
    return [(date.fromisoformat(p), points.get(p, ZERO)) for p in result.periods]


def month_summary(today: date | None = None) -> MonthSummary:
    """The figures of ``GET /v1/costs/summary`` (exact; formatting happens at the edges)."""
    from spendwatch.domain.forecast import forecast

    today = today or utc_now().date()
    series = daily_total(today)
    result = forecast(series, today, 30, INTERVAL_LEVEL)
    first = today.replace(day=1)
    last_first = (first - timedelta(days=1)).replace(day=1)
    last_same = min(last_first + timedelta(days=today.day - 1), first - timedelta(days=1))
    month_to_date = sum((a for d, a in series if first <= d <= today), ZERO)
    last_month = sum((a for d, a in series if last_first <= d <= last_same), ZERO)
    change = None if last_month == 0 else ((month_to_date - last_month) / last_month * 100).quantize(Decimal("0.1"))
    return MonthSummary(
        today=today,
        currency=deps.config().currency,
        month=first.isoformat()[:7],
        month_to_date=month_to_date,
        same_period_last_month=last_month,
        change_pct=change,
        projected=result.month_end,
        accuracy=result.accuracy.as_dict() if result.accuracy else None,
        series=series,
        forecast=result.points,
    )


def month_breakdowns(dimensions: tuple[str, ...], today: date | None = None) -> dict[str, dict[str, Decimal]]:
    """Month-to-date cost per value of each of ``dimensions``, largest first (one read of the month's days)."""
    today = today or utc_now().date()
    month = PeriodTotals()
    for _source, _day, totals in deps.store().day_totals(today.replace(day=1), today):
        month.merge(totals)
    mine = month.currencies.get(deps.config().currency)
    return {
        dimension: dict(sorted(mine.group(dimension).items(), key=lambda kv: (-kv[1], kv[0]))) if mine else {}
        for dimension in dimensions
    }


def budget_status(stored: StoredBudget) -> BudgetStatus:
    """Spend so far in the current period of the budget, in its currency."""
    config = deps.config()
    budget = stored.budget
    currency = budget.currency or config.currency
    period = current_period(budget, utc_now(), config.timezone)  # one clock reading for both bounds
    series = scope_series(deps.store(), budget.scope, currency, period.start, period.through)
    standing = budget_standing(budget, period, series)
    return BudgetStatus(
        period=period.label,
        start=period.start,
        end=period.end,
        spent=format_money(standing.spent),
        utilisation=f"{standing.utilisation}",
    )


def budgets() -> list[tuple[StoredBudget, BudgetStatus]]:
    """Every budget with its current period's standing."""

    return [(stored, budget_status(stored)) for stored in all_budgets(deps.config(), deps.store())]


def open_alerts(now: datetime | None = None) -> list[Alert]:
    """Alerts that are open now (a snooze that ran out counts as open), newest first."""
    now = now or utc_now()
    alerts = [effective_alert(a, now) for a in deps.store().alerts()]
    return sorted((a for a in alerts if a.status == "open"), key=lambda a: (a.created_at, a.id), reverse=True)


def open_recommendations() -> list[Recommendation]:
    """Recommendations that are open now, biggest monthly savings first (one query)."""
    return by_savings(deps.store().recommendations(), status="open")


@dataclass
class RecommendationTotals:
    """The open recommendations counted, and their monthly savings summed in one currency."""

    open: int
    monthly_savings: Decimal
    currency: str
    other_currencies: list[str]


def recommendation_totals(recs: list[Recommendation], currency: str) -> RecommendationTotals:
    """Count every open one; sum the savings of those in ``currency`` and name the other currencies (amounts in
    different currencies are never added)."""
    opened = [rec for rec in recs if rec.status == "open"]
    savings = sum((rec.monthly_savings for rec in opened if rec.currency == currency), ZERO)
    others = sorted({rec.currency for rec in opened} - {currency})
    return RecommendationTotals(len(opened), savings, currency, others)


@dataclass
class Freshness:
    """How current one source's data is: its newest run and its newest run that wrote data."""

    source: str
    type: str
    status: str
    last_run_at: datetime
    last_success_at: datetime | None
    data_through: datetime | None


def freshness() -> list[Freshness]:
    """Per source (configured ones and any others that have run), newest run first, by source name."""
    wanted = {source.name for source in deps.config().sources}
    newest: dict[str, CollectionRun] = {}
    succeeded: dict[str, CollectionRun] = {}
    token: str | None = None
    for _ in range(RUN_PAGES):
        runs, token = deps.store().list_runs(200, token)
        for run in runs:
            newest.setdefault(run.source, run)
            if run.status in ("succeeded", "partial"):
                succeeded.setdefault(run.source, run)
        if token is None or wanted <= set(succeeded):
            break
    result = []
    for source, run in sorted(newest.items()):
        good = succeeded.get(source)
        result.append(
            Freshness(
                source=source,
                type=run.type,
                status=run.status,
                last_run_at=run.finished_at or run.started_at,
                last_success_at=(good.finished_at or good.started_at) if good else None,
                data_through=good.data_through if good else None,
            )
        )
    return result


@dataclass
class Snapshot:
    """Everything the dashboard page and /metrics show, exact, read at one moment."""

    now: datetime
    summary: MonthSummary
    providers: dict[str, Decimal]
    services: dict[str, Decimal]
    budgets: list[tuple[StoredBudget, BudgetStatus]]
    alerts: list[Alert]
    freshness: list[Freshness]
    capacity: list[Capacity] = field(default_factory=list)
    unit_costs: list[UnitCostRow] = field(default_factory=list)
    recommendations: list[Recommendation] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    changes: list[AuditEntry] = field(default_factory=list)


def snapshot(now: datetime | None = None) -> Snapshot:
    """Read the summary, this month's breakdowns, budgets, open alerts, freshness, every plan limit's standing and
    the open recommendations (unit costs and recent changes are the page's alone: ``dashboard.build`` adds them)."""
    now = now or utc_now()
    today = now.date()
    breakdowns = month_breakdowns(("provider", "service"), today)
    return Snapshot(
        now=now,
        summary=month_summary(today),
        providers=breakdowns["provider"],
        services=breakdowns["service"],
        budgets=budgets(),
        alerts=open_alerts(now),
        freshness=freshness(),
        capacity=capacity_now(deps.store(), deps.config(), today),
        recommendations=open_recommendations(),
    )

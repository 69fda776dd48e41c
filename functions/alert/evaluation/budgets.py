"""Budget rules: actual spend over a threshold, and (with a forecast) projected spend over one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal

from spendwatch.domain.alerts import Alert
from spendwatch.domain.budgets import StoredBudget, Threshold, local_today, period_bounds, period_label, thresholds
from spendwatch.domain.money import ZERO, format_money

from alert.evaluation.context import Context, make_alert

# (history, period_start, period_end, today, amount) -> (projected, lower, upper, day the amount is crossed)
Projector = Callable[
    [list[tuple[date, Decimal]], date, date, date, Decimal], tuple[Decimal, Decimal, Decimal, date | None]
]
# Forecasts learn weekly rhythm and trend from this much history before the period.
FORECAST_HISTORY_DAYS = 120


def project_with_forecast(
    history: list[tuple[date, Decimal]], start: date, end: date, today: date, amount: Decimal
) -> tuple[Decimal, Decimal, Decimal, date | None]:
    """The projections module's period spend and crossing day (imported on first use: NumPy is heavy)."""
    from spendwatch.domain.forecast import crossing_date, projected_period_spend

    spend = projected_period_spend(history, start, end, today)
    crossing = crossing_date(history, amount, start, end, today)
    return spend.amount, spend.lower, spend.upper, crossing.day


def evaluate(
    context: Context, budgets: list[StoredBudget], project: Projector | None = project_with_forecast
) -> Iterator[Alert]:
    """Alerts for every threshold the current period of each budget has crossed (or is forecast to cross)."""
    today = local_today(context.now, context.config.timezone)
    for stored in budgets:
        budget = stored.budget
        currency = budget.currency or context.config.currency
        start, end = period_bounds(budget.period, today)
        series = context.series(budget.scope, currency, start, min(end, today))
        spent = sum((amount for _, amount in series), ZERO)
        label = period_label(budget.period, start)
        history: list[tuple[date, Decimal]] | None = None
        for threshold in thresholds(budget):
            if not threshold.forecast and spent >= threshold.amount:
                yield _actual(context, stored, threshold, spent, currency, label)
            elif threshold.forecast and project is not None and spent < threshold.amount:
                if history is None:
                    first = start - timedelta(days=FORECAST_HISTORY_DAYS)
                    history = context.series(budget.scope, currency, first, min(end, today))
                projected, lower, upper, crossing = project(history, start, end, today, threshold.amount)
                if projected >= threshold.amount:
                    yield _forecast(context, stored, threshold, (projected, lower, upper), crossing, currency, label)


def _scope_text(stored: StoredBudget) -> str:
    scope = stored.budget.scope
    return ", ".join(f"{k}={v}" for k, v in scope.items()) or "all costs"


def _actual(
    context: Context, stored: StoredBudget, threshold: Threshold, spent: Decimal, currency: str, label: str
) -> Alert:
    budget = stored.budget
    pct = (spent / budget.amount * 100).quantize(Decimal(1))
    return make_alert(
        context,
        kind="budget",
        severity=threshold.severity(budget.amount),
        rule=f"budget:{stored.id}",
        scope=budget.scope,
        period=label,
        level=threshold.label,
        title=f"Budget {budget.name!r} crossed {threshold.label} ({pct}% used)",
        message=(
            f"{format_money(spent)} {currency} spent of {format_money(budget.amount)} {currency} for {label} "
            f"({_scope_text(stored)}); threshold {threshold.label} = {format_money(threshold.amount)} {currency}."
        ),
        currency=currency,
        actual=spent,
        threshold=threshold.amount,
    )


def _forecast(
    context: Context,
    stored: StoredBudget,
    threshold: Threshold,
    projection: tuple[Decimal, Decimal, Decimal],
    crossing: date | None,
    currency: str,
    label: str,
) -> Alert:
    budget = stored.budget
    projected, lower, upper = projection
    when = f"at this rate it is crossed on {crossing.isoformat()}" if crossing else "it is forecast to be crossed"
    return make_alert(
        context,
        kind="forecast",
        severity=threshold.severity(budget.amount),
        rule=f"budget:{stored.id}",
        scope=budget.scope,
        period=label,
        level=threshold.label,
        title=f"Budget {budget.name!r} forecast over {threshold.label.removeprefix('forecast:')}",
        message=(
            f"Projected {format_money(projected)} {currency} for {label} (80% interval {format_money(lower)} to "
            f"{format_money(upper)}) against {format_money(threshold.amount)} {currency}; {when} "
            f"({_scope_text(stored)})."
        ),
        currency=currency,
        expected=projected,
        threshold=threshold.amount,
    )


def settled(context: Context, budgets: list[StoredBudget], open_alerts: list[Alert]) -> list[str]:
    """Budget alerts that no longer hold: their period is over, spend was restated below the threshold, or a
    forecast alert whose amount actual spend has now crossed (the actual alert takes over)."""
    today = local_today(context.now, context.config.timezone)
    by_rule: dict[str, list[Alert]] = {}
    for alert in open_alerts:
        if alert.kind in ("budget", "forecast"):
            by_rule.setdefault(alert.rule, []).append(alert)
    done: list[str] = []
    for stored in budgets:
        alerts = by_rule.get(f"budget:{stored.id}", [])
        if not alerts:
            continue
        budget = stored.budget
        start, end = period_bounds(budget.period, today)
        label = period_label(budget.period, start)
        currency = budget.currency or context.config.currency
        spent = sum((a for _, a in context.series(budget.scope, currency, start, min(end, today))), ZERO)
        amounts = {t.label: t.amount for t in thresholds(budget)}
        for alert in alerts:
            amount = amounts.get(alert.level)
            over = alert.period != label or amount is None
            restated = alert.kind == "budget" and amount is not None and spent < amount
            superseded = alert.kind == "forecast" and amount is not None and spent >= amount
            if over or restated or superseded:
                done.append(alert.id)
    return done

"""Budget rules: actual spend over a threshold, and (with a forecast) projected spend over one."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date
from decimal import Decimal

from spendwatch.domain.alerts import Alert, describe_scope
from spendwatch.domain.budgets import Threshold, thresholds
from spendwatch.domain.money import format_money

from alert.evaluate.inputs import BudgetPeriod
from alert.evaluate.rules import Stamp

# (history, period_start, period_end, today, amount) -> (projected, lower, upper, day the amount is crossed)
Projector = Callable[
    [list[tuple[date, Decimal]], date, date, date, Decimal], tuple[Decimal, Decimal, Decimal, date | None]
]


def project_with_forecast(
    history: list[tuple[date, Decimal]], start: date, end: date, today: date, amount: Decimal
) -> tuple[Decimal, Decimal, Decimal, date | None]:
    """The projections module's period spend and crossing day (imported on first use: NumPy is heavy)."""
    from spendwatch.domain.forecast import crossing_date, projected_period_spend

    spend = projected_period_spend(history, start, end, today)
    crossing = crossing_date(history, amount, start, end, today)
    return spend.amount, spend.lower, spend.upper, crossing.day


def crossed(
    periods: Sequence[BudgetPeriod], stamp: Stamp, project: Projector = project_with_forecast
) -> Iterator[Alert]:
    """Alerts for every threshold the current period of each budget has crossed (or is forecast to cross)."""
    for period in periods:
        for threshold in thresholds(period.stored.budget):
            if not threshold.forecast and period.spent >= threshold.amount:
                yield _actual(stamp, period, threshold)
            elif threshold.forecast and period.history is not None and period.spent < threshold.amount:
                projection = project(period.history, period.start, period.end, period.today, threshold.amount)
                if projection[0] >= threshold.amount:
                    yield _forecast(stamp, period, threshold, projection)


def _actual(stamp: Stamp, period: BudgetPeriod, threshold: Threshold) -> Alert:
    budget, spent, currency = period.stored.budget, period.spent, period.currency
    pct = (spent / budget.amount * 100).quantize(Decimal(1))
    return stamp.alert(
        kind="budget",
        severity=threshold.severity(budget.amount),
        rule=f"budget:{period.stored.id}",
        scope=budget.scope,
        period=period.label,
        level=threshold.label,
        title=f"Budget {budget.name!r} crossed {threshold.label} ({pct}% used)",
        message=(
            f"{format_money(spent)} {currency} spent of {format_money(budget.amount)} {currency} for {period.label} "
            f"({describe_scope(budget.scope)}); threshold {threshold.label} = "
            f"{format_money(threshold.amount)} {currency}."
        ),
        currency=currency,
        actual=spent,
        threshold=threshold.amount,
    )


def _forecast(
    stamp: Stamp,
    period: BudgetPeriod,
    threshold: Threshold,
    projection: tuple[Decimal, Decimal, Decimal, date | None],
) -> Alert:
    budget, currency = period.stored.budget, period.currency
    projected, lower, upper, crossing = projection
    when = f"at this rate it is crossed on {crossing.isoformat()}" if crossing else "it is forecast to be crossed"
    return stamp.alert(
        kind="forecast",
        severity=threshold.severity(budget.amount),
        rule=f"budget:{period.stored.id}",
        scope=budget.scope,
        period=period.label,
        level=threshold.label,
        title=f"Budget {budget.name!r} forecast over {threshold.label.removeprefix('forecast:')}",
        message=(
            f"Projected {format_money(projected)} {currency} for {period.label} (80% interval {format_money(lower)} "
            f"to {format_money(upper)}) against {format_money(threshold.amount)} {currency}; {when} "
            f"({describe_scope(budget.scope)})."
        ),
        currency=currency,
        expected=projected,
        threshold=threshold.amount,
    )


def settled(periods: Sequence[BudgetPeriod], open_alerts: Sequence[Alert]) -> list[str]:
    """Budget alerts that no longer hold: their period is over, spend was restated below the threshold, or a
    forecast alert whose amount actual spend has now crossed (the actual alert takes over)."""
    by_rule: dict[str, list[Alert]] = {}
    for alert in open_alerts:
        if alert.kind in ("budget", "forecast") and alert.status != "resolved":
            by_rule.setdefault(alert.rule, []).append(alert)
    done: list[str] = []
    for period in periods:
        amounts = {t.label: t.amount for t in thresholds(period.stored.budget)}
        for alert in by_rule.get(f"budget:{period.stored.id}", []):
            amount = amounts.get(alert.level)
            over = alert.period != period.label or amount is None
            restated = alert.kind == "budget" and amount is not None and period.spent < amount
            superseded = alert.kind == "forecast" and amount is not None and period.spent >= amount
            if over or restated or superseded:
                done.append(alert.id)
    return done

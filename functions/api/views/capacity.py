"""Plan limits and usage forecasts from stored usage: what ``/v1/capacity``, ``/v1/usage/forecast``, ``/metrics``
and the dashboard page share, so they agree.

One reading per request: every month the window touches is read once per metric the limits name (every source's
usage of a metric, pushed or collected, shares its partitions), and every limit is judged from that one reading.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from spendwatch.domain.capacity import HISTORY_DAYS, Capacity, UsagePoint, recent_usage, standings, usage_forecast
from spendwatch.domain.money import ZERO

if TYPE_CHECKING:
    from spendwatch.domain.config import Config
    from spendwatch.domain.models import UsageItem
    from spendwatch.store import Store


def capacity_now(store: Store, config: Config, today: date) -> list[Capacity]:
    """Every configured limit's standing as of ``today``, in config order (the evaluator judges the same way)."""
    return standings(store, config.limits, today)


def metric_days(items: Iterable[UsageItem], metric: str, tenant: str | None = None) -> list[tuple[date, Decimal]]:
    """A metric's quantity per day (one tenant's, or every tenant's summed), in day order."""
    totals: dict[date, Decimal] = {}
    for item in items:
        if item.metric == metric and (tenant is None or item.x_tenant == tenant):
            totals[item.day] = totals.get(item.day, ZERO) + item.quantity
    return sorted(totals.items())


def carried_forward(days: Sequence[tuple[date, Decimal]], through: date) -> list[tuple[date, Decimal]]:
    """A level series with every day through ``through``: a day without a reading keeps the last one (a level is
    not zero because nobody reported it)."""
    known, filled = dict(days), []
    day, last = min(known), ZERO
    while day <= through:
        last = known.get(day, last)
        filled.append((day, last))
        day += timedelta(days=1)
    return filled


@dataclass(frozen=True)
class UsageForecast:
    """A metric's forecast: the history it was fitted on ends at ``data_through``."""

    metric: str
    tenant: str | None
    unit: str
    data_through: date
    history_days: int
    points: list[UsagePoint]


def forecast_usage(
    store: Store,
    config: Config,
    metric: str,
    tenant: str | None,
    today: date,
    horizon_days: int,
    level: float = 0.8,
) -> UsageForecast | None:
    """The metric's daily forecast from ``today``; None when it has no usage in the last ``HISTORY_DAYS`` days.

    A metric some ``level`` limit names is a level: days without a reading carry the last one forward (otherwise a
    day without records counts as zero, as the forecaster densifies a series)."""
    items = [item for item in recent_usage(store, {metric}, today) if item.day < today]
    days = metric_days(items, metric, tenant)
    if not days:
        return None
    if any(limit.metric == metric and limit.basis == "level" for limit in config.limits):
        days = carried_forward(days, today - timedelta(days=1))
    units = sorted({item.unit for item in items if item.metric == metric})
    points = usage_forecast(days, today, horizon_days, level)
    return UsageForecast(
        metric=metric,
        tenant=tenant,
        unit=", ".join(units),
        data_through=days[-1][0],
        history_days=HISTORY_DAYS,
        points=points,
    )

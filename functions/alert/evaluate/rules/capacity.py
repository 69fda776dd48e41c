"""Capacity rules: a plan limit's levels reached (percentages, exceeded, forecast within N days), and the
capacity alerts that no longer hold (usage fell back, the forecast moved out, or the period ended)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date

from spendwatch.domain.alerts import Alert
from spendwatch.domain.capacity import Capacity, capacity_alerts, settled_capacity_alerts
from spendwatch.domain.models import end_of_day
from spendwatch.domain.pricing import period_bounds

from alert.evaluate.rules import Stamp


def reached(capacities: Sequence[Capacity], stamp: Stamp) -> Iterator[Alert]:
    """One alert per (limit, period, level) reached, carrying the freshness of the limit's own usage."""
    for standing in capacities:
        fresh = end_of_day(standing.data_through)
        for proposal in capacity_alerts(standing):
            yield stamp.alert(**proposal.fields(), data_through=fresh)


def settled(capacities: Sequence[Capacity], open_alerts: Iterable[Alert]) -> list[str]:
    """Ids of the evaluated limits' open capacity alerts that no longer hold."""
    alerts = list(open_alerts)
    return [alert_id for standing in capacities for alert_id in settled_capacity_alerts(standing, alerts)]


def ended(open_alerts: Iterable[Alert], today: date) -> list[str]:
    """Ids of open capacity alerts whose period (``YYYY-MM`` or ``YYYY-MM-DD``) is over by ``today``."""
    return [alert.id for alert in open_alerts if alert.kind == "capacity" and _last_day(alert.period) < today]


def _last_day(period: str) -> date:
    if len(period) == 10:
        return date.fromisoformat(period)
    return period_bounds("month", date.fromisoformat(f"{period}-01"))[1]

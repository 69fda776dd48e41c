"""Utilisation alerts: a resource whose CPU or memory daily average is above its threshold (``[utilisation]``).

The collectors write each resource's day as usage items (``cpu_utilisation_avg``, ``memory_utilisation_avg``:
ratios, 1.0 = all of it). One alert per (resource, day, measure): ``rule = utilisation:<measure>``, scope
``{provider, resource}``, ``period`` the day and ``level`` the threshold's label, so re-collecting the same day
never alerts twice. A day re-collected below its threshold settles its alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal, Protocol

from spendwatch.domain.config import Utilisation
from spendwatch.domain.models import UsageItem

CPU_AVG, MEMORY_AVG = "cpu_utilisation_avg", "memory_utilisation_avg"
# measure name, usage metric, what people call it
MEASURES: tuple[tuple[Literal["cpu", "memory"], str, str], ...] = (
    ("cpu", CPU_AVG, "CPU"),
    ("memory", MEMORY_AVG, "memory"),
)
UTILISATION_ALERT_METRICS = frozenset(metric for _, metric, _ in MEASURES)


@dataclass(frozen=True)
class UtilisationAlert:
    """A proposed utilisation alert: the ``Alert`` fields a rule passes on (see ``fields``)."""

    rule: str
    scope: dict[str, str]
    period: str
    level: str
    title: str
    message: str
    actual: Decimal
    threshold: Decimal
    day: date

    def fields(self) -> dict[str, Any]:
        """Keyword arguments for the alert (kind, severity, rule, scope, period, level, words, numbers)."""
        return {
            "kind": "utilisation",
            "severity": "warning",
            "rule": self.rule,
            "scope": dict(self.scope),
            "period": self.period,
            "level": self.level,
            "title": self.title,
            "message": self.message,
            "actual": self.actual,
            "threshold": self.threshold,
        }


def utilisation_rule(measure: str) -> str:
    """The ``rule`` of every utilisation alert on ``measure`` (``cpu`` or ``memory``)."""
    return f"utilisation:{measure}"


def _pct(ratio: Decimal) -> str:
    return f"{(ratio * 100).quantize(Decimal('0.1')):f}%"


def _thresholds(settings: Utilisation) -> dict[str, tuple[str, Decimal, str, str]]:
    ratios = {"cpu": (settings.cpu, settings.cpu_ratio), "memory": (settings.memory, settings.memory_ratio)}
    return {metric: (measure, ratios[measure][1], ratios[measure][0], words) for measure, metric, words in MEASURES}


def daily_averages(items: Iterable[UsageItem]) -> dict[tuple[str, str, str, date], tuple[Decimal, UsageItem]]:
    """Per (metric, provider, resource, day) the stored daily average (the last item seen wins: there is one)."""
    found: dict[tuple[str, str, str, date], tuple[Decimal, UsageItem]] = {}
    for item in items:
        if item.metric in UTILISATION_ALERT_METRICS and item.ResourceId:
            found[(item.metric, item.ProviderName, item.ResourceId, item.day)] = (item.quantity, item)
    return found


def utilisation_alerts(
    items: Iterable[UsageItem], settings: Utilisation, names: Mapping[str, str] | None = None
) -> list[UtilisationAlert]:
    """One proposed alert per resource, day and measure whose daily average is above its threshold; ``names``
    (resource id -> name, from the inventory) makes the words say which droplet or instance."""
    thresholds = _thresholds(settings)
    names = names or {}
    alerts = []
    for (metric, provider, resource, day), (value, item) in sorted(daily_averages(items).items()):
        measure, ratio, label, words = thresholds[metric]
        if value <= ratio:
            continue
        name = names.get(resource)
        what = f"{item.ServiceName or provider} {f'{name} ({resource})' if name else resource}".strip()
        alerts.append(
            UtilisationAlert(
                rule=utilisation_rule(measure),
                scope={"provider": provider, "resource": resource},
                period=day.isoformat(),
                level=label,
                title=f"{what}: {words} averaged {_pct(value)} on {day.isoformat()} (above {label})",
                message=(
                    f"{provider} {what} used {_pct(value)} of its {words} on average on {day.isoformat()}, above the "
                    f"{label} threshold ([utilisation] {measure}). A resource that runs this hot for days may need "
                    "a larger size, or its load a closer look."
                ),
                actual=value,
                threshold=ratio,
                day=day,
            )
        )
    return alerts


class OpenAlert(Protocol):
    """What settling needs of an open alert."""

    @property
    def id(self) -> str: ...

    @property
    def rule(self) -> str: ...

    @property
    def scope(self) -> dict[str, Any]: ...

    @property
    def period(self) -> str: ...


def settled_utilisation_alerts(
    items: Iterable[UsageItem], settings: Utilisation, alerts: Iterable[OpenAlert]
) -> list[str]:
    """Ids of open utilisation alerts whose day was read again (in ``items``) and is now at or below threshold."""
    thresholds = _thresholds(settings)
    values = {
        (utilisation_rule(thresholds[metric][0]), provider, resource, day.isoformat()): value
        for (metric, provider, resource, day), (value, _) in daily_averages(items).items()
    }
    settled = []
    for alert in alerts:
        if not alert.rule.startswith("utilisation:"):
            continue
        key = (alert.rule, str(alert.scope.get("provider", "")), str(alert.scope.get("resource", "")), alert.period)
        measure = alert.rule.split(":", 1)[1]
        ratio = next((t[1] for t in thresholds.values() if t[0] == measure), None)
        if key in values and ratio is not None and values[key] <= ratio:
            settled.append(alert.id)
    return settled

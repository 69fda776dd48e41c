"""Costs per tenant with shared costs split by usage, and unit costs: cost of a scope against a usage metric.

An allocation's shared cost is the part of its scope's charges that has no tenant (``(none)`` in ``/v1/costs``),
narrowed by the request's filters. Each day's shared cost is split over the tenants that used the allocation's
metric that day, in proportion to their quantities (``domain.unit_costs.allocate``); a day without usage stays
under ``(none)``. A tenant filter turns allocations off (the filter asks for that tenant's own charges).
Allocations apply in config order, and one whose scope might cover charges an earlier one
already split (the scopes do not differ on a key both name) is skipped, so no cost is split twice. Moving amounts
between groups never changes the total.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from spendwatch.domain.aggregates import NONE_KEY
from spendwatch.domain.history import Group, History, history
from spendwatch.domain.money import ZERO
from spendwatch.domain.unit_costs import UNALLOCATED, allocate, daily_quantities

if TYPE_CHECKING:
    from spendwatch.domain.config import Config
    from spendwatch.domain.plans import Allocation
    from spendwatch.store import Store


@dataclass
class Split:
    """What one allocation did over a range: its shared cost, the parts per tenant, and why it was skipped."""

    allocation: Allocation
    shared: Decimal = ZERO
    tenants: dict[str, Decimal] = field(default_factory=dict)
    skipped: str | None = None

    @property
    def allocated(self) -> Decimal:
        """The part of the shared cost split over tenants."""
        return sum(self.tenants.values(), ZERO)


def narrow(scope: Mapping[str, Any], where: Mapping[str, Any]) -> dict[str, Any] | None:
    """Charges in both ``scope`` and ``where`` as one scope; None when no charge can be in both."""
    merged: dict[str, Any] = {key: value for key, value in scope.items() if key != "tag"}
    for key, value in where.items():
        if key != "tag" and merged.setdefault(key, value) != value:
            return None
    tags = dict(scope.get("tag") or {})
    for key, value in (where.get("tag") or {}).items():
        if tags.setdefault(key, value) != value:
            return None
    return merged | ({"tag": tags} if tags else {})


def disjoint(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether no charge can fall in both scopes: some key (or tag) both name has different values."""
    return narrow(a, b) is None


def shared_days(store: Store, scope: Mapping[str, Any], currency: str, start: date, end: date) -> dict[date, Decimal]:
    """Cost per day of the scope's charges without a tenant (days with none left out)."""
    result = history(store, start, end, "day", None, currency, {**scope, "tenant": NONE_KEY})
    points = result.groups[0].points if result.groups else {}
    return {date.fromisoformat(day): amount for day, amount in points.items() if amount != 0}


def split_allocation(
    store: Store, config: Config, allocation: Allocation, where: Mapping[str, Any], start: date, end: date
) -> tuple[Split, dict[date, dict[str, Decimal]]]:
    """One allocation over [start, end] within ``where``: its summary and its parts per day and tenant."""
    scope = narrow(allocation.scope, where)
    if scope is None or scope.get("tenant", NONE_KEY) != NONE_KEY:
        return Split(allocation), {}
    shared = shared_days(store, scope, config.currency, start, end)
    if not shared:
        return Split(allocation), {}
    quantities, _ = daily_quantities(store, allocation.metric, start, end)
    weights = {day: {t: q for t, q in by_tenant.items() if t != UNALLOCATED} for day, by_tenant in quantities.items()}
    parts = {
        day: {tenant: amount for tenant, amount in by_tenant.items() if tenant != UNALLOCATED}
        for day, by_tenant in allocate(shared, weights).items()
    }
    summary = Split(allocation, shared=sum(shared.values(), ZERO))
    for by_tenant in parts.values():
        for tenant, amount in by_tenant.items():
            summary.tenants[tenant] = summary.tenants.get(tenant, ZERO) + amount
    return summary, parts


def allocate_history(
    store: Store, config: Config, result: History, where: Mapping[str, Any]
) -> tuple[History, list[Split], dict[str, Decimal]]:
    """A history grouped by tenant with every allocation's parts moved from ``(none)`` to the tenants.

    Returns the history (changed in place), what each allocation did, and the signed amount moved per group key.
    """
    splits: list[Split] = []
    moved: dict[str, Decimal] = defaultdict(lambda: ZERO)
    applied: list[Allocation] = []
    for allocation in config.allocations:
        if "tenant" in where:
            splits.append(Split(allocation, skipped="a tenant filter is given: only that tenant's own charges count"))
            continue
        earlier = next((a.name for a in applied if not disjoint(a.scope, allocation.scope)), None)
        if earlier is not None:
            splits.append(Split(allocation, skipped=f"its scope may overlap allocation {earlier!r}"))
            continue
        applied.append(allocation)
        summary, parts = split_allocation(store, config, allocation, where, result.start, result.end)
        splits.append(summary)
        for day, by_tenant in parts.items():
            label = day.isoformat() if result.granularity == "day" else day.isoformat()[:7]
            for tenant, amount in by_tenant.items():
                _move(result, label, NONE_KEY, tenant, amount)
                moved[tenant] += amount
                moved[NONE_KEY] -= amount
    _tidy(result)
    return result, splits, dict(moved)


def _move(result: History, label: str, source: str, target: str, amount: Decimal) -> None:
    groups = {group.key: group for group in result.groups}
    for key, sign in ((source, -1), (target, 1)):
        group = groups.get(key)
        if group is None:
            group = Group(key)
            result.groups.append(group)
            groups[key] = group
        group.total += sign * amount
        group.points[label] = group.points.get(label, ZERO) + sign * amount


def _tidy(result: History) -> None:
    """Drop a ``(none)`` group allocations emptied; largest first again."""
    kept = [g for g in result.groups if g.key != NONE_KEY or g.total != 0 or any(a != 0 for a in g.points.values())]
    result.groups = sorted(kept, key=lambda g: (-g.total, g.key))

"""Pre-aggregated totals: per source, day (or month) and currency, broken down by every dimension."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from spendwatch.money import ZERO

if TYPE_CHECKING:
    from spendwatch.models import CostItem

NONE_KEY = "(none)"
# Fixed dimensions API users group by; tags add one dimension per tag key, named "tag:<key>".
DIMENSIONS = ("provider", "service", "account", "region", "tenant", "sku")
TAG_PREFIX = "tag:"


def dimension_values(item: CostItem) -> dict[str, str]:
    """The value of every dimension for one cost item (missing values become ``(none)``)."""
    values = {
        "provider": item.ProviderName,
        "service": item.ServiceName,
        "account": item.SubAccountId or item.BillingAccountId,
        "region": item.RegionId,
        "tenant": item.x_tenant,
        "sku": item.SkuId,
    }
    values.update({f"{TAG_PREFIX}{key}": value for key, value in item.Tags.items()})
    return {dim: (value or NONE_KEY) for dim, value in values.items()}


def _by_dim() -> defaultdict[str, defaultdict[str, Decimal]]:
    return defaultdict(lambda: defaultdict(lambda: ZERO))


@dataclass
class Totals:
    """Sum of BilledCost in one currency, overall and per dimension value."""

    total: Decimal = ZERO
    by: defaultdict[str, defaultdict[str, Decimal]] = field(default_factory=_by_dim)

    def add(self, amount: Decimal, values: Mapping[str, str]) -> None:
        """Count ``amount`` once in the total and once in every dimension."""
        self.total += amount
        for dim, value in values.items():
            self.by[dim][value] += amount

    def merge(self, other: Totals) -> None:
        """Add another Totals into this one."""
        self.total += other.total
        for dim, values in other.by.items():
            for value, amount in values.items():
                self.by[dim][value] += amount

    def group(self, dimension: str) -> dict[str, Decimal]:
        """Amounts per value of ``dimension``; tag dimensions get an ``(none)`` bucket for untagged cost."""
        groups = dict(self.by.get(dimension, {}))
        if dimension.startswith(TAG_PREFIX):
            untagged = self.total - sum(groups.values(), ZERO)
            if untagged != 0:
                groups[NONE_KEY] = groups.get(NONE_KEY, ZERO) + untagged
        return groups

    def to_attr(self) -> dict[str, Any]:
        """Plain dict for the store (Decimals kept exact)."""
        return {"total": self.total, "by": {dim: dict(values) for dim, values in self.by.items()}}

    @classmethod
    def from_attr(cls, data: Mapping[str, Any]) -> Totals:
        """Inverse of :meth:`to_attr`."""
        totals = cls(total=Decimal(data["total"]))
        for dim, values in data.get("by", {}).items():
            for value, amount in values.items():
                totals.by[dim][value] = Decimal(amount)
        return totals


@dataclass
class PeriodTotals:
    """Totals for one period (a day or a month), keyed by currency."""

    currencies: dict[str, Totals] = field(default_factory=dict)
    items: int = 0

    def add(self, item: CostItem) -> None:
        """Count one cost item."""
        totals = self.currencies.setdefault(item.BillingCurrency, Totals())
        totals.add(item.BilledCost, dimension_values(item))
        self.items += 1

    def merge(self, other: PeriodTotals) -> None:
        """Add another period's totals into this one."""
        for currency, totals in other.currencies.items():
            self.currencies.setdefault(currency, Totals()).merge(totals)
        self.items += other.items

    def to_attr(self) -> dict[str, Any]:
        """Plain dict for the store."""
        return {currency: totals.to_attr() for currency, totals in self.currencies.items()}

    @classmethod
    def from_attr(cls, data: Mapping[str, Any], items: int = 0) -> PeriodTotals:
        """Inverse of :meth:`to_attr`."""
        return cls({currency: Totals.from_attr(value) for currency, value in data.items()}, items)


def totals_by_day(items: Iterable[CostItem]) -> dict[str, PeriodTotals]:
    """Aggregate cost items per ISO day."""
    days: dict[str, PeriodTotals] = {}
    for item in items:
        days.setdefault(item.day.isoformat(), PeriodTotals()).add(item)
    return days

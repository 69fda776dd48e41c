"""Pre-aggregated totals: per source, day (or month) and currency, broken down by every dimension."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from spendwatch.domain.money import ZERO

if TYPE_CHECKING:
    from spendwatch.domain.models import CostItem

NONE_KEY = "(none)"
# Fixed dimensions API users group by; tags add one dimension per tag key, named "tag:<key>".
DIMENSIONS = ("provider", "service", "account", "region", "tenant", "sku")
TAG_PREFIX = "tag:"
# Cells hold the cost of each combination of these dimensions and the tags, so a question that filters
# on one dimension and groups by another (provider=aws by service) is answered without reading charges.
# SKUs stay out: they multiply combinations most and nobody filters by them.
CELL_DIMENSIONS = ("provider", "service", "account", "region", "tenant")
# Past this many combinations in one day the cells are dropped (None): the item must stay well under
# DynamoDB's 400 KB, and filtered questions about that day read its charges instead.
MAX_CELLS = 2000


def dimension_values(item: CostItem | Mapping[str, Any]) -> dict[str, str]:
    """The value of every dimension for a cost item or its stored record (missing values become ``(none)``)."""
    record = item if isinstance(item, Mapping) else {name: getattr(item, name) for name in _DIMENSION_FIELDS}
    values = {
        "provider": record.get("ProviderName"),
        "service": record.get("ServiceName"),
        "account": record.get("SubAccountId") or record.get("BillingAccountId"),
        "region": record.get("RegionId"),
        "tenant": record.get("x_tenant"),
        "sku": record.get("SkuId"),
    }
    values.update({f"{TAG_PREFIX}{key}": value for key, value in (record.get("Tags") or {}).items()})
    return {dim: (value or NONE_KEY) for dim, value in values.items()}


_DIMENSION_FIELDS = (
    "ProviderName",
    "ServiceName",
    "SubAccountId",
    "BillingAccountId",
    "RegionId",
    "x_tenant",
    "SkuId",
    "Tags",
)


def matches(values: Mapping[str, str], where: Mapping[str, Any]) -> bool:
    """Whether a combination of dimension values falls in ``where`` ({dimension: value, "tag": {key: value}})."""
    for dim, wanted in where.items():
        if dim == "tag":
            if any(values.get(f"{TAG_PREFIX}{key}", NONE_KEY) != value for key, value in wanted.items()):
                return False
        elif values.get(dim, NONE_KEY) != wanted:
            return False
    return True


def _by_dim() -> defaultdict[str, defaultdict[str, Decimal]]:
    return defaultdict(lambda: defaultdict(lambda: ZERO))


def cell_key(values: Mapping[str, str]) -> str:
    """The compact key of one combination: the cell dimensions' values, then the tags, as JSON."""
    tags = {dim[len(TAG_PREFIX) :]: value for dim, value in values.items() if dim.startswith(TAG_PREFIX)}
    fixed = [values.get(dim, NONE_KEY) for dim in CELL_DIMENSIONS]
    return json.dumps([*fixed, dict(sorted(tags.items()))], separators=(",", ":"), ensure_ascii=False)


def cell_values(key: str) -> dict[str, str]:
    """Inverse of :func:`cell_key`: every dimension value of the combination (``(none)`` for missing ones)."""
    *fixed, tags = json.loads(key)
    values = dict(zip(CELL_DIMENSIONS, fixed, strict=True))
    values.update({f"{TAG_PREFIX}{tag}": value for tag, value in tags.items()})
    return values


@dataclass
class Totals:
    """Sum of BilledCost in one currency, overall and per dimension value."""

    total: Decimal = ZERO
    by: defaultdict[str, defaultdict[str, Decimal]] = field(default_factory=_by_dim)
    # Cost per combination (see CELL_DIMENSIONS); None when there were too many or they were not kept.
    cells: dict[str, Decimal] | None = field(default_factory=dict)

    def add(self, amount: Decimal, values: Mapping[str, str]) -> None:
        """Count ``amount`` once in the total, once in every dimension and once in its combination."""
        self.total += amount
        for dim, value in values.items():
            self.by[dim][value] += amount
        if self.cells is not None:
            key = cell_key(values)
            self.cells[key] = self.cells.get(key, ZERO) + amount
            self._cap()

    def merge(self, other: Totals) -> None:
        """Add another Totals into this one."""
        self.total += other.total
        for dim, values in other.by.items():
            for value, amount in values.items():
                self.by[dim][value] += amount
        if self.cells is None or other.cells is None:
            self.cells = None
            return
        for key, amount in other.cells.items():
            self.cells[key] = self.cells.get(key, ZERO) + amount
        self._cap()

    def _cap(self) -> None:
        if self.cells is not None and len(self.cells) > MAX_CELLS:
            self.cells = None

    def group(self, dimension: str) -> dict[str, Decimal]:
        """Amounts per value of ``dimension``; tag dimensions get an ``(none)`` bucket for untagged cost."""
        groups = dict(self.by.get(dimension, {}))
        if dimension.startswith(TAG_PREFIX):
            untagged = self.total - sum(groups.values(), ZERO)
            if untagged != 0:
                groups[NONE_KEY] = groups.get(NONE_KEY, ZERO) + untagged
        return groups

    def to_attr(self) -> dict[str, Any]:
        """Plain dict for the store (Decimals kept exact); the cells are stored beside it, see PeriodTotals."""
        return {"total": self.total, "by": {dim: dict(values) for dim, values in self.by.items()}}

    @classmethod
    def from_attr(cls, data: Mapping[str, Any], cells: Mapping[str, Any] | None = None) -> Totals:
        """Inverse of :meth:`to_attr`; ``cells`` None means they were not kept (or not read)."""
        kept = None if cells is None else {key: Decimal(amount) for key, amount in cells.items()}
        totals = cls(total=Decimal(data["total"]), cells=kept)
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
        """Plain dict for the store: per currency, the total and its breakdown by dimension."""
        return {currency: totals.to_attr() for currency, totals in self.currencies.items()}

    def cells_attr(self) -> dict[str, Any]:
        """The combinations per currency, stored as their own attribute so that reads can leave them out."""
        return {c: dict(totals.cells) for c, totals in self.currencies.items() if totals.cells is not None}

    def drop_cells(self) -> None:
        """Forget the combinations (monthly totals keep none: filtered questions read the days)."""
        for totals in self.currencies.values():
            totals.cells = None

    @classmethod
    def from_attr(cls, data: Mapping[str, Any], items: int = 0, cells: Mapping[str, Any] | None = None) -> PeriodTotals:
        """Inverse of :meth:`to_attr` (and of :meth:`cells_attr` when ``cells`` was read)."""
        return cls(
            {
                currency: Totals.from_attr(value, None if cells is None else cells.get(currency))
                for currency, value in data.items()
            },
            items,
        )


def totals_by_day(items: Iterable[CostItem]) -> dict[str, PeriodTotals]:
    """Aggregate cost items per ISO day."""
    days: dict[str, PeriodTotals] = {}
    for item in items:
        days.setdefault(item.day.isoformat(), PeriodTotals()).add(item)
    return days


def month_total(
    month: str, new_days: Mapping[str, PeriodTotals], stored_days: Iterable[tuple[str, PeriodTotals]]
) -> PeriodTotals:
    """A source's total for ``month`` (``YYYY-MM``): its stored days with the newly collected days substituted.

    Monthly totals keep no combinations: filtered questions read the days.
    """
    total = PeriodTotals()
    for day, totals in new_days.items():
        if day.startswith(month):
            total.merge(totals)
    for day, totals in stored_days:
        if day not in new_days:
            total.merge(totals)
    total.drop_cells()
    return total


def months_between(start: date, end: date) -> list[str]:
    """The months (``YYYY-MM``) that [start, end] touches, in order."""
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months

"""Collected usage: the quantities charges already measure, as usage items that limits and rate cards name.

A FOCUS or Vercel charge with a ``ConsumedQuantity`` counts toward the metric its ``ConsumedUnit`` names
(:func:`metric_name`); a day's quantities are summed per metric, unit, provider, service and tenant, so
re-collecting the same charges writes the same items. See "Collected usage metrics" in docs/data-model.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from spendwatch.domain.models import CostItem, UsageItem

from collect.sources.base import Sink

METRIC_MAX = 64
UNIT_MAX = 64
# FOCUS: ConsumedQuantity describes usage; other categories (adjustments, purchases, taxes) measure nothing used.
USAGE_CATEGORY = "Usage"
_OUTSIDE = re.compile(r"[^a-z0-9]+")


def metric_name(unit: str) -> str:
    """The metric a consumed unit is collected under ('' if none can be made from it).

    Lowercase; every run of characters other than ``a-z`` and ``0-9`` becomes one ``_``; ``_`` at either
    end is dropped; the first 64 characters are kept. ``"GB-Months"`` and ``"GB Months"`` are both
    ``gb_months``, ``"GB/Month"`` is ``gb_month``, ``"1M Requests"`` is ``1m_requests``.
    """
    return _OUTSIDE.sub("_", unit.lower()).strip("_")[:METRIC_MAX]


# day, metric, unit, provider, service, tenant
_Key = tuple[date, str, str, str, str, str]


@dataclass
class UsageTally:
    """Sums the consumed quantities of one source's charges per day, metric, unit, provider, service, tenant."""

    source: str
    collected_at: datetime
    sums: dict[_Key, Decimal] = field(default_factory=dict)

    def add(self, item: CostItem) -> None:
        """Count one charge's quantity; charges that are not usage, or carry no quantity or unit, count nothing."""
        if item.ChargeCategory != USAGE_CATEGORY or item.ConsumedQuantity is None:
            return
        unit = item.ConsumedUnit.strip()[:UNIT_MAX]
        metric = metric_name(unit)
        if not metric:
            return
        key = (item.day, metric, unit, item.ProviderName, item.ServiceName, item.x_tenant)
        self.sums[key] = self.sums.get(key, Decimal(0)) + item.ConsumedQuantity

    def items(self) -> list[UsageItem]:
        """The summed usage items, in a fixed order."""
        return [
            UsageItem(
                metric=metric,
                quantity=quantity,
                unit=unit,
                day=day,
                ProviderName=provider,
                ServiceName=service,
                x_tenant=tenant,
                x_source=self.source,
                x_collected_at=self.collected_at,
            )
            for (day, metric, unit, provider, service, tenant), quantity in sorted(self.sums.items())
        ]

    def write(self, sink: Sink) -> int:
        """Write the summed items to the sink (derived from charges already read) and start over; how many."""
        items = self.items()
        for usage in items:
            sink.use(usage, derived=True)
        self.sums.clear()
        return len(items)

"""``idle`` and ``rightsize``: droplets and instances judged on their daily utilisation over a window.

Evidence and confidence:
- a resource is judged on the days of the window (``window_days`` days through ``today``) that have data;
  fewer than ``MIN_DAYS`` days and no finding is made;
- ``confidence`` is ``high`` when data covers at least 90 % of the window, ``medium`` from 50 %, else ``low``.

``idle``: the window's CPU average below ``IDLE_CPU_AVG`` and no day's peak above ``IDLE_CPU_PEAK``;
saves the size's whole ``price_monthly``.

``rightsize``: the next smaller size of the same family (the most expensive available size that is
cheaper, with no more vCPUs and no more memory, offered in the resource's region when the catalogue says
where) must hold the window's p95 with headroom, ``smaller capacity * HEADROOM >= p95 usage`` for CPU (daily
averages, in vCPUs) and memory (daily averages, in MiB), and the highest CPU peak must fit in it at all.
p95 is the nearest-rank 95th percentile of the daily values. Saves the difference of the two ``price_monthly``.
A resource that is idle is not also proposed a smaller size.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from spendwatch.domain.recommendations.inputs import ComputeResource, DailyUtilisation, Inventory, Size
from spendwatch.domain.recommendations.model import (
    Confidence,
    Finding,
    ResourceRef,
    money_text,
    percent,
    ratio_text,
)

IDLE_CPU_AVG = Decimal("0.05")
IDLE_CPU_PEAK = Decimal("0.10")
HEADROOM = Decimal("0.8")
PERCENTILE = Decimal("0.95")
MIN_DAYS = 3
HIGH_COVERAGE = Decimal("0.9")
MEDIUM_COVERAGE = Decimal("0.5")


@dataclass(frozen=True)
class Usage:
    """A resource's utilisation over the window: days with data, averages, p95s and the highest peak."""

    days: int
    window_days: int
    cpu_avg: Decimal
    cpu_p95: Decimal
    cpu_peak: Decimal
    memory_p95: Decimal | None

    @property
    def coverage(self) -> Decimal:
        """The share of the window with data (0..1)."""
        return Decimal(self.days) / Decimal(self.window_days)

    def evidence(self) -> dict[str, str | int | None]:
        """The numbers as evidence carries them."""
        return {
            "days_with_data": self.days,
            "window_days": self.window_days,
            "cpu_avg": ratio_text(self.cpu_avg),
            "cpu_p95": ratio_text(self.cpu_p95),
            "cpu_peak": ratio_text(self.cpu_peak),
            "memory_p95": None if self.memory_p95 is None else ratio_text(self.memory_p95),
        }


def p95(values: Sequence[Decimal]) -> Decimal:
    """The nearest-rank 95th percentile (the smallest value at or above 95 % of the values)."""
    ordered = sorted(values)
    rank = math.ceil(PERCENTILE * len(ordered))
    return ordered[max(rank, 1) - 1]


def confidence(coverage: Decimal) -> Confidence:
    """How much to trust a finding from the share of its window that has data."""
    if coverage >= HIGH_COVERAGE:
        return "high"
    return "medium" if coverage >= MEDIUM_COVERAGE else "low"


def usage(samples: Iterable[DailyUtilisation], today: date, window_days: int) -> Usage | None:
    """One resource's usage over the ``window_days`` days through ``today``; None with fewer than MIN_DAYS."""
    first = today - timedelta(days=window_days - 1)
    days = sorted((s for s in samples if first <= s.day <= today and s.cpu_avg is not None), key=lambda s: s.day)
    if len(days) < MIN_DAYS:
        return None
    averages = [s.cpu_avg for s in days if s.cpu_avg is not None]
    peaks = [s.cpu_peak if s.cpu_peak is not None else s.cpu_avg for s in days]
    memory = [s.memory_avg for s in days if s.memory_avg is not None]
    return Usage(
        days=len(days),
        window_days=window_days,
        cpu_avg=sum(averages, Decimal(0)) / len(averages),
        cpu_p95=p95(averages),
        cpu_peak=max(p for p in peaks if p is not None),
        memory_p95=p95(memory) if len(memory) >= MIN_DAYS else None,
    )


def _ref(resource: ComputeResource) -> ResourceRef:
    return ResourceRef(resource.provider, resource.type, resource.id, resource.name, resource.region)


def idle(resource: ComputeResource, size: Size, used: Usage, currency: str) -> Finding | None:
    """An idle droplet or instance: delete it (or snapshot it first) and save its whole monthly price."""
    if used.cpu_avg >= IDLE_CPU_AVG or used.cpu_peak > IDLE_CPU_PEAK:
        return None
    label = resource.name or resource.id
    return Finding(
        kind="idle",
        resource=_ref(resource),
        title=f"{label} is idle: delete it or snapshot it",
        detail=(
            f"CPU averaged {percent(used.cpu_avg)} and never peaked above {percent(used.cpu_peak)} over "
            f"{used.days} of the last {used.window_days} days; its {size.slug} costs "
            f"{money_text(size.price_monthly)} {currency} a month."
        ),
        monthly_savings=size.price_monthly,
        currency=currency,
        confidence=confidence(used.coverage),
        evidence={
            **used.evidence(),
            "size": size.slug,
            "price_monthly": money_text(size.price_monthly),
            "idle_cpu_avg_below": ratio_text(IDLE_CPU_AVG),
            "idle_cpu_peak_at_most": ratio_text(IDLE_CPU_PEAK),
        },
    )


def next_smaller(size: Size, catalogue: Iterable[Size], region: str) -> Size | None:
    """The next size down in the same family: the dearest available one that is cheaper and no bigger."""
    smaller = [
        other
        for other in catalogue
        if other.family == size.family
        and other.available
        and other.price_monthly < size.price_monthly
        and other.vcpus <= size.vcpus
        and other.memory_mib <= size.memory_mib
        and (not other.regions or not region or region in other.regions)
    ]
    return max(smaller, key=lambda other: (other.price_monthly, other.vcpus, other.memory_mib), default=None)


def _fits(size: Size, smaller: Size, used: Usage) -> bool:
    if used.memory_p95 is None:
        return False
    cpu_needed = used.cpu_p95 * size.vcpus
    memory_needed = used.memory_p95 * size.memory_mib
    return (
        smaller.vcpus * HEADROOM >= cpu_needed
        and smaller.memory_mib * HEADROOM >= memory_needed
        and smaller.vcpus >= used.cpu_peak * size.vcpus
    )


def rightsize(resource: ComputeResource, inventory: Inventory, used: Usage) -> Finding | None:
    """A droplet or instance whose p95 CPU and memory fit the next smaller size: resize it."""
    size = inventory.size(resource.size)
    smaller = None if size is None else next_smaller(size, inventory.sizes, resource.region)
    if size is None or smaller is None or not _fits(size, smaller, used):
        return None
    saving = size.price_monthly - smaller.price_monthly
    label = resource.name or resource.id
    disk_note = (
        f" Its {size.disk_gb} GB disk is larger than {smaller.slug}'s {smaller.disk_gb} GB: a resize keeps the "
        "disk only when it was resized for CPU and RAM alone, otherwise move it to a new, smaller droplet."
        if smaller.disk_gb and size.disk_gb > smaller.disk_gb
        else ""
    )
    return Finding(
        kind="rightsize",
        resource=_ref(resource),
        title=f"Resize {label} from {size.slug} to {smaller.slug}",
        detail=(
            f"p95 CPU {percent(used.cpu_p95)} of {size.vcpus} vCPU and p95 memory "
            f"{percent(used.memory_p95 or Decimal(0))} of {size.memory_mib} MiB over {used.days} days fit "
            f"{smaller.slug} ({smaller.vcpus} vCPU, {smaller.memory_mib} MiB) with {percent(1 - HEADROOM)} "
            f"headroom: {money_text(size.price_monthly)} -> {money_text(smaller.price_monthly)} "
            f"{inventory.currency} a month.{disk_note}"
        ),
        monthly_savings=saving,
        currency=inventory.currency,
        confidence=confidence(used.coverage),
        evidence={
            **used.evidence(),
            "size": size.slug,
            "price_monthly": money_text(size.price_monthly),
            "target_size": smaller.slug,
            "target_price_monthly": money_text(smaller.price_monthly),
            "headroom": ratio_text(HEADROOM),
        },
    )


def compute_findings(
    inventory: Inventory, samples: Iterable[DailyUtilisation], today: date, window_days: int
) -> list[Finding]:
    """``idle`` or else ``rightsize`` for every compute resource of the inventory that has enough data."""
    by_resource: dict[str, list[DailyUtilisation]] = {}
    for sample in samples:
        if sample.provider == inventory.provider:
            by_resource.setdefault(sample.resource_id, []).append(sample)
    findings: list[Finding] = []
    for resource in inventory.compute:
        used = usage(by_resource.get(resource.id, ()), today, window_days)
        size = inventory.size(resource.size)
        if used is None or size is None:
            continue
        finding = idle(resource, size, used, inventory.currency) or rightsize(resource, inventory, used)
        if finding is not None:
            findings.append(finding)
    return findings

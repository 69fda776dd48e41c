"""What drove a change: per dimension value, expected vs actual and its share of the total change.

Expected per value is the same robust baseline the spike test uses (the median over the baseline days, a day
without the value counting as zero), scaled so each dimension adds up to the scope's expected total. So within
every dimension the values' deltas add up exactly to the scope's change, and shares add up to one.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING

from spendwatch.domain.aggregates import NONE_KEY
from spendwatch.domain.money import ZERO, to_cents

if TYPE_CHECKING:
    from spendwatch.domain.alerts import Driver
    from spendwatch.domain.detect.spike import SpikeResult

# dimension -> value -> amount, as ``Totals.group(dimension)`` returns for each dimension.
Breakdown = Mapping[str, Mapping[str, Decimal]]
SHARE = Decimal("0.0001")
QUANTUM = Decimal("1e-12")


@dataclass(frozen=True)
class ValueChange:
    """One dimension value's expected and actual amounts on the judged day."""

    dimension: str
    key: str
    expected: Decimal
    actual: Decimal

    @property
    def delta(self) -> Decimal:
        """Actual minus expected."""
        return self.actual - self.expected


def _scaled(medians: dict[str, Decimal], total: Decimal) -> dict[str, Decimal]:
    """Scale ``medians`` to add up to ``total`` exactly; the rounding remainder goes to the largest value."""
    current = sum(medians.values(), ZERO)
    if current == 0:
        # Nothing to apportion by: the whole expectation is unattributed.
        return {**medians, NONE_KEY: medians.get(NONE_KEY, ZERO) + total} if total != 0 else dict(medians)
    # Fixed point, finer than any billed amount, so that sums of the parts are exact; the wider context keeps
    # quantize from failing when credits make the parts large against a small net total.
    with localcontext(prec=60):
        scaled = {key: (amount * total / current).quantize(QUANTUM) for key, amount in medians.items()}
        largest = max(scaled, key=lambda key: abs(scaled[key]))
        scaled[largest] += total - sum(scaled.values(), ZERO)
    return scaled


def expected_breakdown(
    baseline: Sequence[Breakdown], expected_total: Decimal | None = None, dimensions: Iterable[str] | None = None
) -> dict[str, dict[str, Decimal]]:
    """Per dimension and value, the median over the baseline days, scaled to ``expected_total`` when given."""
    dims = list(dimensions) if dimensions is not None else sorted({dim for day in baseline for dim in day})
    result: dict[str, dict[str, Decimal]] = {}
    for dim in dims:
        keys = {key for day in baseline for key in day.get(dim, {})}
        medians = {key: statistics.median([day.get(dim, {}).get(key, ZERO) for day in baseline]) for key in keys}
        result[dim] = medians if expected_total is None else _scaled(medians, expected_total)
    return result


def value_changes(
    actual: Breakdown, expected: Breakdown, dimensions: Iterable[str] | None = None
) -> dict[str, list[ValueChange]]:
    """Every value's change per dimension, unfiltered: within a dimension the deltas add up to the total change."""
    dims = list(dimensions) if dimensions is not None else sorted(set(actual) | set(expected))
    changes: dict[str, list[ValueChange]] = {}
    for dim in dims:
        now, before = actual.get(dim, {}), expected.get(dim, {})
        changes[dim] = [
            ValueChange(dim, key, before.get(key, ZERO), now.get(key, ZERO)) for key in sorted(set(now) | set(before))
        ]
    return changes


def _ranked(
    changes: dict[str, list[ValueChange]], min_share: Decimal, min_impact: Decimal
) -> list[tuple[Decimal, ValueChange]]:
    """Values that moved with their dimension's total change, by share of it, largest first."""
    ranked: list[tuple[Decimal, int, ValueChange]] = []
    for order, values in enumerate(changes.values()):
        total = sum((v.delta for v in values), ZERO)
        # A dimension with a single value (one provider, one account) always explains everything: it tells nothing.
        if total == 0 or sum(1 for v in values if v.actual or v.expected) < 2:
            continue
        for value in values:
            share = value.delta / total
            if share >= min_share and abs(value.delta) >= min_impact:
                ranked.append((share, order, value))
    # Ties keep the caller's dimension order, so the first dimension asked for leads.
    ranked.sort(key=lambda item: (-item[0], -abs(item[2].delta), item[1], item[2].key))
    return [(share, value) for share, _, value in ranked]


def rank_drivers(
    actual: Breakdown,
    expected: Breakdown,
    *,
    top: int = 5,
    min_share: Decimal = Decimal("0.05"),
    min_impact: Decimal = Decimal(1),
    dimensions: Iterable[str] | None = None,
) -> list[Driver]:
    """The ``top`` values across dimensions explaining the change (amounts in cents, share of the change to 0.0001)."""
    from spendwatch.domain.alerts import Driver

    ranked = _ranked(value_changes(actual, expected, dimensions), min_share, min_impact)
    return [
        Driver(
            dimension=value.dimension,
            key=value.key,
            expected=to_cents(value.expected),
            actual=to_cents(value.actual),
            share=share.quantize(SHARE),
        )
        for share, value in ranked[:top]
    ]


def explain_spike(
    result: SpikeResult,
    actual: Breakdown,
    days: Mapping[date, Breakdown],
    *,
    top: int = 5,
    min_share: Decimal = Decimal("0.05"),
    min_impact: Decimal = Decimal(1),
    dimensions: Iterable[str] | None = None,
) -> list[Driver]:
    """Drivers of a spike: the day's breakdown against its baseline days' (from ``days``), scaled to its expected."""
    if result.expected is None or not result.baseline_days:
        return []
    # A baseline day absent from ``days`` had no cost.
    baseline = [days.get(day, {}) for day in result.baseline_days]
    # Every dimension of the day or of its baseline, so a dimension new today still adds up to the spike's change.
    dims = list(dimensions) if dimensions is not None else sorted({*actual, *(dim for day in baseline for dim in day)})
    expected = expected_breakdown(baseline, result.expected, dims)
    return rank_drivers(actual, expected, top=top, min_share=min_share, min_impact=min_impact, dimensions=dims)

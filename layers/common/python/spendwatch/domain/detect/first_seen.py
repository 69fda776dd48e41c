"""First-seen: dimension values (a service, a region, a SKU) that cost money on a day for the first time."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from spendwatch.domain.aggregates import NONE_KEY
from spendwatch.domain.money import ZERO

FIRST_SEEN_DIMENSIONS = ("service", "region", "sku")
DEFAULT_FLOOR = Decimal(1)


@dataclass(frozen=True)
class FirstSeen:
    """A value new on the day, and what it cost that day."""

    dimension: str
    key: str
    amount: Decimal


def seen_values(
    days: Iterable[Mapping[str, Mapping[str, Decimal]]],
    floor: Decimal = DEFAULT_FLOOR,
    dimensions: Iterable[str] = FIRST_SEEN_DIMENSIONS,
) -> dict[str, set[str]]:
    """Values that cost at least ``floor`` on any of ``days``, per dimension."""
    # With the same floor as first_seen, a service whose first (partial) day cost cents still alerts on the first
    # day it costs the floor, and only then.
    dims = tuple(dimensions)
    seen: dict[str, set[str]] = {dim: set() for dim in dims}
    for day in days:
        for dim in dims:
            seen[dim].update(key for key, amount in day.get(dim, {}).items() if amount >= floor)
    return seen


def first_seen(
    seen: Mapping[str, Collection[str]],
    day: Mapping[str, Mapping[str, Decimal]],
    floor: Decimal = DEFAULT_FLOOR,
    dimensions: Iterable[str] = FIRST_SEEN_DIMENSIONS,
) -> list[FirstSeen]:
    """Values of ``day`` absent from ``seen`` that cost at least ``floor``, largest first."""
    # "(none)" is never new: it stands for cost without a value (global services have no region).
    found = [
        FirstSeen(dim, key, amount)
        for dim in dimensions
        for key, amount in day.get(dim, {}).items()
        if key != NONE_KEY and amount >= floor and amount > ZERO and key not in seen.get(dim, ())
    ]
    return sorted(found, key=lambda item: (-item.amount, item.dimension, item.key))

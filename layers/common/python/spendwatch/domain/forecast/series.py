"""Daily cost series as the forecaster sees them: dense, trimmed to where spending started, exact alongside float."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np

from spendwatch.domain.money import ZERO

if TYPE_CHECKING:
    # numpy.typing costs milliseconds of cold start; the aliases are only for the type checker.
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]
    BoolArray = npt.NDArray[np.bool_]

ONE_DAY = timedelta(days=1)


class ForecastError(ValueError):
    """Input a forecast cannot be computed from: amounts that are not Decimals, a bad level, horizon or period."""


@dataclass(frozen=True)
class DailySeries:
    """One value per day from the first day with cost through the last complete day."""

    start: date
    through: date
    values: FloatArray
    exact: tuple[Decimal, ...]
    # True when no day carried a credit, so forecasts and lower bounds may be floored at zero.
    nonnegative: bool = True

    @property
    def n(self) -> int:
        """Number of days of history."""
        return len(self.exact)

    def index(self, day: date) -> int:
        """Offset of ``day`` from the first day of history (negative before it)."""
        return (day - self.start).days

    def actual(self, first: date, last: date) -> Decimal:
        """Exact spend over ``first..last`` (inclusive), counting only days already complete."""
        lo = max(self.index(first), 0)
        hi = min(self.index(last), self.n - 1)
        return sum(self.exact[lo : hi + 1], ZERO) if hi >= lo else ZERO


def daily_series(points: Iterable[tuple[date, Decimal]], through: date) -> DailySeries:
    """Densify ``(day, amount)`` pairs up to ``through``: gaps cost zero, leading zeros mean not started yet."""
    by_day: dict[date, Decimal] = {}
    for day, amount in points:
        if not isinstance(amount, Decimal) or not amount.is_finite():
            raise ForecastError(f"amount for {day} is not a finite Decimal: {amount!r}")
        if day <= through:
            # Several rows for one day (e.g. one per service) add up to that day's cost.
            by_day[day] = by_day.get(day, ZERO) + amount
    start = min((day for day, amount in by_day.items() if amount != 0), default=None)
    if start is None:
        return DailySeries(start=through + ONE_DAY, through=through, values=np.zeros(0), exact=())
    count = (through - start).days + 1
    exact = tuple(by_day.get(start + timedelta(days=i), ZERO) for i in range(count))
    values = np.fromiter((float(v) for v in exact), dtype=np.float64, count=count)
    if not math.isfinite(float(values.sum())):
        raise ForecastError("amounts too large to forecast")
    return DailySeries(start, through, values, exact, nonnegative=bool(values.min() >= 0))

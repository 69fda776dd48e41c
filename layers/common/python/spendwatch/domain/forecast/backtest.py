"""Rolling-origin backtests: month-end projection error from given days of the month, error by horizon, coverage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from spendwatch.domain.forecast.intervals import Uncertainty
from spendwatch.domain.forecast.methods import EtsParams, Model, make_model
from spendwatch.domain.forecast.series import DailySeries

if TYPE_CHECKING:
    from spendwatch.domain.forecast.series import FloatArray, IntArray

MONTH_END_DAYS = (7, 14, 21)
# The published accuracy looks back this many complete months: enough to judge, cheap enough for every scope.
ACCURACY_MONTHS = 6
# An origin needs this many days of history to count.
MIN_HISTORY = 3


@dataclass(frozen=True)
class MonthEndCase:
    """A month-end projection to test: data through day ``day`` of a complete month, the month's true total."""

    origin: int
    day: int
    days_left: int
    spent: float
    total: float


@dataclass(frozen=True)
class MonthEndOutcome:
    """What a method projected for one case."""

    case: MonthEndCase
    projected: float
    lower: float
    upper: float

    @property
    def error(self) -> float:
        """Absolute error as a fraction of the true month total."""
        return abs(self.projected - self.case.total) / abs(self.case.total)

    @property
    def inside(self) -> bool:
        """True when the month's total fell inside the interval."""
        return self.lower <= self.case.total <= self.upper


@dataclass(frozen=True)
class Accuracy:
    """A series' own backtested month-end accuracy; errors and coverage are fractions (0.05 = 5 %)."""

    method: str
    level: float
    mape_month_end_day7: float | None
    mape_month_end_day14: float | None
    mape_month_end_day21: float | None
    coverage: float | None
    samples: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form; measures without enough history are None."""
        return {
            "method": self.method,
            "level": self.level,
            "mape_month_end_day7": self.mape_month_end_day7,
            "mape_month_end_day14": self.mape_month_end_day14,
            "mape_month_end_day21": self.mape_month_end_day21,
            "coverage": self.coverage,
            "samples": self.samples,
        }


def month_end_cases(
    series: DailySeries, days: Sequence[int] = MONTH_END_DAYS, months: int | None = ACCURACY_MONTHS
) -> list[MonthEndCase]:
    """Origins on the given days of each complete month in the history (latest ``months`` months), oldest first."""
    cases: list[MonthEndCase] = []
    ends_month = (series.through + timedelta(days=1)).day == 1
    month_end = series.through if ends_month else series.through.replace(day=1) - timedelta(days=1)
    seen = 0
    values = np.concatenate(([0.0], np.cumsum(series.values)))
    while series.index(month_end) >= MIN_HISTORY - 1 and (months is None or seen < months):
        month_start = month_end.replace(day=1)
        last = series.index(month_end)
        first = max(series.index(month_start), 0)
        total = float(values[last + 1] - values[first])
        for day in sorted(days, reverse=True):
            origin = series.index(month_start) + day - 1
            if origin >= MIN_HISTORY - 1 and origin < last and total != 0:
                spent = float(values[origin + 1] - values[first])
                cases.append(MonthEndCase(origin, day, last - origin, spent, total))
        seen += 1
        month_end = month_start - timedelta(days=1)
    return cases[::-1]


def month_end_outcomes(
    series: DailySeries, model: Model, cases: Sequence[MonthEndCase], level: float, shape: EtsParams | None = None
) -> list[MonthEndOutcome]:
    """Project each case from the model's state at its origin (the model is causal, so no refit is needed)."""
    if not cases:
        return []
    origins: IntArray = np.array([case.origin for case in cases], dtype=np.int64)
    longest = max(case.days_left for case in cases)
    paths = model.forecasts(origins, longest)
    sums = Uncertainty(series, model, longest, shape=shape, ends=origins.tolist()).sums(level)
    outcomes = []
    for i, case in enumerate(cases):
        projected = case.spent + float(paths[i, : case.days_left].sum())
        down, up = float(sums.down[i, case.days_left - 1]), float(sums.up[i, case.days_left - 1])
        lower = max(projected - down, case.spent) if series.nonnegative else projected - down
        outcomes.append(MonthEndOutcome(case, projected, lower, projected + up))
    return outcomes


def summarize(method: str, level: float, outcomes: Sequence[MonthEndOutcome]) -> Accuracy:
    """Mean month-end error per day of the month and the interval coverage over all cases."""

    def mape(day: int) -> float | None:
        errors = [o.error for o in outcomes if o.case.day == day]
        return round(float(np.mean(errors)), 4) if errors else None

    coverage = round(sum(o.inside for o in outcomes) / len(outcomes), 4) if outcomes else None
    return Accuracy(
        method=method,
        level=level,
        mape_month_end_day7=mape(7),
        mape_month_end_day14=mape(14),
        mape_month_end_day21=mape(21),
        coverage=coverage,
        samples=len(outcomes),
    )


def own_accuracy(
    series: DailySeries, model: Model, method: str, level: float, shape: EtsParams | None = None
) -> Accuracy:
    """The accuracy a forecast publishes next to itself: this series, this method, the last complete months."""
    return summarize(method, level, month_end_outcomes(series, model, month_end_cases(series), level, shape))


class Forecaster(Protocol):
    """Anything that forecasts from a history: used to compare methods, including library ones, on equal terms."""

    @property
    def name(self) -> str:
        """Method name for the tables."""
        ...

    def __call__(self, history: DailySeries, days: int, level: float) -> PathForecast:
        """Point path and interval distances for the ``days`` days after the history ends."""
        ...


@dataclass(frozen=True)
class PathForecast:
    """Point forecasts and interval distances, per day and for running sums from the first day."""

    point: FloatArray
    down: FloatArray
    up: FloatArray
    sum_down: FloatArray
    sum_up: FloatArray


def truncate(series: DailySeries, origin: int) -> DailySeries:
    """The history as it stood at the end of day ``origin``."""
    return DailySeries(
        start=series.start,
        through=series.start + timedelta(days=origin),
        values=series.values[: origin + 1],
        exact=series.exact[: origin + 1],
        nonnegative=series.nonnegative,
    )


def refit_month_end(
    series: DailySeries, forecaster: Forecaster, cases: Sequence[MonthEndCase], level: float
) -> list[MonthEndOutcome]:
    """Month-end outcomes from a forecaster refitted at every origin (for methods that are not causal filters)."""
    outcomes = []
    for case in cases:
        result = forecaster(truncate(series, case.origin), case.days_left, level)
        projected = case.spent + float(result.point.sum())
        down, up = float(result.sum_down[-1]), float(result.sum_up[-1])
        lower = max(projected - down, case.spent) if series.nonnegative else projected - down
        outcomes.append(MonthEndOutcome(case, projected, lower, projected + up))
    return outcomes


@dataclass(frozen=True)
class MethodForecaster:
    """One of this package's methods as a :class:`Forecaster` (refits on each history it is given)."""

    name: str
    params: EtsParams | None = None

    def __call__(self, history: DailySeries, days: int, level: float) -> PathForecast:
        """Fit on ``history`` and forecast ``days`` ahead with intervals from its own errors."""
        model = make_model(history, self.name, self.params)
        origin: IntArray = np.array([history.n - 1], dtype=np.int64)
        errors = Uncertainty(history, model, days, shape=self.params)
        daily, sums = errors.daily(level), errors.sums(level)
        point = model.forecasts(origin, days)[0]
        return PathForecast(point, daily.down[0], daily.up[0], sums.down[0], sums.up[0])


@dataclass(frozen=True)
class HorizonOutcome:
    """Daily errors of one forecast from one origin, by horizon."""

    actual: FloatArray
    point: FloatArray
    lower: FloatArray
    upper: FloatArray


def refit_horizons(
    series: DailySeries, forecaster: Forecaster, origins: Sequence[int], days: int, level: float
) -> list[HorizonOutcome]:
    """Forecast ``days`` ahead from each origin that has that many days of future to compare with."""
    outcomes = []
    for origin in origins:
        if origin + days >= series.n:
            continue
        result = forecaster(truncate(series, origin), days, level)
        lower = result.point - result.down
        if series.nonnegative:
            lower = np.maximum(lower, 0.0)
        actual = series.values[origin + 1 : origin + 1 + days]
        outcomes.append(HorizonOutcome(actual, result.point, lower, result.point + result.up))
    return outcomes

"""Fit a scope's daily series once; read forecasts, month-end projections, period sums and crossings from it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from spendwatch.domain.forecast.backtest import Accuracy, own_accuracy
from spendwatch.domain.forecast.intervals import Uncertainty
from spendwatch.domain.forecast.methods import DEFAULT_METHOD, EtsParams, make_model
from spendwatch.domain.forecast.series import ONE_DAY, ForecastError, daily_series
from spendwatch.domain.money import ZERO

if TYPE_CHECKING:
    from spendwatch.domain.forecast.series import FloatArray, IntArray

DEFAULT_LEVEL = 0.8
MAX_HORIZON = 732
# Twelve significant digits: far below a cent at any real scale, yet a constant series comes back exactly itself.
_DIGITS = Context(prec=12, rounding=ROUND_HALF_EVEN)


class Interval(NamedTuple):
    """An amount with the bounds of its prediction interval."""

    amount: Decimal
    lower: Decimal
    upper: Decimal


class ForecastPoint(NamedTuple):
    """One forecast day."""

    day: date
    amount: Decimal
    lower: Decimal
    upper: Decimal


class Crossing(NamedTuple):
    """When cumulative spend in a period reaches an amount: expected day and the interval's earliest and latest."""

    day: date | None
    earliest: date | None
    latest: date | None


def money(value: float) -> Decimal:
    """Float from the maths back to an exact Decimal for the boundary."""
    return _DIGITS.create_decimal(value) + 0


def check_level(level: float) -> float:
    """Interval level as a float in (0, 1)."""
    value = float(level)
    if not 0.0 < value < 1.0:
        raise ForecastError(f"interval level must be between 0 and 1, got {level}")
    return value


@dataclass(frozen=True)
class Window:
    """A forecast sum over days ``first..last`` after the last complete day, as floats."""

    point: Decimal
    down: float
    up: float


class Projection:
    """One scope's history fitted once; every forecast question about it is answered from this object."""

    def __init__(
        self,
        points: Iterable[tuple[date, Decimal]],
        today: date,
        *,
        through: date | None = None,
        method: str = DEFAULT_METHOD,
        params: EtsParams | None = None,
    ) -> None:
        """Densify and fit; ``through`` is the last complete day (default: the day before ``today``)."""
        self.today = today
        self.through = through or today - ONE_DAY
        if self.through > today:
            raise ForecastError(f"last complete day {self.through} is after today {today}")
        self.series = daily_series(points, self.through)
        self.method = method
        self.params = params
        self.model = make_model(self.series, method, params)
        self._paths: dict[int, FloatArray] = {}
        self._uncertainty: dict[int, Uncertainty] = {}

    def path(self, days: int) -> FloatArray:
        """Point forecasts for the ``days`` days after the last complete day."""
        longer = [n for n in self._paths if n >= days]
        if longer:
            return self._paths[min(longer)][:days]
        if self.series.n == 0:
            self._paths[days] = np.zeros(days)
        else:
            origin: IntArray = np.array([self.series.n - 1], dtype=np.int64)
            self._paths[days] = self.model.forecasts(origin, days)[0]
        return self._paths[days]

    def uncertainty(self, days: int) -> Uncertainty:
        """Errors of this model on this series, for intervals up to ``days`` ahead.

        Intervals for a day do not depend on how far beyond it the errors were computed, so one computed for a
        longer horizon serves every shorter question.
        """
        longer = [n for n in self._uncertainty if n >= days]
        if longer:
            return self._uncertainty[min(longer)]
        self._uncertainty[days] = Uncertainty(self.series, self.model, days, shape=self.params)
        return self._uncertainty[days]

    def offset(self, day: date) -> int:
        """Forecast day number of ``day`` (1 = the day after the last complete day)."""
        return (day - self.through).days

    def window(self, first: int, last: int, level: float) -> Window:
        """Point sum and interval distances over forecast days ``first..last`` (1-based, inclusive)."""
        if last < first:
            return Window(point=ZERO, down=0.0, up=0.0)
        reach = _reach(last)
        amounts = [money(v) for v in self.path(reach)[first - 1 : last]]
        down, up = self.uncertainty(reach).window(check_level(level), first, last)
        return Window(point=sum(amounts, ZERO), down=down, up=up)

    def period(self, start: date, end: date, level: float = DEFAULT_LEVEL) -> Interval:
        """Spend over ``start..end``: what is already spent plus the forecast of the rest, with the sum's interval."""
        if end < start:
            raise ForecastError(f"period ends ({end}) before it starts ({start})")
        spent = self.series.actual(start, min(end, self.through))
        rest = self.window(max(self.offset(start), 1), self.offset(end), level)
        return self._total(spent, rest)

    def forecast(self, horizon_days: int = 30, level: float = DEFAULT_LEVEL, *, accuracy: bool = True) -> Forecast:
        """Daily points from the day after the last complete day through ``today + horizon_days - 1``, and month end."""
        level = check_level(level)
        if horizon_days < 1:
            raise ForecastError(f"horizon must be at least one day, got {horizon_days}")
        month_start, month_end = month_bounds(self.today)
        last = self.offset(self.today + timedelta(days=horizon_days - 1))
        reach = _reach(max(last, self.offset(month_end)))
        path, bands = self.path(reach), self.uncertainty(reach).daily(level)
        points = []
        for i in range(last):
            amount = money(path[i])
            lower = amount - money(bands.down[0, i])
            upper = amount + money(bands.up[0, i])
            points.append(ForecastPoint(self.through + timedelta(days=i + 1), amount, self._floor(lower), upper))
        spent = self.series.actual(month_start, self.through)
        rest = self.window(max(self.offset(month_start), 1), self.offset(month_end), level)
        own = own_accuracy(self.series, self.model, self.method, level, self.params) if accuracy else None
        return Forecast(
            method=self.method,
            level=level,
            through=self.through,
            month_to_date=spent,
            month_end=self._total(spent, rest),
            points=points,
            accuracy=own if own is not None and own.samples else None,
        )

    def crossing(self, threshold: Decimal, start: date, end: date, level: float = DEFAULT_LEVEL) -> Crossing:
        """First day cumulative spend over ``start..end`` reaches ``threshold``: expected, earliest and latest."""
        if end < start:
            raise ForecastError(f"period ends ({end}) before it starts ({start})")
        spent = ZERO
        day = start
        while day <= min(end, self.through):
            spent += self.series.actual(day, day)
            if spent >= threshold:
                return Crossing(day, day, day)
            day += ONE_DAY
        first, last = max(self.offset(start), 1), self.offset(end)
        if last < first:
            return Crossing(None, None, None)
        level = check_level(level)
        reach = _reach(last)
        running = spent
        found: list[date | None] = [None, None, None]
        for offset, value in enumerate(self.path(reach)[first - 1 : last], start=first):
            running += money(value)
            down, up = self.uncertainty(reach).window(level, first, offset)
            bounds = (running, running + money(up), self._floor(running - money(down), spent))
            for k, bound in enumerate(bounds):
                if found[k] is None and bound >= threshold:
                    found[k] = self.through + timedelta(days=offset)
            if found[2] is not None:
                break
        return Crossing(*found)

    def _floor(self, lower: Decimal, spent: Decimal = ZERO) -> Decimal:
        """Without credits in the history, a lower bound never drops below what is already spent."""
        return max(lower, spent) if self.series.nonnegative else lower

    def _total(self, spent: Decimal, rest: Window) -> Interval:
        amount = spent + rest.point
        return Interval(
            amount=amount, lower=self._floor(amount - money(rest.down), spent), upper=amount + money(rest.up)
        )


def _reach(last: int) -> int:
    """Horizon to compute for a question about day ``last``, rounded up so nearby questions share one pass."""
    if last > MAX_HORIZON:
        raise ForecastError(f"cannot forecast more than {MAX_HORIZON} days ahead")
    return max(31, -(-last // 31) * 31)


def month_bounds(day: date) -> tuple[date, date]:
    """First and last day of ``day``'s month."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - ONE_DAY


@dataclass(frozen=True)
class Forecast:
    """A scope's forecast: daily points with intervals, the month-end projection and the method's own track record."""

    method: str
    level: float
    through: date
    month_to_date: Decimal
    month_end: Interval
    points: list[ForecastPoint]
    accuracy: Accuracy | None


def forecast(
    series: Iterable[tuple[date, Decimal]],
    today: date,
    horizon_days: int = 30,
    level: float = DEFAULT_LEVEL,
    *,
    through: date | None = None,
    method: str = DEFAULT_METHOD,
    accuracy: bool = True,
) -> Forecast:
    """Forecast one scope's daily cost ``horizon_days`` ahead of ``today``, with its month-end projection."""
    return Projection(series, today, through=through, method=method).forecast(horizon_days, level, accuracy=accuracy)


def projected_period_spend(
    series: Iterable[tuple[date, Decimal]],
    period_start: date,
    period_end: date,
    today: date,
    level: float = DEFAULT_LEVEL,
    *,
    through: date | None = None,
) -> Interval:
    """Spend over a budget period: actual so far plus forecast of the rest, with the interval of the sum."""
    return Projection(series, today, through=through).period(period_start, period_end, level)


def crossing_date(
    series: Iterable[tuple[date, Decimal]],
    amount_threshold: Decimal,
    period_start: date,
    period_end: date,
    today: date,
    level: float = DEFAULT_LEVEL,
    *,
    through: date | None = None,
) -> Crossing:
    """Day cumulative spend in the period reaches ``amount_threshold`` (None: not within the period)."""
    return Projection(series, today, through=through).crossing(amount_threshold, period_start, period_end, level)

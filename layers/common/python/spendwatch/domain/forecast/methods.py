"""Point-forecast methods: each turns a daily series into forecasts from every origin, so one pass serves backtests."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Protocol

import numpy as np

from spendwatch.domain.forecast.series import DailySeries, ForecastError

if TYPE_CHECKING:
    from spendwatch.domain.forecast.series import BoolArray, FloatArray, IntArray

WEEK = 7
# Months of first-of-month charges the recurring fee is the median of.
RECURRING_MONTHS = 3
# The level a weekly profile was learnt at: the median level over this many days (see RobustEts._season_scale).
PROFILE_DAYS = 28
# Fewest warm-up days a starting trend is fitted to (see EtsParams.warm_trend).
WARM_TREND_DAYS = 4


class Model(Protocol):
    """Forecasts for days ``t+1 .. t+horizon`` made with data through day ``t``, for many origins ``t`` at once."""

    @property
    def name(self) -> str:
        """Method name as published with the forecast."""
        ...

    def forecasts(self, origins: IntArray, horizon: int) -> FloatArray:
        """Matrix ``(len(origins), horizon)`` of point forecasts; row ``i`` uses only days ``<= origins[i]``."""
        ...


def _floor(series: DailySeries, matrix: FloatArray) -> FloatArray:
    """Costs without credits never go negative, so neither do their forecasts."""
    return np.maximum(matrix, 0.0) if series.nonnegative else matrix


@dataclass(frozen=True)
class RunRate:
    """Month-to-date average per day, carried forward (what most billing consoles project)."""

    series: DailySeries
    name: str = "run_rate"
    # Below this many days into the month the month-to-date average is too noisy; use the last week instead.
    min_days: int = 3

    def forecasts(self, origins: IntArray, horizon: int) -> FloatArray:
        """Flat forecast at each origin's run rate."""
        csum = np.concatenate(([0.0], np.cumsum(self.series.values)))
        calendar = np.datetime64(self.series.start, "D") + origins
        into_month = (calendar - calendar.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
        first = np.maximum(origins - into_month + 1, 0)
        first = np.where(origins - first + 1 < self.min_days, np.maximum(origins - WEEK + 1, 0), first)
        rate = (csum[origins + 1] - csum[first]) / (origins - first + 1)
        return _floor(self.series, np.repeat(rate[:, None], horizon, axis=1))


@dataclass(frozen=True)
class SeasonalNaive:
    """Each future day repeats the same weekday of the last complete week."""

    series: DailySeries
    name: str = "seasonal_naive"

    def forecasts(self, origins: IntArray, horizon: int) -> FloatArray:
        """Last week, tiled; with less than a week of data, the mean so far."""
        y = self.series.values
        steps = np.arange(1, horizon + 1)
        back = origins[:, None] - WEEK + 1 + (steps[None, :] - 1) % WEEK
        tiled = y[np.maximum(back, 0)]
        csum = np.cumsum(y)
        mean = csum[origins] / (origins + 1)
        return np.where(origins[:, None] >= WEEK - 1, tiled, mean[:, None])


@dataclass(frozen=True)
class EtsParams:
    """Smoothing weights and robustness knobs of the robust Holt-Winters model (tuned by the backtest in bench/)."""

    alpha: float = 0.1
    beta: float = 0.002
    # 0.20 rather than 0.10: the smallest weight at which the weekly profile follows real series well enough to
    # beat repeating the last week in most cuts of the real tune split (52 % -> 55 %; synthetic month end 2.18 %
    # -> 2.16 %).
    gamma: float = 0.20
    phi: float = 0.95
    clip: float = 3.0
    shift_run: int = 3
    scale_weight: float = 0.05
    floor: float = 0.02
    warmup: int = 14
    # Usage levels (storage, seats) often grow steadily without a weekly rhythm: ``weekly = False`` learns no
    # weekday profile (which on a short ramp would soak up the growth itself), and ``warm_trend`` starts the
    # trend at the warm-up days' least-squares slope, with the level at the line's last day, instead of at 0.
    weekly: bool = True
    warm_trend: bool = False


@dataclass
class _Trace:
    """The filter's state after every day, collected as plain lists while it runs."""

    levels: list[float] = field(default_factory=list)
    trends: list[float] = field(default_factory=list)
    seasons: list[list[float]] = field(default_factory=list)
    offsets: list[float] = field(default_factory=list)
    fees: list[float] = field(default_factory=list)

    def keep(self, level: float, trend: float, season: list[float], offset: float, fee: float) -> None:
        """Record one day's state (the weekly terms are copied: the filter keeps changing its own list)."""
        self.levels.append(level)
        self.trends.append(trend)
        self.seasons.append(season.copy())
        self.offsets.append(offset)
        self.fees.append(fee)


class RobustEts:
    """Additive damped-trend Holt-Winters with weekly seasonality, clipped surprises and level-shift re-levelling.

    Clipping each day's surprise at a few robust standard deviations keeps a one-day spike from bending the
    forecast; a run of same-sided surprises is a level shift, and the level jumps to it instead of crawling.
    A charge that comes back on the first of every month is learnt as a fee and forecast on the next firsts.
    The first two weeks are read straight from the data (level: mean of the last week; weekly profile: mean per
    weekday), so the filter is causal from the first day and its in-sample errors are honest out-of-sample errors.
    """

    name = "robust_ets"

    def __init__(self, series: DailySeries, params: EtsParams | None = None) -> None:
        """Run the filter once over the whole history and keep the state after every day."""
        self.series = series
        self.params = params or EtsParams()
        self.phase = series.start.toordinal() % WEEK
        y = series.values.tolist()
        trace = _Trace()
        warm = min(self.params.warmup, len(y))
        level, season, misses = 0.0, [0.0] * WEEK, []
        for t in range(warm):
            if t:
                misses.append(abs(y[t] - level - season[(self.phase + t) % WEEK]))
            level, season = self._warm(y, t)
            trace.keep(level, 0.0, season, 0.0, 0.0)
        # The median miss, not the mean: one spike in the first weeks must not loosen the clipping after them.
        scale = 1.4826 * _quantile(sorted(misses), 0.5) if misses else 0.0
        trend = 0.0
        if self.params.warm_trend and warm >= WARM_TREND_DAYS:
            level, trend, scale = _line(_fenced(y[:warm]))
        self._smooth(y, warm, (level, season.copy(), scale, trend), trace)
        self.levels = np.array(trace.levels, dtype=np.float64)
        self.trends = np.array(trace.trends, dtype=np.float64)
        self.fees = np.array(trace.fees, dtype=np.float64)
        seasons = np.array(trace.seasons, dtype=np.float64).reshape(len(y), WEEK)
        self.seasons = seasons - np.array(trace.offsets, dtype=np.float64).reshape(-1, 1)
        self._scale: FloatArray | None = None

    def _smooth(
        self, y: list[float], start: int, state: tuple[float, list[float], float, float], trace: _Trace
    ) -> None:
        """The robust recursion from day ``start``; plain floats in a loop beat NumPy on scalars several times over.

        The weekly terms are kept summing to zero lazily: ``offset`` is subtracted from every one of them, so a
        day's update touches one slot instead of seven.
        """
        p = self.params
        level, season, scale, trend = state
        offset, run, rising, fee = 0.0, 0, False, 0.0
        phase, keep = self.phase, 1.0 - p.alpha
        firsts = first_of_month(self.series.start, len(y)).tolist()
        fees_seen: list[float] = []
        recent = deque(((y[i], (phase + i) % WEEK) for i in range(max(start - p.shift_run, 0), start)), p.shift_run)
        for t in range(start, len(y)):
            value, slot = y[t], (phase + t) % WEEK
            recent.append((value, slot))
            err = value - (level + p.phi * trend + season[slot] - offset)
            limit = p.clip * max(scale, p.floor * abs(level))
            if firsts[t]:
                # A charge booked on the first of each month is a fee, not a spike: learn it apart.
                fees_seen.append(err)
                err -= fee
                fee = _recurring_fee(fees_seen, limit)
            clipped = limit if err > limit else -limit if err < -limit else err
            # Until 1/gamma weeks are in, the weekly profile is the plain average of the weeks seen so far.
            delta = max(p.gamma, WEEK / (t + 1)) * keep * clipped if p.weekly else 0.0
            season[slot] += delta
            offset += delta / WEEK
            level += p.phi * trend + p.alpha * clipped + delta / WEEK
            trend = p.phi * trend + p.beta * clipped
            scale += p.scale_weight * (1.2533 * abs(clipped) - scale)
            run = (run + 1 if (err > 0) == rising else 1) if abs(err) > limit else 0
            rising = err > 0
            if run >= p.shift_run:
                # A level shift: jump to the median of the shifted days instead of crawling toward them.
                gaps = sorted(v - (season[s] - offset) - level for v, s in recent)
                before = level
                level += gaps[len(gaps) // 2]
                trend, run = 0.0, 0
                if before > 0 and level > 0:
                    # The weekly rhythm scales with the level: a profile learnt at five times the new level would
                    # push quiet weekdays below zero (forecast as exactly 0) and the busy ones above the data.
                    ratio = level / before
                    season = [(term - offset) * ratio for term in season]
                    offset = 0.0
            trace.keep(level, trend, season, offset, fee)

    def _warm(self, y: list[float], t: int) -> tuple[float, list[float]]:
        """State after day ``t`` of the first weeks, straight from the data: too few days for smoothing to settle.

        Days beyond Tukey's fences (1.5 interquartile ranges out) are pulled back to them first: with one or two
        values per weekday, a single setup charge or monthly fee would otherwise become the weekday's profile.
        """
        days = _fenced(y[: t + 1])
        if t < WEEK - 1 or not self.params.weekly:
            recent = days[-WEEK:]
            return sum(recent) / len(recent), [0.0] * WEEK
        totals, counts = [0.0] * WEEK, [0] * WEEK
        for i, value in enumerate(days):
            slot = (self.phase + i) % WEEK
            totals[slot] += value
            counts[slot] += 1
        means = [total / count for total, count in zip(totals, counts, strict=True)]
        overall = sum(means) / WEEK
        return sum(days[-WEEK:]) / WEEK, [m - overall for m in means]

    def _season_scale(self) -> FloatArray:
        """Per day, how much of the weekly profile still holds: the level now over the level it was learnt at.

        The profile is additive and learnt over weeks; when the level falls well below where it was (a service
        scaled down, a price cut), the profile is shrunk in proportion, so a weekday that was 500 below a level
        of 1,500 is not forecast 500 below a level of 400 (that is, at zero). It is never enlarged.
        """
        if self._scale is None:
            levels = self.levels
            if levels.size >= PROFILE_DAYS:
                windows = np.lib.stride_tricks.sliding_window_view(levels, PROFILE_DAYS)
                learnt = np.concatenate((np.full(PROFILE_DAYS - 1, np.nan), np.median(windows, axis=1)))
            else:
                learnt = np.full(levels.size, np.nan)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where((learnt > 0) & (levels > 0), levels / learnt, 1.0)
            self._scale = np.clip(np.nan_to_num(ratio, nan=1.0), 0.0, 1.0)
        return self._scale

    def forecasts(self, origins: IntArray, horizon: int) -> FloatArray:
        """Level plus damped trend plus the weekday's seasonal term, from each origin's state."""
        steps = np.arange(1, horizon + 1)
        damped = np.cumsum(self.params.phi ** steps.astype(np.float64))
        # The weekly terms repeat: pick the coming week's seven once, then tile them over the horizon.
        slots = (self.phase + origins[:, None] + np.arange(1, WEEK + 1)[None, :]) % WEEK
        week = self.seasons[origins[:, None], slots] * self._season_scale()[origins, None]
        season = np.tile(week, (1, -(-horizon // WEEK)))[:, :horizon]
        matrix = self.levels[origins, None] + damped[None, :] * self.trends[origins, None] + season
        if self.fees.any():
            firsts = first_of_month(self.series.start, int(origins.max(initial=0)) + horizon + 1)
            matrix += self.fees[origins, None] * firsts[origins[:, None] + steps[None, :]]
        return _floor(self.series, matrix)


def _line(values: list[float]) -> tuple[float, float, float]:
    """Least-squares line through ``values``: its value on the last day, its slope, and the residuals' robust
    scale (median absolute residual, as a standard deviation)."""
    n = len(values)
    mean_x, mean_y = (n - 1) / 2.0, sum(values) / n
    spread = sum((x - mean_x) ** 2 for x in range(n))
    slope = sum((x - mean_x) * (v - mean_y) for x, v in enumerate(values)) / spread
    last = mean_y + slope * (n - 1 - mean_x)
    residuals = sorted(abs(v - (last - slope * (n - 1 - x))) for x, v in enumerate(values))
    return last, slope, 1.4826 * _quantile(residuals, 0.5)


def _fenced(values: list[float]) -> list[float]:
    """``values`` with outliers pulled back to Tukey's fences (left alone below four values)."""
    if len(values) < 4:
        return values
    ordered = sorted(values)
    q1, q3 = _quantile(ordered, 0.25), _quantile(ordered, 0.75)
    low, high = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    return [min(max(v, low), high) for v in values]


def _quantile(ordered: list[float], q: float) -> float:
    """Linear-interpolated quantile of sorted values (NumPy's default), without NumPy's per-call overhead."""
    position = q * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def first_of_month(start: date, days: int) -> BoolArray:
    """For each of ``days`` days from ``start``, whether it is the first day of a month."""
    calendar = np.datetime64(start, "D") + np.arange(days)
    return np.asarray(calendar == calendar.astype("datetime64[M]").astype("datetime64[D]"), dtype=np.bool_)


def _recurring_fee(seen: list[float], limit: float) -> float:
    """The fee to expect next first of the month: the median of the last three, once two in a row stood out."""
    last = seen[-RECURRING_MONTHS:]
    if len(last) < 2 or min(last[-2:]) <= limit:
        return 0.0
    return sorted(last)[len(last) // 2]


DEFAULT_METHOD = "robust_ets"
METHODS = ("robust_ets", "seasonal_naive", "run_rate")


def make_model(series: DailySeries, method: str = DEFAULT_METHOD, params: EtsParams | None = None) -> Model:
    """The named forecasting method fitted to ``series``."""
    if method == "robust_ets":
        return RobustEts(series, params)
    if method == "seasonal_naive":
        return SeasonalNaive(series)
    if method == "run_rate":
        return RunRate(series)
    raise ForecastError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")

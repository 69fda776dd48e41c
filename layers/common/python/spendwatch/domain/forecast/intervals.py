"""Prediction intervals from the model's own rolling-origin errors, with an analytic shape where errors run out."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from spendwatch.domain.forecast.methods import WEEK, EtsParams

if TYPE_CHECKING:
    from spendwatch.domain.forecast.methods import Model
    from spendwatch.domain.forecast.series import BoolArray, DailySeries, FloatArray, IntArray

# How many recent origins feed each horizon's error quantiles: recent enough to follow changing volatility,
# many enough that sums over weeks (whose errors overlap from one origin to the next) see several independent
# stretches. On the tuning suite 150 brought month-end coverage two to three points closer to nominal than 90.
WINDOW = 150
# Longest horizon with empirical errors; longer sums grow along the analytic shape.
MAX_EMPIRICAL = 120
# With a handful of days their spread is no guide: lean on a prior day-to-day variation of this much.
PRIOR_CV = 0.25
PRIOR_WEIGHT = 4.0
# The level of a series for the prior is its mean absolute daily cost over this many recent days.
PRIOR_DAYS = 28
# Fewest degrees of freedom the widening of sums assumes (the t quantile's expansion holds from about 3).
MIN_DF = 3.0
# Sums longer than this many days are never narrower than this sum's width grown along the analytic shape: a
# week's sum is seen in ~20 independent stretches of the window, a quarter's in under two, so the empirical
# quantiles of long sums miss drift the short ones measure (real 90-day coverage 58 % -> 71 %).
# Sums resting on fewer independent errors than this (a 31-day sum from 150 origins has ~4.8) are never narrower
# than the width of a week's sum grown along the analytic shape (real 90-day coverage 58 % -> 71 %; sums up to a
# month, with enough independent errors, are left to their own quantiles).
MIN_INDEPENDENT = 5.0
ANCHOR = 7


@dataclass(frozen=True)
class Bands:
    """Distances below and above the point path, one row per forecast origin, one column per forecast day."""

    down: FloatArray
    up: FloatArray


def min_samples(level: float) -> int:
    """Fewest errors whose order statistics can bracket the central ``level`` without running off the ends."""
    tail = (1.0 - level) / 2.0
    return max(12, math.ceil((1.0 - tail) / tail) + 1)


def student_t(p: float, df: float) -> float:
    """Quantile of Student's t (Cornish-Fisher expansion; within 1 % for df >= 3, enough for an interval)."""
    from statistics import NormalDist  # only short histories need it; statistics is slow to import

    z = NormalDist().inv_cdf(p)
    z3, z5, z7 = z**3, z**5, z**7
    return (
        z
        + (z3 + z) / (4 * df)
        + (5 * z5 + 16 * z3 + 3 * z) / (96 * df**2)
        + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df**3)
    )


def impulse(params: EtsParams, length: int) -> FloatArray:
    """How a shock today moves the forecast ``j`` days on (j = 0 is the shock itself): the growth shape."""
    steps = np.arange(1, length, dtype=np.float64)
    damped = np.cumsum(params.phi**steps)
    weekly = (np.arange(1, length) % WEEK == 0).astype(np.float64)
    psi = params.alpha + params.beta * damped + params.gamma * weekly
    return np.concatenate(([1.0], psi))


def window_variance(psi: FloatArray, first: int, last: int) -> float:
    """Analytic variance (unit shocks) of the error of the sum over forecast days ``first..last`` (1-based)."""
    running = np.cumsum(psi[:last])
    shocks = np.arange(1, last + 1)
    upper = running[last - shocks]
    before = first - 1 - shocks
    lower = np.where(before >= 0, running[np.maximum(before, 0)], 0.0)
    return float(np.sum((upper - lower) ** 2))


class Uncertainty:
    """Rolling-origin errors of one model on one series, as seen from one or more ends of history.

    Every origin's forecast errors are computed once; the interval seen from an end ``e`` uses, for each horizon
    ``h``, only the ``WINDOW`` most recent origins whose ``h``-th day was known by ``e``. Seen from the last day
    that is the forecast's interval; seen from past days it is what a backtest would have published then.
    """

    def __init__(
        self,
        series: DailySeries,
        model: Model,
        horizon: int,
        shape: EtsParams | None = None,
        ends: Sequence[int] | None = None,
    ) -> None:
        """Forecast from every origin needed once and keep the errors per day and of running sums."""
        self.ends: IntArray = np.asarray([series.n - 1] if ends is None else ends, dtype=np.int64)
        self.horizon = max(horizon, 1)
        self.psi = impulse(shape or EtsParams(), self.horizon)
        top = int(self.ends.max())
        self.reach = min(self.horizon, MAX_EMPIRICAL, max(top, 0))
        self.reach_each = np.minimum(self.reach, np.maximum(self.ends, 0))
        self.first = max(0, int(self.ends.min()) - self.reach - WINDOW + 1)
        origins = np.arange(self.first, max(top, self.first), dtype=np.int64)
        steps = np.arange(1, self.reach + 1, dtype=np.int64)
        target = origins[:, None] + steps[None, :]
        values = series.values
        known = values[np.minimum(target, top)] - model.forecasts(origins, self.reach) if origins.size else target
        # Errors on days not yet known at the last end are never picked (see ``valid``): zero keeps cumsum cheap.
        self.errors = np.where(target <= top, known, 0.0)
        self.running = np.cumsum(self.errors, axis=1)
        self._prior_inputs(values, origins)
        # Per end and horizon h, the WINDOW most recent origins whose h-th day was known: origin = end - h - W + 1 + i.
        origin = self.ends[:, None, None] - steps[None, :, None] - WINDOW + 1 + np.arange(WINDOW)[None, None, :]
        self.valid = (origin >= 0) & (steps[None, :, None] <= self.reach_each[:, None, None])
        self.flat = np.where(self.valid, (origin - self.first) * self.reach + steps[None, :, None] - 1, 0)
        self.count = self.valid.sum(axis=2)
        self._sorted: dict[str, FloatArray] = {}
        self._bands: dict[tuple[str, float], Bands] = {}
        self._factors: dict[float, FloatArray] = {}

    def _prior_inputs(self, values: FloatArray, origins: IntArray) -> None:
        """Per end: sum of squared one-step errors, their number, and the recent scale of the series."""
        low = np.maximum(self.ends - self.reach - WINDOW + 1, 0)
        high = np.maximum(self.ends, low)
        if self.reach:
            # A forecast from the mean of j days misses by noise plus the mean's own error, variance (1 + 1/j)
            # sigma^2: dividing that out keeps the first days' larger misses from overstating day-to-day noise.
            scaled = self.errors[:, 0] ** 2 / (1.0 + 1.0 / (origins + 1))
            squares = np.concatenate(([0.0], np.cumsum(scaled)))
            self.squares = squares[high - self.first] - squares[low - self.first]
        else:
            self.squares = np.zeros(self.ends.size)
        self.seen = high - low
        magnitude = np.concatenate(([0.0], np.cumsum(np.abs(values))))
        start = np.maximum(self.ends - PRIOR_DAYS + 1, 0)
        stop = np.maximum(self.ends + 1, start + 1)
        self.scale_ref = (magnitude[np.minimum(stop, values.size)] - magnitude[np.minimum(start, values.size)]) / (
            stop - start
        )

    def _sigma(self, level: float) -> FloatArray:
        """Per end, a one-day half-width for when errors are too few to read it off: shrunk toward a prior."""
        short = self.count[:, 0] < min_samples(level) if self.reach else np.ones(self.ends.size, dtype=bool)
        if not short.any():
            # Every end has enough errors for the empirical quantiles, so the prior is never used.
            return np.zeros(self.ends.size)
        prior = PRIOR_WEIGHT * (PRIOR_CV * self.scale_ref) ** 2
        variance = (prior + self.squares) / (PRIOR_WEIGHT + self.seen)
        quantile = np.array([student_t((1.0 + level) / 2.0, PRIOR_WEIGHT + m) for m in self.seen.tolist()])
        return np.asarray(quantile * np.sqrt(variance), dtype=np.float64)

    def _ordered(self, kind: str) -> FloatArray:
        if kind not in self._sorted:
            source = self.errors if kind == "daily" else self.running
            picked = source.ravel()[self.flat] if source.size else np.zeros(self.flat.shape)
            picked[~self.valid] = np.nan
            self._sorted[kind] = np.sort(picked, axis=2)
        return self._sorted[kind]

    def daily(self, level: float) -> Bands:
        """Distances for each single forecast day."""
        return self._spread("daily", np.cumsum(self.psi**2), np.ones(self.horizon), level)

    def sums(self, level: float) -> Bands:
        """Distances for the running sum from the first forecast day through each day.

        Sums over ``h`` days from consecutive origins share most of their days, so ``n`` of them hold only about
        ``n / h`` independent errors: their quantiles are widened as a Student t with that many degrees of freedom
        widens a normal one (one day ahead this is nothing; a month ahead from 150 origins, about 15 %).
        """
        days = np.arange(1, self.horizon + 1, dtype=np.float64)
        variance = np.cumsum(np.cumsum(self.psi) ** 2)
        bands = self._spread("sums", variance, days**2, level)
        factor = self._overlap_factor(level)
        down, up = (self._floored_by_shape(side * factor, variance) for side in (bands.down, bands.up))
        # Still never less certain further out (the widening stops where the empirical errors run out).
        return Bands(np.maximum.accumulate(down, axis=1), np.maximum.accumulate(up, axis=1))

    def _floored_by_shape(self, width: FloatArray, variance: FloatArray) -> FloatArray:
        """Widths of sums resting on few independent errors: at least the anchor's width grown along the shape.

        The empirical width of an ``h``-day sum rests on about ``count / h`` independent errors: a week's sum on
        twenty in the window, a quarter's on under two, too few to see drift the shorter sums measure.
        """
        anchor = min(ANCHOR, self.horizon) - 1
        grown = width[:, anchor : anchor + 1] * np.sqrt(variance[None, :] / variance[anchor])
        days = np.arange(1, self.horizon + 1, dtype=np.float64)
        counts = np.zeros((self.ends.size, self.horizon))
        counts[:, : self.reach] = self.count[:, : self.reach]
        few = (counts / days[None, :] < MIN_INDEPENDENT) & (days[None, :] > anchor + 1)
        return np.where(few, np.maximum(width, grown), width)

    def _overlap_factor(self, level: float) -> FloatArray:
        """Per end and horizon: how much wider few independent sums make the interval (1 where errors ran out)."""
        if level not in self._factors:
            p = (1.0 + level) / 2.0
            z = student_t(p, 1e9)
            days = np.arange(1, self.horizon + 1, dtype=np.float64)
            counts = np.zeros((self.ends.size, self.horizon))
            counts[:, : self.reach] = self.count[:, : self.reach]
            independent = np.maximum(counts / days[None, :], 1.0)
            # Whole degrees of freedom: a handful of distinct quantiles, each computed once.
            df = np.maximum(np.floor(independent - 1.0), MIN_DF).astype(np.int64)
            values, where = np.unique(df, return_inverse=True)
            factor = np.array([student_t(p, float(d)) / z for d in values.tolist()])[where].reshape(df.shape)
            factor[counts == 0] = 1.0
            self._factors[level] = factor
        return self._factors[level]

    def _spread(self, kind: str, variance: FloatArray, level_error: FloatArray, level: float) -> Bands:
        key = (kind, level)
        if key not in self._bands:
            ordered = self._ordered(kind)
            lo, hi, ok = _ranks(self.count, level)
            reliable = np.where(ok.all(axis=1), self.reach, np.argmin(ok, axis=1)) if self.reach else ok.sum(axis=1)
            down = self._extend(-_pick(ordered, lo), reliable, variance, level_error, level)
            up = self._extend(_pick(ordered, hi), reliable, variance, level_error, level)
            # A longer horizon is never more certain than a shorter one.
            self._bands[key] = Bands(np.maximum.accumulate(down, axis=1), np.maximum.accumulate(up, axis=1))
        return self._bands[key]

    def _extend(
        self, empirical: FloatArray, reliable: IntArray, variance: FloatArray, level_error: FloatArray, level: float
    ) -> FloatArray:
        """Empirical distances where reliable, then grown along the analytic shape (or analytic from the prior).

        The analytic width of a short history adds the error of a level that is the mean of only ``end + 1`` days,
        which repeats on every forecast day (so it grows with the square of the days summed).
        """
        width = np.zeros((self.ends.size, self.horizon))
        width[:, : self.reach] = np.maximum(empirical, 0.0)
        base = np.maximum(reliable - 1, 0)
        anchor = np.take_along_axis(width, base[:, None], axis=1)
        grown = anchor * np.sqrt(variance[None, :] / variance[base][:, None])
        days = np.maximum(self.ends + 1, 1).astype(np.float64)[:, None]
        prior = self._sigma(level)[:, None] * np.sqrt(variance[None, :] + level_error[None, :] / days)
        fallback = np.where(reliable[:, None] > 0, grown, prior)
        return np.where(np.arange(self.horizon)[None, :] < reliable[:, None], width, fallback)

    def window(self, level: float, first: int, last: int) -> tuple[float, float]:
        """Distances below and above the point sum over forecast days ``first..last`` seen from the first end."""
        sums = self.sums(level)
        if first == 1:
            return float(sums.down[0, last - 1]), float(sums.up[0, last - 1])
        if last <= self.reach and self.count[0, last - 1] >= min_samples(level):
            rows = self.flat[0, last - 1][self.valid[0, last - 1]] // self.reach
            sample = np.sort(self.running[rows, last - 1] - self.running[rows, first - 2])
            lo, hi, _ = _ranks(np.array([sample.size]), level)
            return max(-float(sample[lo[0] - 1]), 0.0), max(float(sample[hi[0] - 1]), 0.0)
        from_start = np.cumsum(np.cumsum(self.psi) ** 2)
        ratio = math.sqrt(window_variance(self.psi, first, last) / from_start[last - first])
        return float(sums.down[0, last - first]) * ratio, float(sums.up[0, last - first]) * ratio


def _ranks(count: IntArray, level: float) -> tuple[IntArray, IntArray, BoolArray]:
    """Order statistics (1-based) that bracket the central ``level`` of ``count`` exchangeable errors."""
    lo = np.floor((1.0 - level) / 2.0 * (count + 1)).astype(np.int64)
    hi = np.ceil((1.0 + level) / 2.0 * (count + 1)).astype(np.int64)
    return lo, hi, (lo >= 1) & (hi <= count) & (count >= min_samples(level))


def _pick(ordered: FloatArray, rank: IntArray) -> FloatArray:
    """The ``rank``-th smallest error per end and column (NaN-free where the rank is valid)."""
    index = np.clip(rank - 1, 0, max(ordered.shape[2] - 1, 0))[:, :, None]
    picked = np.take_along_axis(ordered, index, axis=2)[:, :, 0] if ordered.size else np.zeros(rank.shape)
    return np.nan_to_num(picked)

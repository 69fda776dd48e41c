"""Spike detection on one scope's daily series: a jump over the recent level that is also off the weekday baseline.

See docs/spike-detection.md.
"""

from __future__ import annotations

import calendar
import itertools
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from spendwatch.domain.money import ZERO, format_money

Method = Literal["day_over_day", "seasonal"]
SpikeSeverity = Literal["info", "warning", "critical"]

DAY = timedelta(days=1)
WEEK = timedelta(days=7)
HUNDRED = Decimal(100)
# 1.4826 turns a MAD into a standard deviation under normal noise; divided by sqrt(2) because the spread is
# measured on differences of two days, each carrying the noise once.
MAD_TO_SIGMA = 1.4826 / math.sqrt(2)
PCT = Decimal("0.1")
# In the first two weeks, a day more than this many times the median day (and far out by the quartiles) is an
# outlier that the next days' jumps are not measured against.
OUTLIER_RATIO = Decimal(4)


@dataclass(frozen=True)
class SpikeConfig:
    """Thresholds of the spike test; the defaults are tuned on the labelled suite in ``bench/labelled_series.py``."""

    min_impact: Decimal = Decimal(5)
    min_pct: Decimal = Decimal(20)
    min_score: float = 4.0
    jump_score: float = 2.5
    weeks: int = 4
    recent_days: int = 7
    spread_days: int = 28
    min_history: int = 2
    min_seasonal_history: int = 14
    critical_ratio: Decimal = Decimal(2)
    critical_impact_factor: Decimal = Decimal(5)
    monthly_recurring: bool = True
    report_dips: bool = False

    @property
    def lookback_days(self) -> int:
        """How many days before the judged day can change the verdict: the series the caller should pass."""
        # The last month's same day, judged against its own weekday in the weeks around it, reaches furthest.
        return max(self.weeks * 7 + self.recent_days, self.spread_days + 7, 31 + self.weeks * 7)


DEFAULT_CONFIG = SpikeConfig()


@dataclass(frozen=True)
class SpikeResult:
    """The verdict on one day of one scope, with the numbers behind it."""

    day: date
    actual: Decimal
    # The weekday baseline; with less than two weeks of history, the median day so far.
    expected: Decimal | None
    # The recent level the jump was measured against.
    reference: Decimal | None
    history_days: int
    is_spike: bool = False
    is_dip: bool = False
    # The tests that fired; a spike needs both once there are two weeks of history.
    methods: tuple[Method, ...] = ()
    severity: SpikeSeverity | None = None
    # Log ratio of actual to expected, in units of the day's noise.
    score: float | None = None
    # The days ``expected`` came from: their breakdowns give the drivers' expected amounts.
    baseline_days: tuple[date, ...] = ()
    reason: str = ""

    @property
    def change(self) -> Decimal | None:
        """Actual minus expected."""
        return None if self.expected is None else self.actual - self.expected

    @property
    def change_pct(self) -> Decimal | None:
        """The change in percent of expected, to 0.1 (None when nothing positive was expected)."""
        if self.expected is None or self.expected <= 0:
            return None
        return ((self.actual - self.expected) * HUNDRED / self.expected).quantize(PCT)


class _Days:
    """Daily amounts of one scope; a day absent inside the series' span had no cost."""

    def __init__(self, points: Mapping[date, Decimal], first: date) -> None:
        self.points = points
        self.first = first

    def amount(self, day: date) -> Decimal:
        """The day's amount (zero when absent)."""
        return self.points.get(day, ZERO)

    def baseline(self, day: date, weeks: int) -> tuple[Decimal, tuple[date, ...]] | None:
        """Upper median of the same weekday over the previous ``weeks`` weeks, and the days it used."""
        days = tuple(day - WEEK * back for back in range(1, weeks + 1) if day - WEEK * back >= self.first)
        if not days:
            return None
        # A zero inside a costing scope is an empty export or a shut-down: left out unless every day is zero. The
        # upper median, because a baseline pulled down by dips pages people, and one pulled up only misses a spike
        # that the next weeks will show anyway.
        costing = tuple(d for d in days if self.amount(d) != 0) or days
        return statistics.median_high([self.amount(d) for d in costing]), costing

    def spread(self, day: date, window: int) -> float:
        """Robust noise of one day on the log scale, from week-over-week changes over the last ``window`` days."""
        # Week-over-week changes cancel the weekly rhythm and most of a trend; taken as ratios they also hold for
        # a Monday that costs four times a Sunday (cost noise grows with the amount).
        changes = []
        for end in (day - DAY * back for back in range(1, window + 1)):
            if end - WEEK < self.first:
                break
            now, before = self.amount(end), self.amount(end - WEEK)
            if now or before:
                changes.append(_relative(now, before))
        return _spread(changes)

    def raised(self, day: date, config: SpikeConfig) -> bool:
        """Whether ``day`` stood materially above its own weekday baseline."""
        found = self.baseline(day, config.weeks) if day >= self.first else None
        return found is not None and _departs(self.amount(day) - found[0], found[0], config)

    def recent(self, day: date, expected: Decimal, config: SpikeConfig) -> tuple[Decimal, Decimal]:
        """The recent level, high and low: ``expected`` moved by the largest excess over baseline of recent days."""
        # Each day's excess counts in money and as a ratio of its own baseline, whichever moves further, so that a
        # shift that doubles a quiet Sunday also doubles the reference for the busy Monday that follows.
        high = low = expected
        for back in range(1, config.recent_days + 1):
            past = day - DAY * back
            found = self.baseline(past, config.weeks) if past >= self.first else None
            if found is None:
                continue
            base = found[0]
            moves = [self.amount(past) - base]
            if base > 0:
                moves.append((self.amount(past) - base) / base * expected)
            low = min(low, expected + min(moves))
            # A single raised day between two ordinary ones (a runaway job, an extreme export) is not a level: it
            # would hide every later rise smaller than itself for a week. A rise that goes on (the day after it is
            # raised too, today included) moves the level, so the second day of a shift is not alerted again.
            if not self._isolated(past, config):
                high = max(high, expected + max(moves))
        return high, low

    def _isolated(self, past: date, config: SpikeConfig) -> bool:
        """``past`` raised while the days either side of it (the judged day among them) are not."""
        if not self.raised(past, config):
            return False
        return not self.raised(past + DAY, config) and not self.raised(past - DAY, config)


def _spread(changes: list[float]) -> float:
    """Robust standard deviation of one day's noise from relative changes between two days (MAD based)."""
    if len(changes) < 2:
        return 0.0
    centre = statistics.median(changes)
    return statistics.median([abs(c - centre) for c in changes]) * MAD_TO_SIGMA


def _parse(series: Iterable[tuple[date, Decimal]], day: date | None) -> tuple[dict[date, Decimal], date]:
    points: dict[date, Decimal] = {}
    for when, amount in series:
        if day is None or when <= day:
            # Several points on one day (e.g. sources concatenated) add up.
            points[when] = points.get(when, ZERO) + amount
    if day is None:
        if not points:
            raise ValueError("an empty series has no day to judge")
        day = max(points)
    return points, day


def detect_spike(
    series: Iterable[tuple[date, Decimal]], day: date | None = None, config: SpikeConfig = DEFAULT_CONFIG
) -> SpikeResult:
    """Judge ``day`` (default: the series' last day) against the days before it; later points are ignored."""
    points, day = _parse(series, day)
    actual = points.get(day, ZERO)
    first = min(points, default=day)
    history = (day - first).days
    if history >= config.min_seasonal_history:
        return _seasonal(_Days(points, first), day, actual, history, config)
    if history >= config.min_history:
        return _short(_Days(points, first), day, actual, history, config)
    reason = f"not enough history: {history} days before {day.isoformat()}, {config.min_history} needed"
    return SpikeResult(day=day, actual=actual, expected=None, reference=None, history_days=history, reason=reason)


def _departs(delta: Decimal, base: Decimal, config: SpikeConfig) -> bool:
    """Whether ``delta`` (signed towards the tested direction) is material in money and in percent of ``base``."""
    if delta < config.min_impact:
        return False
    return base <= 0 or delta * HUNDRED >= config.min_pct * base


def _severity(actual: Decimal, expected: Decimal, config: SpikeConfig) -> SpikeSeverity:
    """Critical when the day is both a multiple of normal and a multiple of the minimum impact."""
    big_ratio = expected <= 0 or actual >= config.critical_ratio * expected
    big_money = actual - expected >= config.critical_impact_factor * config.min_impact
    return "critical" if big_ratio and big_money else "warning"


def _same_day_last_month(day: date) -> date:
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _recurs_monthly(days: _Days, day: date, actual: Decimal, expected: Decimal, weeks: int) -> bool:
    """Whether the same day last month stood out from its own weekday by about as much (a monthly fee)."""
    previous = _same_day_last_month(day)
    if previous < days.first:
        return False
    # That day's own weekday, from the weeks around it, so a busy Monday last month is not mistaken for a fee.
    around = [
        days.amount(other)
        for back in range(-weeks, weeks + 1)
        if back and days.first <= (other := previous + WEEK * back) < day
    ]
    if not around:
        return False
    excess, today = days.amount(previous) - statistics.median_high(around), actual - expected
    # A fee comes back at about the same amount; a spike twice as big on the same date is a spike.
    return today <= excess * 2 and excess <= today * 2


def _seasonal(days: _Days, day: date, actual: Decimal, history: int, config: SpikeConfig) -> SpikeResult:
    baseline = days.baseline(day, config.weeks)
    if baseline is None:  # only when min_seasonal_history is set under a week
        return _short(days, day, actual, history, config)
    expected, used = baseline
    high, low = days.recent(day, expected, config)
    noise = days.spread(day, config.spread_days)
    score = _relative(actual, expected) / noise if noise > 0 else None
    basis = f"median of the last {len(used)} {day.strftime('%A')}s"
    base = SpikeResult(day, actual, expected, high, history, score=score, baseline_days=used)
    up = _fired(actual, expected, high, noise, config)
    if len(up) == 2:
        if config.monthly_recurring and _recurs_monthly(days, day, actual, expected, config.weeks):
            return _quiet(base, up, "repeats the same day last month (a recurring charge)")
        return _alert(base, basis, is_spike=True, methods=up, severity=_severity(actual, expected, config))
    if config.report_dips:
        down = _fired_down(actual, expected, low, noise, config)
        if len(down) == 2:
            return _alert(replace(base, reference=low), basis, is_spike=False, methods=down, severity="info")
    return _quiet(base, up, _why_not(up, actual - expected, config))


def _relative(actual: Decimal, reference: Decimal) -> float:
    """Log ratio of two amounts (cost noise is multiplicative); a symmetric change (-2..2) unless both are positive."""
    if actual > 0 and reference > 0:
        return math.log(float(actual / reference))
    scale = abs(actual) + abs(reference)
    return float((actual - reference) * 2 / scale) if scale else 0.0


def _passes(above: Decimal, below: Decimal, base: Decimal, threshold: float, noise: float, config: SpikeConfig) -> bool:
    """Whether ``above`` exceeds ``below`` in money, in percent of ``base`` and in ``threshold`` times the noise."""
    return _departs(above - below, base, config) and _relative(above, below) >= threshold * noise


def _fired(actual: Decimal, expected: Decimal, high: Decimal, noise: float, config: SpikeConfig) -> tuple[Method, ...]:
    """The tests a rise passes, against the recent level and against the weekday baseline."""
    fired: list[Method] = []
    if _passes(actual, high, high, config.jump_score, noise, config):
        fired.append("day_over_day")
    if _passes(actual, expected, expected, config.min_score, noise, config):
        fired.append("seasonal")
    return tuple(fired)


def _fired_down(
    actual: Decimal, expected: Decimal, low: Decimal, noise: float, config: SpikeConfig
) -> tuple[Method, ...]:
    """The tests a fall passes: the same as for a rise, turned over."""
    fired: list[Method] = []
    if _passes(low, actual, low, config.jump_score, noise, config):
        fired.append("day_over_day")
    if _passes(expected, actual, expected, config.min_score, noise, config):
        fired.append("seasonal")
    return tuple(fired)


def _short(days: _Days, day: date, actual: Decimal, history: int, config: SpikeConfig) -> SpikeResult:
    """Too little history for a weekday baseline: only a jump over the highest (or under the lowest) day so far."""
    used = tuple(day - DAY * back for back in range(history, 0, -1))
    amounts = [days.amount(d) for d in used]
    expected = statistics.median(amounts)
    high, low = _highest_usual(amounts), min(amounts)
    noise = _spread([_relative(now, before) for before, now in itertools.pairwise(amounts)])
    basis = f"median of the last {history} days"
    base = SpikeResult(day, actual, expected, high, history, baseline_days=used)
    if _passes(actual, high, high, config.jump_score, noise, config):
        severity = _severity(actual, expected, config)
        return _alert(base, basis, is_spike=True, methods=("day_over_day",), severity=severity)
    if config.report_dips and _passes(low, actual, low, config.jump_score, noise, config):
        return _alert(replace(base, reference=low), basis, is_spike=False, methods=("day_over_day",), severity="info")
    why = "no jump over the highest day so far" if actual <= high else _why_not((), actual - high, config)
    return _quiet(base, (), why)


def _highest_usual(amounts: list[Decimal]) -> Decimal:
    """The highest day so far, leaving out days far beyond the rest (a first-day setup charge, say).

    Far beyond is both past Tukey's far-out fence (three interquartile ranges above the upper quartile, read
    once there are four days) and more than ``OUTLIER_RATIO`` times the median day: otherwise one such day would
    hide every rise smaller than itself until the weekday baseline takes over after two weeks, while a busy
    weekday of an ordinary weekly rhythm stays the day to beat.
    """
    median = statistics.median(amounts)
    if len(amounts) < 4 or median <= 0:
        return max(amounts)
    lower, _, upper = statistics.quantiles(amounts, n=4)
    fence = max(upper + 3 * (upper - lower), OUTLIER_RATIO * median)
    return max((a for a in amounts if a <= fence), default=max(amounts))


def _why_not(fired: tuple[Method, ...], delta: Decimal, config: SpikeConfig) -> str:
    if delta <= 0:
        return "not above the usual level"
    if delta < config.min_impact:
        return f"+{format_money(delta)} is below the {format_money(config.min_impact)} minimum impact"
    if fired == ("seasonal",):
        return "continues a rise already seen in the last days (no new jump)"
    if fired == ("day_over_day",):
        return "a jump, but within the usual spread for this weekday"
    return "within the usual range"


def _alert(
    base: SpikeResult, basis: str, *, is_spike: bool, methods: tuple[Method, ...], severity: SpikeSeverity
) -> SpikeResult:
    """The verdict for a spike (or a reported dip), with one sentence a person can act on."""
    expected = base.expected if base.expected is not None else ZERO
    delta = base.actual - expected
    pct = base.change_pct
    pct_text = f", {'+' if delta >= 0 else ''}{pct}%" if pct is not None else ""
    tests = " and ".join(m.replace("_", "-") for m in methods)
    reason = (
        f"{'spike' if is_spike else 'dip'}: {format_money(base.actual)} against {format_money(expected)} expected "
        f"({basis}), {'+' if delta >= 0 else '-'}{format_money(abs(delta))}{pct_text}; {tests}"
    )
    return replace(base, is_spike=is_spike, is_dip=not is_spike, methods=methods, severity=severity, reason=reason)


def _quiet(base: SpikeResult, methods: tuple[Method, ...], why: str) -> SpikeResult:
    """The verdict for an ordinary day; ``methods`` lists the single test that fired on its own, if any."""
    expected = format_money(base.expected) if base.expected is not None else "n/a"
    return replace(
        base, methods=methods, reason=f"no spike: {format_money(base.actual)} against {expected} expected; {why}"
    )

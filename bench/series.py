"""A reproducible suite of synthetic daily cost series with the shapes real cloud bills take.

Each series is a product of parts, then rounded to exact Decimals like a provider export:
level x weekly profile x trend x level shifts x noise, plus one-day spikes, zero days, a first-of-month fee,
a start date (services that start mid-month) and an end (services switched off). Families pick which parts
are present and draw their sizes from ranges at random; the same seed always gives the same suite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

START = date(2023, 9, 1)
END = date(2024, 12, 31)
WEEKEND = (5, 6)


@dataclass
class Shape:
    """The parts of one synthetic series; each family sets some of them."""

    level: float = 100.0
    noise: float = 0.08
    heavy_tail: bool = False
    weekend: float = 1.0
    growth: float = 0.0
    shifts: list[tuple[int, float]] = field(default_factory=list)
    spike_rate: float = 0.0
    spike_size: tuple[float, float] = (3.0, 8.0)
    zero_rate: float = 0.0
    monthly_fee: float = 0.0
    ramp_days: int = 0
    start: int = 0
    stop: int | None = None
    places: int = 4


@dataclass(frozen=True)
class Synthetic:
    """One generated series and how it was made."""

    name: str
    family: str
    points: list[tuple[date, Decimal]]
    through: date


def _uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _base(rng: np.random.Generator) -> Shape:
    return Shape(level=_log_uniform(rng, 2.0, 2000.0), noise=_uniform(rng, 0.03, 0.15))


def flat(rng: np.random.Generator) -> Shape:
    """Steady spend with day-to-day noise."""
    return _base(rng)


def weekly(rng: np.random.Generator) -> Shape:
    """Business-hours workloads: weekends cost a fraction of weekdays."""
    shape = _base(rng)
    shape.weekend = _uniform(rng, 0.2, 0.7)
    return shape


def weekdays_only(rng: np.random.Generator) -> Shape:
    """CI runners and dev environments: nothing at all on weekends."""
    shape = _base(rng)
    shape.weekend, shape.noise = 0.0, _uniform(rng, 0.1, 0.3)
    return shape


def growth(rng: np.random.Generator) -> Shape:
    """Steady growth of 1.5-9 % a month, with a weekly rhythm."""
    shape = weekly(rng)
    shape.growth = _uniform(rng, 0.0005, 0.003)
    return shape


def decline(rng: np.random.Generator) -> Shape:
    """Steady decline (clean-up, optimisation) of 3-9 % a month."""
    shape = _base(rng)
    shape.growth = -_uniform(rng, 0.001, 0.003)
    return shape


def spikes(rng: np.random.Generator) -> Shape:
    """Occasional one-day spikes of 2-8x (a batch job, a data transfer) that do not persist."""
    shape = weekly(rng) if rng.random() < 0.5 else _base(rng)
    shape.spike_rate, shape.spike_size = _uniform(rng, 0.02, 0.05), (2.0, 8.0)
    return shape


def level_shifts(rng: np.random.Generator) -> Shape:
    """One to three lasting steps up or down (a new cluster, a deleted environment)."""
    shape = weekly(rng) if rng.random() < 0.5 else _base(rng)
    days = (END - START).days
    count = int(rng.integers(1, 4))
    shape.shifts = [(int(rng.integers(30, days - 5)), _log_uniform(rng, 0.4, 2.5)) for _ in range(count)]
    return shape


def intermittent(rng: np.random.Generator) -> Shape:
    """Usage-driven services with 10-40 % of days at zero."""
    shape = _base(rng)
    shape.zero_rate, shape.noise = _uniform(rng, 0.1, 0.4), _uniform(rng, 0.1, 0.4)
    return shape


def mid_month_start(rng: np.random.Generator) -> Shape:
    """Services that start on day 5-25 of a month, 2-5 months before the end: short histories."""
    shape = weekly(rng) if rng.random() < 0.5 else _base(rng)
    month = END.replace(day=1) - timedelta(days=int(rng.integers(40, 150)))
    start = month.replace(day=int(rng.integers(5, 26)))
    shape.start = (start - START).days
    return shape


def monthly_fee(rng: np.random.Generator) -> Shape:
    """A fixed fee booked on the first of each month (support plan, subscription) on top of daily usage."""
    shape = weekly(rng) if rng.random() < 0.5 else _base(rng)
    shape.monthly_fee = _uniform(rng, 0.1, 0.4)
    return shape


def stopped(rng: np.random.Generator) -> Shape:
    """A service switched off for good in the last months."""
    shape = _base(rng)
    days = (END - START).days
    shape.stop = int(rng.integers(days - 120, days - 20))
    return shape


def heavy_tail(rng: np.random.Generator) -> Shape:
    """Volatile spend with heavy-tailed day-to-day variation."""
    shape = _base(rng)
    shape.noise, shape.heavy_tail = _uniform(rng, 0.2, 0.4), True
    return shape


def ramp(rng: np.random.Generator) -> Shape:
    """A migration: spend ramps up over 30-90 days, then plateaus."""
    shape = weekly(rng)
    shape.ramp_days = int(rng.integers(30, 91))
    days = (END - START).days
    shape.start = int(rng.integers(0, days - 200))
    return shape


def cents(rng: np.random.Generator) -> Shape:
    """Tiny scopes of a few cents a day, rounded to the cent."""
    shape = _base(rng)
    shape.level, shape.places, shape.noise = _log_uniform(rng, 0.05, 0.5), 2, _uniform(rng, 0.1, 0.3)
    return shape


def mixed(rng: np.random.Generator) -> Shape:
    """Everything at once: weekly rhythm, growth, spikes and a level shift."""
    shape = level_shifts(rng)
    shape.weekend = _uniform(rng, 0.3, 0.8)
    shape.growth = _uniform(rng, -0.001, 0.002)
    shape.spike_rate = _uniform(rng, 0.01, 0.03)
    return shape


FAMILIES: dict[str, tuple[int, Callable[[np.random.Generator], Shape]]] = {
    "flat": (4, flat),
    "weekly": (5, weekly),
    "weekdays_only": (3, weekdays_only),
    "growth": (5, growth),
    "decline": (3, decline),
    "spikes": (5, spikes),
    "level_shifts": (6, level_shifts),
    "intermittent": (4, intermittent),
    "mid_month_start": (6, mid_month_start),
    "monthly_fee": (4, monthly_fee),
    "stopped": (2, stopped),
    "heavy_tail": (3, heavy_tail),
    "ramp": (3, ramp),
    "cents": (2, cents),
    "mixed": (6, mixed),
}


def render(shape: Shape, rng: np.random.Generator, start: date = START, end: date = END) -> list[tuple[date, Decimal]]:
    """Daily amounts for ``shape`` from ``start`` to ``end`` (days before the shape's start are absent)."""
    days = (end - start).days + 1
    t = np.arange(days)
    weekday = np.array([(start + timedelta(days=int(i))).weekday() for i in t])
    value = np.full(days, shape.level) * np.where(np.isin(weekday, WEEKEND), shape.weekend, 1.0)
    value *= np.exp(shape.growth * t)
    for day, factor in shape.shifts:
        value[day:] *= factor
    if shape.ramp_days:
        value *= np.clip(0.2 + 0.8 * (t - shape.start) / shape.ramp_days, 0.2, 1.0)
    noise = rng.standard_t(3, days) * shape.noise / np.sqrt(3) if shape.heavy_tail else rng.normal(0, shape.noise, days)
    value *= np.exp(noise - shape.noise**2 / 2)
    spiking = rng.random(days) < shape.spike_rate
    value[spiking] *= rng.uniform(*shape.spike_size, spiking.sum())
    value[rng.random(days) < shape.zero_rate] = 0.0
    if shape.monthly_fee:
        firsts = np.array([(start + timedelta(days=int(i))).day == 1 for i in t])
        value[firsts] += shape.monthly_fee * shape.level * 30
    if shape.stop is not None:
        value[shape.stop :] = 0.0
    quantum = Decimal(1).scaleb(-shape.places)
    return [
        (start + timedelta(days=int(i)), Decimal(repr(float(v))).quantize(quantum))
        for i, v in zip(t, value, strict=True)
        if i >= shape.start
    ]


def suite(seed: int = 2024, start: date = START, end: date = END) -> list[Synthetic]:
    """The benchmark suite: every family, its count of series, one shared seeded generator."""
    rng = np.random.default_rng(seed)
    series = []
    for family, (count, make) in FAMILIES.items():
        for i in range(count):
            shape = make(rng)
            points = render(shape, rng, start, end)
            series.append(Synthetic(f"{family}-{i + 1}", family, points, end))
    return series

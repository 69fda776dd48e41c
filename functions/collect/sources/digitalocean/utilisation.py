"""Droplet CPU and memory series into daily utilisation usage items (pure; no I/O).

CPU comes as cumulative seconds per mode (counters): over one interval between two samples, utilisation is
``1 - Δidle / Δ(all modes)``; a day's average is the mean of its intervals and its peak their maximum (an interval
belongs to the UTC day it starts in). An interval where a counter went backwards (a reboot) is skipped. Memory
comes as two gauges: at each sample ``1 - available / total``, averaged over the day.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

from spendwatch.domain.models import UsageItem

from collect.sources.digitalocean.records import DROPLETS, PROVIDER, Origin, RowError

RATIO = "ratio"
PLACES = Decimal("0.0001")
CPU_AVG = "cpu_utilisation_avg"
CPU_PEAK = "cpu_utilisation_peak"
MEMORY_AVG = "memory_utilisation_avg"
Series = dict[int, Decimal]
Window = tuple[int, int]


def series(body: Any, what: str) -> list[tuple[dict[str, str], Series]]:
    """The ``(labels, {timestamp: value})`` of each result of a Prometheus-style matrix answer."""
    data = body.get("data") if isinstance(body, dict) else None
    results = data.get("result") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise RowError(f"{what}: data.result is not a list")
    out = []
    for result in results:
        if not isinstance(result, dict) or not isinstance(result.get("values"), list):
            raise RowError(f"{what}: a result has no values")
        raw_labels = result.get("metric")
        labels: dict[str, Any] = raw_labels if isinstance(raw_labels, dict) else {}
        points: Series = {}
        for point in result["values"]:
            try:
                stamp, value = int(point[0]), Decimal(str(point[1]))
            except (TypeError, ValueError, IndexError, InvalidOperation) as exc:
                raise RowError(f"{what}: sample {point!r} is not [timestamp, value]") from exc
            if not value.is_finite():
                raise RowError(f"{what}: sample {point!r} is not a number")
            points[stamp] = value
        out.append(({str(k): str(v) for k, v in labels.items()}, points))
    return out


def _day(stamp: int) -> date:
    return datetime.fromtimestamp(stamp, UTC).date()


def _clamp(value: Decimal) -> Decimal:
    return min(max(value, Decimal(0)), Decimal(1))


def _inside(window: Window | None, start: int, end: int) -> bool:
    return window is None or window[0] <= start <= end <= window[1]


def cpu_days(body: Any, what: str = "cpu", window: Window | None = None) -> dict[date, tuple[Decimal, Decimal]]:
    """Each UTC day's (average, peak) CPU utilisation from the per-mode counters (no days when there is no data).

    With ``window`` (Unix seconds), only intervals inside it count: a sample before its start would otherwise
    give the day before a one-interval "day" that overwrites the complete one stored earlier.
    """
    modes: dict[str, Series] = defaultdict(dict)
    for labels, points in series(body, what):
        modes[labels.get("mode", "")].update(points)
    if not modes:
        return {}
    if "idle" not in modes:
        raise RowError(f"{what}: no idle mode among {sorted(modes)}")
    stamps = sorted(set.intersection(*(set(points) for points in modes.values())))
    intervals: dict[date, list[Decimal]] = defaultdict(list)
    for start, end in pairwise(stamps):
        if not _inside(window, start, end):
            continue
        deltas = {mode: points[end] - points[start] for mode, points in modes.items()}
        busy_and_idle = sum(deltas.values(), Decimal(0))
        if min(deltas.values()) < 0 or busy_and_idle <= 0:
            continue
        intervals[_day(start)].append(_clamp(1 - deltas["idle"] / busy_and_idle))
    return {
        day: ((sum(values, Decimal(0)) / len(values)).quantize(PLACES), max(values).quantize(PLACES))
        for day, values in sorted(intervals.items())
    }


def _gauge(body: Any, what: str) -> Series:
    points: Series = {}
    for _labels, values in series(body, what):
        points.update(values)
    return points


def memory_days(total: Any, available: Any, what: str = "memory", window: Window | None = None) -> dict[date, Decimal]:
    """Each UTC day's average memory utilisation from the total and available gauges (samples in both, and in
    [start, end) of ``window`` when given)."""
    totals, free = _gauge(total, f"{what} total"), _gauge(available, f"{what} available")
    samples: dict[date, list[Decimal]] = defaultdict(list)
    for stamp in sorted(totals.keys() & free.keys()):
        if totals[stamp] > 0 and _inside(window, stamp, stamp) and (window is None or stamp < window[1]):
            samples[_day(stamp)].append(_clamp(1 - free[stamp] / totals[stamp]))
    return {day: (sum(values, Decimal(0)) / len(values)).quantize(PLACES) for day, values in sorted(samples.items())}


def utilisation_usage(
    droplet_id: str,
    cpu: dict[date, tuple[Decimal, Decimal]],
    memory: dict[date, Decimal],
    origin: Origin,
) -> list[UsageItem]:
    """The day's ``cpu_utilisation_avg``, ``cpu_utilisation_peak`` and ``memory_utilisation_avg`` of one droplet."""
    common: dict[str, Any] = {
        "unit": RATIO,
        "ProviderName": PROVIDER,
        "ServiceName": DROPLETS,
        "ResourceId": droplet_id,
        "x_source": origin.source,
        "x_collected_at": origin.collected_at,
    }
    items = []
    for day, (average, peak) in cpu.items():
        items.append(UsageItem(metric=CPU_AVG, quantity=average, day=day, **common))
        items.append(UsageItem(metric=CPU_PEAK, quantity=peak, day=day, **common))
    items += [UsageItem(metric=MEMORY_AVG, quantity=value, day=day, **common) for day, value in memory.items()]
    return items

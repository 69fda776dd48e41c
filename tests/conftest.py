"""Fixtures shared by every test tier."""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from spendwatch.platform import clock

FIXTURES = Path(__file__).parent / "fixtures"
FOCUS_SAMPLE = FIXTURES / "focus_1.0_sample_1000rows.csv"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--now",
        metavar="INSTANT",
        help=f"run the suite as if it were this ISO 8601 UTC instant (sets {clock.NOW_ENV} for the code under test)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "calendar: the test reads or builds dates relative to today; `make test` also runs it at --now"
    )
    instant = config.getoption("--now")
    if instant:
        try:
            clock.parse_instant(instant)
        except clock.ClockError as exc:
            raise pytest.UsageError(str(exc)) from None
        os.environ[clock.NOW_ENV] = instant
    clock.reset()


@pytest.fixture(autouse=True)
def _clock_as_found() -> Iterator[None]:
    """After each test the clock is as the test found it: a test that moved ``SPENDWATCH_NOW`` (and reset the
    clock) cannot leave its shift to the next, and the suite's own clock (``--now``) keeps advancing rather
    than starting again from its instant, which processes started earlier have long passed."""
    found = clock.shift()
    yield
    clock.restore_shift(found)


def pytest_report_header(config: pytest.Config) -> str:
    return f"clock: {clock.utc_now():%Y-%m-%d %H:%M:%S}Z" + (" (--now)" if config.getoption("--now") else "")


def focus_sums(column: str, path: Path = FOCUS_SAMPLE) -> dict[str, Decimal]:
    """Exact BilledCost sums per value of a FOCUS column, computed straight from the CSV."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            sums[row[column]] += Decimal(row["BilledCost"])
    return dict(sums)


def expected_metric(unit: str) -> str:
    """The collected metric of a consumed unit, spelled out character by character (docs/data-model.md)."""
    out = ""
    for char in unit.lower():
        keep = char in "abcdefghijklmnopqrstuvwxyz0123456789"
        out += char if keep else ("" if out.endswith("_") else "_")
    return out.strip("_")[:64]


UsageKey = tuple[str, str, str, str, str]  # day, metric, unit, provider, service


def focus_usage(path: Path = FOCUS_SAMPLE) -> dict[UsageKey, Decimal]:
    """Exact ConsumedQuantity sums of the Usage rows per day, metric, unit, provider and service, from the CSV."""
    sums: dict[UsageKey, Decimal] = defaultdict(Decimal)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["ChargeCategory"] != "Usage" or row["ConsumedQuantity"] in ("", "NULL"):
                continue
            unit = row["ConsumedUnit"]
            key = (row["ChargePeriodStart"][:10], expected_metric(unit), unit, row["ProviderName"], row["ServiceName"])
            sums[key] += Decimal(row["ConsumedQuantity"])
    return dict(sums)


@pytest.fixture
def focus_sample() -> Path:
    """Path of the real FOCUS sample."""
    return FOCUS_SAMPLE

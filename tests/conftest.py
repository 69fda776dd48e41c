"""Fixtures shared by every test tier."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
FOCUS_SAMPLE = FIXTURES / "focus_1.0_sample_1000rows.csv"


def focus_sums(column: str, path: Path = FOCUS_SAMPLE) -> dict[str, Decimal]:
    """Exact BilledCost sums per value of a FOCUS column, computed straight from the CSV."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            sums[row[column]] += Decimal(row["BilledCost"])
    return dict(sums)


@pytest.fixture
def focus_sample() -> Path:
    """Path of the real FOCUS sample."""
    return FOCUS_SAMPLE

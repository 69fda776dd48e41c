"""The fake Vercel API (``spendwatch_local.fakes.vercel``) plus the example charges from ``tests/fixtures``."""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path
from typing import Any

from spendwatch_local.fakes.vercel import PATH, FakeVercel, Reply, Row

EXAMPLE = Path(__file__).parents[1] / "fixtures" / "vercel" / "charges_focus_example.jsonl"

__all__ = ["EXAMPLE", "PATH", "FakeVercel", "Reply", "Row", "example_day", "example_rows"]


def example_rows() -> list[dict[str, Any]]:
    """The FOCUS charges of ``tests/fixtures/vercel/charges_focus_example.jsonl`` (2025-03-10..12)."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def example_day() -> list[dict[str, Any]]:
    """The example's charges of its first day, to serve for every day asked (see ``every_day``)."""
    return [row for row in example_rows() if str(row["ChargePeriodStart"]).startswith("2025-03-10")]


if __name__ == "__main__":
    with FakeVercel(every_day=example_day()) as served:
        print(f"fake Vercel API on {served.url} (set VERCEL_API_URL to it, VERCEL_TOKEN={served.token})")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()

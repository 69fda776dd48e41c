"""The fake OpenCost API (``spendwatch_local.fakes.opencost``) plus OpenCost's published example answer."""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path

from spendwatch_local.fakes.opencost import IDLE, Allocation, FakeOpenCost, Reply, idle_allocation

EXAMPLE = Path(__file__).parents[1] / "fixtures" / "opencost" / "allocation_window7d_aggregate_namespace_example.json"

__all__ = ["EXAMPLE", "IDLE", "Allocation", "FakeOpenCost", "Reply", "example_allocations", "idle_allocation"]


def example_allocations() -> dict[str, Allocation]:
    """The three namespaces of OpenCost's published example answer, keyed by name."""
    data: dict[str, Allocation] = json.loads(EXAMPLE.read_text(encoding="utf-8"))["data"][0]
    return data


if __name__ == "__main__":
    with FakeOpenCost(every_day=example_allocations()) as served:
        print(f"fake OpenCost on {served.url} (set OPENCOST_URL to it); Ctrl-C stops it")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()

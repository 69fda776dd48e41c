"""The fake DigitalOcean API (``spendwatch_local.fakes.digitalocean``) plus constructors over ``tests/fixtures``.

``with FakeDigitalOcean.from_fixtures() as fake: fake.url`` serves the shapes of ``tests/fixtures/digitalocean/``
(digitalocean/openapi examples); see the package module for what the fake serves and how to script failures.
"""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path
from typing import Any, Self

from spendwatch_local.fakes import digitalocean
from spendwatch_local.fakes.digitalocean import TEAM_UUID, TOKEN, Fault, Seen, spread_insights

FIXTURES = Path(__file__).parents[1] / "fixtures" / "digitalocean"

__all__ = ["FIXTURES", "TEAM_UUID", "TOKEN", "FakeDigitalOcean", "Fault", "Seen", "fixture", "spread_insights"]


def fixture(name: str) -> Any:
    """One JSON file of ``tests/fixtures/digitalocean``."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class FakeDigitalOcean(digitalocean.FakeDigitalOcean):
    """The package's fake, which can also start from the fixture files."""

    @classmethod
    def from_fixtures(cls, **overrides: Any) -> Self:
        """The fixture files as data: 2 insight rows (2025-01-01), 2 closed invoices, 2 items, 3 droplets, 1 size,
        2 volumes, 1 reserved IP, 2 snapshots, and the three metric answers (served for every droplet)."""
        invoices = fixture("invoices_list.json")
        data: dict[str, Any] = {
            "insights": fixture("billing_insights_list.json")["data_points"],
            "invoices": invoices["invoices"],
            "invoice_preview": invoices["invoice_preview"],
            "invoice_items": {
                invoices["invoices"][0]["invoice_uuid"]: fixture("invoice_items_get_byUUID.json")["invoice_items"]
            },
            "balance": fixture("balance_get.json"),
            "droplets": fixture("droplets_list_all.json")["droplets"],
            "sizes": fixture("sizes_list.json")["sizes"],
            "volumes": fixture("volumes_list.json")["volumes"],
            "reserved_ips": fixture("reserved_ips_list.json")["reserved_ips"],
            "snapshots": fixture("snapshots_list.json")["snapshots"],
            "metric_bodies": {
                metric: fixture(f"monitoring_droplet_{metric}.json")
                for metric in ("cpu", "memory_total", "memory_available")
            },
        }
        return cls(**{**data, **overrides})


if __name__ == "__main__":
    with FakeDigitalOcean.from_fixtures() as served:
        print(f"fake DigitalOcean API on {served.url} (token {served.token}); Ctrl-C stops it")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()

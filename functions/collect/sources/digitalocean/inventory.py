"""The inventory part of a DigitalOcean run: sizes, volumes, reserved IPs, snapshots, and droplet utilisation.

Each kind is listed in full or not at all: a kind whose listing fails, or with a row that cannot be read, is left
out of the snapshot (the store keeps its earlier one) and counted as a rejection, so a resource is never taken
for gone because its page failed. Utilisation costs three requests per droplet (CPU, memory total, memory
available) over the last ``utilisation_days`` complete UTC days; the transport paces them under the per-minute
limit. After MAX_METRIC_FAILURES failed droplets, or once the run has spent UTILISATION_DEADLINE seconds (the
collect function has 5 minutes, and billing totals are committed only after the collector returns), the rest are
not asked for; each run starts at a different droplet (by the hour it runs), so a fleet too large for one run is
still covered over a few runs.
"""

from __future__ import annotations

import time as time_module
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel
from spendwatch.domain.inventory import Inventory, InventoryKind

from collect.sources.base import Sink
from collect.sources.digitalocean import resources
from collect.sources.digitalocean.api import DigitalOceanError, DoApi
from collect.sources.digitalocean.records import Origin, RowError
from collect.sources.digitalocean.utilisation import cpu_days, memory_days, utilisation_usage

MAX_METRIC_FAILURES = 5
UTILISATION_DEADLINE = 210.0  # seconds after the run started
METRICS_PER_DROPLET = 3
Listing = tuple[InventoryKind, Callable[[], Iterator[Any]], Callable[[Any], BaseModel]]


def metrics_window(today: date, days: int) -> tuple[int, int]:
    """Unix seconds of [midnight ``days`` days before today, midnight today): complete UTC days only."""
    end = datetime.combine(today, time(), tzinfo=UTC)
    return int((end - timedelta(days=days)).timestamp()), int(end.timestamp())


@dataclass
class InventoryReader:
    """Reads one run's inventory into ``sink.inventory`` and the droplets' utilisation into usage items."""

    api: DoApi
    sink: Sink
    origin: Origin
    today: date
    days: int
    clock: Callable[[], float] = time_module.time
    deadline: float = float("inf")
    done: list[str] = field(default_factory=list)

    def read(self, droplets: list[Any] | None) -> None:
        """Everything, given the droplet rows already listed (None when that listing failed)."""
        kinds: dict[str, list[BaseModel]] = {}
        if droplets is not None:
            parsed = self._parse("droplets", droplets, resources.droplet)
            if parsed is not None:
                kinds["droplets"] = parsed
        listings: list[Listing] = [
            ("sizes", self.api.sizes, resources.size),
            ("volumes", self.api.volumes, resources.volume),
            ("reserved_ips", self.api.reserved_ips, resources.reserved_ip),
            ("snapshots", self.api.snapshots, resources.snapshot),
        ]
        for kind, listing, parse in listings:
            try:
                rows = list(listing())
            except DigitalOceanError as exc:
                self.sink.reject(kind, f"not listed in full, the earlier snapshot stays: {exc}")
                continue
            parsed = self._parse(kind, rows, parse)
            if parsed is not None:
                kinds[kind] = parsed
        self.sink.inventory = Inventory.model_validate({"source": self.origin.source, **kinds})
        self.done.append(", ".join(f"{kind} ({len(items)})" for kind, items in kinds.items()) or "no inventory")
        if droplets is not None:
            self.utilisation([resources.droplet_id(row) for row in droplets])

    def _parse(self, kind: str, rows: list[Any], parse: Callable[[Any], BaseModel]) -> list[BaseModel] | None:
        parsed, bad = [], False
        for number, row in enumerate(rows, start=1):
            try:
                parsed.append(parse(row))
            except RowError as exc:
                self.sink.reject(f"{kind} item {number}", f"{exc}; the earlier {kind} snapshot stays")
                bad = True
        return None if bad else parsed

    def utilisation(self, droplet_ids: list[str]) -> None:
        """Each droplet's daily CPU average and peak and memory average, as usage items."""
        start, end = metrics_window(self.today, self.days)
        ids = [i for i in droplet_ids if i]
        if ids:
            first = int(self.origin.collected_at.timestamp() // 3600) % len(ids)
            ids = ids[first:] + ids[:first]
        failures, read = 0, 0
        for position, droplet_id in enumerate(ids):
            stop = self._stop_reason(failures)
            if stop:
                self.sink.reject("utilisation", f"{stop}; {len(ids) - position} droplets not asked for this run")
                break
            try:
                self._droplet(droplet_id, start, end)
                read += 1
            except (DigitalOceanError, RowError) as exc:
                failures += 1
                self.sink.reject(f"utilisation of droplet {droplet_id}", str(exc))
        self.done.append(f"utilisation of {read} droplets over {self.days} days")

    def _stop_reason(self, failures: int) -> str:
        if failures >= MAX_METRIC_FAILURES:
            return f"{failures} droplets failed"
        if self.clock() >= self.deadline:
            return f"the run's {UTILISATION_DEADLINE:.0f} s for utilisation are spent"
        return ""

    def _droplet(self, droplet_id: str, start: int, end: int) -> None:
        bodies = {
            metric: self.api.droplet_metric(metric, droplet_id, start, end)
            for metric in ("cpu", "memory_total", "memory_available")
        }
        what = f"droplet {droplet_id}"
        cpu = cpu_days(bodies["cpu"], f"{what} cpu", (start, end))
        memory = memory_days(bodies["memory_total"], bodies["memory_available"], f"{what} memory", (start, end))
        for item in utilisation_usage(droplet_id, cpu, memory, self.origin):
            self.sink.use(item)

"""A DigitalOcean run over 200 droplets with 14 days of CPU and memory metrics: requests, pacing and duration.

The fake API answers locally; the run's pacing waits are counted rather than slept, so the duration printed is
the time the requests took plus the waits the token bucket asked for (what a run against the real API would
spend waiting, before the API's own response times).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "layers/common/python"), str(ROOT / "local")]

from spendwatch.domain.config import Config, Source  # noqa: E402
from spendwatch.store.writer import CostWriter, UsageWriter  # noqa: E402

from collect.sources import digitalocean  # noqa: E402
from collect.sources.base import CollectRequest, RequestCounter, Sink  # noqa: E402
from collect.sources.digitalocean.transport import BURST, RATE_PER_MINUTE  # noqa: E402
from spendwatch_local.fakes.digitalocean import FakeDigitalOcean, Load  # noqa: E402

DROPLETS = 200
DAYS = 14
LIMIT_PER_MINUTE = 250
NOW = datetime(2025, 2, 10, 8, tzinfo=UTC)


class _Discard:
    """A store that keeps nothing: the bench measures the provider side only."""

    def batch_put(self, records: Any) -> int:
        return len(list(records))

    def put_usage_records(self, records: list[dict[str, Any]]) -> int:
        return len(records)


def _droplet(n: int) -> dict[str, Any]:
    size = {"slug": "s-2vcpu-4gb", "price_monthly": 24, "price_hourly": 0.03571}
    return {"id": 600_000 + n, "name": f"d{n}", "size_slug": "s-2vcpu-4gb", "size": size, "status": "active"}


def main() -> None:
    """Print requests, the busiest minute and the duration of one run."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    logging.getLogger("spendwatch").setLevel(logging.WARNING)
    waited = [0.0]
    stamps: list[float] = []

    def clock() -> float:
        return time.monotonic() + waited[0]

    def sleep(seconds: float) -> None:
        waited[0] += seconds

    rows = [_droplet(n) for n in range(DROPLETS)]
    loads = {str(row["id"]): Load(cpu=0.05 + 0.004 * n, memory=0.4) for n, row in enumerate(rows)}
    source = Source(name="do", type="digitalocean", lookback_days=1, utilisation_days=DAYS)
    store: Any = _Discard()
    sink = Sink(CostWriter(store, "do"), UsageWriter(store))
    with FakeDigitalOcean(droplets=rows, loads=loads) as fake:
        served = fake.answer

        def timed(*args: Any) -> Any:
            stamps.append(clock())
            return served(*args)

        fake.answer = timed  # type: ignore[method-assign]
        request = CollectRequest(
            source,
            Config(sources=[source]),
            sink,
            RequestCounter(),
            NOW,
            env={"DIGITALOCEAN_API_URL": fake.url},
            secret=lambda _env, _name: fake.token,
        )
        started = clock()
        digitalocean.collect(request, sleep=sleep, clock=clock)
        duration = clock() - started
    busiest = max(sum(1 for s in stamps if start <= s < start + 60) for start in stamps)
    print(f"DigitalOcean inventory: {DROPLETS} droplets, {DAYS} days of metrics")
    print(f"  requests               {request.requests.count} (3 metric requests per droplet + 7)")
    bucket = f"bucket: {BURST} + {RATE_PER_MINUTE}/min; limit {LIMIT_PER_MINUTE}"
    print(f"  busiest minute         {busiest} requests ({bucket})")
    print(f"  duration               {duration:.1f} s ({waited[0]:.1f} s of it pacing waits)")
    print(f"  usage items read       {sink.read} (4 per droplet + 3 per droplet and day), rejected {sink.rejected}")


if __name__ == "__main__":
    main()

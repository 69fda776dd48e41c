"""A DigitalOcean run over 200 droplets with 14 days of CPU and memory metrics: requests, pacing and duration;
then the recommendations it settles.

The fake API answers locally; the run's pacing waits are counted rather than slept, so the duration printed is
the time the requests took plus the waits the token bucket asked for (what a run against the real API would
spend waiting, before the API's own response times). The run writes to a table on moto (in-process), and the
recommend function's evaluation runs over what it stored, twice: the second must write nothing (settled after
one evaluation).
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

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402
from spendwatch.domain.config import Config, Source  # noqa: E402
from spendwatch.store import Store  # noqa: E402
from spendwatch.store import table as store_table  # noqa: E402
from spendwatch.store.writer import CostWriter, UsageWriter  # noqa: E402

from collect.sources import digitalocean  # noqa: E402
from collect.sources.base import CollectRequest, RequestCounter, Sink  # noqa: E402
from collect.sources.digitalocean.transport import BURST, RATE_PER_MINUTE  # noqa: E402
from recommend.evaluate import evaluate  # noqa: E402
from spendwatch_local.aws import query_partitions_directly  # noqa: E402
from spendwatch_local.demo import shapes  # noqa: E402
from spendwatch_local.fakes.digitalocean import FakeDigitalOcean, Load  # noqa: E402

DROPLETS = 200
DAYS = 14
LIMIT_PER_MINUTE = 250
NOW = datetime(2025, 2, 10, 8, tzinfo=UTC)


TABLE = "bench"
# Every 10th droplet idles (2 % CPU), two in ten could be a size smaller (15 % CPU, 20 % memory), the rest are busy.
IDLE, SMALLER, BUSY = Load(cpu=0.02, memory=0.2), Load(cpu=0.15, memory=0.2), Load(cpu=0.6, memory=0.6)


def _droplet(n: int) -> dict[str, Any]:
    size = next(size for size in shapes.do_sizes() if size["slug"] == "s-2vcpu-4gb")
    return {"id": 600_000 + n, "name": f"d{n}", "size_slug": size["slug"], "size": size, "status": "active"}


def _load(n: int) -> Load:
    return IDLE if n % 10 == 0 else SMALLER if n % 10 in (1, 2) else BUSY


def settle(store: Store, config: Config) -> None:
    """Two evaluations over what the run stored: the first writes the recommendations, the second nothing."""
    for attempt in ("first", "second"):
        before = store.requests
        started = time.perf_counter()
        outcome = evaluate(store, config, NOW)
        took = time.perf_counter() - started
        print(
            f"  {attempt} evaluation       {outcome.findings} findings, {outcome.written} written, "
            f"{store.requests - before} DynamoDB requests, {took:.2f} s (moto in-process)"
        )
    kinds: dict[str, int] = {}
    for rec in store.recommendations():
        kinds[rec.kind] = kinds.get(rec.kind, 0) + 1
    print(f"  recommendations        {dict(sorted(kinds.items()))}")


def main() -> None:
    """Print requests, the busiest minute and the duration of one run, then how its recommendations settle."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "b",
        "AWS_SECRET_ACCESS_KEY": "b",
    }.items():
        os.environ[name] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)
    logging.getLogger("spendwatch").setLevel(logging.WARNING)
    # moto answers a query by sorting the whole table; the local runtime's fix reads only the partition asked for.
    query_partitions_directly()
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(**store_table.table_create_kwargs(TABLE))
        store = Store(dynamodb, TABLE)
        config = run(store)
        settle(store, config)


def run(store: Store) -> Config:
    """One collection over the fake API, written to ``store``; prints its numbers, returns its config."""
    waited = [0.0]
    stamps: list[float] = []

    def clock() -> float:
        return time.monotonic() + waited[0]

    def sleep(seconds: float) -> None:
        waited[0] += seconds

    rows = [_droplet(n) for n in range(DROPLETS)]
    loads = {str(row["id"]): _load(n) for n, row in enumerate(rows)}
    source = Source(name="do", type="digitalocean", lookback_days=1, utilisation_days=DAYS)
    config = Config(sources=[source])
    sink = Sink(CostWriter(store, "do"), UsageWriter(store))
    with FakeDigitalOcean(droplets=rows, loads=loads, sizes=shapes.do_sizes()) as fake:
        served = fake.answer

        def timed(*args: Any) -> Any:
            stamps.append(clock())
            return served(*args)

        fake.answer = timed  # type: ignore[method-assign]
        request = CollectRequest(
            source,
            config,
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
    sink.usage.flush()
    if sink.inventory is not None:
        store.put_inventory(sink.inventory, NOW)
    return config


if __name__ == "__main__":
    main()

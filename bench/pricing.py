"""Pricing: DynamoDB requests to price a stream batch of 100 usage records touching 3 cards and 5 tenants, and
the local latency from a push to its priced cost being readable (the runtime's poller with the real price
function)."""

from __future__ import annotations

import logging
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "layers/common/python"), str(ROOT / "local"), str(ROOT)]

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402
from spendwatch.domain.config import cached_config  # noqa: E402
from spendwatch.domain.models import UsageItem  # noqa: E402
from spendwatch.platform import aws, clock  # noqa: E402
from spendwatch.store import Store  # noqa: E402
from spendwatch.store import table as store_table  # noqa: E402
from spendwatch.store.costs import usage_image  # noqa: E402

from spendwatch_local.streams.poller import PollerSettings, StreamPoller, function_handlers  # noqa: E402

CARD = """
[[rate_cards]]
name = "{name}"
metric = "{name}"
provider = "Bench"
service = "{name}"
basis = "{basis}"
free = "10"
tiers = [{{ up_to = "1000", price = "0.15" }}, {{ price = "0.10" }}]
"""
CONFIG = 'currency = "USD"\n' + "".join(
    CARD.format(name=name, basis=basis) for name, basis in (("storage", "level"), ("emails", "sum"), ("seats", "level"))
)
TENANTS = ("t1", "t2", "t3", "t4", "t5")
TABLE = "bench-pricing"
RUNS = 5


class Context:
    """The Lambda context attributes powertools reads."""

    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"


def _usage(metric: str, tenant: str, day: date, quantity: int, event: str = "bench") -> UsageItem:
    stamp = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    return UsageItem(
        metric=metric, quantity=Decimal(quantity), unit="u", day=day, x_tenant=tenant, x_source="api",
        x_collected_at=stamp, x_event=event,
    )  # fmt: skip


def batch(today: date) -> list[UsageItem]:
    """100 records: 3 metrics x 5 tenants over the last 7 days of one month (the last 5 records left out)."""
    first = today.replace(day=1) if today.day > 7 else (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    days = [first + timedelta(days=n) for n in range(7)]
    items = [
        _usage(metric, tenant, day, 100 + 10 * n)
        for metric in ("storage", "emails", "seats")
        for tenant in TENANTS
        for n, day in enumerate(days)
    ]
    return items[:100]


def _event(items: list[UsageItem]) -> dict[str, Any]:
    records = [
        {"eventID": str(n), "eventName": "INSERT", "dynamodb": {"NewImage": usage_image(item)}}
        for n, item in enumerate(items)
    ]
    return {"Records": records}


def requests_per_batch() -> None:
    """Price the batch on fresh state, then the same batch again (nothing new): count DynamoDB calls."""
    from price.handler import handler

    store = Store(boto3.client("dynamodb"), TABLE)
    items = batch(clock.utc_now().date())
    store.put_usage(items)
    calls: list[str] = []
    aws.client("dynamodb").meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    keys = {(i.metric, i.x_tenant) for i in items}
    for label in ("first pricing", "same batch again (nothing new)"):
        calls.clear()
        started = time.perf_counter()
        handler(_event(items), Context())
        elapsed = time.perf_counter() - started
        reads = sum(1 for c in calls if c in ("Query", "GetItem", "Scan"))
        print(
            f"  {label:<31} {len(items)} records, {len(keys)} (card, tenant, period)s: {reads} reads, "
            f"{len(calls) - reads} writes ({len(calls) / len(keys):.2f} per card, tenant and period), "
            f"{elapsed * 1000:.0f} ms in-process"
        )


def latency(endpoint: str) -> None:
    """Usage lands in the table (as a push writes it); time until its priced day total can be read."""
    store = Store(boto3.client("dynamodb"), TABLE)
    today = clock.utc_now().date()
    poller = StreamPoller(
        (store_table.PRICE,),
        function_handlers((store_table.PRICE,)),
        table=TABLE,
        region="us-east-1",
        endpoint_url=endpoint,
        settings=PollerSettings(batching_window_seconds=1.0, starting_position="LATEST"),
    )
    poller.start()
    time.sleep(2)  # the poller has its shard iterators
    samples = []
    try:
        for n in range(RUNS):
            day = today - timedelta(days=20 + n)
            began = time.perf_counter()
            store.put_usage([_usage("storage", "latency", day, 500 + n, event=f"latency-{n}")])
            while time.perf_counter() - began < 60:
                totals = [t for source, d, t in store.day_totals(day, day) if source == "price:storage"]
                if totals and any(totals):
                    break
                time.sleep(0.02)
            samples.append(time.perf_counter() - began)
    finally:
        poller.stop(timeout=10)
    print(
        f"  usage pushed -> priced cost readable, local runtime (1 s batching window): "
        f"median {statistics.median(samples):.1f} s, max {max(samples):.1f} s over {RUNS} runs"
    )


def main() -> None:
    """Print both measures."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "spendwatch.toml"
        config.write_text(CONFIG, encoding="utf-8")
        os.environ.update(
            AWS_ENDPOINT_URL=endpoint,
            AWS_DEFAULT_REGION="us-east-1",
            AWS_ACCESS_KEY_ID="b",
            AWS_SECRET_ACCESS_KEY="b",
            SPENDWATCH_TABLE=TABLE,
            SPENDWATCH_CONFIG=str(config),
        )
        aws.client.cache_clear()
        cached_config.cache_clear()
        boto3.client("dynamodb").create_table(**store_table.table_create_kwargs(TABLE))
        print("pricing")
        requests_per_batch()
        latency(endpoint)
    server.stop()


if __name__ == "__main__":
    main()

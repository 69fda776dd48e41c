"""The alert pipeline: DynamoDB requests per evaluated stream batch of 100 records, and the local latency from a
collection finishing to its Slack post (the runtime's poller with the real evaluate and deliver functions)."""

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

from spendwatch.platform import clock
from spendwatch.store import table as store_table

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "layers/common/python"), str(ROOT / "local"), str(ROOT)]

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402
from spendwatch.domain.aggregates import PeriodTotals  # noqa: E402
from spendwatch.domain.config import cached_config  # noqa: E402
from spendwatch.domain.models import CostItem  # noqa: E402
from spendwatch.platform import aws  # noqa: E402
from spendwatch.store import Store  # noqa: E402
from spendwatch.store.aggregates import aggregate_image  # noqa: E402

from spendwatch_local.demo.data import history  # noqa: E402
from spendwatch_local.fakes.slack import FakeSlack  # noqa: E402
from spendwatch_local.streams.poller import PollerSettings, StreamPoller, function_handlers  # noqa: E402

CONFIG = """
currency = "USD"
timezone = "UTC"
[[budgets]]
name = "total"
amount = "5000"
thresholds = ["80%", "100%", "forecast:100%"]
[[budgets]]
name = "aws"
amount = "3000"
scope = {provider = "AWS"}
thresholds = ["50%", "forecast:100%"]
"""
# A scope that combines dimensions is read from the daily combinations (cells) in the same queries.
MULTI_DIMENSION_BUDGET = """
[[budgets]]
name = "aws-in-one-account"
amount = "2000"
scope = {provider = "AWS", account = "111111111111"}
thresholds = ["90%"]
"""
TABLE = "bench-alerts"
RUNS = 5


class Context:
    """The Lambda context attributes powertools reads."""

    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"


def _totals(day: date, costs: dict[str, Decimal], source: str) -> PeriodTotals:
    totals = PeriodTotals()
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    for service, amount in costs.items():
        provider = source.split(":", maxsplit=1)[0]
        totals.add(
            CostItem(
                ProviderName=provider,
                ServiceName=service,
                SubAccountId="111111111111",
                BilledCost=amount,
                BillingCurrency="USD",
                ChargePeriodStart=start,
                ChargePeriodEnd=start + timedelta(days=1),
                x_source=source.replace(":", "-").lower(),
                x_collected_at=start,
            )
        )
    return totals


def seed(store: Store, today: date) -> dict[str, list[str]]:
    """The demo's 120 days of three providers as daily totals; returns the days written per source."""
    by_source: dict[str, dict[str, dict[str, Decimal]]] = {}
    for cost in history(today):
        by_source.setdefault(f"{cost.provider}:", {}).setdefault(cost.day.isoformat(), {})[cost.service] = cost.amount
    written = {}
    for source, days in by_source.items():
        name = source.replace(":", "-").lower()
        store.replace_day_totals(name, {d: _totals(date.fromisoformat(d), c, source) for d, c in days.items()})
        written[name] = sorted(days)
    return written


def batch_of_100(written: dict[str, list[str]]) -> dict[str, Any]:
    """The stream batch a recollection of the last ~33 days of all three sources produces (100 agg_day records)."""
    records = []
    for source, days in written.items():
        for day in days[-34:]:
            image = aggregate_image(source, day, PeriodTotals(), "")
            records.append({"eventID": f"{source}{day}", "eventName": "MODIFY", "dynamodb": {"NewImage": image}})
    return {"Records": records[:100]}


def requests_per_batch(config: Path) -> None:
    """Evaluate a 100-record batch once on fresh state and once more (nothing new): count DynamoDB calls."""
    from alert.evaluate.handler import handler

    store = Store(boto3.client("dynamodb"), TABLE)
    written = seed(store, clock.utc_now().date())
    event = batch_of_100(written)
    calls: list[str] = []
    aws.client("dynamodb").meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    runs = (
        ("3 budgets on single dimensions", CONFIG),
        ("same batch again (nothing new)", CONFIG),
        ("plus a provider+account budget", CONFIG + MULTI_DIMENSION_BUDGET),
    )
    for label, text in runs:
        config.write_text(text, encoding="utf-8")
        cached_config.cache_clear()
        calls.clear()
        started = time.perf_counter()
        handler(event, Context())
        elapsed = time.perf_counter() - started
        reads = sum(1 for c in calls if c in ("Query", "GetItem", "Scan"))
        print(
            f"  {label:<34} {len(event['Records'])} records: {reads} reads, {len(calls) - reads} writes, "
            f"{elapsed * 1000:.0f} ms in-process"
        )


def latency(endpoint: str) -> None:
    """A collection's daily totals land (as its commit writes them); time until Slack has the spike."""
    store = Store(boto3.client("dynamodb"), TABLE)
    today = clock.utc_now().date()
    samples = []
    with FakeSlack() as slack:
        os.environ["SLACK_WEBHOOK_URL"] = slack.url
        poller = StreamPoller(
            store_table.STREAM_CONSUMERS,
            function_handlers(store_table.STREAM_CONSUMERS),
            table=TABLE,
            region="us-east-1",
            endpoint_url=endpoint,
            settings=PollerSettings(batching_window_seconds=1.0, starting_position="LATEST"),
        )
        poller.start()
        time.sleep(2)  # the poller has its shard iterators
        try:
            for n in range(RUNS):
                day = today - timedelta(days=n)
                posted = len(slack.accepted)
                spike = {"Amazon EC2": Decimal("900.00") + n}
                began = time.perf_counter()
                store.replace_day_totals(f"bench-spike-{n}", {day.isoformat(): _totals(day, spike, "AWS:")})
                while len(slack.accepted) == posted and time.perf_counter() - began < 60:
                    time.sleep(0.02)
                samples.append(time.perf_counter() - began)
        finally:
            poller.stop(timeout=10)
    print(
        f"  collection committed -> Slack post, local runtime (1 s batching window per stream consumer): "
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
        os.environ.pop("SPENDWATCH_TOPIC_ARN", None)
        aws.client.cache_clear()
        cached_config.cache_clear()
        boto3.client("dynamodb").create_table(**store_table.table_create_kwargs(TABLE))
        print("alert pipeline")
        requests_per_batch(config)
        latency(endpoint)
    server.stop()


if __name__ == "__main__":
    main()

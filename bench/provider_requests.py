"""Provider requests per collection run, for a default run (3-day lookback) and a 120-day backfill."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from spendwatch.platform import clock
from spendwatch.store import table as store_table

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "layers/common/python"), str(ROOT / "local")]

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402
from spendwatch.domain.config import Config, Source  # noqa: E402
from spendwatch.platform import aws  # noqa: E402
from spendwatch.store import Store  # noqa: E402

from collect.runner import collect  # noqa: E402
from spendwatch_local.demo.providers import DemoProviders  # noqa: E402

TOKEN = "bench-token"


def _sources(urls: object, lookback: int) -> list[Source]:
    return [
        Source(name="demo-aws", type="aws_ce", lookback_days=lookback),
        Source(name="demo-do", type="digitalocean", lookback_days=lookback, url=urls.digitalocean),  # type: ignore[attr-defined]
        Source(name="demo-k8s", type="opencost", lookback_days=lookback, url=urls.opencost, cluster="demo"),  # type: ignore[attr-defined]
    ]


def main() -> None:
    """Print requests, records and status per source for both windows."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per moto request otherwise
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    os.environ.update(
        AWS_ENDPOINT_URL=url,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="b",
        AWS_SECRET_ACCESS_KEY="b",
    )
    aws.client.cache_clear()
    boto3.client("dynamodb").create_table(**store_table.table_create_kwargs("bench"))
    now = clock.utc_now()
    providers = DemoProviders(now.date(), TOKEN)
    urls = providers.start()
    try:
        print("provider requests per collection run (demo data: 5 AWS services, 4 DO products, 4 namespaces)")
        for label, lookback in (("default run, 3-day lookback", 3), ("backfill, 121 days", 121)):
            sources = _sources(urls, lookback)
            config = Config(sources=sources)
            for source in sources:
                providers.prepare(source, config, url, now)
                # The token as the collect function's settings would hand it over (DIGITALOCEAN_TOKEN).
                run = collect(source, config, Store(aws.client("dynamodb"), "bench"), env={"DIGITALOCEAN_TOKEN": TOKEN})
                print(
                    f"  {label:<28} {source.type:<13} {run.requests:3d} requests, "
                    f"{run.records_written:5d} records, {run.status}"
                )
    finally:
        providers.stop()
        server.stop()


if __name__ == "__main__":
    main()

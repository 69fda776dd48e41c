"""DynamoDB requests to write 1,000 cost items, and to answer a year of daily history by service."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from spendwatch.platform import clock
from spendwatch.store import table as store_table

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "layers/common/python")]
os.environ.update(
    AWS_DEFAULT_REGION="us-east-1",
    AWS_ACCESS_KEY_ID="bench",
    AWS_SECRET_ACCESS_KEY="bench",
    SPENDWATCH_TABLE="bench",
    SPENDWATCH_API_AUTH="bearer",
    SPENDWATCH_API_TOKEN="bench-token",
    POWERTOOLS_LOG_LEVEL="WARNING",
)
os.environ.pop("AWS_ENDPOINT_URL", None)

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402
from spendwatch.domain.aggregates import PeriodTotals  # noqa: E402
from spendwatch.domain.models import CostItem  # noqa: E402
from spendwatch.platform import aws  # noqa: E402
from spendwatch.store import Store  # noqa: E402
from spendwatch.store.writer import CostWriter  # noqa: E402

from collect.sources import focus  # noqa: E402

SAMPLE = ROOT / "tests/fixtures/focus_1.0_sample_1000rows.csv"
PROVIDERS = ("AWS", "Microsoft", "Oracle")
SERVICES = 50
DAYS = 365


class Context:
    """The Lambda context attributes powertools reads."""

    function_name = "bench"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"


class Counter:
    """Counts every DynamoDB call a client makes."""

    def __init__(self, client: Any) -> None:
        self.count = 0
        client.meta.events.register("before-call.dynamodb.*", self._hit)

    def _hit(self, **_: Any) -> None:
        self.count += 1


def write_requests() -> tuple[int, int]:
    """Requests to write the 1,000-row FOCUS sample through the collector's writer (items + aggregates)."""
    client = boto3.client("dynamodb")
    client.create_table(**store_table.table_create_kwargs("bench"))
    counter = Counter(client)
    writer = CostWriter(Store(client, "bench"), "focus")
    now = clock.utc_now()
    for file in focus.list_files(str(SAMPLE)):
        for item in focus.read_file(file, "focus", now):
            assert isinstance(item, CostItem)
            writer.add(item)
    writer.commit_totals()
    return writer.written, counter.count


def _day_totals(provider: str, day: date) -> PeriodTotals:
    totals = PeriodTotals()
    for n in range(SERVICES):
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        totals.add(
            CostItem(
                ProviderName=provider,
                ServiceName=f"{provider} service {n:02d}",
                SubAccountId="123456789012",
                RegionId="us-east-1",
                BilledCost=Decimal(n + 1) + Decimal(day.toordinal() % 7) / 10,
                BillingCurrency="USD",
                ChargePeriodStart=start,
                ChargePeriodEnd=start + timedelta(days=1),
                x_source=provider.lower(),
                x_collected_at=start,
            )
        )
    return totals


def history_requests() -> tuple[int, int, str]:
    """Requests for GET /v1/costs over 365 days by service, 3 providers x 50 services of daily data."""
    from api.handler import handler

    first = date(2025, 1, 1)
    days = [first + timedelta(days=i) for i in range(DAYS)]
    store = Store(boto3.client("dynamodb"), "bench")
    for provider in PROVIDERS:
        store.replace_day_totals(provider.lower(), {d.isoformat(): _day_totals(provider, d) for d in days})
    counter = Counter(aws.client("dynamodb"))
    query = {"start": days[0].isoformat(), "end": days[-1].isoformat(), "group_by": "service"}
    event = {
        "path": "/v1/costs",
        "httpMethod": "GET",
        "headers": {"Authorization": "Bearer bench-token"},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
        "requestContext": {"requestId": "bench"},
        "body": None,
    }
    response = handler(event, Context())
    body = json.loads(response["body"])
    return counter.count, len(body["groups"]), body["total"]


def main() -> None:
    """Print the request counts against their targets."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "spendwatch.toml"
        config.write_text('currency = "USD"\n')
        os.environ["SPENDWATCH_CONFIG"] = str(config)
        with mock_aws():
            aws.client.cache_clear()
            written, requests = write_requests()
            print(
                f"DynamoDB requests to write {written} cost items (30 days, with aggregates): {requests} (target <= 45)"
            )
            count, groups, total = history_requests()
            print(
                f"DynamoDB requests for a {DAYS}-day /v1/costs by service "
                f"({len(PROVIDERS)} providers x {SERVICES} services, daily): {count} (target <= 20); "
                f"{groups} groups, total {total}"
            )


if __name__ == "__main__":
    main()

"""Cost writer throughput: items per second through CostWriter, with DynamoDB out of the way and on moto."""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "layers/common/python")]
os.environ.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
os.environ.pop("AWS_ENDPOINT_URL", None)

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402
from spendwatch.domain.models import CostItem  # noqa: E402
from spendwatch.store import Store  # noqa: E402
from spendwatch.store import table as store_table  # noqa: E402
from spendwatch.store.writer import CostWriter  # noqa: E402

ITEMS = 20_000


class AcceptingDynamoDB:
    """A DynamoDB client that accepts every batch at once: what is left is our own code's cost."""

    def batch_write_item(self, **_: Any) -> dict[str, Any]:
        """Accept the batch."""
        return {"UnprocessedItems": {}}

    def query(self, **_: Any) -> dict[str, Any]:
        """No stored days yet."""
        return {"Items": []}


def items(count: int) -> list[CostItem]:
    """``count`` distinct daily charges over 30 days, 3 providers, 50 services, 10 accounts."""
    start = datetime(2026, 10, 1, tzinfo=UTC)
    made = []
    for n in range(count):
        day = start + timedelta(days=n % 30)
        made.append(
            CostItem(
                ProviderName=("AWS", "DigitalOcean", "Kubernetes")[n % 3],
                ServiceName=f"service {n % 50}",
                SubAccountId=f"{n % 10:012d}",
                RegionId="us-east-1",
                ResourceId=f"resource-{n}",
                BilledCost=Decimal(n % 997) / 100,
                BillingCurrency="USD",
                ChargePeriodStart=day,
                ChargePeriodEnd=day + timedelta(days=1),
                Tags={"team": f"team-{n % 4}"},
                x_source="bench",
                x_collected_at=start,
            )
        )
    return made


def throughput(client: Any, batch: list[CostItem]) -> float:
    """Items per second through the writer, aggregates included."""
    writer = CostWriter(Store(client, "bench"), "bench")
    began = time.perf_counter()
    for item in batch:
        writer.add(item)
    writer.commit_totals()
    return len(batch) / (time.perf_counter() - began)


def main() -> None:
    """Print both figures."""
    batch = items(ITEMS)
    print(f"cost writer, {ITEMS} items over 30 days (serialise, batch, aggregate):")
    print(f"  our code alone (DynamoDB accepts instantly): {throughput(AcceptingDynamoDB(), batch):8.0f} items/s")
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(**store_table.table_create_kwargs("bench"))
        print(f"  into moto's in-process DynamoDB:             {throughput(client, batch[:5000]):8.0f} items/s")


if __name__ == "__main__":
    main()

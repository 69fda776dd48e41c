"""The demo's own application: a storage business with three tenants, a KV store near its plan's limit, and
orders. Its usage is pushed as an application would push it (source ``api``); the demo config prices it, sets
plan limits on it, and divides costs by it.

Everything is a pure function of the day the demo starts, so every run shows the same shapes: storage growing
per tenant, the KV store at about 90 % of its free plan with the limit days away, commands per day with a
weekday rhythm, and orders per tenant.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from spendwatch.domain.models import UsageItem
from spendwatch.domain.usage import PUSH_SOURCE

USAGE_DAYS = 60
TENANTS = ("acme", "globex", "initech")
# Stored GB on the first demo day and growth per day, per tenant.
STORAGE = {"acme": (380, Decimal("4.5")), "globex": (1150, Decimal("6")), "initech": (60, Decimal("0.9"))}
ORDERS = {"acme": 420, "globex": 910, "initech": 75}

PLANS: dict[str, list[dict[str, Any]]] = {
    "rate_cards": [
        {
            "name": "demo-storage",
            "metric": "storage_gb",
            "provider": "CHOM",
            "service": "Object storage",
            "basis": "level",
            "period": "month",
            "free": "50",
            "tiers": [{"up_to": "1000", "price": "0.15"}, {"price": "0.10"}],
            "per_tenant": True,
        },
        {
            "name": "demo-kv-commands",
            "metric": "kv_commands",
            "provider": "CHOM",
            "service": "KV store",
            "basis": "sum",
            "period": "month",
            "free": "300000",
            "tiers": [{"price": "0.0002"}],
            "per_tenant": False,
        },
    ],
    "limits": [
        {
            "name": "demo-kv-storage",
            "metric": "kv_storage_mb",
            "limit": "30",
            "basis": "level",
            "thresholds": ["75%", "90%", "within:7d"],
            "plan": "KV free",
            # A full KV store refuses writes: the demo's owner reckons a month of that costs 60 in lost orders.
            "upgrade": {"plan": "KV pro", "price": "20.00", "limit": "1000", "cost_of_hitting": "60"},
        },
        {
            "name": "demo-kv-commands",
            "metric": "kv_commands",
            "limit": "10000",
            "basis": "sum",
            "period": "day",
            "plan": "KV free",
        },
        {"name": "demo-acme-storage", "metric": "storage_gb", "limit": "1000", "scope": {"tenant": "acme"}},
    ],
    "unit_costs": [{"name": "demo-cost-per-order", "scope": {"provider": "CHOM"}, "metric": "orders"}],
    "allocations": [{"name": "demo-cluster-by-orders", "scope": {"provider": "Kubernetes"}, "metric": "orders"}],
}


def _item(metric: str, quantity: Decimal, unit: str, day: date, tenant: str = "", service: str = "") -> UsageItem:
    return UsageItem(
        metric=metric,
        quantity=quantity,
        unit=unit,
        day=day,
        ServiceName=service,
        x_tenant=tenant,
        x_source=PUSH_SOURCE,
        x_collected_at=datetime.combine(day + timedelta(days=1), time(0, 5), tzinfo=UTC),
        x_event="demo",
    )


def demo_usage(today: date, days: int = USAGE_DAYS, seed: int = 7) -> list[UsageItem]:
    """The demo application's usage for the ``days`` days before ``today`` (the history ends yesterday)."""
    rng = random.Random(seed)  # noqa: S311 - demo noise, not security
    items: list[UsageItem] = []
    for n in range(days):
        day = today - timedelta(days=days - n)
        weekday = day.weekday() < 5
        for tenant in TENANTS:
            start, growth = STORAGE[tenant]
            items.append(_item("storage_gb", Decimal(start) + growth * n, "GB", day, tenant, "storage"))
            orders = ORDERS[tenant] * (1.0 if weekday else 0.6) * rng.uniform(0.85, 1.15)
            items.append(_item("orders", Decimal(round(orders)), "orders", day, tenant, "shop"))
        # The KV store: 0.45 MB a day up to 90 % of the free plan's 30 MB on the last day.
        kv = Decimal("27") - Decimal("0.45") * (days - 1 - n)
        items.append(_item("kv_storage_mb", max(kv, Decimal(1)).quantize(Decimal("0.01")), "MB", day, service="kv"))
        commands = (7800 if weekday else 5200) * rng.uniform(0.9, 1.1)
        items.append(_item("kv_commands", Decimal(round(commands)), "commands", day, service="kv"))
    return items

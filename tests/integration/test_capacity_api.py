"""Capacity, usage forecasts, unit costs and allocations through the real API handler on moto, at a pinned instant.

Expected values are computed here from the pushed usage and written costs, not by the code under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from spendwatch.domain.aggregates import PeriodTotals
from spendwatch.domain.models import CostItem
from spendwatch.platform import clock

from tests.integration.conftest import LambdaContext, api_event, call_api, store, write_config

NOW = "2026-06-15T12:00:00Z"
TODAY = date(2026, 6, 15)
YESTERDAY = TODAY - timedelta(days=1)
HISTORY = 40  # days of usage, ending yesterday
KV_START, KV_GROWTH, KV_LIMIT = Decimal(8), Decimal("0.5"), Decimal(30)
GLOBEX_KV = Decimal(5)
COMMANDS = {"acme": Decimal(6000), "globex": Decimal(3500)}
# Costs, month to date (1-14 June): (provider, service, tenant) -> amount per day.
COSTS = {
    ("AWS", "Amazon EC2", ""): Decimal("10.00"),
    ("AWS", "Amazon S3", "acme"): Decimal("2.00"),
    ("AWS", "Amazon S3", "globex"): Decimal("1.00"),
    ("CHOM", "Object storage", "acme"): Decimal("3.00"),
}
COST_DAYS = [date(2026, 6, d) for d in range(1, 15)]
ORDERS = {"acme": Decimal(30), "globex": Decimal(10)}
# Orders on 1-13 June; globex has none on the 5th; nobody ordered on the 14th.
ORDER_DAYS = [date(2026, 6, d) for d in range(1, 14)]
NO_GLOBEX = date(2026, 6, 5)

CONFIG = """currency = "USD"

[[limits]]
name = "kv-storage"
metric = "kv_storage_mb"
limit = "30"
scope = { tenant = "acme" }
thresholds = ["75%", "90%", "within:7d"]
plan = "KV free"

[[limits]]
name = "kv-small"
metric = "kv_storage_mb"
limit = "20"
scope = { tenant = "acme" }

[[limits]]
name = "kv-all"
metric = "kv_storage_mb"
limit = "1000"

[[limits]]
name = "commands"
metric = "kv_commands"
limit = "10000"
basis = "sum"
period = "day"
plan = "KV free"

[[unit_costs]]
name = "cost-per-order"
scope = { provider = "AWS" }
metric = "orders"

[[unit_costs]]
name = "aws-per-order"
scope = { provider = "AWS" }
metric = "orders"
per_tenant = false

[[allocations]]
name = "shared-ec2"
scope = { provider = "AWS", service = "Amazon EC2" }
metric = "orders"

[[allocations]]
name = "all-aws"
scope = { provider = "AWS" }
metric = "orders"
"""


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The clock at NOW for the test, and back to the suite's after it."""
    monkeypatch.setenv(clock.NOW_ENV, NOW)
    clock.reset()
    yield
    monkeypatch.undo()
    clock.reset()


def _kv(day: date) -> Decimal:
    """acme's linear KV storage: KV_START on the first day, KV_GROWTH more each day."""
    return KV_START + KV_GROWTH * (HISTORY - 1 - (YESTERDAY - day).days)


def _record(metric: str, quantity: Decimal, day: date, tenant: str, unit: str) -> dict[str, Any]:
    return {"metric": metric, "quantity": str(quantity), "unit": unit, "day": day.isoformat(), "tenant": tenant}


def _usage() -> list[dict[str, Any]]:
    records = []
    for back in range(HISTORY):
        day = YESTERDAY - timedelta(days=back)
        records.append(_record("kv_storage_mb", _kv(day), day, "acme", "MB"))
        records.append(_record("kv_storage_mb", GLOBEX_KV, day, "globex", "MB"))
        records += [_record("kv_commands", n, day, tenant, "commands") for tenant, n in COMMANDS.items()]
    for day in ORDER_DAYS:
        records += [
            _record("orders", n, day, tenant, "orders")
            for tenant, n in ORDERS.items()
            if not (tenant == "globex" and day == NO_GLOBEX)
        ]
    return records


def _costs() -> dict[str, PeriodTotals]:
    days = {}
    for day in COST_DAYS:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        totals = PeriodTotals()
        for (provider, service, tenant), amount in COSTS.items():
            totals.add(
                CostItem(
                    ProviderName=provider,
                    ServiceName=service,
                    BilledCost=amount,
                    BillingCurrency="USD",
                    ChargePeriodStart=start,
                    ChargePeriodEnd=start + timedelta(days=1),
                    x_source="s",
                    x_collected_at=start,
                    x_tenant=tenant,
                )
            )
        days[day.isoformat()] = totals
    return days


@pytest.fixture
def loaded(aws_env: dict[str, Any], pinned: None) -> dict[str, Any]:
    """The config above, 40 days of usage pushed through the API and two weeks of costs."""
    write_config(aws_env, CONFIG)
    records = _usage()
    for index in range(0, len(records), 500):
        batch = {"idempotency_key": f"capacity-{index:05d}", "records": records[index : index + 500]}
        status, body = call_api("/v1/usage", method="POST", body=batch)
        assert status == 200, body
    store().replace_day_totals("s", _costs())
    return aws_env


def _get(path: str, **query: str) -> Any:
    status, body = call_api(path, query or None)
    assert status == 200, body
    return body


def _capacity() -> dict[str, dict[str, Any]]:
    body = _get("/v1/capacity")
    assert body["next_token"] is None
    return {item["name"]: item for item in body["items"]}


def test_a_growing_level_limit_is_critical_and_reached_in_about_five_days(loaded: dict[str, Any]) -> None:
    item = _capacity()["kv-storage"]
    used = _kv(YESTERDAY)  # 27.5: the latest day's level
    assert item["used"] == str(used) and item["limit"] == "30"
    assert Decimal(item["utilisation"]) == (used / KV_LIMIT).quantize(Decimal("0.000001"))
    assert item["status"] == "critical"  # 75 % (22.5) and 90 % (27) both crossed, 30 not reached
    assert item["data_through"] == YESTERDAY.isoformat()
    assert item["plan"] == "KV free" and item["scope"] == {"tenant": "acme"} and item["metric"] == "kv_storage_mb"
    by_hand = (KV_LIMIT - used) / KV_GROWTH  # linear extrapolation: 5 days
    assert abs(item["days_to_limit"] - by_hand) <= 2
    assert item["limit_date"] == (YESTERDAY + timedelta(days=item["days_to_limit"])).isoformat()
    assert abs(Decimal(item["growth_per_day"]) - KV_GROWTH) <= Decimal("0.05")


def test_exceeded_far_and_sum_limits(loaded: dict[str, Any]) -> None:
    items = _capacity()
    assert list(items) == ["kv-storage", "kv-small", "kv-all", "commands"]  # config order
    small = items["kv-small"]
    assert (
        small["status"] == "exceeded" and small["days_to_limit"] == 0 and small["limit_date"] == YESTERDAY.isoformat()
    )
    every = items["kv-all"]  # every tenant: acme's level plus globex's
    assert every["used"] == str(_kv(YESTERDAY) + GLOBEX_KV) and every["status"] == "ok"
    assert every["utilisation"] == "0.0325"
    assert every["days_to_limit"] is None and every["limit_date"] is None  # ~1935 days away by hand
    commands = items["commands"]  # a daily quota: yesterday's sum, a flat forecast never reaches it
    assert Decimal(commands["used"]) == sum(COMMANDS.values())
    assert commands["status"] == "critical" and commands["utilisation"] == "0.95"
    assert commands["days_to_limit"] is None and commands["limit_date"] is None


def test_capacity_pages_and_rejects_foreign_tokens(loaded: dict[str, Any]) -> None:
    first = _get("/v1/capacity", limit="3")
    assert [i["name"] for i in first["items"]] == ["kv-storage", "kv-small", "kv-all"]
    second = _get("/v1/capacity", limit="3", next_token=first["next_token"])
    assert [i["name"] for i in second["items"]] == ["commands"] and second["next_token"] is None
    status, body = call_api("/v1/capacity", {"next_token": "bm90LWEtdG9rZW4="})
    assert status == 400 and body["error"]["code"] == "invalid_parameter"


def test_capacity_reads_each_month_once_for_every_limit(loaded: dict[str, Any]) -> None:
    from api import deps
    from api.views.capacity import capacity_now

    counted = store()
    standings = capacity_now(counted, deps.config(), TODAY)
    assert len(standings) == 4
    # 90 days back from 15 June touch March to June: one query per metric and month, every source's usage in it.
    metrics = {limit.metric for limit in deps.config().limits}
    assert len(metrics) == 2
    assert counted.requests == 4 * len(metrics)


def test_usage_forecast_extends_the_line(loaded: dict[str, Any]) -> None:
    body = _get("/v1/usage/forecast", metric="kv_storage_mb", tenant="acme", horizon_days="10")
    assert body["data_through"] == YESTERDAY.isoformat() and body["unit"] == "MB" and body["tenant"] == "acme"
    points = body["points"]
    assert [p["day"] for p in points] == [(TODAY + timedelta(days=n)).isoformat() for n in range(10)]
    for n, point in enumerate(points, 1):
        by_hand = _kv(YESTERDAY) + KV_GROWTH * n
        assert abs(Decimal(point["quantity"]) - by_hand) <= Decimal("1.5"), (n, point)
        assert Decimal(point["lower"]) <= Decimal(point["quantity"]) <= Decimal(point["upper"])
    summed = _get("/v1/usage/forecast", metric="kv_storage_mb")  # every tenant
    assert summed["tenant"] is None and len(summed["points"]) == 30
    assert abs(Decimal(summed["points"][0]["quantity"]) - (_kv(YESTERDAY) + KV_GROWTH + GLOBEX_KV)) <= Decimal("1.5")


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"metric": "nothing_pushed"}, 404),
        ({"metric": "kv_storage_mb", "tenant": "nobody"}, 404),
        ({}, 400),
        ({"metric": "kv_storage_mb", "horizon_days": "0"}, 400),
        ({"metric": "kv_storage_mb", "horizon_days": "366"}, 400),
    ],
)
def test_usage_forecast_errors(loaded: dict[str, Any], query: dict[str, str], status: int) -> None:
    answer, body = call_api("/v1/usage/forecast", query)
    assert answer == status, body
    assert body["error"]["code"] == ("not_found" if status == 404 else "invalid_parameter")


def _ratio(cost: Decimal, quantity: Decimal) -> str:
    exact = Fraction(cost) / Fraction(quantity)
    value = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal("1E-10"), ROUND_HALF_EVEN)
    return f"{value.normalize():f}"


def _aws_cost(tenant: str) -> Decimal:
    return sum((a for (p, _, t), a in COSTS.items() if p == "AWS" and t == tenant), Decimal(0)) * len(COST_DAYS)


def _orders(tenant: str) -> Decimal:
    days = [d for d in ORDER_DAYS if not (tenant == "globex" and d == NO_GLOBEX)]
    return ORDERS[tenant] * len(days)


def test_unit_costs_per_tenant_and_pooled(loaded: dict[str, Any]) -> None:
    body = _get("/v1/unit-costs")
    assert body["start"] == "2026-06-01" and body["end"] == TODAY.isoformat()  # month to date by default
    rows = {(i["name"], i["tenant"]): i for i in body["items"]}
    for tenant in ("acme", "globex"):
        row = rows[("cost-per-order", tenant)]
        assert Decimal(row["cost"]) == _aws_cost(tenant) and Decimal(row["quantity"]) == _orders(tenant)
        assert row["unit_cost"] == _ratio(_aws_cost(tenant), _orders(tenant)) and row["currency"] == "USD"
    shared = rows[("cost-per-order", "")]  # EC2 has no tenant and no orders: no ratio
    assert Decimal(shared["cost"]) == _aws_cost("") and shared["quantity"] == "0" and shared["unit_cost"] is None
    pooled = rows[("aws-per-order", "")]
    cost = sum((_aws_cost(t) for t in ("", "acme", "globex")), Decimal(0))
    quantity = _orders("acme") + _orders("globex")
    assert Decimal(pooled["cost"]) == cost and pooled["unit_cost"] == _ratio(cost, quantity)
    assert {i["name"] for i in _get("/v1/unit-costs", name="aws-per-order")["items"]} == {"aws-per-order"}


def test_unit_cost_errors(loaded: dict[str, Any]) -> None:
    status, body = call_api("/v1/unit-costs", {"name": "no-such-unit"})
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = call_api("/v1/unit-costs", {"start": "2026-06-10", "end": "2026-06-01"})
    assert status == 400 and body["error"]["code"] == "invalid_parameter"


def _expected_split() -> dict[str, Decimal]:
    """EC2's daily cost split by that day's orders, by hand; the 14th (no orders) stays unallocated."""
    shared = COSTS[("AWS", "Amazon EC2", "")]
    parts = {"acme": Decimal(0), "globex": Decimal(0), "": Decimal(0)}
    for day in COST_DAYS:
        orders = {t: n for t, n in ORDERS.items() if day in ORDER_DAYS and not (t == "globex" and day == NO_GLOBEX)}
        if not orders:
            parts[""] += shared
        for tenant, n in orders.items():
            parts[tenant] += shared * n / sum(orders.values())
    return parts


def test_allocation_moves_shared_cost_to_tenants_and_keeps_the_total(loaded: dict[str, Any]) -> None:
    plain = {
        g: sum((a for (_, _, t), a in COSTS.items() if t == g), Decimal(0)) * len(COST_DAYS)
        for g in ("", "acme", "globex")
    }
    expected = _expected_split()
    body = _get("/v1/costs", group_by="tenant")
    groups = {g["key"]: g for g in body["groups"]}
    assert Decimal(body["total"]) == sum(plain.values())
    for tenant in ("acme", "globex"):
        assert Decimal(groups[tenant]["allocated"]) == expected[tenant]
        assert Decimal(groups[tenant]["total"]) == plain[tenant] + expected[tenant]
    none = groups["(none)"]
    assert Decimal(none["total"]) == expected[""] and Decimal(none["allocated"]) == expected[""] - plain[""]
    assert sum(Decimal(g["allocated"]) for g in body["groups"]) == 0
    assert sum(Decimal(g["total"]) for g in body["groups"]) == Decimal(body["total"])
    fifth = {p["period"]: p["amount"] for p in groups["acme"]["points"]}[NO_GLOBEX.isoformat()]
    assert Decimal(fifth) == Decimal("2.00") + Decimal("3.00") + COSTS[("AWS", "Amazon EC2", "")]  # all of that day's
    ec2, aws = body["allocations"]
    assert ec2["name"] == "shared-ec2" and ec2["skipped"] is None
    assert Decimal(ec2["shared"]) == plain[""] and Decimal(ec2["unallocated"]) == expected[""]
    assert Decimal(ec2["allocated"]) == expected["acme"] + expected["globex"]
    assert {t: Decimal(a) for t, a in ec2["tenants"].items()} == {
        "acme": expected["acme"],
        "globex": expected["globex"],
    }
    assert aws["name"] == "all-aws" and "shared-ec2" in aws["skipped"] and aws["allocated"] == "0.00"


def test_allocation_by_month_filters_and_other_groupings(loaded: dict[str, Any]) -> None:
    expected = _expected_split()
    monthly = {g["key"]: g for g in _get("/v1/costs", group_by="tenant", granularity="month")["groups"]}
    assert Decimal(monthly["globex"]["points"][0]["amount"]) == Decimal("14.00") + expected["globex"]
    chom = _get("/v1/costs", group_by="tenant", provider="CHOM")  # no EC2 within the filter: nothing to split
    assert chom["allocations"][0]["shared"] == "0.00" and {g["key"] for g in chom["groups"]} == {"acme"}
    one = _get("/v1/costs", group_by="tenant", tenant="acme")
    assert one["allocations"][0]["skipped"] and Decimal(one["total"]) == Decimal("70.00")
    by_provider = _get("/v1/costs", group_by="provider")
    assert by_provider["allocations"] == [] and all(g["allocated"] is None for g in by_provider["groups"])


def _scrape() -> dict[str, list[tuple[dict[str, str], float]]]:
    from api.handler import handler

    response = handler(api_event("/metrics"), LambdaContext())
    assert response["statusCode"] == 200
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(response["body"]):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def test_metrics_serve_the_capacity_figures(loaded: dict[str, Any]) -> None:
    items = _capacity()
    samples = _scrape()
    ratios = {
        labels["limit"]: (labels["metric"], value) for labels, value in samples["spendwatch_capacity_utilisation_ratio"]
    }
    assert ratios == {name: (item["metric"], float(item["utilisation"])) for name, item in items.items()}
    days = {labels["limit"]: value for labels, value in samples["spendwatch_capacity_days_to_limit"]}
    # Limits the forecast never reaches have no sample at all (not NaN).
    assert days == {name: float(i["days_to_limit"]) for name, i in items.items() if i["days_to_limit"] is not None}
    assert set(days) == {"kv-storage", "kv-small"}


def test_the_page_shows_capacity_and_unit_costs(loaded: dict[str, Any]) -> None:
    from api.handler import handler

    page = handler(api_event("/"), LambdaContext())["body"]
    capacity = page[page.index('id="capacity"') : page.index("</section>", page.index('id="capacity"'))]
    assert "kv-storage" in capacity and "KV free" in capacity and "27.5 / 30" in capacity
    assert (
        "91.7 %" in capacity and "critical" in capacity and "exceeded" in capacity and "not within a year" in capacity
    )
    units = page[page.index('id="unit-costs"') : page.index("</section>", page.index('id="unit-costs"'))]
    assert "cost-per-order" in units and _ratio(_aws_cost("acme"), _orders("acme")) in units


def test_without_limits_capacity_is_empty_and_the_page_says_so(aws_env: dict[str, Any], pinned: None) -> None:
    write_config(aws_env, 'currency = "USD"\n')
    assert _get("/v1/capacity") == {"items": [], "next_token": None}
    from api.handler import handler

    page = handler(api_event("/"), LambdaContext())["body"]
    assert 'id="capacity"' in page and "No plan limits" in page and 'id="unit-costs"' not in page


def test_the_document_describes_the_new_routes_and_the_allocation_split(aws_env: dict[str, Any], pinned: None) -> None:
    write_config(aws_env, 'currency = "USD"\n')
    paths = _get("/v1/openapi.json")["paths"]
    for path in ("/v1/capacity", "/v1/usage/forecast", "/v1/unit-costs"):
        assert "200" in paths[path]["get"]["responses"] and "400" in paths[path]["get"]["responses"]
    assert "404" in paths["/v1/usage/forecast"]["get"]["responses"]
    assert "404" in paths["/v1/unit-costs"]["get"]["responses"]
    assert "allocations" in paths["/v1/costs"]["get"]["description"].lower()

"""From a scheduled event to the API: DigitalOcean billing served by the local fake, collected on moto, to the cent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from spendwatch.domain.money import to_cents
from spendwatch.platform import clock

from tests.fakes.digitalocean import FakeDigitalOcean, fixture, spread_insights
from tests.integration.conftest import LambdaContext, call_api, scheduled_event, write_config

pytestmark = pytest.mark.calendar

JANUARY = {"start": "2025-01-01", "end": "2025-01-31"}
# The SKU families of the fixture rows, as the collector names them.
SERVICES = {"1-DO-DROP-0109": "Droplets", "1-KS-K8SWN-00109": "Kubernetes Clusters"}
DROPLETS = 3
# Inventory (on by default): sizes, volumes, reserved IPs, snapshots (one page each), 3 metric requests per droplet.
INVENTORY_REQUESTS = 4 + 3 * DROPLETS
# The fixture metrics cover one day each: CPU average and peak, memory average.
UTILISATION_ITEMS = 3 * DROPLETS


def _collect(**detail: str) -> dict[str, Any]:
    from collect.handler import handler

    result: dict[str, Any] = handler(scheduled_event("do", **detail), LambdaContext())
    return result


@pytest.fixture
def do_env(aws_env: dict[str, Any]) -> Iterator[FakeDigitalOcean]:
    """The fake API with January 2025 insights (the example rows every day, 20 a page) and a config for it."""
    from api import deps

    # The API caches its settings (and so the config path) per container; each test writes its own config.
    deps.settings.cache_clear()
    with FakeDigitalOcean.from_fixtures(max_per_page=20) as fake:
        fake.insights = spread_insights(fake.insights, date(2025, 1, 1), date(2025, 1, 31))
        aws_env["monkeypatch"].setenv("DIGITALOCEAN_API_URL", fake.url)
        aws_env["monkeypatch"].setenv("DIGITALOCEAN_TOKEN", fake.token)
        write_config(aws_env, 'currency = "USD"\n[[sources]]\nname = "do"\ntype = "digitalocean"\n')
        yield fake


def _totals(group_by: str, window: dict[str, str] = JANUARY, granularity: str = "day") -> dict[str, str]:
    status, body = call_api("/v1/costs", {**window, "group_by": group_by, "granularity": granularity})
    assert status == 200, body
    return {group["key"]: group["total"] for group in body["groups"]}


def _served(rows: list[dict[str, Any]], key: str, amount: str, names: dict[str, str] | None = None) -> dict[str, str]:
    """Exact sums of what the fake served, per service, as the API formats money."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        sums[names[row[key]] if names else row[key]] += Decimal(row[amount])
    return {k: f"{to_cents(v):f}" for k, v in sums.items()}


def test_collected_insights_equal_what_was_served_to_the_cent(do_env: FakeDigitalOcean) -> None:
    run = _collect(**JANUARY)

    assert run["status"] == "succeeded", run
    assert run["window"] == JANUARY
    assert (run["records_read"], run["rejected"]) == (62 + 4 * DROPLETS + UTILISATION_ITEMS, 0)
    # account, 4 insight pages of 20, one droplets page, then the inventory
    assert run["requests"] == 1 + 4 + 1 + INVENTORY_REQUESTS
    assert run["data_through"] == "2025-02-01T00:00:00Z"
    by_service = _served(do_env.insights, "sku", "total_amount", SERVICES)
    assert _totals("service") == by_service == {"Droplets": "26.66", "Kubernetes Clusters": "79.67"}
    assert _totals("provider") == {"DigitalOcean": "106.33"}
    assert _totals("region") == {"nyc3": "106.33"}


def test_collecting_twice_changes_nothing(do_env: FakeDigitalOcean) -> None:
    _collect(**JANUARY)
    before = {dim: _totals(dim) for dim in ("provider", "service", "account", "region")}
    _collect(**JANUARY)

    assert {dim: _totals(dim) for dim in before} == before
    status, body = call_api("/v1/collections")
    assert status == 200
    assert [(r["source"], r["type"], r["status"]) for r in body["items"]] == [("do", "digitalocean", "succeeded")] * 2


def test_a_closed_month_without_insights_is_read_from_its_invoice_once(do_env: FakeDigitalOcean) -> None:
    items = fixture("invoice_items_get_byUUID.json")["invoice_items"]
    do_env.invoices = [{"invoice_uuid": "dec", "invoice_id": "9", "amount": "46.79", "invoice_period": "2024-12"}]
    do_env.invoice_items = {"dec": items}
    window = {"start": "2024-12-01", "end": "2025-01-31"}

    run = _collect(**window)
    _collect(**window)

    assert run["status"] == "succeeded" and run["window"] == window
    monthly = call_api("/v1/costs", {**window, "granularity": "month"})[1]
    assert [(p["period"], p["amount"]) for p in monthly["groups"][0]["points"]] == [
        ("2024-12", "46.79"),
        ("2025-01", "106.33"),
    ]
    december = {"start": "2024-12-01", "end": "2024-12-31"}
    assert _totals("service", december) == _served(items, "product", "amount")
    assert _totals("account", december) == {"do:team:12345678-1234-1234-1234-123456789012": "46.79"}


def test_a_provider_failure_is_a_failed_run_without_the_token(do_env: FakeDigitalOcean) -> None:
    # A 404 body, which pydo returns instead of raising (a 5xx would be retried with real backoff here).
    do_env.fail("/v2/billing", 404, {"id": "not_found", "message": f"no insights for token {do_env.token}"})

    run = _collect(**JANUARY)

    assert run["status"] == "failed"
    assert (
        "billing insights 2025-01-01..2025-01-31 page 1: HTTP 404 (not_found: no insights for token ***)"
        in run["error"]
    )
    assert do_env.token not in run["error"]
    assert _totals("provider") == {}


def test_a_scheduled_run_reads_the_lookback_and_the_inventory(do_env: FakeDigitalOcean) -> None:
    today = clock.utc_now().date()
    first = today - timedelta(days=2)
    do_env.insights = spread_insights(fixture("billing_insights_list.json")["data_points"], first, today)

    run = _collect()

    assert run["status"] == "succeeded", run
    assert run["window"] == {"start": first.isoformat(), "end": today.isoformat()}
    months = 2 if first.month != today.month else 1
    balance_check = 1 if today.day <= 3 else 0  # only when the run read the month from its first day
    assert run["requests"] == 1 + months + balance_check + 1 + INVENTORY_REQUESTS
    window = {"start": first.isoformat(), "end": today.isoformat()}
    assert _totals("provider", window) == {"DigitalOcean": "10.29"}
    status, usage = call_api("/v1/usage", {"start": today.isoformat(), "end": today.isoformat()})
    assert status == 200, usage
    quantities = {(u["metric"], u["unit"]): u["quantity"] for u in usage["items"]}
    assert quantities == {
        ("droplets", "s-1vcpu-1gb"): "3",
        ("droplet_hours", "Hours"): "72",  # created in 2020: each is billed the whole day
        ("droplet_price_hourly", "USD/hour"): "0.02231999952346086",
        ("droplet_price_monthly", "USD/month"): "15",
    }


def test_the_inventory_is_stored_for_the_source(do_env: FakeDigitalOcean, aws_env: dict[str, Any]) -> None:
    from spendwatch.store import Store

    from tests.integration.conftest import TABLE

    run = _collect(**JANUARY)

    assert run["status"] == "succeeded", run
    inventory = Store(aws_env["dynamodb"], TABLE).inventory("do")
    assert inventory is not None
    assert [s.price_monthly for s in inventory.sizes or []] == [Decimal("5.0")]
    assert [d.id for d in inventory.droplets or []] == [str(d["id"]) for d in do_env.droplets]
    assert [v.attached for v in inventory.volumes or []] == [False, False]
    assert [ip.assigned for ip in inventory.reserved_ips or []] == [False]
    assert [s.resource_id for s in inventory.snapshots or []] == ["200776916", "89bcc42f-85cf-11e6-a004-000f53315871"]
    assert set(inventory.read_at) == {"sizes", "droplets", "volumes", "reserved_ips", "snapshots"}

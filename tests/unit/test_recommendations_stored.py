"""From what collection stores to the engine: the real fixtures parsed by the DigitalOcean collector into the
stored inventory, adapted for the engine, judged; utilisation usage items become daily utilisation."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from spendwatch.domain.inventory import Inventory as StoredInventory
from spendwatch.domain.models import UsageItem
from spendwatch.domain.recommendations import engine
from spendwatch.domain.recommendations.inputs import Inputs
from spendwatch.domain.recommendations.stored import daily_utilisation, engine_inventory

from collect.sources.digitalocean import resources

FIXTURES = Path(__file__).parents[1] / "fixtures" / "digitalocean"
TODAY = date(2026, 6, 15)


def _rows(name: str, key: str) -> list[Any]:
    rows: list[Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))[key]
    return rows


def _stored(**left_out: bool) -> StoredInventory:
    kinds = {
        "sizes": [resources.size(r) for r in _rows("sizes_list.json", "sizes")],
        "droplets": [resources.droplet(r) for r in _rows("droplets_list_all.json", "droplets")],
        "volumes": [resources.volume(r) for r in _rows("volumes_list.json", "volumes")],
        "reserved_ips": [resources.reserved_ip(r) for r in _rows("reserved_ips_list.json", "reserved_ips")],
        "snapshots": [resources.snapshot(r) for r in _rows("snapshots_list.json", "snapshots")],
    }
    return StoredInventory(source="do", **{k: v for k, v in kinds.items() if not left_out.get(k)})


def _usage(resource: str, metric: str, quantity: str, day: date) -> UsageItem:
    return UsageItem(
        metric=metric,
        quantity=Decimal(quantity),
        unit="ratio",
        day=day,
        ResourceId=resource,
        x_source="do",
        x_collected_at=datetime(2026, 6, 15, tzinfo=UTC),
    )


def test_stored_inventory_becomes_the_engines_with_the_stored_prices() -> None:
    stored = _stored()
    adapted = engine_inventory(stored)
    assert adapted.complete
    assert [(c.id, c.size) for c in adapted.compute] == [(d.id, d.size_slug) for d in stored.droplets or []]
    assert {v.id: (v.attached, v.price_monthly) for v in adapted.volumes} == {
        v.id: (bool(v.droplet_ids), v.price_monthly) for v in stored.volumes or []
    }
    assert [ip.assigned for ip in adapted.reserved_ips] == [
        ip.droplet_id is not None for ip in stored.reserved_ips or []
    ]
    assert [s.price_monthly for s in adapted.snapshots] == [s.price_monthly for s in stored.snapshots or []]
    assert not engine_inventory(_stored(volumes=True)).complete, "a kind not read: nothing may expire"


def test_the_stored_fixtures_yield_the_zombie_findings_at_their_prices() -> None:
    stored = _stored()
    findings = engine.evaluate(Inputs(today=TODAY, inventories=(engine_inventory(stored),)))
    zombies = {f.resource.id: f.monthly_savings for f in findings if f.kind == "zombie"}
    expected = {v.id: v.price_monthly for v in stored.volumes or [] if not v.droplet_ids}
    expected |= {ip.ip: ip.price_monthly for ip in stored.reserved_ips or [] if ip.droplet_id is None}
    assert expected and expected.items() <= zombies.items()


def test_utilisation_items_become_daily_utilisation_and_an_idle_droplet_is_found() -> None:
    stored = _stored()
    droplet = (stored.droplets or [])[0]
    items = []
    for n in range(14):
        day = TODAY - timedelta(days=14 - n)
        items += [
            _usage(droplet.id, "cpu_utilisation_avg", "0.02", day),
            _usage(droplet.id, "cpu_utilisation_peak", "0.06", day),
            _usage(droplet.id, "memory_utilisation_avg", "0.3", day),
            _usage(droplet.id, "droplet_hours", "24", day),  # not utilisation: ignored
        ]
    days = daily_utilisation(items)
    assert len(days) == 14
    assert (days[0].cpu_avg, days[0].cpu_peak, days[0].memory_avg) == (Decimal("0.02"), Decimal("0.06"), Decimal("0.3"))
    inputs = Inputs(today=TODAY, inventories=(engine_inventory(stored),), utilisation=tuple(days))
    idle = [f for f in engine.evaluate(inputs) if f.kind == "idle"]
    assert [(f.resource.id, f.monthly_savings) for f in idle] == [(droplet.id, droplet.price_monthly)]

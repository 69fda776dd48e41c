"""The recommendation engine on DigitalOcean's real response shapes: each rule fires on its own case only, savings
are the fixtures' prices to the cent, and the lifecycle keeps people's decisions."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from spendwatch.domain.capacity import Capacity
from spendwatch.domain.inventory import Inventory as StoredInventory
from spendwatch.domain.plans import Upgrade
from spendwatch.domain.recommendations import (
    Finding,
    Recommendation,
    TransitionError,
    by_savings,
    evaluate,
    merge,
    presence,
    recommendation_id,
    transition,
)
from spendwatch.domain.recommendations.compute import confidence, p95
from spendwatch.domain.recommendations.inputs import (
    DailyUtilisation,
    Inputs,
    Inventory,
    K8sAllocation,
    LimitExposure,
    TaggedSpend,
)
from spendwatch.domain.recommendations.k8s import k8s_finding
from spendwatch.domain.recommendations.stored import engine_inventory
from spendwatch.domain.recommendations.untagged import untagged
from spendwatch.domain.recommendations.upgrade import plan_upgrade

from collect.sources.digitalocean import resources

FIXTURES = Path(__file__).parents[1] / "fixtures" / "digitalocean"
TODAY = date(2026, 3, 15)
NOW = datetime(2026, 3, 15, 6, 0, tzinfo=UTC)
WINDOW = 14
IDLE, ASSETS, STAGE, BIG = "3164444", "3164459", "3164412", "3164499"
# DigitalOcean's published Basic prices for the sizes around the fixture's s-1vcpu-1gb (/v2/sizes pages 2..64
# are not in the fixture): the same object shape, other slug, vCPUs, memory and price.
BASIC = {"s-1vcpu-2gb": (1, 2048, 12), "s-2vcpu-2gb": (2, 2048, 18), "s-2vcpu-4gb": (2, 4096, 24)}


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def _sizes() -> list[dict[str, Any]]:
    first = _load("sizes_list")["sizes"][0]
    pages = [first]
    for slug, (vcpus, memory, price) in BASIC.items():
        pages.append({**copy.deepcopy(first), "slug": slug, "vcpus": vcpus, "memory": memory, "price_monthly": price})
    return pages


def _droplets(sizes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The fixture's three droplets plus an over-provisioned s-2vcpu-4gb copy of the first."""
    droplets: list[dict[str, Any]] = _load("droplets_list_all")["droplets"]
    big = copy.deepcopy(droplets[0])
    big_size = next(s for s in sizes if s["slug"] == "s-2vcpu-4gb")
    big.update(id=int(BIG), name="big.example.com", size_slug="s-2vcpu-4gb", size=big_size, vcpus=2, memory=4096)
    return [*droplets, big]


def inventory(
    droplets: list[dict[str, Any]],
    sizes: list[dict[str, Any]],
    volumes: list[dict[str, Any]] = (),  # type: ignore[assignment]
    reserved_ips: list[dict[str, Any]] = (),  # type: ignore[assignment]
    snapshots: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> Inventory:
    """API rows as the DigitalOcean collector parses and stores them, adapted for the engine."""
    stored = StoredInventory(
        source="do",
        sizes=[resources.size(row) for row in sizes],
        droplets=[resources.droplet(row) for row in droplets],
        volumes=[resources.volume(row) for row in volumes],
        reserved_ips=[resources.reserved_ip(row) for row in reserved_ips],
        snapshots=[resources.snapshot(row) for row in snapshots],
    )
    return engine_inventory(stored)


def _inventory(droplets: list[dict[str, Any]] | None = None, **changes: Any) -> Inventory:
    sizes = _sizes()
    listings = {
        "volumes": _load("volumes_list")["volumes"],
        "reserved_ips": _load("reserved_ips_list")["reserved_ips"],
        "snapshots": _load("snapshots_list")["snapshots"],
    }
    listings.update(changes)
    return inventory(_droplets(sizes) if droplets is None else droplets, sizes, **listings)


def _days(resource_id: str, cpu: str, peak: str, memory: str | None, days: int = WINDOW) -> list[DailyUtilisation]:
    return [
        DailyUtilisation(
            provider="DigitalOcean",
            resource_id=resource_id,
            day=TODAY - timedelta(days=n),
            cpu_avg=Decimal(cpu),
            cpu_peak=Decimal(peak),
            memory_avg=None if memory is None else Decimal(memory),
        )
        for n in range(days)
    ]


UTILISATION = (
    *_days(IDLE, "0.02", "0.06", "0.30"),  # idle
    *_days(STAGE, "0.60", "0.95", "0.70"),  # busy
    *_days(BIG, "0.15", "0.30", "0.25"),  # over-provisioned: fits s-2vcpu-2gb
)  # ASSETS has no metrics at all


def _findings(inv: Inventory | None = None, utilisation: tuple[DailyUtilisation, ...] = UTILISATION) -> list[Finding]:
    return evaluate(
        Inputs(today=TODAY, inventories=(inv or _inventory(),), utilisation=utilisation, window_days=WINDOW)
    )


def _by(findings: list[Finding], kind: str) -> dict[str, Finding]:
    return {f.resource.id: f for f in findings if f.kind == kind}


# --- the parser ---------------------------------------------------------------------------------------------


def test_fixture_inventory_parses_with_the_served_prices() -> None:
    inv = _inventory()
    assert [c.id for c in inv.compute] == ["3164444", "3164459", "3164412", BIG]
    first = inv.compute[0]
    assert (first.name, first.region, first.size, first.family, first.tags) == (
        "example.com",
        "nyc3",
        "s-1vcpu-1gb",
        "Basic",
        ("web", "env:prod"),
    )
    assert first.created_at == datetime(2020, 7, 21, 18, 37, 44, tzinfo=UTC)
    size = inv.size("s-1vcpu-1gb")
    assert size is not None and size.price_monthly == Decimal("5.0") and size.memory_mib == 1024
    assert [v.attached for v in inv.volumes] == [False, False]
    assert [v.price_monthly for v in inv.volumes] == [Decimal("1.00"), Decimal("1.00")]
    assert inv.reserved_ips[0].id == "45.55.96.47" and not inv.reserved_ips[0].assigned
    # 2.34 and 0.1008 GiB at 0.06 a GiB-month, to the cent as DigitalOcean bills.
    assert [s.price_monthly for s in inv.snapshots] == [Decimal("0.14"), Decimal("0.01")]


def test_price_monthly_is_the_served_one_never_hourly_times_730() -> None:
    size = resources.size(_load("sizes_list")["sizes"][0])
    assert size.price_monthly == Decimal("5.0")
    assert Decimal(repr(0.00743999984115362)) * 730 != size.price_monthly


# --- each rule on its case ----------------------------------------------------------------------------------


def test_idle_fires_on_the_idle_droplet_only_and_saves_its_price() -> None:
    idle = _by(_findings(), "idle")
    assert list(idle) == [IDLE]
    finding = idle[IDLE]
    assert finding.monthly_savings == Decimal("5.00") and finding.currency == "USD"
    assert finding.confidence == "high"
    assert finding.resource.item() == {
        "provider": "DigitalOcean",
        "type": "droplet",
        "id": IDLE,
        "name": "example.com",
        "region": "nyc3",
    }
    assert finding.evidence["cpu_avg"] == "0.0200" and finding.evidence["price_monthly"] == "5.0"
    json.dumps(finding.evidence)


def test_a_peak_above_ten_percent_is_not_idle() -> None:
    samples = _days(IDLE, "0.02", "0.06", "0.30")
    samples[3] = DailyUtilisation("DigitalOcean", IDLE, samples[3].day, Decimal("0.02"), Decimal("0.11"), None)
    assert not _by(_findings(utilisation=tuple(samples)), "idle")


def test_rightsize_fires_on_the_over_provisioned_droplet_only_with_the_price_difference() -> None:
    found = _by(_findings(), "rightsize")
    assert list(found) == [BIG]
    finding = found[BIG]
    assert finding.evidence["target_size"] == "s-2vcpu-2gb"
    assert finding.monthly_savings == Decimal(24) - Decimal(18)
    assert finding.title == "Resize big.example.com from s-2vcpu-4gb to s-2vcpu-2gb"


def test_rightsize_needs_memory_to_fit_with_headroom() -> None:
    busy_memory = _days(BIG, "0.15", "0.30", "0.45")  # 0.45 * 4096 = 1843 MiB > 2048 * 0.8
    assert not _by(_findings(utilisation=tuple(busy_memory)), "rightsize")


def test_the_busy_droplet_and_the_one_without_metrics_get_nothing() -> None:
    ids = {f.resource.id for f in _findings()}
    assert STAGE not in ids and ASSETS not in ids


def test_few_days_of_metrics_lower_confidence_and_too_few_make_no_finding() -> None:
    some = _findings(utilisation=tuple(_days(IDLE, "0.02", "0.06", None, days=5)))
    assert _by(some, "idle")[IDLE].confidence == "low"
    half = _findings(utilisation=tuple(_days(IDLE, "0.02", "0.06", None, days=7)))
    assert _by(half, "idle")[IDLE].confidence == "medium"
    assert not _by(_findings(utilisation=tuple(_days(IDLE, "0.02", "0.06", None, days=2))), "idle")


def test_zombies_are_the_fixtures_unattached_volumes_unassigned_ip_and_orphan_snapshots() -> None:
    zombies = _by(_findings(), "zombie")
    assert {k: v.monthly_savings for k, v in zombies.items()} == {
        "506f78a4-e098-11e5-ad9f-000f53306ae1": Decimal("1.00"),
        "506f78a4-e098-11e5-ad9f-000f53305eb2": Decimal("1.00"),
        "45.55.96.47": Decimal("5.00"),
        "6372321": Decimal("0.14"),
        "fbe805e8-866b-11e6-96bf-000f53315a41": Decimal("0.01"),
    }
    assert {f.resource.type for f in zombies.values()} == {"volume", "reserved_ip", "snapshot"}
    assert zombies["6372321"].evidence["age_days"] == (TODAY - date(2020, 7, 28)).days


def test_no_zombie_for_attached_assigned_young_or_parented() -> None:
    volumes = _load("volumes_list")["volumes"]
    attached = [{**v, "droplet_ids": [int(ASSETS)]} for v in volumes]
    ips = [{**ip, "droplet": {"id": int(ASSETS)}} for ip in _load("reserved_ips_list")["reserved_ips"]]
    snapshots = _load("snapshots_list")["snapshots"]
    parented = {**snapshots[0], "resource_id": IDLE}
    young = {**snapshots[1], "created_at": (NOW - timedelta(days=10)).isoformat()}
    inv = _inventory(volumes=attached, reserved_ips=ips, snapshots=[parented, young])
    assert not _by(_findings(inv), "zombie")


def test_a_snapshot_of_a_listed_volume_is_no_zombie() -> None:
    snapshot = {**_load("snapshots_list")["snapshots"][1], "resource_id": "506f78a4-e098-11e5-ad9f-000f53306ae1"}
    assert "fbe805e8-866b-11e6-96bf-000f53315a41" not in _by(_findings(_inventory(snapshots=[snapshot])), "zombie")


def test_findings_are_sorted_biggest_saving_first_and_at_most_one_per_kind_and_resource() -> None:
    findings = _findings()
    assert [f.monthly_savings for f in findings] == sorted((f.monthly_savings for f in findings), reverse=True)
    assert len({(f.kind, f.resource.provider, f.resource.id) for f in findings}) == len(findings)


# --- k8s, plan upgrades, untagged ---------------------------------------------------------------------------


def _allocation(cpu_use: str, ram_use: str) -> K8sAllocation:
    return K8sAllocation(
        cluster="prod",
        namespace="shop",
        controller="deployment:web",
        cpu_request_cores=Decimal(4),
        cpu_usage_cores=Decimal(cpu_use),
        ram_request_bytes=Decimal(8 * 2**30),
        ram_usage_bytes=Decimal(ram_use) * 2**30,
        cpu_cost=Decimal("70.00"),
        ram_cost=Decimal("14.00"),
        window_days=7,
        currency="USD",
    )


def test_k8s_rightsize_saves_the_cost_share_of_unused_requests() -> None:
    finding = k8s_finding(_allocation("0.8", "6"))  # CPU at 20 % of request, RAM at 75 %
    assert finding is not None
    # New CPU request 0.8 / 0.8 = 1 core: 3 of 4 cores' cost goes, RAM stays; 7 days scaled to 365/12 days.
    assert finding.monthly_savings == Decimal("52.50") * (Decimal(365) / 12) / 7
    assert finding.evidence["cpu_unused_share"] == "0.7500" and finding.evidence["ram_unused_share"] == "0.0000"
    assert finding.resource.id == "prod/shop/deployment:web" and finding.confidence == "high"
    assert k8s_finding(_allocation("3", "6")) is None


def _standing(used: str, growth: str, limit_date: date | None, status: str = "warning") -> Capacity:
    return Capacity(
        name="kv-storage",
        metric="kv_storage_mb",
        scope={},
        plan="KV free",
        limit=Decimal(30),
        used=Decimal(used),
        utilisation=Decimal(used) / 30,
        status=status,  # type: ignore[arg-type]
        growth_per_day=Decimal(growth),
        days_to_limit=None if limit_date is None else (limit_date - TODAY).days,
        limit_date=limit_date,
        data_through=TODAY,
        period="2026-03",
        period_start=date(2026, 3, 1),
        period_end=date(2026, 3, 31),
    )


UPGRADE = Upgrade(plan="KV pro", price=Decimal("20.00"), limit=Decimal(1000))


def test_plan_upgrade_when_the_overage_exceeds_the_upgrade_price() -> None:
    standing = _standing("28", "1", date(2026, 3, 17))  # 28 + 16 days * 1 = 44 MB at month end: 14 over
    exposure = LimitExposure(standing, UPGRADE, "USD", overage_price=Decimal("2.50"))
    finding = plan_upgrade(exposure)
    assert finding is not None
    assert finding.evidence["projected"] == "44" and finding.evidence["avoided_cost"] == "35.00"
    assert finding.monthly_savings == Decimal("15.00") and finding.evidence["roi"] == "0.7500"
    assert "ROI 75.0%" in finding.detail and finding.confidence == "high"


def test_plan_upgrade_not_when_cheaper_to_stay_or_not_reached_this_period() -> None:
    cheap = LimitExposure(_standing("28", "1", date(2026, 3, 17)), UPGRADE, "USD", overage_price=Decimal("1"))
    assert plan_upgrade(cheap) is None  # 14 MB * 1.00 < 20.00
    late = LimitExposure(_standing("10", "0.5", date(2026, 4, 24)), UPGRADE, "USD", overage_price=Decimal("9"))
    assert plan_upgrade(late) is None


def test_plan_upgrade_from_the_cost_of_hitting_a_blocking_limit() -> None:
    exceeded = _standing("31", "0", date(2026, 3, 10), status="exceeded")
    finding = plan_upgrade(LimitExposure(exceeded, UPGRADE, "USD", cost_of_hitting=Decimal("200")))
    assert finding is not None and finding.monthly_savings == Decimal("180.00")


def test_untagged_reports_the_share_and_amount() -> None:
    spend = [
        TaggedSpend(frozenset({"team", "env"}), Decimal("60.00")),
        TaggedSpend(frozenset({"env"}), Decimal("30.00")),
        TaggedSpend(frozenset(), Decimal("10.00")),
    ]
    finding = untagged(spend, ["team", "env"], "USD")
    assert finding is not None and finding.monthly_savings == 0
    assert finding.evidence["untagged_amount"] == "40.00" and finding.evidence["untagged_share"] == "0.4000"
    assert finding.evidence["missing_by_tag"] == {"team": "40.00", "env": "10.00"}
    assert untagged(spend[:1], ["team"], "USD") is None
    assert untagged(spend, [], "USD") is None


def test_evaluate_runs_every_rule() -> None:
    inputs = Inputs(
        today=TODAY,
        inventories=(_inventory(),),
        utilisation=UTILISATION,
        k8s=(_allocation("0.8", "6"),),
        spend=(TaggedSpend(frozenset(), Decimal(5)),),
        required_tags=("team",),
        limits=(LimitExposure(_standing("28", "1", date(2026, 3, 17)), UPGRADE, "USD", overage_price=Decimal(5)),),
    )
    kinds = {f.kind for f in evaluate(inputs)}
    assert kinds == {"idle", "rightsize", "zombie", "k8s_rightsize", "plan_upgrade", "untagged"}


# --- statistics ---------------------------------------------------------------------------------------------


def test_p95_is_nearest_rank_and_confidence_follows_coverage() -> None:
    values = [Decimal(n) for n in range(1, 21)]
    assert p95(values) == 19 and p95(values[:14]) == 14 and p95([Decimal(3)]) == 3
    assert [confidence(Decimal(x)) for x in ("1", "0.9", "0.89", "0.5", "0.49")] == [
        "high",
        "high",
        "medium",
        "medium",
        "low",
    ]


# --- lifecycle ----------------------------------------------------------------------------------------------

LATER = NOW + timedelta(hours=6)


def _evaluate(previous: list[Recommendation], inv: Inventory, now: datetime) -> dict[str, Recommendation]:
    merged = merge(previous, _findings(inv), presence([inv]), now)
    return {rec.id: rec for rec in merged}


def _id(kind: str, resource_id: str) -> str:
    return recommendation_id(kind, "DigitalOcean", resource_id)


def test_new_findings_open_with_deterministic_ids() -> None:
    first = _evaluate([], _inventory(), NOW)
    assert {rec.status for rec in first.values()} == {"open"}
    assert _id("idle", IDLE) in first and _id("rightsize", BIG) in first
    assert first[_id("idle", IDLE)].created_at == NOW
    item = first[_id("idle", IDLE)].item()
    assert item["monthly_savings"] == "5.00" and item["status"] == "open"
    json.dumps(item)


def test_re_evaluation_changes_nothing_but_updated_at() -> None:
    first = _evaluate([], _inventory(), NOW)
    again = _evaluate(list(first.values()), _inventory(), LATER)
    assert again.keys() == first.keys()
    for rec_id, rec in again.items():
        assert (rec.status, rec.created_at, rec.updated_at) == ("open", NOW, LATER)
        assert rec.monthly_savings == first[rec_id].monthly_savings


def test_dismissed_stays_dismissed_and_accepted_stays_accepted_when_seen_again() -> None:
    first = _evaluate([], _inventory(), NOW)
    idle_id, ip_id = _id("idle", IDLE), _id("zombie", "45.55.96.47")
    first[idle_id] = transition(first[idle_id], "dismiss", NOW)
    first[ip_id] = transition(first[ip_id], "accept", NOW)
    again = _evaluate(list(first.values()), _inventory(), LATER)
    assert again[idle_id].status == "dismissed" and again[idle_id].updated_at == LATER
    assert again[ip_id].status == "accepted"


def test_a_resource_gone_expires_its_open_finding_but_not_a_dismissed_one() -> None:
    first = _evaluate([], _inventory(), NOW)
    vol_a, vol_b = (
        _id("zombie", "506f78a4-e098-11e5-ad9f-000f53306ae1"),
        _id("zombie", "506f78a4-e098-11e5-ad9f-000f53305eb2"),
    )
    first[vol_b] = transition(first[vol_b], "dismiss", NOW)
    after = _evaluate(list(first.values()), _inventory(volumes=[]), LATER)
    assert after[vol_a].status == "expired" and after[vol_a].evidence["expired_because"] == "resource gone"
    assert after[vol_b].status == "dismissed"


def test_an_incomplete_inventory_expires_nothing() -> None:
    first = _evaluate([], _inventory(), NOW)
    partial = Inventory(provider="DigitalOcean", currency="USD", complete=False)
    after = {rec.id: rec for rec in merge(first.values(), [], presence([partial]), LATER)}
    assert {rec.status for rec in after.values() if rec.resource.provider == "DigitalOcean"} == {"open"}


def test_accepted_then_resized_is_implemented_with_realised_savings() -> None:
    first = _evaluate([], _inventory(), NOW)
    rightsize_id = _id("rightsize", BIG)
    first[rightsize_id] = transition(first[rightsize_id], "accept", NOW)
    sizes = _sizes()
    droplets = _droplets(sizes)
    smaller = next(s for s in sizes if s["slug"] == "s-2vcpu-2gb")
    droplets[-1] = {**droplets[-1], "size_slug": "s-2vcpu-2gb", "size": smaller, "memory": 2048}
    after = _evaluate(list(first.values()), _inventory(droplets), LATER)
    assert after[rightsize_id].status == "implemented"
    assert after[rightsize_id].evidence["realised_savings"] == "6"
    assert after[rightsize_id].evidence["implemented_because"] == "resized from s-2vcpu-4gb to s-2vcpu-2gb"


def test_accepted_then_deleted_is_implemented_with_its_whole_price() -> None:
    first = _evaluate([], _inventory(), NOW)
    idle_id = _id("idle", IDLE)
    first[idle_id] = transition(first[idle_id], "accept", NOW)
    droplets = [d for d in _droplets(_sizes()) if str(d["id"]) != IDLE]
    after = _evaluate(list(first.values()), _inventory(droplets), LATER)
    assert after[idle_id].status == "implemented" and after[idle_id].evidence["realised_savings"] == "5.0"


def test_open_finding_that_no_longer_holds_expires_and_reopens_when_seen_again() -> None:
    first = _evaluate([], _inventory(), NOW)
    idle_id = _id("idle", IDLE)
    busy = tuple(s for s in UTILISATION if s.resource_id != IDLE) + tuple(_days(IDLE, "0.5", "0.9", "0.5"))
    after = {r.id: r for r in merge(first.values(), _findings(utilisation=busy), presence([_inventory()]), LATER)}
    assert (
        after[idle_id].status == "expired" and after[idle_id].evidence["expired_because"] == "finding no longer holds"
    )
    back = _evaluate(list(after.values()), _inventory(), LATER + timedelta(hours=6))
    assert back[idle_id].status == "open" and back[idle_id].created_at == NOW


@pytest.mark.parametrize(
    ("status", "action", "result"),
    [
        ("open", "accept", "accepted"),
        ("open", "dismiss", "dismissed"),
        ("open", "implement", "implemented"),
        ("accepted", "implement", "implemented"),
        ("accepted", "dismiss", "dismissed"),
        ("dismissed", "accept", "accepted"),
        ("accepted", "accept", "accepted"),
        ("dismissed", "dismiss", "dismissed"),
    ],
)
def test_allowed_transitions(status: str, action: str, result: str) -> None:
    rec = _evaluate([], _inventory(), NOW)[_id("idle", IDLE)]
    rec = Recommendation(**{**rec.__dict__, "status": status})
    assert transition(rec, action, LATER).status == result


@pytest.mark.parametrize(
    ("status", "action"),
    [("expired", "accept"), ("implemented", "dismiss"), ("dismissed", "implement"), ("expired", "implement")],
)
def test_forbidden_transitions_say_why(status: str, action: str) -> None:
    rec = _evaluate([], _inventory(), NOW)[_id("idle", IDLE)]
    rec = Recommendation(**{**rec.__dict__, "status": status})
    with pytest.raises(TransitionError, match=f"cannot {action} a recommendation that is {status}"):
        transition(rec, action, LATER)
    with pytest.raises(TransitionError, match="unknown action"):
        transition(rec, "delete", LATER)


def test_by_savings_filters_then_orders_biggest_first_ties_by_id() -> None:
    recs = list(_evaluate([], _inventory(), NOW).values())
    assert len({r.kind for r in recs}) >= 2
    dismissed = Recommendation(**{**recs[0].__dict__, "status": "dismissed"})
    every = [dismissed, *recs[1:]]
    ordered = by_savings(reversed(every))
    assert [(-r.monthly_savings, r.id) for r in ordered] == sorted((-r.monthly_savings, r.id) for r in every)
    assert by_savings(every, status="open") == [r for r in ordered if r.status == "open"]
    kind = recs[1].kind
    assert by_savings(every, kind=kind) == [r for r in ordered if r.kind == kind]
    assert by_savings(every, status="dismissed", kind=dismissed.kind) == [dismissed]
    assert by_savings(every, status="expired") == []

"""Recommendations from a collection: the DigitalOcean collector reads the fake API (the demo's droplets, sizes,
volumes, reserved IPs, snapshots and metrics, in the real fixtures' shapes) on moto; its finished run reaches the
recommend function through the table's stream, and one evaluation settles the recommendations. Each rule fires on
the case built for it and on no other; savings are the provider's own prices to the cent; a dismissal survives
re-collection and a resource that disappears expires its finding."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from spendwatch.domain.recommendations import Recommendation, transition
from spendwatch.domain.recommendations.digitalocean import DoPrices
from spendwatch.store import table as store_table

from spendwatch_local.demo import shapes
from tests.fakes.digitalocean import FakeDigitalOcean
from tests.integration.conftest import TABLE, LambdaContext, scheduled_event, store, write_config
from tests.integration.stream_tap import tapped

NOW = "2026-11-24T08:00:00+00:00"
TODAY = datetime.fromisoformat(NOW).date()
CONFIG = """
currency = "USD"

[[sources]]
name = "do"
type = "digitalocean"
lookback_days = 1
utilisation_days = 14
"""
PRICES = DoPrices()


@pytest.fixture
def collected(aws_env: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The demo's DigitalOcean account served by the fake, the clock pinned, the stream tapped."""
    fake = FakeDigitalOcean(
        droplets=shapes.do_droplets(),
        sizes=shapes.do_sizes(),
        volumes=shapes.do_volumes(),
        reserved_ips=shapes.do_reserved_ips(),
        snapshots=shapes.do_snapshots(TODAY),
        loads=shapes.do_loads(),
    )
    with fake, tapped(aws_env, TABLE, NOW) as env:
        aws_env["monkeypatch"].setenv("DIGITALOCEAN_API_URL", fake.url)
        aws_env["monkeypatch"].setenv("DIGITALOCEAN_TOKEN", fake.token)
        write_config(aws_env, CONFIG)
        env["fake"] = fake
        yield env


def _collect_and_recommend(env: dict[str, Any]) -> int:
    """A scheduled collection, then the recommend function over what the stream holds for it; its batches."""
    from collect.handler import handler as collect
    from recommend.handler import handler as recommend

    run = collect(scheduled_event("do"), LambdaContext())
    assert run["status"] == "succeeded", run
    records = env["tap"].take(store_table.RECOMMEND)
    batch = store_table.RECOMMEND.batch_size
    for start in range(0, len(records), batch):
        assert recommend({"Records": records[start : start + batch]}, LambdaContext()) == {"batchItemFailures": []}
    return len(records)


def _by_resource() -> dict[tuple[str, str], Recommendation]:
    return {(rec.kind, rec.resource.name or rec.resource.id): rec for rec in store().recommendations()}


def _monthly(slug: str) -> Decimal:
    return next(Decimal(str(size["price_monthly"])) for size in shapes.do_sizes() if size["slug"] == slug)


def test_each_rule_fires_on_its_case_with_the_providers_prices(collected: dict[str, Any]) -> None:
    assert _collect_and_recommend(collected) >= 1
    found = _by_resource()
    assert set(found) == {
        ("idle", "web-2"),  # 2 % CPU
        ("rightsize", "batch-1"),  # 15 % of 8 vCPUs, 20 % of 16 GB
        ("zombie", "old-exports"),  # an unattached volume
        ("zombie", "203.0.113.77"),  # an unassigned reserved IP
        ("zombie", "legacy-app-final"),  # a 90-day-old snapshot of a deleted droplet
    }, "nothing for web-1 (40 %) or worker-1 (85 %), the attached volume, the assigned IP or last week's snapshot"
    assert all(rec.status == "open" and rec.currency == "USD" for rec in found.values())

    idle = found[("idle", "web-2")]
    assert idle.monthly_savings == _monthly("s-2vcpu-4gb") and idle.resource.type == "droplet"
    assert idle.confidence == "high", "13 complete days of metrics in a 14-day window"
    rightsize = found[("rightsize", "batch-1")]
    smaller = rightsize.evidence["target_size"]
    assert rightsize.monthly_savings == _monthly("s-8vcpu-16gb") - _monthly(smaller)
    assert found[("zombie", "old-exports")].monthly_savings == 250 * PRICES.volume_per_gb
    assert found[("zombie", "203.0.113.77")].monthly_savings == PRICES.reserved_ip
    assert found[("zombie", "legacy-app-final")].monthly_savings == Decimal("40.0") * PRICES.snapshot_per_gb
    # The stored money is exact; the contract's item carries it as a string to the cent.
    assert idle.item()["monthly_savings"] == f"{_monthly('s-2vcpu-4gb'):.2f}"


def test_a_dismissal_survives_recollection_and_a_gone_resource_expires(collected: dict[str, Any]) -> None:
    _collect_and_recommend(collected)
    found = _by_resource()
    dismissed = transition(found[("idle", "web-2")], "dismiss", datetime(2026, 11, 24, 8, 30, tzinfo=UTC))
    store().put_recommendations([dismissed])

    # The old exports volume is deleted at DigitalOcean; the next collection no longer lists it.
    fake = collected["fake"]
    fake.volumes = [volume for volume in fake.volumes if volume["name"] != "old-exports"]
    _collect_and_recommend(collected)

    after = _by_resource()
    assert after[("idle", "web-2")].status == "dismissed", "the same finding seen again stays dismissed"
    gone = after[("zombie", "old-exports")]
    assert (gone.status, gone.evidence["expired_because"]) == ("expired", "resource gone")
    assert after[("zombie", "203.0.113.77")].status == "open"
    assert len(after) == len(found), "at most one per (kind, resource), whatever its status"


def test_an_unchanged_recollection_rewrites_nothing(collected: dict[str, Any]) -> None:
    _collect_and_recommend(collected)
    before = {rec.id: rec for rec in store().recommendations()}
    _collect_and_recommend(collected)
    assert {rec.id: rec for rec in store().recommendations()} == before, "updated_at kept: nothing changed"


def test_a_started_or_failed_run_does_not_evaluate(collected: dict[str, Any]) -> None:
    from collect.handler import handler as collect
    from recommend.handler import handler as recommend

    # An inventory is stored (its run's records are dropped here), then a run fails.
    assert collect(scheduled_event("do"), LambdaContext())["status"] == "succeeded"
    collected["tap"].take(store_table.RECOMMEND)
    collected["fake"].fail("/v2/account", status=401, body={"id": "unauthorized", "message": "no"}, times=10)
    run = collect(scheduled_event("do"), LambdaContext())
    assert run["status"] == "failed", run
    records = collected["tap"].take(store_table.RECOMMEND)
    assert records, "the started and the failed run record reached the function"
    assert recommend({"Records": records}, LambdaContext()) == {"batchItemFailures": []}
    assert store().recommendations() == [], "no evaluation after a started or a failed run"
    # Asked directly, the same function evaluates what is stored.
    assert recommend({"evaluate": True}, LambdaContext()) == {"batchItemFailures": []}
    assert len(store().recommendations()) == 5


def test_the_busy_droplet_raises_utilisation_alerts_for_its_recent_days_by_name(collected: dict[str, Any]) -> None:
    from alert.evaluate.handler import handler as evaluate

    _collect_and_recommend(collected)
    records = collected["tap"].take(store_table.ALERT_EVALUATE)
    batch = store_table.ALERT_EVALUATE.batch_size
    for start in range(0, len(records), batch):
        assert evaluate({"Records": records[start : start + batch]}, LambdaContext()) == {"batchItemFailures": []}
    alerts = [alert for alert in store().alerts() if alert.kind == "utilisation"]
    # worker-1 runs at 85 % CPU (70 % memory, under 80 %); the collector read 13 complete days, of which the
    # last 3 are new enough to page about.
    assert {(a.rule, a.scope["resource"]) for a in alerts} == {("utilisation:cpu", "402003")}
    assert sorted(a.period for a in alerts) == [str(TODAY - timedelta(days=n)) for n in (3, 2, 1)]
    assert all("Droplets worker-1 (402003)" in a.title for a in alerts)


def test_a_dismissal_made_during_an_evaluation_is_not_undone(collected: dict[str, Any]) -> None:
    from recommend.evaluate import write

    _collect_and_recommend(collected)
    read = store().recommendations()
    web2 = next(rec for rec in read if rec.resource.name == "web-2")
    # A person dismisses it after the evaluation read it, before the evaluation writes its (expired) version.
    dismissed = transition(web2, "dismiss", datetime(2026, 11, 24, 8, 30, tzinfo=UTC))
    assert store().put_recommendation_if_unchanged(dismissed, web2.updated_at)
    stale = [replace(web2, status="expired", updated_at=datetime(2026, 11, 24, 8, 31, tzinfo=UTC))]
    assert write(store(), read, stale) == (0, 1)
    assert store().get_recommendation(web2.id) == dismissed

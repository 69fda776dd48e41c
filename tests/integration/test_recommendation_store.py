"""Recommendations kept in the table: the engine's findings from the real fixtures are stored, read back equal,
and a dismissal written through the store survives the next evaluation; a resource that is gone expires."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from spendwatch.domain.recommendations import engine
from spendwatch.domain.recommendations.inputs import Inputs
from spendwatch.domain.recommendations.lifecycle import merge, presence, transition
from spendwatch.domain.recommendations.stored import engine_inventory

from tests.integration.conftest import store
from tests.unit.test_recommendations_stored import _stored

TODAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 9, tzinfo=UTC)


def _evaluate(stored_inventory: Any, now: datetime) -> None:
    """One evaluation as collection will run it: judge, merge with what is stored, write what changed."""
    inventory = engine_inventory(stored_inventory)
    findings = engine.evaluate(Inputs(today=now.date(), inventories=(inventory,)))
    table = store()
    previous = table.recommendations()
    merged = merge(previous, findings, presence([inventory]), now)
    table.put_recommendations(rec for rec in merged if rec not in previous)


def test_findings_round_trip_and_a_dismissal_survives_the_next_evaluation(aws_env: dict[str, Any]) -> None:
    _evaluate(_stored(), NOW)
    stored = store().recommendations()
    zombies = [rec for rec in stored if rec.kind == "zombie"]
    assert zombies and all(rec.status == "open" for rec in stored)
    again = store().get_recommendation(zombies[0].id)
    assert again == zombies[0], "read back exactly: money, evidence, times"

    store().put_recommendations([transition(zombies[0], "dismiss", NOW)])
    _evaluate(_stored(), NOW.replace(hour=15))
    after = {rec.id: rec for rec in store().recommendations()}
    assert after[zombies[0].id].status == "dismissed"
    assert all(after[rec.id].status == "open" for rec in zombies[1:])


def test_a_zombie_whose_resource_is_gone_expires(aws_env: dict[str, Any]) -> None:
    inventory = _stored()
    _evaluate(inventory, NOW)
    volumes = [rec for rec in store().recommendations() if rec.resource.type == "volume"]
    assert volumes
    gone = volumes[0].resource.id
    left = [v for v in inventory.volumes or [] if v.id != gone]
    _evaluate(inventory.model_copy(update={"volumes": left}), NOW.replace(hour=15))
    assert store().get_recommendation(volumes[0].id).status == "expired"  # type: ignore[union-attr]

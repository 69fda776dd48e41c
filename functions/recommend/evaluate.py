"""One evaluation: read every input once, run the engine, merge with the stored recommendations, write what
changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from spendwatch.domain import inventory as stored
from spendwatch.domain.config import Config
from spendwatch.domain.recommendations import Recommendation, merge, presence
from spendwatch.domain.recommendations import evaluate as run_rules
from spendwatch.domain.recommendations.aws import aws_engine_inventory
from spendwatch.domain.recommendations.gather import read_inputs
from spendwatch.domain.recommendations.inputs import Inventory
from spendwatch.domain.recommendations.stored import engine_inventory
from spendwatch.store import Store

# Per source type that keeps an inventory: how its stored inventory becomes the engine's.
ADAPTERS: dict[str, Callable[[stored.Inventory], Inventory]] = {
    "digitalocean": engine_inventory,
    "aws_ce": aws_engine_inventory,
}


@dataclass(frozen=True)
class Outcome:
    """What one evaluation found and wrote."""

    findings: int
    written: int
    open: int
    inventories: int
    conflicts: int = 0


def inventories(store: Store, config: Config) -> list[Inventory]:
    """The engine's view of each inventory-keeping source's latest stored inventory (sources without one yet are
    left out: nothing of theirs can expire)."""
    found = []
    for source in config.sources:
        adapter = ADAPTERS.get(source.type)
        if adapter is None or not source.inventory:
            continue
        kept = store.inventory(source.name)
        if kept is not None:
            found.append(adapter(kept))
    return found


def changed(previous: list[Recommendation], merged: list[Recommendation]) -> list[Recommendation]:
    """The merged recommendations that differ from their stored selves by more than ``updated_at`` (a finding
    seen again with the same numbers is not rewritten)."""
    before = {rec.id: rec for rec in previous}
    return [
        rec
        for rec in merged
        if rec.id not in before or replace(rec, updated_at=before[rec.id].updated_at) != before[rec.id]
    ]


def evaluate(store: Store, config: Config, now: datetime) -> Outcome:
    """Run every rule over what is stored and bring the stored recommendations up to date."""
    kept = inventories(store, config)
    findings = run_rules(read_inputs(store, config, kept, now.date()))
    previous = store.recommendations()
    merged = merge(previous, findings, presence(kept), now)
    written, conflicts = write(store, previous, changed(previous, merged))
    return Outcome(
        findings=len(findings),
        written=written,
        open=sum(1 for rec in merged if rec.status == "open"),
        inventories=len(kept),
        conflicts=conflicts,
    )


def write(store: Store, previous: list[Recommendation], recs: list[Recommendation]) -> tuple[int, int]:
    """Write new recommendations in batches, and each changed one only while it is as this evaluation read it: a
    person's accept or dismiss that landed meanwhile wins, and the next evaluation merges with it. Returns
    (written, conflicts)."""
    before = {rec.id: rec for rec in previous}
    written = store.put_recommendations(rec for rec in recs if rec.id not in before)
    conflicts = 0
    for rec in recs:
        if rec.id in before:
            if store.put_recommendation_if_unchanged(rec, before[rec.id].updated_at):
                written += 1
            else:
                conflicts += 1
    return written, conflicts

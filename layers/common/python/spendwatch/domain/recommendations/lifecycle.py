"""Recommendations over time: new findings meet the stored ones, and people act on them.

``merge`` (after every evaluation), per (kind, resource) id:
- a new finding -> ``open``;
- seen again -> its numbers and words updated, ``updated_at = now``, status kept (``dismissed`` stays
  dismissed, ``accepted`` stays accepted); an ``expired`` one seen again opens again; an ``implemented`` one
  stays implemented unless the resource has changed size since (a new situation: open again);
- an ``accepted`` one whose resource changed size or is gone -> ``implemented``, with ``realised_savings``
  (the price it had minus the price it has now, 0 when gone) in its evidence;
- not seen again: resource gone from an inventory read in full -> ``expired`` (``open`` ones only;
  dismissed and implemented stay); resource present but the finding no longer holds -> ``open`` ones
  ``expired`` too (with ``expired_because`` saying which), the others unchanged;
- a resource of a provider whose inventory was not read in full this time is left as it was.

``transition`` is what the API's accept|dismiss|implement do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from spendwatch.domain.recommendations.model import Finding, Recommendation, Status, money_text, new_recommendation

if TYPE_CHECKING:
    from spendwatch.domain.recommendations.inputs import Inventory, ReservedIp, Snapshot, Volume

Action = Literal["accept", "dismiss", "implement"]
# Which statuses each action may start from; acting twice is harmless (the same status is returned unchanged).
ALLOWED: dict[str, tuple[Status, frozenset[Status]]] = {
    "accept": ("accepted", frozenset({"open", "dismissed"})),
    "dismiss": ("dismissed", frozenset({"open", "accepted"})),
    "implement": ("implemented", frozenset({"open", "accepted"})),
}
# Kinds about inventory resources: only these can be "gone"; the others are about scopes, limits, namespaces.
INVENTORY_KINDS = frozenset({"idle", "rightsize", "zombie"})


class TransitionError(ValueError):
    """An action a recommendation's status does not allow."""


@dataclass(frozen=True)
class Presence:
    """What the latest inventories hold: per provider read in full, each resource id's size and monthly price."""

    providers: frozenset[str] = frozenset()
    resources: Mapping[tuple[str, str], tuple[str, Decimal | None]] = field(default_factory=dict)

    def covers(self, provider: str) -> bool:
        """Whether ``provider``'s inventory was read in full, so absence means gone."""
        return provider in self.providers

    def state(self, provider: str, resource_id: str) -> tuple[str, Decimal | None] | None:
        """The resource's (size, monthly price), ``("", price)`` for a sizeless one, None when absent."""
        return self.resources.get((provider, resource_id))


def presence(inventories: Iterable[Inventory]) -> Presence:
    """The presence of every resource of the given inventories (only complete ones count as covering)."""
    providers: set[str] = set()
    resources: dict[tuple[str, str], tuple[str, Decimal | None]] = {}
    for inventory in inventories:
        if inventory.complete:
            providers.add(inventory.provider)
        for compute in inventory.compute:
            size = inventory.size(compute.size)
            resources[(inventory.provider, compute.id)] = (compute.size, None if size is None else size.price_monthly)
        priced: list[Volume | ReservedIp | Snapshot] = [
            *inventory.volumes,
            *inventory.reserved_ips,
            *inventory.snapshots,
        ]
        for item in priced:
            resources[(inventory.provider, item.id)] = ("", item.price_monthly)
    return Presence(frozenset(providers), resources)


def _recorded_size(rec: Recommendation) -> str:
    size = rec.evidence.get("size")
    return size if isinstance(size, str) else ""


def _recorded_price(rec: Recommendation) -> Decimal:
    price = rec.evidence.get("price_monthly")
    return Decimal(price) if isinstance(price, str) else rec.monthly_savings


def _implemented(rec: Recommendation, now_price: Decimal | None, now: datetime, why: str) -> Recommendation:
    realised = _recorded_price(rec) - (now_price or Decimal(0))
    evidence = {**rec.evidence, "realised_savings": money_text(realised), "implemented_because": why}
    return replace(rec, status="implemented", evidence=evidence, updated_at=now)


def _expired(rec: Recommendation, now: datetime, why: str) -> Recommendation:
    return replace(rec, status="expired", evidence={**rec.evidence, "expired_because": why}, updated_at=now)


def _seen_again(
    rec: Recommendation, finding: Finding, state: tuple[str, Decimal | None] | None, now: datetime
) -> Recommendation:
    size_now = state[0] if state else ""
    resized = bool(_recorded_size(rec)) and bool(size_now) and size_now != _recorded_size(rec)
    if rec.status == "accepted" and resized and state is not None:
        return _implemented(rec, state[1], now, f"resized from {_recorded_size(rec)} to {size_now}")
    updated = rec.with_finding(finding, now)
    if rec.status == "expired" or (rec.status == "implemented" and resized):
        return replace(updated, status="open")
    return updated


def _not_seen(rec: Recommendation, seen: Presence, now: datetime) -> Recommendation:
    provider = rec.resource.provider
    if rec.kind in INVENTORY_KINDS and not seen.covers(provider):
        return rec
    state = seen.state(provider, rec.resource.id) if rec.kind in INVENTORY_KINDS else None
    gone = rec.kind in INVENTORY_KINDS and state is None
    if rec.status == "accepted" and gone:
        return _implemented(rec, None, now, "resource gone")
    if rec.status == "accepted" and state is not None and _recorded_size(rec) and state[0] != _recorded_size(rec):
        return _implemented(rec, state[1], now, f"resized from {_recorded_size(rec)} to {state[0]}")
    if rec.status == "open":
        return _expired(rec, now, "resource gone" if gone else "finding no longer holds")
    return rec


def merge(
    previous: Iterable[Recommendation], findings: Iterable[Finding], seen: Presence, now: datetime
) -> list[Recommendation]:
    """The recommendations after an evaluation: the stored ones and the new findings merged (see the module).

    Returns every recommendation, changed or not, in id order; callers write those that differ.
    """
    stored = {rec.id: rec for rec in previous}
    fresh: dict[str, Finding] = {}
    for finding in findings:
        best = fresh.get(finding.id)
        if best is None or finding.monthly_savings > best.monthly_savings:
            fresh[finding.id] = finding
    merged: dict[str, Recommendation] = {}
    for rec_id, finding in fresh.items():
        rec = stored.get(rec_id)
        state = seen.state(finding.resource.provider, finding.resource.id)
        merged[rec_id] = new_recommendation(finding, now) if rec is None else _seen_again(rec, finding, state, now)
    for rec_id, rec in stored.items():
        if rec_id not in merged:
            merged[rec_id] = _not_seen(rec, seen, now)
    return [merged[rec_id] for rec_id in sorted(merged)]


def transition(rec: Recommendation, action: str, now: datetime) -> Recommendation:
    """``rec`` after an API action (accept, dismiss, implement); TransitionError when its status forbids it."""
    if action not in ALLOWED:
        raise TransitionError(f"unknown action {action!r}: use accept, dismiss or implement")
    target, sources = ALLOWED[action]
    if rec.status == target:
        return rec
    if rec.status not in sources:
        allowed = ", ".join(sorted(sources))
        raise TransitionError(f"cannot {action} a recommendation that is {rec.status} (only from {allowed})")
    return replace(rec, status=target, updated_at=now)

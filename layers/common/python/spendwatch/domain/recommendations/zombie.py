"""``zombie``: what is paid for and used by nothing: unattached volumes, unassigned reserved or Elastic IPs,
snapshots of resources that no longer exist once older than ``SNAPSHOT_MIN_AGE_DAYS``.

Each saves its own monthly price. Confidence is ``high`` for a volume or IP (the inventory says so) and for a
snapshot whose source's kind of resource is in the inventory; ``medium`` when the inventory could not know
the source (a snapshot of a kind of resource it does not list).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from spendwatch.domain.recommendations.inputs import Inventory, ReservedIp, Snapshot, Volume
from spendwatch.domain.recommendations.model import Finding, ResourceRef, money_text

SNAPSHOT_MIN_AGE_DAYS = 30
# The kinds of resource an inventory lists, by the snapshot's ``source_type``.
_LISTED = {"droplet": "compute", "instance": "compute", "volume": "volumes"}


def volume_finding(volume: Volume, currency: str) -> Finding | None:
    """An unattached volume: snapshot it if needed and delete it."""
    if volume.attached:
        return None
    return Finding(
        kind="zombie",
        resource=ResourceRef(volume.provider, "volume", volume.id, volume.name, volume.region),
        title=f"Volume {volume.name or volume.id} is attached to nothing",
        detail=(
            f"{volume.size_gb} GB unattached since at least this collection; it costs "
            f"{money_text(volume.price_monthly)} {currency} a month. Snapshot it if the data matters, then delete it."
        ),
        monthly_savings=volume.price_monthly,
        currency=currency,
        confidence="high",
        evidence={
            "attached": False,
            "size_gb": money_text(volume.size_gb),
            "price_monthly": money_text(volume.price_monthly),
        },
    )


def ip_finding(address: ReservedIp, currency: str) -> Finding | None:
    """An unassigned reserved IP: release it."""
    if address.assigned:
        return None
    return Finding(
        kind="zombie",
        resource=ResourceRef(address.provider, "reserved_ip", address.id, address.id, address.region),
        title=f"Reserved IP {address.id} is assigned to nothing",
        detail=f"An unassigned IP costs {money_text(address.price_monthly)} {currency} a month: release it.",
        monthly_savings=address.price_monthly,
        currency=currency,
        confidence="high",
        evidence={"assigned": False, "price_monthly": money_text(address.price_monthly)},
    )


def snapshot_finding(snapshot: Snapshot, inventory: Inventory, today: date) -> Finding | None:
    """A snapshot older than SNAPSHOT_MIN_AGE_DAYS whose source resource is gone: delete it if unneeded."""
    age = (today - snapshot.created_at.date()).days
    if age <= SNAPSHOT_MIN_AGE_DAYS or not snapshot.source_id or snapshot.source_id in inventory.resource_ids():
        return None
    listed = _LISTED.get(snapshot.source_type)
    return Finding(
        kind="zombie",
        resource=ResourceRef(snapshot.provider, "snapshot", snapshot.id, snapshot.name, snapshot.region),
        title=f"Snapshot {snapshot.name or snapshot.id} outlived its {snapshot.source_type or 'resource'}",
        detail=(
            f"Taken {age} days ago of {snapshot.source_type or 'resource'} {snapshot.source_id}, which no longer "
            f"exists; {snapshot.size_gb} GB cost {money_text(snapshot.price_monthly)} {inventory.currency} a month."
        ),
        monthly_savings=snapshot.price_monthly,
        currency=inventory.currency,
        confidence="high" if listed else "medium",
        evidence={
            "source_id": snapshot.source_id,
            "source_type": snapshot.source_type,
            "age_days": age,
            "min_age_days": SNAPSHOT_MIN_AGE_DAYS,
            "size_gb": money_text(snapshot.size_gb),
            "price_monthly": money_text(snapshot.price_monthly),
        },
    )


def zombie_findings(inventory: Inventory, today: date) -> list[Finding]:
    """Every zombie of the inventory: volumes, then IPs, then snapshots."""
    found = [volume_finding(v, inventory.currency) for v in inventory.volumes]
    found += [ip_finding(a, inventory.currency) for a in inventory.reserved_ips]
    found += [snapshot_finding(s, inventory, today) for s in inventory.snapshots]
    return [finding for finding in found if finding is not None and finding.monthly_savings >= Decimal(0)]

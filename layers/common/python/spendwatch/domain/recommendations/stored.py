"""What collection stored, as the engine's inputs: a source's stored inventory (``domain.inventory``) and the
utilisation usage items it wrote (``cpu_utilisation_avg``, ``cpu_utilisation_peak``, ``memory_utilisation_avg``
per resource and day)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from spendwatch.domain import inventory as stored
from spendwatch.domain.models import UsageItem
from spendwatch.domain.recommendations.digitalocean import CURRENCY, PROVIDER, size_family
from spendwatch.domain.recommendations.inputs import (
    ComputeResource,
    DailyUtilisation,
    Inventory,
    ReservedIp,
    Size,
    Snapshot,
    Volume,
)

CPU_AVG, CPU_PEAK, MEMORY_AVG = "cpu_utilisation_avg", "cpu_utilisation_peak", "memory_utilisation_avg"
UTILISATION_METRICS = frozenset({CPU_AVG, CPU_PEAK, MEMORY_AVG})


def _size(size: stored.Size) -> Size:
    return Size(
        slug=size.slug,
        family=size_family({"slug": size.slug, "description": size.description}),
        vcpus=size.vcpus,
        memory_mib=size.memory_mib,
        price_monthly=size.price_monthly,
        available=size.available,
        disk_gb=size.disk_gib,
    )


def _droplet(droplet: stored.Droplet, families: dict[str, str]) -> ComputeResource:
    family = families.get(droplet.size_slug) or size_family({"slug": droplet.size_slug})
    return ComputeResource(
        provider=PROVIDER,
        type="droplet",
        id=droplet.id,
        name=droplet.name,
        region=droplet.region,
        size=droplet.size_slug,
        family=family,
        tags=tuple(droplet.tags),
        created_at=droplet.created_at,
    )


def engine_inventory(inventory: stored.Inventory, currency: str = CURRENCY) -> Inventory:
    """A DigitalOcean source's stored inventory for the engine; ``complete`` only when every kind was read (a
    kind whose listing failed is left out, and then nothing of the source may expire)."""
    sizes = tuple(_size(size) for size in inventory.sizes or ())
    families = {size.slug: size.family for size in sizes}
    kinds = (inventory.sizes, inventory.droplets, inventory.volumes, inventory.reserved_ips, inventory.snapshots)
    return Inventory(
        provider=PROVIDER,
        currency=currency,
        compute=tuple(_droplet(droplet, families) for droplet in inventory.droplets or ()),
        sizes=sizes,
        volumes=tuple(map(_volume, inventory.volumes or ())),
        reserved_ips=tuple(
            ReservedIp(PROVIDER, ip.ip, ip.region, ip.droplet_id is not None, ip.price_monthly)
            for ip in inventory.reserved_ips or ()
        ),
        # A snapshot without a creation time cannot be aged: left out.
        snapshots=tuple(_snapshot(s, s.created_at) for s in inventory.snapshots or () if s.created_at is not None),
        complete=all(kind is not None for kind in kinds),
    )


def _volume(volume: stored.Volume) -> Volume:
    return Volume(
        provider=PROVIDER,
        id=volume.id,
        name=volume.name,
        region=volume.region,
        size_gb=volume.size_gigabytes,
        attached=bool(volume.droplet_ids),
        price_monthly=volume.price_monthly,
        created_at=volume.created_at,
    )


def _snapshot(snapshot: stored.Snapshot, created_at: datetime) -> Snapshot:
    return Snapshot(
        provider=PROVIDER,
        id=snapshot.id,
        name=snapshot.name,
        region=snapshot.regions[0] if snapshot.regions else "",
        source_id=snapshot.resource_id,
        source_type=snapshot.resource_type,
        created_at=created_at,
        size_gb=snapshot.size_gigabytes,
        price_monthly=snapshot.price_monthly,
    )


def daily_utilisation(items: Iterable[UsageItem], provider: str = PROVIDER) -> list[DailyUtilisation]:
    """Per resource and day, the utilisation usage items as the engine reads them (other metrics are ignored)."""
    days: dict[tuple[str, date], dict[str, Decimal]] = defaultdict(dict)
    for item in items:
        if item.metric in UTILISATION_METRICS and item.ResourceId:
            days[(item.ResourceId, item.day)][item.metric] = item.quantity
    return [
        DailyUtilisation(provider, resource, day, found.get(CPU_AVG), found.get(CPU_PEAK), found.get(MEMORY_AVG))
        for (resource, day), found in sorted(days.items())
    ]

"""DigitalOcean's API objects (droplets, sizes, volumes, reserved IPs, snapshots) as an ``Inventory`` (pure).

The API serves the sizes' ``price_monthly`` and nothing else priced: volumes, snapshots and reserved IPs
are priced from DigitalOcean's published per-GB and per-IP monthly prices (``DoPrices``; pass others if they
change). ``price_monthly`` is used as served, never worked out from the hourly price.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from spendwatch.domain.money import MoneyError, parse_amount
from spendwatch.domain.recommendations.inputs import (
    ComputeResource,
    Inventory,
    ReservedIp,
    Size,
    Snapshot,
    Volume,
)

PROVIDER = "DigitalOcean"
CURRENCY = "USD"


class InventoryError(ValueError):
    """An API object that cannot become part of the inventory."""


@dataclass(frozen=True)
class DoPrices:
    """DigitalOcean's list prices for what its API does not price: per GiB-month and per unassigned IP-month."""

    volume_per_gb: Decimal = Decimal("0.10")
    snapshot_per_gb: Decimal = Decimal("0.06")
    reserved_ip: Decimal = Decimal("5.00")


def _text(row: dict[str, Any], name: str) -> str:
    value = row.get(name)
    return str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _time(row: dict[str, Any], name: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(_text(row, name).replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _number(row: dict[str, Any], name: str) -> Decimal:
    try:
        return parse_amount(row.get(name))
    except MoneyError as exc:
        raise InventoryError(f"{name} {row.get(name)!r} is not a number") from exc


def _region(row: dict[str, Any]) -> str:
    region = row.get("region")
    return _text(region, "slug") if isinstance(region, dict) else _text(row, "region")


def size_family(size: dict[str, Any]) -> str:
    """The family a size belongs to: its ``description`` ("Basic", "General Purpose"...), else its slug's prefix
    with its processor suffix (``s-1vcpu-1gb-amd`` -> ``s-amd``)."""
    description = _text(size, "description")
    if description:
        return description
    parts = _text(size, "slug").split("-")
    suffix = [parts[-1]] if len(parts) > 3 else []
    return "-".join([parts[0], *suffix])


def parse_size(row: Any) -> Size:
    """One ``/v2/sizes`` entry (or a droplet's embedded ``size``)."""
    if not isinstance(row, dict) or not _text(row, "slug"):
        raise InventoryError("size has no slug")
    regions = row.get("regions")
    return Size(
        slug=_text(row, "slug"),
        family=size_family(row),
        vcpus=int(_number(row, "vcpus")),
        memory_mib=int(_number(row, "memory")),
        price_monthly=_number(row, "price_monthly"),
        available=row.get("available") is not False,
        disk_gb=int(_number(row, "disk")) if row.get("disk") is not None else 0,
        regions=tuple(str(r) for r in regions) if isinstance(regions, list) else (),
    )


def parse_droplet(row: Any) -> ComputeResource:
    """One droplet as a compute resource (its size's family from the embedded size object)."""
    if not isinstance(row, dict) or not _text(row, "id"):
        raise InventoryError("droplet has no id")
    raw_size = row.get("size")
    size: dict[str, Any] = raw_size if isinstance(raw_size, dict) else {}
    slug = _text(row, "size_slug") or _text(size, "slug")
    if not slug:
        raise InventoryError(f"droplet {_text(row, 'id')} has no size slug")
    tags = row.get("tags")
    return ComputeResource(
        provider=PROVIDER,
        type="droplet",
        id=_text(row, "id"),
        name=_text(row, "name"),
        region=_region(row),
        size=slug,
        family=size_family(size) if size else size_family({"slug": slug}),
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
        created_at=_time(row, "created_at"),
        disk_gb=int(_number(row, "disk")) if row.get("disk") is not None else 0,
    )


def parse_volume(row: Any, prices: DoPrices) -> Volume:
    """One volume: attached when it lists droplets; priced per GiB-month."""
    if not isinstance(row, dict) or not _text(row, "id"):
        raise InventoryError("volume has no id")
    size_gb = _number(row, "size_gigabytes")
    return Volume(
        provider=PROVIDER,
        id=_text(row, "id"),
        name=_text(row, "name"),
        region=_region(row),
        size_gb=size_gb,
        attached=bool(row.get("droplet_ids")),
        price_monthly=size_gb * prices.volume_per_gb,
        created_at=_time(row, "created_at"),
    )


def parse_reserved_ip(row: Any, prices: DoPrices) -> ReservedIp:
    """One reserved IP: assigned when it names a droplet; the unassigned price either way."""
    if not isinstance(row, dict) or not _text(row, "ip"):
        raise InventoryError("reserved IP has no ip")
    return ReservedIp(
        provider=PROVIDER,
        id=_text(row, "ip"),
        region=_region(row),
        assigned=bool(row.get("droplet")),
        price_monthly=prices.reserved_ip,
    )


def parse_snapshot(row: Any, prices: DoPrices) -> Snapshot:
    """One snapshot, with the resource it was taken of; priced per GiB-month of its ``size_gigabytes``."""
    if not isinstance(row, dict) or not _text(row, "id"):
        raise InventoryError("snapshot has no id")
    created = _time(row, "created_at")
    if created is None:
        raise InventoryError(f"snapshot {_text(row, 'id')} has no created_at")
    size_gb = _number(row, "size_gigabytes")
    regions = row.get("regions")
    return Snapshot(
        provider=PROVIDER,
        id=_text(row, "id"),
        name=_text(row, "name"),
        region=str(regions[0]) if isinstance(regions, list) and regions else "",
        source_id=_text(row, "resource_id"),
        source_type=_text(row, "resource_type"),
        created_at=created,
        size_gb=size_gb,
        price_monthly=size_gb * prices.snapshot_per_gb,
    )


def inventory(
    droplets: Iterable[Any],
    sizes: Iterable[Any],
    volumes: Iterable[Any] = (),
    reserved_ips: Iterable[Any] = (),
    snapshots: Iterable[Any] = (),
    *,
    prices: DoPrices | None = None,
    complete: bool = True,
) -> Inventory:
    """The account's inventory from the listings' objects (the ``droplets``, ``sizes``... arrays, every page).

    Sizes embedded in droplets join the catalogue when ``/v2/sizes`` did not list them, so a droplet on a
    retired size still has its price.
    """
    rates = prices or DoPrices()
    raw_droplets = list(droplets)
    catalogue = {size.slug: size for size in map(parse_size, sizes)}
    for row in raw_droplets:
        embedded = row.get("size") if isinstance(row, dict) else None
        if isinstance(embedded, dict) and _text(embedded, "slug") and _text(embedded, "slug") not in catalogue:
            catalogue[_text(embedded, "slug")] = parse_size(embedded)
    return Inventory(
        provider=PROVIDER,
        currency=CURRENCY,
        compute=tuple(map(parse_droplet, raw_droplets)),
        sizes=tuple(catalogue.values()),
        volumes=tuple(parse_volume(row, rates) for row in volumes),
        reserved_ips=tuple(parse_reserved_ip(row, rates) for row in reserved_ips),
        snapshots=tuple(parse_snapshot(row, rates) for row in snapshots),
        complete=complete,
    )

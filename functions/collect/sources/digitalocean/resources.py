"""DigitalOcean listings (sizes, droplets, volumes, reserved IPs, snapshots) into inventory models (pure; no I/O).

Volumes, reserved IPs and snapshots carry no price in the API: they are priced from DigitalOcean's published
list prices below (per GiB-month for storage; a reserved IP costs money only while it is not assigned).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from spendwatch.domain.inventory import Droplet, ReservedIp, Size, Snapshot, Volume
from spendwatch.domain.recommendations.digitalocean import DoPrices

from collect.sources.digitalocean.records import RowError

# DigitalOcean's list prices for what its API does not price: one price list for collection and the engine.
PRICES = DoPrices()
CENT = Decimal("0.01")
M = TypeVar("M", bound=BaseModel)


def _object(row: Any, what: str) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise RowError(f"{what} is not an object")
    return row


def _id(value: Any) -> str:
    """An id as text (DigitalOcean ids are numbers for droplets, strings elsewhere); '' when absent."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return ""
    return str(value)


def _decimal(row: dict[str, Any], name: str, what: str) -> Decimal:
    """A JSON number as an exact Decimal (through its text, as the API printed it)."""
    value = row.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RowError(f"{what}: {name} is {value!r}, not a number")
    try:
        number = Decimal(str(value))
    except ArithmeticError as exc:
        raise RowError(f"{what}: {name} {value!r} is not a number") from exc
    if not number.is_finite():
        raise RowError(f"{what}: {name} {value!r} is not a number")
    return number


def _region(row: dict[str, Any]) -> str:
    region = row.get("region")
    if isinstance(region, dict):
        return str(region.get("slug") or "")
    return region if isinstance(region, str) else ""


def _strings(value: Any) -> list[str]:
    return [_id(v) for v in value if _id(v)] if isinstance(value, list) else []


def _build(model: type[M], what: str, **fields: Any) -> M:
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise RowError(f"{what}: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from exc


def size(row: Any) -> Size:
    """One ``/v2/sizes`` entry."""
    data = _object(row, "size")
    what = f"size {data.get('slug')!r}"
    return _build(
        Size,
        what,
        slug=data.get("slug"),
        vcpus=data.get("vcpus"),
        memory_mib=data.get("memory"),
        disk_gib=data.get("disk") or 0,
        price_monthly=_decimal(data, "price_monthly", what),
        price_hourly=_decimal(data, "price_hourly", what),
        description=data.get("description") or "",
        available=bool(data.get("available", True)),
    )


def droplet(row: Any) -> Droplet:
    """One ``/v2/droplets`` entry, with its size's monthly price."""
    data = _object(row, "droplet")
    droplet_id = _id(data.get("id"))
    what = f"droplet {droplet_id or '?'}"
    raw_size = data.get("size")
    size_data: dict[str, Any] = raw_size if isinstance(raw_size, dict) else {}
    return _build(
        Droplet,
        what,
        id=droplet_id,
        name=data.get("name") or "",
        size_slug=data.get("size_slug") or size_data.get("slug") or "",
        region=_region(data),
        status=data.get("status") or "",
        created_at=data.get("created_at"),
        price_monthly=_decimal(size_data, "price_monthly", what),
        tags=_strings(data.get("tags")),
    )


def volume(row: Any) -> Volume:
    """One ``/v2/volumes`` entry, priced per GiB-month."""
    data = _object(row, "volume")
    what = f"volume {data.get('id')!r}"
    gigabytes = _decimal(data, "size_gigabytes", what)
    return _build(
        Volume,
        what,
        id=_id(data.get("id")),
        name=data.get("name") or "",
        region=_region(data),
        size_gigabytes=gigabytes,
        droplet_ids=_strings(data.get("droplet_ids")),
        created_at=data.get("created_at"),
        price_monthly=(gigabytes * PRICES.volume_per_gb).quantize(CENT),
        tags=_strings(data.get("tags")),
    )


def reserved_ip(row: Any) -> ReservedIp:
    """One ``/v2/reserved_ips`` entry: assigned when ``droplet`` is an object with an id."""
    data = _object(row, "reserved IP")
    holder = data.get("droplet")
    droplet_id = _id(holder.get("id")) if isinstance(holder, dict) else ""
    return _build(
        ReservedIp,
        f"reserved IP {data.get('ip')!r}",
        ip=data.get("ip"),
        region=_region(data),
        droplet_id=droplet_id or None,
        project_id=data.get("project_id") or "",
        price_monthly=PRICES.reserved_ip,
    )


def snapshot(row: Any) -> Snapshot:
    """One ``/v2/snapshots`` entry, priced per GiB-month of its size."""
    data = _object(row, "snapshot")
    what = f"snapshot {data.get('id')!r}"
    gigabytes = _decimal(data, "size_gigabytes", what)
    return _build(
        Snapshot,
        what,
        id=_id(data.get("id")),
        name=data.get("name") or "",
        resource_id=_id(data.get("resource_id")),
        resource_type=data.get("resource_type") or "",
        created_at=data.get("created_at"),
        size_gigabytes=gigabytes,
        regions=_strings(data.get("regions")),
        price_monthly=(gigabytes * PRICES.snapshot_per_gb).quantize(CENT),
    )


def droplet_id(row: Any) -> str:
    """A droplet row's id as text ('' when it has none)."""
    return _id(row.get("id")) if isinstance(row, dict) else ""

"""A provider's inventory as one collection saw it: sizes with prices, droplets, volumes, reserved IPs, snapshots.

The recommendation rules read it next to the utilisation usage items (``cpu_utilisation_avg``...). Every kind is
optional: a run stores only the kinds it read in full, and each stored kind keeps the moment it was read.
Money is Decimal, read from the provider's own prices.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

InventoryKind = Literal["sizes", "droplets", "volumes", "reserved_ips", "snapshots"]
INVENTORY_KINDS: tuple[InventoryKind, ...] = get_args(InventoryKind)

_FROZEN = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Size(BaseModel):
    """One size on offer (``/v2/sizes``): what it gives and what it costs."""

    model_config = _FROZEN

    slug: str = Field(min_length=1)
    vcpus: int = Field(ge=0)
    memory_mib: int = Field(ge=0)
    disk_gib: int = Field(default=0, ge=0)
    price_monthly: Decimal
    price_hourly: Decimal
    description: str = ""
    available: bool = True


class Droplet(BaseModel):
    """One droplet that exists now, with its size and that size's monthly price."""

    model_config = _FROZEN

    id: str = Field(min_length=1)
    name: str = ""
    size_slug: str = Field(min_length=1)
    region: str = ""
    status: str = ""
    created_at: datetime | None = None
    price_monthly: Decimal
    tags: list[str] = Field(default_factory=list)


class Volume(BaseModel):
    """One block storage volume: attached when ``droplet_ids`` is not empty."""

    model_config = _FROZEN

    id: str = Field(min_length=1)
    name: str = ""
    region: str = ""
    size_gigabytes: Decimal
    droplet_ids: list[str] = Field(default_factory=list)
    created_at: datetime | None = None
    price_monthly: Decimal
    tags: list[str] = Field(default_factory=list)

    @property
    def attached(self) -> bool:
        """Whether a droplet uses it."""
        return bool(self.droplet_ids)


class ReservedIp(BaseModel):
    """One reserved IP: assigned when ``droplet_id`` is set; ``price_monthly`` is what it costs while unassigned."""

    model_config = _FROZEN

    ip: str = Field(min_length=1)
    region: str = ""
    droplet_id: str | None = None
    project_id: str = ""
    price_monthly: Decimal

    @property
    def assigned(self) -> bool:
        """Whether a droplet holds it."""
        return self.droplet_id is not None


class Snapshot(BaseModel):
    """One snapshot, with the resource it was taken of (which may no longer exist)."""

    model_config = _FROZEN

    id: str = Field(min_length=1)
    name: str = ""
    resource_id: str = ""
    resource_type: str = ""
    created_at: datetime | None = None
    size_gigabytes: Decimal
    regions: list[str] = Field(default_factory=list)
    price_monthly: Decimal


class Inventory(BaseModel):
    """What one source holds; a kind left ``None`` was not read (or not in full) and is not replaced.

    ``read_at`` says when each kind present was read (kinds may come from different runs once stored).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    source: str = Field(min_length=1)
    sizes: list[Size] | None = None
    droplets: list[Droplet] | None = None
    volumes: list[Volume] | None = None
    reserved_ips: list[ReservedIp] | None = None
    snapshots: list[Snapshot] | None = None
    read_at: dict[InventoryKind, datetime] = Field(default_factory=dict)

    def kinds(self) -> dict[InventoryKind, list[BaseModel]]:
        """The kinds present, each with its resources."""
        present: dict[InventoryKind, list[BaseModel]] = {}
        for kind in INVENTORY_KINDS:
            resources = getattr(self, kind)
            if resources is not None:
                present[kind] = list(resources)
        return present

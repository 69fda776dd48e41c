"""A provider's inventory as one collection saw it: sizes with prices, droplets, volumes, reserved IPs, snapshots
(DigitalOcean); instance types with prices, instances, EBS volumes, Elastic IPs (AWS).

The recommendation rules read it next to the utilisation usage items (``cpu_utilisation_avg``...). Every kind is
optional: a run stores only the kinds it read in full, and each stored kind keeps the moment it was read.
Money is Decimal, read from the provider's own prices. An AWS price the Price List API did not give is ``None``:
the resource is listed, and nothing is claimed about what it costs.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

InventoryKind = Literal[
    "sizes",
    "droplets",
    "volumes",
    "reserved_ips",
    "snapshots",
    "instance_types",
    "instances",
    "ebs_volumes",
    "elastic_ips",
]
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


class InstanceType(BaseModel):
    """An EC2 instance type in one region: what it gives and its on-demand Linux price there (None: not found)."""

    model_config = _FROZEN

    name: str = Field(min_length=1)
    region: str = ""
    vcpus: int = Field(ge=0)
    memory_mib: int = Field(ge=0)
    price_hourly: Decimal | None = None
    price_monthly: Decimal | None = None


class Instance(BaseModel):
    """One EC2 instance that is not terminated, with its state (only ``running`` ones are billed for compute)."""

    model_config = _FROZEN

    id: str = Field(min_length=1)
    name: str = ""
    instance_type: str = Field(min_length=1)
    region: str = ""
    state: str = ""
    launched_at: datetime | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class EbsVolume(BaseModel):
    """One EBS volume: attached when ``instance_ids`` is not empty; priced per GB-month of its type."""

    model_config = _FROZEN

    id: str = Field(min_length=1)
    name: str = ""
    region: str = ""
    volume_type: str = ""
    size_gib: int = Field(ge=0)
    state: str = ""
    instance_ids: list[str] = Field(default_factory=list)
    created_at: datetime | None = None
    price_monthly: Decimal | None = None

    @property
    def attached(self) -> bool:
        """Whether an instance uses it."""
        return bool(self.instance_ids)


class ElasticIp(BaseModel):
    """One Elastic IP: associated when ``association_id`` is set; ``price_monthly`` is its idle price."""

    model_config = _FROZEN

    allocation_id: str = Field(min_length=1)
    public_ip: str = ""
    region: str = ""
    association_id: str | None = None
    instance_id: str | None = None
    price_monthly: Decimal | None = None

    @property
    def associated(self) -> bool:
        """Whether it is associated with an instance or a network interface."""
        return self.association_id is not None


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
    instance_types: list[InstanceType] | None = None
    instances: list[Instance] | None = None
    ebs_volumes: list[EbsVolume] | None = None
    elastic_ips: list[ElasticIp] | None = None
    read_at: dict[InventoryKind, datetime] = Field(default_factory=dict)

    def kinds(self) -> dict[InventoryKind, list[BaseModel]]:
        """The kinds present, each with its resources."""
        present: dict[InventoryKind, list[BaseModel]] = {}
        for kind in INVENTORY_KINDS:
            resources = getattr(self, kind)
            if resources is not None:
                present[kind] = list(resources)
        return present

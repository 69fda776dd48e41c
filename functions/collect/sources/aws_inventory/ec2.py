"""EC2 listings (DescribeInstances, DescribeInstanceTypes, DescribeVolumes, DescribeAddresses) into inventory models.

The parsers are pure; ``Ec2`` makes the calls, every page, and raises ``ListingError`` when a listing fails, so a
kind is stored in full or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ValidationError
from spendwatch.domain.inventory import EbsVolume, ElasticIp, Instance

LIVE_STATES = ("pending", "running", "stopping", "stopped")  # terminated instances cost nothing and are gone
TYPES_PER_REQUEST = 100  # DescribeInstanceTypes' limit on InstanceTypes


# Instance sizes from smallest to largest: a type one step down its family's ladder is what rightsizing proposes.
_MULTIPLES = (2, 3, 4, 6, 8, 9, 10, 12, 16, 18, 24, 32, 48)
LADDER = ("nano", "micro", "small", "medium", "large", "xlarge", *(f"{n}xlarge" for n in _MULTIPLES))


def family(instance_type: str) -> str:
    """The part before the dot: ``m5`` of ``m5.large``."""
    return instance_type.split(".", 1)[0]


def smaller_sizes(instance_type: str) -> list[str]:
    """Every type name below ``instance_type`` on its family's ladder, largest first (some may not exist)."""
    name, _, size = instance_type.partition(".")
    if size not in LADDER:
        return []
    return [f"{name}.{smaller}" for smaller in reversed(LADDER[: LADDER.index(size)])]


class ListingError(RuntimeError):
    """A listing failed part way, or a row in it cannot be read."""


@dataclass(frozen=True)
class TypeSpec:
    """What an instance type gives."""

    vcpus: int
    memory_mib: int


def _tags(row: dict[str, Any]) -> dict[str, str]:
    return {str(t.get("Key")): str(t.get("Value", "")) for t in row.get("Tags") or [] if t.get("Key")}


def _build(model: type[BaseModel], what: str, **fields: Any) -> Any:
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ListingError(f"{what}: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from exc


def instance(row: dict[str, Any], region: str) -> Instance:
    """One DescribeInstances instance."""
    tags = _tags(row)
    launched = row.get("LaunchTime")
    return _build(  # type: ignore[no-any-return]
        Instance,
        f"instance {row.get('InstanceId')!r}",
        id=row.get("InstanceId") or "",
        name=tags.get("Name", ""),
        instance_type=row.get("InstanceType") or "",
        region=region,
        state=str((row.get("State") or {}).get("Name") or ""),
        launched_at=launched if isinstance(launched, datetime) else None,
        tags=tags,
    )


def type_spec(row: dict[str, Any]) -> tuple[str, TypeSpec]:
    """One DescribeInstanceTypes entry: its name, default vCPUs and memory."""
    name = str(row.get("InstanceType") or "")
    vcpus = (row.get("VCpuInfo") or {}).get("DefaultVCpus")
    memory = (row.get("MemoryInfo") or {}).get("SizeInMiB")
    if not name or not isinstance(vcpus, int) or not isinstance(memory, int):
        raise ListingError(f"instance type {name!r} has no VCpuInfo.DefaultVCpus or MemoryInfo.SizeInMiB")
    return name, TypeSpec(vcpus, memory)


def volume(row: dict[str, Any], region: str) -> EbsVolume:
    """One DescribeVolumes volume (unpriced: the reader adds its price)."""
    attached = [str(a["InstanceId"]) for a in row.get("Attachments") or [] if a.get("InstanceId")]
    created = row.get("CreateTime")
    return _build(  # type: ignore[no-any-return]
        EbsVolume,
        f"volume {row.get('VolumeId')!r}",
        id=row.get("VolumeId") or "",
        name=_tags(row).get("Name", ""),
        region=region,
        volume_type=row.get("VolumeType") or "",
        size_gib=row.get("Size"),
        state=row.get("State") or "",
        instance_ids=attached,
        created_at=created if isinstance(created, datetime) else None,
    )


def address(row: dict[str, Any], region: str) -> ElasticIp:
    """One DescribeAddresses address: associated when it has an AssociationId."""
    return _build(  # type: ignore[no-any-return]
        ElasticIp,
        f"address {row.get('PublicIp')!r}",
        allocation_id=row.get("AllocationId") or row.get("PublicIp") or "",
        public_ip=row.get("PublicIp") or "",
        region=region,
        association_id=row.get("AssociationId") or None,
        instance_id=row.get("InstanceId") or None,
    )


@dataclass
class Ec2:
    """One run's EC2 calls in the client's region (every resource listed is in that region)."""

    client: Any

    @property
    def region(self) -> str:
        """The region the client asks."""
        return str(self.client.meta.region_name or "")

    def _pages(self, operation: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
        try:
            for page in self.client.get_paginator(operation).paginate(**params):
                yield from page.get(key) or []
        except (ClientError, BotoCoreError) as exc:
            raise ListingError(f"{operation} failed: {_describe(exc)}") from exc

    def instances(self) -> list[Instance]:
        """Every instance that is not terminated (pages of 1,000)."""
        live = [{"Name": "instance-state-name", "Values": list(LIVE_STATES)}]
        reservations = self._pages("describe_instances", "Reservations", Filters=live, MaxResults=1000)
        return [instance(row, self.region) for r in reservations for row in r.get("Instances") or []]

    def instance_types(self, names: list[str]) -> dict[str, TypeSpec]:
        """vCPUs and memory of those of the named types that exist here, asked 100 at a time (a filter, so a name
        that does not exist is simply not answered, where ``InstanceTypes`` would fail the whole request)."""
        specs: dict[str, TypeSpec] = {}
        for start in range(0, len(names), TYPES_PER_REQUEST):
            batch = [{"Name": "instance-type", "Values": names[start : start + TYPES_PER_REQUEST]}]
            rows = self._pages("describe_instance_types", "InstanceTypes", Filters=batch)
            specs.update(type_spec(row) for row in rows)
        return specs

    def volumes(self) -> list[EbsVolume]:
        """Every EBS volume, attached or not (pages of 500)."""
        return [volume(row, self.region) for row in self._pages("describe_volumes", "Volumes", MaxResults=500)]

    def addresses(self) -> list[ElasticIp]:
        """Every Elastic IP (DescribeAddresses does not page)."""
        try:
            rows = self.client.describe_addresses().get("Addresses") or []
        except (ClientError, BotoCoreError) as exc:
            raise ListingError(f"describe_addresses failed: {_describe(exc)}") from exc
        return [address(row, self.region) for row in rows]


def _describe(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'ClientError')}: {error.get('Message', '')}".rstrip(": ")
    return type(exc).__name__

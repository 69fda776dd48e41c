"""An AWS source's stored inventory (EC2 instance types, instances, EBS volumes, Elastic IPs) as the engine's input.

Instance types are the sizes: their family is the part of the name before the dot (``m5`` of ``m5.large``), so the
``rightsize`` rule steps down within a family; their ``price_monthly`` is the on-demand Linux hourly price x 730,
as collected. Only running instances are compute (a stopped one is not billed for compute). Volumes and Elastic
IPs keep the monthly price collected for them (an Elastic IP's is its idle price).

What was listed without a price is left out of what the rules judge, so no saving is claimed for it, and the
inventory is then not ``complete``: a recommendation whose resource merely lost its price does not expire.
"""

from __future__ import annotations

from decimal import Decimal

from spendwatch.domain import inventory as stored
from spendwatch.domain.recommendations.inputs import ComputeResource, Inventory, ReservedIp, Size, Volume

PROVIDER = "AWS"
CURRENCY = "USD"  # the Price List API's prices are in US dollars
RUNNING = "running"


def instance_family(instance_type: str) -> str:
    """The family of an instance type: ``m5`` of ``m5.large``, ``u-6tb1`` of ``u-6tb1.metal``."""
    return instance_type.split(".", 1)[0]


def _size(instance_type: stored.InstanceType) -> Size | None:
    if instance_type.price_monthly is None:
        return None
    return Size(
        slug=instance_type.name,
        family=instance_family(instance_type.name),
        vcpus=instance_type.vcpus,
        memory_mib=instance_type.memory_mib,
        price_monthly=instance_type.price_monthly,
        regions=(instance_type.region,) if instance_type.region else (),
    )


def _instance(instance: stored.Instance) -> ComputeResource:
    return ComputeResource(
        provider=PROVIDER,
        type="instance",
        id=instance.id,
        name=instance.name,
        region=instance.region,
        size=instance.instance_type,
        family=instance_family(instance.instance_type),
        tags=tuple(f"{key}:{value}" if value else key for key, value in sorted(instance.tags.items())),
        created_at=instance.launched_at,
    )


def _volume(volume: stored.EbsVolume) -> Volume | None:
    if volume.price_monthly is None:
        return None
    return Volume(
        provider=PROVIDER,
        id=volume.id,
        name=volume.name,
        region=volume.region,
        size_gb=Decimal(volume.size_gib),
        attached=volume.attached,
        price_monthly=volume.price_monthly,
        created_at=volume.created_at,
    )


def _address(address: stored.ElasticIp) -> ReservedIp | None:
    if address.price_monthly is None:
        return None
    return ReservedIp(PROVIDER, address.allocation_id, address.region, address.associated, address.price_monthly)


def aws_engine_inventory(inventory: stored.Inventory) -> Inventory:
    """The engine's ``Inventory`` of an AWS source: ``complete`` only when every kind was read and every resource
    in it has a price."""
    kinds = (inventory.instance_types, inventory.instances, inventory.ebs_volumes, inventory.elastic_ips)
    sizes = [_size(t) for t in inventory.instance_types or ()]
    volumes = [_volume(v) for v in inventory.ebs_volumes or ()]
    addresses = [_address(a) for a in inventory.elastic_ips or ()]
    priced = all(item is not None for item in (*sizes, *volumes, *addresses))
    return Inventory(
        provider=PROVIDER,
        currency=CURRENCY,
        compute=tuple(_instance(i) for i in inventory.instances or () if i.state == RUNNING),
        sizes=tuple(size for size in sizes if size is not None),
        volumes=tuple(volume for volume in volumes if volume is not None),
        reserved_ips=tuple(address for address in addresses if address is not None),
        complete=priced and all(kind is not None for kind in kinds),
    )

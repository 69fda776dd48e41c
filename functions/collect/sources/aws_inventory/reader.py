"""One run's AWS inventory: instances and their types, EBS volumes, Elastic IPs, their prices, the instances' CPU.

Each kind is listed in full or left out (the store keeps its earlier snapshot) with a rejection saying why. The
catalogue of instance types holds every type an instance uses plus, for each running instance, the next smaller
type of its family that exists in the region, so the rightsizing rule has a step down to propose. Prices come
from the Price List API; a resource whose price is not found is listed without one, and the run's notes say so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from spendwatch.domain.inventory import EbsVolume, ElasticIp, Instance, InstanceType, Inventory
from spendwatch.platform.aws import client
from spendwatch.platform.observability import logger

from collect.sources.aws_inventory.ec2 import Ec2, ListingError, smaller_sizes
from collect.sources.aws_inventory.metrics import CpuReader, usage_items
from collect.sources.aws_inventory.prices import (
    CENT,
    PRICING_REGION,
    PriceList,
    idle_ip_query,
    instance_query,
    monthly,
    volume_query,
)
from collect.sources.base import CollectRequest

T = TypeVar("T")
RUNNING = "running"


@dataclass
class AwsInventoryReader:
    """Reads the inventory into ``request.sink.inventory`` and the instances' CPU into usage items."""

    request: CollectRequest
    ec2: Ec2
    prices: PriceList
    cpu: CpuReader
    done: list[str] = field(default_factory=list)

    def read(self) -> None:
        """Every kind, then utilisation of the running instances, then the notes on what has no price."""
        kinds: dict[str, list[Any]] = {}
        instances = self._list("instances", self.ec2.instances)
        if instances is not None:
            kinds["instances"] = instances
            types = self._list("instance_types", lambda: self.instance_types(instances))
            if types is not None:
                kinds["instance_types"] = types
        volumes = self._list("ebs_volumes", self.ec2.volumes)
        if volumes is not None:
            kinds["ebs_volumes"] = [self._priced_volume(v) for v in volumes]
        addresses = self._list("elastic_ips", self.ec2.addresses)
        if addresses is not None:
            kinds["elastic_ips"] = [self._priced_address(a) for a in addresses]
        sink = self.request.sink
        sink.inventory = Inventory.model_validate({"source": self.request.source.name, **kinds})
        self.done.append(", ".join(f"{kind} ({len(items)})" for kind, items in kinds.items()) or "no inventory")
        if instances is not None:
            self.utilisation([i.id for i in instances if i.state == RUNNING])
        for missing in self.prices.missing:
            sink.notes.append(f"no price from the AWS Price List API for {missing}; listed without savings")

    def _list(self, kind: str, listing: Callable[[], list[T]]) -> list[T] | None:
        try:
            return listing()
        except ListingError as exc:
            self.request.sink.reject(kind, f"not listed in full, the earlier snapshot stays: {exc}")
            return None

    def instance_types(self, instances: list[Instance]) -> list[InstanceType]:
        """The types in use and one step down from each running instance's type, with their specs and prices."""
        used = sorted({i.instance_type for i in instances})
        below = {t: smaller_sizes(t) for t in sorted({i.instance_type for i in instances if i.state == RUNNING})}
        asked = sorted(set(used) | {name for names in below.values() for name in names})
        specs = self.ec2.instance_types(asked)
        catalogue = set(used) | {next((n for n in names if n in specs), "") for names in below.values()}
        region = self.ec2.region
        types = []
        for name in sorted(catalogue - {""}):
            spec = specs.get(name)
            if spec is None:
                self.request.sink.reject(f"instance type {name}", "DescribeInstanceTypes does not know it")
                continue
            hourly = self.prices.price(instance_query(name, region))
            monthly_price = None if hourly is None else monthly(hourly)
            types.append(
                InstanceType(
                    name=name,
                    region=region,
                    vcpus=spec.vcpus,
                    memory_mib=spec.memory_mib,
                    price_hourly=hourly,
                    price_monthly=monthly_price,
                )
            )
        return types

    def _priced_volume(self, volume: EbsVolume) -> EbsVolume:
        per_gb = self.prices.price(volume_query(volume.volume_type, volume.region)) if volume.volume_type else None
        price = None if per_gb is None else (per_gb * volume.size_gib).quantize(CENT)
        return volume.model_copy(update={"price_monthly": price})

    def _priced_address(self, address: ElasticIp) -> ElasticIp:
        hourly = self.prices.price(idle_ip_query(address.region))
        return address.model_copy(update={"price_monthly": None if hourly is None else monthly(hourly)})

    def utilisation(self, instance_ids: list[str]) -> None:
        """The running instances' daily CPU average and peak, as usage items."""
        days = self.request.source.utilisation_days
        today = self.request.collected_at.astimezone(UTC).date()
        try:
            found = self.cpu.read(instance_ids, today, days)
        except (ClientError, BotoCoreError, ValueError) as exc:
            self.request.sink.reject("utilisation", f"GetMetricData failed: {exc}")
            return
        for instance_id, by_day in found.items():
            for item in usage_items(instance_id, by_day, self.request.source.name, self.request.collected_at):
                self.request.sink.use(item)
        self.done.append(f"utilisation of {len(found)} of {len(instance_ids)} running instances over {days} days")


def read_inventory(request: CollectRequest, ec2: Any = None, cloudwatch: Any = None, pricing: Any = None) -> list[str]:
    """Read the account's EC2 inventory in the function's region; every request counts in the run's counter."""
    ec2 = client("ec2") if ec2 is None else ec2
    cloudwatch = client("cloudwatch") if cloudwatch is None else cloudwatch
    pricing = client("pricing", PRICING_REGION) if pricing is None else pricing
    reader = AwsInventoryReader(request, Ec2(ec2), PriceList(pricing), CpuReader(cloudwatch))
    counter = request.requests
    with counter.counting(ec2), counter.counting(cloudwatch), counter.counting(pricing):
        reader.read()
    logger.info("aws_inventory_read", extra={"read": reader.done, "unpriced": len(reader.prices.missing)})
    return reader.done

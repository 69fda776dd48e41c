"""What the recommendation rules judge, as plain data the collectors produce.

An ``Inventory`` is one provider's resources as read in one collection, with the prices that provider
charges for them: compute sizes carry their own ``price_monthly`` (DigitalOcean's sizes, EC2's on-demand
prices), volumes, reserved IPs and snapshots carry a monthly price worked out from the provider's per-GB or
per-IP price. Utilisation comes as one ``DailyUtilisation`` per resource and day (ratios, 1.0 = all of it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from spendwatch.domain.capacity import Capacity
from spendwatch.domain.plans import Upgrade


@dataclass(frozen=True)
class Size:
    """A size (DigitalOcean) or instance type (EC2) from the provider's catalogue, with its monthly price."""

    slug: str
    family: str
    vcpus: int
    memory_mib: int
    price_monthly: Decimal
    available: bool = True
    disk_gb: int = 0
    regions: tuple[str, ...] = ()


@dataclass(frozen=True)
class ComputeResource:
    """A droplet or an instance: what it is, where, which size."""

    provider: str
    type: str
    id: str
    name: str
    region: str
    size: str
    family: str
    tags: tuple[str, ...] = ()
    created_at: datetime | None = None
    disk_gb: int = 0


@dataclass(frozen=True)
class Volume:
    """A block storage volume (DigitalOcean volume, EBS volume) and what it costs a month."""

    provider: str
    id: str
    name: str
    region: str
    size_gb: Decimal
    attached: bool
    price_monthly: Decimal
    created_at: datetime | None = None


@dataclass(frozen=True)
class ReservedIp:
    """A reserved (DigitalOcean) or Elastic (AWS) IP address and what it costs a month when unassigned."""

    provider: str
    id: str
    region: str
    assigned: bool
    price_monthly: Decimal


@dataclass(frozen=True)
class Snapshot:
    """A snapshot of a droplet or volume: which resource it was taken of, when, and its monthly price."""

    provider: str
    id: str
    name: str
    region: str
    source_id: str
    source_type: str
    created_at: datetime
    size_gb: Decimal
    price_monthly: Decimal


@dataclass(frozen=True)
class Inventory:
    """One provider's resources and prices as read by one collection (``complete``: read in full)."""

    provider: str
    currency: str
    compute: tuple[ComputeResource, ...] = ()
    sizes: tuple[Size, ...] = ()
    volumes: tuple[Volume, ...] = ()
    reserved_ips: tuple[ReservedIp, ...] = ()
    snapshots: tuple[Snapshot, ...] = ()
    complete: bool = True

    def size(self, slug: str) -> Size | None:
        """The catalogue entry for ``slug``, if the catalogue has it."""
        return next((size for size in self.sizes if size.slug == slug), None)

    def resource_ids(self) -> set[str]:
        """Every resource id the inventory holds (compute, volumes, reserved IPs, snapshots)."""
        groups: Iterable[Iterable[ComputeResource | Volume | ReservedIp | Snapshot]] = (
            self.compute,
            self.volumes,
            self.reserved_ips,
            self.snapshots,
        )
        return {item.id for group in groups for item in group}


@dataclass(frozen=True)
class DailyUtilisation:
    """One resource's day: CPU as a daily average and the day's peak, memory as a daily average (ratios)."""

    provider: str
    resource_id: str
    day: date
    cpu_avg: Decimal | None = None
    cpu_peak: Decimal | None = None
    memory_avg: Decimal | None = None


@dataclass(frozen=True)
class K8sAllocation:
    """A namespace's or controller's requests against its use, averaged over ``window_days``, and its cost.

    ``cpu_cost`` and ``ram_cost`` are what the window cost (OpenCost charges the larger of request and use).
    """

    cluster: str
    namespace: str
    controller: str
    cpu_request_cores: Decimal
    cpu_usage_cores: Decimal
    ram_request_bytes: Decimal
    ram_usage_bytes: Decimal
    cpu_cost: Decimal
    ram_cost: Decimal
    window_days: int
    currency: str


@dataclass(frozen=True)
class TaggedSpend:
    """An amount of spend and the tag keys its charges carry (the keys only: values do not matter here)."""

    tag_keys: frozenset[str]
    amount: Decimal


@dataclass(frozen=True)
class LimitExposure:
    """A plan limit's standing with what hitting it would cost, for the ``plan_upgrade`` rule.

    ``overage_price``: the price per unit above the limit per period (e.g. a rate card's price beyond the
    plan's allowance), ``None`` if the plan blocks instead of charging. ``cost_of_hitting``: what a month at
    the limit costs the business (blocked sign-ups, a stopped service), ``None`` if nobody said.
    """

    capacity: Capacity
    upgrade: Upgrade
    currency: str
    overage_price: Decimal | None = None
    cost_of_hitting: Decimal | None = None


@dataclass(frozen=True)
class Inputs:
    """Everything one evaluation judges; absent parts simply produce no findings of their kind."""

    today: date
    inventories: tuple[Inventory, ...] = ()
    utilisation: tuple[DailyUtilisation, ...] = ()
    window_days: int = 14
    k8s: tuple[K8sAllocation, ...] = ()
    spend: tuple[TaggedSpend, ...] = ()
    spend_currency: str = "USD"
    required_tags: tuple[str, ...] = ()
    limits: tuple[LimitExposure, ...] = ()

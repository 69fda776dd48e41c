"""The demo history in each provider's own shapes: DigitalOcean insights, OpenCost allocations, a Cost Explorer answer.

Pure functions of :func:`spendwatch_local.demo.data.history`; each provider's parts add up to the history exactly,
so what the collectors read back can be checked to the cent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from spendwatch_local.demo.data import AWS, DIGITALOCEAN, KUBERNETES, DemoCost
from spendwatch_local.fakes.digitalocean import Load

AWS_ACCOUNT = "111111111111"
DO_TEAM_UUID = "5f1c5e0a-6a1d-4a63-9d0e-2c8f3b7a9d41"
DO_REGION = "fra1"
CLUSTER = "demo-cluster"
ESTIMATED_DAYS = 2  # Cost Explorer marks the most recent days as estimates until the bill settles
GIB = 2**30
HOURS_PER_MONTH = 672  # DigitalOcean stops charging a droplet's hourly price after 672 hours a month


@dataclass(frozen=True)
class DoResource:
    """One billed DigitalOcean resource: its insight fields and its share of its service's daily cost."""

    sku: str
    description: str
    weight: int
    group: str = ""


@dataclass(frozen=True)
class Droplet:
    """One droplet of the demo fleet, at DigitalOcean's list price for its size."""

    id: int
    name: str
    size: str
    monthly: Decimal
    sku: str

    @property
    def hourly(self) -> Decimal:
        """The hourly price, as the API prints it (5 places)."""
        return (self.monthly / HOURS_PER_MONTH).quantize(Decimal("0.00001"))

    @property
    def daily_cents(self) -> int:
        """What a day of it costs, in cents."""
        return int((self.hourly * 24 * 100).quantize(Decimal(1)))


DROPLETS = (
    Droplet(402001, "web-1", "s-2vcpu-4gb", Decimal(24), "1-DO-DROP-0109"),
    Droplet(402002, "web-2", "s-2vcpu-4gb", Decimal(24), "1-DO-DROP-0109"),
    Droplet(402003, "worker-1", "s-4vcpu-8gb", Decimal(48), "1-DO-DROP-0112"),
    Droplet(402004, "batch-1", "s-8vcpu-16gb", Decimal(96), "1-DO-DROP-0115"),
)
# The s- family as ``/v2/sizes`` lists it: slug -> (vCPUs, memory MiB, disk GiB, monthly price).
DO_SIZES: dict[str, tuple[int, int, int, Decimal]] = {
    "s-1vcpu-1gb": (1, 1024, 25, Decimal(6)),
    "s-1vcpu-2gb": (1, 2048, 50, Decimal(12)),
    "s-2vcpu-2gb": (2, 2048, 60, Decimal(18)),
    "s-2vcpu-4gb": (2, 4096, 80, Decimal(24)),
    "s-4vcpu-8gb": (4, 8192, 160, Decimal(48)),
    "s-8vcpu-16gb": (8, 16384, 320, Decimal(96)),
}
# What each droplet's metrics show (CPU and memory utilisation): web-2 idles, batch-1 is far too big for its work
# (CPU ~15 %, memory ~20 % of an 8 vCPU / 16 GB size), worker-1 is busy; web-1 is an ordinary server.
DO_LOADS: dict[str, tuple[float, float]] = {
    "web-1": (0.40, 0.55),
    "web-2": (0.02, 0.30),
    "worker-1": (0.85, 0.70),
    "batch-1": (0.15, 0.20),
}
DO_VOLUMES = (  # name, GiB, attached to (a droplet name, or "" for none)
    ("worker-1-data", 100, "worker-1"),
    ("old-exports", 250, ""),
)
DO_RESERVED_IPS = (("203.0.113.10", "web-1"), ("203.0.113.77", ""))
DELETED_DROPLET_ID = 401999  # a droplet removed long ago whose snapshot was kept
OLD_SNAPSHOT_DAYS = 90
# Billing insights name no product, only a SKU; the DigitalOcean collector names the service after the SKU's family.
DO_RESOURCES: dict[str, tuple[DoResource, ...]] = {
    "Droplets": tuple(DoResource(d.sku, f"{d.name} ({d.size})", d.daily_cents) for d in DROPLETS),
    "Kubernetes Clusters": (
        DoResource("1-KS-K8SWN-00109", "{nodes} nodes - 8 GB / 4 vCPU / 160 GB SSD", 1, group="demo-doks"),
    ),
    "Managed Databases": (DoResource("1-DO-DBAAS-0104", "db-postgresql-fra1-main (db-s-2vcpu-4gb)", 1),),
    "Spaces": (DoResource("1-DO-SPACES-0001", "Spaces Subscription (250 GiB storage, 1 TiB transfer)", 1),),
}
KUBERNETES_NODES_BEFORE = 3  # the demo cluster's pool grows by one node at the level shift

# How each namespace's cost divides into CPU, RAM and persistent volumes (the rest), in percent.
NAMESPACE_SHARES: dict[str, tuple[int, int]] = {
    "web": (62, 30),
    "data": (38, 34),
    "monitoring": (30, 40),
    "kube-system": (55, 45),
}
DEFAULT_SHARES = (50, 40)
# What each namespace uses of its CPU and RAM requests (OpenCost's usage / request averages): data and monitoring
# request far more than they use.
NAMESPACE_USE: dict[str, tuple[Decimal, Decimal]] = {
    "web": (Decimal("0.7"), Decimal("0.8")),
    "data": (Decimal("0.3"), Decimal("0.6")),
    "monitoring": (Decimal("0.15"), Decimal("0.35")),
    "kube-system": (Decimal("0.6"), Decimal("0.7")),
}
DEFAULT_USE = (Decimal("0.6"), Decimal("0.6"))
# OpenCost's default on-demand prices, to turn costs back into the hours and bytes it would have measured.
CPU_HOURLY = Decimal("0.031611")
RAM_GIB_HOURLY = Decimal("0.004237")
PV_GIB_HOURLY = Decimal("0.000054795")

# What each service's UsageQuantity counts and its price per unit, so quantities look like Cost Explorer's.
CE_USAGE: dict[str, tuple[str, Decimal]] = {
    "Amazon Elastic Compute Cloud - Compute": ("Hrs", Decimal("0.0416")),
    "Amazon Relational Database Service": ("Hrs", Decimal("0.068")),
    "Amazon Simple Storage Service": ("GB-Mo", Decimal("0.023")),
    "AWS Lambda": ("Requests", Decimal("0.0000002")),
    "AmazonCloudWatch": ("Metrics", Decimal("0.30")),
}


def split(amount: Decimal, weights: Sequence[int]) -> list[Decimal]:
    """``amount`` in parts proportional to ``weights``, at the amount's own precision, adding up to it exactly."""
    exponent = amount.as_tuple().exponent
    quantum = Decimal(1).scaleb(exponent) if isinstance(exponent, int) else Decimal(1)
    total = sum(weights)
    parts = [(amount * weight / total).quantize(quantum) for weight in weights]
    # Rounding leaves a few units of the last place over; the largest part absorbs them.
    largest = max(range(len(parts)), key=lambda index: weights[index])
    parts[largest] += amount - sum(parts, Decimal(0))
    return parts


def _of(costs: Iterable[DemoCost], provider: str) -> list[DemoCost]:
    return [cost for cost in costs if cost.provider == provider]


# -- DigitalOcean ----------------------------------------------------------------------------------------


def do_team_urn() -> str:
    """The demo team's billing account URN."""
    return f"do:team:{DO_TEAM_UUID}"


def _first_amounts(costs: Iterable[DemoCost]) -> dict[str, Decimal]:
    """Each service's cost on its first day."""
    first: dict[str, Decimal] = {}
    for cost in sorted(costs, key=lambda c: c.day):
        first.setdefault(cost.service, cost.amount)
    return first


def _nodes(amount: Decimal, first_amount: Decimal) -> int:
    """The node count that explains a cluster day's cost (the pool grows by a node at the level shift)."""
    return max(1, round(KUBERNETES_NODES_BEFORE * amount / first_amount)) if first_amount else KUBERNETES_NODES_BEFORE


def do_insights(costs: Iterable[DemoCost]) -> list[dict[str, Any]]:
    """Billing insight data points, one per resource and day, whose amounts add up to the history."""
    history = _of(costs, DIGITALOCEAN)
    first = _first_amounts(history)
    rows = []
    for cost in history:
        resources = DO_RESOURCES[cost.service]
        nodes = _nodes(cost.amount, first[cost.service])
        for resource, amount in zip(resources, split(cost.amount, [r.weight for r in resources]), strict=True):
            rows.append(
                {
                    "usage_team_urn": do_team_urn(),
                    "start_date": cost.day.isoformat(),
                    "total_amount": f"{amount:f}",
                    "region": DO_REGION,
                    "sku": resource.sku,
                    "description": resource.description.format(nodes=nodes),
                    "group_description": resource.group,
                }
            )
    return sorted(rows, key=lambda row: (row["start_date"], row["sku"], row["description"]))


def do_droplets() -> list[dict[str, Any]]:
    """The droplet inventory, shaped like ``GET /v2/droplets``."""
    return [
        {
            "id": droplet.id,
            "name": droplet.name,
            "status": "active",
            "size_slug": droplet.size,
            "size": {
                "slug": droplet.size,
                "price_monthly": int(droplet.monthly),
                "price_hourly": float(droplet.hourly),
            },
            "region": {"slug": DO_REGION, "name": "Frankfurt 1"},
            "tags": ["demo"],
        }
        for droplet in DROPLETS
    ]


def _droplet_id(name: str) -> int:
    return next(droplet.id for droplet in DROPLETS if droplet.name == name)


def _region() -> dict[str, Any]:
    return {"slug": DO_REGION, "name": "Frankfurt 1", "available": True}


def do_sizes() -> list[dict[str, Any]]:
    """``GET /v2/sizes``: the s- family with the demo's list prices (hourly as the API prints it)."""
    return [
        {
            "slug": slug,
            "memory": memory,
            "vcpus": vcpus,
            "disk": disk,
            "transfer": float(vcpus),
            "price_monthly": float(monthly),
            "price_hourly": float((monthly / HOURS_PER_MONTH).quantize(Decimal("0.00001"))),
            "regions": [DO_REGION],
            "available": True,
            "description": "Basic",
        }
        for slug, (vcpus, memory, disk, monthly) in DO_SIZES.items()
    ]


def do_volumes() -> list[dict[str, Any]]:
    """``GET /v2/volumes``: one attached, one left behind."""
    return [
        {
            "id": f"7a1c0d52-0000-4000-8000-00000000000{n}",
            "region": _region(),
            "droplet_ids": [_droplet_id(owner)] if owner else [],
            "name": name,
            "description": "",
            "size_gigabytes": gigabytes,
            "created_at": "2026-01-05T10:00:00Z",
            "filesystem_type": "ext4",
            "tags": ["demo"],
        }
        for n, (name, gigabytes, owner) in enumerate(DO_VOLUMES, start=1)
    ]


def do_reserved_ips() -> list[dict[str, Any]]:
    """``GET /v2/reserved_ips``: one assigned, one not."""
    return [
        {
            "ip": ip,
            "droplet": {"id": _droplet_id(owner), "name": owner} if owner else None,
            "region": _region(),
            "locked": False,
            "project_id": "9c1e5a52-2fa2-11ed-92d3-27aaa54e4988",
        }
        for ip, owner in DO_RESERVED_IPS
    ]


def do_snapshots(today: date) -> list[dict[str, Any]]:
    """``GET /v2/snapshots``: last week's of web-1, and one of a droplet deleted long ago."""

    def stamp(days_ago: int) -> str:
        return f"{today - timedelta(days=days_ago)}T03:00:00Z"

    return [
        {
            "id": "90000001",
            "name": "web-1-weekly",
            "created_at": stamp(7),
            "regions": [DO_REGION],
            "resource_id": str(_droplet_id("web-1")),
            "resource_type": "droplet",
            "min_disk_size": 80,
            "size_gigabytes": 12.5,
            "tags": ["demo"],
        },
        {
            "id": "90000002",
            "name": "legacy-app-final",
            "created_at": stamp(OLD_SNAPSHOT_DAYS),
            "regions": [DO_REGION],
            "resource_id": str(DELETED_DROPLET_ID),
            "resource_type": "droplet",
            "min_disk_size": 50,
            "size_gigabytes": 40.0,
            "tags": [],
        },
    ]


def do_loads() -> dict[str, Load]:
    """What each droplet's CPU and memory metrics show, by droplet id."""
    loads = {}
    for droplet in DROPLETS:
        vcpus, memory, _disk, _price = DO_SIZES[droplet.size]
        cpu, used = DO_LOADS[droplet.name]
        loads[str(droplet.id)] = Load(cpu=cpu, memory=used, vcpus=vcpus, memory_bytes=memory * 2**20)
    return loads


def do_balance(costs: Iterable[DemoCost], today: date) -> dict[str, Any]:
    """``GET /v2/customers/my/balance``: this month's usage so far is what its insights add up to."""
    month_start = today.replace(day=1)
    usage = sum((c.amount for c in _of(costs, DIGITALOCEAN) if c.day >= month_start), Decimal(0))
    generated = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    return {
        "month_to_date_balance": f"{usage:.2f}",
        "account_balance": "0.00",
        "month_to_date_usage": f"{usage:.2f}",
        "generated_at": generated.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


# -- OpenCost --------------------------------------------------------------------------------------------


def _number(value: Decimal) -> float:
    """A JSON number that prints as exactly ``value`` (floats print their shortest round-tripping form)."""
    return float(value)


def allocation(namespace: str, amount: Decimal) -> dict[str, Any]:
    """One namespace's allocation for one day: CPU, RAM and volumes adding up to ``amount`` exactly."""
    cpu_share, ram_share = NAMESPACE_SHARES.get(namespace, DEFAULT_SHARES)
    cpu, ram, pv = split(amount, [cpu_share, ram_share, 100 - cpu_share - ram_share])
    cpu_use, ram_use = NAMESPACE_USE.get(namespace, DEFAULT_USE)
    # OpenCost charges the request (above use): a day's core-hours / 24 is the average request.
    cores = (cpu / CPU_HOURLY / 24).quantize(Decimal("0.00001"))
    ram_bytes = (ram / RAM_GIB_HOURLY * GIB / 24).quantize(Decimal(1))
    return {
        "name": namespace,
        "properties": {"cluster": CLUSTER, "namespace": namespace},
        "cpuCoreHours": _number((cpu / CPU_HOURLY).quantize(Decimal("0.001"))),
        "cpuCoreRequestAverage": _number(cores),
        "cpuCoreUsageAverage": _number((cores * cpu_use).quantize(Decimal("0.00001"))),
        "cpuCost": _number(cpu),
        "gpuCost": 0.0,
        "ramByteRequestAverage": _number(ram_bytes),
        "ramByteUsageAverage": _number((ram_bytes * ram_use).quantize(Decimal(1))),
        "ramByteHours": _number((ram / RAM_GIB_HOURLY * GIB).quantize(Decimal(1))),
        "ramCost": _number(ram),
        "pvByteHours": _number((pv / PV_GIB_HOURLY * GIB).quantize(Decimal(1))),
        "pvCost": _number(pv),
        "networkCost": 0.0,
        "loadBalancerCost": 0.0,
        "sharedCost": 0.0,
        "externalCost": 0.0,
        "totalCost": _number(amount),
    }


def opencost_days(costs: Iterable[DemoCost]) -> dict[date, dict[str, dict[str, Any]]]:
    """Each day's allocations by namespace, as the fake OpenCost serves them."""
    days: dict[date, dict[str, dict[str, Any]]] = defaultdict(dict)
    for cost in _of(costs, KUBERNETES):
        days[cost.day][cost.service] = allocation(cost.service, cost.amount)
    return dict(days)


# -- AWS Cost Explorer -----------------------------------------------------------------------------------


def _metric(amount: Decimal, unit: str) -> dict[str, str]:
    return {"Amount": f"{amount:f}", "Unit": unit}


def ce_group(service: str, amount: Decimal) -> dict[str, Any]:
    """One service's cell of a day, keyed by SERVICE and LINKED_ACCOUNT."""
    unit, price = CE_USAGE.get(service, ("N/A", Decimal(1)))
    quantity = (amount / price).quantize(Decimal("0.0000000001"))
    return {
        "Keys": [service, AWS_ACCOUNT],
        "Metrics": {
            "UnblendedCost": _metric(amount, "USD"),
            "AmortizedCost": _metric(amount, "USD"),
            "UsageQuantity": _metric(quantity, unit),
        },
    }


def ce_response(costs: Iterable[DemoCost], start: date, end: date) -> dict[str, Any]:
    """The DAILY GetCostAndUsage answer by SERVICE and LINKED_ACCOUNT for the inclusive days ``start..end``."""
    by_day: dict[date, list[DemoCost]] = defaultdict(list)
    for cost in _of(costs, AWS):
        by_day[cost.day].append(cost)
    results = []
    day = start
    while day <= end:
        following = day + timedelta(days=1)
        results.append(
            {
                "TimePeriod": {"Start": day.isoformat(), "End": following.isoformat()},
                "Total": {},
                "Groups": [ce_group(c.service, c.amount) for c in sorted(by_day[day], key=lambda c: c.service)],
                "Estimated": (end - day).days < ESTIMATED_DAYS,
            }
        )
        day = following
    return {"ResultsByTime": results, "DimensionValueAttributes": []}

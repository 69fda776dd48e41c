"""Kubernetes costs from the OpenCost allocation API: one cost item per allocation, day and cost component.

See docs/opencost.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any

import httpx
from pydantic import ValidationError
from spendwatch.domain.models import CostItem, UsageItem
from spendwatch.domain.money import ZERO, MoneyError, parse_amount
from spendwatch.domain.recommendations.gather import K8S_CPU_REQUEST, K8S_CPU_USAGE, K8S_RAM_REQUEST, K8S_RAM_USAGE
from spendwatch.platform import http

from collect.sources.base import CollectRequest, Coverage, SourceError, chunks, days_to_read

PROVIDER = "Kubernetes"
SERVICE = "Kubernetes"
SERVICE_CATEGORY = "Compute"
PATH = "/allocation"
CHUNK_DAYS = 7
ONE_DAY = timedelta(days=1)
# OpenCost rounds each printed field separately; differences this small are rounding, not missing money.
ROUNDING_TOLERANCE = Decimal("0.001")
IDLE = "__idle__"
UNALLOCATED = "__unallocated__"
TENANT_KEYS = ("tenant", "tenant_id")
GIB = Decimal(2**30)

IDLE_PARAMS = {
    "separate": {"includeIdle": "true", "shareIdle": "false"},
    "share": {"includeIdle": "true", "shareIdle": "true"},
    "drop": {"includeIdle": "false", "shareIdle": "false"},
}


@dataclass(frozen=True)
class Component:
    """One cost component of an allocation: where its cost, adjustment and quantity are."""

    description: str
    cost: str
    adjustment: str | None = None
    quantity: str | None = None
    unit: str = ""
    scale: Decimal = Decimal(1)


COMPONENTS = (
    Component("CPU", "cpuCost", "cpuCostAdjustment", "cpuCoreHours", "Core-Hours"),
    Component("GPU", "gpuCost", "gpuCostAdjustment", "gpuHours", "GPU-Hours"),
    Component("RAM", "ramCost", "ramCostAdjustment", "ramByteHours", "GiB-Hours", GIB),
    Component("Persistent volumes", "pvCost", "pvCostAdjustment", "pvByteHours", "GiB-Hours", GIB),
    # networkCost already includes its cross-zone, cross-region and internet parts: never add those again.
    Component("Network", "networkCost", "networkCostAdjustment"),
    Component("Load balancers", "loadBalancerCost", "loadBalancerCostAdjustment"),
    Component("Shared", "sharedCost"),
    Component("External", "externalCost"),
)
UNATTRIBUTED = "Unattributed"
# Collected usage per allocation and day: (metric, allocation field, unit, divisor). RAM is in GiB (2**30 bytes).
# The day's request and usage averages feed the k8s_rightsize recommendation.
USAGE_METRICS = (
    ("cpu_core_hours", "cpuCoreHours", "Core-Hours", Decimal(1)),
    ("ram_gib_hours", "ramByteHours", "GiB-Hours", GIB),
    (K8S_CPU_REQUEST, "cpuCoreRequestAverage", "Cores", Decimal(1)),
    (K8S_CPU_USAGE, "cpuCoreUsageAverage", "Cores", Decimal(1)),
    (K8S_RAM_REQUEST, "ramByteRequestAverage", "GiB", GIB),
    (K8S_RAM_USAGE, "ramByteUsageAverage", "GiB", GIB),
)


class OpenCostSourceError(SourceError):
    """OpenCost could not be reached, refused the query or answered something that is not an allocation set."""


class AllocationError(ValueError):
    """One allocation that cannot become cost items; the run counts it and goes on."""


@dataclass(frozen=True)
class Target:
    """What every item of this run shares."""

    source: str
    cluster: str | None
    keys: tuple[str, ...]
    currency: str
    collected_at: datetime
    idle: str


@dataclass(frozen=True)
class Charge:
    """One component's amount and measured quantity."""

    description: str
    amount: Decimal
    quantity: Decimal | None = None
    unit: str = ""


def tag_keys(aggregate: str) -> tuple[str, ...]:
    """Tag names for an ``aggregate`` parameter: ``namespace,label:team`` gives ``("namespace", "team")``."""
    return tuple(part.strip().split(":", 1)[-1] for part in aggregate.split(",") if part.strip())


def base_url(request: CollectRequest) -> str:
    """``OPENCOST_URL`` if set, else the source's ``url``."""
    url = request.env.get("OPENCOST_URL") or request.source.url
    if not url:
        raise OpenCostSourceError(f"source {request.source.name!r} has no url (set url or OPENCOST_URL)")
    return url.rstrip("/")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, dtime(0), tzinfo=UTC)


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def query_params(first: date, last: date, aggregate: str, idle: str) -> dict[str, str]:
    """The ``/allocation`` query for whole UTC days ``first``..``last`` in daily sets."""
    window = f"{_rfc3339(_midnight(first))},{_rfc3339(_midnight(last + ONE_DAY))}"
    return {"window": window, "step": "1d", "aggregate": aggregate, "accumulate": "false", **IDLE_PARAMS[idle]}


def _amount(alloc: Mapping[str, Any], name: str | None) -> Decimal:
    if name is None:
        return ZERO
    raw = alloc.get(name)
    if raw is None:
        return ZERO
    try:
        return parse_amount(raw)
    except MoneyError as exc:
        raise AllocationError(f"{name} {raw!r} is not a number") from exc


def _timestamp(window: Mapping[str, Any], name: str) -> datetime:
    raw = window.get(name)
    try:
        moment = datetime.fromisoformat(str(raw))
    except ValueError as exc:
        raise AllocationError(f"window {name} {raw!r} is not a timestamp") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def allocation_day(alloc: Mapping[str, Any]) -> date:
    """The UTC day an allocation's set covers; AllocationError unless the set is (at most) that one day."""
    window = alloc.get("window")
    if not isinstance(window, Mapping):
        raise AllocationError("allocation has no window")
    start, end = _timestamp(window, "start"), _timestamp(window, "end")
    # A set for today may end at "now"; anything else than one whole UTC day means the query was not ours.
    if start.time() != dtime(0) or not start < end <= start + ONE_DAY:
        raise AllocationError(f"set {_rfc3339(start)}..{_rfc3339(end)} is not one UTC day (step=1d expected)")
    return start.date()


def _charge(alloc: Mapping[str, Any], component: Component) -> Charge:
    amount = _amount(alloc, component.cost) + _amount(alloc, component.adjustment)
    measured = component.quantity is not None and alloc.get(component.quantity) is not None
    quantity = _amount(alloc, component.quantity) / component.scale if measured else None
    return Charge(component.description, amount, quantity, component.unit if quantity is not None else "")


def charges(alloc: Mapping[str, Any]) -> list[Charge]:
    """The non-zero components of an allocation, adding up to its ``totalCost`` exactly."""
    if alloc.get("totalCost") is None:
        raise AllocationError("totalCost is missing")
    total = _amount(alloc, "totalCost")
    found = [c for c in (_charge(alloc, component) for component in COMPONENTS) if c.amount != 0]
    remainder = total - sum((c.amount for c in found), ZERO)
    if remainder != 0 and found and abs(remainder) < ROUNDING_TOLERANCE:
        largest = max(range(len(found)), key=lambda i: abs(found[i].amount))
        old = found[largest]
        found[largest] = Charge(old.description, old.amount + remainder, old.quantity, old.unit)
    elif remainder != 0:
        found.append(Charge(UNATTRIBUTED, remainder))
    return [c for c in found if c.amount != 0]


def labels(name: str, keys: tuple[str, ...]) -> dict[str, str]:
    """Tags from an allocation name (``ns/app`` for ``namespace,label:app``); idle and unallocated carry none."""
    parts = name.split("/")
    if len(parts) != len(keys):
        parts = [name] if keys else []
    return {key: value for key, value in zip(keys, parts, strict=False) if value and value not in (IDLE, UNALLOCATED)}


def _cluster(alloc: Mapping[str, Any], target: Target) -> str:
    if target.cluster:
        return target.cluster
    properties = alloc.get("properties")
    cluster = properties.get("cluster") if isinstance(properties, Mapping) else None
    return str(cluster) if cluster else ""


def _tenant(tags: Mapping[str, str]) -> str:
    return next((tags[key] for key in TENANT_KEYS if key in tags), "")


def to_cost_items(name: str, alloc: Mapping[str, Any], target: Target) -> list[CostItem]:
    """Cost items for one allocation of one daily set; AllocationError says what is wrong with it."""
    day = allocation_day(alloc)
    start = _midnight(day)
    # Periods are whole days even while today is still accruing, so the next run overwrites the same items.
    end = start + ONE_DAY
    tags = labels(name, target.keys)
    common: dict[str, Any] = {
        "ProviderName": PROVIDER,
        "SubAccountId": _cluster(alloc, target),
        "ServiceName": SERVICE,
        "ServiceCategory": SERVICE_CATEGORY,
        "ResourceId": name,
        "ChargePeriodStart": start,
        "ChargePeriodEnd": end,
        "BillingCurrency": target.currency,
        "Tags": tags,
        "x_source": target.source,
        "x_collected_at": target.collected_at,
        "x_estimated": end > target.collected_at,
        "x_tenant": _tenant(tags),
    }
    try:
        return [
            CostItem(
                **common,
                ChargeDescription=c.description,
                BilledCost=c.amount,
                EffectiveCost=c.amount,
                ListCost=c.amount,
                ConsumedQuantity=c.quantity,
                ConsumedUnit=c.unit,
            )
            for c in charges(alloc)
        ]
    except ValidationError as exc:
        first = exc.errors()[0]
        raise AllocationError(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from exc


def to_usage_items(name: str, alloc: Mapping[str, Any], target: Target) -> list[UsageItem]:
    """CPU core-hours and RAM GiB-hours of one allocation's day, for the fields the allocation has."""
    day = allocation_day(alloc)
    tags = labels(name, target.keys)
    common: dict[str, Any] = {
        "day": day,
        "ProviderName": PROVIDER,
        "ServiceName": SERVICE,
        "ResourceId": name,
        "x_tenant": _tenant(tags),
        "x_source": target.source,
        "x_collected_at": target.collected_at,
    }
    return [
        UsageItem(metric=metric, quantity=_amount(alloc, field) / divisor, unit=unit, **common)
        for metric, field, unit, divisor in USAGE_METRICS
        if alloc.get(field) is not None
    ]


def _span(first: date, last: date) -> str:
    return first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()}"


def _error_detail(response: httpx.Response) -> str:
    """A short reason from an error answer (OpenCost sends JSON with a message, or plain text)."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200]
    message = body.get("message") if isinstance(body, dict) else None
    return str(message)[:200] if message else ""


def fetch_sets(
    client: httpx.Client,
    params: Mapping[str, str],
    what: str,
    on_attempt: Callable[[], None],
    sleep: Callable[[float], None],
) -> list[Any]:
    """The daily sets of one ``/allocation`` answer; OpenCostSourceError if there are none to read."""
    try:
        response = http.request(client, "GET", PATH, params=params, on_attempt=on_attempt, sleep=sleep, what=what)
    except http.HttpError as exc:
        raise OpenCostSourceError(str(exc)) from exc
    if response.status_code != 200:
        detail = _error_detail(response)
        raise OpenCostSourceError(f"{what}: HTTP {response.status_code}{': ' + detail if detail else ''}")
    try:
        body = json.loads(response.content, parse_float=Decimal, parse_constant=Decimal)
    except ValueError as exc:
        raise OpenCostSourceError(f"{what}: the answer is not JSON") from exc
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or body.get("code", 200) != 200:
        raise OpenCostSourceError(f"{what}: the answer has no allocation sets")
    return data


@dataclass
class Reader:
    """Turns daily sets into sink entries and remembers which days were answered."""

    request: CollectRequest
    target: Target
    covered: set[date]

    def read_chunk(self, sets: list[Any], first: date, last: date) -> None:
        """Write every allocation of the chunk's sets; days whose set came back are covered."""
        expected = (last - first).days + 1
        for index, allocations in enumerate(sets):
            if not allocations:
                # An empty set carries no window: its day is known only from its place in the range.
                if len(sets) == expected:
                    self.covered.add(first + timedelta(days=index))
                continue
            if not isinstance(allocations, dict):
                self.request.sink.reject(f"{PATH} {_span(first, last)} set {index}", "not an allocation set")
                continue
            for name, alloc in allocations.items():
                self._read(str(name), alloc, first, last)

    def _read(self, name: str, alloc: Any, first: date, last: date) -> None:
        if IDLE in name and self.target.idle == "drop":
            return
        where = f"{PATH} {_span(first, last)} {name}"
        try:
            if not isinstance(alloc, Mapping):
                raise AllocationError("not an allocation")
            day = allocation_day(alloc)
            if not first <= day <= last:
                raise AllocationError(f"set for {day} is outside the requested days")
            items = to_cost_items(name, alloc, self.target)
            usage = to_usage_items(name, alloc, self.target)
        except AllocationError as exc:
            self.request.sink.reject(where, str(exc))
            return
        self.covered.add(day)
        for item in items:
            self.request.sink.cost(item)
        for quantity in usage:
            # The same allocation's quantities: written, not read a second time.
            self.request.sink.use(quantity, derived=True)


def coverage(covered: set[date], first: date, last: date) -> Coverage:
    """The longest unbroken run of answered days (a gap must never be claimed as a zero-cost day)."""
    best: tuple[date, date] | None = None
    run: tuple[date, date] | None = None
    day = first
    while day <= last:
        run = ((run[0] if run else day), day) if day in covered else None
        if run and (best is None or run[1] - run[0] > best[1] - best[0]):
            best = run
        day += ONE_DAY
    return Coverage(*best) if best else Coverage(None, None)


def _target(request: CollectRequest) -> Target:
    source = request.source
    return Target(
        source=source.name,
        cluster=source.cluster,
        keys=tag_keys(source.aggregate),
        currency=request.config.currency,
        collected_at=request.collected_at,
        idle=source.idle,
    )


def collect(
    request: CollectRequest, client: httpx.Client | None = None, sleep: Callable[[float], None] = time.sleep
) -> Coverage:
    """Read the source's days from OpenCost, a chunk of days per request; the days answered are covered."""
    days = days_to_read(request)
    if days is None:
        return Coverage(None, None)
    first, last = days
    reader = Reader(request, _target(request), set())
    own = client is None
    client = client or httpx.Client(base_url=base_url(request), timeout=http.DEFAULT_TIMEOUT)
    try:
        for chunk_first, chunk_last in chunks(first, last, CHUNK_DAYS):
            params = query_params(chunk_first, chunk_last, request.source.aggregate, request.source.idle)
            what = f"OpenCost allocation {_span(chunk_first, chunk_last)}"
            try:
                sets = fetch_sets(client, params, what, request.requests.hit, sleep)
            except OpenCostSourceError as exc:
                done = f"{_span(first, chunk_first - ONE_DAY)} collected, " if chunk_first > first else ""
                raise OpenCostSourceError(f"{exc}; {done}{_span(chunk_first, last)} missing") from exc
            reader.read_chunk(sets, chunk_first, chunk_last)
    finally:
        if own:
            client.close()
    return coverage(reader.covered, first, last)

"""One evaluation's inputs, read through the storage ports: utilisation, Kubernetes allocations, tagged spend and
the plan limits' exposure (the inventories come from the caller, one per source that keeps one).

What is read, and over which days:
- utilisation: the ``cpu_utilisation_*`` and ``memory_utilisation_avg`` usage items of the ``window_days`` days
  through today, every provider's (one query per metric and month);
- Kubernetes: OpenCost's daily request and usage averages (``cpu_request_cores_avg``...) and the CPU and RAM
  charges of the ``K8S_WINDOW_DAYS`` complete days before today;
- tagged spend (only with ``[policy] required_tags``): every charge of the ``SPEND_WINDOW_DAYS`` complete days
  before today in the config's currency, except spendwatch's own priced usage (``price:<card>`` sources);
- plan limits with an ``upgrade``: their standing, and the overage a rate card on the same metric would charge.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

from spendwatch.domain.capacity import Capacity, standings
from spendwatch.domain.config import Config
from spendwatch.domain.models import UsageItem
from spendwatch.domain.plans import RateCard, overlap
from spendwatch.domain.ports import Charges, Usage
from spendwatch.domain.pricing import marginal_price
from spendwatch.domain.recommendations.inputs import (
    DailyUtilisation,
    Inputs,
    Inventory,
    K8sAllocation,
    LimitExposure,
    TaggedSpend,
)
from spendwatch.domain.recommendations.stored import UTILISATION_METRICS, daily_utilisation

K8S_WINDOW_DAYS = 7
SPEND_WINDOW_DAYS = 30
DEFAULT_WINDOW_DAYS = 14
GIB = Decimal(2**30)
# OpenCost's per-allocation daily averages, as the opencost collector writes them (cores, GiB).
K8S_CPU_REQUEST, K8S_CPU_USAGE = "cpu_request_cores_avg", "cpu_usage_cores_avg"
K8S_RAM_REQUEST, K8S_RAM_USAGE = "ram_request_gib_avg", "ram_usage_gib_avg"
K8S_METRICS = (K8S_CPU_REQUEST, K8S_CPU_USAGE, K8S_RAM_REQUEST, K8S_RAM_USAGE)
# The OpenCost charges whose cost a lower request frees (ChargeDescription of the collector's cost items).
K8S_CHARGES = {"CPU": "cpu", "RAM": "ram"}
PRICED_SOURCE_PREFIX = "price:"
# The source types that keep an inventory and read utilisation (when their ``inventory`` key is on).
INVENTORY_TYPES = frozenset({"digitalocean", "aws_ce"})


class Store(Charges, Usage, Protocol):
    """What gathering reads: charges with their daily totals, and usage."""


def utilisation(store: Usage, today: date, window_days: int) -> tuple[DailyUtilisation, ...]:
    """Every provider's daily utilisation of the window (``window_days`` days through ``today``)."""
    per_provider: dict[str, list[UsageItem]] = defaultdict(list)
    for item in store.usage_items(today - timedelta(days=window_days - 1), today, UTILISATION_METRICS):
        per_provider[item.ProviderName].append(item)
    return tuple(day for provider, items in sorted(per_provider.items()) for day in daily_utilisation(items, provider))


@dataclass
class _Allocation:
    cluster: str = ""
    days: set[date] = field(default_factory=set)
    sums: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    costs: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))


def k8s_allocations(
    usage: Iterable[UsageItem], charges: Iterable[Mapping[str, Any]], currency: str
) -> tuple[K8sAllocation, ...]:
    """Per (source, allocation): the window's mean daily request and use, and its CPU and RAM cost.

    An allocation is named ``namespace`` or ``namespace/controller`` (OpenCost's aggregate); OpenCost's own
    ``__idle__`` and ``__unallocated__`` rows are not anybody's requests and are left out.
    """
    found: dict[tuple[str, str], _Allocation] = defaultdict(_Allocation)
    for item in usage:
        if item.metric in K8S_METRICS and item.ResourceId and not item.ResourceId.startswith("__"):
            allocation = found[(item.x_source, item.ResourceId)]
            allocation.days.add(item.day)
            allocation.sums[item.metric] += item.quantity
    for charge in charges:
        key = (str(charge.get("x_source", "")), str(charge.get("ResourceId", "")))
        part = K8S_CHARGES.get(str(charge.get("ChargeDescription", "")))
        if part and key in found and charge.get("BillingCurrency") == currency:
            found[key].costs[part] += Decimal(charge["BilledCost"])
            found[key].cluster = found[key].cluster or str(charge.get("SubAccountId") or "")
    return tuple(
        _allocation(source, name, allocation, currency) for (source, name), allocation in sorted(found.items())
    )


def _allocation(source: str, name: str, found: _Allocation, currency: str) -> K8sAllocation:
    days = Decimal(len(found.days))
    namespace, _, controller = name.partition("/")
    return K8sAllocation(
        cluster=found.cluster or source,
        namespace=namespace,
        controller=controller,
        cpu_request_cores=found.sums[K8S_CPU_REQUEST] / days,
        cpu_usage_cores=found.sums[K8S_CPU_USAGE] / days,
        ram_request_bytes=found.sums[K8S_RAM_REQUEST] / days * GIB,
        ram_usage_bytes=found.sums[K8S_RAM_USAGE] / days * GIB,
        cpu_cost=found.costs["cpu"],
        ram_cost=found.costs["ram"],
        window_days=len(found.days),
        currency=currency,
    )


def _charges(store: Charges, sources: set[str] | None, first: date, last: date) -> Iterable[Mapping[str, Any]]:
    """The charges of every (source, day) with a stored total in [first, last] (of ``sources`` when given)."""
    for source, day, _ in list(store.day_totals(first, last)):
        if source.startswith(PRICED_SOURCE_PREFIX) or (sources is not None and source not in sources):
            continue
        yield from store.charges(source, day)


def k8s(store: Store, sources: set[str], today: date, currency: str) -> tuple[K8sAllocation, ...]:
    """The OpenCost sources' allocations over the ``K8S_WINDOW_DAYS`` complete days before ``today``."""
    if not sources:
        return ()
    first, last = today - timedelta(days=K8S_WINDOW_DAYS), today - timedelta(days=1)
    usage = [item for item in store.usage_items(first, last, K8S_METRICS) if item.x_source in sources]
    return k8s_allocations(usage, _charges(store, sources, first, last), currency)


def tagged_spend(store: Charges, today: date, currency: str) -> tuple[TaggedSpend, ...]:
    """The ``SPEND_WINDOW_DAYS`` complete days' spend before ``today``, summed per set of tag keys carried (a key
    with an empty value is not carried: Cost Explorer's ``team$`` means untagged)."""
    first, last = today - timedelta(days=SPEND_WINDOW_DAYS), today - timedelta(days=1)
    sums: dict[frozenset[str], Decimal] = defaultdict(Decimal)
    for charge in _charges(store, None, first, last):
        if charge.get("BillingCurrency") == currency:
            tags = charge.get("Tags") or {}
            sums[frozenset(key for key, value in tags.items() if value)] += Decimal(charge["BilledCost"])
    return tuple(TaggedSpend(keys, amount) for keys, amount in sorted(sums.items(), key=lambda kv: sorted(kv[0])))


def overage_price(standing: Capacity, scope_cards: Sequence[RateCard]) -> Decimal | None:
    """What one unit above the limit costs per limit period, from the first rate card on the limit's metric whose
    scope overlaps the limit's (None when no card prices it: the plan blocks instead of charging)."""
    card = next(iter(scope_cards), None)
    if card is None:
        return None
    days_in_month = calendar.monthrange(standing.period_start.year, standing.period_start.month)[1]
    per_month = marginal_price(card, standing.limit) * (days_in_month if card.period == "day" else 1)
    length = (standing.period_end - standing.period_start).days + 1
    return per_month * length / days_in_month if length < days_in_month else per_month


def exposures(store: Usage, config: Config, today: date) -> tuple[LimitExposure, ...]:
    """Each limit with an ``upgrade``: its standing, its overage price and what hitting it costs."""
    upgrades = [(limit, limit.upgrade) for limit in config.limits if limit.upgrade is not None]
    found = []
    for (limit, upgrade), standing in zip(
        upgrades, standings(store, [pair[0] for pair in upgrades], today), strict=True
    ):
        cards = [c for c in config.rate_cards if c.metric == limit.metric and overlap(c.scope, limit.scope)]
        found.append(
            LimitExposure(
                capacity=standing,
                upgrade=upgrade,
                currency=config.currency,
                overage_price=overage_price(standing, cards),
                cost_of_hitting=upgrade.cost_of_hitting,
            )
        )
    return tuple(found)


def window_days(config: Config) -> int:
    """The utilisation window: the longest ``utilisation_days`` of the sources that read utilisation."""
    days = [source.utilisation_days for source in config.sources if source.type in INVENTORY_TYPES and source.inventory]
    return max(days, default=DEFAULT_WINDOW_DAYS)


def read_inputs(store: Store, config: Config, inventories: Sequence[Inventory], today: date) -> Inputs:
    """Everything one evaluation judges, read once."""
    days = window_days(config)
    opencost = {source.name for source in config.sources if source.type == "opencost"}
    required = tuple(config.policy.required_tags)
    return Inputs(
        today=today,
        inventories=tuple(inventories),
        utilisation=utilisation(store, today, days) if inventories else (),
        window_days=days,
        k8s=k8s(store, opencost, today, config.currency),
        spend=tagged_spend(store, today, config.currency) if required else (),
        spend_currency=config.currency,
        required_tags=required,
        limits=exposures(store, config, today),
    )

"""Unit costs (the cost of a scope divided by a usage metric) and shared costs allocated over tenants.

``unit_cost`` is ``cost / quantity`` rounded once, exactly, to 10 decimal places half to even (the
pricing quantum): fine enough for a cost per request, and no float on the way.

An allocation splits each day's shared cost over the tenants that used the metric that day, in
proportion to their quantities, by largest remainder: every part is a multiple of the quantum (10^-10,
or the cost's own finer quantum when it has more places), each is within one quantum of its exact share,
and a day's parts add up to exactly the day's cost. A day with cost and no usage stays unallocated, under
tenant ``""``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from spendwatch.domain.aggregates import NONE_KEY
from spendwatch.domain.history import history
from spendwatch.domain.money import ZERO
from spendwatch.domain.plans import UnitCost
from spendwatch.domain.ports import ChargesAndUsage, Usage
from spendwatch.domain.pricing import PLACES, quantise
from spendwatch.domain.usage import daily_usage

UNALLOCATED = ""


@dataclass(frozen=True)
class UnitCostRow:
    """One ``GET /v1/unit-costs`` item: a unit cost's cost, quantity and their ratio for one tenant (or all)."""

    name: str
    tenant: str
    cost: Decimal
    quantity: Decimal
    unit_cost: Decimal | None
    currency: str


def unit_costs(
    unit: UnitCost,
    cost_by_tenant: Mapping[str, Decimal],
    quantity_by_tenant: Mapping[str, Decimal],
    currency: str,
) -> list[UnitCostRow]:
    """The rows of one unit cost over a range: the cost of its scope and the quantity of its metric per tenant.

    ``per_tenant = false``: one row, tenant ``""``, with every tenant's cost and quantity. Otherwise a row per
    tenant with cost or quantity, by tenant (``""`` holds cost or usage without a tenant). ``unit_cost`` is
    None where the quantity is zero.
    """
    if not unit.per_tenant:
        cost = sum(cost_by_tenant.values(), ZERO)
        quantity = sum(quantity_by_tenant.values(), ZERO)
        return [_row(unit.name, UNALLOCATED, cost, quantity, currency)]
    tenants = {t for t, v in cost_by_tenant.items() if v != 0} | {t for t, v in quantity_by_tenant.items() if v != 0}
    return [
        _row(unit.name, tenant, cost_by_tenant.get(tenant, ZERO), quantity_by_tenant.get(tenant, ZERO), currency)
        for tenant in sorted(tenants)
    ]


def _row(name: str, tenant: str, cost: Decimal, quantity: Decimal, currency: str) -> UnitCostRow:
    ratio = None if quantity == 0 else quantise(Fraction(cost) / Fraction(quantity))
    return UnitCostRow(name=name, tenant=tenant, cost=cost, quantity=quantity, unit_cost=ratio, currency=currency)


def allocate(
    shared: Mapping[date, Decimal], quantities: Mapping[date, Mapping[str, Decimal]]
) -> dict[date, dict[str, Decimal]]:
    """Each day's shared cost split over that day's tenants in proportion to their (positive) quantities.

    A day's parts add up exactly to its cost; a day without positive quantities keeps its cost under ``""``.
    """
    return {day: split(cost, quantities.get(day, {})) for day, cost in sorted(shared.items())}


def split(cost: Decimal, weights: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """``cost`` split in proportion to ``weights`` (non-positive weights take no part), by largest remainder."""
    positive = {key: Fraction(weight) for key, weight in weights.items() if weight > 0}
    total = sum(positive.values(), Fraction(0))
    if total == 0:
        return {UNALLOCATED: cost}
    places = max(PLACES, -int(cost.as_tuple().exponent))
    units = int(Fraction(cost) * 10**places)  # the cost in quanta, exactly (it has at most ``places`` places)
    shares = {key: Fraction(units) * weight / total for key, weight in positive.items()}
    parts = {key: share.numerator // share.denominator for key, share in shares.items()}
    left = units - sum(parts.values())
    # The quanta left over (fewer than the tenants) go to the largest fractional remainders, ties by name.
    for key in sorted(shares, key=lambda k: (-(shares[k] - parts[k]), k))[:left]:
        parts[key] += 1
    return {key: Decimal(f"{count}E-{places}") for key, count in sorted(parts.items())}


def daily_quantities(
    store: Usage, metric: str, start: date, end: date
) -> tuple[dict[date, dict[str, Decimal]], dict[str, Decimal]]:
    """The metric's quantity per day and tenant, and per tenant over [start, end] (tenant "": usage without one)."""
    per_day: dict[date, dict[str, Decimal]] = defaultdict(dict)
    per_tenant: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for row in daily_usage(store, start, end, metric):
        day = date.fromisoformat(row.day)
        per_day[day][row.tenant] = per_day[day].get(row.tenant, ZERO) + row.quantity
        per_tenant[row.tenant] += row.quantity
    return dict(per_day), dict(per_tenant)


def unit_cost_rows(store: ChargesAndUsage, unit: UnitCost, currency: str, start: date, end: date) -> list[UnitCostRow]:
    """One unit cost's rows over [start, end]: its scope's cost and its metric's quantity, per tenant or pooled
    (``GET /v1/unit-costs``, the dashboard and the reports)."""
    result = history(store, start, end, "day", "tenant", currency, unit.scope)
    cost = {(UNALLOCATED if g.key == NONE_KEY else g.key): g.total for g in result.groups}
    _, quantity = daily_quantities(store, unit.metric, start, end)
    return unit_costs(unit, cost, quantity, currency)

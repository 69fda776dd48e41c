"""GET /v1/unit-costs: the cost of a scope divided by a usage metric, per tenant or pooled."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from spendwatch.domain.capacity import quantity_text
from spendwatch.domain.history import QueryError, check_range
from spendwatch.domain.models import IsoDay
from spendwatch.domain.money import format_money
from spendwatch.domain.unit_costs import UnitCostRow, unit_cost_rows
from spendwatch.platform.clock import utc_now

from api import deps
from api.schemas import UnitCostOut, UnitCostsResponse
from api.web import openapi
from api.web.errors import ApiError

router = Router()


def unit_cost_out(row: UnitCostRow) -> UnitCostOut:
    """A unit cost row in the wire format."""
    return UnitCostOut(
        name=row.name,
        tenant=row.tenant,
        cost=format_money(row.cost),
        quantity=quantity_text(row.quantity),
        unit_cost=None if row.unit_cost is None else quantity_text(row.unit_cost),
        currency=row.currency,
    )


@router.get(
    "/v1/unit-costs",
    summary="Cost of a scope per unit of a usage metric, per tenant or pooled",
    tags=["costs"],
    description="For each [[unit_costs]] entry (or the one named): the cost of its scope over [start, end] (default "
    "month to date) per tenant, or pooled under tenant '' when per_tenant is false, against the quantity of its usage "
    "metric over the same days. unit_cost is cost / quantity, exact to 10 places, null when the quantity is zero; "
    "costs are the scope's own charges, before allocations.",
    responses={
        200: {"description": "One item per unit cost and tenant (tenant '' when pooled)"},
        404: openapi.error("No [[unit_costs]] entry has this name (code not_found)"),
    },
)
def get_unit_costs(
    start: Annotated[
        IsoDay | None, Query(description="First day (inclusive); default: first day of this month")
    ] = None,
    end: Annotated[IsoDay | None, Query(description="Last day (inclusive); default: today (UTC)")] = None,
    name: Annotated[str | None, Query(min_length=1, max_length=64, description="One unit cost; default: all")] = None,
) -> UnitCostsResponse:
    """For each ``[[unit_costs]]`` entry (or the one named): the cost of its scope over [start, end] per tenant
    (``per_tenant``) or in total, the quantity of its metric over the same days, and their ratio (``unit_cost``,
    exact to 10 places, null when the quantity is zero). The cost is the scope's charges (priced usage included),
    before allocations; money is rounded to the cent for display, the ratio is taken from the exact cost."""
    end = end or utc_now().date()
    start = start or end.replace(day=1)
    try:
        check_range(start, end)
    except QueryError as exc:
        raise ApiError(400, "invalid_parameter", str(exc)) from exc
    config = deps.config()
    units = [unit for unit in config.unit_costs if name is None or unit.name == name]
    if name is not None and not units:
        raise ApiError(404, "not_found", f"no unit cost is named {name[:64]!r}")
    store = deps.store()
    items = [unit_cost_out(row) for unit in units for row in unit_cost_rows(store, unit, config.currency, start, end)]
    return UnitCostsResponse(start=start, end=end, items=items)

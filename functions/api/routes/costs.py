"""GET /v1/costs: history grouped and bucketed."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from spendwatch.domain.history import History, QueryError, history
from spendwatch.domain.models import IsoDay
from spendwatch.domain.money import ZERO, format_money
from spendwatch.platform.clock import utc_now

from api import deps
from api.schemas import AllocationOut, CostGroup, CostsResponse, Point
from api.views.allocation import Split, allocate_history
from api.web.errors import ApiError

router = Router()


def allocation_out(split: Split) -> AllocationOut:
    """What one allocation did, in the wire format."""
    return AllocationOut(
        name=split.allocation.name,
        scope=split.allocation.scope,
        metric=split.allocation.metric,
        shared=format_money(split.shared),
        allocated=format_money(split.allocated),
        unallocated=format_money(split.shared - split.allocated),
        tenants={tenant: format_money(amount) for tenant, amount in sorted(split.tenants.items())},
        skipped=split.skipped,
    )


def to_response(
    result: History,
    where: dict[str, Any] | None = None,
    splits: list[Split] | None = None,
    moved: dict[str, Decimal] | None = None,
) -> CostsResponse:
    """Exact history to the wire format: money as decimal strings, every period present.

    ``splits`` and ``moved`` (from allocations) add each group's ``allocated`` and the ``allocations`` list.
    """
    return CostsResponse(
        currency=result.currency,
        start=result.start,
        end=result.end,
        granularity=result.granularity,
        group_by=result.group_by,
        filters=where or {},
        total=format_money(result.total),
        groups=[
            CostGroup(
                key=group.key,
                total=format_money(group.total),
                points=[Point(period=p, amount=format_money(group.points.get(p, ZERO))) for p in result.periods],
                allocated=None if moved is None else format_money(moved.get(group.key, ZERO)),
            )
            for group in result.groups
        ],
        other_currencies=result.other_currencies,
        allocations=[allocation_out(split) for split in splits or []],
    )


Filter = Annotated[str | None, Query(min_length=1, max_length=256, description="Only charges with this value")]
TagFilter = Annotated[
    list[str] | None, Query(description="KEY=VALUE; repeat for several tags (all must match)", max_length=20)
]


def parse_where(
    provider: str | None = None,
    service: str | None = None,
    account: str | None = None,
    region: str | None = None,
    tenant: str | None = None,
    tag: list[str] | None = None,
) -> dict[str, Any]:
    """Filter query parameters to a scope; ``tag`` is ``KEY=VALUE`` and may repeat (all must hold)."""
    where: dict[str, Any] = {
        dim: value
        for dim, value in (
            ("provider", provider),
            ("service", service),
            ("account", account),
            ("region", region),
            ("tenant", tenant),
        )
        if value is not None
    }
    tags: dict[str, str] = {}
    for pair in tag or []:
        key, sep, value = pair.partition("=")
        if not sep or not key or not value:
            raise ApiError(400, "invalid_parameter", f"tag must be KEY=VALUE, got {pair[:64]!r}")
        if tags.get(key, value) != value:
            raise ApiError(400, "invalid_parameter", f"tag {key[:64]!r} is given two different values")
        tags[key] = value
    if tags:
        where["tag"] = tags
    return where


ALLOCATIONS = (
    "With group_by=tenant, each [[allocations]] entry splits its shared cost (the charges of its scope without a "
    "tenant, within the filters) over tenants day by day, in proportion to that day's usage of its metric. The parts "
    "move from the (none) group into the tenants' groups (totals and points); each group's allocated is the signed "
    "amount that moved in (negative on (none): moved out; they add up to zero), and allocations lists each entry's "
    "shared, allocated and unallocated amounts and its split per tenant. The grand total never changes. Days without "
    "usage stay unallocated; an allocation whose scope may overlap an earlier one's is skipped (skipped says why); a "
    "tenant filter turns allocations off. Other groupings are unchanged (allocated null, allocations empty)."
)


@router.get("/v1/costs", summary="Cost history", tags=["costs"], description=ALLOCATIONS)
def get_costs(
    start: Annotated[
        IsoDay | None, Query(description="First day (inclusive); default: first day of this month")
    ] = None,
    end: Annotated[IsoDay | None, Query(description="Last day (inclusive); default: today (UTC)")] = None,
    granularity: Annotated[Literal["day", "month"], Query()] = "day",
    group_by: Annotated[
        str | None, Query(description="provider, service, account, region, tenant, sku or tag:KEY", max_length=140)
    ] = None,
    provider: Filter = None,
    service: Filter = None,
    account: Filter = None,
    region: Filter = None,
    tenant: Filter = None,
    tag: TagFilter = None,
) -> CostsResponse:
    """Cost per group and period between start and end (inclusive), in the configured currency.

    Filters narrow the charges counted (exact matches; ``(none)`` selects charges without a value).

    Allocations (group_by=tenant): see ``ALLOCATIONS``.
    """
    today = utc_now().date()
    end = end or today
    start = start or end.replace(day=1)
    where = parse_where(provider, service, account, region, tenant, tag)
    try:
        result = history(deps.store(), start, end, granularity, group_by, deps.config().currency, where)
    except QueryError as exc:
        raise ApiError(400, "invalid_parameter", str(exc)) from exc
    config = deps.config()
    if group_by != "tenant" or not config.allocations:
        return to_response(result, where)
    result, splits, moved = allocate_history(deps.store(), config, result, where)
    return to_response(result, where, splits, moved)

"""GET /v1/costs: history grouped and bucketed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from spendwatch.costs import History, QueryError, history
from spendwatch.money import ZERO, format_money

from api import deps
from api.errors import ApiError
from api.schemas import CostGroup, CostsResponse, Point

router = Router()


def to_response(result: History) -> CostsResponse:
    """Exact history to the wire format: money as decimal strings, every period present."""
    return CostsResponse(
        currency=result.currency,
        start=result.start,
        end=result.end,
        granularity=result.granularity,
        group_by=result.group_by,
        total=format_money(result.total),
        groups=[
            CostGroup(
                key=group.key,
                total=format_money(group.total),
                points=[Point(period=p, amount=format_money(group.points.get(p, ZERO))) for p in result.periods],
            )
            for group in result.groups
        ],
        other_currencies=result.other_currencies,
    )


@router.get("/v1/costs", summary="Cost history", tags=["costs"])
def get_costs(
    start: Annotated[date | None, Query(description="First day (inclusive); default: first day of this month")] = None,
    end: Annotated[date | None, Query(description="Last day (inclusive); default: today (UTC)")] = None,
    granularity: Annotated[Literal["day", "month"], Query()] = "day",
    group_by: Annotated[
        str | None, Query(description="provider, service, account, region, tenant or tag:KEY", max_length=140)
    ] = None,
) -> CostsResponse:
    """Cost per group and period between start and end (inclusive), in the configured currency."""
    today = datetime.now(UTC).date()
    end = end or today
    start = start or end.replace(day=1)
    try:
        result = history(deps.store(), start, end, granularity, group_by, deps.config().currency)
    except QueryError as exc:
        raise ApiError(400, "invalid_parameter", str(exc)) from exc
    return to_response(result)

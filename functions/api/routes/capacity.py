"""GET /v1/capacity (plan limits against usage) and GET /v1/usage/forecast (a usage metric's forecast)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from spendwatch.domain.capacity import HISTORY_DAYS, Capacity, quantity_text
from spendwatch.platform.clock import utc_now
from spendwatch.platform.observability import logger

from api import deps
from api.schemas import (
    CapacityOut,
    CapacityPage,
    UsageForecastPoint,
    UsageForecastResponse,
)
from api.views import capacity as view
from api.web import openapi
from api.web.errors import ApiError
from api.web.paging import page

router = Router()
INTERVAL_LEVEL = 0.8


def capacity_out(standing: Capacity) -> CapacityOut:
    """A limit's standing in the wire format: quantities and the ratio as decimal strings."""
    return CapacityOut(
        name=standing.name,
        metric=standing.metric,
        scope=standing.scope,
        plan=standing.plan,
        limit=quantity_text(standing.limit),
        used=quantity_text(standing.used),
        utilisation=quantity_text(standing.utilisation),
        status=standing.status,
        growth_per_day=quantity_text(standing.growth_per_day),
        days_to_limit=standing.days_to_limit,
        limit_date=standing.limit_date,
        data_through=standing.data_through,
        period=standing.period,
    )


@router.get(
    "/v1/capacity",
    summary="Plan limits against usage: used, utilisation, growth and the day each limit is reached",
    tags=["capacity"],
    description="Every [[limits]] entry in config order, judged from the last 90 days of usage (pushed and "
    "collected). Quantities and utilisation (used / limit, 1 = at the limit) are decimal strings; days_to_limit "
    "counts from data_through, and days_to_limit and limit_date are null when the forecast does not reach the limit "
    "within 365 days.",
)
def get_capacity(
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page")] = 50,
    next_token: Annotated[str | None, Query(max_length=512)] = None,
) -> CapacityPage:
    """Every ``[[limits]]`` entry in config order, judged from the last 90 days of usage (pushed and collected).

    ``days_to_limit`` and ``limit_date`` are null when the forecast does not reach the limit within 365 days.
    """
    store = deps.store()
    standings = view.capacity_now(store, deps.config(), utc_now().date())
    logger.debug("capacity read", extra={"limits": len(standings), "requests": store.requests})
    chosen, token = page("capacity", standings, limit, next_token)
    return CapacityPage(items=[capacity_out(s) for s in chosen], next_token=token)


@router.get(
    "/v1/usage/forecast",
    summary="Daily forecast of a usage metric (one tenant's or every tenant's), with its prediction interval",
    tags=["usage"],
    description="Fitted on the metric's daily totals over the last 90 days through yesterday (one tenant's, or every "
    "tenant's summed; for a metric a level limit names, days without a reading keep the last one); points run from "
    "today for horizon_days days. A metric (or tenant) without usage in those 90 days is a 404 with code not_found.",
    responses={
        200: {"description": "The forecast from today for horizon_days days"},
        404: openapi.error("The metric (for this tenant) has no usage in the last 90 days (code not_found)"),
    },
)
def get_usage_forecast(
    metric: Annotated[str, Query(min_length=1, max_length=64, description="The usage metric (exact match)")],
    tenant: Annotated[
        str | None, Query(max_length=128, description="One tenant's usage; default: every tenant summed")
    ] = None,
    horizon_days: Annotated[int, Query(ge=1, le=365, description="Days to forecast, from today")] = 30,
) -> UsageForecastResponse:
    """The metric's daily quantity from today for ``horizon_days`` days, fitted on the last 90 days of usage
    through yesterday. A metric without usage in that window is a 404 (code not_found)."""
    today = utc_now().date()
    result = view.forecast_usage(deps.store(), deps.config(), metric, tenant, today, horizon_days, INTERVAL_LEVEL)
    if result is None:
        whose = "" if tenant is None else f" for tenant {tenant[:64]!r}"
        raise ApiError(404, "not_found", f"no usage of {metric[:64]!r}{whose} in the last {HISTORY_DAYS} days")
    return UsageForecastResponse(
        metric=result.metric,
        tenant=result.tenant,
        unit=result.unit,
        interval=INTERVAL_LEVEL,
        horizon_days=horizon_days,
        history_days=result.history_days,
        data_through=result.data_through,
        points=[
            UsageForecastPoint(
                day=p.day,
                quantity=quantity_text(p.quantity),
                lower=quantity_text(p.lower),
                upper=quantity_text(p.upper),
            )
            for p in result.points
        ],
    )

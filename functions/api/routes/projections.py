"""GET /v1/projections: forecasts with intervals and their own track record."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from spendwatch.domain.history import QueryError, check_group_by, history
from spendwatch.domain.money import ZERO, format_money
from spendwatch.platform.clock import utc_now

from api import deps
from api.schemas import ProjectionGroup, ProjectionPoint, ProjectionsResponse, money_interval
from api.web.errors import ApiError

router = Router()
HISTORY_DAYS = 365
MAX_GROUPS = 25
OTHER = "(other)"


def _groups(group_by: str | None, today: date) -> dict[str, list[tuple[date, Decimal]]]:
    """Daily history per group for the last year, the smallest groups folded into one."""
    start = today - timedelta(days=HISTORY_DAYS)
    result = history(deps.store(), start, today, "day", group_by, deps.config().currency)
    series = {g.key: [(date.fromisoformat(p), g.points.get(p, ZERO)) for p in result.periods] for g in result.groups}
    if len(series) <= MAX_GROUPS:
        return series
    keys = [g.key for g in result.groups]  # largest first
    folded = dict((k, series[k]) for k in keys[: MAX_GROUPS - 1])
    rest = keys[MAX_GROUPS - 1 :]
    folded[OTHER] = [(day, sum((series[k][i][1] for k in rest), ZERO)) for i, (day, _) in enumerate(series[rest[0]])]
    return folded


@router.get("/v1/projections", summary="Forecasts per group with prediction intervals", tags=["projections"])
def get_projections(
    horizon_days: Annotated[int, Query(description="30, 60 or 90")] = 30,
    group_by: Annotated[str | None, Query(max_length=140)] = None,
    level: Annotated[float, Query(gt=0.5, lt=1.0, description="Prediction interval level")] = 0.8,
) -> ProjectionsResponse:
    """Daily forecasts from today for ``horizon_days``, the month-end projection and each group's accuracy."""
    from spendwatch.domain.forecast import forecast

    if horizon_days not in (30, 60, 90):
        raise ApiError(400, "invalid_parameter", "horizon_days must be 30, 60 or 90")
    try:
        check_group_by(group_by)
    except QueryError as exc:
        raise ApiError(400, "invalid_parameter", str(exc)) from exc
    today = utc_now().date()
    groups = []
    for key, series in _groups(group_by, today).items():
        result = forecast(series, today, horizon_days, level)
        groups.append(
            ProjectionGroup(
                key=key,
                method=result.method,
                month_to_date=format_money(result.month_to_date),
                month_end=money_interval(result.month_end),
                accuracy=result.accuracy.as_dict() if result.accuracy else None,
                points=[
                    ProjectionPoint(
                        period=p.day,
                        amount=format_money(p.amount),
                        lower=format_money(p.lower),
                        upper=format_money(p.upper),
                    )
                    for p in result.points
                ],
            )
        )
    return ProjectionsResponse(
        currency=deps.config().currency,
        interval=level,
        start=today,
        end=today + timedelta(days=horizon_days - 1),
        horizon_days=horizon_days,
        group_by=group_by,
        groups=groups,
    )

"""POST /v1/usage (the user's app pushes usage) and GET /v1/usage (daily sums)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import timedelta
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from spendwatch.domain.history import QueryError, check_range
from spendwatch.domain.models import IsoDay
from spendwatch.domain.usage import UsageBatch, UsageConflictError, daily_usage, ingest
from spendwatch.platform.clock import utc_now

from api import deps
from api.schemas import UsageAccepted, UsageOut, UsagePage
from api.web import openapi
from api.web.errors import ApiError

router = Router()
MAX_USAGE_DAYS = 366


@router.post(
    "/v1/usage",
    summary="Push usage records (idempotent per idempotency_key)",
    tags=["usage"],
    responses={
        200: {"description": "How many records were stored, and whether this was a replay"},
        409: openapi.error("The idempotency key was used before with other records (code conflict)"),
    },
)
def post_usage(batch: UsageBatch) -> UsageAccepted:
    """Store a batch of usage records; a retry with the same key and records changes nothing."""
    try:
        result = ingest(deps.store(), batch, utc_now())
    except UsageConflictError as exc:
        raise ApiError(409, "conflict", str(exc)) from exc
    return UsageAccepted(accepted=result.accepted, replayed=result.replayed)


def _offset(token: str | None, fingerprint: str) -> int:
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset, seen = int(data["o"]), str(data["q"])
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_parameter", "next_token is not a token this API issued") from exc
    if seen != fingerprint or offset < 0:
        raise ApiError(400, "invalid_parameter", "next_token belongs to a different query")
    return offset


@router.get("/v1/usage", summary="Usage per day, metric, tenant and service", tags=["usage"])
def get_usage(
    start: Annotated[IsoDay | None, Query(description="First day (inclusive); default: 30 days ago")] = None,
    end: Annotated[IsoDay | None, Query(description="Last day (inclusive); default: today (UTC)")] = None,
    metric: Annotated[str | None, Query(max_length=64)] = None,
    tenant: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    next_token: Annotated[str | None, Query(max_length=512)] = None,
) -> UsagePage:
    """Daily sums of pushed and collected usage, paged."""
    end = end or utc_now().date()
    start = start or end - timedelta(days=30)
    try:
        check_range(start, end)
    except QueryError as exc:
        raise ApiError(400, "invalid_parameter", str(exc)) from exc
    if (end - start).days >= MAX_USAGE_DAYS:
        raise ApiError(400, "invalid_parameter", f"ask for at most {MAX_USAGE_DAYS} days of usage at a time")
    fingerprint = hashlib.sha256(f"{start}|{end}|{metric}|{tenant}".encode()).hexdigest()[:16]
    offset = _offset(next_token, fingerprint)
    rows = daily_usage(deps.store(), start, end, metric, tenant)
    page = rows[offset : offset + limit]
    more = offset + limit < len(rows)
    token = base64.urlsafe_b64encode(json.dumps({"o": offset + limit, "q": fingerprint}).encode()).decode()
    return UsagePage(
        items=[
            UsageOut(
                day=r.day,
                metric=r.metric,
                unit=r.unit,
                tenant=r.tenant,
                service=r.service,
                source=r.source,
                quantity=f"{r.quantity.normalize():f}",
            )
            for r in page
        ],
        next_token=token if more else None,
    )

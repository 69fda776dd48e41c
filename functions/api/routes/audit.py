"""GET /v1/audit: every change made through the API, newest first."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from spendwatch.store import InvalidTokenError

from api import deps
from api.schemas import AuditPage
from api.web.errors import ApiError

router = Router()


@router.get(
    "/v1/audit",
    summary="Changes made through the API, newest first",
    tags=["audit"],
    description="One entry per change (budget.create|update|delete, alert.ack|snooze|resolve, "
    "recommendation.accept|dismiss|implement), written in the same transaction as the change and kept 400 days: "
    "who made it (deployed: the IAM caller's ARN or the API key's id; locally 'local'), when, and the resource as "
    "the API showed it before and after (null before a create and after a delete).",
)
def list_audit(
    limit: Annotated[int, Query(ge=1, le=200, description="Entries per page")] = 50,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> AuditPage:
    """The audit log, newest first, a page at a time."""
    try:
        entries, token = deps.store().audit_entries(limit, next_token)
    except InvalidTokenError as exc:
        raise ApiError(400, "invalid_parameter", str(exc)) from exc
    return AuditPage(items=entries, next_token=token)

"""GET /v1/export: the charges themselves as CSV, FOCUS column names or plain ones, paged."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from spendwatch.domain.export import ExportFormat, export_page
from spendwatch.domain.history import QueryError
from spendwatch.domain.models import IsoDay
from spendwatch.platform.clock import utc_now
from spendwatch.store import InvalidTokenError

from api import deps
from api.routes.costs import Filter, TagFilter, parse_where
from api.web.errors import ApiError

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

router = Router()
NEXT_TOKEN_HEADER = "X-Next-Token"  # noqa: S105 (a header name, not a secret)
_STRING: dict[str, Any] = {"type": "string"}
CSV_RESPONSE: dict[int, OpenAPIResponse] = {
    200: {
        "description": "CSV with a header row (RFC 4180, CRLF line ends, UTF-8); money exactly as the provider sent it",
        "content": {"text/csv": {"schema": _STRING}},
        "headers": {
            NEXT_TOKEN_HEADER: {
                "description": "Present when more rows follow: pass it as next_token",
                "schema": _STRING,
            },
            "Link": {"description": 'The next page\'s URL with rel="next", when more rows follow', "schema": _STRING},
            "Content-Disposition": {"description": "attachment; filename=...", "schema": _STRING},
        },
    }
}


@router.get("/v1/export", summary="Charges as CSV (FOCUS or plain columns)", tags=["costs"], responses=CSV_RESPONSE)
def export(
    format: Annotated[ExportFormat, Query(description="focus: FOCUS column names; csv: plain names")] = "csv",
    start: Annotated[
        IsoDay | None, Query(description="First day (inclusive); default: first day of this month")
    ] = None,
    end: Annotated[IsoDay | None, Query(description="Last day (inclusive); default: today (UTC)")] = None,
    provider: Filter = None,
    service: Filter = None,
    account: Filter = None,
    region: Filter = None,
    tenant: Filter = None,
    tag: TagFilter = None,
    limit: Annotated[int, Query(ge=1, le=20000, description="Rows per page (a page also stops near 4 MB)")] = 5000,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[str]:
    """Every charge between start and end matching the filters, one CSV page at a time, day by day."""
    today = utc_now().date()
    end = end or today
    start = start or end.replace(day=1)
    where = parse_where(provider, service, account, region, tenant, tag)
    try:
        page = export_page(deps.store(), start, end, format, where, limit, next_token)
    except (QueryError, InvalidTokenError) as exc:
        raise ApiError(400, "invalid_parameter", str(exc)) from exc
    headers = {"Content-Disposition": f'attachment; filename="spendwatch-{format}-{start}-{end}.csv"'}
    if page.next_token:
        query = {"format": format, "start": start.isoformat(), "end": end.isoformat(), "limit": str(limit)}
        query.update({dim: value for dim, value in where.items() if dim != "tag"})
        pairs = [*query.items(), *(("tag", f"{k}={v}") for k, v in where.get("tag", {}).items())]
        headers[NEXT_TOKEN_HEADER] = page.next_token
        headers["Link"] = f'</v1/export?{urlencode([*pairs, ("next_token", page.next_token)])}>; rel="next"'
    return Response(status_code=200, content_type="text/csv; charset=utf-8", body=page.body, headers=headers)

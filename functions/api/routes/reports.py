"""Reports: GET /v1/reports and GET /v1/reports/{id}, the summaries the report function has sent."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from spendwatch.domain.reports import REPORT_ID_PATTERN, Report, ReportKind, report_json
from spendwatch.store import InvalidTokenError

from api import deps
from api.report_schemas import ReportOut, ReportPage
from api.web.errors import ApiError

router = Router()
ReportId = Annotated[str, Path(pattern=REPORT_ID_PATTERN, description="<period start>-<kind>, e.g. 2026-10-01-monthly")]


def to_out(report: Report) -> ReportOut:
    """A stored report in the wire format (money as decimal strings), as ``spendwatch report`` prints it."""
    return ReportOut.model_validate(report_json(report))


@router.get("/v1/reports", summary="Sent reports, newest period first", tags=["reports"])
def list_reports(
    kind: Annotated[ReportKind | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> ReportPage:
    """Daily, weekly and monthly reports as they were sent (empty until the first report goes out)."""
    try:
        reports, token = deps.store().list_reports(limit, next_token, kind)
    except InvalidTokenError as exc:
        raise ApiError(400, "invalid_parameter", str(exc)) from exc
    return ReportPage(items=[to_out(r) for r in reports], next_token=token)


@router.get("/v1/reports/<report_id>", summary="One report", tags=["reports"])
def get_report(report_id: ReportId) -> ReportOut:
    """A report by id."""
    report = deps.store().get_report(report_id)
    if report is None:
        raise ApiError(404, "not_found", f"no report {report_id}")
    return to_out(report)

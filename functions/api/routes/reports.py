"""Reports: GET /v1/reports and GET /v1/reports/{id}, the summaries the report function has sent."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from spendwatch.domain.money import format_money
from spendwatch.domain.reports import REPORT_ID_PATTERN, Report, ReportKind
from spendwatch.store import InvalidTokenError

from api import deps
from api.schemas import ReportLineOut, ReportOut, ReportPage
from api.web.errors import ApiError

router = Router()
ReportId = Annotated[str, Path(pattern=REPORT_ID_PATTERN, description="<period start>-<kind>, e.g. 2026-10-01-monthly")]


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format_money(value)


def to_out(report: Report) -> ReportOut:
    """A stored report in the wire format (money as decimal strings)."""
    return ReportOut(
        id=report.id,
        kind=report.kind,
        start=report.start,
        end=report.end,
        timezone=report.timezone,
        generated_at=report.generated_at,
        currency=report.currency,
        total=format_money(report.total),
        previous_total=_money(report.previous_total),
        projected_month_end=_money(report.projected_month_end),
        breakdown={
            dimension: [
                ReportLineOut(key=line.key, amount=format_money(line.amount), previous=_money(line.previous))
                for line in lines
            ]
            for dimension, lines in report.breakdown.items()
        },
        alerts_opened=report.alerts_opened,
        artifacts=report.artifacts,
    )


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

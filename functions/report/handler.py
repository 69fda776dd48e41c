"""Report Lambda: on its EventBridge Scheduler schedule (or asked directly), build the report of the last complete
day, week or month, write its HTML page and CSV to the data bucket and store the report item once.

The item's INSERT on the table's stream is what the deliver function sends to Slack and SNS (the outbox), so a
report is posted once: a second run for the same period finds the stored report and returns it unchanged, and
two runs at once store one of them (a conditional put).

Events: ``{"kind": "daily"|"weekly"|"monthly"}`` with ``"scheduled_time"`` (what the schedule passes, an ISO
instant: the report is for the local date of that instant in the config's time zone) or ``"date"``
(``YYYY-MM-DD``, a local date: the report of the last complete period before it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, cast, get_args
from zoneinfo import ZoneInfo

from botocore.config import Config as BotoConfig
from spendwatch.domain.config import cached_config
from spendwatch.domain.report_periods import ReportKind, period_of
from spendwatch.domain.reports import Report, report_id, report_json
from spendwatch.platform.aws import CLIENT_CONFIG, client
from spendwatch.platform.clock import parse_instant, utc_now
from spendwatch.platform.observability import logger
from spendwatch.platform.settings import ReportSettings
from spendwatch.store import Store

from report import page
from report.build import build
from report.files import csv_text, publish

# Presigned links valid for a week need SigV4 (the older signature allows no expiry over a week either way).
S3_CONFIG = CLIENT_CONFIG.merge(BotoConfig(signature_version="s3v4"))


class ReportRequestError(ValueError):
    """An event that does not say which report to make."""


@dataclass(frozen=True)
class Request:
    """Which report: its kind and the local date it is made on."""

    kind: ReportKind
    today: date


def request_of(event: dict[str, Any], timezone: str, now: datetime) -> Request:
    """The kind and local date an event asks for (an EventBridge event carries them in ``detail``)."""
    fields = {**event, **(event.get("detail") or {})}
    kind = fields.get("kind")
    if kind not in get_args(ReportKind):
        raise ReportRequestError(f"kind must be daily, weekly or monthly, not {kind!r}")
    try:
        if fields.get("date"):
            return Request(cast(ReportKind, kind), date.fromisoformat(str(fields["date"])))
        moment = parse_instant(str(fields["scheduled_time"])) if fields.get("scheduled_time") else now
    except ValueError as exc:
        raise ReportRequestError(f"not a date or instant: {exc}") from exc
    return Request(cast(ReportKind, kind), moment.astimezone(ZoneInfo(timezone)).date())


def make_report(store: Store, settings: ReportSettings, request: Request, now: datetime) -> tuple[Report, bool]:
    """The stored report of the requested period, made and stored now unless it exists; True when made now."""
    config = cached_config(settings.config_path)
    wanted = report_id(request.kind, period_of(request.kind, request.today)[0])
    existing = store.get_report(wanted, consistent=True)
    if existing is not None:
        return existing, False
    figures = build(store, config, request.kind, request.today, now)
    files = {"html": page.render(figures), "csv": csv_text(figures.rows, config.currency)}
    report = publish(_s3(), settings.bucket, figures.report, files, now)
    if store.put_report_once(report):
        return report, True
    # Another run stored this period's report meanwhile: that one stands (and is the one delivered).
    stored = store.get_report(wanted, consistent=True)
    return (stored or report), False


@cache
def _s3() -> Any:
    import boto3

    return boto3.client("s3", config=S3_CONFIG)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Make (or find) the report; returns ``{"created": bool, "report": <the report as the API serves it>}``."""
    settings = ReportSettings.from_env()
    config = cached_config(settings.config_path)
    now = utc_now()
    request = request_of(event, config.timezone, now)
    store = Store(client("dynamodb"), settings.table)
    report, created = make_report(store, settings, request, now)
    logger.info(
        "report made" if created else "report already stored",
        extra={"report": report.id, "total": str(report.total), "dynamodb_requests": store.requests},
    )
    return {"created": created, "report": report_json(report)}

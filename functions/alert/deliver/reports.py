"""The report outbox: a new report item on the stream goes out once on every channel that takes reports.

As with alerts, each report is re-read consistently and a channel that already delivered it is skipped, so a
retried batch, a restart or a second run of the report never posts twice; each channel's outcome is recorded on
the report (``delivery.<channel>``) and a report some channel failed to take fails its records, so Lambda retries
them. Channels take reports when they have ``send_report`` (Slack, SNS, the console); others are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from spendwatch.domain.alerts import Delivery
from spendwatch.domain.reports import Report
from spendwatch.platform.observability import logger
from spendwatch.store import Store, StoreError
from spendwatch.store.records import ReportWritten, UnreadableRecordError, decode


class ReportChannel(Protocol):
    """A channel that takes reports."""

    name: str

    def send_report(self, report: Report) -> Delivery:
        """Deliver one report."""
        ...


def split(
    records: Sequence[DynamoDBRecord], key: Callable[[DynamoDBRecord], str]
) -> tuple[dict[str, list[str]], list[DynamoDBRecord]]:
    """The batch's reports (report id -> the keys of the records carrying it) and every other record."""
    reports: dict[str, list[str]] = {}
    others: list[DynamoDBRecord] = []
    for record in records:
        try:
            change = decode(record.raw_event)
        except UnreadableRecordError:
            others.append(record)  # the alert path reports it as undeliverable
            continue
        if isinstance(change, ReportWritten):
            reports.setdefault(change.report.id, []).append(key(record))
        else:
            others.append(record)
    return reports, others


def report_channels(channels: Sequence[Any]) -> list[ReportChannel]:
    """The channels that take reports."""
    return [channel for channel in channels if callable(getattr(channel, "send_report", None))]


def deliver_reports(
    reports: dict[str, list[str]], store: Store, open_channels: Callable[[], Sequence[Any]], now: datetime
) -> dict[str, str]:
    """Send each report on every report channel that has not delivered it; returns why, per failed record key."""
    failures: dict[str, str] = {}
    for report_id, keys in reports.items():
        try:
            report = store.get_report(report_id, consistent=True)
        except StoreError as exc:
            failures.update(dict.fromkeys(keys, str(exc)))
            continue
        if report is None:
            logger.info("report not delivered", extra={"report": report_id, "reason": "gone before delivery"})
            continue
        for channel in report_channels(open_channels()):
            reason = send_report(channel, report, store, now)
            if reason:
                failures.update({k: f"{failures[k]}; {reason}" if k in failures else reason for k in keys})
    return failures


def send_report(channel: ReportChannel, report: Report, store: Store, now: datetime) -> str | None:
    """Send ``report`` on ``channel`` unless it was delivered there, and record the outcome; the failure, if any."""
    before = report.delivery.get(channel.name) or Delivery()
    if before.status == "delivered":
        return None
    result = channel.send_report(report)
    state = Delivery(
        status=result.status,
        attempts=before.attempts + result.attempts,
        delivered_at=now if result.status == "delivered" else None,
        error=result.error,
    )
    try:
        store.update_report(report.id, {f"delivery.{channel.name}": state.model_dump(mode="json")})
    except StoreError as exc:
        # After a delivery a retry would post again; a failed send fails the record anyway.
        logger.error("report delivery state not recorded", extra={"report": report.id, "error": str(exc)})
    logger.info("report sent", extra={"report": report.id, "channel": channel.name, "status": state.status})
    return None if state.status == "delivered" else f"{channel.name}: {state.error}"


def deliver_now(
    report_id: str, store: Store, open_channels: Callable[[], Sequence[Any]], now: datetime
) -> dict[str, Any]:
    """Deliver one stored report (a direct invocation, ``{"report_id": ...}``); its delivery state per channel."""
    failures = deliver_reports({report_id: [report_id]}, store, open_channels, now)
    report = store.get_report(report_id, consistent=True)
    delivery = {name: state.model_dump(mode="json") for name, state in (report.delivery if report else {}).items()}
    delivered = report is not None and not failures
    return {"report_id": report_id, "found": report is not None, "delivered": delivered, "delivery": delivery}

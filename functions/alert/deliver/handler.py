"""Deliver Lambda: new alert items from the table's stream (the outbox) go out to every channel, once each.

Delivery is at-least-once from the stream and deduplicated here: every record's alert is re-read consistently
and a channel that already delivered it is skipped, so a retried batch never posts twice. Alerts that were
acknowledged, resolved or snoozed (until ``snoozed_until``) before their delivery are not sent: someone has
already seen them, and delivery happens once, on creation. A record whose alert any channel failed to take is
reported as a batch item failure, so Lambda retries it (and finally sends it to the on-failure destination)
while the other records of the batch succeed.

A configured channel takes only the alerts its ``min_severity`` and ``kinds`` allow; the others are neither sent
nor failed. When an alert becomes resolved (the one MODIFY the stream filter lets through), channels that are told
about resolutions (PagerDuty, webhooks) and delivered the alert hear of it once, recorded as ``<channel>:resolve``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord, DynamoDBStreamEvent
from spendwatch.channels import Channel, resolver, takes
from spendwatch.channels.configured import delivery_channels
from spendwatch.domain.alerts import Alert, Delivery
from spendwatch.domain.config import cached_config
from spendwatch.domain.digest import goes_to_digest
from spendwatch.domain.reports import Report
from spendwatch.platform.aws import client
from spendwatch.platform.clock import utc_now
from spendwatch.platform.observability import logger
from spendwatch.platform.settings import DeliverSettings
from spendwatch.store import Store, StoreError
from spendwatch.store.records import (
    AlertChanged,
    AlertReminderDue,
    AlertResolved,
    AlertWritten,
    UnreadableRecordError,
    decode,
)

from alert.deliver import reports

# Every record gets a response entry; a batch whose records all failed is reported the same way, not raised.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


# An alert's resolution passed on to a channel is recorded as ``delivery["<channel>:resolve"]``.
RESOLVE_SUFFIX = ":resolve"
REMINDER_SUFFIX = ":reminder"


class DeliveryError(RuntimeError):
    """A record whose alert was not delivered on every channel; Lambda retries it."""


class PoisonRecordError(ValueError):
    """A stream record that does not carry an alert."""


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Deliver a batch of new (and newly resolved or reminded) alerts and new reports; records that failed are
    reported so Lambda retries only those.

    Invoked directly with ``{"report_id": ...}`` it delivers that stored report (what ``spendwatch report`` does).
    """
    settings = DeliverSettings.from_env()
    store = Store(client("dynamodb"), settings.table)
    opened = once(lambda: channels(settings))
    if event.get("report_id"):
        return reports.deliver_now(str(event["report_id"]), store, opened, utc_now())
    due_reports, records = reports.split(list(DynamoDBStreamEvent(event).records), record_key)
    digest = cached_config(settings.config_path).alerts.info == "digest"
    failures = deliver(records, store, opened, utc_now(), digest=digest)
    failures.update(reports.deliver_reports(due_reports, store, opened, utc_now()))

    def check(record: DynamoDBRecord) -> None:
        if reason := failures.get(record_key(record)):
            raise DeliveryError(reason)

    return dict(process_partial_response(event=event, record_handler=check, processor=processor, context=context))


def channels(settings: DeliverSettings) -> list[Channel]:
    """SNS when a topic is set (always, deployed), Slack or the console, and the configured PagerDuty and webhooks."""
    return delivery_channels(cached_config(settings.config_path), settings)


def once(open_channels: Callable[[], list[Channel]]) -> Callable[[], list[Channel]]:
    """``open_channels`` called at most once, when first needed (alerts and reports share the channels)."""
    opened: list[list[Channel]] = []

    def get() -> list[Channel]:
        if not opened:
            opened.append(open_channels())
        return opened[0]

    return get

    def send_report(self, report: Report) -> Delivery:
        """Fail the report with the reason."""
        return Delivery(status="failed", attempts=0, error=self.error)


# -- the outbox -----------------------------------------------------------------------------------------
def record_key(record: DynamoDBRecord) -> str:
    """What identifies a record in the batch response: its sequence number."""
    stream = record.dynamodb
    return (stream.sequence_number if stream else None) or record.event_id or ""


def change_of(record: DynamoDBRecord) -> AlertWritten | AlertResolved | AlertReminderDue | AlertChanged:
    """What a record says happened to an alert; PoisonRecordError when it holds no alert."""
    try:
        change = decode(record.raw_event)
    except UnreadableRecordError as exc:
        raise PoisonRecordError(f"record {record_key(record)} does not hold a valid alert: {exc}") from exc
    if not isinstance(change, AlertWritten | AlertResolved | AlertReminderDue | AlertChanged):
        raise PoisonRecordError(f"record {record_key(record)} is not an alert item")
    return change


def skip_reason(alert: Alert, now: datetime, digest: bool = False) -> str | None:
    """Why an alert is not to be delivered now, if it is not (``digest``: info alerts go to the daily digest)."""
    if digest and goes_to_digest(alert):
        return "kept for the daily digest"
    if alert.status in ("acknowledged", "resolved"):
        return f"{alert.status} before delivery"
    if alert.snoozed_until and alert.snoozed_until > now:
        return f"snoozed until {alert.snoozed_until.isoformat()}"
    if alert.status == "snoozed" and alert.snoozed_until is None:
        return "snoozed"
    return None


@dataclass
class Due:
    """An alert to deliver and the records of the batch that carry it."""

    alert: Alert
    keys: list[str] = field(default_factory=list)


@dataclass
class Work:
    """A batch sorted out: alerts to deliver, alerts whose resolution to pass on, records that failed."""

    opened: dict[str, Due] = field(default_factory=dict)
    resolved: dict[str, Due] = field(default_factory=dict)
    reminded: dict[str, Due] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


def sort_out(records: Sequence[DynamoDBRecord], store: Store, now: datetime, digest: bool = False) -> Work:
    """Re-read each record's alert; new ones not skipped are to deliver, newly resolved ones to pass on."""
    work = Work()
    for record in records:
        key = record_key(record)
        try:
            change = change_of(record)
            alert = store.get_alert(change.alert.id)
        except (PoisonRecordError, StoreError) as exc:
            logger.error("alert record not deliverable", extra={"record": key, "error": str(exc)})
            work.failures[key] = str(exc)
            continue
        if isinstance(change, AlertChanged):
            logger.info("alert change not delivered", extra={"record": key, "reason": "neither new nor resolved"})
            continue
        if alert is None:
            reason: str | None = "deleted before delivery"
        elif isinstance(change, AlertWritten):
            reason = skip_reason(alert, now, digest)
        elif isinstance(change, AlertReminderDue):
            reason = None if alert.reminder == "due" and alert.status == "open" else f"{alert.status} meanwhile"
        else:
            reason = None if alert.status == "resolved" else f"{alert.status} again"
        if alert is None or reason:
            logger.info("alert not delivered", extra={"record": key, "reason": reason})
            continue
        target = {AlertWritten: work.opened, AlertReminderDue: work.reminded}.get(type(change), work.resolved)
        target.setdefault(alert.id, Due(alert)).keys.append(key)
    return work


def deliver(
    records: Sequence[DynamoDBRecord],
    store: Store,
    open_channels: Callable[[], Sequence[Channel]],
    now: datetime,
    digest: bool = False,
) -> dict[str, str]:
    """Deliver the batch's new alerts on every channel and pass on resolutions; returns why, per failed record key."""
    work = sort_out(records, store, now, digest)
    failures = work.failures
    if not (work.opened or work.resolved or work.reminded):
        return failures
    for channel in open_channels():
        failed = send(channel, list(work.opened.values()), store, now) if work.opened else {}
        if work.resolved and resolver(channel):
            failed.update(send(channel, list(work.resolved.values()), store, now, resolving=True))
        if work.reminded:
            failed.update(send(channel, list(work.reminded.values()), store, now, reminding=True))
        for key, reason in failed.items():
            failures[key] = f"{failures[key]}; {reason}" if key in failures else reason
    reminded_all(store, work.reminded, failures, now)
    return failures


def reminded_all(store: Store, reminded: dict[str, Due], failures: dict[str, str], now: datetime) -> None:
    """Mark the reminders every channel took as sent (a failed one stays due: its record is retried)."""
    for alert_id, item in reminded.items():
        if not any(key in failures for key in item.keys):
            try:
                store.update_alert(alert_id, {"reminder": "sent", "updated_at": now.isoformat()})
            except StoreError as exc:
                logger.error("reminder state not recorded", extra={"alert_id": alert_id, "error": str(exc)})


def as_reminder(alert: Alert, now: datetime) -> Alert:
    """The alert as its reminder reads: marked, and saying how long it has been open without anyone on it."""
    hours = int((now - alert.created_at).total_seconds() // 3600)
    return alert.model_copy(
        update={
            "title": f"[REMINDER] {alert.title}",
            "message": f"Still open and not acknowledged after {hours} h.\n{alert.message}",
        }
    )


def state_key(channel: str, resolving: bool, reminding: bool = False) -> str:
    """Where an alert keeps a channel's state: ``delivery.<channel>``, its resolution's ``<channel>:resolve``, its
    reminder's ``<channel>:reminder``."""
    if reminding:
        return f"{channel}{REMINDER_SUFFIX}"
    return f"{channel}{RESOLVE_SUFFIX}" if resolving else channel


def _wanted(channel: Channel, alert: Alert, resolving: bool, reminding: bool = False) -> bool:
    """Not done yet, and taken by the channel (a resolution or a reminder only where the alert itself was
    delivered)."""
    if _state(alert, state_key(channel.name, resolving, reminding)).status == "delivered":
        return False
    if resolving or reminding:
        return _state(alert, channel.name).status == "delivered"
    return takes(channel, alert)


def send(
    channel: Channel,
    due: Sequence[Due],
    store: Store,
    now: datetime,
    *,
    resolving: bool = False,
    reminding: bool = False,
) -> dict[str, str]:
    """Send what ``channel`` has not done yet and record the outcome on each alert; returns failed keys.

    An alert the channel does not take (``min_severity``, ``kinds``) is left alone: not sent, not failed.
    """
    todo = [item for item in due if _wanted(channel, item.alert, resolving, reminding)]
    closer = resolver(channel)
    if not todo or (resolving and closer is None):
        return {}
    alerts = [as_reminder(item.alert, now) if reminding else item.alert for item in todo]
    results = closer.resolve(alerts) if resolving and closer else channel.send(alerts)
    name = state_key(channel.name, resolving, reminding)
    failures: dict[str, str] = {}
    for item in todo:
        result = results.get(item.alert.id) or Delivery(status="failed", error="not sent")
        state = Delivery(
            status=result.status,
            attempts=_state(item.alert, name).attempts + result.attempts,
            delivered_at=now if result.status == "delivered" else None,
            error=result.error,
        )
        record_state(store, item.alert.id, name, state)
        if state.status != "delivered":
            failures.update(dict.fromkeys(item.keys, f"{name}: {state.error}"))
    logger.info("alerts sent", extra={"channel": name, "alerts": len(todo), "failed_records": len(failures)})
    if failures:
        logger.warning("alerts not delivered", extra={"channel": name, "errors": sorted(set(failures.values()))})
    return failures


def record_state(store: Store, alert_id: str, channel: str, state: Delivery) -> None:
    """Write a channel's delivery state onto the alert."""
    try:
        store.update_alert(alert_id, {f"delivery.{channel}": state.model_dump(mode="json")})
    except StoreError as exc:
        # Not a record failure: after a delivery a retry would post a second time; a failed send fails it anyway.
        logger.error("delivery state not recorded", extra={"alert_id": alert_id, "channel": channel, "error": str(exc)})


def _state(alert: Alert, channel: str) -> Delivery:
    return alert.delivery.get(channel) or Delivery()

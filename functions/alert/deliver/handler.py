"""Deliver Lambda: new alert items from the table's stream (the outbox) go out to Slack and SNS, once each.

Delivery is at-least-once from the stream and deduplicated here: every record's alert is re-read consistently
and a channel that already delivered it is skipped, so a retried batch never posts twice. Alerts that were
acknowledged, resolved or snoozed (until ``snoozed_until``) before their delivery are not sent: someone has
already seen them, and delivery happens once, on creation. A record whose alert any channel failed to take is
reported as a batch item failure, so Lambda retries it (and finally sends it to the on-failure destination)
while the other records of the batch succeed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord, DynamoDBStreamEvent
from spendwatch.domain.alerts import Alert, Delivery
from spendwatch.domain.config import cached_config
from spendwatch.domain.reports import Report
from spendwatch.platform.aws import client
from spendwatch.platform.clock import utc_now
from spendwatch.platform.observability import logger
from spendwatch.platform.secrets import SecretError
from spendwatch.platform.settings import DeliverSettings
from spendwatch.store import Store, StoreError
from spendwatch.store.records import AlertWritten, UnreadableRecordError, decode

from alert.deliver import reports
from alert.deliver.channels import slack
from alert.deliver.channels.sns import SnsChannel

# Every record gets a response entry; a batch whose records all failed is reported the same way, not raised.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


class DeliveryError(RuntimeError):
    """A record whose alert was not delivered on every channel; Lambda retries it."""


class PoisonRecordError(ValueError):
    """A stream record that does not carry an alert."""


class Channel(Protocol):
    """Somewhere alerts go: sends a group of alerts and says, per alert id, what happened."""

    name: str

    def send(self, alerts: Sequence[Alert]) -> dict[str, Delivery]:
        """Deliver ``alerts``; the result for each alert id."""
        ...


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Deliver a batch of new alerts and reports; records that failed are reported so Lambda retries only those.

    Invoked directly with ``{"report_id": ...}`` it delivers that stored report (what ``spendwatch report`` does).
    """
    settings = DeliverSettings.from_env()
    store = Store(client("dynamodb"), settings.table)
    opened = once(lambda: channels(settings))
    if event.get("report_id"):
        return reports.deliver_now(str(event["report_id"]), store, opened, utc_now())
    due_reports, records = reports.split(list(DynamoDBStreamEvent(event).records), record_key)
    failures = deliver(records, store, opened, utc_now())
    failures.update(reports.deliver_reports(due_reports, store, opened, utc_now()))

    def check(record: DynamoDBRecord) -> None:
        if reason := failures.get(record_key(record)):
            raise DeliveryError(reason)

    return dict(process_partial_response(event=event, record_handler=check, processor=processor, context=context))


def channels(settings: DeliverSettings) -> list[Channel]:
    """SNS when a topic is set (always, deployed), and Slack, or the console when no webhook is configured."""
    found: list[Channel] = []
    if settings.topic_arn:
        found.append(SnsChannel(client("sns"), settings.topic_arn))
    webhook = settings.slack_webhook_url.get_secret_value() if settings.slack_webhook_url else None
    try:
        found.append(slack.channel(cached_config(settings.config_path).secrets.slack_webhook_url, webhook))
    except SecretError as exc:
        found.append(Unavailable(slack.CHANNEL, str(exc)))
    return found


def once(open_channels: Callable[[], list[Channel]]) -> Callable[[], list[Channel]]:
    """``open_channels`` called at most once, when first needed (alerts and reports share the channels)."""
    opened: list[list[Channel]] = []

    def get() -> list[Channel]:
        if not opened:
            opened.append(open_channels())
        return opened[0]

    return get


@dataclass
class Unavailable:
    """A channel that cannot be used this time (its secret cannot be read): every alert fails and is retried."""

    name: str
    error: str

    def send(self, alerts: Sequence[Alert]) -> dict[str, Delivery]:
        """Fail every alert with the reason."""
        return {alert.id: Delivery(status="failed", attempts=0, error=self.error) for alert in alerts}

    def send_report(self, report: Report) -> Delivery:
        """Fail the report with the reason."""
        return Delivery(status="failed", attempts=0, error=self.error)


# -- the outbox -----------------------------------------------------------------------------------------
def record_key(record: DynamoDBRecord) -> str:
    """What identifies a record in the batch response: its sequence number."""
    stream = record.dynamodb
    return (stream.sequence_number if stream else None) or record.event_id or ""


def alert_of(record: DynamoDBRecord) -> Alert:
    """The alert in a record's new image; PoisonRecordError when there is none."""
    try:
        change = decode(record.raw_event)
    except UnreadableRecordError as exc:
        raise PoisonRecordError(f"record {record_key(record)} does not hold a valid alert: {exc}") from exc
    if not isinstance(change, AlertWritten):
        raise PoisonRecordError(f"record {record_key(record)} is not an alert item")
    return change.alert


def skip_reason(alert: Alert, now: datetime) -> str | None:
    """Why an alert is not to be delivered now, if it is not."""
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


def deliver(
    records: Sequence[DynamoDBRecord],
    store: Store,
    open_channels: Callable[[], Sequence[Channel]],
    now: datetime,
) -> dict[str, str]:
    """Deliver the batch's alerts on every channel; returns why, for each record key that failed."""
    failures: dict[str, str] = {}
    due: dict[str, Due] = {}
    for record in records:
        key = record_key(record)
        try:
            alert = store.get_alert(alert_of(record).id)
        except (PoisonRecordError, StoreError) as exc:
            logger.error("alert record not deliverable", extra={"record": key, "error": str(exc)})
            failures[key] = str(exc)
            continue
        reason = "deleted before delivery" if alert is None else skip_reason(alert, now)
        if alert is None or reason:
            logger.info("alert not delivered", extra={"record": key, "reason": reason})
            continue
        due.setdefault(alert.id, Due(alert)).keys.append(key)
    if due:
        for channel in open_channels():
            for key, reason in send(channel, list(due.values()), store, now).items():
                failures[key] = f"{failures[key]}; {reason}" if key in failures else reason
    return failures


def send(channel: Channel, due: Sequence[Due], store: Store, now: datetime) -> dict[str, str]:
    """Send what ``channel`` has not delivered yet and record the outcome on each alert; returns failed keys."""
    todo = [item for item in due if _state(item.alert, channel.name).status != "delivered"]
    if not todo:
        return {}
    results = channel.send([item.alert for item in todo])
    failures: dict[str, str] = {}
    for item in todo:
        result = results.get(item.alert.id) or Delivery(status="failed", error="not sent")
        state = Delivery(
            status=result.status,
            attempts=_state(item.alert, channel.name).attempts + result.attempts,
            delivered_at=now if result.status == "delivered" else None,
            error=result.error,
        )
        record_state(store, item.alert.id, channel.name, state)
        if state.status != "delivered":
            failures.update(dict.fromkeys(item.keys, f"{channel.name}: {state.error}"))
    logger.info("alerts sent", extra={"channel": channel.name, "alerts": len(todo), "failed_records": len(failures)})
    if failures:
        logger.warning(
            "alerts not delivered", extra={"channel": channel.name, "errors": sorted(set(failures.values()))}
        )
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

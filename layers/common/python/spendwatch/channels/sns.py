"""SNS delivery: one readable plain-text message per alert, with attributes that subscription filters match."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from spendwatch.channels.render import clip, render_text
from spendwatch.domain.alerts import Alert, Delivery

if TYPE_CHECKING:
    from spendwatch.domain.reports import Report

CHANNEL = "sns"
# SNS: "Subjects must be UTF-8 text with no line breaks or control characters, and less than 100 characters long."
MAX_SUBJECT = 99
PUBLISH_BATCH_LIMIT = 10
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


# -- SNS message parts ----------------------------------------------------------------------------------
def subject(alert: Alert) -> str:
    """The e-mail subject: one line, under SNS's 100-character limit."""
    return clip(_CONTROL.sub(" ", f"[spendwatch] {alert.severity.upper()}: {alert.title}"), MAX_SUBJECT)


def budget_name(alert: Alert) -> str | None:
    """The budget a budget or forecast alert is about: the id in its rule (``budget:<id>``, e.g. ``config-total``)."""
    parts = alert.rule.split(":")
    if alert.kind in ("budget", "forecast") and len(parts) > 1 and parts[0] in ("budget", "forecast"):
        return parts[1] or None
    return None


def attributes(alert: Alert) -> dict[str, dict[str, str]]:
    """String message attributes for filter policies; SNS refuses empty values, so absent ones are left out."""
    provider = alert.scope.get("provider")
    values = {
        "severity": alert.severity,
        "kind": alert.kind,
        "alert_id": alert.id,
        "provider": provider if isinstance(provider, str) else None,
        "budget": budget_name(alert),
    }
    return {name: {"DataType": "String", "StringValue": value} for name, value in values.items() if value}


def entry(entry_id: str, alert: Alert) -> dict[str, Any]:
    """One PublishBatch entry for an alert."""
    return {
        "Id": entry_id,
        "Message": render_text(alert),
        "Subject": subject(alert),
        "MessageAttributes": attributes(alert),
    }


def chunks(alerts: Sequence[Alert], size: int = PUBLISH_BATCH_LIMIT) -> Iterator[Sequence[Alert]]:
    """``alerts`` in runs of at most ``size`` (PublishBatch takes ten entries)."""
    for start in range(0, len(alerts), size):
        yield alerts[start : start + size]


def report_attributes(report: Report) -> dict[str, dict[str, str]]:
    """A report's message attributes: ``kind=report`` (and severity ``info``) for subscription filters."""
    values = {"kind": "report", "severity": "info", "report_kind": report.kind, "report_id": report.id}
    return {name: {"DataType": "String", "StringValue": value} for name, value in values.items()}


# -- the publisher --------------------------------------------------------------------------------------
@dataclass
class SnsChannel:
    """Publishes alerts to a topic; botocore's standard retry mode retries throttling and 5xx first."""

    client: Any
    topic_arn: str
    name: str = CHANNEL

    def send(self, alerts: Sequence[Alert]) -> dict[str, Delivery]:
        """Publish each alert once; the result per alert id says whether SNS accepted it."""
        results: dict[str, Delivery] = {}
        for chunk in chunks(alerts):
            results.update(self._publish(chunk))
        return results

    def _publish(self, chunk: Sequence[Alert]) -> dict[str, Delivery]:
        # Positional ids: PublishBatch ids allow only [A-Za-z0-9_-] and 80 characters, whatever alert ids become.
        by_entry = {f"m{n}": alert for n, alert in enumerate(chunk)}
        try:
            response = self.client.publish_batch(
                TopicArn=self.topic_arn,
                PublishBatchRequestEntries=[entry(entry_id, alert) for entry_id, alert in by_entry.items()],
            )
        except ClientError as exc:
            tries = int(exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)) + 1
            error = f"SNS PublishBatch failed: {exc.response.get('Error', {}).get('Code', 'error')}"
            return {alert.id: Delivery(status="failed", attempts=tries, error=error) for alert in chunk}
        except BotoCoreError as exc:
            error = f"SNS PublishBatch failed: {type(exc).__name__}"
            return {alert.id: Delivery(status="failed", attempts=1, error=error) for alert in chunk}
        tries = int(response.get("ResponseMetadata", {}).get("RetryAttempts", 0)) + 1
        results = {alert.id: Delivery(status="delivered", attempts=tries) for alert in chunk}
        for failed in response.get("Failed", []):
            alert = by_entry[failed["Id"]]
            error = f"SNS refused the message: {failed.get('Code', 'error')}"
            results[alert.id] = Delivery(status="failed", attempts=tries, error=error)
        return results

    def send_report(self, report: Report) -> Delivery:
        """Publish a report as one message (subject and plain-text body for e-mail subscribers)."""
        from spendwatch.channels.report_render import render_text as report_text
        from spendwatch.channels.report_render import subject as report_subject

        try:
            response = self.client.publish(
                TopicArn=self.topic_arn,
                Subject=report_subject(report),
                Message=report_text(report),
                MessageAttributes=report_attributes(report),
            )
        except ClientError as exc:
            tries = int(exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)) + 1
            return Delivery(
                status="failed",
                attempts=tries,
                error=f"SNS Publish failed: {exc.response.get('Error', {}).get('Code', 'error')}",
            )
        except BotoCoreError as exc:
            return Delivery(status="failed", attempts=1, error=f"SNS Publish failed: {type(exc).__name__}")
        return Delivery(
            status="delivered", attempts=int(response.get("ResponseMetadata", {}).get("RetryAttempts", 0)) + 1
        )

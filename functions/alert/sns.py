"""SNS delivery: one readable plain-text message per alert, with attributes that subscription filters match."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from spendwatch.domain.alerts import Alert, Delivery, Driver
from spendwatch.domain.money import format_money

CHANNEL = "sns"
# SNS: "Subjects must be UTF-8 text with no line breaks or control characters, and less than 100 characters long."
MAX_SUBJECT = 99
# Far below SNS's 256 KB message limit, so even multi-byte text can never cross it.
MAX_BODY = 100_000
PUBLISH_BATCH_LIMIT = 10
MAX_DRIVERS = 5
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


# -- plain text, shared with the console printer -------------------------------------------------------
def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def money(amount: Decimal, currency: str | None) -> str:
    """An amount with its currency, e.g. ``400.10 USD``."""
    return f"{format_money(amount)} {currency}" if currency else format_money(amount)


def percent(share: Decimal) -> str:
    """A fraction as a whole percentage (0.8 -> ``80%``)."""
    return f"{(share * 100).quantize(Decimal(1))}%"


def scope_text(scope: dict[str, Any]) -> str:
    """A scope as ``provider=AWS, tag:team=data``; the empty scope is the whole account."""
    parts: list[str] = []
    for key, value in sorted(scope.items()):
        if isinstance(value, dict):
            parts.extend(f"{key}:{inner}={inner_value}" for inner, inner_value in sorted(value.items()))
        else:
            parts.append(f"{key}={value}")
    return ", ".join(parts) or "whole account"


def freshness(data_through: datetime | None) -> str:
    """How fresh the alert's data is, in UTC."""
    if data_through is None:
        return "data freshness unknown"
    moment = data_through if data_through.tzinfo else data_through.replace(tzinfo=UTC)
    return f"data through {moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def amounts(alert: Alert) -> str:
    """Actual, expected and threshold, whichever the alert has, on one line."""
    named = (("actual", alert.actual), ("expected", alert.expected), ("threshold", alert.threshold))
    return " · ".join(f"{name} {money(value, alert.currency)}" for name, value in named if value is not None)


def driver_text(driver: Driver, currency: str | None) -> str:
    """One driver: what it was expected to cost, what it cost, and its share of the change."""
    return (
        f"{driver.dimension} {driver.key}: expected {money(driver.expected, currency)}, "
        f"actual {money(driver.actual, currency)} ({percent(driver.share)} of the change)"
    )


def render_text(alert: Alert) -> str:
    """The alert as a plain-text message (an SNS email body, or what the console prints)."""
    lines = [f"{alert.severity.upper()} {alert.kind} alert: {alert.title}", alert.message, ""]
    lines.append(f"Scope: {scope_text(alert.scope)}")
    lines.append(f"Period: {alert.period}" + (f" (level {alert.level})" if alert.level else ""))
    if summary := amounts(alert):
        lines.append(f"Amounts: {summary}")
    if alert.drivers:
        lines.append("Drivers:")
        lines.extend(f"  - {driver_text(d, alert.currency)}" for d in alert.drivers[:MAX_DRIVERS])
        if len(alert.drivers) > MAX_DRIVERS:
            lines.append(f"  - and {len(alert.drivers) - MAX_DRIVERS} more")
    fresh = freshness(alert.data_through)
    lines.append(fresh[0].upper() + fresh[1:])
    lines.append(f"Alert {alert.id} (rule {alert.rule}, status {alert.status})")
    return clip("\n".join(lines), MAX_BODY)


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

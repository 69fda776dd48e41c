"""PagerDuty through the Events API v2: ``trigger`` when an alert opens, ``resolve`` when it is resolved.

The alert id is the ``dedup_key``, so a trigger sent twice (a retried batch whose state was not recorded) folds
into the same incident, and the resolve closes exactly that incident. The routing key is a secret: it appears
in no log, error or repr.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from time import sleep
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from spendwatch.channels import quiet_httpx
from spendwatch.channels.posting import post_for_delivery
from spendwatch.channels.render import clip, freshness
from spendwatch.domain.alerts import Alert, Delivery, describe_scope
from spendwatch.domain.channels import ChannelConfig
from spendwatch.domain.money import format_money

if TYPE_CHECKING:
    import httpx

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
ENV_ROUTING_KEY = "PAGERDUTY_ROUTING_KEY"
ENV_EVENTS_URL = "PAGERDUTY_EVENTS_URL"
# Events API v2 limits: summary 1024 characters, source and dedup_key 255.
MAX_SUMMARY = 1024
MAX_SOURCE = 255
# Bounded so a batch fits the deliver function's timeout.
MAX_ATTEMPTS = 4
MAX_RETRY_WAIT_SECONDS = 30.0
TIMEOUT_SECONDS = 10.0
# Our severities are PagerDuty's (it also has "error", which we never send).
SEVERITY = {"critical": "critical", "warning": "warning", "info": "info"}

Action = Literal["trigger", "resolve"]


def summary(alert: Alert) -> str:
    """The incident's title: severity and the alert's title."""
    return clip(f"{alert.severity.upper()}: {alert.title}", MAX_SUMMARY)


def custom_details(alert: Alert) -> dict[str, Any]:
    """What the incident shows besides its summary: the message, scope, period, amounts and the alert's id."""
    details: dict[str, Any] = {
        "message": alert.message,
        "kind": alert.kind,
        "rule": alert.rule,
        "scope": describe_scope(alert.scope),
        "period": alert.period,
        "alert_id": alert.id,
        "data": freshness(alert.data_through),
    }
    if alert.level:
        details["level"] = alert.level
    for name in ("actual", "expected", "threshold"):
        value = getattr(alert, name)
        if value is not None:
            details[name] = f"{format_money(value)} {alert.currency or ''}".strip()
    if alert.drivers:
        details["drivers"] = [
            f"{d.dimension} {d.key}: {format_money(d.expected)} -> {format_money(d.actual)}" for d in alert.drivers[:5]
        ]
    return details


def event(routing_key: str, action: Action, alert: Alert) -> dict[str, Any]:
    """One Events API v2 event for ``alert``; a resolve needs only the key, the action and the dedup key."""
    body: dict[str, Any] = {"routing_key": routing_key, "event_action": action, "dedup_key": alert.id}
    if action == "trigger":
        body["payload"] = {
            "summary": summary(alert),
            "source": clip(f"spendwatch: {describe_scope(alert.scope)}", MAX_SOURCE),
            "severity": SEVERITY[alert.severity],
            "timestamp": alert.created_at.isoformat(),
            "component": alert.kind,
            "class": alert.rule,
            "custom_details": custom_details(alert),
        }
        body["client"] = "spendwatch"
    return body


def post(client: httpx.Client, url: str, body: dict[str, Any], pause: Callable[[float], None]) -> Delivery:
    """Send one event: 202 is success, 429 and 5xx are retried with backoff, any other answer is final."""
    return post_for_delivery(
        client,
        url,
        lambda response: None if response.status_code == 202 else _refusal(response),
        what="pagerduty events api",
        pause=pause,
        max_attempts=MAX_ATTEMPTS,
        max_wait=MAX_RETRY_WAIT_SECONDS,
        json=body,
    )


def _refusal(response: httpx.Response) -> str:
    """PagerDuty's reason for refusing an event (its errors describe the event, never the routing key)."""
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    reasons = answer.get("errors") if isinstance(answer, dict) else None
    reason = "; ".join(str(r) for r in reasons[:3]) if isinstance(reasons, list) else ""
    message = answer.get("message", "") if isinstance(answer, dict) else ""
    return clip(f"pagerduty answered HTTP {response.status_code}: {message} {reason}".strip(), 300)


@dataclass
class PagerDutyChannel:
    """Triggers an incident per alert it takes and resolves it when the alert is resolved."""

    config: ChannelConfig
    routing_key: str = field(repr=False)
    url: str = EVENTS_URL
    pause: Callable[[float], None] = sleep
    client: httpx.Client | None = None
    resolves: ClassVar[bool] = True

    @property
    def name(self) -> str:
        """The channel's configured name (its key in an alert's delivery state)."""
        return self.config.name

    def send(self, alerts: Sequence[Alert]) -> dict[str, Delivery]:
        """Trigger an incident for each alert."""
        return self._each("trigger", alerts)

    def resolve(self, alerts: Sequence[Alert]) -> dict[str, Delivery]:
        """Resolve each alert's incident (the same dedup key as its trigger)."""
        return self._each("resolve", alerts)

    def _each(self, action: Action, alerts: Sequence[Alert]) -> dict[str, Delivery]:
        import httpx

        quiet_httpx()
        client = self.client or httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
        try:
            return {a.id: post(client, self.url, event(self.routing_key, action, a), self.pause) for a in alerts}
        finally:
            if self.client is None:
                client.close()


def channel(config: ChannelConfig, routing_key: str, url: str = EVENTS_URL) -> PagerDutyChannel:
    """The channel for a ``[[channels]]`` entry."""
    # ``sleep`` is this module's name, looked up per call, so a test can replace the clock for a whole handler run.
    return PagerDutyChannel(config, routing_key, url, pause=sleep)

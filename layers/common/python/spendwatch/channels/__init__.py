"""Where alerts go: SNS, Slack (or the console), PagerDuty and signed webhooks; e-mail is an SNS subscription.

A channel sends what it is given and says, per alert id, what happened; the deliver function's outbox decides
what is due and records the outcome, the API and ``spendwatch test-alert`` send test alerts through the same
channels (``spendwatch.channels.configured``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from spendwatch.domain.alerts import Alert, Delivery


class Channel(Protocol):
    """Somewhere alerts go: sends a group of alerts and says, per alert id, what happened."""

    @property
    def name(self) -> str:
        """The key of the channel's state in an alert's ``delivery``."""
        ...

    def send(self, alerts: Sequence[Alert]) -> dict[str, Delivery]:
        """Deliver ``alerts``; the result for each alert id."""
        ...


class ResolvingChannel(Channel, Protocol):
    """A channel that is also told when an alert it delivered is resolved (PagerDuty closes the incident)."""

    def resolve(self, alerts: Sequence[Alert]) -> dict[str, Delivery]:
        """Say that ``alerts`` are resolved; the result for each alert id."""
        ...


def takes(channel: Channel, alert: Alert) -> bool:
    """Whether ``channel`` takes ``alert``: a configured channel's ``min_severity`` and ``kinds``, else always."""
    config = getattr(channel, "config", None)
    return config is None or bool(config.accepts(alert.kind, alert.severity))


def resolver(channel: Channel) -> ResolvingChannel | None:
    """The channel, if it is told about resolutions (it says so with ``resolves``)."""
    return channel if getattr(channel, "resolves", False) else None  # type: ignore[return-value]


@dataclass
class Unavailable:
    """A channel that cannot be used this time (its secret cannot be read): every alert fails and is retried."""

    name: str
    error: str
    resolves: bool = False  # as the channel it stands in for

    def send(self, alerts: Sequence[Alert]) -> dict[str, Delivery]:
        """Fail every alert with the reason."""
        return {alert.id: Delivery(status="failed", attempts=0, error=self.error) for alert in alerts}

    def resolve(self, alerts: Sequence[Alert]) -> dict[str, Delivery]:
        """Fail every resolution with the reason (only asked of channels that delivered the alert)."""
        return self.send(alerts)


def quiet_httpx() -> None:
    """httpx logs every request URL at INFO; webhook URLs can carry secrets."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)

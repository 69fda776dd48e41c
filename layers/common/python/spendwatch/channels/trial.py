"""Test alerts: a clearly marked alert sent straight to every channel (never stored), and what each channel said.

``spendwatch test-alert`` and ``POST /v1/alerts/test`` both use :func:`run_trial`. The test alert is critical, so
every channel's ``min_severity`` lets it through, and of kind ``test``, which every e-mail filter policy admits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from spendwatch.channels import Channel
from spendwatch.channels.email import EmailChannel
from spendwatch.channels.sns import CHANNEL as SNS
from spendwatch.domain.alerts import Alert, Delivery
from spendwatch.domain.channels import TEST_KIND
from spendwatch.domain.models import identity_hash

TEST_TITLE = "[TEST] spendwatch test alert"
TEST_MESSAGE = (
    "This is a test alert from spendwatch, sent to check that this channel is set up. "
    "Nothing is wrong and nothing needs doing (in PagerDuty, resolve the test incident)."
)


@dataclass(frozen=True)
class TrialOutcome:
    """What one channel did with the test alert."""

    channel: str
    delivered: bool
    error: str | None = None


def trial_alert(now: datetime) -> Alert:
    """A fresh test alert: its own id (the PagerDuty dedup key) per moment, title starting with ``[TEST]``."""
    return Alert(
        id=identity_hash(["test", now.isoformat()]),
        kind=TEST_KIND,
        severity="critical",
        rule="test",
        period=now.date().isoformat(),
        title=TEST_TITLE,
        message=TEST_MESSAGE,
        created_at=now,
        updated_at=now,
        data_through=now,
    )


def _attempt(channel: Channel, alert: Alert) -> Delivery:
    try:
        result = channel.send([alert]).get(alert.id)
    # One channel's bug must not keep the others from being tried; the type is enough (messages may hold URLs).
    except Exception as exc:
        return Delivery(status="failed", error=f"{channel.name} raised {type(exc).__name__}")
    return result or Delivery(status="failed", error="not sent")


def run_trial(channels: Sequence[Channel], alert: Alert) -> list[TrialOutcome]:
    """Send ``alert`` to every channel in order; e-mail channels fail too when the topic did not take it."""
    outcomes: list[TrialOutcome] = []
    published: Delivery | None = None
    for channel in channels:
        result = _attempt(channel, alert)
        if channel.name == SNS and not isinstance(channel, EmailChannel):
            published = result
        if isinstance(channel, EmailChannel) and published is not None and published.status != "delivered":
            result = Delivery(status="failed", error=f"the alerts topic did not take the test alert: {published.error}")
        outcomes.append(TrialOutcome(channel.name, result.status == "delivered", result.error))
    return outcomes

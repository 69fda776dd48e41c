"""The one place evaluation writes: proposed alerts go in once each, settled ones are resolved."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from spendwatch.domain.alerts import Alert, quieted
from spendwatch.store import Store


@dataclass
class Outcome:
    """What an evaluation did (for logs and tests)."""

    proposed: int = 0
    created: list[Alert] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)
    quieted: int = 0
    # The unresolved alerts stored before this evaluation: read on the first proposal, to quiet new alerts whose
    # rule and scope someone acknowledged or snoozed.
    known: list[Alert] | None = None


def write(store: Store, alerts: Iterable[Alert], outcome: Outcome) -> None:
    """Write each alert unless it exists (re-evaluating the same data never alerts twice), quieted when an
    acknowledged or snoozed alert of its rule and scope says so (``domain.alerts.quieted``)."""
    for alert in alerts:
        outcome.proposed += 1
        if outcome.known is None:
            outcome.known = [known for known in store.alerts() if known.status != "resolved"]
        written = quieted(alert, outcome.known, alert.created_at)
        if store.put_alert_once(written):
            outcome.created.append(written)
            outcome.quieted += written.quieted_by is not None


def resolve(store: Store, alert_ids: Iterable[str], now: datetime, outcome: Outcome) -> None:
    """Mark alerts resolved (each once)."""
    for alert_id in dict.fromkeys(alert_ids):
        if alert_id in outcome.resolved:
            continue
        store.update_alert(alert_id, {"status": "resolved", "updated_at": now.isoformat()})
        outcome.resolved.append(alert_id)


def remind(store: Store, alert_ids: Iterable[str], now: datetime, outcome: Outcome) -> None:
    """Mark reminders due: delivery sees the change on the stream and sends each alert again, once."""
    for alert_id in dict.fromkeys(alert_ids):
        store.update_alert(alert_id, {"reminder": "due", "updated_at": now.isoformat()})
        outcome.reminded.append(alert_id)

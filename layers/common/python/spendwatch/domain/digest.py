"""The daily digest of ``info`` alerts (``[alerts] info = "digest"``): one message a day instead of one each.

A digest covers the 24 hours before its moment (``digest_at``, local time in ``timezone``) and is itself an
alert (kind ``digest``, rule ``digest:info``, period = the local day), so it is written once and goes out
through the same outbox; the info alerts it lists are stored and listed as usual but not sent one by one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from spendwatch.domain.alerts import Alert, describe_scope

DIGEST_RULE = "digest:info"
MAX_LINES = 50


def last_digest_moment(now: datetime, timezone: str, at: time) -> datetime:
    """The most recent digest moment at or before ``now`` (``at`` local time, DST followed)."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    moment = datetime.combine(local.date(), at, tzinfo=zone)
    if moment > local:
        moment = datetime.combine(local.date() - timedelta(days=1), at, tzinfo=zone)
    return moment


def goes_to_digest(alert: Alert) -> bool:
    """Whether a digest carries this alert instead of its own message."""
    return alert.severity == "info" and alert.kind != "digest"


@dataclass(frozen=True)
class Digest:
    """A proposed digest alert: the ``Alert`` fields (see ``fields``)."""

    day: date
    alerts: tuple[Alert, ...]

    def fields(self) -> dict[str, Any]:
        """Keyword arguments for the digest alert."""
        lines = [f"- {a.kind}: {a.title} ({describe_scope(a.scope)}, {a.period})" for a in self.alerts[:MAX_LINES]]
        if len(self.alerts) > MAX_LINES:
            lines.append(f"- and {len(self.alerts) - MAX_LINES} more: GET /v1/alerts?severity=info")
        count = len(self.alerts)
        return {
            "kind": "digest",
            "severity": "info",
            "rule": DIGEST_RULE,
            "scope": {},
            "period": self.day.isoformat(),
            "level": "",
            "title": f"{count} info alert{'s' if count != 1 else ''} in the last day",
            "message": "\n".join(lines),
        }


def daily_digest(alerts: Iterable[Alert], now: datetime, timezone: str, at: time) -> Digest | None:
    """The digest due at ``now``: the info alerts opened in the 24 hours before the last digest moment (None when
    there were none)."""
    moment = last_digest_moment(now, timezone, at)
    start = moment - timedelta(days=1)
    chosen = sorted(
        (a for a in alerts if goes_to_digest(a) and start <= a.created_at < moment),
        key=lambda a: (a.created_at, a.id),
    )
    return Digest(moment.date(), tuple(chosen)) if chosen else None

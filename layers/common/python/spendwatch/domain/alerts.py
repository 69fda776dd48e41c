"""Alerts: one item per (rule, scope, period, level), written once; delivery state kept per channel."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from spendwatch.domain.models import identity_hash

AlertKind = Literal[
    "budget",
    "forecast",
    "spike",
    "first_seen",
    "capacity",
    "utilisation",
    "staleness",
    "collection",
    "digest",
    "test",
]
Severity = Literal["info", "warning", "critical"]
AlertStatus = Literal["open", "acknowledged", "snoozed", "resolved"]
DeliveryStatus = Literal["pending", "delivered", "failed"]
SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


class Driver(BaseModel):
    """What explains an alert: one dimension value with expected vs actual and its share of the change."""

    model_config = ConfigDict(defer_build=True)

    dimension: str
    key: str
    expected: Decimal
    actual: Decimal
    share: Decimal = Field(description="Fraction of the total change this driver explains (0..1, may exceed)")


class Delivery(BaseModel):
    """One channel's delivery state for an alert."""

    model_config = ConfigDict(defer_build=True)

    status: DeliveryStatus = "pending"
    attempts: int = 0
    delivered_at: datetime | None = None
    error: str | None = None


class Alert(BaseModel):
    """An alert as stored and served."""

    model_config = ConfigDict(defer_build=True)

    id: str
    kind: AlertKind
    severity: Severity
    status: AlertStatus = "open"
    rule: str = Field(description="The rule that fired, e.g. budget:total:80%")
    scope: dict[str, Any] = Field(default_factory=dict)
    period: str = Field(description="The period the alert is about: a day, a month, a budget period")
    level: str = Field(default="", description="The threshold or level crossed; escalations add a level")
    title: str
    message: str
    currency: str | None = None
    actual: Decimal | None = None
    expected: Decimal | None = None
    threshold: Decimal | None = None
    drivers: list[Driver] = Field(default_factory=list)
    data_through: datetime | None = None
    created_at: datetime
    updated_at: datetime
    snoozed_until: datetime | None = None
    reminder: Literal["", "due", "sent"] = Field(
        default="",
        description="A critical alert nobody acknowledged is sent again once ([alerts] renotify_after_hours)",
    )
    quieted_by: str | None = Field(
        default=None,
        description="The acknowledged or snoozed alert of the same rule and scope that kept this one quiet",
    )
    delivery: dict[str, Delivery] = Field(default_factory=dict)


# Alerts about a condition that lasts and resolves (a budget crossed, a limit reached, a source failing or stale):
# acknowledging one quiets the next of its rule and scope until it resolves, unless the next is worse. Alerts
# about events (a spike, a first-seen service, a hot day) are news each time: only a snooze quiets them.
QUIETED_WHILE_ACKNOWLEDGED: frozenset[str] = frozenset({"budget", "forecast", "capacity", "collection", "staleness"})


def _worse(alert: Alert, known: Alert) -> bool:
    """Whether ``alert`` says more than ``known``: a higher severity, or a higher threshold (the next level)."""
    if SEVERITY_RANK[alert.severity] > SEVERITY_RANK[known.severity]:
        return True
    return alert.threshold is not None and known.threshold is not None and alert.threshold > known.threshold


def quieting(alert: Alert, others: Iterable[Alert], now: datetime) -> Alert | None:
    """The alert that keeps a new ``alert`` quiet, if any: of the same rule and scope, unresolved, and either
    snoozed with its snooze still running, or acknowledged (for conditions that resolve) and not outdone."""
    for other in others:
        if other.id == alert.id or other.rule != alert.rule or scope_key(other.scope) != scope_key(alert.scope):
            continue
        if other.status == "snoozed" and other.snoozed_until is not None and other.snoozed_until > now:
            return other
        if other.status == "acknowledged" and alert.kind in QUIETED_WHILE_ACKNOWLEDGED and not _worse(alert, other):
            return other
    return None


def quieted(alert: Alert, others: Iterable[Alert], now: datetime) -> Alert:
    """A new alert as it is written: snoozed like (or acknowledged with) the alert that keeps it quiet, so it is
    stored and listed but not delivered; unchanged when nothing does."""
    by = quieting(alert, others, now)
    if by is None:
        return alert
    if by.status == "snoozed":
        return alert.model_copy(update={"status": "snoozed", "snoozed_until": by.snoozed_until, "quieted_by": by.id})
    return alert.model_copy(update={"status": "acknowledged", "quieted_by": by.id})


def reminder_due(alert: Alert, now: datetime, after_hours: int) -> bool:
    """Whether a reminder of ``alert`` is due: critical, open (not acknowledged, resolved or snoozed), delivered
    somewhere, opened ``after_hours`` or more ago, and not reminded of yet (``after_hours`` 0: never)."""
    if after_hours <= 0 or alert.severity != "critical" or alert.reminder:
        return False
    if effective_alert(alert, now).status != "open":
        return False
    delivered = any(state.status == "delivered" for state in alert.delivery.values())
    return delivered and now - alert.created_at >= timedelta(hours=after_hours)


def scope_key(scope: dict[str, Any]) -> str:
    """A canonical text form of a scope (``{}`` is the whole account)."""
    return json.dumps(scope, sort_keys=True, separators=(",", ":"))


def alert_id(rule: str, scope: dict[str, Any], period: str, level: str) -> str:
    """The deterministic id: the same rule, scope, period and level is the same alert, however often it fires."""
    return identity_hash([rule, scope_key(scope), period, level])


def effective_alert(alert: Alert, now: datetime) -> Alert:
    """The alert as it stands at ``now``: a snooze that has run out reads as open again."""
    if alert.status == "snoozed" and alert.snoozed_until and alert.snoozed_until <= now:
        return alert.model_copy(update={"status": "open", "snoozed_until": None})
    return alert


def describe_scope(scope: dict[str, Any]) -> str:
    """A scope in words, as every alert, channel and page shows it: ``provider=AWS, tag:team=data``.

    The empty scope is the whole account.
    """
    parts: list[str] = []
    for key, value in sorted(scope.items()):
        if isinstance(value, dict):
            parts.extend(f"{key}:{inner}={inner_value}" for inner, inner_value in sorted(value.items()))
        else:
            parts.append(f"{key}={value}")
    return ", ".join(parts) or "whole account"

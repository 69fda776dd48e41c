"""The stream-record decoder every consumer uses: a DynamoDB stream record in, what changed (in domain words) out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from spendwatch.domain.alerts import Alert
from spendwatch.domain.runs import CollectionRun
from spendwatch.store.base import from_item
from spendwatch.store.keys import ALERT, BUDGET, DAY_AGGREGATE, ITEM_TYPE, RUN, USAGE, strip_keys


class UnreadableRecordError(ValueError):
    """A stream record that does not hold a valid item of the type it claims."""


@dataclass(frozen=True)
class DayTotalsChanged:
    """A source's daily aggregate was written."""

    source: str
    day: date


@dataclass(frozen=True)
class BudgetChanged:
    """A budget was created or changed over the API."""

    budget_id: str


@dataclass(frozen=True)
class RunRecorded:
    """A collection run was recorded (started or finished)."""

    run: CollectionRun


@dataclass(frozen=True)
class AlertWritten:
    """An alert was written (a new one, on INSERT)."""

    alert: Alert


@dataclass(frozen=True)
class AlertResolved:
    """An alert's status changed to resolved (a MODIFY whose old image was not resolved)."""

    alert: Alert


@dataclass(frozen=True)
class AlertReminderDue:
    """A critical alert's reminder fell due (``reminder`` set to "due"): delivery sends it again, once."""

    alert: Alert


@dataclass(frozen=True)
class AlertChanged:
    """Any other change of an existing alert (acknowledged, snoozed, its delivery state recorded)."""

    alert: Alert


@dataclass(frozen=True)
class UsageChanged:
    """A usage item was written (pushed or collected): which metric, for which day, from which source."""

    source: str
    metric: str
    day: date


@dataclass(frozen=True)
class OtherChange:
    """Any other item: consumers ignore it."""

    item_type: str | None


Change = (
    DayTotalsChanged
    | BudgetChanged
    | RunRecorded
    | AlertWritten
    | AlertResolved
    | AlertReminderDue
    | AlertChanged
    | UsageChanged
    | OtherChange
)
RESOLVED = "resolved"


def new_image(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record's new image as Python values, without the table's own attributes (empty for a removal)."""
    image = record.get("dynamodb", {}).get("NewImage")
    return from_item(image) if image else {}


def _alert_change(record: Mapping[str, Any], alert: Alert) -> Change:
    """A new alert, one that became resolved, or (any other change of an alert) nothing a consumer acts on."""
    event = record.get("eventName", "INSERT")
    if event == "INSERT":
        return AlertWritten(alert)
    old = record.get("dynamodb", {}).get("OldImage") or {}
    if event == "MODIFY" and alert.status == RESOLVED and from_item(old).get("status") != RESOLVED:
        return AlertResolved(alert)
    if event == "MODIFY" and alert.reminder == "due" and from_item(old).get("reminder") != "due":
        return AlertReminderDue(alert)
    return AlertChanged(alert)


def decode(record: Mapping[str, Any]) -> Change:
    """What a Lambda-shaped stream record says changed; UnreadableRecordError when its item is malformed."""
    try:
        image = record.get("dynamodb", {}).get("NewImage") or {}
        item = from_item(image)
        kind = item.get(ITEM_TYPE)
        data = strip_keys(item)
        if kind == DAY_AGGREGATE:
            return DayTotalsChanged(str(data["source"]), date.fromisoformat(data["period"]))
        if kind == BUDGET:
            return BudgetChanged(str(data["id"]))
        if kind == RUN:
            return RunRecorded(CollectionRun.model_validate(data))
        if kind == ALERT:
            return _alert_change(record, Alert.model_validate(data))
        if kind == USAGE:
            return UsageChanged(str(data["x_source"]), str(data["metric"]), date.fromisoformat(data["day"]))
        return OtherChange(kind if isinstance(kind, str) else None)
    # Whatever a malformed image makes the deserializer or a model raise (ValidationError is a ValueError).
    except (ValueError, TypeError, AttributeError, KeyError, ArithmeticError) as exc:
        raise UnreadableRecordError(f"record {record.get('eventID', '?')} is unreadable: {exc}") from exc

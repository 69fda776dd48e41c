"""The stream-record decoder every consumer uses: a DynamoDB stream record in, what changed (in domain words) out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from spendwatch.domain.alerts import Alert
from spendwatch.domain.reports import Report
from spendwatch.domain.runs import CollectionRun
from spendwatch.platform.observability import logger
from spendwatch.store.base import from_item
from spendwatch.store.keys import ALERT, BUDGET, DAY_AGGREGATE, ITEM_TYPE, REPORT, RUN, USAGE, strip_keys


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
class ReportWritten:
    """A report was written (a new one, on INSERT): the outbox of report delivery."""

    report: Report


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
    | ReportWritten
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


_DECODERS: dict[str, Callable[[Mapping[str, Any], dict[str, Any]], Change]] = {
    DAY_AGGREGATE: lambda _, data: DayTotalsChanged(str(data["source"]), date.fromisoformat(data["period"])),
    BUDGET: lambda _, data: BudgetChanged(str(data["id"])),
    RUN: lambda _, data: RunRecorded(CollectionRun.model_validate(data)),
    ALERT: lambda record, data: _alert_change(record, Alert.model_validate(data)),
    REPORT: lambda _, data: ReportWritten(Report.model_validate(data)),
    USAGE: lambda _, data: UsageChanged(str(data["x_source"]), str(data["metric"]), date.fromisoformat(data["day"])),
}


def decode(record: Mapping[str, Any]) -> Change:
    """What a Lambda-shaped stream record says changed; UnreadableRecordError when its item is malformed."""
    try:
        image = record.get("dynamodb", {}).get("NewImage") or {}
        item = from_item(image)
        kind = item.get(ITEM_TYPE)
        decoder = _DECODERS.get(kind) if isinstance(kind, str) else None
        if decoder is None:
            return OtherChange(kind if isinstance(kind, str) else None)
        return decoder(record, strip_keys(item))
    # Whatever a malformed image makes the deserializer or a model raise (ValidationError is a ValueError).
    except (ValueError, TypeError, AttributeError, KeyError, ArithmeticError) as exc:
        raise UnreadableRecordError(f"record {record.get('eventID', '?')} is unreadable: {exc}") from exc


def readable(records: Iterable[Mapping[str, Any]]) -> Iterator[Change]:
    """Each record's change, in order; a record that cannot be read is logged (with its event id) and skipped, so
    one malformed item never holds up the batch."""
    for record in records:
        try:
            yield decode(record)
        except UnreadableRecordError:
            logger.exception("unreadable stream record", extra={"event_id": record.get("eventID")})

"""Alerts: one item per alert id in one partition (alerts are few: one per rule, scope, period and level)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from spendwatch.domain.alerts import Alert
from spendwatch.domain.audit import AuditEntry
from spendwatch.store.audit import audit_put
from spendwatch.store.base import Table, attribute_value, conditional, set_expression, to_item
from spendwatch.store.keys import ALERT, ALERTS_PK, ITEM_TYPE, PK, SK, TTL, strip_keys

ALERT_RETENTION = timedelta(days=400)


def alert_record(alert: Alert) -> dict[str, Any]:
    """The stored form of an alert (money stays Decimal: DynamoDB numbers are exact)."""
    record = alert.model_dump(mode="json")
    for name in ("actual", "expected", "threshold"):
        value = getattr(alert, name)
        if value is not None:
            record[name] = value
    record["drivers"] = [driver.model_dump(mode="python") for driver in alert.drivers]
    record.update({PK: ALERTS_PK, SK: alert.id, ITEM_TYPE: ALERT})
    record[TTL] = int((alert.created_at + ALERT_RETENTION).timestamp())
    return record


def alert_from_record(record: dict[str, Any]) -> Alert:
    """Inverse of :func:`alert_record`."""
    return Alert.model_validate(strip_keys(record))


class AlertStore(Table):
    """The alert outbox and its state."""

    def put_alert_once(self, alert: Alert) -> bool:
        """Write a new alert unless one with its id exists; True when this call created it."""
        return self._put_new(to_item(alert_record(alert)))

    def get_alert(self, alert_id: str) -> Alert | None:
        """One alert by id, read consistently."""
        record = self._get(ALERTS_PK, alert_id, consistent=True)
        return alert_from_record(record) if record else None

    def alerts(self) -> list[Alert]:
        """Every stored alert."""
        return [alert_from_record(record) for record in self.query(ALERTS_PK)]

    def update_alert(self, alert_id: str, changes: dict[str, Any]) -> None:
        """Set top-level attributes of an existing alert (status, snooze, delivery.<channel>...)."""
        self._set(ALERTS_PK, alert_id, changes)

    def change_alert(self, alert_id: str, changes: dict[str, Any], read_status: str, entry: AuditEntry) -> bool:
        """Set attributes of an alert and write the change's audit entry, in one transaction, while the alert still
        has the status it was read with; False, nothing written, when it is gone or its status changed."""
        expression, names, values = set_expression(changes)
        update = {
            "Key": to_item({PK: ALERTS_PK, SK: alert_id}),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        condition = "attribute_exists(#pk) AND #read_status = :read_status"
        read = {":read_status": attribute_value(read_status)}
        change = conditional("Update", update, condition, {"#pk": PK, "#read_status": "status"}, read)
        return self._write_together([change, audit_put(entry)])

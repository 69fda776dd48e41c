"""The audit log: every entry in one partition, sort key = its time-ordered id, kept 400 days.

An entry is never written on its own: each family that the API changes writes the change and its entry in one
``TransactWriteItems`` (``audit_put`` is the entry's half), so a change without its entry cannot happen.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from spendwatch.domain.audit import AuditEntry, AuditTarget
from spendwatch.store.base import Table, conditional, to_item
from spendwatch.store.keys import AUDIT, AUDIT_PK, ITEM_TYPE, PK, SK, TTL

AUDIT_RETENTION = timedelta(days=400)


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def audit_record(entry: AuditEntry) -> dict[str, Any]:
    """The stored form: the resource before and after as JSON text (exactly as the API showed it)."""
    return {
        PK: AUDIT_PK,
        SK: entry.id,
        ITEM_TYPE: AUDIT,
        TTL: int((entry.at + AUDIT_RETENTION).timestamp()),
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "target": {"type": entry.target.type, "id": entry.target.id},
        "before": _json(entry.before),
        "after": _json(entry.after),
    }


def audit_from_record(record: dict[str, Any]) -> AuditEntry:
    """Inverse of :func:`audit_record`."""
    before, after = record.get("before"), record.get("after")
    return AuditEntry(
        id=str(record["id"]),
        at=datetime.fromisoformat(record["at"]),
        actor=str(record["actor"]),
        action=record["action"],
        target=AuditTarget(type=record["target"]["type"], id=str(record["target"]["id"])),
        before=json.loads(before) if before is not None else None,
        after=json.loads(after) if after is not None else None,
    )


def audit_put(entry: AuditEntry) -> dict[str, Any]:
    """The entry's action in a write transaction (never over an existing entry)."""
    return conditional("Put", {"Item": to_item(audit_record(entry))}, "attribute_not_exists(#pk)", {"#pk": PK})


class AuditStore(Table):
    """Reading the audit log (entries are written with the changes they record, by each family)."""

    def audit_entries(self, limit: int, next_token: str | None = None) -> tuple[list[AuditEntry], str | None]:
        """Audit entries, newest first, one page at a time."""
        records, token = self._newest_first(AUDIT_PK, limit, next_token)
        return [audit_from_record(record) for record in records], token

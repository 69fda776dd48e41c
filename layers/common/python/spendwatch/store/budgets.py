"""Budgets created over the API: one item per budget id in one partition (budgets are few); every change is
written together with its audit entry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from spendwatch.domain.audit import AuditEntry
from spendwatch.domain.budgets import StoredBudget
from spendwatch.domain.config import Budget
from spendwatch.store.audit import audit_put
from spendwatch.store.base import Table, attribute_value, conditional, to_item
from spendwatch.store.keys import BUDGET, BUDGETS_PK, ITEM_TYPE, PK, SK


def budget_record(stored: StoredBudget) -> dict[str, Any]:
    """The stored form of an API budget."""
    data = stored.budget.model_dump(mode="python")
    data.update(
        {
            PK: BUDGETS_PK,
            SK: stored.id,
            ITEM_TYPE: BUDGET,
            "id": stored.id,
            "created_at": stored.created_at.isoformat() if stored.created_at else None,
            "updated_at": stored.updated_at.isoformat() if stored.updated_at else None,
        }
    )
    return data


def budget_from_record(record: dict[str, Any]) -> StoredBudget:
    """Inverse of :func:`budget_record`."""
    fields = {k: record[k] for k in ("name", "amount", "period", "currency", "scope", "thresholds") if k in record}
    created, updated = record.get("created_at"), record.get("updated_at")
    return StoredBudget(
        id=record["id"],
        budget=Budget.model_validate(fields),
        origin="api",
        created_at=datetime.fromisoformat(created) if created else None,
        updated_at=datetime.fromisoformat(updated) if updated else None,
    )


def _unchanged_since(updated_at: datetime | None) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The condition that a stored budget still is the one read: there, with the ``updated_at`` it had."""
    names = {"#pk": PK, "#updated": "updated_at"}
    if updated_at is None:
        return "attribute_exists(#pk) AND attribute_not_exists(#updated)", names, {}
    return "attribute_exists(#pk) AND #updated = :updated", names, {":updated": attribute_value(updated_at.isoformat())}


class BudgetStore(Table):
    """The API's budgets. Every change is written with its audit entry, in one transaction."""

    def budgets(self) -> list[StoredBudget]:
        """Every budget created over the API."""
        return [budget_from_record(record) for record in self.query(BUDGETS_PK)]

    def get_budget(self, budget_id: str) -> StoredBudget | None:
        """One API budget by id, read consistently (before a change)."""
        record = self._get(BUDGETS_PK, budget_id, consistent=True)
        return budget_from_record(record) if record else None

    def create_budget(self, stored: StoredBudget, entry: AuditEntry) -> bool:
        """Create an API budget and its audit entry; False, nothing written, when a budget has its id already."""
        put = conditional("Put", {"Item": to_item(budget_record(stored))}, "attribute_not_exists(#pk)", {"#pk": PK})
        return self._write_together([put, audit_put(entry)])

    def replace_budget(self, stored: StoredBudget, read_updated_at: datetime | None, entry: AuditEntry) -> bool:
        """Replace an API budget, with its audit entry, while it is still as read (its ``updated_at`` then was
        ``read_updated_at``); False, nothing written, when it changed or is gone."""
        put = conditional("Put", {"Item": to_item(budget_record(stored))}, *_unchanged_since(read_updated_at))
        return self._write_together([put, audit_put(entry)])

    def delete_budget(self, budget_id: str, read_updated_at: datetime | None, entry: AuditEntry) -> bool:
        """Delete an API budget, with its audit entry, while it is still as read; False, nothing written, when it
        changed or is gone."""
        key = {"Key": to_item({PK: BUDGETS_PK, SK: budget_id})}
        return self._write_together([conditional("Delete", key, *_unchanged_since(read_updated_at)), audit_put(entry)])

"""Budgets created over the API: one item per budget id in one partition (budgets are few)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from spendwatch.domain.budgets import StoredBudget
from spendwatch.domain.config import Budget
from spendwatch.store.base import Table
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


class BudgetStore(Table):
    """The API's budgets."""

    def budgets(self) -> list[StoredBudget]:
        """Every budget created over the API."""
        return [budget_from_record(record) for record in self.query(BUDGETS_PK)]

    def put_budget(self, stored: StoredBudget) -> None:
        """Create or replace an API budget."""
        self.put(budget_record(stored))

    def delete_budget(self, budget_id: str) -> bool:
        """Delete an API budget; False when there was none."""
        return self._delete(BUDGETS_PK, budget_id)

"""``Store``: every item family in one object, answering in domain words (``spendwatch.store`` exports it)."""

from __future__ import annotations

from spendwatch.store.aggregates import AggregateStore
from spendwatch.store.alerts import AlertStore
from spendwatch.store.audit import AuditStore
from spendwatch.store.budgets import BudgetStore
from spendwatch.store.costs import ChargeStore
from spendwatch.store.inventory import InventoryStore
from spendwatch.store.recommendations import RecommendationStore
from spendwatch.store.runs import RunStore


class Store(
    ChargeStore, AggregateStore, AlertStore, BudgetStore, RunStore, InventoryStore, RecommendationStore, AuditStore
):
    """Everything the functions ask of the table, in domain words."""

"""The single-table DynamoDB store: the only package that knows keys, item types and the stream's shape.

One module per item family (charges and usage, aggregates, alerts, budgets, runs and reports, inventories,
recommendations, the audit log), the key
schema (``keys``), the table and stream definitions (``table``) and the stream-record decoder (``records``). Every
access pattern is documented in docs/data-model.md.
"""

from __future__ import annotations

from spendwatch.store.aggregates import AggregateStore
from spendwatch.store.alerts import AlertStore
from spendwatch.store.audit import AuditStore
from spendwatch.store.base import StoreError
from spendwatch.store.budgets import BudgetStore
from spendwatch.store.costs import ChargeStore
from spendwatch.store.inventory import InventoryStore
from spendwatch.store.keys import InvalidTokenError
from spendwatch.store.recommendations import RecommendationStore
from spendwatch.store.runs import RunStore


class Store(
    ChargeStore, AggregateStore, AlertStore, BudgetStore, RunStore, InventoryStore, RecommendationStore, AuditStore
):
    """Everything the functions ask of the table, in domain words."""


__all__ = ["InvalidTokenError", "Store", "StoreError"]

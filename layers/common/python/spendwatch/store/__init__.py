"""The single-table DynamoDB store: the only package that knows keys, item types and the stream's shape.

One module per item family (charges and usage, aggregates, alerts, budgets, runs and reports, inventories,
recommendations, the audit log), the key
schema (``keys``), the table and stream definitions (``table``) and the stream-record decoder (``records``). Every
access pattern is documented in docs/data-model.md. ``Store`` (``facade``) joins the families.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spendwatch.store.base import StoreError
    from spendwatch.store.facade import Store
    from spendwatch.store.keys import InvalidTokenError

# Where each name lives: imported on first use, so importing ``spendwatch.store.base`` (for ``StoreError``) or one
# family does not build every family's domain models on a cold start.
_HOMES = {"InvalidTokenError": "keys", "Store": "facade", "StoreError": "base"}

__all__ = ["InvalidTokenError", "Store", "StoreError"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)

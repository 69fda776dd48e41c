"""A collection sink that writes to memory, for collector tests that need no table."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from spendwatch.domain.models import CostItem, UsageItem
from spendwatch.store.writer import CostWriter, UsageWriter

from collect.sources.base import Sink


class MemoryStore:
    """Just enough of the store for the writers: batches land in a list (the only calls a collection makes)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def batch_put(self, records: Iterable[dict[str, Any]]) -> int:
        batch = list(records)
        self.records.extend(batch)
        return len(batch)

    def put_usage_records(self, records: list[dict[str, Any]]) -> int:
        """Usage batches land in the same list (the month's metric list is the real store's business)."""
        return self.batch_put(records)


class RecordingSink(Sink):
    """The real sink (real counts) that also keeps the cost and usage items it accepted."""

    def __init__(self, source: str) -> None:
        super().__init__(CostWriter(MemoryStore(), source), UsageWriter(MemoryStore()))  # type: ignore[arg-type]
        self.items: list[CostItem] = []
        self.used: list[UsageItem] = []

    def cost(self, item: CostItem) -> None:
        self.items.append(item)
        super().cost(item)

    def use(self, item: UsageItem, *, derived: bool = False) -> None:
        self.used.append(item)
        super().use(item, derived=derived)

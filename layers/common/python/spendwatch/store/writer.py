"""Streaming cost writer: batches items to the store as they arrive and keeps daily totals on the side."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from spendwatch.domain.aggregates import PeriodTotals
from spendwatch.domain.models import CostItem, UsageItem
from spendwatch.store import Store
from spendwatch.store.base import BATCH_SIZE
from spendwatch.store.costs import cost_record, usage_record


@dataclass
class CostWriter:
    """Write one source's cost items; :meth:`commit_totals` then replaces that source's daily aggregates.

    Two rows with the same identity in one run are both real charges (providers do emit them), so the
    second gets an occurrence number instead of overwriting the first: no money is lost, and the same
    input still produces the same keys next time.
    """

    store: Store
    source: str
    written: int = 0
    days: dict[str, PeriodTotals] = field(default_factory=dict)
    _seen: dict[str, int] = field(default_factory=dict)
    _buffer: list[dict[str, Any]] = field(default_factory=list)

    def add(self, item: CostItem) -> None:
        """Queue one item; a full batch is written straight away."""
        if item.x_source != self.source:
            raise ValueError(f"item of source {item.x_source!r} given to the writer of {self.source!r}")
        base = item.identity
        occurrence = self._seen.get(base, -1) + 1
        self._seen[base] = occurrence
        if occurrence:
            item = item.model_copy(update={"x_occurrence": occurrence})
        self._buffer.append(cost_record(item))
        self.days.setdefault(item.day.isoformat(), PeriodTotals()).add(item)
        if len(self._buffer) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        """Write whatever is queued."""
        if self._buffer:
            self.written += self.store.batch_put(self._buffer)
            self._buffer = []

    def claim(self, start: date, end: date) -> None:
        """Mark every day in [start, end] as read in full, so a day with no charges left replaces old totals."""
        day = start
        while day <= end:
            self.days.setdefault(day.isoformat(), PeriodTotals())
            day += timedelta(days=1)

    def commit_totals(self) -> None:
        """Flush, then make this run's days the source's authoritative daily and monthly totals."""
        self.flush()
        if self.days:
            self.store.replace_day_totals(self.source, self.days)


@dataclass
class UsageWriter:
    """Write usage items in batches; the same quantity re-collected overwrites itself."""

    store: Store
    written: int = 0
    _buffer: list[dict[str, Any]] = field(default_factory=list)

    def add(self, item: UsageItem) -> None:
        """Queue one item; a full batch is written straight away."""
        self._buffer.append(usage_record(item))
        if len(self._buffer) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        """Write whatever is queued."""
        if self._buffer:
            self.written += self.store.put_usage_records(self._buffer)
            self._buffer = []

"""What the domain asks of storage, in its own words: small protocols the store meets and tests can fake."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from spendwatch.domain.aggregates import PeriodTotals
    from spendwatch.domain.budgets import StoredBudget
    from spendwatch.domain.models import UsageItem


class DailyTotals(Protocol):
    """The daily and monthly aggregates."""

    def day_totals(self, start: date, end: date, with_cells: bool = False) -> Iterator[tuple[str, str, PeriodTotals]]:
        """(source, day, totals) for every stored day in [start, end]."""
        ...

    def month_totals(self, year: str) -> Iterator[tuple[str, str, PeriodTotals]]:
        """(source, month, totals) for every stored month of a year."""
        ...

    def day_sums(self, start: date, end: date) -> Iterator[tuple[str, str, dict[str, Decimal]]]:
        """(source, day, total per currency) for every stored day in [start, end]: totals without breakdowns."""
        ...


class Charges(DailyTotals, Protocol):
    """The aggregates and the charges behind them."""

    def charges(self, source: str, day: str) -> Iterator[dict[str, Any]]:
        """Every stored charge of one source on one day."""
        ...

    def charges_in_order(
        self, partitions: Sequence[tuple[str, str]], next_token: str | None = None
    ) -> Iterator[tuple[dict[str, Any], Callable[[], str]]]:
        """The charges of (source, day) partitions in order, each with a call giving the token that resumes after it."""
        ...


class Budgets(Protocol):
    """The budgets created over the API."""

    def budgets(self) -> list[StoredBudget]:
        """Every stored budget."""
        ...


class Usage(Protocol):
    """Pushed and collected usage."""

    def usage(self, start: date, end: date, metrics: Collection[str] | None = None) -> Iterator[dict[str, Any]]:
        """Usage records of days [start, end] of ``metrics`` (default: every metric), every source's."""
        ...

    def claim_once(self, key: str, fingerprint: str, ttl: timedelta) -> str | None:
        """Claim ``key`` for ``fingerprint``; the fingerprint it already had, else None."""
        ...

    def usage_items(self, start: date, end: date, metrics: Collection[str]) -> Iterator[UsageItem]:
        """The usage items of ``metrics`` on days [start, end], every source's."""
        ...

    def put_usage(self, items: Iterable[UsageItem]) -> int:
        """Store usage items; returns how many were written."""
        ...


class ChargesAndUsage(Charges, Usage, Protocol):
    """A store answering about both costs and usage (unit costs divide one by the other)."""

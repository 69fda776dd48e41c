"""What every collector gets and gives: a request describing the run, a sink for what it reads."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from spendwatch.domain.config import Config, Source
from spendwatch.domain.inventory import Inventory
from spendwatch.domain.models import CostItem, UsageItem
from spendwatch.store.writer import CostWriter, UsageWriter


class SourceError(RuntimeError):
    """The provider failed in a way that ends this run (auth, network after retries, a malformed answer).

    The message says what was collected before the failure and what is missing.
    """


class RequestCounter:
    """Counts provider API calls (each one may cost money or rate-limit budget)."""

    def __init__(self) -> None:
        self.count = 0

    def hit(self, n: int = 1) -> None:
        """Count ``n`` calls."""
        self.count += n

    @contextmanager
    def counting(self, boto_client: Any) -> Iterator[None]:
        """Count every call ``boto_client`` makes inside the block (clients are shared, so detach after)."""
        if boto_client is None:
            yield
            return
        # First, so calls answered by botocore's Stubber (which returns early) are counted too.
        boto_client.meta.events.register_first("before-call.*.*", self._on_call)
        try:
            yield
        finally:
            boto_client.meta.events.unregister("before-call.*.*", self._on_call)

    def _on_call(self, **_: Any) -> None:
        self.count += 1


@dataclass
class Sink:
    """Where a collector puts cost items, usage items and rejections; it keeps the run's counts."""

    costs: CostWriter
    usage: UsageWriter
    collected_at: datetime | None = None
    read: int = 0
    rejected: int = 0
    first_rejection: str | None = None
    data_through: datetime | None = None
    # The resources a collector listed (kinds read in full only); the run stores it after the collector returns.
    inventory: Inventory | None = None
    # What a person should know about the run that is not a rejection (e.g. a resource listed without a price).
    notes: list[str] = field(default_factory=list)

    def cost(self, item: CostItem) -> None:
        """Accept one cost item."""
        self.read += 1
        self.costs.add(item)
        self._fresh(item.ChargePeriodEnd)

    def use(self, item: UsageItem, *, derived: bool = False) -> None:
        """Accept one usage item; ``derived`` usage is summed from records already counted as read."""
        if not derived:
            self.read += 1
        self.usage.add(item)

    def reject(self, where: str, reason: str) -> None:
        """Count one record that could not be used, remembering the first."""
        self.read += 1
        self.rejected += 1
        if self.first_rejection is None:
            self.first_rejection = f"{where}: {reason}"

    def _fresh(self, through: datetime) -> None:
        # Today's charges end at midnight, but the data is only as fresh as the moment it was read.
        if self.collected_at is not None:
            through = min(through, self.collected_at)
        if self.data_through is None or through > self.data_through:
            self.data_through = through


def _overrides_only(_env_name: str, _secret_name: str) -> str | None:
    """The default secret reader: replaced in ``__post_init__`` by a lookup in the request's ``env``."""
    return None


@dataclass
class CollectRequest:
    """One run's inputs. ``start``/``end`` are inclusive days; None means the source's default window."""

    source: Source
    config: Config
    sink: Sink
    requests: RequestCounter
    collected_at: datetime
    start: date | None = None
    end: date | None = None
    # The provider overrides from the function's settings (``CollectSettings.provider_environment()``).
    env: Mapping[str, str] = field(default_factory=dict)
    secret: Callable[[str, str], str | None] = _overrides_only

    def __post_init__(self) -> None:
        if self.secret is _overrides_only:
            env = self.env
            self.secret = lambda env_name, _secret_name: env.get(env_name) or None


@dataclass(frozen=True)
class Coverage:
    """The days a collector read completely: their totals are replaced by what this run wrote."""

    start: date | None
    end: date | None


Collector = Callable[[CollectRequest], Coverage]


def days_to_read(request: CollectRequest) -> tuple[date, date] | None:
    """The requested days, else the trailing ``lookback_days`` up to today; never days after today."""
    today = request.collected_at.astimezone(UTC).date()
    first = request.start or today - timedelta(days=request.source.lookback_days - 1)
    last = min(request.end or today, today)
    return (first, last) if first <= last else None


def chunks(first: date, last: date, size: int) -> Iterator[tuple[date, date]]:
    """Consecutive inclusive day ranges of at most ``size`` days covering ``first``..``last``."""
    start = first
    while start <= last:
        end = min(start + timedelta(days=size - 1), last)
        yield start, end
        start = end + timedelta(days=1)

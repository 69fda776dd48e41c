"""Re-price what a batch of usage changes touched: every (card, tenant, period) of the cards whose metric changed.

Each touched month's usage of the cards' metrics is read once (one query per metric: every source's usage of a
metric, pushed or collected, shares its partitions), grouped per card, tenant and period, and priced whole with
the card's formulas. A day is written (its charges, then its daily aggregate, which evaluation reads) only when
its charges differ from what is stored: the aggregate keeps a digest of the charges behind it, so pricing the
same usage again writes nothing. Charges of a card removed from the config are kept; the run record says the
card is gone.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from spendwatch.domain.aggregates import PeriodTotals
from spendwatch.domain.config import Config
from spendwatch.domain.models import CostItem, UsageItem
from spendwatch.domain.plans import RateCard
from spendwatch.domain.pricing import SOURCE_PREFIX, group_usage, period_bounds, price_card, price_source
from spendwatch.domain.usage import PUSH_SOURCE
from spendwatch.store import Store
from spendwatch.store.records import UsageChanged


@dataclass
class Outcome:
    """What one batch did."""

    changes: int = 0
    unpriced_metrics: set[str] = field(default_factory=set)
    priced_days: int = 0
    days_written: int = 0
    items_written: int = 0
    first_day: date | None = None
    last_day: date | None = None
    notes: list[str] = field(default_factory=list)

    def saw(self, day: date) -> None:
        """Widen the window of days the batch touched."""
        self.first_day = day if self.first_day is None else min(self.first_day, day)
        self.last_day = day if self.last_day is None else max(self.last_day, day)


def fingerprint(items: Iterable[CostItem]) -> str:
    """A digest of a day's priced charges: what they are and what they cost (not when the usage arrived)."""
    digest = hashlib.sha256()
    for item in sorted(items, key=lambda i: i.identity):
        parts = (item.identity, item.BilledCost, item.ConsumedQuantity, item.ConsumedUnit, item.x_usage_service)
        digest.update("|".join(str(part) for part in parts).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def touched_periods(cards: Sequence[RateCard], changes: Iterable[UsageChanged]) -> dict[str, set[date]]:
    """Per card name, the first days of the periods whose usage changed."""
    periods: dict[str, set[date]] = defaultdict(set)
    for change in changes:
        for card in cards:
            if card.metric == change.metric:
                periods[card.name].add(period_bounds(card.period, change.day)[0])
    return periods


def every_period(config: Config, start: date, end: date) -> list[UsageChanged]:
    """Changes that make :func:`reprice` price every card's periods touching [start, end] (after a card changed)."""
    changes = []
    for card in config.rate_cards:
        day = start
        while day <= end:
            changes.append(UsageChanged(PUSH_SOURCE, card.metric, day))
            day = period_bounds(card.period, day)[1] + timedelta(days=1)
    return changes


def reprice(store: Store, config: Config, changes: Sequence[UsageChanged]) -> Outcome:
    """Price every (card, tenant, period) the changes touched; write the days whose charges changed."""
    outcome = Outcome(changes=len(changes))
    cards = config.rate_cards
    metrics = {card.metric for card in cards}
    outcome.unpriced_metrics = {c.metric for c in changes if c.metric not in metrics}
    priced = [c for c in changes if c.metric in metrics]
    periods = touched_periods(cards, priced)
    priced_months = {c.day.isoformat()[:7] for c in priced}
    for month in sorted({c.day.isoformat()[:7] for c in changes}):
        stored = store.day_fingerprints(month, SOURCE_PREFIX)
        gone = {source for source, _day in stored} - {price_source(card) for card in cards}
        outcome.notes += [note for note in map(_removed, sorted(gone)) if note not in outcome.notes]
        if month in priced_months:
            first = date.fromisoformat(f"{month}-01")
            usage = list(store.usage_items(first, period_bounds("month", first)[1], metrics))
            _price_month(store, config, usage, (periods, stored), outcome)
    return outcome


def _price_month(
    store: Store,
    config: Config,
    usage: list[UsageItem],
    touched: tuple[dict[str, set[date]], dict[tuple[str, str], str | None]],
    outcome: Outcome,
) -> None:
    """Price the touched periods of one month and write the days whose charges differ from the stored ones."""
    periods, stored = touched
    by_name = {card.name: card for card in config.rate_cards}
    days: dict[tuple[str, str], list[CostItem]] = defaultdict(list)
    for key, usage_days in group_usage(config.rate_cards, usage).items():
        if key.period_start not in periods.get(key.card, set()):
            continue
        for item in price_card(by_name[key.card], key.tenant, usage_days, config.currency):
            days[(item.x_source, item.day.isoformat())].append(item)
            outcome.saw(item.day)
    changed: dict[str, dict[str, list[CostItem]]] = defaultdict(dict)
    for (source, day), items in sorted(days.items()):
        outcome.priced_days += 1
        if stored.get((source, day)) != fingerprint(items):
            changed[source][day] = items
    for source, source_days in changed.items():
        outcome.items_written += store.put_charges(item for items in source_days.values() for item in items)
        totals = {day: _totals(items) for day, items in source_days.items()}
        store.replace_day_totals(source, totals, {day: fingerprint(items) for day, items in source_days.items()})
        outcome.days_written += len(source_days)


def _totals(items: Iterable[CostItem]) -> PeriodTotals:
    totals = PeriodTotals()
    for item in items:
        totals.add(item)
    return totals


def _removed(source: str) -> str:
    name = source.removeprefix(SOURCE_PREFIX)
    return (
        f"rate card {name!r} is no longer in the config: its usage is not priced any more "
        "(charges it priced before are kept)"
    )

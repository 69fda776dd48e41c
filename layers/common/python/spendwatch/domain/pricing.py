"""Rate cards applied to usage: the graduated price F, the level and sum bases, and the priced cost items.

With F the graduated price of a period's quantity (the first ``free`` units cost nothing, then each tier's
price per unit, tier bounds counted from zero):

- ``basis = "sum"``: Q(d) is the period-to-date sum through day d and day d costs F(Q(d)) - F(Q(d-1));
- ``basis = "level"``: day d costs F(q(d)) / (days in the period).

Amounts are exact and quantised to 10 decimal places with banker's rounding. A sum-basis day costs
round(F(Q(d))) - round(F(Q(d-1))), so the days of a period add up to exactly round(F(total)) (each day is
within one quantum of its unrounded share). A day without records has no quantity and no charge.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, Inexact, InvalidOperation, Overflow, localcontext
from fractions import Fraction

from spendwatch.domain.models import CostItem, UsageItem
from spendwatch.domain.money import ZERO
from spendwatch.domain.plans import PricingPeriod, RateCard

PLACES = 10
SOURCE_PREFIX = "price:"
# Wide enough for any product and sum of 30-digit quantities and prices; anything inexact would raise.
_EXACT = Context(prec=200, rounding=ROUND_HALF_EVEN, traps=[Inexact, InvalidOperation, Overflow])
_ONE_DAY = timedelta(days=1)
_EARLIEST = datetime.min.replace(tzinfo=UTC)


def graduated_price(card: RateCard, quantity: Decimal) -> Decimal:
    """F(q), exact: the price of a period's quantity under the card's free allowance and tiers."""
    with localcontext(_EXACT):
        total = ZERO
        lower = ZERO
        for tier in card.tiers:
            upper = quantity if tier.up_to is None else min(quantity, tier.up_to)
            start = max(lower, card.free)
            if upper > start:
                total += (upper - start) * tier.price
            if tier.up_to is None or quantity <= tier.up_to:
                break
            lower = tier.up_to
        return total


def marginal_price(card: RateCard, quantity: Decimal) -> Decimal:
    """What one more unit costs in a period already at ``quantity``: 0 inside the free allowance, else the price
    of the tier the next unit falls in (F's slope just above ``quantity``)."""
    if quantity < card.free:
        return ZERO
    return next(tier.price for tier in card.tiers if tier.up_to is None or quantity < tier.up_to)


def quantise(value: Decimal | Fraction) -> Decimal:
    """Round exactly to 10 decimal places, half to even (no intermediate rounding, whatever the magnitude)."""
    units = round(Fraction(value) * 10**PLACES)
    return Decimal(f"{units}E-{PLACES}")


def period_bounds(period: PricingPeriod, day: date) -> tuple[date, date]:
    """The first and last day of the pricing period (UTC day or calendar month) holding ``day``."""
    if period == "day":
        return day, day
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


def days_in_period(period: PricingPeriod, day: date) -> int:
    """How many days the period holding ``day`` has (1, or 28 to 31)."""
    first, last = period_bounds(period, day)
    return (last - first).days + 1


def price_days(card: RateCard, quantities: Mapping[date, Decimal]) -> dict[date, Decimal]:
    """The amount of each day that has a quantity, for one card and tenant; days may span several periods."""
    periods: dict[date, list[date]] = defaultdict(list)
    for day in sorted(quantities):
        periods[period_bounds(card.period, day)[0]].append(day)
    amounts: dict[date, Decimal] = {}
    for first, days in periods.items():
        if card.basis == "level":
            length = days_in_period(card.period, first)
            amounts.update({d: quantise(Fraction(graduated_price(card, quantities[d])) / length) for d in days})
            continue
        running, priced = ZERO, quantise(ZERO)
        with localcontext(_EXACT):
            for day in days:
                running += quantities[day]
                through = quantise(graduated_price(card, running))
                amounts[day], priced = through - priced, through
    return amounts


def days_to_reprice(card: RateCard, changed: date, days_with_usage: Iterable[date]) -> list[date]:
    """Which days' charges change when ``changed``'s usage does: with ``sum``, that day and the later days of
    its period that have usage; with ``level``, that day alone (a level day depends on nothing else)."""
    days = set(days_with_usage)
    if card.basis == "level":
        return [changed] if changed in days else []
    last = period_bounds(card.period, changed)[1]
    return sorted(day for day in days if changed <= day <= last)


def price_source(card: RateCard) -> str:
    """The ``x_source`` of the charges a card prices."""
    return f"{SOURCE_PREFIX}{card.name}"


@dataclass(frozen=True)
class DayUsage:
    """One day's usage for a card and tenant: the summed quantity and what the records said about it.

    ``unit`` and ``service`` are the records' distinct non-empty values, sorted and joined with ``","``
    (usually a single value); ``collected_at`` is the latest record's.
    """

    quantity: Decimal
    unit: str
    service: str
    collected_at: datetime


@dataclass(frozen=True)
class PricingKey:
    """What is priced together: a card, a tenant (``""`` for pooled cards) and the first day of a period."""

    card: str
    tenant: str
    period_start: date


def card_covers(card: RateCard, item: UsageItem) -> bool:
    """Whether a card prices a usage item: the metric matches exactly and the item is in the card's scope."""
    return item.metric == card.metric and card.scope.matches(item.x_tenant, item.ServiceName)


@dataclass
class _Day:
    quantity: Decimal = ZERO
    units: set[str] = field(default_factory=set)
    services: set[str] = field(default_factory=set)
    collected_at: datetime = _EARLIEST

    def add(self, item: UsageItem) -> None:
        with localcontext(_EXACT):
            self.quantity += item.quantity
        self.units.add(item.unit)
        if item.ServiceName:
            self.services.add(item.ServiceName)
        self.collected_at = max(self.collected_at, item.x_collected_at)

    def freeze(self) -> DayUsage:
        units, services = ",".join(sorted(self.units)), ",".join(sorted(self.services))
        return DayUsage(quantity=self.quantity, unit=units, service=services, collected_at=self.collected_at)


def group_usage(cards: Sequence[RateCard], items: Iterable[UsageItem]) -> dict[PricingKey, dict[date, DayUsage]]:
    """Usage items summed per (card, tenant, period) and day; items no card covers are left out."""
    days: dict[tuple[str, str, date], _Day] = defaultdict(_Day)
    by_name = {card.name: card for card in cards}
    for item in items:
        for card in cards:
            if card_covers(card, item):
                days[(card.name, item.x_tenant if card.per_tenant else "", item.day)].add(item)
    grouped: dict[PricingKey, dict[date, DayUsage]] = defaultdict(dict)
    for (name, tenant, day), usage in sorted(days.items()):
        first = period_bounds(by_name[name].period, day)[0]
        grouped[PricingKey(name, tenant, first)][day] = usage.freeze()
    return dict(grouped)


def priced_item(
    card: RateCard, tenant: str, day: date, usage: DayUsage, amount: Decimal, currency: str, collected_at: datetime
) -> CostItem:
    """The cost item of one (card, tenant, day); its identity does not depend on the amount or the usage."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return CostItem(
        ProviderName=card.provider,
        ServiceName=card.service,
        ChargeCategory="Usage",
        ChargePeriodStart=start,
        ChargePeriodEnd=start + _ONE_DAY,
        BilledCost=amount,
        EffectiveCost=amount,
        ListCost=amount,
        BillingCurrency=currency,
        ConsumedQuantity=usage.quantity,
        ConsumedUnit=usage.unit,
        x_source=price_source(card),
        x_collected_at=collected_at,
        x_tenant=tenant,
        x_rate_card=card.name,
        x_usage_service=usage.service,
    )


def price_card(card: RateCard, tenant: str, days: Mapping[date, DayUsage], currency: str) -> list[CostItem]:
    """The cost items of one card and tenant for the given days (whole periods, or every day of a period
    before the last one given, for ``sum``), in day order.

    ``x_collected_at`` is the latest collection of the usage the amount depends on (for ``sum``, the
    period's days through that day), so pricing the same usage again gives identical items.
    """
    amounts = price_days(card, {day: usage.quantity for day, usage in days.items()})
    items: list[CostItem] = []
    latest: dict[date, datetime] = {}
    for day in sorted(days):
        stamp = days[day].collected_at
        if card.basis == "sum":
            first = period_bounds(card.period, day)[0]
            stamp = max(stamp, latest.get(first, stamp))
            latest[first] = stamp
        items.append(priced_item(card, tenant, day, days[day], amounts[day], currency, stamp))
    return items


def price_usage(cards: Sequence[RateCard], items: Iterable[UsageItem], currency: str) -> list[CostItem]:
    """Every charge the cards make of the usage items (each period's usage should be complete)."""
    by_name = {card.name: card for card in cards}
    priced: list[CostItem] = []
    for key, days in group_usage(cards, items).items():
        priced += price_card(by_name[key.card], key.tenant, days, currency)
    return priced

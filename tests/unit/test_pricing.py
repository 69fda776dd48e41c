"""Rate-card pricing against the contract's formulas, recomputed here independently (tier walks, unit by unit)."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from spendwatch.domain.models import CostItem, UsageItem, identity_hash
from spendwatch.domain.plans import RateCard
from spendwatch.domain.pricing import (
    days_in_period,
    days_to_reprice,
    graduated_price,
    group_usage,
    period_bounds,
    price_days,
    price_usage,
)

COLLECTED = datetime(2024, 6, 1, 12, tzinfo=UTC)
QUANTUM = Fraction(1, 10**10)
props = settings(deadline=None, max_examples=80)

# ---- the reference: written from the contract's words, sharing nothing with the module under test ----


def marginal_price(card: RateCard, unit_at: Fraction) -> Fraction:
    """The price of the unit at position ``unit_at`` (counted from zero): free first, then its tier's price."""
    if unit_at < Fraction(card.free):
        return Fraction(0)
    for tier in card.tiers:
        if tier.up_to is None or unit_at < Fraction(tier.up_to):
            return Fraction(tier.price)
    raise AssertionError("the last tier is open")


def reference_price(card: RateCard, quantity: Fraction) -> Fraction:
    """F(q) by integrating the marginal price between breakpoints (priced at each piece's midpoint)."""
    points = {Fraction(0), quantity, Fraction(card.free)} | {Fraction(t.up_to) for t in card.tiers if t.up_to}
    cuts = sorted(p for p in points if 0 <= p <= quantity)
    return sum(((b - a) * marginal_price(card, (a + b) / 2) for a, b in pairwise(cuts)), Fraction(0))


def unit_by_unit(card: RateCard, quantity: int) -> Fraction:
    """F(q) for whole units and whole bounds: add up each unit's price."""
    return sum((marginal_price(card, Fraction(k)) for k in range(quantity)), Fraction(0))


def bankers(value: Fraction) -> Fraction:
    """Round to 10 places, ties to the even neighbour, by hand."""
    scaled = value / QUANTUM
    low = math.floor(scaled)
    rest = scaled - low
    up = rest > Fraction(1, 2) or (rest == Fraction(1, 2) and low % 2 == 1)
    return (low + 1 if up else low) * QUANTUM


def month_length(day: date) -> int:
    """Days in the calendar month holding ``day`` (from the first of the next month)."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return (following - first).days


def reference_days(card: RateCard, quantities: dict[date, Fraction]) -> dict[date, Fraction]:
    """Each day's amount by the contract's formulas (sum: rounded period-to-date differences)."""
    by_period: dict[tuple[int, int, int], list[date]] = defaultdict(list)
    for day in sorted(quantities):
        by_period[(day.year, day.month, day.day if card.period == "day" else 0)].append(day)
    out: dict[date, Fraction] = {}
    for days in by_period.values():
        length = 1 if card.period == "day" else month_length(days[0])
        before = Fraction(0)
        for day in days:
            if card.basis == "level":
                out[day] = bankers(reference_price(card, quantities[day]) / length)
            else:
                through = before + quantities[day]
                out[day] = bankers(reference_price(card, through)) - bankers(reference_price(card, before))
                before = through
    return out


# ---- strategies ----

quantities = st.decimals(min_value=0, max_value=5000, places=3, allow_nan=False, allow_infinity=False)
prices = st.decimals(min_value=0, max_value=10, places=4, allow_nan=False, allow_infinity=False)
bounds = st.lists(st.decimals(min_value=1, max_value=3000, places=2), max_size=4, unique=True).map(sorted)


@st.composite
def cards(
    draw: st.DrawFn, basis: str | None = None, period: str | None = None, per_tenant: bool | None = None
) -> RateCard:
    """A valid rate card: 1-5 tiers, an allowance that may reach past the first bounds."""
    ups = draw(bounds)
    tiers = [{"up_to": str(u), "price": str(draw(prices))} for u in ups] + [{"price": str(draw(prices))}]
    return RateCard.model_validate(
        {
            "name": "card",
            "metric": "m",
            "provider": "P",
            "service": "S",
            "basis": basis or draw(st.sampled_from(["level", "sum"])),
            "period": period or draw(st.sampled_from(["day", "month"])),
            "free": str(draw(st.decimals(min_value=0, max_value=1500, places=1))),
            "tiers": tiers,
            "per_tenant": draw(st.booleans()) if per_tenant is None else per_tenant,
        }
    )


# Days over 2023-2024: 28-, 29-, 30- and 31-day months and a leap February.
days = st.dates(min_value=date(2023, 1, 1), max_value=date(2024, 12, 31))
daily = st.dictionaries(days, quantities, min_size=1, max_size=25)


def month_days(year: int, month: int) -> st.SearchStrategy[dict[date, Decimal]]:
    """Quantities on some days of one month."""
    first = date(year, month, 1)
    in_month = st.integers(0, month_length(first) - 1).map(lambda n: first + timedelta(days=n))
    return st.dictionaries(in_month, quantities, min_size=1, max_size=31)


def usage(
    metric: str, day: date, quantity: Decimal, tenant: str = "", service: str = "", unit: str = "GB"
) -> UsageItem:
    """A usage record."""
    return UsageItem(
        metric=metric,
        quantity=quantity,
        unit=unit,
        day=day,
        x_tenant=tenant,
        ServiceName=service,
        x_source="api",
        x_collected_at=COLLECTED,
        x_event=f"{tenant}{day}{quantity}{service}",
    )


def simple_card(**overrides: object) -> RateCard:
    """The contract's storage card, with overrides."""
    data: dict[str, object] = {
        "name": "storage",
        "metric": "storage_gb",
        "provider": "CHOM",
        "service": "Object storage",
        "basis": "level",
        "free": "50",
        "tiers": [{"up_to": "1000", "price": "0.15"}, {"price": "0.10"}],
    }
    return RateCard.model_validate(data | overrides)


# ---- F ----


@props
@given(cards(), quantities)
def test_graduated_price_is_the_tier_walk(card: RateCard, quantity: Decimal) -> None:
    assert Fraction(graduated_price(card, quantity)) == reference_price(card, Fraction(quantity))


@props
@given(cards(), st.integers(0, 2500))
def test_graduated_price_is_the_sum_of_each_units_price(card: RateCard, quantity: int) -> None:
    whole = card.model_copy(update={"free": Decimal(math.floor(card.free))})
    whole = whole.model_copy(
        update={"tiers": [t.model_copy(update={"up_to": t.up_to and Decimal(math.ceil(t.up_to))}) for t in card.tiers]}
    )
    assume(all(a.up_to != b.up_to for a, b in pairwise(whole.tiers)))  # rounding up may merge two bounds
    assert Fraction(graduated_price(whole, Decimal(quantity))) == unit_by_unit(whole, quantity)


@props
@given(cards(), quantities, quantities)
def test_free_allowance_and_monotonicity(card: RateCard, a: Decimal, b: Decimal) -> None:
    low, high = sorted((a, b))
    assert graduated_price(card, low) <= graduated_price(card, high)
    assert graduated_price(card, min(low, card.free)) == 0


def test_contract_example_by_hand() -> None:
    card = simple_card()
    assert graduated_price(card, Decimal(50)) == 0
    assert graduated_price(card, Decimal(1000)) == Decimal("142.50")  # 950 x 0.15
    assert graduated_price(card, Decimal(1200)) == Decimal("162.50")  # + 200 x 0.10


def test_allowance_beyond_the_first_bound_skips_into_later_tiers() -> None:
    card = simple_card(free="1500")
    assert graduated_price(card, Decimal(2000)) == Decimal("50.0")  # 500 x 0.10, the first tier entirely free


def test_thirty_digit_quantities_stay_exact() -> None:
    card = simple_card(tiers=[{"price": "0.123456789012345"}], free="0")
    quantity = Decimal("123456789012345.123456789012345")
    assert Fraction(graduated_price(card, quantity)) == Fraction(quantity) * Fraction("0.123456789012345")


# ---- bases, periods, quantisation ----


@props
@given(cards(), daily)
def test_days_match_the_formulas(card: RateCard, quantities_by_day: dict[date, Decimal]) -> None:
    amounts = price_days(card, quantities_by_day)
    expected = reference_days(card, {d: Fraction(q) for d, q in quantities_by_day.items()})
    assert set(amounts) == set(quantities_by_day)
    assert {d: Fraction(a) for d, a in amounts.items()} == expected
    assert all(a.as_tuple().exponent == -10 for a in amounts.values())


@props
@given(cards(basis="sum", period="month"), st.sampled_from([(2023, 2), (2024, 2), (2024, 4), (2024, 1)]), st.data())
def test_a_sum_periods_days_add_up_to_f_of_its_total(
    card: RateCard, month: tuple[int, int], data: st.DataObject
) -> None:
    quantities_by_day = data.draw(month_days(*month))
    amounts = price_days(card, quantities_by_day)
    total = sum(quantities_by_day.values(), Decimal(0))
    assert Fraction(sum(amounts.values(), Decimal(0))) == bankers(reference_price(card, Fraction(total)))
    before = Decimal(0)
    for day in sorted(quantities_by_day):  # each day within a quantum of its unrounded difference
        through = before + quantities_by_day[day]
        exact = reference_price(card, Fraction(through)) - reference_price(card, Fraction(before))
        assert abs(Fraction(amounts[day]) - exact) <= QUANTUM
        before = through


@props
@given(cards(basis="level", period="month"), st.sampled_from([(2023, 2), (2024, 2), (2024, 4), (2024, 12)]), st.data())
def test_level_days_divide_by_the_months_length(card: RateCard, month: tuple[int, int], data: st.DataObject) -> None:
    quantities_by_day = data.draw(month_days(*month))
    length = month_length(date(*month, 1))
    for day, amount in price_days(card, quantities_by_day).items():
        assert Fraction(amount) == bankers(reference_price(card, Fraction(quantities_by_day[day])) / length)


@props
@given(cards(basis="sum"), daily)
def test_sum_allowance_resets_each_period(card: RateCard, quantities_by_day: dict[date, Decimal]) -> None:
    amounts = price_days(card, quantities_by_day)
    totals: dict[date, Decimal] = defaultdict(Decimal)
    spent: dict[date, Decimal] = defaultdict(Decimal)
    for day, quantity in quantities_by_day.items():
        first = period_bounds(card.period, day)[0]
        totals[first] += quantity
        spent[first] += amounts[day]
    for first, total in totals.items():
        assert Fraction(spent[first]) == bankers(reference_price(card, Fraction(total)))


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        ("0.00000000015", "0.0000000002"),
        ("0.00000000025", "0.0000000002"),
        ("0.00000000005", "0"),
        ("0.00000000035", "0.0000000004"),
    ],
)
def test_quantisation_is_bankers_rounding_at_ten_places(price: str, expected: str) -> None:
    card = simple_card(free="0", period="day", tiers=[{"price": price}])
    assert price_days(card, {date(2024, 1, 1): Decimal(1)}) == {date(2024, 1, 1): Decimal(expected)}


@pytest.mark.parametrize(
    ("day", "first", "last", "length"),
    [
        (date(2023, 2, 14), date(2023, 2, 1), date(2023, 2, 28), 28),
        (date(2024, 2, 29), date(2024, 2, 1), date(2024, 2, 29), 29),
        (date(2024, 4, 1), date(2024, 4, 1), date(2024, 4, 30), 30),
        (date(2024, 12, 31), date(2024, 12, 1), date(2024, 12, 31), 31),
    ],
)
def test_month_bounds(day: date, first: date, last: date, length: int) -> None:
    assert period_bounds("month", day) == (first, last)
    assert days_in_period("month", day) == length
    assert period_bounds("day", day) == (day, day) and days_in_period("day", day) == 1


def test_days_to_reprice() -> None:
    usage_days = [date(2024, 1, d) for d in (3, 5, 9, 31)] + [date(2024, 2, 1)]
    summed = simple_card(basis="sum")
    assert days_to_reprice(summed, date(2024, 1, 5), usage_days) == [
        date(2024, 1, 5),
        date(2024, 1, 9),
        date(2024, 1, 31),
    ]
    assert days_to_reprice(summed, date(2024, 1, 4), usage_days) == [
        date(2024, 1, 5),
        date(2024, 1, 9),
        date(2024, 1, 31),
    ]
    assert days_to_reprice(summed.model_copy(update={"period": "day"}), date(2024, 1, 5), usage_days) == [
        date(2024, 1, 5)
    ]
    assert days_to_reprice(simple_card(), date(2024, 1, 5), usage_days) == [date(2024, 1, 5)]
    assert days_to_reprice(simple_card(), date(2024, 1, 4), usage_days) == []


# ---- usage in, cost items out ----

records = st.lists(
    st.tuples(st.sampled_from(["acme", "globex", ""]), days, quantities, st.sampled_from(["", "eu", "us"])),
    min_size=1,
    max_size=30,
)


@props
@given(cards(), records)
def test_per_tenant_and_pooled_cards_price_the_right_groups(
    card: RateCard, rows: list[tuple[str, date, Decimal, str]]
) -> None:
    items = [usage("m", day, q, tenant, service) for tenant, day, q, service in rows]
    items.append(usage("other-metric", rows[0][1], Decimal(7), rows[0][0]))  # no card names it: unpriced
    groups: dict[str, dict[date, Fraction]] = defaultdict(lambda: defaultdict(Fraction))
    for tenant, day, q, _ in rows:
        groups[tenant if card.per_tenant else ""][day] += Fraction(q)
    expected = {(t, d): a for t, qs in groups.items() for d, a in reference_days(card, dict(qs)).items()}
    priced = price_usage([card], items, "EUR")
    assert {(i.x_tenant, i.day): Fraction(i.BilledCost) for i in priced} == expected
    for item in priced:
        assert item.ConsumedQuantity == sum(
            Decimal(q) for t, d, q, _ in rows if d == item.day and (t == item.x_tenant or not card.per_tenant)
        )
        assert (item.EffectiveCost, item.ListCost, item.BillingCurrency) == (item.BilledCost, item.BilledCost, "EUR")
    assert len({i.identity for i in priced}) == len(priced)


@props
@given(cards(), records, st.randoms())
def test_repricing_the_same_usage_gives_the_same_items(
    card: RateCard, rows: list[tuple[str, date, Decimal, str]], rnd: random.Random
) -> None:
    items = [usage("m", day, q, tenant, service) for tenant, day, q, service in rows]
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert price_usage([card], items, "USD") == price_usage([card], shuffled, "USD")


@props
@given(cards(), records)
def test_identity_does_not_depend_on_the_amount(card: RateCard, rows: list[tuple[str, date, Decimal, str]]) -> None:
    first = price_usage([card], [usage("m", d, q, t, s) for t, d, q, s in rows], "USD")
    more = price_usage([card], [usage("m", d, q * 3 + 1, t, "zz") for t, d, q, s in rows], "USD")
    assert sorted(i.identity for i in first) == sorted(i.identity for i in more)


def test_priced_item_shape() -> None:
    card = simple_card(basis="sum", period="month", free="0", tiers=[{"price": "2"}])
    items = [
        usage("storage_gb", date(2024, 3, 2), Decimal("1.5"), "acme", "eu-bucket"),
        usage("storage_gb", date(2024, 3, 2), Decimal("2"), "acme", "us-bucket"),
        usage("storage_gb", date(2024, 3, 2), Decimal("1"), "acme"),
    ]
    (item,) = price_usage([card], items, "USD")
    assert item == CostItem(
        ProviderName="CHOM",
        ServiceName="Object storage",
        ChargeCategory="Usage",
        ChargePeriodStart=datetime(2024, 3, 2, tzinfo=UTC),
        ChargePeriodEnd=datetime(2024, 3, 3, tzinfo=UTC),
        BilledCost=Decimal("9"),
        EffectiveCost=Decimal("9"),
        ListCost=Decimal("9"),
        BillingCurrency="USD",
        ConsumedQuantity=Decimal("4.5"),
        ConsumedUnit="GB",
        x_source="price:storage",
        x_collected_at=COLLECTED,
        x_tenant="acme",
        x_rate_card="storage",
        x_usage_service="eu-bucket,us-bucket",
    )


def test_scope_filters_the_usage_a_card_prices() -> None:
    eu = simple_card(
        name="eu", basis="sum", free="0", tiers=[{"price": "1"}], scope={"service": "eu"}, per_tenant=False
    )
    acme = simple_card(
        name="acme", basis="sum", free="0", tiers=[{"price": "10"}], scope={"tenant": "acme", "service": "us"}
    )
    day = date(2024, 5, 5)
    items = [usage("storage_gb", day, Decimal(1), t, s) for t in ("acme", "globex") for s in ("eu", "us", "")]
    priced = {
        (i.x_rate_card, i.x_tenant): (i.BilledCost, i.x_usage_service) for i in price_usage([eu, acme], items, "USD")
    }
    assert priced == {("eu", ""): (Decimal(2), "eu"), ("acme", "acme"): (Decimal(10), "us")}


def test_a_later_collection_of_earlier_usage_stamps_the_sum_days_after_it() -> None:
    card = simple_card(basis="sum")
    early = usage("storage_gb", date(2024, 1, 2), Decimal(60))
    late = usage("storage_gb", date(2024, 1, 1), Decimal(60)).model_copy(
        update={"x_collected_at": COLLECTED + timedelta(hours=1)}
    )
    stamps = [i.x_collected_at for i in price_usage([card], [early, late], "USD")]
    assert stamps == [COLLECTED + timedelta(hours=1)] * 2
    level = [i.x_collected_at for i in price_usage([simple_card()], [early, late], "USD")]
    assert level == [COLLECTED + timedelta(hours=1), COLLECTED]


def test_grouping_sums_a_days_records_per_card_tenant_and_period() -> None:
    card = simple_card(period="day")
    items = [usage("storage_gb", date(2024, 1, 1), Decimal(q), "acme", unit=u) for q, u in ((1, "GB"), (2, "GiB"))]
    grouped = group_usage([card], items)
    ((key, by_day),) = grouped.items()
    assert (key.card, key.tenant, key.period_start) == ("storage", "acme", date(2024, 1, 1))
    assert by_day[date(2024, 1, 1)].quantity == 3 and by_day[date(2024, 1, 1)].unit == "GB,GiB"


def test_identities_of_charges_without_a_card_are_unchanged() -> None:
    item = CostItem(
        ProviderName="AWS",
        ServiceName="Amazon S3",
        ChargePeriodStart=datetime(2024, 1, 1, tzinfo=UTC),
        ChargePeriodEnd=datetime(2024, 1, 2, tzinfo=UTC),
        BilledCost=Decimal(1),
        BillingCurrency="USD",
        x_source="aws",
        x_collected_at=COLLECTED,
        x_tenant="acme",
    )
    fields = ["AWS", "", "", "Amazon S3", "", "", "", "", "Usage", "", "", "", ""]
    parts = ["aws", "2024-01-01T00:00:00+00:00", "2024-01-02T00:00:00+00:00", *fields, "{}"]
    assert item.identity == identity_hash(parts)

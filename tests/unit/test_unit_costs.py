"""Unit costs (cost over quantity, pooled or per tenant) and allocation of a shared cost over tenants by usage."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st
from spendwatch.domain.plans import UnitCost
from spendwatch.domain.unit_costs import UnitCostRow, allocate, split, unit_costs

D = Decimal
QUANTUM = Fraction(1, 10**10)
props = settings(deadline=None, max_examples=120)


def per_order(per_tenant: bool = True) -> UnitCost:
    return UnitCost(name="cost-per-order", scope={"provider": "AWS"}, metric="orders", per_tenant=per_tenant)


def ten_places(value: Fraction) -> Decimal:
    """Round half to even at 10 places (Python's round of a Fraction is half-even)."""
    return D(round(value * 10**10)) / D(10**10)


# ---- unit costs ----


def test_pooled_unit_cost_is_all_cost_over_all_quantity() -> None:
    rows = unit_costs(per_order(False), {"acme": D("12.50"), "": D("7.50")}, {"acme": D(300), "globex": D(100)}, "USD")
    assert rows == [
        UnitCostRow(
            name="cost-per-order", tenant="", cost=D("20.00"), quantity=D(400), unit_cost=D("0.05"), currency="USD"
        )
    ]


def test_per_tenant_rows_cover_every_tenant_with_cost_or_quantity() -> None:
    costs = {"acme": D("10"), "globex": D("5.00"), "initech": D("0"), "": D("1.25")}
    quantities = {"acme": D(3), "umbrella": D(40), "initech": D(0)}
    rows = unit_costs(per_order(), costs, quantities, "EUR")
    assert [(r.tenant, r.cost, r.quantity, r.unit_cost) for r in rows] == [
        ("", D("1.25"), D(0), None),
        ("acme", D("10"), D(3), D("3.3333333333")),
        ("globex", D("5.00"), D(0), None),
        ("umbrella", D(0), D(40), D(0)),
    ]
    assert {r.currency for r in rows} == {"EUR"} and {r.name for r in rows} == {"cost-per-order"}


def test_nothing_pooled_is_one_empty_row() -> None:
    assert unit_costs(per_order(False), {}, {}, "USD") == [
        UnitCostRow(name="cost-per-order", tenant="", cost=D(0), quantity=D(0), unit_cost=None, currency="USD")
    ]
    assert unit_costs(per_order(), {}, {}, "USD") == []


amounts = st.decimals(min_value=0, max_value=10**9, places=4)
positive = st.decimals(min_value=D("0.001"), max_value=10**9, places=3)


@props
@given(cost=amounts, quantity=positive)
def test_unit_cost_is_the_exact_ratio_rounded_half_even_at_ten_places(cost: Decimal, quantity: Decimal) -> None:
    (row,) = unit_costs(per_order(False), {"acme": cost}, {"acme": quantity}, "USD")
    assert row.unit_cost == ten_places(Fraction(cost) / Fraction(quantity))
    assert abs(Fraction(row.unit_cost) - Fraction(cost) / Fraction(quantity)) <= QUANTUM / 2


# ---- allocation ----


def test_a_third_each_with_the_odd_quantum_to_the_first_name() -> None:
    parts = split(D("10.00"), {"c": D(1), "b": D(1), "a": D(1)})
    assert parts == {"a": D("3.3333333334"), "b": D("3.3333333333"), "c": D("3.3333333333")}
    assert sum(parts.values()) == D("10.00")


def test_shares_follow_the_days_quantities() -> None:
    day1, day2, day3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)
    shared = {day1: D("90"), day2: D("7.00"), day3: D("4.20")}
    quantities = {
        day1: {"acme": D(2), "globex": D(1)},
        day2: {"acme": D(0), "globex": D(5), "initech": D(-1)},  # no usage, and a correction, take no part
        date(2026, 3, 4): {"acme": D(9)},  # usage on a day without shared cost allocates nothing
    }
    assert allocate(shared, quantities) == {
        day1: {"acme": D("60"), "globex": D("30")},
        day2: {"globex": D("7.00")},
        day3: {"": D("4.20")},  # no usage that day: unallocated
    }


def test_a_cost_finer_than_the_quantum_keeps_its_own_places() -> None:
    parts = split(D("0.000000000001"), {"a": D(1), "b": D(1)})
    assert sum(parts.values()) == D("0.000000000001")
    assert sorted(parts.values()) == [D(0), D("0.000000000001")]


def test_a_credit_is_split_too() -> None:
    parts = split(D("-10.00"), {"a": D(1), "b": D(2)})
    assert sum(parts.values()) == D("-10.00")
    assert parts == {"a": D("-3.3333333333"), "b": D("-6.6666666667")}  # each the nearest quantum here


tenants = st.sampled_from(["acme", "globex", "initech", "umbrella", "hooli", "", "zeta"])
weights = st.dictionaries(tenants, st.decimals(min_value=0, max_value=10**6, places=3), max_size=6)


@props
@given(cost=st.decimals(min_value=0, max_value=10**9, places=6), shares=weights)
def test_parts_add_up_exactly_are_proportional_and_never_negative(cost: Decimal, shares: dict[str, Decimal]) -> None:
    parts = split(cost, shares)
    assert sum(parts.values(), D(0)) == cost
    total = sum((Fraction(w) for w in shares.values() if w > 0), Fraction(0))
    if total == 0:
        assert parts == {"": cost}
        return
    assert set(parts) == {t for t, w in shares.items() if w > 0}
    for tenant, part in parts.items():
        assert part >= 0
        assert abs(Fraction(part) - Fraction(cost) * Fraction(shares[tenant]) / total) < QUANTUM
        assert Fraction(part) % QUANTUM == 0


@props
@given(
    days=st.dictionaries(
        st.integers(min_value=0, max_value=60).map(lambda n: date(2026, 1, 1) + timedelta(days=n)),
        st.tuples(st.decimals(min_value=0, max_value=10**7, places=10), weights),
        max_size=10,
    )
)
def test_every_days_allocation_adds_up_to_that_days_cost(days: dict[date, tuple[Decimal, dict[str, Decimal]]]) -> None:
    shared = {day: cost for day, (cost, _) in days.items()}
    quantities = {day: shares for day, (_, shares) in days.items()}
    allocated = allocate(shared, quantities)
    assert list(allocated) == sorted(shared)
    for day, parts in allocated.items():
        assert sum(parts.values(), D(0)) == shared[day]
        assert all(part >= 0 for part in parts.values())

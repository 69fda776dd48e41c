"""Money stays exact: parsing, rounding and formatting."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from spendwatch.domain.money import MoneyError, format_money, parse_amount, to_cents

amounts = st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=11, allow_nan=False)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3.11", Decimal("3.11")),
        ("$3.11", Decimal("3.11")),
        ("-$3.11", Decimal("-3.11")),
        ("1,234.50", Decimal("1234.50")),
        ("0.00000080000", Decimal("0.00000080000")),
        (0.1, Decimal("0.1")),
        (7, Decimal(7)),
    ],
)
def test_parse_amount_is_exact(raw: object, expected: Decimal) -> None:
    assert parse_amount(raw) == expected
    assert isinstance(parse_amount(raw), Decimal)


@pytest.mark.parametrize("raw", ["", "abc", "NaN", "Infinity", None, True, [1]])
def test_parse_amount_rejects_non_amounts(raw: object) -> None:
    with pytest.raises(MoneyError):
        parse_amount(raw)


@given(amounts)
def test_format_is_two_decimals_and_round_trips_to_cents(amount: Decimal) -> None:
    text = format_money(amount)
    assert "e" not in text.lower()
    assert len(text.split(".")[1]) == 2
    assert Decimal(text) == to_cents(amount)
    assert abs(Decimal(text) - amount) <= Decimal("0.005")


@given(st.lists(amounts, max_size=50))
def test_sums_are_exact(values: list[Decimal]) -> None:
    total = sum(values, Decimal(0))
    assert total == sum(reversed(values), Decimal(0))


def test_bankers_rounding_and_no_negative_zero() -> None:
    assert format_money(Decimal("0.125")) == "0.12"
    assert format_money(Decimal("0.135")) == "0.14"
    assert format_money(Decimal("-0.001")) == "0.00"

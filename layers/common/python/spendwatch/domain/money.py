"""Money helpers: parse provider amounts exactly, sum exactly, format once at the edge."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0")


class MoneyError(ValueError):
    """A value that cannot be read as an exact amount of money."""


def parse_amount(raw: object) -> Decimal:
    """Parse a provider amount (``"3.11"``, ``"$3.11"``, ``"1,234.50"``, ``1.5``) into an exact Decimal."""
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, bool):
        raise MoneyError(f"not an amount: {raw!r}")
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, float):
        # repr() keeps the shortest string that round-trips: 0.1 stays 0.1, not 0.1000000000000000055.
        value = Decimal(repr(raw))
    elif isinstance(raw, str):
        text = raw.strip().replace(",", "")
        text = text[1:] if text.startswith("$") else text
        if text.startswith("-$"):
            text = "-" + text[2:]
        try:
            value = Decimal(text)
        except InvalidOperation as exc:
            raise MoneyError(f"not an amount: {raw!r}") from exc
    else:
        raise MoneyError(f"not an amount: {raw!r}")
    if not value.is_finite():
        raise MoneyError(f"not a finite amount: {raw!r}")
    return value


def to_cents(amount: Decimal) -> Decimal:
    """Round to cents with banker's rounding (what billing systems use for totals)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def format_money(amount: Decimal) -> str:
    """The API's money string: two decimals, never exponent notation, never a float."""
    cents = to_cents(amount)
    if cents == 0:
        cents = abs(cents)
    return f"{cents:f}"

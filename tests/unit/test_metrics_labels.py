"""Label values and folded groups of GET /metrics: always encodable, bounded, and adding up."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from api.routes.metrics import MAX_LABEL_CHARS, OTHER, label_value, safe_groups

money = st.decimals(min_value=-1000, max_value=100_000, places=4, allow_nan=False, allow_infinity=False)


@given(st.text())
def test_any_text_becomes_a_short_utf8_label(text: str) -> None:
    value = label_value(text)
    value.encode("utf-8")  # never raises
    assert len(value) <= MAX_LABEL_CHARS
    if len(text) <= MAX_LABEL_CHARS and not any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        assert value == text


def test_lone_surrogate_is_replaced_not_fatal() -> None:
    assert label_value("EC2 \ud83d") == "EC2 ?"


@given(st.dictionaries(st.text(max_size=300), money, max_size=80), st.integers(min_value=2, max_value=60))
def test_folding_keeps_the_total_and_bounds_the_series(groups: dict[str, Decimal], limit: int) -> None:
    folded = safe_groups(groups, limit)
    assert sum(folded.values(), Decimal(0)) == sum(groups.values(), Decimal(0))
    assert len(folded) <= limit
    if len(groups) <= limit and len({label_value(k) for k in groups}) == len(groups):
        assert folded == {label_value(k): v for k, v in groups.items()}


def test_the_largest_groups_keep_their_own_series() -> None:
    groups = {f"s{n}": Decimal(n) for n in range(1, 11)}
    assert safe_groups(groups, 4) == {"s10": Decimal(10), "s9": Decimal(9), "s8": Decimal(8), OTHER: Decimal(28)}
    assert safe_groups(groups) == groups

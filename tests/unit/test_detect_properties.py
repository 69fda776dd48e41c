"""Properties of the detectors that must hold for every series and breakdown, not just the ones we thought of."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from spendwatch.domain.aggregates import NONE_KEY
from spendwatch.domain.detect import (
    SpikeConfig,
    detect_spike,
    expected_breakdown,
    first_seen,
    rank_drivers,
    value_changes,
)

START = date(2026, 1, 5)
amounts = st.decimals(min_value=Decimal(0), max_value=Decimal(50_000), places=2)
daily = st.lists(amounts, min_size=2, max_size=70)
breakdown_amounts = st.decimals(min_value=Decimal(-50), max_value=Decimal(5_000), places=4)
values = st.dictionaries(st.sampled_from(["EC2", "S3", "RDS", "Lambda", NONE_KEY]), breakdown_amounts, max_size=5)
breakdowns = st.fixed_dictionaries({"service": values, "region": values})


def points(amounts: list[Decimal]) -> list[tuple[date, Decimal]]:
    return [(START + timedelta(days=i), amount) for i, amount in enumerate(amounts)]


@given(st.decimals(min_value=Decimal(0), max_value=Decimal(1_000_000), places=2), st.integers(2, 70))
def test_a_constant_series_never_spikes_nor_dips(level: Decimal, days: int) -> None:
    result = detect_spike(points([level] * days), config=SpikeConfig(report_dips=True))

    assert not result.is_spike
    assert not result.is_dip


@settings(max_examples=200)
@given(daily, st.integers(2, 1000))
def test_scaling_a_series_scales_expected_and_actual_and_keeps_the_verdict(series: list[Decimal], k: int) -> None:
    config = SpikeConfig()
    scaled_config = SpikeConfig(min_impact=config.min_impact * k)

    base = detect_spike(points(series), config=config)
    scaled = detect_spike(points([a * k for a in series]), config=scaled_config)

    assert scaled.actual == base.actual * k
    assert scaled.expected == (None if base.expected is None else base.expected * k)
    if base.reference is None or scaled.reference is None:
        assert base.reference is scaled.reference is None
    else:
        # The recent level carries a ratio, so it is exact to Decimal's 28 digits rather than to the last one.
        assert abs(scaled.reference - base.reference * k) <= abs(base.reference * k) * Decimal("1e-25")
    assert (scaled.is_spike, scaled.methods, scaled.severity) == (base.is_spike, base.methods, base.severity)
    assert scaled.change_pct == base.change_pct


@settings(max_examples=200)
@given(daily)
def test_a_spike_always_clears_the_minimum_impact(series: list[Decimal]) -> None:
    config = SpikeConfig()

    result = detect_spike(points(series), config=config)

    if result.is_spike:
        assert result.change is not None and result.change >= config.min_impact
        assert result.reference is not None and result.actual - result.reference >= config.min_impact


@given(st.lists(st.decimals(min_value=Decimal(0), max_value=Decimal("4.99"), places=2), min_size=2, max_size=70))
def test_a_scope_that_never_costs_the_minimum_impact_in_a_day_never_pages(series: list[Decimal]) -> None:
    assert not detect_spike(points(series)).is_spike


@given(breakdowns, st.lists(breakdowns, min_size=1, max_size=4), breakdown_amounts)
def test_driver_deltas_add_up_to_the_total_change_in_every_dimension(
    actual: dict[str, dict[str, Decimal]], baseline: list[dict[str, dict[str, Decimal]]], expected_total: Decimal
) -> None:
    expected = expected_breakdown(baseline, expected_total, dimensions=["service", "region"])

    for dimension, changes in value_changes(actual, expected).items():
        actual_total = sum(actual[dimension].values(), Decimal(0))
        assert sum(expected[dimension].values(), Decimal(0)) == expected_total
        assert sum((c.delta for c in changes), Decimal(0)) == actual_total - expected_total


@given(breakdowns, breakdowns, st.integers(1, 8))
def test_drivers_move_with_the_change_and_respect_the_limits(
    actual: dict[str, dict[str, Decimal]], expected: dict[str, dict[str, Decimal]], top: int
) -> None:
    drivers = rank_drivers(actual, expected, top=top, min_share=Decimal("0.1"), min_impact=Decimal(2))

    assert len(drivers) <= top
    assert [d.share for d in drivers] == sorted((d.share for d in drivers), reverse=True)
    for driver in drivers:
        assert driver.share >= Decimal("0.1")
        assert abs(driver.actual - driver.expected) >= Decimal("1.99")


@given(
    st.dictionaries(st.sampled_from(["service", "region"]), st.sets(st.sampled_from(["EC2", "S3", "RDS"]))),
    breakdowns,
    st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=2),
)
def test_first_seen_returns_exactly_the_new_values_at_or_above_the_floor(
    seen: dict[str, set[str]], day: dict[str, dict[str, Decimal]], floor: Decimal
) -> None:
    found = first_seen(seen, day, floor=floor)

    expected = {
        (dim, key)
        for dim, amounts_by_key in day.items()
        for key, amount in amounts_by_key.items()
        if key != NONE_KEY and key not in seen.get(dim, set()) and amount >= floor and amount > 0
    }
    assert {(f.dimension, f.key) for f in found} == expected
    assert all(isinstance(f.amount, Decimal) for f in found)

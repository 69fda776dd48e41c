"""Properties that pin the forecasting maths, whatever the series."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from spendwatch.domain.forecast import Projection, crossing_date, forecast, projected_period_spend

START = date(2024, 1, 1)
amounts = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False, allow_infinity=False)
credits = st.decimals(min_value=-500, max_value=5_000, places=4, allow_nan=False, allow_infinity=False)
histories = st.lists(amounts, min_size=1, max_size=150).filter(any)
horizons = st.sampled_from([1, 7, 30, 60, 90])
levels = st.sampled_from([0.5, 0.8, 0.9, 0.95])
starts = st.dates(min_value=date(2023, 1, 1), max_value=date(2025, 12, 31))
# Forecasting is pure and deterministic but not instant: no per-example deadline on a busy machine.
maths = settings(deadline=None, max_examples=60)


def dated(values: list[Decimal], start: date = START) -> list[tuple[date, Decimal]]:
    """Consecutive days from ``start``."""
    return [(start + timedelta(days=i), v) for i, v in enumerate(values)]


def today_after(values: list[Decimal], start: date = START) -> date:
    """The day after the last value."""
    return start + timedelta(days=len(values))


@maths
@given(histories, starts, horizons, levels)
def test_intervals_contain_the_point(values: list[Decimal], start: date, horizon: int, level: float) -> None:
    result = forecast(dated(values, start), today_after(values, start), horizon, level)
    for point in result.points:
        assert point.lower <= point.amount <= point.upper
        assert point.lower >= 0
    assert result.month_end.lower <= result.month_end.amount <= result.month_end.upper
    assert result.month_end.lower >= result.month_to_date


@maths
@given(st.lists(credits, min_size=1, max_size=120).filter(any), horizons)
def test_intervals_contain_the_point_with_credits(values: list[Decimal], horizon: int) -> None:
    result = forecast(dated(values), today_after(values), horizon)
    for point in result.points:
        assert point.lower <= point.amount <= point.upper
    assert result.month_end.lower <= result.month_end.amount <= result.month_end.upper


@maths
@given(histories, starts, levels)
def test_intervals_widen_with_the_horizon(values: list[Decimal], start: date, level: float) -> None:
    points = forecast(dated(values, start), today_after(values, start), 90, level).points
    above = [p.upper - p.amount for p in points]
    assert above == sorted(above)
    # Below the point the interval can only be cut short by zero, never narrowed.
    below = [p.amount - p.lower for p in points if p.lower > 0]
    assert below == sorted(below)


@maths
@given(histories, st.integers(min_value=1, max_value=120), levels)
def test_sums_over_longer_periods_are_less_certain(values: list[Decimal], days: int, level: float) -> None:
    projection = Projection(dated(values), today_after(values))
    today = today_after(values)
    shorter = projection.period(today, today + timedelta(days=days - 1), level)
    longer = projection.period(today, today + timedelta(days=days), level)
    assert longer.upper - longer.amount >= shorter.upper - shorter.amount
    assert longer.amount >= shorter.amount


@maths
@given(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999.99"), places=2),
    st.integers(min_value=1, max_value=200),
    starts,
    horizons,
)
def test_constant_series_forecasts_itself(constant: Decimal, days: int, start: date, horizon: int) -> None:
    values = [constant] * days
    today = today_after(values, start)
    result = forecast(dated(values, start), today, horizon)
    assert all(p.amount == constant for p in result.points)
    month_start = today.replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    left = (next_month - today).days
    assert result.month_end.amount == result.month_to_date + constant * left


@maths
@given(histories, starts, horizons, levels)
def test_money_stays_decimal_at_the_boundary(values: list[Decimal], start: date, horizon: int, level: float) -> None:
    today = today_after(values, start)
    result = forecast(dated(values, start), today, horizon, level)
    numbers = [result.month_to_date, *result.month_end]
    numbers += [amount for p in result.points for amount in (p.amount, p.lower, p.upper)]
    numbers += list(projected_period_spend(dated(values, start), today, today + timedelta(days=40), today, level))
    assert all(isinstance(n, Decimal) and n.is_finite() for n in numbers)


@maths
@given(histories, st.integers(min_value=2, max_value=10))
def test_forecast_scales_with_the_series(values: list[Decimal], factor: int) -> None:
    # Nothing in the model is an absolute amount: ten times the spend forecasts ten times as much.
    base = forecast(dated(values), today_after(values), 30)
    scaled = forecast(dated([v * factor for v in values]), today_after(values), 30)
    for a, b in zip(base.points, scaled.points, strict=True):
        for x, y in ((a.amount, b.amount), (a.lower, b.lower), (a.upper, b.upper)):
            assert abs(float(x) * factor - float(y)) <= 1e-6 * max(1.0, float(y))


@maths
@given(histories, st.integers(min_value=1, max_value=60), st.integers(min_value=1, max_value=60))
def test_adjacent_periods_add_up(values: list[Decimal], first: int, second: int) -> None:
    projection = Projection(dated(values), today_after(values))
    today = today_after(values)
    split = today + timedelta(days=first)
    end = split + timedelta(days=second)
    whole = projection.period(today, end)
    parts = projection.period(today, split - timedelta(days=1)).amount + projection.period(split, end).amount
    assert whole.amount == parts


@maths
@given(histories, st.decimals(min_value=1, max_value=10_000_000, places=2))
def test_crossing_dates_are_ordered(values: list[Decimal], threshold: Decimal) -> None:
    today = today_after(values)
    start = today.replace(day=1)
    crossing = crossing_date(dated(values), threshold, start, start + timedelta(days=90), today)
    found = [d for d in (crossing.earliest, crossing.day, crossing.latest) if d is not None]
    assert found == sorted(found)
    if crossing.day is not None:
        assert crossing.earliest is not None and crossing.earliest <= crossing.day
    if crossing.latest is not None:
        assert crossing.day is not None and crossing.day <= crossing.latest

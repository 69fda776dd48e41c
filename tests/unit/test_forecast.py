"""Forecast scenarios: weekly rhythm, spikes, level shifts, zeros, mid-month starts, month boundaries, short history."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
from spendwatch.domain.forecast import (
    Crossing,
    Forecast,
    ForecastError,
    ForecastPoint,
    Projection,
    crossing_date,
    forecast,
    projected_period_spend,
)
from spendwatch.domain.forecast.backtest import (
    MethodForecaster,
    month_end_cases,
    month_end_outcomes,
    refit_month_end,
)
from spendwatch.domain.forecast.methods import make_model
from spendwatch.domain.forecast.series import daily_series

Series = list[tuple[date, Decimal]]
START = date(2024, 1, 1)  # a Monday


def build(values: list[float], start: date = START) -> Series:
    """A daily series from floats, as exact 4-place Decimals."""
    return [(start + timedelta(days=i), Decimal(f"{v:.4f}")) for i, v in enumerate(values)]


def noisy(days: int, level: float = 100.0, weekend: float = 1.0, noise: float = 0.05, seed: int = 1) -> list[float]:
    """Level with a weekend factor and multiplicative noise, Monday first."""
    rng = np.random.default_rng(seed)
    week = np.array([1, 1, 1, 1, 1, weekend, weekend])
    return list(level * week[np.arange(days) % 7] * (1 + noise * rng.standard_normal(days)))


def after(series: Series) -> date:
    """The day after the series ends (its 'today')."""
    return series[-1][0] + timedelta(days=1)


def mean_amount(points: list[ForecastPoint], weekend: bool | None = None) -> float:
    """Mean forecast amount, optionally on weekends or weekdays only."""
    chosen = [float(p[1]) for p in points if weekend is None or (p[0].weekday() >= 5) == weekend]
    return sum(chosen) / len(chosen)


def relative_width(result: Forecast) -> float:
    """Width of the month-end interval relative to its amount."""
    month_end = result.month_end
    return float((month_end.upper - month_end.lower) / month_end.amount)


def test_weekly_rhythm_is_forecast() -> None:
    # Given weekdays at 100 and weekends at 30 for twelve weeks
    series = build(noisy(84, weekend=0.3))
    # When forecasting four weeks
    result = forecast(series, after(series), 28)
    # Then weekends are forecast near 30 and weekdays near 100
    assert mean_amount(result.points, weekend=True) == pytest.approx(30, rel=0.1)
    assert mean_amount(result.points, weekend=False) == pytest.approx(100, rel=0.05)


def test_one_day_spike_does_not_bend_the_forecast() -> None:
    values = noisy(70)
    spiked = [*values[:-3], values[-3] * 10, *values[-2:]]
    calm = forecast(build(values), after(build(values)), 30)
    result = forecast(build(spiked), after(build(spiked)), 30)
    assert mean_amount(result.points) == pytest.approx(mean_amount(calm.points), rel=0.03)
    assert mean_amount(result.points) == pytest.approx(100, rel=0.05)


def test_level_shift_moves_the_forecast() -> None:
    values = noisy(63) + noisy(7, level=200, seed=2)
    result = forecast(build(values), after(build(values)), 30)
    assert mean_amount(result.points) == pytest.approx(200, rel=0.08)


def test_shift_down_to_zero_when_a_service_stops() -> None:
    values = noisy(60) + [0.0] * 7
    result = forecast(build(values), after(build(values)), 30)
    assert mean_amount(result.points) < 5
    assert all(p.lower >= 0 for p in result.points)


def test_a_level_drop_shrinks_the_weekly_rhythm_instead_of_forecasting_zero_days() -> None:
    # Weekdays 100, weekends 30 for four months, then the whole bill falls by 80 %: the weekly profile learnt at
    # the old level (weekends 60 below it) must not push the new level's weekends to exactly zero.
    before = noisy(120, weekend=0.3)
    sudden = before + [v * 0.2 for v in noisy(21, weekend=0.3, seed=3)]
    # The same fall spread over two weeks is no level shift for the filter: the level crawls down instead.
    ramp = [v * (1 - 0.8 * min(n, 14) / 14) for n, v in enumerate(noisy(28, weekend=0.3, seed=4))]
    for values in (sudden, before + ramp):
        result = forecast(build(values), after(build(values)), 30)
        assert all(p.amount > 0 for p in result.points)
        assert mean_amount(result.points, weekend=True) < mean_amount(result.points, weekend=False)
        assert mean_amount(result.points, weekend=False) < 45


def test_weekday_only_spend_forecasts_zero_weekends_never_negative() -> None:
    series = build(noisy(84, weekend=0.0))
    result = forecast(series, after(series), 30)
    assert mean_amount(result.points, weekend=True) < 5
    assert all(p.amount >= 0 and p.lower >= 0 for p in result.points)


def test_missing_days_inside_the_history_cost_zero() -> None:
    dense = build(noisy(28, weekend=0.0))
    sparse = [(day, amount) for day, amount in dense if day.weekday() < 5]
    today = after(dense)
    assert forecast(sparse, today, 30) == forecast(dense, today, 30)


def test_leading_zeros_mean_not_started_and_duplicate_days_add_up() -> None:
    series = daily_series(
        [(START, Decimal(0)), (START + timedelta(days=1), Decimal(2)), (START + timedelta(days=1), Decimal(3))],
        START + timedelta(days=2),
    )
    assert series.start == START + timedelta(days=1)
    assert series.exact == (Decimal(5), Decimal(0))


def test_service_starting_mid_month() -> None:
    # Given a service that started on the 17th, forecast on the 20th
    series = build(noisy(3, level=50), start=date(2024, 3, 17))
    result = forecast(series, date(2024, 3, 20), 30)
    # Then month end is the three days spent plus twelve forecast days, with a wide interval
    spent = sum((amount for _, amount in series), Decimal(0))
    assert result.month_to_date == spent
    rest = sum((p.amount for p in result.points if p.day.month == 3), Decimal(0))
    assert result.month_end.amount == spent + rest
    assert float(result.month_end.amount) == pytest.approx(50 * 15, rel=0.1)
    assert result.month_end.lower < result.month_end.amount < result.month_end.upper
    assert result.accuracy is None


def test_three_days_of_history_give_wider_intervals_than_three_months() -> None:
    long = build(noisy(91, level=50), start=date(2024, 1, 1))
    short = long[-3:]
    today = after(long)
    assert relative_width(forecast(short, today, 30)) > 2 * relative_width(forecast(long, today, 30))


def test_month_boundary_first_of_month() -> None:
    series = build(noisy(60))  # through 2024-02-29, a leap day
    today = date(2024, 3, 1)
    result = forecast(series, today, 30)
    assert result.through == date(2024, 2, 29)
    assert result.month_to_date == 0
    assert result.points[0].day == today
    assert result.points[-1].day == date(2024, 3, 30)
    # March has 31 days: the month end counts the 31st even though the points stop at the 30th.
    assert float(result.month_end.amount) == pytest.approx(100 * 31, rel=0.05)


def test_month_end_on_the_last_day_is_all_actual_but_one_day() -> None:
    series = build(noisy(90))
    today = date(2024, 3, 31)
    result = forecast(series[: (today - START).days], today, 30)
    last = result.points[0]
    assert last.day == today
    assert result.month_end.amount == result.month_to_date + last.amount


def test_first_of_month_fee_recurs_across_the_month_boundary() -> None:
    # Given about 100 a day plus a 1000 fee booked on the first of every month since January
    values = [v + (1000 if (START + timedelta(days=i)).day == 1 else 0) for i, v in enumerate(noisy(100))]
    series = build(values)  # through 2024-04-09
    result = forecast(series, after(series), 60)
    by_day = {p.day: float(p.amount) for p in result.points}
    # Then the fee is forecast on the next firsts, and the days around it stay near 100
    assert by_day[date(2024, 5, 1)] == pytest.approx(1100, rel=0.05)
    assert by_day[date(2024, 6, 1)] == pytest.approx(1100, rel=0.05)
    assert by_day[date(2024, 5, 2)] == pytest.approx(100, rel=0.05)
    # And this month's fee, already spent, is not spread over the rest of the month
    assert float(result.month_end.amount) == pytest.approx(1000 + 100 * 30, rel=0.03)


def test_forecast_crosses_the_year_end() -> None:
    series = build(noisy(400))
    result = forecast(series, date(2024, 12, 15), 90)
    assert result.points[-1].day == date(2025, 3, 14)
    assert len(result.points) == 90


def test_lagging_data_forecasts_the_gap_days_too() -> None:
    series = build(noisy(60))
    today = after(series) + timedelta(days=2)
    result = forecast(series, today, 30, through=series[-1][0])
    assert result.points[0].day == after(series)
    assert result.points[-1].day == today + timedelta(days=29)


def test_explicit_through_ignores_incomplete_days() -> None:
    series = build(noisy(60))
    today = after(series)
    partial = [*series, (today, Decimal("1.00"))]
    assert forecast(partial, today, 30) == forecast(series, today, 30)


def test_empty_series_forecasts_nothing() -> None:
    result = forecast([], START, 30)
    assert result.month_end == (Decimal(0), Decimal(0), Decimal(0))
    assert all(p.amount == p.lower == p.upper == 0 for p in result.points)
    assert result.accuracy is None


def test_accuracy_is_published_with_enough_history() -> None:
    series = build(noisy(200, weekend=0.5))
    result = forecast(series, after(series), 30)
    assert result.accuracy is not None
    summary = result.accuracy.as_dict()
    assert summary["method"] == "robust_ets"
    assert summary["samples"] == 18  # six complete months, three origins each
    assert 0 <= summary["mape_month_end_day7"] < 0.05
    assert summary["mape_month_end_day21"] <= summary["mape_month_end_day7"]
    assert 0 <= summary["coverage"] <= 1


def test_fast_accuracy_matches_refitting_at_every_origin() -> None:
    # The published accuracy reads past states of one pass; refitting on each truncated history must agree.
    series = daily_series(build(noisy(150, weekend=0.6)), START + timedelta(days=149))
    cases = month_end_cases(series, months=None)
    for method in ("robust_ets", "seasonal_naive", "run_rate"):
        fast = month_end_outcomes(series, make_model(series, method), cases, 0.8)
        slow = refit_month_end(series, MethodForecaster(method), cases, 0.8)
        for a, b in zip(fast, slow, strict=True):
            assert (a.projected, a.lower, a.upper) == pytest.approx((b.projected, b.lower, b.upper))


def test_other_methods_are_available() -> None:
    series = build(noisy(60))
    for method in ("seasonal_naive", "run_rate"):
        result = forecast(series, after(series), 30, method=method)
        assert result.method == method
        assert mean_amount(result.points) == pytest.approx(100, rel=0.1)


def test_period_spend_of_the_current_month_is_the_month_end() -> None:
    series = build(noisy(75))
    today = after(series)
    month = forecast(series, today, 30).month_end
    assert projected_period_spend(series, today.replace(day=1), date(2024, 3, 31), today) == month


def test_period_spend_of_a_past_period_is_exact() -> None:
    series = build(noisy(75))
    spent = sum((amount for day, amount in series if day.month == 2), Decimal(0))
    assert projected_period_spend(series, date(2024, 2, 1), date(2024, 2, 29), after(series)) == (spent, spent, spent)


def test_period_spend_of_a_future_quarter_is_wider_than_its_first_month() -> None:
    series = build(noisy(200))
    today = after(series)
    month = projected_period_spend(series, date(2024, 8, 1), date(2024, 8, 31), today)
    quarter = projected_period_spend(series, date(2024, 8, 1), date(2024, 10, 31), today)
    assert float(quarter.amount) == pytest.approx(100 * 92, rel=0.05)
    assert quarter.upper - quarter.amount > month.upper - month.amount


def test_crossing_date_of_a_monthly_budget() -> None:
    # Given about 100 a day and 1000 spent by the 10th, a 2000 budget is reached around the 20th
    series = build(noisy(70))
    today = date(2024, 3, 11)
    result = crossing_date(series, Decimal(2000), date(2024, 3, 1), date(2024, 3, 31), today)
    assert result.day is not None and result.earliest is not None and result.latest is not None
    assert date(2024, 3, 19) <= result.day <= date(2024, 3, 21)
    assert result.earliest <= result.day <= result.latest


def test_crossing_already_reached_by_actual_spend() -> None:
    series = build([10.0] * 40)
    result = crossing_date(series, Decimal(55), date(2024, 2, 1), date(2024, 2, 29), after(series))
    assert result == Crossing(date(2024, 2, 6), date(2024, 2, 6), date(2024, 2, 6))


def test_crossing_not_within_the_period() -> None:
    series = build([10.0] * 40)
    result = crossing_date(series, Decimal(10_000), date(2024, 2, 1), date(2024, 2, 29), after(series))
    assert result == Crossing(None, None, None)


def test_one_projection_answers_many_thresholds() -> None:
    projection = Projection(build(noisy(70)), date(2024, 3, 11))
    days = [projection.crossing(Decimal(t), date(2024, 3, 1), date(2024, 3, 31)).day for t in (1500, 2000, 2500)]
    assert days[0] is not None and days[1] is not None and days[2] is not None
    assert days[0] < days[1] < days[2]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"level": 1.0}, "level"),
        ({"level": 0}, "level"),
        ({"horizon_days": 0}, "horizon"),
        ({"method": "prophet"}, "unknown method"),
        ({"through": START + timedelta(days=99)}, "after today"),
    ],
)
def test_bad_arguments_are_forecast_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ForecastError, match=message):
        forecast(build(noisy(30)), START + timedelta(days=30), **kwargs)  # type: ignore[arg-type]


def test_amounts_must_be_decimals() -> None:
    with pytest.raises(ForecastError):
        forecast([(START, 1.5)], START + timedelta(days=1))  # type: ignore[list-item]


def test_period_must_not_end_before_it_starts() -> None:
    with pytest.raises(ForecastError):
        projected_period_spend(build(noisy(30)), date(2024, 2, 1), date(2024, 1, 31), date(2024, 1, 31))


def test_sum_intervals_widen_for_overlapping_errors_and_one_day_does_not() -> None:
    # 150 origins' 30-day sums share most of their days: about five independent errors, so the empirical
    # quantile is widened as a t with four degrees of freedom widens a normal one (~15 %); one day ahead, ~0.
    from spendwatch.domain.forecast.intervals import Uncertainty, student_t

    series = daily_series(build(noisy(400)), START + timedelta(days=399))
    model = make_model(series, "robust_ets", None)
    uncertainty = Uncertainty(series, model, 30)
    factor = uncertainty._overlap_factor(0.8)[0]
    z = student_t(0.9, 1e9)

    assert factor[0] == pytest.approx(student_t(0.9, 149.0) / z)
    assert factor[0] < 1.01
    assert factor[29] == pytest.approx(student_t(0.9, 4.0) / z)
    assert 1.1 < factor[29] < 1.2
    assert all(later >= earlier for earlier, later in itertools.pairwise(factor))
    # The widening is applied to the sums' distances, not to single days.
    sums, daily = uncertainty.sums(0.8), uncertainty.daily(0.8)
    assert sums.up[0, 0] == pytest.approx(daily.up[0, 0] * factor[0])


def test_long_sums_are_never_narrower_than_a_week_grown_along_the_shape() -> None:
    # A quarter's sum from 150 origins rests on under two independent errors: its width is at least the week's
    # sum grown along the analytic shape. Sums up to a month (five or more independent errors) keep their own.
    from spendwatch.domain.forecast.intervals import ANCHOR, Uncertainty

    series = daily_series(build(noisy(500)), START + timedelta(days=499))
    uncertainty = Uncertainty(series, make_model(series, "robust_ets", None), 120)
    sums = uncertainty.sums(0.8)
    shape = np.cumsum(np.cumsum(uncertainty.psi) ** 2)
    factor = uncertainty._overlap_factor(0.8)[0]
    empirical = uncertainty._spread("sums", shape, np.arange(1, 121, dtype=np.float64) ** 2, 0.8)
    for band, raw in ((sums.up[0], empirical.up[0]), (sums.down[0], empirical.down[0])):
        grown = band[ANCHOR - 1] * np.sqrt(shape / shape[ANCHOR - 1])
        assert np.all(band[30:] >= grown[30:] - 1e-9)
        assert band[29] == pytest.approx(raw[29] * factor[29])
        # On this series the floor binds for the longest sums: without it they would be narrower.
        assert band[89] > raw[89] * factor[89]

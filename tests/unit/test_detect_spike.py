"""Spike detection scenarios: what pages someone and what never does."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from spendwatch.domain.detect import SpikeConfig, SpikeResult, detect_spike

START = date(2026, 3, 2)  # a Monday
# A deterministic wobble of a few percent, so the detector sees ordinary noise rather than a flat line.
WOBBLE = [Decimal(x) for x in ("1.00", "1.03", "0.98", "1.02", "0.97", "1.01", "0.99", "1.04", "0.96", "1.02", "1")]


def series(amounts: list[Decimal], start: date = START) -> list[tuple[date, Decimal]]:
    """Daily points from ``start``."""
    return [(start + timedelta(days=i), amount) for i, amount in enumerate(amounts)]


def flat(level: str, days: int) -> list[Decimal]:
    """``days`` days around ``level`` with a few percent of noise."""
    return [(Decimal(level) * WOBBLE[i % len(WOBBLE)]).quantize(Decimal("0.01")) for i in range(days)]


def run(amounts: list[Decimal], config: SpikeConfig | None = None, start: date = START) -> list[SpikeResult]:
    """Judge every day as the evaluation does: each day against the days before it."""
    points = series(amounts, start)
    return [detect_spike(points[: i + 1], config=config or SpikeConfig()) for i in range(1, len(points))]


def test_a_three_times_day_is_a_critical_spike_with_both_tests() -> None:
    # Given five ordinary weeks, when a day costs three times the usual
    amounts = [*flat("100", 35), Decimal("300.00")]

    result = detect_spike(series(amounts))

    # Then it is a spike, explained against the weekday baseline
    assert result.is_spike
    assert result.methods == ("day_over_day", "seasonal")
    assert result.severity == "critical"
    assert result.expected is not None and Decimal("95") <= result.expected <= Decimal("105")
    assert result.change == result.actual - result.expected
    assert result.change_pct is not None and result.change_pct > 180
    assert result.reason.startswith("spike: 300.00 against ")
    assert f"median of the last 4 {result.day.strftime('%A')}s" in result.reason
    assert len(result.baseline_days) == 4
    assert all(d.weekday() == result.day.weekday() for d in result.baseline_days)


def test_a_weekly_rhythm_monday_jump_is_not_a_spike() -> None:
    # Monday batch jobs triple the cost every Monday: a 200 % jump from Sunday, and the usual Monday.
    week = ["300", "100", "100", "100", "100", "40", "40"]
    amounts = [Decimal(week[i % 7]) * WOBBLE[i % len(WOBBLE)] for i in range(7 * 6 + 1)]

    results = run(amounts)

    assert results[-1].day.weekday() == 0
    assert not any(r.is_spike for r in results[13:])
    assert "day_over_day" not in results[-1].methods


def test_a_level_shift_alerts_on_its_first_day_only() -> None:
    # A new cluster triples the bill from day 40 on, for good: one alert, not one a day.
    amounts = [*flat("100", 40), *(a * 3 for a in flat("100", 50))]

    results = run(amounts)
    spikes = [r.day for r in results if r.is_spike]

    assert spikes == [START + timedelta(days=40)]
    later = results[45]
    assert not later.is_spike
    assert "no new jump" in later.reason


def test_a_rise_after_a_single_extreme_day_is_still_a_spike() -> None:
    # One extreme day (ten times the usual) must not raise the recent level for a week: a runaway job five
    # days later at 2.5 times the usual is alerted, as it would be without the extreme day before it.
    amounts = [*flat("100", 35), Decimal("1000.00"), *flat("100", 4), Decimal("250.00")]

    results = run(amounts)

    assert results[-1].day == START + timedelta(days=40)
    assert results[-1].is_spike
    assert results[-1].reference is not None and results[-1].reference < Decimal("150")
    assert results[34].is_spike  # the extreme day was alerted in its own right


def test_a_rise_that_goes_on_still_moves_the_level() -> None:
    # Two raised days in a row are a level, not an outlier: the third day at that level is not alerted again.
    amounts = [*flat("100", 35), Decimal("250.00"), Decimal("250.00"), Decimal("250.00")]

    spikes = [r.day for r in run(amounts) if r.is_spike]

    assert spikes == [START + timedelta(days=35)]


def test_a_burst_alerts_on_its_first_day_and_again_only_if_it_grows() -> None:
    amounts = [*flat("100", 30), Decimal(300), Decimal(310), Decimal(305), Decimal(900), *flat("100", 10)]

    spikes = [r.day for r in run(amounts) if r.is_spike]

    assert spikes == [START + timedelta(days=30), START + timedelta(days=33)]


def test_slow_growth_never_alerts() -> None:
    # 1 % a day compound: 3.3x over four months, one small step at a time.
    amounts = [
        (Decimal(100) * Decimal("1.01") ** i * WOBBLE[i % len(WOBBLE)]).quantize(Decimal("0.01")) for i in range(120)
    ]

    assert not any(r.is_spike for r in run(amounts))


def test_dips_are_not_alerts_by_default_and_reported_when_asked() -> None:
    amounts = [*flat("100", 35), Decimal("10.00")]

    quiet = detect_spike(series(amounts))
    reported = detect_spike(series(amounts), config=SpikeConfig(report_dips=True))

    assert not quiet.is_spike and not quiet.is_dip
    assert reported.is_dip and not reported.is_spike
    assert reported.severity == "info"
    assert reported.reason.startswith("dip: 10.00 against")


def test_the_day_after_a_zero_day_is_not_a_spike() -> None:
    amounts = flat("100", 60)
    for day in (20, 27, 41, 50):
        amounts[day] = Decimal(0)

    assert not any(r.is_spike for r in run(amounts))


def test_impact_below_the_minimum_never_pages() -> None:
    # A $1 scope that triples: +200 %, but two dollars.
    amounts = [*flat("1", 35), Decimal("3.00")]

    result = detect_spike(series(amounts))

    assert not result.is_spike
    assert "below the 5.00 minimum impact" in result.reason
    assert detect_spike(series(amounts), config=SpikeConfig(min_impact=Decimal("1.50"))).is_spike


def test_a_scope_starting_from_nothing_is_a_spike_on_its_first_day() -> None:
    amounts = [*[Decimal(0)] * 30, *flat("50", 20)]

    results = run(amounts)
    spikes = [r for r in results if r.is_spike]

    assert [r.day for r in spikes] == [START + timedelta(days=30)]
    assert spikes[0].expected == 0
    assert spikes[0].change_pct is None
    assert spikes[0].severity == "critical"


def test_a_monthly_fee_alerts_the_first_time_only() -> None:
    # Starts mid-January: a $60 fee on every 1st (support plan, hosted zones) on top of $20 a day.
    start = date(2026, 1, 10)
    amounts = flat("20", 110)
    fee_days = [i for i in range(110) if (start + timedelta(days=i)).day == 1]
    for i in fee_days:
        amounts[i] += Decimal(60)

    results = run(amounts, start=start)

    assert [r.day for r in results if r.is_spike] == [start + timedelta(days=fee_days[0])]
    assert "recurring charge" in results[fee_days[1] - 1].reason
    assert run(amounts[: fee_days[1] + 1], SpikeConfig(monthly_recurring=False), start)[-1].is_spike


def test_short_history_uses_the_jump_over_the_highest_day_so_far() -> None:
    assert detect_spike(series([Decimal(100), Decimal(300)])).reason.startswith("not enough history")
    short = detect_spike(series([Decimal(100), Decimal(104), Decimal(98), Decimal(300)]))
    assert short.is_spike
    assert short.methods == ("day_over_day",)
    assert short.reference == Decimal(104)
    assert "median of the last 3 days" in short.reason
    assert not detect_spike(series([Decimal(100), Decimal(104), Decimal(98), Decimal(110)])).is_spike


def test_a_high_first_day_does_not_hide_rises_in_the_first_two_weeks() -> None:
    # A new scope whose first day carries a setup charge (ten times the usual): a day at 2.5 times the usual a
    # week later is still a jump over the highest usual day so far.
    amounts = [Decimal(1000), *flat("100", 7), Decimal(250)]

    result = detect_spike(series(amounts))

    assert result.history_days < 14
    assert result.is_spike
    assert result.reference is not None and result.reference < Decimal(110)
    # The usual days themselves are not spikes against it.
    assert not any(r.is_spike for r in run([Decimal(1000), *flat("100", 12)])[2:])


def test_absent_days_inside_the_series_cost_nothing_and_later_points_are_ignored() -> None:
    points = series(flat("100", 40))
    del points[20:23]
    judged = points[-10][0]

    result = detect_spike([*points, (judged + timedelta(days=1), Decimal(10_000))], day=judged)

    assert result.day == judged
    assert not result.is_spike
    assert result.history_days == (judged - START).days


def test_points_on_the_same_day_add_up() -> None:
    points = series(flat("100", 35))
    last_day, last_amount = points[-1]

    result = detect_spike([*points, (last_day, last_amount * 2)])

    assert result.actual == last_amount * 3
    assert result.is_spike


def test_money_stays_decimal_at_the_boundary() -> None:
    result = detect_spike(series([*flat("100", 35), Decimal("250.55")]))

    for value in (result.actual, result.expected, result.reference, result.change, result.change_pct):
        assert isinstance(value, Decimal)
    assert result.actual == Decimal("250.55")


def test_a_warning_is_a_spike_that_is_not_both_large_and_costly() -> None:
    # +60 %: above every threshold, below twice the baseline.
    result = detect_spike(series([*flat("100", 35), Decimal("160.00")]))

    assert result.is_spike
    assert result.severity == "warning"


def test_an_empty_series_has_nothing_to_judge() -> None:
    with pytest.raises(ValueError, match="empty"):
        detect_spike([])
    assert detect_spike([], day=START).reason.startswith("not enough history")


def test_days_beyond_the_lookback_do_not_change_the_verdict() -> None:
    config = SpikeConfig()
    amounts = [*flat("500", 30), *flat("100", 80), Decimal("160.00")]
    points = series(amounts)
    judged = points[-1][0]

    full = detect_spike(points, config=config)
    window = detect_spike([p for p in points if (judged - p[0]).days <= config.lookback_days], config=config)

    assert config.lookback_days == 59
    assert (full.is_spike, full.expected, full.reference, full.score) == (
        window.is_spike,
        window.expected,
        window.reference,
        window.score,
    )

"""EventBridge schedule expressions evaluated as EventBridge does: UTC, 1-7 = SUN-SAT, '?', L, W, #, years."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spendwatch_local.eventbridge.schedule import (
    CronSchedule,
    RateSchedule,
    ScheduleError,
    next_fire,
    parse_schedule,
    rate_period,
    translate_day_of_week,
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def next_of(expression: str, after: str) -> datetime | None:
    return parse_schedule(expression).next_after(at(after))


@pytest.mark.parametrize(
    ("expression", "period"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(5 minutes)", timedelta(minutes=5)),
        ("rate(1 hour)", timedelta(hours=1)),
        ("rate(6 hours)", timedelta(hours=6)),
        ("rate(1 day)", timedelta(days=1)),
        ("rate(7 days)", timedelta(days=7)),
    ],
)
def test_rate_units(expression: str, period: timedelta) -> None:
    assert parse_schedule(expression) == RateSchedule(period)
    assert next_of(expression, "2026-11-24T08:00:00") == at("2026-11-24T08:00:00") + period


def test_rate_period_rejects_unknown_units_and_zero() -> None:
    with pytest.raises(ScheduleError):
        rate_period(5, "weeks")
    with pytest.raises(ScheduleError):
        rate_period(0, "minutes")


@pytest.mark.parametrize(
    ("field", "cronsim"),
    [
        ("1", "0"),  # EventBridge 1 is Sunday; cronsim's Sunday is 0
        ("7", "6"),
        ("SUN", "0"),
        ("SAT", "6"),
        ("MON-FRI", "1,2,3,4,5"),
        ("2-6", "1,2,3,4,5"),
        ("1,7", "0,6"),
        ("SUN,MON,SUN", "0,1"),
        ("2/2", "1,3,5"),  # Monday, Wednesday, Friday
        ("*/3", "0,3,6"),
        ("6L", "5L"),  # last Friday
        ("FRIL", "5L"),
        ("L", "6"),  # a bare L is the last day of the week
        ("3#2", "2#2"),  # second Tuesday
        ("MON#1", "1#1"),
        ("?", "*"),
        ("*", "*"),
    ],
)
def test_day_of_week_maps_eventbridge_numbers_to_cronsim(field: str, cronsim: str) -> None:
    assert translate_day_of_week(field) == cronsim


@pytest.mark.parametrize("field", ["0", "8", "FUNDAY", "6-2", "3#6", "3#0", "2/0"])
def test_day_of_week_rejects_what_eventbridge_rejects(field: str) -> None:
    with pytest.raises(ScheduleError):
        translate_day_of_week(field)


@pytest.mark.parametrize(
    "expression",
    [
        "rate(5)",
        "rate(5 weeks)",
        "every 5 minutes",
        "cron(0 8 * * *)",  # five fields: EventBridge needs the year
        "cron(0 8 * * MON *)",  # neither day field is '?'
        "cron(0 8 ? * ? *)",  # both are
        "cron(0 25 * * ? *)",
        "cron(60 8 * * ? *)",
        "cron(0 8 32 * ? *)",
        "cron(0 8 ? * 8 *)",
        "cron(0 0 1 1 ? 1969)",
        "cron(0 0 32W * ? *)",
    ],
)
def test_invalid_expressions_are_refused(expression: str) -> None:
    with pytest.raises(ScheduleError):
        parse_schedule(expression)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("cron(0 */6 * * ? *)", "2026-11-24T08:00:00", "2026-11-24T12:00:00"),
        ("cron(0 */6 * * ? *)", "2026-11-24T12:00:00", "2026-11-24T18:00:00"),  # strictly after
        ("cron(0/15 * * * ? *)", "2026-11-24T08:07:30", "2026-11-24T08:15:00"),
        ("cron(0 8 ? * MON-FRI *)", "2026-11-27T09:00:00", "2026-11-30T08:00:00"),  # Friday -> Monday
        ("cron(0 12 ? * 1 *)", "2026-11-24T00:00:00", "2026-11-29T12:00:00"),  # 1 is Sunday
        ("cron(0 12 ? * 7 *)", "2026-11-24T00:00:00", "2026-11-28T12:00:00"),  # 7 is Saturday
        ("cron(30 9 1 * ? *)", "2026-11-24T00:00:00", "2026-12-01T09:30:00"),
        ("cron(0 9 ? * 3#2 *)", "2026-11-24T00:00:00", "2026-12-08T09:00:00"),  # second Tuesday
        ("cron(15 10 ? * 6L *)", "2026-11-24T00:00:00", "2026-11-27T10:15:00"),  # last Friday
        ("cron(0 0 L * ? *)", "2028-02-01T00:00:00", "2028-02-29T00:00:00"),  # leap year
        ("cron(0 0 LW * ? *)", "2026-05-01T00:00:00", "2026-05-29T00:00:00"),  # 31st is a Sunday
        ("cron(0 0 1 JAN,JUL ? *)", "2026-11-24T00:00:00", "2027-01-01T00:00:00"),
    ],
)
def test_cron_next_fire(expression: str, after: str, expected: str) -> None:
    assert next_of(expression, after) == at(expected)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("cron(0 0 15W * ? *)", "2026-08-01T00:00:00", "2026-08-14T00:00:00"),  # Saturday -> Friday
        ("cron(0 0 15W * ? *)", "2026-11-01T00:00:00", "2026-11-16T00:00:00"),  # Sunday -> Monday
        ("cron(0 0 15W * ? *)", "2026-11-24T00:00:00", "2026-12-15T00:00:00"),  # a weekday stays
        ("cron(0 0 1W * ? *)", "2026-07-31T00:00:00", "2026-08-03T00:00:00"),  # never into July
        ("cron(0 0 31W * ? *)", "2026-05-01T00:00:00", "2026-05-29T00:00:00"),  # never into June
        ("cron(0 0 31W * ? *)", "2026-11-01T00:00:00", "2026-12-31T00:00:00"),  # November has no 31st
    ],
)
def test_nearest_weekday(expression: str, after: str, expected: str) -> None:
    assert next_of(expression, after) == at(expected)


def test_year_field_limits_fires() -> None:
    assert next_of("cron(0 0 1 1 ? 2030)", "2026-11-24T00:00:00") == at("2030-01-01T00:00:00")
    assert next_of("cron(0 0 1 1 ? 2030)", "2030-01-01T00:00:00") is None
    assert next_of("cron(0 0 1 * ? 2027-2028)", "2028-12-01T00:00:00") is None
    assert next_of("cron(0 0 1 6 ? 2026/2)", "2026-11-24T00:00:00") == at("2028-06-01T00:00:00")
    assert next_of("cron(0 0 1 6 ? 2150)", "2026-11-24T00:00:00") == at("2150-06-01T00:00:00")


def test_times_are_utc_whatever_the_input_zone() -> None:
    # 09:30 in Berlin is 08:30 UTC, so "09:00" is still ahead today (read as Berlin time it would be tomorrow).
    berlin_morning = datetime(2026, 11, 24, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    assert parse_schedule("cron(0 9 * * ? *)").next_after(berlin_morning) == at("2026-11-24T09:00:00")
    assert parse_schedule("cron(0 9 * * ? *)").next_after(datetime(2026, 11, 24, 8, 30)) == at("2026-11-24T09:00:00")


def test_next_fire_skips_missed_rate_fires_on_the_rate_grid() -> None:
    schedule = parse_schedule("rate(5 minutes)")
    assert next_fire(schedule, at("2026-11-24T08:00:00"), at("2026-11-24T08:01:00")) == at("2026-11-24T08:05:00")
    assert next_fire(schedule, at("2026-11-24T08:00:00"), at("2026-11-24T08:17:00")) == at("2026-11-24T08:20:00")
    assert next_fire(schedule, at("2026-11-24T08:00:00"), at("2026-11-24T08:20:00")) == at("2026-11-24T08:25:00")


def test_next_fire_skips_missed_cron_fires() -> None:
    schedule = parse_schedule("cron(0 * * * ? *)")
    assert next_fire(schedule, at("2026-11-24T08:00:00"), at("2026-11-24T10:30:00")) == at("2026-11-24T11:00:00")


def test_translation_keeps_question_mark_semantics() -> None:
    schedule = parse_schedule("cron(0 8 ? * MON-FRI *)")
    assert schedule == CronSchedule("0 8 * * 1,2,3,4,5")


moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2150, 1, 1), timezones=st.just(UTC))


@given(day=st.integers(min_value=1, max_value=7), moment=moments)
def test_weekly_cron_fires_on_that_weekday_within_a_week(day: int, moment: datetime) -> None:
    fire = parse_schedule(f"cron(0 6 ? * {day} *)").next_after(moment)
    assert fire is not None
    assert moment < fire <= moment + timedelta(days=7)
    # EventBridge 1 = Sunday .. 7 = Saturday; ISO 1 = Monday .. 7 = Sunday.
    assert fire.isoweekday() == (day - 2) % 7 + 1
    assert (fire.hour, fire.minute, fire.second) == (6, 0, 0)


@given(
    minutes=st.integers(min_value=1, max_value=60 * 24 * 3),
    previous=moments,
    late=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)),
)
def test_rate_next_fire_is_future_and_on_grid(minutes: int, previous: datetime, late: timedelta) -> None:
    schedule = RateSchedule(timedelta(minutes=minutes))
    now = previous + late
    fire = next_fire(schedule, previous, now)
    assert fire is not None
    assert now < fire <= now + schedule.period
    assert (fire - previous) % schedule.period == timedelta(0)


@given(day=st.integers(min_value=1, max_value=31), moment=moments)
def test_nearest_weekday_is_a_weekday_in_a_month_that_has_the_day(day: int, moment: datetime) -> None:
    fire = parse_schedule(f"cron(0 0 {day}W * ? *)").next_after(moment)
    assert fire is not None
    assert fire > moment
    assert fire.weekday() < 5
    assert abs(fire.day - day) <= 2

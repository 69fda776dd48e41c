"""EventBridge schedule expressions: when a rule fires next, in UTC as EventBridge evaluates them, or in a time zone
as EventBridge Scheduler does with ``ScheduleExpressionTimezone`` (the report schedules: 09:00 local all year)."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

_RATE = re.compile(r"^rate\(\s*(?P<n>\d+)\s+(?P<unit>minutes?|hours?|days?)\s*\)$", re.IGNORECASE)
_CRON = re.compile(r"^cron\((?P<body>[^()]*)\)$", re.IGNORECASE)
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # EventBridge numbers them 1-7
_YEARS = range(1970, 2200)  # the year range EventBridge accepts
_NEAREST_WEEKDAY = re.compile(r"^(?P<day>\d{1,2})W$")
# Enough steps to walk a year-filtered or nearest-weekday schedule a few centuries ahead.
_MAX_STEPS = 10_000


class ScheduleError(ValueError):
    """A schedule expression that EventBridge would reject or this runtime cannot evaluate."""


@dataclass(frozen=True)
class RateSchedule:
    """``rate(N unit)``: a fixed period between fires."""

    period: timedelta

    def next_after(self, moment: datetime) -> datetime | None:
        """The fire one period after ``moment``."""
        return _as_utc(moment) + self.period


@dataclass(frozen=True)
class CronSchedule:
    """``cron(...)`` translated to a five-field cronsim expression plus what cronsim cannot express.

    With ``timezone`` the fields are local time there (cronsim follows daylight-saving changes: a time skipped by
    the spring change fires once right after it, an hour repeated by the autumn change fires once).
    """

    expression: str
    years: frozenset[int] | None = None
    nearest_weekday: int | None = None
    timezone: str | None = None

    def next_after(self, moment: datetime) -> datetime | None:
        """The first fire strictly after ``moment``, in UTC, or None if the schedule never fires again."""
        zone = ZoneInfo(self.timezone) if self.timezone else UTC
        found = self._next_in(zone, _as_utc(moment).astimezone(zone))
        return None if found is None else found.astimezone(UTC)

    def _next_in(self, zone: Any, cursor: datetime) -> datetime | None:
        for _ in range(_MAX_STEPS):
            try:
                candidate: datetime = next(CronSim(self.expression, cursor))
            except StopIteration:
                return None
            if self.years is not None and candidate.year not in self.years:
                later = [year for year in self.years if year > candidate.year]
                if not later:
                    return None
                # cronsim ticks one second before matching, so this lands on 1 January 00:00:00.
                cursor = datetime(min(later), 1, 1, tzinfo=zone) - timedelta(seconds=1)
                continue
            if self.nearest_weekday is not None and candidate.date() != _nearest_weekday_in(
                candidate.year, candidate.month, self.nearest_weekday
            ):
                cursor = datetime.combine(candidate.date(), time(23, 59, 59), tzinfo=zone)
                continue
            return candidate
        return None


Schedule = RateSchedule | CronSchedule


def parse_schedule(expression: str, timezone: str | None = None) -> Schedule:
    """Parse ``rate(...)`` or six-field ``cron(...)`` as EventBridge does; ``timezone`` makes a cron local time."""
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        return RateSchedule(rate_period(int(rate["n"]), rate["unit"]))
    cron = _CRON.match(text)
    if cron:
        schedule = parse_cron(cron["body"])
        if timezone is None:
            return schedule
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ScheduleError(f"unknown time zone {timezone!r}") from exc
        return CronSchedule(schedule.expression, schedule.years, schedule.nearest_weekday, timezone)
    raise ScheduleError(f"{expression!r} is not an EventBridge schedule: use rate(...) or cron(...)")


def rate_period(value: int, unit: str) -> timedelta:
    """The period of ``rate(value unit)``; unit is minute(s), hour(s) or day(s)."""
    base = unit.lower().removesuffix("s")
    if base not in _UNIT_SECONDS:
        raise ScheduleError(f"rate unit {unit!r}: use minutes, hours or days")
    if value < 1:
        raise ScheduleError(f"rate value {value}: must be a positive whole number")
    return timedelta(seconds=value * _UNIT_SECONDS[base])


def parse_cron(body: str) -> CronSchedule:
    """Translate the six EventBridge cron fields (min hour dom month dow year) for cronsim."""
    fields = body.upper().split()
    if len(fields) != 6:
        raise ScheduleError(f"cron({body}): needs 6 fields (minutes hours day-of-month month day-of-week year)")
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ScheduleError(f"cron({body}): exactly one of day-of-month and day-of-week must be '?'")
    nearest = _NEAREST_WEEKDAY.match(dom)
    nearest_day = int(nearest["day"]) if nearest else None
    if nearest_day is not None and not 1 <= nearest_day <= 31:
        raise ScheduleError(f"cron({body}): day-of-month {dom!r} is out of range")
    # EventBridge ignores the field marked '?'; as '*' cronsim ANDs it away, which is the same thing.
    cron_dom = "*" if dom == "?" or nearest_day is not None else dom
    expression = " ".join((minutes, hours, cron_dom, month, translate_day_of_week(dow)))
    try:
        CronSim(expression, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as exc:
        raise ScheduleError(f"cron({body}): {exc}") from exc
    return CronSchedule(expression, parse_years(year), nearest_day)


def translate_day_of_week(field: str) -> str:
    """EventBridge day-of-week (1-7 = SUN-SAT, names, ``L``, ``#``) as cronsim's 0-6 field."""
    if field in ("?", "*"):
        return "*"
    values: list[str] = []
    for term in field.split(","):
        values.extend(value for value in _dow_term(term) if value not in values)
    return ",".join(values)


def _dow_term(term: str) -> list[str]:
    if term == "L":
        return ["6"]  # a bare L is the last day of the week: Saturday
    if term.endswith("L"):
        return [f"{_dow_number(term[:-1]) - 1}L"]
    if "#" in term:
        day, nth = term.split("#", 1)
        if not nth.isdigit() or not 1 <= int(nth) <= 5:
            raise ScheduleError(f"day-of-week {term!r}: the week after '#' must be 1-5")
        return [f"{_dow_number(day) - 1}#{nth}"]
    return [str(day - 1) for day in _expand(term, _dow_number, 1, 7, "day-of-week")]


def _dow_number(token: str) -> int:
    """EventBridge's 1-7 number for a day token (``MON`` or ``2``)."""
    if token in _DAY_NAMES:
        return _DAY_NAMES.index(token) + 1
    if token.isdigit() and 1 <= int(token) <= 7:
        return int(token)
    raise ScheduleError(f"day-of-week {token!r}: use 1-7 (SUN-SAT) or SUN..SAT")


def parse_years(field: str) -> frozenset[int] | None:
    """The years an EventBridge year field allows (None for every year)."""
    if field == "*":
        return None
    years: set[int] = set()
    for term in field.split(","):
        years.update(_expand(term, _year_number, _YEARS.start, _YEARS.stop - 1, "year"))
    return frozenset(years)


def _year_number(token: str) -> int:
    if token.isdigit() and int(token) in _YEARS:
        return int(token)
    raise ScheduleError(f"year {token!r}: use {_YEARS.start}-{_YEARS.stop - 1}")


def _expand(term: str, number: Callable[[str], int], low: int, high: int, what: str) -> list[int]:
    """Values of one list term: ``*``, ``a``, ``a-b``, each optionally ``/step``."""
    base, _, step_text = term.partition("/")
    if step_text and not (step_text.isdigit() and int(step_text) > 0):
        raise ScheduleError(f"{what} {term!r}: the step after '/' must be a positive number")
    step = int(step_text) if step_text else 1
    if base == "*":
        start, end = low, high
    elif "-" in base:
        first, last = base.split("-", 1)
        start, end = number(first), number(last)
        if end < start:
            raise ScheduleError(f"{what} {term!r}: range ends before it starts")
    else:
        start = number(base)
        end = high if step_text else start
    return list(range(start, end + 1, step))


def _nearest_weekday_in(year: int, month: int, day: int) -> date | None:
    """Quartz ``NW``: the weekday nearest day N, never crossing into another month."""
    last = calendar.monthrange(year, month)[1]
    if day > last:
        return None
    target = date(year, month, day)
    weekday = target.weekday()  # Monday 0 .. Sunday 6
    if weekday == 5:  # Saturday: Friday before, unless that leaves the month
        return target - timedelta(days=1) if day > 1 else target + timedelta(days=2)
    if weekday == 6:  # Sunday: Monday after, unless that leaves the month
        return target + timedelta(days=1) if day < last else target - timedelta(days=2)
    return target


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def next_fire(schedule: Schedule, previous: datetime, now: datetime) -> datetime | None:
    """The next fire after ``previous`` that is later than ``now``: missed fires are skipped, not replayed."""
    now = _as_utc(now)
    fire = schedule.next_after(previous)
    if fire is None or fire > now:
        return fire
    if isinstance(schedule, RateSchedule):
        # Stay on the rate's own grid (previous + k periods) rather than drifting to now + period.
        missed = (now - fire) // schedule.period + 1
        return fire + missed * schedule.period
    return schedule.next_after(now)

"""How often a schedule expression fires in an average month (730 hours, AWS's own month for pricing).

``rate(N unit)`` divides the month by its period. ``cron(...)`` is counted over the days of a reference
(non-leap) year and divided by twelve, so a monthly cron fires exactly once a month and a weekly one 52/12
times; the year field is not applied (a deployment is priced as if it runs every year).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

HOURS_PER_MONTH = Decimal(730)
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
MINUTES_PER_MONTH = HOURS_PER_MONTH * 60
REFERENCE_YEAR = 2026  # 365 days = 8,760 hours = 12 x 730

_RATE = re.compile(r"^rate\(\s*(?P<n>\d+)\s+(?P<unit>minutes?|hours?|days?)\s*\)$", re.IGNORECASE)
_CRON = re.compile(r"^cron\((?P<body>[^()]*)\)$", re.IGNORECASE)
_UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 24 * 60}
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # EventBridge numbers them 1-7

DayMatcher = Callable[[date], bool]


class ScheduleError(ValueError):
    """A schedule expression whose fires cannot be counted."""


def runs_per_month(expression: str) -> Decimal:
    """Fires in an average month of ``rate(...)`` or six-field ``cron(...)``."""
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        minutes = int(rate["n"]) * _UNIT_MINUTES[rate["unit"].lower().removesuffix("s")]
        if minutes < 1:
            raise ScheduleError(f"{expression!r}: the rate must be at least 1")
        return MINUTES_PER_MONTH / minutes
    cron = _CRON.match(text)
    if cron:
        return _cron_runs_per_month(cron["body"])
    raise ScheduleError(f"{expression!r} is not an EventBridge schedule: use rate(...) or cron(...)")


def _cron_runs_per_month(body: str) -> Decimal:
    fields = body.upper().split()
    if len(fields) != 6:
        raise ScheduleError(f"cron({body}): needs 6 fields (minutes hours day-of-month month day-of-week year)")
    minutes, hours, dom, month, dow, _year = fields
    try:
        per_day = len(_expand(minutes, 0, 59)) * len(_expand(hours, 0, 23))
        months = _expand(month, 1, 12, _MONTH_NAMES)
        day_of_month, day_of_week = _day_of_month(dom), _day_of_week(dow)
    except ValueError as exc:
        raise ScheduleError(f"cron({body}): {exc}") from None
    day, days = date(REFERENCE_YEAR, 1, 1), 0
    while day.year == REFERENCE_YEAR:
        if day.month in months and day_of_month(day) and day_of_week(day):
            days += 1
        day += timedelta(days=1)
    return Decimal(days * per_day) / 12


def _expand(field: str, low: int, high: int, names: tuple[str, ...] = ()) -> set[int]:
    """Values of a list of terms: ``*``, ``a``, ``a-b``, each optionally ``/step``; names count from ``low``."""
    values: set[int] = set()
    for term in field.split(","):
        base, _, step_text = term.partition("/")
        step = int(step_text) if step_text.isdigit() else 0
        if step_text and step < 1:
            raise ValueError(f"{term!r}: the step after '/' must be a positive number")
        if base in ("*", "?"):
            start, end = low, high
        elif "-" in base:
            first, last = base.split("-", 1)
            start, end = _number(first, low, high, names), _number(last, low, high, names)
        else:
            start = _number(base, low, high, names)
            end = high if step_text else start
        values.update(range(start, end + 1, step or 1))
    return values


def _number(token: str, low: int, high: int, names: tuple[str, ...]) -> int:
    if token in names:
        return names.index(token) + low
    if token.isdigit() and low <= int(token) <= high:
        return int(token)
    raise ValueError(f"{token!r} is not a value from {low} to {high}")


def _day_of_month(field: str) -> DayMatcher:
    if field in ("?", "*"):
        return lambda day: True
    if field == "L":
        return lambda day: day.day == _last_day(day)
    if field == "LW":
        return lambda day: day == _nearest_weekday(day.year, day.month, _last_day(day))
    if field.endswith("W"):
        target = _number(field[:-1], 1, 31, ())
        return lambda day: day == _nearest_weekday(day.year, day.month, target)
    days = _expand(field, 1, 31)
    return lambda day: day.day in days


def _day_of_week(field: str) -> DayMatcher:
    if field in ("?", "*"):
        return lambda day: True
    if field == "L":
        return lambda day: _weekday(day) == 7
    if field.endswith("L"):
        weekday = _number(field[:-1], 1, 7, _DAY_NAMES)
        return lambda day: _weekday(day) == weekday and day.day + 7 > _last_day(day)
    if "#" in field:
        name, _, nth = field.partition("#")
        weekday, week = _number(name, 1, 7, _DAY_NAMES), _number(nth, 1, 5, ())
        return lambda day: _weekday(day) == weekday and (day.day - 1) // 7 + 1 == week
    weekdays = _expand(field, 1, 7, _DAY_NAMES)
    return lambda day: _weekday(day) in weekdays


def _weekday(day: date) -> int:
    """EventBridge's day-of-week number: 1 = Sunday ... 7 = Saturday."""
    return (day.weekday() + 1) % 7 + 1


def _last_day(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _nearest_weekday(year: int, month: int, target: int) -> date | None:
    """Quartz ``NW``: the weekday nearest day N of the month, never crossing into another month."""
    last = calendar.monthrange(year, month)[1]
    if target > last:
        return None
    day = date(year, month, target)
    if day.weekday() == 5:  # Saturday: the Friday before, unless that leaves the month
        return day - timedelta(days=1) if target > 1 else day + timedelta(days=2)
    if day.weekday() == 6:  # Sunday: the Monday after, unless that leaves the month
        return day + timedelta(days=1) if target < last else day - timedelta(days=2)
    return day

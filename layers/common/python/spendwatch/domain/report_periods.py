"""Report periods and schedules: which days a daily, weekly or monthly report covers, and when each is sent.

A report covers the last complete period before the local date it is made on (in the config's ``timezone``):
daily the day before, weekly the previous Monday to Sunday, monthly the previous calendar month. Its days are
calendar days of the data, as ``/v1/costs`` counts them, so its total is ``/v1/costs`` over those days.

``[reports]`` says when each is sent, in local time: ``daily = "09:00"``, ``weekly = "MON 09:00"``,
``monthly = "1 09:00"`` ("" disables one). Each becomes an EventBridge cron expression evaluated in the
config's time zone (EventBridge Scheduler's ``ScheduleExpressionTimezone``), so it fires at 09:00 local time
all year, across daylight-saving changes.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Literal, cast

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

ReportKind = Literal["daily", "weekly", "monthly"]
REPORT_KINDS: tuple[ReportKind, ...] = ("daily", "weekly", "monthly")
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
# The 29th to 31st are missing from some months: a monthly report is sent on a day every month has.
LAST_MONTHLY_DAY = 28

_TIME = r"(?P<hour>[01][0-9]|2[0-3]):(?P<minute>[0-5][0-9])"
_DAILY = re.compile(rf"^{_TIME}$")
_WEEKLY = re.compile(rf"^(?P<weekday>[A-Za-z]{{3}}) {_TIME}$")
_MONTHLY = re.compile(rf"^(?P<day>[0-9]{{1,2}}) {_TIME}$")


def period_of(kind: ReportKind, today: date) -> tuple[date, date]:
    """First and last day of the last complete period before ``today`` (a local calendar date)."""
    if kind == "daily":
        day = today - timedelta(days=1)
        return day, day
    if kind == "weekly":
        this_monday = today - timedelta(days=today.weekday())
        return this_monday - timedelta(days=7), this_monday - timedelta(days=1)
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def previous_period(kind: ReportKind, start: date) -> tuple[date, date]:
    """The period before the one starting on ``start`` (the same kind: a day, a week, a calendar month)."""
    return period_of(kind, start)


def as_of(kind: ReportKind, start: date) -> date:
    """The local date a report for the period starting on ``start`` is made on: the day after the period."""
    if kind == "monthly":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1 if kind == "daily" else 7)


def cron_expression(kind: ReportKind, when: str) -> str | None:
    """The EventBridge cron expression (in local time) of a ``[reports]`` entry; None when it is disabled."""
    text = when.strip()
    if not text:
        return None
    if kind == "daily":
        match = _DAILY.match(text)
        if match:
            return f"cron({int(match['minute'])} {int(match['hour'])} * * ? *)"
        raise ValueError(f"{when!r}: use HH:MM (local time), e.g. '09:00', or '' to disable")
    if kind == "weekly":
        match = _WEEKLY.match(text)
        if match and match["weekday"].upper() in WEEKDAYS:
            return f"cron({int(match['minute'])} {int(match['hour'])} ? * {match['weekday'].upper()} *)"
        raise ValueError(f"{when!r}: use DAY HH:MM (DAY one of {', '.join(WEEKDAYS)}), e.g. 'MON 09:00', or ''")
    match = _MONTHLY.match(text)
    if match and 1 <= int(match["day"]) <= LAST_MONTHLY_DAY:
        return f"cron({int(match['minute'])} {int(match['hour'])} {int(match['day'])} * ? *)"
    raise ValueError(f"{when!r}: use D HH:MM (D from 1 to {LAST_MONTHLY_DAY}), e.g. '1 09:00', or '' to disable")


class Reports(BaseModel):
    """``[reports]``: when each report is sent, in local time of the config's ``timezone`` ("" disables it)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    daily: str = "09:00"
    weekly: str = "MON 09:00"
    monthly: str = "1 09:00"

    @field_validator("daily", "weekly", "monthly")
    @classmethod
    def _when(cls, value: str, info: ValidationInfo) -> str:
        cron_expression(cast(ReportKind, info.field_name), value)
        return value

    def schedules(self) -> dict[ReportKind, str]:
        """The enabled reports' cron expressions, in local time, by kind."""
        found: dict[ReportKind, str] = {}
        for kind in REPORT_KINDS:
            expression = cron_expression(kind, getattr(self, kind))
            if expression is not None:
                found[kind] = expression
        return found

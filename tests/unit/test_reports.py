"""Reports' pure parts: periods, [reports] validation and schedules, cron in a time zone, messages and the CSV."""

from __future__ import annotations

import csv
import io
import logging
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from aws_lambda_powertools import Logger
from spendwatch.channels.report_render import render_text, sparkline, subject
from spendwatch.channels.slack import report_payload
from spendwatch.domain.config import ConfigError, parse_config
from spendwatch.domain.report_periods import as_of, cron_expression, period_of, previous_period
from spendwatch.domain.reports import Report, ReportLine, ReportPoint, ReportProjection, report_json

from report.files import csv_text
from spendwatch_local.eventbridge.schedule import parse_schedule
from spendwatch_local.eventbridge.scheduler import Scheduler
from spendwatch_local.fakes.slack import block_problem


@pytest.mark.parametrize(
    ("kind", "today", "start", "end"),
    [
        ("daily", date(2025, 1, 1), date(2024, 12, 31), date(2024, 12, 31)),
        ("daily", date(2024, 3, 1), date(2024, 2, 29), date(2024, 2, 29)),
        ("weekly", date(2024, 11, 4), date(2024, 10, 28), date(2024, 11, 3)),  # a Monday: the week just ended
        ("weekly", date(2024, 11, 3), date(2024, 10, 21), date(2024, 10, 27)),  # a Sunday: its week is not over
        ("weekly", date(2025, 1, 2), date(2024, 12, 23), date(2024, 12, 29)),
        ("monthly", date(2025, 1, 1), date(2024, 12, 1), date(2024, 12, 31)),
        ("monthly", date(2024, 3, 31), date(2024, 2, 1), date(2024, 2, 29)),
    ],
)
def test_the_last_complete_period_before_a_day(kind: str, today: date, start: date, end: date) -> None:
    assert period_of(kind, today) == (start, end)  # type: ignore[arg-type]
    assert as_of(kind, start) <= today  # type: ignore[arg-type]
    assert period_of(kind, as_of(kind, start)) == (start, end)  # type: ignore[arg-type]
    before_start, before_end = previous_period(kind, start)  # type: ignore[arg-type]
    assert before_end == start - timedelta(days=1) and before_start <= before_end


def test_report_schedules_become_eventbridge_crons_in_local_time() -> None:
    config = parse_config('timezone = "Asia/Tokyo"\n[reports]\ndaily = "07:05"\nweekly = "fri 17:00"\nmonthly = ""\n')
    assert config.reports.schedules() == {"daily": "cron(5 7 * * ? *)", "weekly": "cron(0 17 ? * FRI *)"}
    assert parse_config("").reports.schedules() == {
        "daily": "cron(0 9 * * ? *)",
        "weekly": "cron(0 9 ? * MON *)",
        "monthly": "cron(0 9 1 * ? *)",
    }
    assert cron_expression("monthly", "28 23:59") == "cron(59 23 28 * ? *)"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('daily = "9:00"', "reports.daily"),
        ('daily = "24:00"', "reports.daily"),
        ('weekly = "MONDAY 09:00"', "reports.weekly"),
        ('weekly = "09:00"', "reports.weekly"),
        ('monthly = "31 09:00"', "reports.monthly"),
        ('monthly = "0 09:00"', "reports.monthly"),
        ('hourly = "x"', "reports.hourly"),
    ],
)
def test_bad_report_schedules_are_refused_naming_the_table_and_key(text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        parse_config(f"[reports]\n{text}\n")


@pytest.mark.parametrize(
    ("zone", "after", "fires"),
    [
        # 09:00 in New York is 13:00 UTC until 3 November 2024 and 14:00 UTC after it.
        ("America/New_York", datetime(2024, 11, 1, 14, tzinfo=UTC), ["2024-11-02T13:00", "2024-11-03T14:00"]),
        # Berlin leaves summer time on 27 October 2024; Tokyo has none.
        ("Europe/Berlin", datetime(2024, 10, 26, 8, tzinfo=UTC), ["2024-10-27T08:00", "2024-10-28T08:00"]),
        ("Asia/Tokyo", datetime(2024, 10, 26, 0, tzinfo=UTC), ["2024-10-27T00:00", "2024-10-28T00:00"]),
    ],
)
def test_a_daily_report_fires_at_nine_local_time_across_daylight_saving(
    zone: str, after: datetime, fires: list[str]
) -> None:
    schedule = parse_schedule("cron(0 9 * * ? *)", zone)
    first = schedule.next_after(after)
    assert first is not None
    second = schedule.next_after(first)
    assert second is not None
    assert [f"{t:%Y-%m-%dT%H:%M}" for t in (first, second)] == fires
    assert first.tzinfo == UTC


def test_report_schedules_never_fire_at_start() -> None:
    fired: list[str] = []
    started = datetime(2024, 11, 4, 9, 0, tzinfo=UTC)  # exactly a fire time
    schedules = {"daily": parse_schedule("cron(0 9 * * ? *)", "UTC")}
    scheduler = Scheduler(
        schedules, lambda k, _t: fired.append(k), started, Logger(logger_handler=logging.NullHandler())
    )
    scheduler._clock = lambda: started  # type: ignore[method-assign]
    assert scheduler.next_due() == ("daily", started + timedelta(days=1))
    assert scheduler.run_due() == pytest.approx(30.0) and fired == []


def _report(**extra: object) -> Report:
    days = [date(2024, 10, 21) + timedelta(days=n) for n in range(14)]
    values: dict[str, object] = {
        "kind": "weekly",
        "start": date(2024, 10, 28),
        "end": date(2024, 11, 3),
        "timezone": "America/New_York",
        "generated_at": datetime(2024, 11, 4, 14, tzinfo=UTC),
        "currency": "USD",
        "total": Decimal("700.004"),
        "previous_total": Decimal("600"),
        "projection": ReportProjection(
            month="2024-11", amount=Decimal(3000), lower=Decimal(2800), upper=Decimal(3300), level=80
        ),
        "movers": {"service": [ReportLine(key="EC2 <prod> & co", amount=Decimal(400), previous=Decimal(300))]},
        "trend": [ReportPoint(day=d, amount=Decimal(n % 7 * 10)) for n, d in enumerate(days)],
        "links": {"html": "https://bucket.example/r.html?X-Amz-Signature=abc&x=1"},
    }
    return Report.model_validate({**values, **extra})


def test_sparkline_scales_lowest_to_highest() -> None:
    assert sparkline([Decimal(0), Decimal(5), Decimal(10)]) == "▁▅█"
    assert sparkline([Decimal(3)] * 3) == "▄▄▄"
    assert sparkline([]) == ""


def test_the_messages_carry_the_headline_movers_sparkline_and_link() -> None:
    report = _report()
    text = render_text(report)
    assert text.startswith("spendwatch weekly report 2024-10-28 to 2024-11-03: 700.00 USD")
    assert "+16.7 % against 600.00 USD" in text
    assert "service EC2 <prod> & co: 300.00 -> 400.00 USD (+100.00)" in text
    assert "Daily cost: ▁▂▃▅▆▇█" in text  # the period's seven days
    assert "https://bucket.example/r.html?X-Amz-Signature=abc&x=1" in text
    assert len(subject(report)) < 100 and "\n" not in subject(report)

    payload = report_payload(report)
    assert block_problem(payload) is None
    assert "EC2 &lt;prod&gt; &amp; co" in str(payload)
    (actions,) = [b for b in payload["blocks"] if b["type"] == "actions"]
    assert actions["elements"][0]["url"] == report.links["html"]


def test_a_huge_report_still_fits_slacks_limits() -> None:
    movers = [ReportLine(key="x" * 3000, amount=Decimal(n), previous=Decimal(0)) for n in range(1, 6)]
    report = _report(movers={"service": movers, "provider": movers, "tenant": movers}, links={})
    assert block_problem(report_payload(report)) is None


def test_the_csv_has_a_header_and_exact_amounts_without_a_total_row() -> None:
    rows = [
        (date(2024, 11, 1), "AWS", 'EC2, "prod"', Decimal("1.0000000001")),
        (date(2024, 11, 1), "DigitalOcean", "Droplets", Decimal("2.5")),
    ]
    parsed = list(csv.reader(io.StringIO(csv_text(rows, "USD"))))
    assert parsed[0] == ["day", "provider", "service", "amount", "currency"]
    assert parsed[1:] == [
        ["2024-11-01", "AWS", 'EC2, "prod"', "1.0000000001", "USD"],
        ["2024-11-01", "DigitalOcean", "Droplets", "2.5", "USD"],
    ]


def test_the_wire_format_rounds_money_once_and_keeps_links_out() -> None:
    wire = report_json(_report())
    assert wire["total"] == "700.00" and wire["change_pct"] == "16.7"
    assert wire["projection"] == {
        "month": "2024-11",
        "amount": "3000.00",
        "lower": "2800.00",
        "upper": "3300.00",
        "level": 80,
    }
    assert "links" not in wire and "delivery" not in wire

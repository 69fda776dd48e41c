"""The pure parts of the local runtime: Lambda shapes, the scheduler's loop, arguments and AWS isolation."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from spendwatch_local import cli
from spendwatch_local.aws import isolate_from_real_aws
from spendwatch_local.collect_cmd import UsageError, backfill_window
from spendwatch_local.eventbridge.schedule import parse_schedule
from spendwatch_local.eventbridge.scheduler import Scheduler
from spendwatch_local.lambdas.functions import LocalFunction
from spendwatch_local.lambdas.runs import exit_code, fire_collection, summary_line
from spendwatch_local.lambdas.shapes import LambdaContext, scheduled_event

START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def test_scheduled_event_has_eventbridge_shape() -> None:
    event = scheduled_event("do", START, "us-east-1")
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["time"] == "2026-11-24T08:00:00Z"
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/spendwatch-collect-do"]
    assert event["detail"] == {"source": "do"}
    assert event["id"] != scheduled_event("do", START, "us-east-1")["id"]


def test_backfill_event_carries_the_window() -> None:
    event = scheduled_event("do", START, "eu-west-1", (date(2024, 9, 1), date(2024, 9, 30)))
    assert event["detail"] == {"source": "do", "start": "2024-09-01", "end": "2024-09-30"}
    assert event["region"] == "eu-west-1"


def test_context_serves_powertools_logger() -> None:
    stream = io.StringIO()
    logger = Logger(service="test-local-context", stream=stream)

    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: Any) -> int:
        logger.info("hello")
        return int(context.get_remaining_time_in_millis())

    context = LambdaContext(function_name="spendwatch-collect", region="us-east-1", timeout_seconds=900)
    remaining = handler({}, context)
    assert 899_000 < remaining <= 900_000
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["function_name"] == "spendwatch-collect"
    assert line["function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:spendwatch-collect"
    assert line["function_request_id"] == context.aws_request_id


def test_fire_collection_invokes_with_the_scheduled_event() -> None:
    seen: list[dict[str, Any]] = []

    def collect(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event)
        return {"status": "partial", "records_written": 3, "rejected": 1, "error": None}

    run = fire_collection(LocalFunction("collect", "us-east-1", collect), "files", START)
    assert seen[0]["detail"] == {"source": "files"}
    assert summary_line("files", run) == "collect files: partial, 3 records written, 1 rejected"
    assert exit_code(run) == 0


def test_failed_run_line_names_the_error_and_exits_1() -> None:
    run = {"status": "failed", "records_written": 0, "rejected": 0, "error": "AccessDenied"}
    assert summary_line("do", run) == "collect do: failed, 0 records written, 0 rejected (AccessDenied)"
    assert exit_code(run) == 1


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def quiet_logger() -> Logger:
    return Logger(service="test-local-scheduler", stream=io.StringIO())


def test_scheduler_fires_each_source_when_due_and_reschedules() -> None:
    clock = FakeClock(START)
    fired: list[tuple[str, datetime]] = []
    schedules = {"fast": parse_schedule("rate(5 minutes)"), "hourly": parse_schedule("cron(0 * * * ? *)")}
    scheduler = Scheduler(schedules, lambda s, t: fired.append((s, t)), START, quiet_logger(), clock)

    assert scheduler.next_due() == ("fast", START + timedelta(minutes=5))
    assert scheduler.run_due() == 30.0  # capped: the wall clock is re-read at least every 30 s
    clock.now = START + timedelta(minutes=5)
    assert scheduler.run_due() == 0.0
    clock.now = START + timedelta(hours=1, minutes=2)  # e.g. the laptop slept
    while scheduler.run_due() == 0.0:
        pass
    assert fired == [
        ("fast", START + timedelta(minutes=5)),
        ("fast", START + timedelta(minutes=10)),  # one late fire, then back on the grid
        ("hourly", START + timedelta(hours=1)),
    ]
    assert scheduler.next_due() == ("fast", START + timedelta(hours=1, minutes=5))


def test_a_failing_source_keeps_its_schedule() -> None:
    clock = FakeClock(START + timedelta(days=1))

    def fail(source: str, at: datetime) -> None:
        raise RuntimeError("provider down")

    scheduler = Scheduler({"daily": parse_schedule("rate(1 day)")}, fail, START, quiet_logger(), clock)
    assert scheduler.run_due() == 0.0
    assert scheduler.next_due() == ("daily", START + timedelta(days=2))


def test_a_schedule_that_never_fires_again_is_dropped() -> None:
    scheduler = Scheduler({"old": parse_schedule("cron(0 0 1 1 ? 2020)")}, lambda s, t: None, START, quiet_logger())
    assert scheduler.next_due() is None
    assert scheduler.run_due() is None


def test_backfill_window_rules() -> None:
    assert backfill_window(None, None) is None
    assert backfill_window(date(2024, 9, 1), date(2024, 9, 1)) == (date(2024, 9, 1), date(2024, 9, 1))
    with pytest.raises(UsageError, match="both"):
        backfill_window(date(2024, 9, 1), None)
    with pytest.raises(UsageError, match="before"):
        backfill_window(date(2024, 9, 2), date(2024, 9, 1))


@pytest.mark.parametrize("argv", [["collect", "do", "--start", "2024-9-1"], ["collect", "do", "--end", "20240901"]])
def test_bad_dates_are_usage_errors(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.build_parser().parse_args(argv)
    assert exit_info.value.code == 2


def test_local_defaults() -> None:
    args = cli.build_parser().parse_args(["local"])
    assert (args.port, args.host, args.config, args.demo) == (8321, "127.0.0.1", None, False)


def test_embedded_aws_drops_everything_that_could_reach_a_real_account() -> None:
    environ = {
        "AWS_PROFILE": "prod",
        "AWS_ACCESS_KEY_ID": "AKIAREAL",
        "AWS_SECRET_ACCESS_KEY": "real",
        "AWS_SESSION_TOKEN": "real",
        "AWS_ENDPOINT_URL_DYNAMODB": "https://dynamodb.eu-west-1.amazonaws.com",
        "HOME": "/home/me",
    }
    isolate_from_real_aws(environ)
    assert environ == {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "HOME": "/home/me"}

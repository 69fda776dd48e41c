"""Reporting: one EventBridge Scheduler schedule per enabled report, in the config's time zone, invoking the report
function through a role that may do only that; the function's access to the table and the report files."""

from __future__ import annotations

import json
from typing import Any

import pytest
from spendwatch.platform import resources

from tests.infra.conftest import BASE_CONFIG, Synthesise, Synthesised

CONFIG = BASE_CONFIG.replace('timezone = "Europe/Berlin"', 'timezone = "America/New_York"') + (
    '\n[reports]\ndaily = "09:00"\nweekly = "MON 08:30"\nmonthly = ""\n'
)


@pytest.fixture(scope="module")
def synth(synthesiser: Synthesise, tmp_path_factory: pytest.TempPathFactory) -> Synthesised:
    return synthesiser(tmp_path_factory.mktemp("reporting"), CONFIG)


def _function_id(synth: Synthesised) -> str:
    handler = resources.FUNCTIONS["report"]
    (found,) = [k for k, r in synth.resources("AWS::Lambda::Function").items() if r["Properties"]["Handler"] == handler]
    return found


def _statements(synth: Synthesised, role_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in synth.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def test_one_schedule_per_enabled_report_at_local_time_in_the_config_zone(synth: Synthesised) -> None:
    schedules = {
        json.loads(s["Properties"]["Target"]["Input"])["kind"]: s["Properties"]
        for s in synth.resources("AWS::Scheduler::Schedule").values()
    }
    assert sorted(schedules) == ["daily", "weekly"]
    assert schedules["daily"]["ScheduleExpression"] == "cron(0 9 * * ? *)"
    assert schedules["weekly"]["ScheduleExpression"] == "cron(30 8 ? * MON *)"
    for kind, schedule in schedules.items():
        assert schedule["ScheduleExpressionTimezone"] == "America/New_York"
        assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
        target = schedule["Target"]
        assert target["Arn"] == {"Fn::GetAtt": [_function_id(synth), "Arn"]}
        assert json.loads(target["Input"]) == {"kind": kind, "scheduled_time": "<aws.scheduler.scheduled-time>"}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2
        assert "DeadLetterConfig" in target


def test_the_schedules_role_may_invoke_the_report_function_and_nothing_else(synth: Synthesised) -> None:
    (schedule, *_) = synth.resources("AWS::Scheduler::Schedule").values()
    role_id = schedule["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0]
    role = synth.resources("AWS::IAM::Role")[role_id]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    statements = _statements(synth, role_id)
    assert {a for s in statements for a in _actions(s)} == {"lambda:InvokeFunction", "sqs:SendMessage"}
    invoke = [s for s in statements if _actions(s) == {"lambda:InvokeFunction"}]
    resources_named = json.dumps([s["Resource"] for s in invoke])
    assert _function_id(synth) in resources_named


def test_the_report_function_writes_and_presigns_report_files_only(synth: Synthesised) -> None:
    function = synth.resources("AWS::Lambda::Function")[_function_id(synth)]["Properties"]
    env = function["Environment"]["Variables"]
    assert {resources.ENV_TABLE, resources.ENV_BUCKET, resources.ENV_CONFIG} <= set(env)
    role_id = function["Role"]["Fn::GetAtt"][0]
    s3 = [s for s in _statements(synth, role_id) if any(a.startswith("s3:") for a in _actions(s))]
    assert len(s3) == 1 and _actions(s3[0]) == {"s3:PutObject", "s3:GetObject"}
    assert json.dumps(s3[0]["Resource"]).endswith('"/reports/*"]]}')
    dynamodb = {a for s in _statements(synth, role_id) for a in _actions(s) if a.startswith("dynamodb:")}
    assert {"dynamodb:PutItem", "dynamodb:Query", "dynamodb:GetItem"} <= dynamodb


def test_disabled_reports_have_no_schedule(synthesiser: Synthesise, tmp_path_factory: pytest.TempPathFactory) -> None:
    off = BASE_CONFIG + '\n[reports]\ndaily = ""\nweekly = ""\nmonthly = ""\n'
    synth = synthesiser(tmp_path_factory.mktemp("reporting-off"), off)
    assert synth.resources("AWS::Scheduler::Schedule") == {}

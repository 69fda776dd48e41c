"""Alerting: stream mappings equal to the shared consumer definitions, the failure queue, its alarms, the grants."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_lambda as lambda_
from spendwatch.domain.config import Config
from spendwatch.platform import resources
from spendwatch.store import table as store_table
from spendwatch.store.table import STREAM_CONSUMERS, StreamConsumer

from infra import bundling
from infra.cdk_app import feature_flags
from infra.stacks import names
from infra.stacks.alerting import Alerting
from infra.stacks.pricing import Pricing, Recommending
from infra.stacks.storage import Storage
from tests.infra.conftest import BASE_CONFIG, Synthesise, Synthesised


@pytest.fixture(scope="module")
def synth(synthesiser: Synthesise, tmp_path_factory: pytest.TempPathFactory) -> Synthesised:
    return synthesiser(tmp_path_factory.mktemp("alerting"), BASE_CONFIG)


def _function_id(synth: Synthesised, name: str) -> str:
    handler = resources.FUNCTIONS[name]
    (found,) = [k for k, r in synth.resources("AWS::Lambda::Function").items() if r["Properties"]["Handler"] == handler]
    return found


def _queue_id(synth: Synthesised) -> str:
    (queue_id,) = [k for k in synth.resources("AWS::SQS::Queue") if k.startswith("Alerting")]
    return queue_id


def _statements(synth: Synthesised, function: str) -> list[dict[str, Any]]:
    """Every statement of the policies attached to the role of ``function``."""
    role = synth.resources("AWS::Lambda::Function")[_function_id(synth, function)]["Properties"]["Role"]
    role_id = role["Fn::GetAtt"][0]
    return [
        statement
        for policy in synth.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


# --- stream mappings -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("consumer", STREAM_CONSUMERS, ids=lambda c: c.function)
def test_each_consumer_has_a_mapping_equal_to_its_definition(synth: Synthesised, consumer: StreamConsumer) -> None:
    function_id = _function_id(synth, consumer.function)
    (mapping,) = [
        m["Properties"]
        for m in synth.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    (table_id,) = synth.resources("AWS::DynamoDB::Table")
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BatchSize"] == consumer.batch_size
    assert mapping["MaximumBatchingWindowInSeconds"] == consumer.max_batching_window_seconds
    assert mapping["MaximumRetryAttempts"] == consumer.retry_attempts
    assert mapping["MaximumRecordAgeInSeconds"] == consumer.max_record_age_seconds
    assert mapping["BisectBatchOnFunctionError"] is consumer.bisect_batch_on_error
    assert mapping["ParallelizationFactor"] == consumer.parallelization_factor
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # The filter Lambda applies is the very pattern the local poller applies.
    filters = mapping["FilterCriteria"]["Filters"]
    assert [json.loads(f["Pattern"]) for f in filters] == consumer.filter_patterns()
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": [_queue_id(synth), "Arn"]}}}


def test_one_mapping_per_consumer(synth: Synthesised) -> None:
    synth.template.resource_count_is("AWS::Lambda::EventSourceMapping", len(STREAM_CONSUMERS))


def test_a_consumer_without_a_function_fails_the_synth(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    extra = StreamConsumer(function="alert-unknown", item_types=("x",))
    monkeypatch.setattr(store_table, "STREAM_CONSUMERS", (*STREAM_CONSUMERS, extra))
    stack = cdk.Stack(cdk.App(context=feature_flags()), "S")
    layer = lambda_.LayerVersion(stack, "L", code=lambda_.Code.from_asset(str(tmp_path)))
    storage = Storage(stack, "St")
    others = {
        "price": Pricing(stack, "P", storage=storage, layer=layer, code=tmp_path).price,
        "recommend": Recommending(stack, "R", storage=storage, layer=layer, code=tmp_path).recommend,
    }
    with pytest.raises(KeyError, match="alert-unknown"):
        Alerting(stack, "A", config=Config(), storage=storage, layer=layer, code=tmp_path, stream_functions=others)


# --- functions -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "memory", "timeout"),
    [
        ("alert-evaluate", names.ALERT_EVALUATE_MEMORY_MB, names.ALERT_EVALUATE_TIMEOUT_SECONDS),
        ("alert-deliver", names.ALERT_DELIVER_MEMORY_MB, names.ALERT_DELIVER_TIMEOUT_SECONDS),
    ],
)
def test_alert_functions_settings_and_environment(synth: Synthesised, name: str, memory: int, timeout: int) -> None:
    function = synth.resources("AWS::Lambda::Function")[_function_id(synth, name)]["Properties"]
    assert function["Runtime"] == "python3.11"
    assert function["Architectures"] == ["arm64"]
    assert (function["MemorySize"], function["Timeout"]) == (memory, timeout)
    assert function["LoggingConfig"]["LogFormat"] == "JSON"
    env = function["Environment"]["Variables"]
    (table_id,) = synth.resources("AWS::DynamoDB::Table")
    (topic_id,) = synth.resources("AWS::SNS::Topic")
    assert env[resources.ENV_TABLE] == {"Ref": table_id}
    assert env[resources.ENV_TOPIC] == {"Ref": topic_id}
    assert env[resources.ENV_CONFIG] == names.DEPLOYED_CONFIG_PATH


@pytest.mark.parametrize(
    ("name", "size", "modules"),
    [
        ("price", (names.PRICE_MEMORY_MB, names.PRICE_TIMEOUT_SECONDS), ("handler.py", "reprice.py")),
        ("recommend", (names.RECOMMEND_MEMORY_MB, names.RECOMMEND_TIMEOUT_SECONDS), ("handler.py", "evaluate.py")),
    ],
)
def test_the_table_workers_read_the_table_and_the_config_from_their_own_assets(
    synth: Synthesised, name: str, size: tuple[int, int], modules: tuple[str, ...]
) -> None:
    function = synth.resources("AWS::Lambda::Function")[_function_id(synth, name)]["Properties"]
    assert (function["MemorySize"], function["Timeout"]) == size
    assert function["Handler"] == f"{name}.handler.handler"
    (table_id,) = synth.resources("AWS::DynamoDB::Table")
    assert function["Environment"]["Variables"][resources.ENV_TABLE] == {"Ref": table_id}
    asset = synth.build_dir / "functions" / name
    assert all((asset / name / module).is_file() for module in modules)
    assert (asset / "spendwatch.toml").read_text(encoding="utf-8") == synth.config_text


def test_both_functions_come_from_the_alert_asset(synth: Synthesised) -> None:
    asset = synth.build_dir / "functions" / "alert"
    assert (asset / "alert" / "evaluate" / "handler.py").is_file()
    assert (asset / "alert" / "deliver" / "handler.py").is_file()
    assert (asset / "spendwatch.toml").read_text(encoding="utf-8") == synth.config_text
    codes = {
        json.dumps(synth.resources("AWS::Lambda::Function")[_function_id(synth, name)]["Properties"]["Code"])
        for name in ("alert-evaluate", "alert-deliver")
    }
    assert len(codes) == 1


def test_an_asset_needs_the_module_of_each_of_its_handlers() -> None:
    assert bundling.entry_modules("alert") == ["alert/evaluate/handler.py", "alert/deliver/handler.py"]
    assert bundling.entry_modules("collect") == ["collect/handler.py"]
    assert bundling.entry_modules("report") == ["report/handler.py"]  # not defined yet: the convention


# --- grants --------------------------------------------------------------------------------------------------


def test_evaluate_reads_and_writes_the_table_and_nothing_else_of_note(synth: Synthesised) -> None:
    statements = _statements(synth, "alert-evaluate")
    actions = set().union(*(_actions(s) for s in statements))
    assert {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"} <= actions
    assert not {a for a in actions if a.startswith(("sns:", "secretsmanager:", "kms:"))}


def test_deliver_publishes_to_the_topic_and_reads_only_the_slack_secret(synth: Synthesised) -> None:
    statements = _statements(synth, "alert-deliver")
    (topic_id,) = synth.resources("AWS::SNS::Topic")
    (key_id,) = synth.resources("AWS::KMS::Key")
    assert {"Action": "sns:Publish", "Effect": "Allow", "Resource": {"Ref": topic_id}} in statements
    (kms,) = [s for s in statements if any(a.startswith("kms:") for a in _actions(s))]
    assert kms["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}
    (secret,) = [s for s in statements if "secretsmanager:GetSecretValue" in _actions(s)]
    assert secret["Resource"]["Fn::Join"][1][-1] == f":secret:{Config().secrets.slack_webhook_url}-??????"
    actions = set().union(*(_actions(s) for s in statements))
    assert {"dynamodb:GetItem", "dynamodb:UpdateItem"} <= actions


@pytest.mark.parametrize("name", ["alert-evaluate", "alert-deliver"])
def test_both_may_send_failure_records_to_the_queue(synth: Synthesised, name: str) -> None:
    queue = {"Fn::GetAtt": [_queue_id(synth), "Arn"]}
    assert any("sqs:SendMessage" in _actions(s) and s["Resource"] == queue for s in _statements(synth, name))


def test_the_slack_secret_name_comes_from_the_config(tmp_path: Path) -> None:
    stack = cdk.Stack(cdk.App(context=feature_flags()), "S")
    layer = lambda_.LayerVersion(stack, "L", code=lambda_.Code.from_asset(str(tmp_path)))
    config = Config.model_validate({"secrets": {"slack_webhook_url": "team/slack"}})
    storage = Storage(stack, "St")
    others = {
        "price": Pricing(stack, "P", storage=storage, layer=layer, code=tmp_path).price,
        "recommend": Recommending(stack, "R", storage=storage, layer=layer, code=tmp_path).recommend,
    }
    Alerting(stack, "A", config=config, storage=storage, layer=layer, code=tmp_path, stream_functions=others)
    policies = json.dumps(assertions.Template.from_stack(stack).find_resources("AWS::IAM::Policy"))
    assert ":secret:team/slack-??????" in policies


# --- failure queue and alarms --------------------------------------------------------------------------------


def test_failure_queue_is_encrypted_ssl_only_and_keeps_records_14_days(synth: Synthesised) -> None:
    queue_id = _queue_id(synth)
    queue = synth.resources("AWS::SQS::Queue")[queue_id]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    (policy,) = [
        p["Properties"]
        for p in synth.resources("AWS::SQS::QueuePolicy").values()
        if {"Ref": queue_id} in p["Properties"]["Queues"]
    ]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["PolicyDocument"]["Statement"]
    )


@pytest.mark.parametrize(
    ("metric", "threshold"),
    [("ApproximateNumberOfMessagesVisible", 0), ("ApproximateAgeOfOldestMessage", names.FAILURE_AGE_ALARM_SECONDS)],
)
def test_failure_queue_alarms_notify_the_alerts_topic(synth: Synthesised, metric: str, threshold: int) -> None:
    (topic_id,) = synth.resources("AWS::SNS::Topic")
    (alarm,) = [
        a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == metric
    ]
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [_queue_id(synth), "QueueName"]}}]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (threshold, "GreaterThanThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": topic_id}]


def test_cloudwatch_may_publish_to_the_encrypted_topic(synth: Synthesised) -> None:
    cloudwatch = {"Service": "cloudwatch.amazonaws.com"}
    (topic_policy,) = synth.resources("AWS::SNS::TopicPolicy").values()
    (publish,) = [
        s for s in topic_policy["Properties"]["PolicyDocument"]["Statement"] if s.get("Principal") == cloudwatch
    ]
    assert publish["Action"] == "sns:Publish"
    assert publish["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Join"][1][-1] == ":alarm:*"
    (key,) = synth.resources("AWS::KMS::Key").values()
    (use,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Principal") == cloudwatch]
    assert set(use["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}


# --- staleness schedule --------------------------------------------------------------------------------------


def test_evaluate_runs_hourly_with_a_staleness_scheduled_event(synth: Synthesised) -> None:
    (rule,) = [r["Properties"] for k, r in synth.resources("AWS::Events::Rule").items() if k.startswith("Alerting")]
    assert rule["ScheduleExpression"] == names.STALENESS_SCHEDULE == "rate(1 hour)"
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [_function_id(synth, "alert-evaluate"), "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [_queue_id(synth), "Arn"]}}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == names.ASYNC_RETRY_ATTEMPTS
    scheduled = {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-01-01T06:00:00Z",
        "region": "eu-central-1",
        "resources": ["arn:aws:events:eu-central-1:123456789012:rule/x"],
        "detail": {},
    }
    transformer = target["InputTransformer"]
    rendered = transformer["InputTemplate"]
    for name, path in transformer["InputPathsMap"].items():
        rendered = rendered.replace(f"<{name}>", json.dumps(scheduled[path.removeprefix("$.")]))
    assert json.loads(rendered) == {**scheduled, "detail": {"check": "staleness"}}


def test_a_failed_staleness_check_lands_in_the_failure_queue(synth: Synthesised) -> None:
    synth.template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": {"Ref": _function_id(synth, "alert-evaluate")},
            "MaximumRetryAttempts": names.ASYNC_RETRY_ATTEMPTS,
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [_queue_id(synth), "Arn"]}}},
        },
    )


def test_failure_queue_url_is_an_output(synth: Synthesised) -> None:
    assert synth.template_json["Outputs"]["AlertFailureQueueUrl"]["Value"] == {"Ref": _queue_id(synth)}

"""The stack synthesised from the base config (IAM auth, people sign in with Cognito): storage, collection, API,
cdk-nag and cfn-lint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match
from cfnlint.api import ManualArgs, lint_file
from spendwatch.platform import resources
from spendwatch.store import table as store_table

from tests.infra.conftest import BASE_CONFIG, Synthesise, Synthesised


@pytest.fixture(scope="module")
def synth(synthesiser: Synthesise, tmp_path_factory: pytest.TempPathFactory) -> Synthesised:
    return synthesiser(tmp_path_factory.mktemp("iam"), BASE_CONFIG)


def _function(synth: Synthesised, handler: str) -> dict[str, Any]:
    matches = [
        r["Properties"]
        for r in synth.resources("AWS::Lambda::Function").values()
        if r["Properties"]["Handler"] == handler
    ]
    assert len(matches) == 1, handler
    properties: dict[str, Any] = matches[0]
    return properties


def _collection(synth: Synthesised, resource_type: str) -> dict[str, dict[str, Any]]:
    """Resources of one type that the collection construct owns (alerting has queues, rules and policies too)."""
    return {k: v for k, v in synth.resources(resource_type).items() if k.startswith("Collection")}


def _transform(target: dict[str, Any], event: dict[str, Any]) -> Any:
    """Apply an EventBridge input transformer to ``event`` the way EventBridge does for a JSON template."""
    transformer = target["InputTransformer"]
    rendered = transformer["InputTemplate"]
    for name, path in transformer["InputPathsMap"].items():
        rendered = rendered.replace(f"<{name}>", json.dumps(event[path.removeprefix("$.")]))
    return json.loads(rendered)


# --- storage -------------------------------------------------------------------------------------------------


def test_table_keys_stream_pitr_ttl_and_retention(synth: Synthesised) -> None:
    synth.template.resource_count_is("AWS::DynamoDB::Table", 1)
    synth.template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "Properties": {
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                "BillingMode": "PAY_PER_REQUEST",
                "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
                "SSESpecification": {"SSEEnabled": True},
            },
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )


def test_table_matches_the_local_runtime_definition(synth: Synthesised) -> None:
    # The local runtime creates its table from store_table.table_create_kwargs: both must describe the same table.
    local = store_table.table_create_kwargs("t")
    (table,) = synth.resources("AWS::DynamoDB::Table").values()
    assert table["Properties"]["KeySchema"] == local["KeySchema"]
    assert table["Properties"]["AttributeDefinitions"] == local["AttributeDefinitions"]
    assert (
        table["Properties"]["StreamSpecification"]["StreamViewType"] == local["StreamSpecification"]["StreamViewType"]
    )


def test_buckets_are_encrypted_private_and_ssl_only(synth: Synthesised) -> None:
    buckets = synth.resources("AWS::S3::Bucket")
    assert len(buckets) == 2  # data and its access-log destination
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
            "SSEAlgorithm": "AES256"
        }
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert bucket["DeletionPolicy"] == "Retain"
    for policy in synth.resources("AWS::S3::BucketPolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
            for s in statements
        )


def test_data_bucket_is_versioned_and_logs_access(synth: Synthesised) -> None:
    synth.template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "VersioningConfiguration": {"Status": "Enabled"},
            "LoggingConfiguration": {"DestinationBucketName": Match.any_value(), "LogFilePrefix": "data/"},
        },
    )


def test_alerts_topic_is_kms_encrypted_and_ssl_only(synth: Synthesised) -> None:
    synth.template.has_resource_properties(
        "AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": [Match.any_value(), "Arn"]}}
    )
    synth.template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    synth.template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )


# --- functions -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "memory", "timeout"), [("collect", 512, 300), ("api", 256, 29)])
def test_functions_are_arm64_python311_with_json_logs(synth: Synthesised, name: str, memory: int, timeout: int) -> None:
    function = _function(synth, resources.FUNCTIONS[name])
    assert function["Runtime"] == "python3.11"
    assert function["Architectures"] == ["arm64"]
    assert function["MemorySize"] == memory
    assert function["Timeout"] == timeout
    assert function["LoggingConfig"]["LogFormat"] == "JSON"
    assert len(function["Layers"]) == 1
    env = function["Environment"]["Variables"]
    assert env[resources.ENV_TABLE] == {"Ref": next(iter(synth.resources("AWS::DynamoDB::Table")))}
    assert resources.ENV_BUCKET in env
    assert env[resources.ENV_CONFIG] == "/var/task/spendwatch.toml"
    assert env["POWERTOOLS_SERVICE_NAME"] == "spendwatch"
    assert env["POWERTOOLS_LOG_LEVEL"] == "INFO"


def test_only_the_api_is_told_the_gateway_authenticates(synth: Synthesised) -> None:
    assert _function(synth, "api.handler.handler")["Environment"]["Variables"][resources.ENV_API_AUTH] == "gateway"
    assert resources.ENV_API_AUTH not in _function(synth, "collect.handler.handler")["Environment"]["Variables"]


def test_each_function_logs_to_its_own_group_with_retention(synth: Synthesised) -> None:
    groups = synth.resources("AWS::Logs::LogGroup")
    assert all(g["Properties"]["RetentionInDays"] == 30 for g in groups.values())
    for handler in resources.FUNCTIONS.values():
        assert _function(synth, handler)["LoggingConfig"]["LogGroup"]["Ref"] in groups


def test_no_aws_managed_policies_are_attached(synth: Synthesised) -> None:
    assert all("ManagedPolicyArns" not in r["Properties"] for r in synth.resources("AWS::IAM::Role").values())


def test_collect_has_a_dead_letter_queue_and_bounded_retries(synth: Synthesised) -> None:
    (queue_id,) = _collection(synth, "AWS::SQS::Queue")
    synth.template.has_resource_properties("AWS::SQS::Queue", {"SqsManagedSseEnabled": True})
    synth.template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "MaximumRetryAttempts": 2,
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [queue_id, "Arn"]}}},
        },
    )
    assert _function(synth, "collect.handler.handler")["ReservedConcurrentExecutions"] == 2


# --- schedules -----------------------------------------------------------------------------------------------


def test_one_rule_per_enabled_source(synth: Synthesised) -> None:
    rules = list(_collection(synth, "AWS::Events::Rule").values())
    assert [r["Properties"]["ScheduleExpression"] for r in rules] == ["rate(6 hours)"]
    (target,) = rules[0]["Properties"]["Targets"]
    assert '"source":"focus-exports"' in target["InputTransformer"]["InputTemplate"]
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2
    assert "DeadLetterConfig" in target


def test_rule_delivers_a_real_scheduled_event_naming_the_source(synth: Synthesised) -> None:
    (rule,) = _collection(synth, "AWS::Events::Rule").values()
    (target,) = rule["Properties"]["Targets"]
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
    assert _transform(target, scheduled) == {**scheduled, "detail": {"source": "focus-exports"}}


def test_focus_prefix_is_readable_and_nothing_more(synth: Synthesised) -> None:
    statements = [
        s
        for p in synth.resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if "some-bucket" in json.dumps(s["Resource"])
    ]
    by_action = {s["Action"]: s for s in statements}
    assert set(by_action) == {"s3:GetObject", "s3:ListBucket"}
    assert by_action["s3:GetObject"]["Resource"]["Fn::Join"][1][-1] == ":s3:::some-bucket/focus/*"
    assert by_action["s3:ListBucket"]["Resource"]["Fn::Join"][1][-1] == ":s3:::some-bucket"
    assert by_action["s3:ListBucket"]["Condition"] == {"StringLike": {"s3:prefix": ["focus/*"]}}


def test_disabled_source_gets_no_access(synth: Synthesised) -> None:
    policies = json.dumps(_collection(synth, "AWS::IAM::Policy"))
    assert "secretsmanager" not in policies
    assert "ce:GetCostAndUsage" not in policies


# --- API -----------------------------------------------------------------------------------------------------


def _methods(synth: Synthesised) -> dict[str, dict[str, Any]]:
    """API methods keyed by "VERB /path", from the resources' path parts."""
    api_resources = synth.resources("AWS::ApiGateway::Resource")

    def path(ref: Any) -> str:
        if "Fn::GetAtt" in ref:
            return ""
        resource = api_resources[ref["Ref"]]["Properties"]
        return f"{path(resource['ParentId'])}/{resource['PathPart']}"

    return {
        f"{m['Properties']['HttpMethod']} {path(m['Properties']['ResourceId']) or '/'}": m["Properties"]
        for m in synth.resources("AWS::ApiGateway::Method").values()
    }


def test_machines_need_iam_and_the_page_is_for_people_signed_in_by_the_function(synth: Synthesised) -> None:
    methods = _methods(synth)
    people = {"GET /", "GET /auth/callback", "POST /auth/signout"}  # dashboard = "cognito" by default
    assert set(methods) == {"GET /health", "GET /metrics", "ANY /v1/{proxy+}"} | people
    assert methods.pop("GET /health")["AuthorizationType"] == "NONE"
    for route in people:
        # The function checks the Cognito session (tests/integration/test_signin.py), so the gateway lets it in.
        assert methods.pop(route)["AuthorizationType"] == "NONE"
    for method in methods.values():
        assert method["AuthorizationType"] == "AWS_IAM"
        assert method.get("ApiKeyRequired") is not True
    synth.template.resource_count_is("AWS::ApiGateway::ApiKey", 0)
    synth.template.resource_count_is("AWS::Cognito::UserPool", 1)


def test_stage_throttles_and_writes_access_logs(synth: Synthesised) -> None:
    synth.template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "AccessLogSetting": {"DestinationArn": Match.any_value(), "Format": Match.string_like_regexp("requestId")},
            "MethodSettings": [
                Match.object_like(
                    {"HttpMethod": "*", "ResourcePath": "/*", "ThrottlingRateLimit": 20, "ThrottlingBurstLimit": 40}
                )
            ],
        },
    )


def test_outputs(synth: Synthesised) -> None:
    assert {"TableName", "BucketName", "AlertsTopicArn", "ApiUrl"} <= set(synth.template_json["Outputs"])


# --- assets --------------------------------------------------------------------------------------------------


def test_function_asset_holds_its_package_and_the_config(synth: Synthesised) -> None:
    asset = synth.build_dir / "functions" / "collect"
    assert (asset / "collect" / "handler.py").is_file()
    assert (asset / "spendwatch.toml").read_text(encoding="utf-8") == synth.config_text
    assert not list(asset.rglob("__pycache__"))
    assert not (asset / "collect" / "tests").exists()


def test_layer_without_dependencies_holds_only_the_package(synth: Synthesised) -> None:
    python_dir = synth.build_dir / "layer" / "common" / "python"
    assert [p.name for p in python_dir.iterdir()] == ["spendwatch"]
    assert (python_dir / "spendwatch" / "domain" / "config.py").is_file()


# --- checks --------------------------------------------------------------------------------------------------


def test_cdk_nag_reports_no_unacknowledged_findings(synth: Synthesised) -> None:
    # synth() raising would already fail the fixture; the report also lists warnings, which must be handled too.
    for plugin in synth.validation_report()["pluginReports"]:
        assert plugin["conclusion"] == "success", plugin
        assert plugin.get("violations", []) == []


def test_every_acknowledgment_suppresses_a_finding(synth: Synthesised) -> None:
    assert synth.unused_acknowledgments() == set()


def test_cfn_lint_is_clean(synth: Synthesised) -> None:
    # W3005 (redundant DependsOn) is how CDK orders a function after its role's policy: harmless and unfixable here.
    matches = lint_file(Path(synth.template_file), ManualArgs(ignore_checks=["W3005"]))
    assert [f"{m.rule.id} {m.message}" for m in matches] == []


def test_synth_has_no_warnings(synth: Synthesised) -> None:
    assert synth.warnings == []

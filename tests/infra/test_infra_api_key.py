"""The stack with API-key auth (the page's too) and every kind of source enabled: key and usage plan, per-source
access."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match
from cfnlint.api import ManualArgs, lint_file
from spendwatch.domain.config import parse_config
from spendwatch.platform import resources

from infra.stacks.collection import reads_aws_inventory
from tests.infra.conftest import Synthesise, Synthesised

CONFIG = """
[[sources]]
name = "aws"
type = "aws_ce"
schedule = "cron(0 3 * * ? *)"
inventory = true

[[sources]]
name = "do"
type = "digitalocean"
schedule = "cron(0 */6 * * ? *)"

[[sources]]
name = "vercel"
type = "vercel"
schedule = "rate(1 day)"

[[sources]]
name = "whole-bucket"
type = "focus"
path = "s3://exports-bucket"

[[sources]]
name = "local-files"
type = "focus"
path = "./exports/"
schedule = "rate(30 minutes)"

[api]
auth = "api_key"
dashboard = "api_key"
throttle_rate = 5
throttle_burst = 10
keys = ["grafana", "finance"]

[secrets]
digitalocean_token = "team/do-token"
"""


@pytest.fixture(scope="module")
def synth(synthesiser: Synthesise, tmp_path_factory: pytest.TempPathFactory) -> Synthesised:
    return synthesiser(tmp_path_factory.mktemp("api-key"), CONFIG, collect_concurrency="none")


def _collect_statements(synth: Synthesised) -> list[dict[str, Any]]:
    return [
        statement
        for policy in synth.resources("AWS::IAM::Policy").values()
        if any("Collect" in role["Ref"] for role in policy["Properties"]["Roles"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_every_route_but_health_requires_the_api_key(synth: Synthesised) -> None:
    methods = list(synth.resources("AWS::ApiGateway::Method").values())
    assert len(methods) == 4
    open_methods = [m for m in methods if not m["Properties"].get("ApiKeyRequired")]
    assert len(open_methods) == 1
    assert open_methods[0]["Properties"]["ResourceId"]["Ref"].startswith("ApiRestApihealth")
    assert all(m["Properties"]["AuthorizationType"] == "NONE" for m in methods)
    # The page takes the API key too: no user pool.
    assert not synth.resources("AWS::Cognito::UserPool")
    assert resources.ENV_COGNITO_POOL_ID not in _api_environment(synth)


def _api_environment(synth: Synthesised) -> dict[str, Any]:
    (function,) = [
        f
        for f in synth.resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "api.handler.handler"
    ]
    variables: dict[str, Any] = function["Properties"]["Environment"]["Variables"]
    return variables


def test_usage_plan_throttles_each_configured_key_on_its_own(synth: Synthesised) -> None:
    keys = synth.resources("AWS::ApiGateway::ApiKey")
    (plan_id,) = synth.resources("AWS::ApiGateway::UsagePlan")
    synth.template.has_resource_properties(
        "AWS::ApiGateway::UsagePlan",
        {
            "Throttle": {"RateLimit": 5, "BurstLimit": 10},
            "ApiStages": [Match.object_like({"Stage": Match.any_value()})],
        },
    )
    plan_keys = synth.resources("AWS::ApiGateway::UsagePlanKey").values()
    assert sorted(k["Properties"]["KeyId"]["Ref"] for k in plan_keys) == sorted(keys)
    assert all(k["Properties"]["UsagePlanId"] == {"Ref": plan_id} for k in plan_keys)
    outputs = synth.template_json["Outputs"]
    assert {outputs[f"ApiKeyId{name}"]["Value"]["Ref"] for name in ("grafana", "finance")} == set(keys)
    assert sorted(k["Properties"]["Description"] for k in keys.values()) == [
        "spendwatch API key for finance",
        "spendwatch API key for grafana",
    ]


def test_access_logs_name_the_key_that_called(synth: Synthesised) -> None:
    (stage,) = synth.resources("AWS::ApiGateway::Stage").values()
    fields = json.loads(stage["Properties"]["AccessLogSetting"]["Format"])
    assert fields["apiKeyId"] == "$context.identity.apiKeyId"
    assert {"requestId", "status", "userArn", "resourcePath", "responseLatency"} <= set(fields)


def test_stage_throttle_follows_config(synth: Synthesised) -> None:
    synth.template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {"MethodSettings": [Match.object_like({"ThrottlingRateLimit": 5, "ThrottlingBurstLimit": 10})]},
    )


def test_one_rule_per_enabled_source(synth: Synthesised) -> None:
    rules = [r for k, r in synth.resources("AWS::Events::Rule").items() if k.startswith("Collection")]
    expressions = sorted(r["Properties"]["ScheduleExpression"] for r in rules)
    assert expressions == [
        "cron(0 */6 * * ? *)",
        "cron(0 3 * * ? *)",
        "rate(1 day)",
        "rate(30 minutes)",
        "rate(6 hours)",
    ]


def test_cost_explorer_read_is_granted_for_aws_ce(synth: Synthesised) -> None:
    assert {"Action": "ce:GetCostAndUsage", "Effect": "Allow", "Resource": "*"} in _collect_statements(synth)


def test_the_aws_inventory_reads_are_granted_when_a_cost_explorer_source_reads_it(synth: Synthesised) -> None:
    actions = [
        "ec2:DescribeInstances",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeVolumes",
        "ec2:DescribeAddresses",
        "cloudwatch:GetMetricData",
        "pricing:GetProducts",
    ]
    found = [s for s in _collect_statements(synth) if "pricing:GetProducts" in s["Action"]]
    assert found == [{"Action": sorted(actions), "Effect": "Allow", "Resource": "*"}], found


@pytest.mark.parametrize(
    ("sources", "granted"),
    [
        ('name = "a"\ntype = "aws_ce"\n', False),
        ('name = "a"\ntype = "aws_ce"\ninventory = true\nenabled = false\n', False),
        ('name = "a"\ntype = "aws_ce"\ninventory = true\n', True),
        ('name = "d"\ntype = "digitalocean"\n', False),
    ],
)
def test_only_an_enabled_cost_explorer_source_with_inventory_gets_the_inventory_reads(
    sources: str, granted: bool
) -> None:
    assert reads_aws_inventory(parse_config(f"[[sources]]\n{sources}")) is granted


def test_provider_tokens_are_readable_by_their_configured_names(synth: Synthesised) -> None:
    secrets = [s for s in _collect_statements(synth) if s["Action"] == "secretsmanager:GetSecretValue"]
    suffixes = sorted(s["Resource"]["Fn::Join"][1][-1] for s in secrets)
    assert suffixes == [":secret:spendwatch/vercel-token-??????", ":secret:team/do-token-??????"]


def test_focus_bucket_without_prefix_is_readable_whole(synth: Synthesised) -> None:
    s3 = [s for s in _collect_statements(synth) if "exports-bucket" in json.dumps(s["Resource"])]
    by_action = {s["Action"]: s for s in s3}
    assert by_action["s3:GetObject"]["Resource"]["Fn::Join"][1][-1] == ":s3:::exports-bucket/*"
    assert "Condition" not in by_action["s3:ListBucket"]


def test_local_focus_path_is_flagged_not_granted(synth: Synthesised) -> None:
    assert "exports/" not in json.dumps(_collect_statements(synth))
    assert len(synth.warnings) == 1
    assert "local-files" in synth.warnings[0]


def test_collect_concurrency_can_be_left_unreserved(synth: Synthesised) -> None:
    functions = synth.resources("AWS::Lambda::Function").values()
    assert all("ReservedConcurrentExecutions" not in f["Properties"] for f in functions)


def test_every_acknowledgment_suppresses_a_finding(synth: Synthesised) -> None:
    assert synth.unused_acknowledgments() == set()


def test_cdk_nag_and_cfn_lint_are_clean(synth: Synthesised) -> None:
    report = synth.validation_report()
    assert {p["pluginName"]: p["conclusion"] for p in report["pluginReports"]}["AwsSolutions"] == "success"
    assert all(p["conclusion"] == "success" for p in report["pluginReports"])
    matches = lint_file(Path(synth.template_file), ManualArgs(ignore_checks=["W3005"]))
    assert [f"{m.rule.id} {m.message}" for m in matches] == []


def test_gateway_refusals_answer_in_the_api_error_shape(synth: Synthesised) -> None:
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in synth.resources("AWS::ApiGateway::GatewayResponse").values()
    }
    assert {"THROTTLED", "QUOTA_EXCEEDED", "INVALID_API_KEY", "ACCESS_DENIED", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(
        responses
    )
    template = responses["THROTTLED"]["ResponseTemplates"]["application/json"]
    rendered = json.loads(template.replace("$context.error.messageString", '"Too Many Requests"'))
    assert rendered == {"error": {"code": "throttled", "message": "Too Many Requests"}}
    assert responses["INVALID_API_KEY"]["ResponseParameters"] == {
        "gatewayresponse.header.Content-Type": "'application/json'"
    }

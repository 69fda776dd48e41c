"""The deployment's own cost: every resource carries ``spendwatch:component``, and the stack deploys what
``spendwatch cost-of-running`` prices (functions and their memory, schedules, alarms, keys, queues)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from spendwatch.domain.config import parse_config
from spendwatch.domain.selfcost import footprint
from spendwatch.platform import resources

from infra.stacks import names
from infra.stacks.spendwatch_stack import component_name
from tests.infra.conftest import Synthesise, Synthesised

# Every source type that adds resources or grants, an e-mail channel (a subscription) and API keys (a usage plan).
CONFIG = """
currency = "USD"

[[sources]]
name = "focus-exports"
type = "focus"
path = "s3://some-bucket/focus/"
schedule = "rate(6 hours)"

[[sources]]
name = "aws"
type = "aws_ce"
schedule = "cron(0 */6 * * ? *)"
inventory = true
tag_keys = ["team"]

[[sources]]
name = "do"
type = "digitalocean"
schedule = "rate(1 day)"

[[sources]]
name = "k8s"
type = "opencost"
url = "http://opencost.example.com:9003"
enabled = false

[api]
auth = "api_key"
keys = ["grafana", "scripts"]

[[channels]]
type = "email"
address = "finops@example.com"
"""

# Resources that hold state or cost money on their own, each of which must be tagged (and is taggable).
MUST_BE_TAGGED = {
    "AWS::Lambda::Function",
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::SNS::Topic",
    "AWS::SQS::Queue",
    "AWS::KMS::Key",
    "AWS::Events::Rule",
    "AWS::Logs::LogGroup",
    "AWS::ApiGateway::RestApi",
    "AWS::ApiGateway::Stage",
    "AWS::ApiGateway::ApiKey",
    "AWS::ApiGateway::UsagePlan",
    "AWS::CloudWatch::Alarm",
    "AWS::IAM::Role",
}


@pytest.fixture(scope="module")
def synth(synthesiser: Synthesise, tmp_path_factory: pytest.TempPathFactory) -> Synthesised:
    return synthesiser(tmp_path_factory.mktemp("selfcost"), CONFIG)


def _resources(synth: Synthesised) -> list[tuple[str, cdk.CfnResource]]:
    """(logical id, L1 resource) of every resource in the stack."""
    return [
        (str(synth.stack.resolve(node.logical_id)), node)
        for node in synth.stack.node.find_all()
        if isinstance(node, cdk.CfnResource)
    ]


def _rendered_tags(properties: dict[str, Any], tag_property: str) -> dict[str, str]:
    """The tags as the template renders them; ``tag_property`` is CDK's name for them (``tags``, ``userPoolTags``)."""
    rendered = properties.get(tag_property[:1].upper() + tag_property[1:]) or {}
    if isinstance(rendered, list):
        return {tag["Key"]: tag["Value"] for tag in rendered}
    return dict(rendered)


def test_every_taggable_resource_carries_its_component(synth: Synthesised) -> None:
    template = synth.template_json["Resources"]
    untagged, checked = [], set()
    for logical_id, node in _resources(synth):
        manager = cdk.TagManager.of(node)  # None where the resource type takes no tags
        if manager is None:
            continue
        top_level = node.node.path.split("/")[1]  # Spendwatch/Storage/Table/Resource -> Storage
        tags = _rendered_tags(template[logical_id].get("Properties", {}), manager.tag_property_name)
        if tags.get(names.COMPONENT_TAG) != component_name(top_level):
            untagged.append((logical_id, node.cfn_resource_type, tags.get(names.COMPONENT_TAG)))
        checked.add(node.cfn_resource_type)
    assert untagged == []
    assert checked >= MUST_BE_TAGGED, MUST_BE_TAGGED - checked


def test_components_are_the_stacks_concerns(synth: Synthesised) -> None:
    values = {
        tag["Value"]
        for resource in synth.template_json["Resources"].values()
        for tag in resource.get("Properties", {}).get("Tags", [])
        if isinstance(tag, dict) and tag.get("Key") == names.COMPONENT_TAG
    }
    assert {"storage", "collection", "api", "pricing", "recommending", "alerting"} <= values
    assert component_name("AuditLog") == "audit-log"
    assert component_name("CommonLayer") == "shared"


def test_the_project_tag_is_kept_beside_the_component(synth: Synthesised) -> None:
    table = next(iter(synth.resources("AWS::DynamoDB::Table").values()))
    tags = _rendered_tags(table["Properties"], "tags")
    assert tags == {"project": "spendwatch", names.COMPONENT_TAG: "storage"}


# --- what the estimate prices is what the stack deploys --------------------------------------------------------


def test_every_function_and_its_memory_is_priced(synth: Synthesised) -> None:
    by_handler = {handler: name for name, handler in resources.FUNCTIONS.items()}
    deployed = {
        by_handler.get(properties["Handler"], properties["Handler"]): properties["MemorySize"]
        for properties in (r["Properties"] for r in synth.resources("AWS::Lambda::Function").values())
    }
    # A new function must be priced: add it to spendwatch.domain.selfcost.footprint and to the estimate's volumes.
    assert deployed == footprint.FUNCTION_MEMORY_MB


def test_alarms_keys_queues_and_schedules_are_priced(synth: Synthesised) -> None:
    config = parse_config(CONFIG)
    assert len(synth.resources("AWS::CloudWatch::Alarm")) == footprint.ALARMS
    assert len(synth.resources("AWS::KMS::Key")) == footprint.CUSTOMER_MANAGED_KEYS
    assert len(synth.resources("AWS::SQS::Queue")) == footprint.QUEUES
    rules = synth.resources("AWS::Events::Rule")
    assert len(rules) == len(config.enabled_sources) + len(footprint.FIXED_SCHEDULES)
    expressions = sorted(rule["Properties"]["ScheduleExpression"] for rule in rules.values())
    assert expressions == sorted(
        [source.schedule for source in config.enabled_sources] + list(footprint.FIXED_SCHEDULES.values())
    )
    assert footprint.FIXED_SCHEDULES["staleness"] == resources.STALENESS_SCHEDULE


def test_the_api_stage_is_not_traced(synth: Synthesised) -> None:
    # X-Ray would record only the gateway's segment (the functions are not traced) at $5 per million requests.
    (stage,) = synth.resources("AWS::ApiGateway::Stage").values()
    assert stage["Properties"].get("TracingEnabled") in (None, False)


def test_cdk_nag_is_clean_with_every_source_and_a_channel(synth: Synthesised) -> None:
    for plugin in synth.validation_report()["pluginReports"]:
        assert plugin["conclusion"] == "success", plugin
    assert synth.unused_acknowledgments() == set()

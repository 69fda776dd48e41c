"""The Cost Explorer source with ``inventory = true`` on moto (EC2, CloudWatch) and the local Price List API fake.

What moto holds (instances, volumes, addresses, metric data) and what the fake prices are what the stored inventory,
the utilisation usage items, the run's request count and the recommendations must show, to the cent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from spendwatch.domain.config import parse_config
from spendwatch.domain.models import UsageItem
from spendwatch.domain.recommendations import evaluate
from spendwatch.domain.recommendations.aws import aws_engine_inventory
from spendwatch.domain.recommendations.inputs import Inputs
from spendwatch.domain.recommendations.stored import UTILISATION_METRICS, daily_utilisation
from spendwatch.domain.runs import CollectionRun
from spendwatch.platform import aws

from spendwatch_local.fakes.aws_pricing import ENDPOINT_ENV, FakePricing
from tests.integration.conftest import store

NOW = datetime(2025, 3, 15, 6, 0, tzinfo=UTC)
TODAY = NOW.date()
DAYS = [TODAY - timedelta(days=n) for n in range(14, 0, -1)]  # the 14 complete days before today
CONFIG = '[[sources]]\nname = "aws"\ntype = "aws_ce"\ninventory = true\n'


@dataclass(frozen=True)
class Load:
    """One instance's daily CPU average and maximum and memory average, in percent (memory None: no agent)."""

    cpu_avg: str
    cpu_max: str
    memory: str | None = None


@pytest.fixture
def pricing(aws_env: dict[str, Any]) -> Iterator[FakePricing]:
    """The Price List API fake, where botocore sends the pricing client."""
    with FakePricing() as fake:
        aws_env["monkeypatch"].setenv(ENDPOINT_ENV, fake.url)
        aws.client.cache_clear()
        yield fake


def _instance(ec2: Any, instance_type: str, name: str, count: int = 1) -> list[str]:
    tags = [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}]
    reservation = ec2.run_instances(
        ImageId="ami-12c6146b", InstanceType=instance_type, MinCount=count, MaxCount=count, TagSpecifications=tags
    )
    return [row["InstanceId"] for row in reservation["Instances"]]


def _load(instance_id: str, load: Load) -> None:
    """The same daily load on each of the 14 days, sampled twice a day: the maximum, and what makes the average."""
    cw = boto3.client("cloudwatch")
    dimensions = [{"Name": "InstanceId", "Value": instance_id}]
    for day in DAYS:
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        avg, peak = Decimal(load.cpu_avg), Decimal(load.cpu_max)
        samples = [peak, 2 * avg - peak]
        cpu = [
            {
                "MetricName": "CPUUtilization",
                "Dimensions": dimensions,
                "Timestamp": midnight + timedelta(hours=12 * n),
                "Value": float(value),
                "Unit": "Percent",
            }
            for n, value in enumerate(samples)
        ]
        cw.put_metric_data(Namespace="AWS/EC2", MetricData=cpu)
        if load.memory is not None:
            memory = {
                "MetricName": "mem_used_percent",
                "Dimensions": dimensions,
                "Timestamp": midnight,
                "Value": float(load.memory),
            }
            cw.put_metric_data(Namespace="CWAgent", MetricData=[memory])


def _collect(aws_env: dict[str, Any]) -> CollectionRun:
    from collect.runner import collect

    config = parse_config(CONFIG)
    return collect(config.sources[0], config, store(), clock=lambda: NOW)


@pytest.fixture
def account(aws_env: dict[str, Any], pricing: FakePricing) -> dict[str, Any]:
    """An account with an idle m5.large, an oversized m5.xlarge, a busy c5.large, a stopped t3.micro, an idle
    r5.large the fake has no price for, volumes and addresses (attached or not, priced or not)."""
    ec2 = boto3.client("ec2")
    ids = {
        "idle": _instance(ec2, "m5.large", "idle-worker")[0],
        "oversized": _instance(ec2, "m5.xlarge", "oversized-api")[0],
        "busy": _instance(ec2, "c5.large", "busy-batch")[0],
        "stopped": _instance(ec2, "t3.micro", "stopped-box")[0],
        "unpriced": _instance(ec2, "r5.large", "unpriced-cache")[0],
    }
    ec2.stop_instances(InstanceIds=[ids["stopped"]])
    _load(ids["idle"], Load("1.5", "2.5", "20"))
    _load(ids["oversized"], Load("20", "35", "30"))
    _load(ids["busy"], Load("80", "97"))
    _load(ids["unpriced"], Load("0.5", "1"))
    zone = "us-east-1a"
    loose = ec2.create_volume(AvailabilityZone=zone, Size=100, VolumeType="gp3")["VolumeId"]
    exotic = ec2.create_volume(AvailabilityZone=zone, Size=50, VolumeType="io2", Iops=1000)["VolumeId"]
    used = ec2.create_volume(AvailabilityZone=zone, Size=20, VolumeType="gp3")["VolumeId"]
    ec2.attach_volume(VolumeId=used, InstanceId=ids["busy"], Device="/dev/sdf")
    free_ip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    held_ip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=held_ip, InstanceId=ids["busy"])
    return {**ids, "loose": loose, "exotic": exotic, "used": used, "free_ip": free_ip, "held_ip": held_ip}


def _usage() -> list[UsageItem]:
    return list(store().usage_items(DAYS[0], TODAY, UTILISATION_METRICS))


def test_the_inventory_is_stored_with_the_price_lists_prices(account: dict[str, Any], pricing: FakePricing) -> None:
    run = _collect(account)

    assert run.status == "succeeded", run
    inventory = store().inventory("aws")
    assert inventory is not None
    instances = {i.id: i for i in inventory.instances or ()}
    assert {name: instances[account[name]].state for name in ("idle", "oversized", "busy", "unpriced", "stopped")} == {
        "idle": "running",
        "oversized": "running",
        "busy": "running",
        "unpriced": "running",
        "stopped": "stopped",
    }
    assert instances[account["idle"]].name == "idle-worker" and instances[account["idle"]].region == "us-east-1"
    types = {t.name: (t.vcpus, t.memory_mib, t.price_monthly) for t in inventory.instance_types or ()}
    # Every type in use, priced x 730 from the fake's hourly prices; r5.large has none there.
    assert types == {
        "m5.large": (2, 8192, Decimal("70.08")),  # 0.096 x 730
        "m5.xlarge": (4, 16384, Decimal("140.16")),  # 0.192 x 730
        "c5.large": (2, 4096, Decimal("62.05")),  # 0.085 x 730
        "t3.micro": (2, 1024, Decimal("7.59")),  # 0.0104 x 730 = 7.592
        "r5.large": (2, 16384, None),
    }
    volumes = {v.id: v for v in inventory.ebs_volumes or ()}
    assert (volumes[account["loose"]].attached, volumes[account["loose"]].price_monthly) == (False, Decimal("8.00"))
    assert volumes[account["used"]].instance_ids == [account["busy"]]
    assert volumes[account["exotic"]].price_monthly is None  # io2 is not in the fake's price list
    addresses = {a.allocation_id: a for a in inventory.elastic_ips or ()}
    assert addresses[account["free_ip"]].associated is False
    assert addresses[account["free_ip"]].price_monthly == Decimal("3.65")  # 0.005 x 730
    assert addresses[account["held_ip"]].associated is True
    assert run.notes == [
        "no price from the AWS Price List API for instance type r5.large in us-east-1: no product matched; "
        "listed without savings",
        "no price from the AWS Price List API for EBS io2 in us-east-1: no product matched; listed without savings",
    ]


def test_utilisation_usage_items_are_the_cloudwatch_percentages_as_ratios(account: dict[str, Any]) -> None:
    _collect(account)

    days: dict[tuple[str, str], set[tuple[date, Decimal]]] = {}
    for item in _usage():
        assert (item.ProviderName, item.unit, item.x_source) == ("AWS", "ratio", "aws")
        days.setdefault((item.ResourceId, item.metric), set()).add((item.day, item.quantity))

    def each_day(value: str) -> set[tuple[date, Decimal]]:
        return {(day, Decimal(value)) for day in DAYS}

    assert days[(account["idle"], "cpu_utilisation_avg")] == each_day("0.015")
    assert days[(account["idle"], "cpu_utilisation_peak")] == each_day("0.025")
    assert days[(account["idle"], "memory_utilisation_avg")] == each_day("0.2")
    assert days[(account["oversized"], "cpu_utilisation_avg")] == each_day("0.2")
    assert days[(account["oversized"], "cpu_utilisation_peak")] == each_day("0.35")
    assert days[(account["busy"], "cpu_utilisation_peak")] == each_day("0.97")
    assert (account["busy"], "memory_utilisation_avg") not in days  # no agent, no memory
    assert not any(resource == account["stopped"] for resource, _ in days)  # only running instances are asked


def test_every_request_is_counted_and_each_price_asked_once(account: dict[str, Any], pricing: FakePricing) -> None:
    calls: list[str] = []
    for service in ("ec2", "cloudwatch", "ce"):
        aws.client(service).meta.events.register(
            f"before-call.{service}.*", lambda model, **_: calls.append(model.name)
        )

    run = _collect(account)

    asked = [tuple(sorted((f["Field"], f["Value"]) for f in body["Filters"])) for body in pricing.requests]
    assert len(asked) == len(set(asked))  # once per price
    # Five types in use plus m5.large one step down from m5.xlarge (already in use), gp3 and io2 volumes,
    # moto's gp2 root volumes, and the idle IP price.
    assert len(pricing.requests) == 5 + 3 + 1
    ec2 = ["DescribeInstances", "DescribeInstanceTypes", "DescribeVolumes", "DescribeAddresses"]
    assert sorted(calls) == sorted(["GetCostAndUsage", *ec2, "GetMetricData"])
    assert run.requests == len(calls) + len(pricing.requests)


def test_the_rules_find_the_idle_the_oversized_and_the_zombies_to_the_cent(account: dict[str, Any]) -> None:
    _collect(account)
    inventory = store().inventory("aws")
    assert inventory is not None
    engine = aws_engine_inventory(inventory)

    findings = evaluate(Inputs(TODAY, (engine,), tuple(daily_utilisation(_usage(), "AWS")), window_days=14))

    found = {(f.kind, f.resource.id): (f.monthly_savings, f.resource.type) for f in findings}
    assert found == {
        ("idle", account["idle"]): (Decimal("70.08"), "instance"),
        ("rightsize", account["oversized"]): (Decimal("70.08"), "instance"),  # 140.16 - 70.08
        ("zombie", account["loose"]): (Decimal("8.00"), "volume"),
        ("zombie", account["free_ip"]): (Decimal("3.65"), "reserved_ip"),
    }
    rightsize = next(f for f in findings if f.kind == "rightsize")
    assert rightsize.evidence["target_size"] == "m5.large"
    assert not engine.complete  # r5.large and the io2 volume have no price: nothing may expire on their account


def test_instances_are_asked_for_250_at_most_per_metric_request(aws_env: dict[str, Any], pricing: FakePricing) -> None:
    ids = _instance(boto3.client("ec2"), "t3.micro", "fleet", count=600)
    sizes: list[int] = []
    asked: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sizes.append(len(params["MetricDataQueries"]))
        asked.extend(q["MetricStat"]["Metric"]["Dimensions"][0]["Value"] for q in params["MetricDataQueries"])

    aws.client("cloudwatch").meta.events.register("provide-client-params.cloudwatch.GetMetricData", record)

    run = _collect(aws_env)

    assert run.status == "succeeded"
    # Three queries an instance, 166 instances (498 queries) a request: 600 instances take four requests.
    assert sizes == [498, 498, 498, 306]
    assert sorted(set(asked)) == sorted(ids) and len(asked) == 3 * 600


def test_without_inventory_nothing_but_cost_explorer_is_asked(aws_env: dict[str, Any], pricing: FakePricing) -> None:
    from collect.runner import collect

    config = parse_config('[[sources]]\nname = "aws"\ntype = "aws_ce"\n')
    run = collect(config.sources[0], config, store(), clock=lambda: NOW)

    assert run.status == "succeeded" and run.requests == 1
    assert store().inventory("aws") is None and not pricing.requests


def test_the_recommend_function_stores_the_aws_findings(aws_env: dict[str, Any], account: dict[str, Any]) -> None:
    from recommend.handler import handler as recommend
    from tests.integration.conftest import LambdaContext, write_config

    _collect(aws_env)
    write_config(aws_env, CONFIG)
    aws_env["monkeypatch"].setenv("SPENDWATCH_NOW", NOW.isoformat())
    from spendwatch.platform import clock

    clock.reset()
    try:
        assert recommend({"evaluate": True}, LambdaContext()) == {"batchItemFailures": []}
    finally:
        aws_env["monkeypatch"].delenv("SPENDWATCH_NOW")
        clock.reset()
    stored = {(rec.kind, rec.resource.id): (rec.monthly_savings, rec.status) for rec in store().recommendations()}
    assert stored == {
        ("idle", account["idle"]): (Decimal("70.08"), "open"),
        ("rightsize", account["oversized"]): (Decimal("70.08"), "open"),
        ("zombie", account["loose"]): (Decimal("8.00"), "open"),
        ("zombie", account["free_ip"]): (Decimal("3.65"), "open"),
    }

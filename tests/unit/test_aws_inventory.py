"""The AWS inventory's pure parts: Price List documents (the local fake's data), metric batching and paging, the
instance-size ladder, the engine's input and the rules on it, and the source's config keys."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.stub import Stubber
from spendwatch.domain.config import ConfigError, parse_config
from spendwatch.domain.inventory import EbsVolume, ElasticIp, Instance, InstanceType, Inventory
from spendwatch.domain.recommendations import evaluate
from spendwatch.domain.recommendations.aws import aws_engine_inventory, instance_family
from spendwatch.domain.recommendations.inputs import DailyUtilisation, Inputs

from collect.sources.aws_inventory import metrics
from collect.sources.aws_inventory.ec2 import smaller_sizes
from collect.sources.aws_inventory.prices import (
    GB_MONTH,
    HOURLY,
    PriceList,
    PriceListError,
    PriceQuery,
    idle_ip_query,
    instance_query,
    monthly,
    one_price,
    parse_offer,
    volume_query,
)
from spendwatch_local.fakes.aws_pricing import FakePricing, load_products, matches

PRODUCTS = load_products()


def served(query: PriceQuery) -> list[str]:
    """What GetProducts answers to ``query`` from the fake's data: product documents as JSON strings."""
    params = query.params()
    wanted = [{"Type": "EQUALS", "Field": "ServiceCode", "Value": params["ServiceCode"]}, *params["Filters"]]
    return [json.dumps(product) for product in PRODUCTS if matches(product, wanted)]


@pytest.mark.parametrize(
    ("query", "price"),
    [
        (instance_query("m5.large", "us-east-1"), "0.096"),
        (instance_query("m5.xlarge", "us-east-1"), "0.192"),
        (instance_query("m5.large", "eu-west-1"), "0.107"),
        (instance_query("t3.micro", "us-east-1"), "0.0104"),
        (volume_query("gp3", "us-east-1"), "0.08"),
        (volume_query("gp2", "eu-west-1"), "0.11"),
        (idle_ip_query("us-east-1"), "0.005"),
    ],
)
def test_the_price_lists_documents_give_one_exact_price(query: PriceQuery, price: str) -> None:
    found = one_price(served(query), query.unit, query.select)

    assert found.price == Decimal(price) and found.reason == ""


def test_every_filter_matters_or_the_prices_disagree() -> None:
    # Without capacitystatus and operatingSystem, Windows and unused-reservation hours come back too.
    loose = PriceQuery("m5.large", "AmazonEC2", (("instanceType", "m5.large"), ("regionCode", "us-east-1")), HOURLY)

    found = one_price(served(loose), HOURLY)

    assert found.price is None and "disagree" in found.reason
    # gp3 has an IOPS product besides its storage: the productFamily filter keeps it out.
    gp3 = PriceQuery("gp3", "AmazonEC2", (("volumeApiName", "gp3"), ("regionCode", "us-east-1")), GB_MONTH)
    assert one_price(served(gp3), GB_MONTH).price is None
    # The idle and in-use IPv4 prices share the group: the usage type picks the idle one.
    assert [json.loads(item)["product"]["attributes"]["usagetype"] for item in served(idle_ip_query("us-east-1"))] == [
        "USE1-PublicIPv4:IdleAddress",
        "USE1-PublicIPv4:InUseAddress",
    ]


def test_what_is_not_listed_or_not_flat_has_no_price() -> None:
    assert one_price(served(instance_query("r5.large", "us-east-1")), HOURLY).reason == "no product matched"
    document = json.loads(served(instance_query("m5.large", "us-east-1"))[0])
    ((offer,),) = [document["terms"]["OnDemand"].values()]
    (dimension,) = offer["priceDimensions"].values()
    tiered = {**dimension, "endRange": "1000"}
    offer["priceDimensions"] = {"a": tiered, "b": {**dimension, "beginRange": "1000", "pricePerUnit": {"USD": "0.05"}}}
    assert one_price([json.dumps(document)], HOURLY).price is None
    assert parse_offer(document).price(GB_MONTH) is None  # the wrong unit
    document["terms"] = {"OnDemand": {}, "Reserved": {"x": offer}}
    assert one_price([json.dumps(document)], HOURLY).reason == "no product matched"  # reserved only: not a price
    offer["priceDimensions"] = {"a": {**dimension, "pricePerUnit": {"USD": "n/a"}}}
    document["terms"] = {"OnDemand": {"x": offer}}
    with pytest.raises(PriceListError, match="not a number"):
        parse_offer(json.dumps(document))


def test_a_month_is_730_hours_to_the_cent() -> None:
    assert monthly(Decimal("0.0960000000")) == Decimal("70.08")
    assert monthly(Decimal("0.0104")) == Decimal("7.59")  # 7.592
    assert monthly(Decimal("0.005")) == Decimal("3.65")


def test_the_client_follows_next_token_and_asks_each_price_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with FakePricing() as fake:
        retries = BotoConfig(retries={"mode": "standard", "total_max_attempts": 1})
        pricing = boto3.client("pricing", region_name="us-east-1", endpoint_url=fake.url, config=retries)
        prices = PriceList(pricing)
        query = instance_query("m5.large", "us-east-1")
        paged = PriceQuery(query.what, query.service, query.filters[:2], HOURLY)  # three products

        monkeypatch.setattr("collect.sources.aws_inventory.prices.MAX_RESULTS", 1)
        assert prices.price(query) == Decimal("0.096")
        assert prices.price(query) == Decimal("0.096")
        assert prices.price(paged) is None
        fake.fail("ThrottlingException")
        assert prices.price(volume_query("gp3", "us-east-1")) is None

    assert len(fake.requests) == 1 + 3 + 1  # one page; three pages; one throttled attempt (no retries here)
    assert [body.get("NextToken") is not None for body in fake.requests[1:4]] == [False, True, True]
    assert "products disagree" in prices.missing[0]
    assert prices.missing[1] == "EBS gp3 in us-east-1: GetProducts failed (ThrottlingException)"


def test_instances_share_metric_requests_500_queries_at_most() -> None:
    ids = [f"i-{n:017x}" for n in range(400)]

    batches = list(metrics.batches(ids))

    assert [len(b) for b in batches] == [166, 166, 68]
    assert [len(metrics.queries(b)) for b in batches] == [498, 498, 204]
    first = metrics.queries(batches[0])[:3]
    assert [(q["Id"], q["MetricStat"]["Stat"], q["MetricStat"]["Metric"]["MetricName"]) for q in first] == [
        ("a0", "Average", "CPUUtilization"),
        ("m0", "Maximum", "CPUUtilization"),
        ("r0", "Average", "mem_used_percent"),
    ]
    assert {q["MetricStat"]["Period"] for b in batches for q in metrics.queries(b)} == {86400}


def _day(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def test_metric_pages_are_followed_and_merged() -> None:
    cloudwatch = boto3.client(
        "cloudwatch", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )  # stubbed: no request leaves
    today = date(2025, 3, 15)
    first, second = today - timedelta(days=2), today - timedelta(days=1)
    start, end = metrics.window(today, 2)
    queries = metrics.queries(["i-1", "i-2"])
    page_one = {
        "MetricDataResults": [
            {"Id": "a0", "Timestamps": [_day(first)], "Values": [12.5], "StatusCode": "PartialData"},
            {"Id": "m1", "Timestamps": [_day(first)], "Values": [140.0], "StatusCode": "Complete"},
        ],
        "NextToken": "page-2",
    }
    page_two = {
        "MetricDataResults": [
            {"Id": "a0", "Timestamps": [_day(second)], "Values": [7.25], "StatusCode": "Complete"},
            {"Id": "r0", "Timestamps": [_day(second) - timedelta(days=5)], "Values": [50.0], "StatusCode": "Complete"},
        ]
    }
    asked = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end, "ScanBy": "TimestampAscending"}
    with Stubber(cloudwatch) as stub:
        stub.add_response("get_metric_data", page_one, asked)
        stub.add_response("get_metric_data", page_two, {**asked, "NextToken": "page-2"})
        reader = metrics.CpuReader(cloudwatch)
        found = reader.read(["i-1", "i-2"], today, 2)
        stub.assert_no_pending_responses()

    assert reader.requests == 2
    assert found == {
        "i-1": {first: {"cpu_utilisation_avg": Decimal("0.125")}, second: {"cpu_utilisation_avg": Decimal("0.0725")}},
        "i-2": {first: {"cpu_utilisation_peak": Decimal("1")}},  # clamped; the day outside the window is dropped
    }


def test_a_result_that_was_not_asked_for_is_an_error() -> None:
    with pytest.raises(ValueError, match="not asked for"):
        metrics.read_results(["i-1"], [{"Id": "a5", "Timestamps": [], "Values": []}], {}, date.min, date.max)


def test_the_size_ladder_steps_down_within_a_family() -> None:
    assert smaller_sizes("m5.xlarge")[:2] == ["m5.large", "m5.medium"]
    assert smaller_sizes("t3.nano") == []
    assert smaller_sizes("m5.metal") == []
    assert smaller_sizes("c6g.2xlarge")[0] == "c6g.xlarge"
    assert instance_family("m5.large") == "m5" and instance_family("u-6tb1.metal") == "u-6tb1"


READ = datetime(2025, 3, 15, 6, tzinfo=UTC)
TODAY = READ.date()


def _stored() -> Inventory:
    def itype(name: str, vcpus: int, memory: int, monthly_price: str | None) -> InstanceType:
        price = None if monthly_price is None else Decimal(monthly_price)
        return InstanceType(name=name, region="us-east-1", vcpus=vcpus, memory_mib=memory, price_monthly=price)

    def instance(instance_id: str, instance_type: str, state: str = "running") -> Instance:
        return Instance(id=instance_id, name=instance_id, instance_type=instance_type, region="us-east-1", state=state)

    return Inventory(
        source="aws",
        instance_types=[
            itype("m5.large", 2, 8192, "70.08"),
            itype("m5.xlarge", 4, 16384, "140.16"),
            itype("r5.large", 2, 16384, None),
        ],
        instances=[
            instance("i-idle", "m5.large"),
            instance("i-big", "m5.xlarge"),
            instance("i-off", "m5.xlarge", "stopped"),
            instance("i-unpriced", "r5.large"),
        ],
        ebs_volumes=[
            EbsVolume(id="vol-loose", volume_type="gp3", size_gib=100, price_monthly=Decimal("8.00")),
            EbsVolume(
                id="vol-used", volume_type="gp3", size_gib=20, instance_ids=["i-big"], price_monthly=Decimal("1.60")
            ),
            EbsVolume(id="vol-unpriced", volume_type="io2", size_gib=50),
        ],
        elastic_ips=[
            ElasticIp(allocation_id="eipalloc-free", public_ip="198.51.100.7", price_monthly=Decimal("3.65")),
            ElasticIp(allocation_id="eipalloc-held", association_id="eipassoc-1", price_monthly=Decimal("3.65")),
        ],
    )


def _days(resource: str, cpu_avg: str, cpu_peak: str, memory: str | None) -> list[DailyUtilisation]:
    mem = None if memory is None else Decimal(memory)
    return [
        DailyUtilisation("AWS", resource, TODAY - timedelta(days=n), Decimal(cpu_avg), Decimal(cpu_peak), mem)
        for n in range(1, 15)
    ]


def test_the_engine_input_holds_running_instances_and_priced_resources() -> None:
    engine = aws_engine_inventory(_stored())

    assert (engine.provider, engine.currency) == ("AWS", "USD")
    assert [(c.id, c.type, c.size, c.family) for c in engine.compute] == [
        ("i-idle", "instance", "m5.large", "m5"),
        ("i-big", "instance", "m5.xlarge", "m5"),
        ("i-unpriced", "instance", "r5.large", "r5"),
    ]
    assert [(s.slug, s.family, s.price_monthly, s.regions) for s in engine.sizes] == [
        ("m5.large", "m5", Decimal("70.08"), ("us-east-1",)),
        ("m5.xlarge", "m5", Decimal("140.16"), ("us-east-1",)),
    ]
    assert [(v.id, v.attached) for v in engine.volumes] == [("vol-loose", False), ("vol-used", True)]
    assert [(ip.id, ip.assigned) for ip in engine.reserved_ips] == [("eipalloc-free", False), ("eipalloc-held", True)]
    assert engine.complete is False  # r5.large and vol-unpriced have no price
    priced = _stored().model_copy(
        update={"instance_types": _stored().instance_types[:2], "ebs_volumes": _stored().ebs_volumes[:2]}  # type: ignore[index]
    )
    assert aws_engine_inventory(priced).complete is True
    assert aws_engine_inventory(Inventory(source="aws", instances=[])).complete is False  # kinds not read


def test_the_rules_find_idle_oversized_and_zombie_aws_resources_with_exact_savings() -> None:
    utilisation = (
        _days("i-idle", "0.015", "0.025", "0.2")
        + _days("i-big", "0.2", "0.35", "0.3")
        + _days("i-unpriced", "0.005", "0.01", None)
    )

    findings = evaluate(Inputs(TODAY, (aws_engine_inventory(_stored()),), tuple(utilisation), window_days=14))

    assert {(f.kind, f.resource.id): (f.monthly_savings, f.confidence) for f in findings} == {
        ("idle", "i-idle"): (Decimal("70.08"), "high"),
        ("rightsize", "i-big"): (Decimal("70.08"), "high"),  # 140.16 - 70.08
        ("zombie", "vol-loose"): (Decimal("8.00"), "high"),
        ("zombie", "eipalloc-free"): (Decimal("3.65"), "high"),
    }
    rightsize = next(f for f in findings if f.kind == "rightsize")
    assert rightsize.title == "Resize i-big from m5.xlarge to m5.large"
    assert (rightsize.resource.provider, rightsize.resource.type) == ("AWS", "instance")


def test_without_memory_an_instance_is_not_rightsized() -> None:
    findings = evaluate(
        Inputs(TODAY, (aws_engine_inventory(_stored()),), tuple(_days("i-big", "0.2", "0.35", None)), window_days=14)
    )

    assert [f.kind for f in findings] == ["zombie", "zombie"]


def test_the_aws_inventory_is_opt_in_and_digitalocean_keeps_its_default() -> None:
    config = parse_config(
        '[[sources]]\nname = "a"\ntype = "aws_ce"\n'
        '[[sources]]\nname = "b"\ntype = "aws_ce"\ninventory = true\nutilisation_days = 7\n'
        '[[sources]]\nname = "d"\ntype = "digitalocean"\n'
    )

    assert [(s.inventory, s.utilisation_days) for s in config.sources] == [(False, 14), (True, 7), (True, 14)]
    with pytest.raises(ConfigError, match="inventory"):
        parse_config('[[sources]]\nname = "v"\ntype = "vercel"\ninventory = false\n')

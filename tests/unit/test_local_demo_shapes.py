"""The demo history in each provider's shapes: every part adds up to the history, and the collectors read it as such."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator
from hypothesis import given
from hypothesis import strategies as st
from spendwatch.domain.config import Config

from collect.sources import aws_ce, digitalocean, opencost
from collect.sources.base import CollectRequest, RequestCounter
from collect.sources.digitalocean.records import Origin, droplet_usage, insight_cost, sku_service
from spendwatch_local import localconfig
from spendwatch_local.demo import data as demo_data
from spendwatch_local.demo import providers as demo_providers
from spendwatch_local.demo import shapes as demo_shapes
from spendwatch_local.demo.providers import DemoProviders, ce_window, use_demo_token
from tests.fakes.sinks import RecordingSink

TODAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
HISTORY = demo_data.history(TODAY)
ZERO = Decimal(0)


def _sums(costs: list[demo_data.DemoCost], provider: str) -> dict[date, Decimal]:
    sums: dict[date, Decimal] = defaultdict(Decimal)
    for cost in costs:
        if cost.provider == provider:
            sums[cost.day] += cost.amount
    return dict(sums)


# -- the history ------------------------------------------------------------------------------------------


def test_history_is_deterministic_and_ends_yesterday() -> None:
    again = demo_data.history(TODAY)
    assert again == HISTORY
    days = sorted({cost.day for cost in HISTORY})
    first = TODAY - timedelta(days=demo_data.DEMO_DAYS)
    assert (days[0], days[-1], len(days)) == (first, TODAY - timedelta(days=1), demo_data.DEMO_DAYS)


def test_the_spike_is_the_biggest_ec2_day_by_far() -> None:
    ec2 = {c.day: c.amount for c in HISTORY if c.service == "Amazon Elastic Compute Cloud - Compute"}
    spike = TODAY - timedelta(days=demo_data.SPIKE_DAYS_AGO)
    others = sorted((amount for day, amount in ec2.items() if day != spike), reverse=True)
    assert ec2[spike] > 2 * others[0]


# -- split ------------------------------------------------------------------------------------------------


@given(
    cents=st.integers(min_value=0, max_value=10**9),
    places=st.integers(min_value=0, max_value=10),
    weights=st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=8),
)
def test_split_adds_up_exactly_and_stays_near_each_share(cents: int, places: int, weights: list[int]) -> None:
    amount = Decimal(cents).scaleb(-places)
    parts = demo_shapes.split(amount, weights)
    assert sum(parts, ZERO) == amount
    unit = Decimal(1).scaleb(-places)
    for part, weight in zip(parts, weights, strict=True):
        assert part.as_tuple().exponent >= -places
        assert abs(part - amount * weight / sum(weights)) <= unit * len(weights)


def test_split_keeps_list_prices_whole() -> None:
    parts = demo_shapes.split(Decimal("6.86"), [86, 86, 171, 343])
    assert parts == [Decimal(p) for p in ("0.86", "0.86", "1.71", "3.43")]


# -- DigitalOcean -----------------------------------------------------------------------------------------


def test_insight_rows_add_up_to_the_history_day_by_day() -> None:
    rows = demo_shapes.do_insights(HISTORY)
    served: dict[date, Decimal] = defaultdict(Decimal)
    for row in rows:
        served[date.fromisoformat(row["start_date"])] += Decimal(row["total_amount"])
    assert served == _sums(HISTORY, demo_data.DIGITALOCEAN)
    assert {row["usage_team_urn"] for row in rows} == {demo_shapes.do_team_urn()}


def test_the_collector_reads_every_insight_row_into_its_service() -> None:
    origin = Origin("demo-do", NOW, demo_shapes.do_team_urn())
    first, last = TODAY - timedelta(days=121), TODAY
    read: dict[str, Decimal] = defaultdict(Decimal)
    for row in demo_shapes.do_insights(HISTORY):
        item = insight_cost(row, origin, first, last)
        read[item.ServiceName] += item.BilledCost
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for cost in HISTORY:
        if cost.provider == demo_data.DIGITALOCEAN:
            expected[sku_service(demo_shapes.DO_RESOURCES[cost.service][0].sku)] += cost.amount
    assert read == expected
    # The SKU families the collector knows keep their product names.
    assert {"Droplets", "Kubernetes Clusters"} <= set(read)


def test_the_cluster_grows_a_node_at_the_level_shift() -> None:
    rows = [row for row in demo_shapes.do_insights(HISTORY) if row["group_description"] == "demo-doks"]
    shift = (TODAY - timedelta(days=demo_data.LEVEL_SHIFT_DAYS_AGO)).isoformat()
    nodes = {row["description"].split()[0] for row in rows if row["start_date"] < shift}
    assert nodes == {"3"}
    assert {row["description"].split()[0] for row in rows if row["start_date"] >= shift} == {"4"}


def test_droplets_are_inventory_the_collector_reads() -> None:
    origin = Origin("demo-do", NOW, demo_shapes.do_team_urn())
    items = [item for droplet in demo_shapes.do_droplets() for item in droplet_usage(droplet, origin, TODAY)]
    hourly = sum((i.quantity for i in items if i.metric == "droplet_price_hourly"), ZERO)
    assert len(items) == 4 * len(demo_shapes.DROPLETS)
    # The Droplets service costs what the fleet's list prices say, a day at a time.
    droplets_day = next(c.amount for c in HISTORY if c.service == "Droplets")
    assert (hourly * 24).quantize(Decimal("0.01")) == droplets_day
    # Each droplet's hours at its hourly price make the same day.
    hours = {i.ResourceId: i.quantity for i in items if i.metric == "droplet_hours"}
    prices = {i.ResourceId: i.quantity for i in items if i.metric == "droplet_price_hourly"}
    assert (sum((hours[r] * prices[r] for r in prices), ZERO)).quantize(Decimal("0.01")) == droplets_day


def test_the_balance_matches_this_months_insights() -> None:
    balance = demo_shapes.do_balance(HISTORY, TODAY)
    month = sum((a for d, a in _sums(HISTORY, demo_data.DIGITALOCEAN).items() if d >= TODAY.replace(day=1)), ZERO)
    assert Decimal(balance["month_to_date_usage"]) == month
    assert digitalocean.mtd_note(month, month, TODAY.day) is None


# -- OpenCost ---------------------------------------------------------------------------------------------


def _served(allocation: dict[str, Any]) -> dict[str, Any]:
    """The allocation after the JSON round trip, read the way the collector reads it."""
    parsed: dict[str, Any] = json.loads(json.dumps(allocation), parse_float=Decimal)
    return parsed


def test_each_days_components_add_up_to_the_namespaces_amount() -> None:
    days = demo_shapes.opencost_days(HISTORY)
    expected = {(c.day, c.service): c.amount for c in HISTORY if c.provider == demo_data.KUBERNETES}
    assert {(day, name) for day, allocations in days.items() for name in allocations} == set(expected)
    for (day, namespace), amount in expected.items():
        served = _served(days[day][namespace])
        assert served["totalCost"] == amount
        assert served["cpuCost"] + served["ramCost"] + served["pvCost"] == amount
        assert all(served[key] >= 0 for key in ("cpuCost", "ramCost", "pvCost"))


def test_the_collector_splits_allocations_without_remainders() -> None:
    for allocations in demo_shapes.opencost_days(HISTORY).values():
        for name, allocation in allocations.items():
            charges = opencost.charges(_served(allocation))
            assert "Unattributed" not in {c.description for c in charges}
            assert sum((c.amount for c in charges), ZERO) == Decimal(str(allocation["totalCost"])), name


# -- Cost Explorer ----------------------------------------------------------------------------------------


def test_the_cost_explorer_answer_fits_botocores_model() -> None:
    operation = botocore.session.get_session().get_service_model("ce").operation_model("GetCostAndUsage")
    answer = demo_shapes.ce_response(HISTORY, TODAY - timedelta(days=120), TODAY)
    assert not ParamValidator().validate(answer, operation.output_shape).has_errors()


def test_the_cost_explorer_answer_covers_the_window_with_the_history() -> None:
    start, end = TODAY - timedelta(days=120), TODAY
    results = demo_shapes.ce_response(HISTORY, start, end)["ResultsByTime"]
    assert [r["TimePeriod"]["Start"] for r in results] == [(start + timedelta(days=n)).isoformat() for n in range(121)]
    assert [r["Estimated"] for r in results][-3:] == [False, True, True]
    served: dict[date, Decimal] = defaultdict(Decimal)
    for result in results:
        for group in result["Groups"]:
            assert group["Keys"][1] == demo_shapes.AWS_ACCOUNT
            amounts = aws_ce.parse_amounts(group["Metrics"], result["Estimated"])
            served[date.fromisoformat(result["TimePeriod"]["Start"])] += amounts.billed
    assert served == _sums(HISTORY, demo_data.AWS)
    assert results[-1]["Groups"] == []  # today is still being billed


def test_the_window_is_the_collectors_own() -> None:
    config = localconfig.with_demo(Config(), "bucket")
    assert ce_window(config.source("demo-aws"), config, NOW) == (TODAY - timedelta(days=120), TODAY)


@given(
    st.datetimes(
        min_value=datetime(2020, 1, 1),
        max_value=datetime(2035, 12, 31),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-8)), timezone(timedelta(hours=14))]),
    ),
    st.integers(min_value=1, max_value=400),
)
def test_the_window_agrees_with_the_collectors_window_function(now: datetime, lookback_days: int) -> None:
    config = localconfig.with_demo(Config(), "bucket")
    source = config.source("demo-aws").model_copy(update={"lookback_days": lookback_days})
    request = CollectRequest(source, config, RecordingSink(source.name), RequestCounter(), now)
    window = aws_ce.window_for(request)
    assert ce_window(source, config, now) == (window.start, window.end)


# -- the providers ----------------------------------------------------------------------------------------


def test_cost_explorer_answers_are_queued_once_per_window(monkeypatch: pytest.MonkeyPatch) -> None:
    queued: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(demo_providers, "queue_ce_answer", lambda url, answer: queued.append((url, answer)))
    providers = DemoProviders(TODAY, "token")
    config = localconfig.with_demo(Config(), "bucket")

    assert providers.prepare(config.source("demo-aws"), config, "http://moto", NOW)
    assert not providers.prepare(config.source("demo-aws"), config, "http://moto", NOW + timedelta(hours=1))
    assert not providers.prepare(config.source("demo-do"), config, "http://moto", NOW)
    assert providers.prepare(config.source("demo-aws"), config, "http://moto", NOW + timedelta(days=1))

    assert [url for url, _ in queued] == ["http://moto", "http://moto"]
    assert [answer["ResultsByTime"][-1]["TimePeriod"]["Start"] for _, answer in queued] == ["2026-11-24", "2026-11-25"]


def test_the_fakes_serve_the_history() -> None:
    providers = DemoProviders(TODAY, "token")
    assert providers.digitalocean.token == "token"
    assert providers.digitalocean.team_urn == demo_shapes.do_team_urn()
    assert len(providers.digitalocean.insights) == len(demo_shapes.do_insights(HISTORY))
    assert providers.opencost.days == demo_shapes.opencost_days(HISTORY)


def test_the_demo_token_never_replaces_the_users() -> None:
    mine = {"DIGITALOCEAN_TOKEN": "users-own"}
    assert not use_demo_token(mine)
    assert mine == {"DIGITALOCEAN_TOKEN": "users-own"}
    empty: dict[str, str] = {}
    assert use_demo_token(empty)
    assert empty == {"DIGITALOCEAN_TOKEN": "demo-digitalocean-token"}


def test_the_demo_digitalocean_inventory_shows_idle_oversized_and_busy_droplets() -> None:
    providers = DemoProviders(TODAY, "token")
    config = localconfig.with_demo(Config(), "bucket")
    source = config.source("demo-do")
    sink = RecordingSink(source.name)
    with providers.digitalocean as fake:
        request = CollectRequest(
            source,
            config,
            sink,
            RequestCounter(),
            NOW,
            env={"DIGITALOCEAN_API_URL": fake.url},
            secret=lambda _env, _name: fake.token,
        )
        digitalocean.collect(request, sleep=lambda _s: None, clock=lambda: 0.0)

    names = {str(d.id): d.name for d in demo_shapes.DROPLETS}
    daily: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for item in sink.used:
        if item.unit == "ratio":
            daily[(names[item.ResourceId], item.metric)].append(item.quantity)
    assert {len(values) for values in daily.values()} == {source.utilisation_days}
    top = {key: max(values) for key, values in daily.items()}
    assert top[("web-2", "cpu_utilisation_peak")] < Decimal("0.05")  # idle: under 5 % even at its busiest
    assert Decimal("0.10") < top[("batch-1", "cpu_utilisation_avg")] < Decimal("0.20")
    assert top[("batch-1", "memory_utilisation_avg")] == Decimal("0.2000")
    assert min(daily[("worker-1", "cpu_utilisation_avg")]) > Decimal("0.80")
    inventory = sink.inventory
    assert inventory is not None
    assert [v.attached for v in inventory.volumes or []] == [True, False]
    assert [ip.assigned for ip in inventory.reserved_ips or []] == [True, False]
    assert {s.slug: s.price_monthly for s in inventory.sizes or []}["s-8vcpu-16gb"] == Decimal("96.0")
    assert [s.resource_id for s in inventory.snapshots or []][1] == str(demo_shapes.DELETED_DROPLET_ID)
    assert sink.rejected == 0

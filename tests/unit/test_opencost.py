"""OpenCost allocations into cost items: the published example, idle modes, components, failures, retries."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from spendwatch.domain.config import Config, Source
from spendwatch.domain.models import CostItem

from collect.sources import opencost
from collect.sources.base import CollectRequest, Coverage, RequestCounter
from collect.sources.opencost import OpenCostSourceError, charges, collect, coverage, labels, query_params, tag_keys
from tests.fakes.opencost import EXAMPLE, FakeOpenCost, Reply, example_allocations, idle_allocation
from tests.fakes.sinks import RecordingSink

FIRST, LAST = date(2023, 7, 12), date(2023, 7, 14)
NOW = datetime(2023, 7, 20, 8, 0, tzinfo=UTC)
URL = "http://opencost.test:9003"


class Run:
    """One collection against a fake, with everything a test wants to look at afterwards."""

    def __init__(self, fake: FakeOpenCost, now: datetime = NOW, **source: Any) -> None:
        self.fake = fake
        self.source = Source(name="k8s", type="opencost", url=URL, **source)
        self.sink = RecordingSink("k8s")
        self.waits: list[float] = []
        self.now = now

    @property
    def items(self) -> list[CostItem]:
        return self.sink.items

    def request(self, start: date | None = FIRST, end: date | None = LAST) -> CollectRequest:
        config = Config(currency="USD", sources=[self.source])
        return CollectRequest(self.source, config, self.sink, RequestCounter(), self.now, start, end, env={})

    def collect(self, start: date | None = FIRST, end: date | None = LAST) -> tuple[Coverage, CollectRequest]:
        request = self.request(start, end)
        client = httpx.Client(transport=self.fake.transport(), base_url=URL)
        with client:
            return collect(request, client=client, sleep=self.waits.append), request

    def total(self) -> Decimal:
        return sum((i.BilledCost for i in self.items), Decimal(0))


def _example_total(days: int = 3) -> Decimal:
    allocations = json.loads(json.dumps(example_allocations()), parse_float=Decimal)
    return sum((Decimal(a["totalCost"]) for a in allocations.values()), Decimal(0)) * days


def _with_idle() -> dict[str, Any]:
    return {**example_allocations(), "__idle__": idle_allocation(cpu_cost=0.61234, ram_cost=0.18766)}


def test_the_published_example_collects_to_its_exact_total() -> None:
    run = Run(FakeOpenCost(every_day=example_allocations()))

    covered, request = run.collect()

    assert run.total() == _example_total()
    assert covered == Coverage(FIRST, LAST)
    assert request.requests.count == 1
    assert {i.day for i in run.items} == {FIRST, FIRST + timedelta(days=1), LAST}
    kube = [i for i in run.items if i.ResourceId == "kube-system" and i.day == FIRST]
    assert {i.ChargeDescription: i.BilledCost for i in kube} == {"CPU": Decimal("1.43086"), "RAM": Decimal("0.09657")}
    item = kube[0]
    assert (item.ProviderName, item.ServiceName, item.ServiceCategory) == ("Kubernetes", "Kubernetes", "Compute")
    assert (item.SubAccountId, item.Tags, item.BillingCurrency) == (
        "default-cluster",
        {"namespace": "kube-system"},
        "USD",
    )
    assert item.ChargePeriodStart == datetime(2023, 7, 12, tzinfo=UTC)
    assert item.ChargePeriodEnd == datetime(2023, 7, 13, tzinfo=UTC)
    assert item.x_estimated is False and item.EffectiveCost == item.BilledCost == item.ListCost
    cpu = next(i for i in kube if i.ChargeDescription == "CPU")
    assert (cpu.ConsumedQuantity, cpu.ConsumedUnit) == (Decimal("75.55915"), "Core-Hours")


def test_the_query_asks_for_daily_sets_of_whole_utc_days() -> None:
    fake = FakeOpenCost(every_day=example_allocations())
    Run(fake, aggregate="label:team").collect()

    assert fake.requests == [
        {
            "path": "/allocation",
            "window": "2023-07-12T00:00:00Z,2023-07-15T00:00:00Z",
            "step": "1d",
            "aggregate": "label:team",
            "accumulate": "false",
            "includeIdle": "true",
            "shareIdle": "false",
        }
    ]


def test_components_add_up_to_total_cost_despite_per_field_rounding() -> None:
    # OpenCost printed cpuCost 0.06359 + ramCost 0.04577 = 0.10936 with totalCost 0.10937.
    opencost_ns = json.loads(json.dumps(example_allocations()["opencost"]), parse_float=Decimal)
    found = charges(opencost_ns)

    assert sum((c.amount for c in found), Decimal(0)) == Decimal("0.10937")
    assert [c.description for c in found] == ["CPU", "RAM"]
    assert found[0].amount == Decimal("0.06360")  # the largest component absorbs the sub-cent rounding


def test_adjustments_count_and_an_unexplained_remainder_stays_visible() -> None:
    alloc = {"cpuCost": Decimal("2"), "cpuCostAdjustment": Decimal("-0.5"), "pvCost": Decimal("1"), "totalCost": "4"}
    found = {c.description: c.amount for c in charges(alloc)}

    assert found == {"CPU": Decimal("1.5"), "Persistent volumes": Decimal("1"), "Unattributed": Decimal("1.5")}


@pytest.mark.parametrize(
    ("idle", "params", "idle_items", "with_idle"),
    [
        ("separate", ("true", "false"), True, True),
        ("share", ("true", "true"), False, True),
        ("drop", ("false", "false"), False, False),
    ],
)
def test_idle_modes(idle: str, params: tuple[str, str], idle_items: bool, with_idle: bool) -> None:
    fake = FakeOpenCost(every_day=_with_idle())
    run = Run(fake, idle=idle)

    run.collect()

    assert (fake.requests[0]["includeIdle"], fake.requests[0]["shareIdle"]) == params
    assert any(i.ResourceId == "__idle__" for i in run.items) is idle_items
    expected = _example_total() + (Decimal("0.80000") * 3 if with_idle else 0)
    assert round(run.total(), 2) == round(expected, 2)


def test_separate_idle_is_its_own_untagged_item() -> None:
    run = Run(FakeOpenCost(every_day=_with_idle()))
    run.collect(FIRST, FIRST)

    idle = [i for i in run.items if i.ResourceId == "__idle__"]
    assert {i.ChargeDescription: i.BilledCost for i in idle} == {"CPU": Decimal("0.61234"), "RAM": Decimal("0.18766")}
    assert all(i.Tags == {} and i.SubAccountId == "default-cluster" for i in idle)


def test_dropped_idle_sent_anyway_is_skipped_and_not_counted() -> None:
    # A server that ignores includeIdle=false: its answer as if idle had been asked for.
    window = {"window": "2023-07-12T00:00:00Z,2023-07-13T00:00:00Z", "step": "1d", "includeIdle": "true"}
    fake = FakeOpenCost().then(FakeOpenCost(every_day=_with_idle()).answer("/allocation", window))
    run = Run(fake, idle="drop")

    run.collect(FIRST, FIRST)

    assert all(i.ResourceId != "__idle__" for i in run.items)
    assert run.total() == _example_total(days=1)
    assert run.sink.rejected == 0 and run.sink.read == len(run.items)  # idle was neither read nor rejected


def test_label_aggregation_tags_tenant_and_unallocated() -> None:
    team: dict[str, Any] = {"properties": {"cluster": "prod"}, "cpuCost": 3.0, "totalCost": 3.0}
    day: dict[str, dict[str, Any]] = {
        "acme": team,
        "__unallocated__": {"cpuCost": 1.25, "ramCost": 0.5, "totalCost": 1.75},
    }
    run = Run(FakeOpenCost(every_day=day), aggregate="label:tenant", cluster="eu-prod")

    run.collect(FIRST, FIRST)

    by_resource = {i.ResourceId: i for i in run.items}
    assert by_resource["acme"].Tags == {"tenant": "acme"} and by_resource["acme"].x_tenant == "acme"
    assert by_resource["acme"].SubAccountId == "eu-prod"  # the configured cluster name wins
    unallocated = [i for i in run.items if i.ResourceId == "__unallocated__"]
    assert sum((i.BilledCost for i in unallocated), Decimal(0)) == Decimal("1.75")
    assert all(i.Tags == {} and i.x_tenant == "" for i in unallocated)


def test_tag_names_follow_the_aggregate() -> None:
    assert tag_keys("namespace") == ("namespace",)
    assert tag_keys("namespace, label:app") == ("namespace", "app")
    assert tag_keys("annotation:owner") == ("owner",)
    assert labels("web/frontend", ("namespace", "app")) == {"namespace": "web", "app": "frontend"}
    assert labels("web/__unallocated__", ("namespace", "app")) == {"namespace": "web"}
    assert labels("deployment:api", ("controller",)) == {"controller": "deployment:api"}
    assert labels("__idle__", ("namespace",)) == {}


def test_query_params_cover_whole_days() -> None:
    params = query_params(date(2024, 2, 28), date(2024, 3, 1), "controller", "share")
    assert params["window"] == "2024-02-28T00:00:00Z,2024-03-02T00:00:00Z"
    assert (params["includeIdle"], params["shareIdle"]) == ("true", "true")


def test_today_is_estimated_and_the_default_window_is_the_lookback() -> None:
    now = datetime(2024, 5, 10, 9, 30, tzinfo=UTC)
    fake = FakeOpenCost(every_day=example_allocations())
    run = Run(fake, now=now, lookback_days=3)

    covered, request = run.collect(None, None)

    assert covered == Coverage(date(2024, 5, 8), date(2024, 5, 10))
    assert fake.requests[0]["window"] == "2024-05-08T00:00:00Z,2024-05-11T00:00:00Z"
    assert request.requests.count == 1
    assert {i.day for i in run.items if i.x_estimated} == {date(2024, 5, 10)}


def test_a_backfill_past_today_stops_at_today() -> None:
    run = Run(FakeOpenCost(every_day=example_allocations()), now=datetime(2023, 7, 13, 1, tzinfo=UTC))
    covered, _ = run.collect(date(2023, 7, 12), date(2023, 7, 20))
    assert covered == Coverage(date(2023, 7, 12), date(2023, 7, 13))


def test_long_windows_are_read_a_week_at_a_time() -> None:
    fake = FakeOpenCost(every_day=example_allocations())
    run = Run(fake)

    covered, request = run.collect(date(2023, 7, 1), date(2023, 7, 16))

    assert request.requests.count == 3
    assert [r["window"] for r in fake.requests] == [
        "2023-07-01T00:00:00Z,2023-07-08T00:00:00Z",
        "2023-07-08T00:00:00Z,2023-07-15T00:00:00Z",
        "2023-07-15T00:00:00Z,2023-07-17T00:00:00Z",
    ]
    assert covered == Coverage(date(2023, 7, 1), date(2023, 7, 16))
    assert run.total() == _example_total(days=16)


def test_a_failing_chunk_says_what_was_collected_and_what_is_missing() -> None:
    fake = FakeOpenCost(every_day=example_allocations(), failing_days={date(2023, 7, 9)})
    run = Run(fake)

    with pytest.raises(OpenCostSourceError) as err:
        run.collect(date(2023, 7, 1), date(2023, 7, 16))

    message = str(err.value)
    assert "OpenCost allocation 2023-07-08..2023-07-14: HTTP 500 after 5 attempts" in message
    assert "2023-07-01..2023-07-07 collected, 2023-07-08..2023-07-16 missing" in message
    assert run.total() == _example_total(days=7)  # the first week is already in the sink
    assert len(fake.requests) == 1 + 5 and len(run.waits) == 4


def test_429_waits_what_retry_after_says() -> None:
    fake = FakeOpenCost(every_day=example_allocations()).then(Reply(429, b"slow down", {"Retry-After": "7"}))
    run = Run(fake)

    _, request = run.collect()

    assert run.waits == [7.0]
    assert request.requests.count == 2
    assert run.total() == _example_total()


def test_5xx_then_success() -> None:
    fake = FakeOpenCost(every_day=example_allocations()).then(Reply(503), Reply(502, b"<html>bad gateway</html>"))
    run = Run(fake)

    _, request = run.collect()

    assert request.requests.count == 3 and len(run.waits) == 2
    assert run.total() == _example_total()


@pytest.mark.parametrize(
    ("reply", "fragment"),
    [
        (Reply(200, b'{"code": 200, "data": [{"kube-system": {'), "not JSON"),
        (Reply(200, b'{"code": 200, "status": "success"}'), "no allocation sets"),
        (Reply(200, b"[]"), "no allocation sets"),
        (Reply(400, b'{"code": 400, "message": "Invalid \'aggregate\' parameter"}'), "HTTP 400: Invalid 'aggregate'"),
        (Reply(404, b"404 page not found"), "HTTP 404: 404 page not found"),
    ],
)
def test_broken_answers_fail_the_run_and_name_the_days(reply: Reply, fragment: str) -> None:
    run = Run(FakeOpenCost().then(reply))

    with pytest.raises(OpenCostSourceError) as err:
        run.collect()

    assert fragment in str(err.value)
    assert "2023-07-12..2023-07-14 missing" in str(err.value)


def test_broken_allocations_are_counted_and_the_rest_kept() -> None:
    day = example_allocations()
    day["opencost"]["cpuCost"] = "lots"
    day["prometheus"].pop("totalCost")
    run = Run(FakeOpenCost(every_day=day))

    covered, _ = run.collect(FIRST, FIRST)

    assert run.sink.rejected == 2
    assert run.sink.first_rejection == "/allocation 2023-07-12 opencost: cpuCost 'lots' is not a number"
    assert {i.ResourceId for i in run.items} == {"kube-system"}
    assert covered == Coverage(FIRST, FIRST)


def test_a_set_that_is_not_one_day_is_rejected_not_misfiled() -> None:
    # The published example is one 7-day set: it cannot be filed under any single day.
    run = Run(FakeOpenCost().then(Reply(200, EXAMPLE.read_bytes())))

    covered, _ = run.collect(FIRST, FIRST)

    assert run.items == [] and run.sink.rejected == 3
    assert "set 2023-07-12T11:02:46Z..2023-07-19T11:02:46Z is not one UTC day" in (run.sink.first_rejection or "")
    assert covered == Coverage(None, None)


def test_empty_days_are_covered_so_their_totals_become_zero() -> None:
    fake = FakeOpenCost(days={FIRST: example_allocations()}, every_day={})
    run = Run(fake)

    covered, _ = run.collect()

    assert covered == Coverage(FIRST, LAST)
    assert {i.day for i in run.items} == {FIRST}


def test_coverage_never_claims_a_gap() -> None:
    days = {date(2024, 1, d) for d in (1, 2, 4, 5, 6)}
    assert coverage(days, date(2024, 1, 1), date(2024, 1, 6)) == Coverage(date(2024, 1, 4), date(2024, 1, 6))
    assert coverage(set(), date(2024, 1, 1), date(2024, 1, 6)) == Coverage(None, None)


def test_same_data_same_keys() -> None:
    first, second = (
        Run(FakeOpenCost(every_day=example_allocations())),
        Run(FakeOpenCost(every_day=example_allocations())),
    )
    first.collect()
    second.now = NOW + timedelta(hours=6)
    second.collect()
    assert [i.identity for i in first.items] == [i.identity for i in second.items]


def test_the_url_comes_from_the_environment_first() -> None:
    run = Run(FakeOpenCost())
    request = run.request()
    assert opencost.base_url(request) == URL
    request.env = {"OPENCOST_URL": "http://localhost:9003/"}
    assert opencost.base_url(request) == "http://localhost:9003"


def test_no_url_is_a_clear_error() -> None:
    run = Run(FakeOpenCost())
    request = run.request()
    request.source = Source(name="k8s", type="opencost")
    with pytest.raises(OpenCostSourceError, match="has no url"):
        collect(request)


_cost = st.decimals(min_value=-50, max_value=500, places=5, allow_nan=False, allow_infinity=False)


@example(costs={}, rounding=Decimal("0.00003"), unexplained=Decimal(0))
@example(costs={"cpuCost": Decimal("0.00001")}, rounding=Decimal("-0.00001"), unexplained=Decimal(0))
@given(
    costs=st.dictionaries(st.sampled_from([c.cost for c in opencost.COMPONENTS]), _cost, max_size=8),
    rounding=st.decimals(min_value=Decimal("-0.00005"), max_value=Decimal("0.00005"), places=5),
    unexplained=st.sampled_from([Decimal(0), Decimal("0.25"), Decimal("-3")]),
)
def test_components_always_sum_to_total_cost(
    costs: dict[str, Decimal], rounding: Decimal, unexplained: Decimal
) -> None:
    total = sum(costs.values(), Decimal(0)) + rounding + unexplained
    found = charges({**costs, "totalCost": total})

    assert sum((c.amount for c in found), Decimal(0)) == total
    assert all(c.amount != 0 for c in found)
    # Rounding goes to a component when there is one; money with no component at all stays visible.
    nothing_to_absorb = total != 0 and not any(costs.values())
    assert any(c.description == "Unattributed" for c in found) is (unexplained != 0 or nothing_to_absorb)


def test_cpu_core_hours_ram_gib_hours_and_request_and_usage_averages_per_namespace_and_day() -> None:
    run = Run(FakeOpenCost(every_day=example_allocations()))

    _, request = run.collect()

    example = json.loads(EXAMPLE.read_text(encoding="utf-8"), parse_float=Decimal)["data"][0]
    expected = {}
    for name, alloc in example.items():
        for offset in range(3):
            day = FIRST + timedelta(days=offset)
            expected[(day, "cpu_core_hours", "Core-Hours", name)] = alloc["cpuCoreHours"]
            expected[(day, "ram_gib_hours", "GiB-Hours", name)] = alloc["ramByteHours"] / 1024**3
            expected[(day, "cpu_request_cores_avg", "Cores", name)] = alloc["cpuCoreRequestAverage"]
            expected[(day, "cpu_usage_cores_avg", "Cores", name)] = alloc["cpuCoreUsageAverage"]
            expected[(day, "ram_request_gib_avg", "GiB", name)] = alloc["ramByteRequestAverage"] / 1024**3
            expected[(day, "ram_usage_gib_avg", "GiB", name)] = alloc["ramByteUsageAverage"] / 1024**3
    found = {(u.day, u.metric, u.unit, u.ResourceId): u.quantity for u in run.sink.used}
    assert found == expected and len(run.sink.used) == 3 * 3 * 6
    assert found[(FIRST, "cpu_core_hours", "Core-Hours", "kube-system")] == Decimal("75.55915")
    ram = found[(FIRST, "ram_gib_hours", "GiB-Hours", "kube-system")]
    assert ram * 2**30 == Decimal("40855853856.91022")  # exact: 2**30 divides a power of ten
    # kube-system requests 0.44979 cores and uses 0.00938 of them (the fixture's averages).
    assert found[(FIRST, "cpu_usage_cores_avg", "Cores", "kube-system")] == Decimal("0.00938")
    assert found[(FIRST, "ram_request_gib_avg", "GiB", "kube-system")] * 2**30 == Decimal("146732650.88941")
    assert {(u.ProviderName, u.ServiceName, u.x_tenant, u.x_source) for u in run.sink.used} == {
        ("Kubernetes", "Kubernetes", "", "k8s")
    }
    # The quantities come with the allocations: no extra request, and not counted as records read twice.
    assert request.requests.count == 1 and run.sink.read == len(run.items)


def test_usage_carries_the_tenant_and_skips_what_an_allocation_does_not_measure() -> None:
    day: dict[str, dict[str, Any]] = {
        "acme": {"cpuCost": 3.0, "totalCost": 3.0, "cpuCoreHours": 24, "ramByteHours": 3 * 2**30},
        "globex": {"cpuCost": 1.0, "totalCost": 1.0, "cpuCoreHours": 0.5},
    }
    run = Run(FakeOpenCost(every_day=day), aggregate="label:tenant")

    run.collect(FIRST, FIRST)

    found = {(u.x_tenant, u.metric): u.quantity for u in run.sink.used}
    assert found == {
        ("acme", "cpu_core_hours"): Decimal(24),
        ("acme", "ram_gib_hours"): Decimal(3),
        ("globex", "cpu_core_hours"): Decimal("0.5"),
    }


def test_same_usage_same_keys() -> None:
    first, second = Run(FakeOpenCost(every_day=_with_idle())), Run(FakeOpenCost(every_day=_with_idle()))
    first.collect()
    second.now = NOW + timedelta(hours=6)
    second.collect()
    assert [u.identity for u in first.sink.used] == [u.identity for u in second.sink.used]
    assert len({u.identity for u in first.sink.used}) == len(first.sink.used)

"""Groupings against a fake Cost Explorer that answers from line items: totals exact, requests as documented."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from itertools import permutations
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.model import ServiceModel
from botocore.validate import ParamValidator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spendwatch.domain.aggregates import NONE_KEY, PeriodTotals
from spendwatch.domain.money import ZERO

from collect.sources import aws_ce
from collect.sources.aws_ce import CostExplorerError
from collect.sources.base import CollectRequest
from tests.unit.test_aws_ce import DAYS, FakeStore, make_request

FIXTURES = Path(__file__).parents[1] / "fixtures" / "aws_ce"
OPERATION = ServiceModel(
    json.loads((FIXTURES / "botocore_ce_service2_subset.json").read_text(encoding="utf-8"))
).operation_model("GetCostAndUsage")
A1, A2 = "111122223333", "444455556666"
EC2, S3, LAMBDA = "Amazon Elastic Compute Cloud - Compute", "Amazon Simple Storage Service", "AWS Lambda"


@dataclass(frozen=True)
class Line:
    """One line item of the truth the fake answers from."""

    day: date
    account: str
    service: str
    region: str
    cost: Decimal
    tags: tuple[tuple[str, str], ...] = ()

    def value(self, definition: dict[str, str]) -> str:
        """This line's group key for a GroupBy entry, as Cost Explorer prints it."""
        if definition["Type"] == "TAG":
            return f"{definition['Key']}${dict(self.tags).get(definition['Key'], '')}"
        return {"SERVICE": self.service, "LINKED_ACCOUNT": self.account, "REGION": self.region}[definition["Key"]]

    def matches(self, expression: dict[str, Any]) -> bool:
        """Cost Explorer's filter semantics for And, Dimensions and Tags (EQUALS, ABSENT)."""
        if "And" in expression:
            return all(self.matches(e) for e in expression["And"])
        if "Dimensions" in expression:
            dimension = expression["Dimensions"]
            return self.value({"Type": "DIMENSION", "Key": dimension["Key"]}) in dimension["Values"]
        tag = expression["Tags"]
        tags = dict(self.tags)
        if "ABSENT" in tag.get("MatchOptions", []):
            return tag["Key"] not in tags
        return tag["Key"] in tags and tags[tag["Key"]] in tag["Values"]


class Events:
    """Just enough of botocore's event hooks for the run's request counter."""

    def __init__(self) -> None:
        self.handlers: list[Callable[..., Any]] = []

    def register(self, _name: str, handler: Callable[..., Any]) -> None:
        self.handlers.append(handler)

    def register_first(self, _name: str, handler: Callable[..., Any]) -> None:
        self.handlers.insert(0, handler)

    def unregister(self, _name: str, handler: Callable[..., Any]) -> None:
        self.handlers.remove(handler)


class FakeCostExplorer:
    """GetCostAndUsage over line items: daily results, two groupings, filters, pages of ``page_size`` groups."""

    def __init__(
        self, lines: Iterable[Line], page_size: int = 1000, on_call: Callable[[FakeCostExplorer], None] | None = None
    ) -> None:
        self.lines = list(lines)
        self.page_size = page_size
        self.on_call = on_call
        self.calls: list[dict[str, Any]] = []
        self.meta = SimpleNamespace(events=Events())

    def get_cost_and_usage(self, **params: Any) -> dict[str, Any]:
        for handler in list(self.meta.events.handlers):
            handler(event_name="before-call.ce.GetCostAndUsage")
        report = ParamValidator().validate(params, OPERATION.input_shape)
        assert not report.has_errors(), report.generate_report()
        self.calls.append(params)
        groups = self._groups(params)
        offset = int(params.get("NextPageToken", "0"))
        body: dict[str, Any] = {
            "GroupDefinitions": params["GroupBy"],
            "ResultsByTime": self._results(groups[offset : offset + self.page_size], self._days(params, offset)),
            "DimensionValueAttributes": [],
        }
        if offset + self.page_size < len(groups):
            body["NextPageToken"] = str(offset + self.page_size)
        assert not ParamValidator().validate(body, OPERATION.output_shape).has_errors()
        if self.on_call:
            self.on_call(self)
        return body

    def _groups(self, params: dict[str, Any]) -> list[tuple[date, tuple[str, ...], Decimal]]:
        start = date.fromisoformat(params["TimePeriod"]["Start"])
        end = date.fromisoformat(params["TimePeriod"]["End"])
        sums: defaultdict[tuple[date, tuple[str, ...]], Decimal] = defaultdict(lambda: ZERO)
        for line in self.lines:
            if start <= line.day < end and line.matches(params.get("Filter") or {"And": []}):
                sums[(line.day, tuple(line.value(d) for d in params["GroupBy"]))] += line.cost
        return [(day, keys, amount) for (day, keys), amount in sorted(sums.items())]

    @staticmethod
    def _days(params: dict[str, Any], offset: int) -> list[date]:
        """Like Cost Explorer, the first page holds a result for every day asked for, even an empty one."""
        if offset:
            return []
        start = date.fromisoformat(params["TimePeriod"]["Start"])
        end = date.fromisoformat(params["TimePeriod"]["End"])
        return [start + timedelta(days=n) for n in range((end - start).days)]

    @staticmethod
    def _results(groups: list[tuple[date, tuple[str, ...], Decimal]], days: list[date]) -> list[dict[str, Any]]:
        by_day: defaultdict[date, list[dict[str, Any]]] = defaultdict(list, {d: [] for d in days})
        for day, keys, amount in groups:
            cost = {"Amount": f"{amount:f}", "Unit": "USD"}
            usage = {"Amount": "1", "Unit": "N/A"}
            by_day[day].append(
                {"Keys": list(keys), "Metrics": {"UnblendedCost": cost, "AmortizedCost": cost, "UsageQuantity": usage}}
            )
        period = lambda d: {"Start": d.isoformat(), "End": (d + timedelta(days=1)).isoformat()}  # noqa: E731
        return [
            {"TimePeriod": period(d), "Total": {}, "Groups": g, "Estimated": False} for d, g in sorted(by_day.items())
        ]


def collect(
    lines: Iterable[Line], store: FakeStore | None = None, page_size: int = 1000, on_call: Any = None, **source: Any
) -> tuple[CollectRequest, FakeCostExplorer]:
    """One run as the runner does it: collect, claim the covered days, replace their totals."""
    fake = FakeCostExplorer(lines, page_size, on_call)
    request = make_request(store, **source)
    coverage = aws_ce.collect(request, fake)
    assert coverage.start and coverage.end
    request.sink.costs.claim(coverage.start, coverage.end)
    request.sink.costs.commit_totals()
    return request, fake


def collected(request: CollectRequest, dimension: str) -> dict[str, Decimal]:
    merged = PeriodTotals()
    for totals in request.sink.costs.days.values():
        merged.merge(totals)
    usd = merged.currencies.get("USD")
    groups = usd.group(dimension) if usd else {}
    return {key: amount for key, amount in groups.items() if amount != 0}


def truth(lines: Iterable[Line], dimension: str) -> dict[str, Decimal]:
    sums: defaultdict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        value = {
            "provider": "AWS",
            "service": line.service,
            "account": line.account,
            "region": "" if line.region == "NoRegion" else line.region,
        }.get(dimension)
        if dimension.startswith("tag:"):
            value = dict(line.tags).get(dimension[4:], "")
        sums[value or NONE_KEY] += line.cost
    return {key: amount for key, amount in sums.items() if amount != 0}


def expected_requests(lines: Iterable[Line], group_by_region: bool, tag_keys: list[str]) -> int:
    """The documented count: 1, plus one request per value path before each extra grouping."""
    paths = [
        [line.account, *([line.region] if group_by_region else []), *(dict(line.tags).get(k, "") for k in tag_keys)]
        for line in lines
    ]
    extra = len(paths[0]) - 1 if paths else 0
    return 1 + sum(len({tuple(path[: depth + 1]) for path in paths}) for depth in range(extra))


def fixture_size_data() -> list[Line]:
    """Three days of a small account: seven services, a few regions, one tag."""
    services = [EC2, S3, LAMBDA, "Amazon DynamoDB", "Amazon CloudWatch", "AWS Key Management Service", "Tax"]
    regions = ["us-east-1", "eu-west-1", "global"]
    lines = []
    for d, day in enumerate(DAYS):
        for s, service in enumerate(services):
            for r, region in enumerate(regions):
                team = (("team", ["data", "web"][r % 2]),) if r < 2 else ()
                lines.append(Line(day, A1, service, region, Decimal(f"{d + 1}.{s}{r}0000007"), team))
    return lines


def test_default_run_is_exactly_one_request() -> None:
    lines = fixture_size_data()

    request, fake = collect(lines)

    assert len(fake.calls) == 1 and request.requests.count == 1  # 4 runs a day: 4 requests
    assert request.sink.costs.written == len(DAYS) * 7  # one item per day, account and service


@pytest.mark.parametrize(
    ("group_by_region", "tag_keys", "extra"),
    [
        (False, [], 0),
        (True, [], 1),  # one per linked account
        (False, ["team"], 1),  # one per linked account
        (True, ["team"], 1 + 3),  # then one per (account, region): 3 regions
        (False, ["team", "env"], 1 + 3),  # then one per (account, team value): data, web, untagged
        (True, ["team", "env"], 1 + 3 + 3),  # then one per (account, region, team) seen: 3 paths
    ],
)
def test_each_extra_grouping_adds_its_documented_requests(
    group_by_region: bool, tag_keys: list[str], extra: int
) -> None:
    lines = fixture_size_data()

    request, fake = collect(lines, group_by_region=group_by_region, tag_keys=tag_keys)

    assert request.requests.count == len(fake.calls) == 1 + extra == expected_requests(lines, group_by_region, tag_keys)
    for dimension in ["provider", "service", "account"] + ["region"] * group_by_region + [f"tag:{k}" for k in tag_keys]:
        assert collected(request, dimension) == truth(lines, dimension)


def test_a_split_costs_one_request_per_linked_account() -> None:
    lines = [Line(DAYS[0], account, EC2, "us-east-1", Decimal("1")) for account in (A1, A2, "777788889999")]

    _, fake = collect(lines, group_by_region=True)

    assert len(fake.calls) == 1 + 3
    assert [call["Filter"] for call in fake.calls[1:]] == [
        {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": [account]}} for account in (A1, A2, "777788889999")
    ]


money = st.decimals(min_value=-50, max_value=500, places=4, allow_nan=False, allow_infinity=False)
lines_strategy = st.lists(
    st.builds(
        Line,
        day=st.sampled_from(DAYS),
        account=st.sampled_from([A1, A2]),
        service=st.sampled_from([EC2, S3, LAMBDA]),
        region=st.sampled_from(["us-east-1", "eu-west-1", "global", "NoRegion"]),
        cost=money,
        tags=st.tuples(
            st.sampled_from([(), (("team", "data"),), (("team", "web"),)]), st.sampled_from([(), (("env", "prod"),)])
        ).map(lambda parts: parts[0] + parts[1]),
    ),
    max_size=25,
)
configs = st.tuples(st.booleans(), st.sampled_from([[], ["team"], ["env"], *map(list, permutations(["team", "env"]))]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=lines_strategy, config=configs, page_size=st.sampled_from([1, 3, 1000]))
def test_totals_are_exact_whatever_is_configured(
    lines: list[Line], config: tuple[bool, list[str]], page_size: int
) -> None:
    group_by_region, tag_keys = config

    try:
        request, fake = collect(lines, page_size=page_size, group_by_region=group_by_region, tag_keys=tag_keys)
    except aws_ce.CostExplorerError as exc:
        # One-group pages over many value paths can exceed the per-run request cap; that stop is tested elsewhere.
        assert "over the limit" in str(exc)
        return

    dimensions = ["provider", "service", "account"] + ["region"] * group_by_region + [f"tag:{k}" for k in tag_keys]
    for dimension in dimensions:
        assert collected(request, dimension) == truth(lines, dimension), dimension
    assert request.sink.rejected == 0 and request.requests.count == len(fake.calls)
    store: FakeStore = request.sink.costs.store  # type: ignore[assignment]
    assert len(store.items) == request.sink.costs.written  # one key per item: nothing overwrote anything
    assert not any("#" in sk for _, sk in store.items)
    if page_size == 1000:
        assert len(fake.calls) == expected_requests(lines, group_by_region, tag_keys)


def test_cost_a_filter_cannot_reach_stays_on_the_coarser_item() -> None:
    # Given a resource whose team tag is the empty string: grouped as untagged, but not matched by ABSENT
    lines = [
        Line(DAYS[0], A1, S3, "us-east-1", Decimal("2"), (("team", ""), ("env", "prod"))),
        Line(DAYS[0], A1, S3, "us-east-1", Decimal("3"), (("env", "prod"),)),
        Line(DAYS[0], A1, S3, "us-east-1", Decimal("5"), (("team", "data"), ("env", "prod"))),
    ]

    request, _ = collect(lines, tag_keys=["team", "env"])

    items = sorted(request.sink.costs.store.items.values(), key=lambda i: i["BilledCost"])  # type: ignore[attr-defined]
    assert [(i["BilledCost"], i["Tags"], i["ChargeDescription"]) for i in items] == [
        (2, {}, "Cost Explorer did not attribute this part to any tag env value"),
        (3, {"env": "prod"}, ""),
        (5, {"team": "data", "env": "prod"}, ""),
    ]
    for dimension in ("provider", "service", "account", "tag:team"):
        assert collected(request, dimension) == truth(lines, dimension)


def test_cost_restated_between_two_requests_keeps_the_first_requests_totals() -> None:
    lines = [Line(DAYS[0], A1, EC2, "us-east-1", Decimal("4")), Line(DAYS[0], A1, EC2, "eu-west-1", Decimal("6"))]

    def restate(fake: FakeCostExplorer) -> None:
        fake.lines = [replace(line, cost=line.cost + 1) for line in lines]

    request, _ = collect(lines, on_call=restate, group_by_region=True)

    assert collected(request, "service") == {EC2: Decimal("10")}
    assert collected(request, "region") == {
        "us-east-1": Decimal("5"),
        "eu-west-1": Decimal("7"),
        NONE_KEY: Decimal("-2"),
    }


def test_rounding_noise_below_the_tolerance_writes_no_extra_item() -> None:
    lines = [Line(DAYS[0], A1, EC2, "us-east-1", Decimal("4")), Line(DAYS[0], A1, EC2, "eu-west-1", Decimal("6"))]

    def nudge(fake: FakeCostExplorer) -> None:
        fake.lines = [replace(line, cost=line.cost + Decimal("0.0000000001")) for line in lines]

    request, _ = collect(lines, on_call=nudge, group_by_region=True)

    assert request.sink.costs.written == 2


def test_restated_days_replace_what_the_first_run_wrote() -> None:
    # Given a first run, When Cost Explorer restates a day and the next run reads the same days
    store = FakeStore()
    first = [Line(day, A1, service, "us-east-1", Decimal("1.10")) for day in DAYS for service in (EC2, S3)]
    collect(first, store)
    keys = set(store.items)
    restated = [
        replace(line, cost=Decimal("2.25")) if line.day == DAYS[1] and line.service == EC2 else line for line in first
    ]

    again, _ = collect(restated, store)

    # Then the same keys hold the new amounts and the day's total is replaced, not added to
    assert set(store.items) == keys
    amounts = {(i["day"], i["ServiceName"]): i["BilledCost"] for i in store.items.values()}
    assert amounts[(DAYS[1].isoformat(), EC2)] == Decimal("2.25")
    assert amounts[(DAYS[0].isoformat(), EC2)] == Decimal("1.10")
    assert store.totals[DAYS[1].isoformat()].currencies["USD"].total == Decimal("3.35")
    assert collected(again, "service") == truth(restated, "service")


def test_recollecting_the_same_answer_writes_the_same_keys() -> None:
    store = FakeStore()
    lines = fixture_size_data()
    collect(lines, store, group_by_region=True, tag_keys=["team"])
    before = dict(store.items)

    collect(lines, store, group_by_region=True, tag_keys=["team"])

    assert set(store.items) == set(before)
    assert all(store.items[k]["BilledCost"] == before[k]["BilledCost"] for k in before)


def test_a_split_over_the_request_limit_stops_before_spending() -> None:
    lines = [Line(DAYS[0], f"{n:012d}", EC2, "us-east-1", Decimal("1")) for n in range(aws_ce.MAX_REQUESTS)]
    fake = FakeCostExplorer(lines)

    with pytest.raises(CostExplorerError, match=f"needs {aws_ce.MAX_REQUESTS} more requests after 1, over the limit"):
        aws_ce.collect(make_request(group_by_region=True), fake)

    assert len(fake.calls) == 1

"""Cost Explorer collector, request by request: botocore's Stubber pins every call and feeds real response shapes."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.model import ServiceModel
from botocore.retries.standard import ThrottledRetryableChecker
from botocore.stub import Stubber
from botocore.validate import ParamValidator
from spendwatch.domain.config import Config, Source
from spendwatch.platform.aws import CLIENT_CONFIG
from spendwatch.store.writer import CostWriter, UsageWriter

from collect.sources import aws_ce
from collect.sources.aws_ce import CostExplorerError
from collect.sources.base import CollectRequest, RequestCounter, Sink

FIXTURES = Path(__file__).parents[1] / "fixtures" / "aws_ce"
AWSCLI_EXAMPLE = FIXTURES / "awscli_get_cost_and_usage_monthly_groupby_service_and_tag.json"
SERVICE_MODEL = ServiceModel(json.loads((FIXTURES / "botocore_ce_service2_subset.json").read_text(encoding="utf-8")))
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
DAYS = [date(2026, 11, 22), date(2026, 11, 23), date(2026, 11, 24)]
ACCOUNT = "111122223333"
EC2 = "Amazon Elastic Compute Cloud - Compute"
S3 = "Amazon Simple Storage Service"


class FakeStore:
    """Keeps what the writer puts, keyed like DynamoDB, and the day totals it replaces."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.totals: dict[str, Any] = {}

    def batch_put(self, records: list[dict[str, Any]]) -> int:
        for record in records:
            self.items[(record["pk"], record["sk"])] = record
        return len(records)

    def replace_day_totals(self, source: str, days: dict[str, Any]) -> None:
        self.totals.update(days)


def ce_client() -> Any:
    return boto3.client("ce", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def make_request(
    store: FakeStore | None = None, start: date | None = None, end: date | None = None, **source: Any
) -> CollectRequest:
    store = store or FakeStore()
    src = Source(name="aws", type="aws_ce", **source)
    sink = Sink(CostWriter(store, "aws"), UsageWriter(store))  # type: ignore[arg-type]
    return CollectRequest(src, Config(sources=[src]), sink, RequestCounter(), NOW, start, end)


def metric(amount: Any, unit: str = "USD") -> dict[str, Any]:
    return {"Amount": amount, "Unit": unit}


def group(
    service: str, second: str, cost: str, amortized: str | None = None, usage: str = "2", unit: str = "Hrs"
) -> dict[str, Any]:
    return {
        "Keys": [service, second],
        "Metrics": {
            "UnblendedCost": metric(cost),
            "AmortizedCost": metric(amortized if amortized is not None else cost),
            "UsageQuantity": metric(usage, unit),
        },
    }


def day(when: date, groups: list[dict[str, Any]], estimated: bool = False) -> dict[str, Any]:
    period = {"Start": when.isoformat(), "End": (when + timedelta(days=1)).isoformat()}
    return {"TimePeriod": period, "Total": {}, "Groups": groups, "Estimated": estimated}


def response(
    results: list[dict[str, Any]], second: tuple[str, str] = ("DIMENSION", "LINKED_ACCOUNT"), token: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": second[0], "Key": second[1]}],
        "ResultsByTime": results,
        "DimensionValueAttributes": [{"Value": ACCOUNT, "Attributes": {"description": "prod"}}],
    }
    if token:
        body["NextPageToken"] = token
    return body


def params(
    start: date = DAYS[0],
    end: date = DAYS[-1],
    second: tuple[str, str] = ("DIMENSION", "LINKED_ACCOUNT"),
    token: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    expected: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": (end + timedelta(days=1)).isoformat()},
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost", "AmortizedCost", "UsageQuantity"],
        "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": second[0], "Key": second[1]}],
        **extra,
    }
    if token:
        expected["NextPageToken"] = token
    return expected


THREE_DAYS = response(
    [
        day(DAYS[0], [group(EC2, ACCOUNT, "10.5000000000", "9.75", "24", "Hrs"), group(S3, ACCOUNT, "0.0000300172")]),
        day(DAYS[1], [group(EC2, ACCOUNT, "11.25"), group(S3, ACCOUNT, "0.02")]),
        day(DAYS[2], [group(EC2, ACCOUNT, "3.1")], estimated=True),
    ]
)


def collect(request: CollectRequest, *responses: tuple[dict[str, Any], dict[str, Any]]) -> Any:
    client = ce_client()
    with Stubber(client) as stub:
        for body, expected in responses:
            stub.add_response("get_cost_and_usage", body, expected)
        coverage = aws_ce.collect(request, client)
        stub.assert_no_pending_responses()
    return coverage


def written(request: CollectRequest) -> list[dict[str, Any]]:
    request.sink.costs.flush()
    store: FakeStore = request.sink.costs.store  # type: ignore[assignment]
    return list(store.items.values())


def test_built_responses_match_the_pinned_service_model() -> None:
    # Given the shapes botocore validates against, When the daily responses built here are checked, Then they fit.
    operation = SERVICE_MODEL.operation_model("GetCostAndUsage")
    for body in (THREE_DAYS, response([], token="t"), json.loads(AWSCLI_EXAMPLE.read_text(encoding="utf-8"))):
        assert not ParamValidator().validate(body, operation.output_shape).has_errors()
    assert (
        not ParamValidator()
        .validate(params(Filter={"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": [ACCOUNT]}}), operation.input_shape)
        .has_errors()
    )


def test_default_run_is_one_daily_request_for_the_trailing_days() -> None:
    request = make_request()

    coverage = collect(request, (THREE_DAYS, params()))  # any second call would find no stubbed response

    assert (coverage.start, coverage.end) == (DAYS[0], DAYS[-1])
    assert request.sink.read == 5 and request.sink.rejected == 0


def test_backfill_asks_for_exactly_its_days_with_an_exclusive_end() -> None:
    request = make_request(start=date(2026, 2, 27), end=date(2026, 3, 1))

    empty_days = response([day(date(2026, 2, 27) + timedelta(days=n), []) for n in range(3)])
    coverage = collect(request, (empty_days, params(date(2026, 2, 27), date(2026, 3, 1))))

    assert (coverage.start, coverage.end) == (date(2026, 2, 27), date(2026, 3, 1))


def test_days_missing_from_the_answer_are_not_covered() -> None:
    # An answer without a day's result (not even an empty one) says nothing about that day: it must not become 0.
    request = make_request()

    coverage = collect(request, (response([]), params()))

    assert (coverage.start, coverage.end) == (None, None)


def test_lookback_days_sets_the_window_ending_today_in_utc() -> None:
    request = make_request(lookback_days=7)
    request.collected_at = datetime(2026, 11, 24, 23, 30, tzinfo=UTC).astimezone()  # any zone, same instant

    empty_days = response([day(date(2026, 11, 18) + timedelta(days=n), []) for n in range(7)])
    coverage = collect(request, (empty_days, params(date(2026, 11, 18), date(2026, 11, 24))))

    assert (coverage.start, coverage.end) == (date(2026, 11, 18), date(2026, 11, 24))


def test_groups_become_exact_focus_items() -> None:
    request = make_request()
    collect(request, (THREE_DAYS, params()))

    items = {(i["ServiceName"], i["day"]): i for i in written(request)}
    ec2 = items[(EC2, "2026-11-22")]
    assert ec2["ProviderName"] == "AWS" and ec2["SubAccountId"] == ACCOUNT and ec2["BillingAccountId"] == ""
    assert (ec2["BilledCost"], ec2["EffectiveCost"]) == (Decimal("10.5000000000"), Decimal("9.75"))
    assert (ec2["ConsumedQuantity"], ec2["ConsumedUnit"]) == (Decimal("24"), "Hrs")
    assert (ec2["ChargePeriodStart"], ec2["ChargePeriodEnd"]) == (
        "2026-11-22T00:00:00+00:00",
        "2026-11-23T00:00:00+00:00",
    )
    assert (ec2["BillingCurrency"], ec2["ChargeCategory"], ec2["RegionId"], ec2["Tags"]) == ("USD", "Usage", "", {})
    assert items[(S3, "2026-11-22")]["BilledCost"] == Decimal("0.0000300172")  # exact, from the string
    assert [items[(EC2, d.isoformat())]["x_estimated"] for d in DAYS] == [False, False, True]


def test_pages_follow_next_page_token_until_there_is_none() -> None:
    request = make_request()
    first = response([day(DAYS[0], [group(EC2, ACCOUNT, "1")])], token="page-2")
    # A day's groups may continue on the next page under the same TimePeriod.
    second = response(
        [day(DAYS[0], [group(S3, ACCOUNT, "2")]), day(DAYS[1], [group(EC2, ACCOUNT, "3")])], token="page-3"
    )
    third = response([day(DAYS[2], [group(EC2, ACCOUNT, "4")])])

    collect(request, (first, params()), (second, params(token="page-2")), (third, params(token="page-3")))

    assert sorted(i["BilledCost"] for i in written(request)) == [1, 2, 3, 4]


def example_period(example: dict[str, Any]) -> dict[str, str]:
    period: dict[str, str] = example["ResultsByTime"][0]["TimePeriod"]
    return period


def test_the_cli_example_shape_maps_tags_and_rejects_groups_without_amortized_cost() -> None:
    # Given the AWS CLI's real answer for SERVICE x tag Environment, fed as the tag split of one account
    example = json.loads(AWSCLI_EXAMPLE.read_text(encoding="utf-8"))
    with_amortized = copy.deepcopy(example)
    for item in with_amortized["ResultsByTime"][0]["Groups"]:
        item["Metrics"]["AmortizedCost"] = item["Metrics"]["UnblendedCost"]
    month = {**day(date(2017, 9, 1), [group(S3, ACCOUNT, "40.6226137778")]), "TimePeriod": example_period(example)}
    base = response([month])
    tag_params = params(
        date(2017, 9, 1),
        date(2017, 9, 30),
        ("TAG", "Environment"),
        Filter={"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": [ACCOUNT]}},
    )
    window = {"start": date(2017, 9, 1), "end": date(2017, 9, 30), "tag_keys": ["Environment"]}

    as_is = make_request(**window)
    collect(as_is, (base, params(date(2017, 9, 1), date(2017, 9, 30))), (example, tag_params))
    complete = make_request(**window)
    collect(complete, (base, params(date(2017, 9, 1), date(2017, 9, 30))), (with_amortized, tag_params))

    # Then the groups as printed lack AmortizedCost and are rejected, their cost kept on the account's cell
    assert as_is.sink.rejected == 2 and as_is.sink.first_rejection is not None
    assert "AmortizedCost is missing" in as_is.sink.first_rejection
    [kept] = written(as_is)
    assert (kept["Tags"], kept["BilledCost"]) == ({}, Decimal("40.6226137778"))
    assert kept["ChargeDescription"] == "Cost Explorer did not attribute this part to any tag Environment value"
    # And with it, "Environment$" is untagged and "Environment$Dev" is Dev; the month is the charge period
    items = sorted(written(complete), key=lambda i: i["BilledCost"])
    assert [(i["Tags"], i["BilledCost"], i["ConsumedUnit"]) for i in items] == [
        ({"Environment": "Dev"}, Decimal("0.2682364644"), "N/A"),
        ({}, Decimal("40.3543773134"), "N/A"),
    ]
    assert (items[0]["ChargePeriodStart"], items[0]["ChargePeriodEnd"]) == (
        "2017-09-01T00:00:00+00:00",
        "2017-10-01T00:00:00+00:00",
    )
    assert complete.sink.rejected == 0


@pytest.mark.parametrize(
    ("metrics", "reason"),
    [
        ({"AmortizedCost": metric("1")}, "UnblendedCost is missing"),
        ({"UnblendedCost": metric("abc"), "AmortizedCost": metric("1")}, "is not a number"),
        ({"UnblendedCost": metric("NaN"), "AmortizedCost": metric("1")}, "is not a number"),
        ({"UnblendedCost": metric("1", "N/A"), "AmortizedCost": metric("1")}, "is not a currency code"),
        ({"UnblendedCost": metric("1"), "AmortizedCost": metric("1", "EUR")}, "AmortizedCost is in EUR"),
        ({"UnblendedCost": metric("1"), "AmortizedCost": metric("1"), "UsageQuantity": metric("x")}, "UsageQuantity"),
    ],
)
def test_a_malformed_group_is_rejected_and_the_rest_is_written(metrics: dict[str, Any], reason: str) -> None:
    request = make_request()
    bad = {"Keys": [S3, ACCOUNT], "Metrics": metrics}
    body = response([day(DAYS[0], [group(EC2, ACCOUNT, "1"), bad, group("AWS Lambda", ACCOUNT, "2")])])

    coverage = collect(request, (body, params()))

    assert request.sink.rejected == 1 and reason in (request.sink.first_rejection or "")
    assert S3 in (request.sink.first_rejection or "") and "page 1" in (request.sink.first_rejection or "")
    assert sorted(i["BilledCost"] for i in written(request)) == [1, 2]
    assert (coverage.start, coverage.end) == (DAYS[0], DAYS[0])


def test_groups_with_the_wrong_keys_or_period_are_rejected() -> None:
    request = make_request()
    broken_period = {"TimePeriod": {"Start": "soon", "End": "later"}, "Groups": [group(EC2, ACCOUNT, "9")]}
    body = response([day(DAYS[0], [{"Keys": [EC2], "Metrics": {}}, group(S3, ACCOUNT, "1")]), broken_period])

    collect(request, (body, params()))

    assert request.sink.rejected == 2
    assert [i["BilledCost"] for i in written(request)] == [1]


def test_usage_quantity_is_optional_but_cost_is_not() -> None:
    request = make_request()
    no_usage = {"Keys": [S3, ACCOUNT], "Metrics": {"UnblendedCost": metric("0.5"), "AmortizedCost": metric("0.4")}}

    collect(request, (response([day(DAYS[0], [no_usage])]), params()))

    [item] = written(request)
    assert (item["BilledCost"], item["EffectiveCost"], item["ConsumedQuantity"]) == (
        Decimal("0.5"),
        Decimal("0.4"),
        None,
    )


def test_amounts_must_be_strings_never_floats() -> None:
    with pytest.raises(aws_ce.GroupError, match="is not a decimal string"):
        aws_ce.parse_amounts({"UnblendedCost": metric(1.5), "AmortizedCost": metric("1")}, estimated=False)


def _failing(request: CollectRequest, code: str, pages_before: list[dict[str, Any]]) -> CostExplorerError:
    client = ce_client()
    with Stubber(client) as stub:
        for n, body in enumerate(pages_before):
            stub.add_response("get_cost_and_usage", body, params(token=f"t{n}" if n else None))
        stub.add_client_error("get_cost_and_usage", code, "it went wrong", 400)
        with pytest.raises(CostExplorerError) as failure:
            aws_ce.collect(request, client)
    return failure.value


def test_data_unavailable_ends_the_run_naming_the_query_page_and_days() -> None:
    request = make_request()

    error = _failing(request, "DataUnavailableException", [])

    message = str(error)
    assert "page 1 failed (DataUnavailableException: it went wrong; Cost Explorer has no data" in message
    assert "by SERVICE, LINKED_ACCOUNT for 2026-11-22..2026-11-24" in message
    assert "0 cost items read before it are kept; missing: 2026-11-22..2026-11-24" in message
    assert request.sink.read == 0


def test_a_later_page_failing_keeps_the_pages_already_read() -> None:
    request = make_request()
    first = response([day(DAYS[0], [group(EC2, ACCOUNT, "1")]), day(DAYS[1], [group(EC2, ACCOUNT, "2")])], token="t1")

    error = _failing(request, "LimitExceededException", [first])

    assert "page 2 failed (LimitExceededException" in str(error) and "still throttled" in str(error)
    # Day 2 may continue on the failed page, so it is reported missing along with day 3.
    assert "2 cost items read before it are kept; missing: 2026-11-23..2026-11-24" in str(error)
    assert len(written(request)) == 2  # the runner flushes them; nothing read is dropped


def test_an_expired_bill_says_to_ask_for_later_days() -> None:
    error = _failing(make_request(start=date(2020, 1, 1), end=date(2020, 1, 3)), "BillExpirationException", [])
    assert "no longer holds these days" in str(error)


def test_throttling_is_left_to_botocores_retry_mode() -> None:
    # Cost Explorer throttles with LimitExceededException; botocore's standard mode retries that code.
    assert CLIENT_CONFIG.retries is not None and CLIENT_CONFIG.retries["mode"] in {"standard", "adaptive"}
    assert {"LimitExceededException", "ThrottlingException"} <= set(ThrottledRetryableChecker._THROTTLED_ERROR_CODES)


@pytest.mark.parametrize("code", ["RequestChangedException", "InvalidNextTokenException"])
def test_a_void_page_token_restarts_the_query_once_without_duplicates(code: str) -> None:
    request = make_request()
    first = response([day(DAYS[0], [group(EC2, ACCOUNT, "1")])], token="t1")
    again = response([day(DAYS[0], [group(EC2, ACCOUNT, "1.5"), group(S3, ACCOUNT, "2")])], token="t2")
    last = response([day(DAYS[1], [group(EC2, ACCOUNT, "3")])])
    client = ce_client()
    with Stubber(client) as stub:
        stub.add_response("get_cost_and_usage", first, params())
        stub.add_client_error("get_cost_and_usage", code, "parameters changed", 400, expected_params=params(token="t1"))
        stub.add_response("get_cost_and_usage", again, params())
        stub.add_response("get_cost_and_usage", last, params(token="t2"))
        aws_ce.collect(request, client)
        stub.assert_no_pending_responses()

    # The cell read before the restart is kept once; the next run refreshes it like any recent day.
    assert sorted(i["BilledCost"] for i in written(request)) == [1, 2, 3]


def test_a_second_void_token_ends_the_run() -> None:
    request = make_request()
    client = ce_client()
    with Stubber(client) as stub:
        stub.add_response("get_cost_and_usage", response([], token="t1"), params())
        stub.add_client_error("get_cost_and_usage", "RequestChangedException", "changed", 400)
        stub.add_response("get_cost_and_usage", response([], token="t2"), params())
        stub.add_client_error("get_cost_and_usage", "RequestChangedException", "changed again", 400)
        with pytest.raises(CostExplorerError, match="page 2 failed \\(RequestChangedException: changed again"):
            aws_ce.collect(request, client)


def test_region_split_filters_each_linked_account() -> None:
    # Given two linked accounts and group_by_region, When collected, Then one filtered request per account follows.
    other = "444455556666"
    request = make_request(group_by_region=True)
    base = response([day(DAYS[0], [group(EC2, ACCOUNT, "5"), group(EC2, other, "7")])])
    mine = response(
        [day(DAYS[0], [group(EC2, "us-east-1", "3"), group(EC2, "eu-west-1", "2")])], ("DIMENSION", "REGION")
    )
    theirs = response([day(DAYS[0], [group(EC2, "NoRegion", "7")])], ("DIMENSION", "REGION"))

    def by_region(account: str) -> dict[str, Any]:
        return params(
            second=("DIMENSION", "REGION"), Filter={"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": [account]}}
        )

    collect(request, (base, params()), (mine, by_region(ACCOUNT)), (theirs, by_region(other)))

    cells = sorted((i["SubAccountId"], i["RegionId"], i["BilledCost"]) for i in written(request))
    assert cells == [(ACCOUNT, "eu-west-1", 2), (ACCOUNT, "us-east-1", 3), (other, "", 7)]


def test_region_then_tag_filters_on_the_whole_value_path() -> None:
    request = make_request(group_by_region=True, tag_keys=["team"])
    base = response([day(DAYS[0], [group(EC2, ACCOUNT, "5")])])
    regions = response([day(DAYS[0], [group(EC2, "us-east-1", "5")])], ("DIMENSION", "REGION"))
    teams = response([day(DAYS[0], [group(EC2, "team$data", "4"), group(EC2, "team$", "1")])], ("TAG", "team"))
    account = {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": [ACCOUNT]}}
    region = {"Dimensions": {"Key": "REGION", "Values": ["us-east-1"]}}

    collect(
        request,
        (base, params()),
        (regions, params(second=("DIMENSION", "REGION"), Filter=account)),
        (teams, params(second=("TAG", "team"), Filter={"And": [account, region]})),
    )

    cells = sorted((i["RegionId"], json.dumps(i["Tags"]), i["BilledCost"]) for i in written(request))
    assert cells == [("us-east-1", '{"team": "data"}', 4), ("us-east-1", "{}", 1)]


def test_a_later_tag_key_filters_untagged_cost_with_absent() -> None:
    request = make_request(tag_keys=["team", "env"])
    base = response([day(DAYS[0], [group(S3, ACCOUNT, "3")])])
    teams = response([day(DAYS[0], [group(S3, "team$", "3")])], ("TAG", "team"))
    envs = response([day(DAYS[0], [group(S3, "env$prod", "3")])], ("TAG", "env"))
    account = {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": [ACCOUNT]}}
    untagged = {"Tags": {"Key": "team", "MatchOptions": ["ABSENT"]}}

    collect(
        request,
        (base, params()),
        (teams, params(second=("TAG", "team"), Filter=account)),
        (envs, params(second=("TAG", "env"), Filter={"And": [account, untagged]})),
    )

    [item] = written(request)
    assert item["Tags"] == {"env": "prod"}

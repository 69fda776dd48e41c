"""Cost Explorer on moto, from a scheduled event to the API: what the fake served, to the cent, and only once."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
from botocore.stub import Stubber
from moto.ce.models import ce_backends
from moto.core import DEFAULT_ACCOUNT_ID
from spendwatch.domain.money import to_cents
from spendwatch.platform import aws, clock

from tests.integration.conftest import TABLE, LambdaContext, call_api, scheduled_event, write_config

pytestmark = pytest.mark.calendar

QUEUE_URL = "http://motoapi.amazonaws.com/moto-api/static/ce/cost-and-usage-results"
ACCOUNT = "111122223333"
SERVICES = {
    "Amazon Elastic Compute Cloud - Compute": ["10.1234567891", "11.0000000004", "2.5"],
    "Amazon Simple Storage Service": ["0.0000300172", "0.0049999999", "0.0050000001"],
    "AWS Lambda": ["0.333", "0.333", "0.334"],
    "Tax": ["1.01", "1.10", "0"],
}


def window() -> list[date]:
    """The default window of a run started now: the trailing three days up to today (UTC)."""
    today = clock.utc_now().date()
    return [today - timedelta(days=n) for n in (2, 1, 0)]


def served(days: list[date], services: dict[str, list[str]], second: str = ACCOUNT) -> dict[str, Any]:
    """A daily GetCostAndUsage answer grouped by SERVICE and ``second``."""
    results = []
    for i, day in enumerate(days):
        groups = [
            {
                "Keys": [service, second],
                "Metrics": {
                    "UnblendedCost": {"Amount": amounts[i], "Unit": "USD"},
                    "AmortizedCost": {"Amount": amounts[i], "Unit": "USD"},
                    "UsageQuantity": {"Amount": "1", "Unit": "N/A"},
                },
            }
            for service, amounts in services.items()
        ]
        period = {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()}
        results.append({"TimePeriod": period, "Total": {}, "Groups": groups, "Estimated": i == len(days) - 1})
    return {"ResultsByTime": results, "DimensionValueAttributes": []}


def queue(*results: dict[str, Any]) -> None:
    """Queue answers in moto: each new request body takes the next one (the same body gets the same answer)."""
    response = requests.post(QUEUE_URL, json={"results": list(results)}, timeout=5)
    assert response.status_code == 201


def forget_answers() -> None:
    """Let moto answer the same request anew (it remembers an answer per request body)."""
    ce_backends[DEFAULT_ACCOUNT_ID]["global"].cost_usage_results.clear()


def sums(services: dict[str, list[str]]) -> dict[str, str]:
    return {service: f"{to_cents(sum(map(Decimal, amounts), Decimal(0))):f}" for service, amounts in services.items()}


def collect_run(**detail: str) -> dict[str, Any]:
    from collect.handler import handler

    result: dict[str, Any] = handler(scheduled_event("aws", **detail), LambdaContext())
    return result


def totals(group_by: str, days: list[date]) -> dict[str, str]:
    query = {"start": days[0].isoformat(), "end": days[-1].isoformat(), "group_by": group_by}
    status, body = call_api("/v1/costs", query)
    assert status == 200, body
    return {group["key"]: group["total"] for group in body["groups"]}


@pytest.fixture
def aws_ce_env(aws_env: dict[str, Any]) -> dict[str, Any]:
    """Moto plus a config with one Cost Explorer source on its defaults."""
    write_config(aws_env, 'currency = "USD"\n[[sources]]\nname = "aws"\ntype = "aws_ce"\n')
    return aws_env


def test_a_scheduled_run_serves_what_cost_explorer_said_to_the_cent(aws_ce_env: dict[str, Any]) -> None:
    days = window()
    queue(served(days, SERVICES))

    run = collect_run()

    assert run["status"] == "succeeded" and run["rejected"] == 0
    assert run["requests"] == 1  # the default schedule's budget: one request a run, four a day
    assert run["window"] == {"start": days[0].isoformat(), "end": days[-1].isoformat()}
    assert run["records_written"] == len(days) * len(SERVICES)
    assert totals("service", days) == sums(SERVICES)
    everything = sum((Decimal(a) for amounts in SERVICES.values() for a in amounts), Decimal(0))
    assert totals("account", days) == {ACCOUNT: f"{to_cents(everything):f}"}
    assert set(totals("provider", days)) == {"AWS"}


def test_collecting_twice_changes_nothing(aws_ce_env: dict[str, Any]) -> None:
    days = window()
    queue(served(days, SERVICES))
    collect_run()
    before = {dim: totals(dim, days) for dim in ("provider", "service", "account", "region")}
    items = _cost_items(aws_ce_env)

    second = collect_run()

    assert second["status"] == "succeeded"
    assert {dim: totals(dim, days) for dim in before} == before
    assert _cost_items(aws_ce_env) == items


def test_restated_amounts_replace_the_first_collection(aws_ce_env: dict[str, Any]) -> None:
    days = window()
    queue(served(days, SERVICES))
    collect_run()
    restated = {**SERVICES, "AWS Lambda": ["0.5", "0.333", "0.1"]}
    forget_answers()
    queue(served(days, restated))

    collect_run()

    assert totals("service", days) == sums(restated)
    assert len(_cost_items(aws_ce_env)) == len(days) * len(SERVICES)


def test_a_backfill_with_region_splits_without_counting_twice(aws_ce_env: dict[str, Any]) -> None:
    write_config(aws_ce_env, '[[sources]]\nname = "aws"\ntype = "aws_ce"\ngroup_by_region = true\n')
    days = [date(2026, 3, 30), date(2026, 3, 31), date(2026, 4, 1)]
    by_account = {
        "Amazon Elastic Compute Cloud - Compute": ["5", "7", "9.99"],
        "Amazon Route 53": ["0.5", "0.5", "0.5"],
    }
    east = {"Amazon Elastic Compute Cloud - Compute": ["3", "7", "9.99"]}
    west = {"Amazon Elastic Compute Cloud - Compute": ["2", "0", "0"]}
    by_region = _merge(served(days, east, "us-east-1"), served(days, west, "eu-west-1"))
    by_region = _merge(by_region, served(days, {"Amazon Route 53": ["0.5", "0.5", "0.5"]}, "global"))
    queue(served(days, by_account), by_region)

    run = collect_run(start=days[0].isoformat(), end=days[-1].isoformat())

    assert run["status"] == "succeeded" and run["requests"] == 2  # region adds one request for one account
    assert totals("service", days) == sums(by_account)
    assert totals("region", days) == {"us-east-1": "19.99", "eu-west-1": "2.00", "global": "1.50"}
    status, monthly = call_api("/v1/costs", {"start": "2026-03-01", "end": "2026-04-30", "granularity": "month"})
    assert status == 200 and monthly["total"] == "23.49"


def test_a_failed_run_keeps_the_totals_it_had(aws_ce_env: dict[str, Any]) -> None:
    days = window()
    queue(served(days, SERVICES))
    collect_run()
    before = totals("service", days)

    with Stubber(aws.client("ce")) as stub:  # the same cached client the collector uses
        stub.add_client_error("get_cost_and_usage", "DataUnavailableException", "The requested data is unavailable.")
        run = collect_run()

    assert run["status"] == "failed"
    assert "page 1 failed (DataUnavailableException" in run["error"] and "totals were not updated" in run["error"]
    assert totals("service", days) == before


def _merge(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    merged = defaultdict(list)
    for result in first["ResultsByTime"] + second["ResultsByTime"]:
        merged[(result["TimePeriod"]["Start"], result["TimePeriod"]["End"])].extend(result["Groups"])
    results = [
        {"TimePeriod": {"Start": start, "End": end}, "Total": {}, "Groups": groups, "Estimated": False}
        for (start, end), groups in sorted(merged.items())
    ]
    return {"ResultsByTime": results, "DimensionValueAttributes": []}


def _cost_items(env: dict[str, Any]) -> dict[str, str]:
    """Every stored cost item's key and BilledCost."""
    found: dict[str, str] = {}
    for page in env["dynamodb"].get_paginator("scan").paginate(TableName=TABLE):
        for item in page["Items"]:
            if item.get("item_type", {}).get("S") == "cost":
                found[item["pk"]["S"] + item["sk"]["S"]] = item["BilledCost"]["N"]
    return found

"""From a scheduled event to the API: OpenCost allocations served over HTTP, collected on moto, to the cent."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from spendwatch.domain.money import to_cents
from spendwatch.platform import clock

from tests.fakes.opencost import FakeOpenCost, Reply, example_allocations, idle_allocation
from tests.integration.conftest import TABLE, LambdaContext, call_api, scheduled_event, write_config

pytestmark = pytest.mark.calendar

WEEK = {"start": "2023-07-12", "end": "2023-07-18"}
CONFIG = """currency = "USD"
[[sources]]
name = "k8s"
type = "opencost"
url = "http://opencost.invalid:9003"
idle = "{idle}"
"""


def _every_day() -> dict[str, Any]:
    return {**example_allocations(), "__idle__": idle_allocation(cpu_cost=0.61234, ram_cost=0.18766)}


def _collect(**window: str) -> dict[str, Any]:
    from collect.handler import handler

    result: dict[str, Any] = handler(scheduled_event("k8s", **window), LambdaContext())
    return result


def _served(first: date, last: date, idle: str = "separate") -> dict[str, Decimal]:
    """Exact totalCost per allocation name over the days, from what a fake with the same data answers."""
    share = "true" if idle == "share" else "false"
    include = "false" if idle == "drop" else "true"
    window = f"{first.isoformat()}T00:00:00Z,{(last + timedelta(days=1)).isoformat()}T00:00:00Z"
    reply = FakeOpenCost(every_day=_every_day()).answer(
        "/allocation", {"window": window, "step": "1d", "includeIdle": include, "shareIdle": share}
    )
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for allocations in json.loads(reply.body, parse_float=Decimal)["data"]:
        for name, alloc in allocations.items():
            sums[name] += Decimal(alloc["totalCost"])
    return dict(sums)


def _cents(amount: Decimal) -> str:
    return f"{to_cents(amount):f}"


def _totals(group_by: str, window: dict[str, str] = WEEK) -> dict[str, str]:
    status, body = call_api("/v1/costs", {**window, "group_by": group_by})
    assert status == 200, body
    return {group["key"]: group["total"] for group in body["groups"]}


@pytest.fixture
def served(aws_env: dict[str, Any]) -> Iterator[FakeOpenCost]:
    """A fake OpenCost on a local port, named by OPENCOST_URL (which wins over the config's url)."""
    with FakeOpenCost(every_day=_every_day()) as fake:
        aws_env["monkeypatch"].setenv("OPENCOST_URL", fake.url)
        write_config(aws_env, CONFIG.format(idle="separate"))
        yield fake


def test_collected_totals_equal_what_opencost_served(served: FakeOpenCost) -> None:
    run = _collect(**WEEK)

    sums = _served(date(2023, 7, 12), date(2023, 7, 18))
    exact = sum(sums.values(), Decimal(0))
    assert run["status"] == "succeeded", run
    assert (run["requests"], run["rejected"], run["window"]) == (1, 0, WEEK)
    assert run["records_read"] == 7 * 8  # 3 namespaces x 2 components + idle x 2
    # + CPU core-hours, RAM GiB-hours and the request and usage averages of CPU and RAM per namespace
    assert run["records_written"] == 7 * 8 + 7 * 3 * 6
    assert run["data_through"] == "2023-07-19T00:00:00Z"
    assert _totals("provider") == {"Kubernetes": _cents(exact)}
    assert _totals("service") == {"Kubernetes": _cents(exact)}
    assert _totals("account") == {"default-cluster": _cents(exact)}
    assert _totals("tag:namespace") == {
        "kube-system": _cents(sums["kube-system"]),
        "opencost": _cents(sums["opencost"]),
        "prometheus": _cents(sums["prometheus"]),
        "(none)": _cents(sums["__idle__"]),
    }
    assert served.requests[0]["window"] == "2023-07-12T00:00:00Z,2023-07-19T00:00:00Z"


def test_recollecting_changes_nothing(served: FakeOpenCost, aws_env: dict[str, Any]) -> None:
    _collect(**WEEK)
    before = {dim: _totals(dim) for dim in ("provider", "service", "account", "tag:namespace")}
    items_before = _cost_items(aws_env)

    second = _collect(**WEEK)

    assert second["status"] == "succeeded"
    assert {dim: _totals(dim) for dim in before} == before
    assert _cost_items(aws_env) == items_before == 7 * 8


def _cost_items(aws_env: dict[str, Any]) -> int:
    items = aws_env["dynamodb"].scan(TableName=TABLE)["Items"]
    return sum(1 for item in items if item["item_type"]["S"] == "cost")


def test_the_default_window_is_the_lookback_up_to_today(served: FakeOpenCost) -> None:
    run = _collect()

    today = clock.utc_now().date()
    first = today - timedelta(days=2)
    window = {"start": first.isoformat(), "end": today.isoformat()}
    assert run["status"] == "succeeded" and run["window"] == window and run["requests"] == 1
    assert _totals("provider", window) == {"Kubernetes": _cents(sum(_served(first, today).values(), Decimal(0)))}


@pytest.mark.parametrize("idle", ["share", "drop"])
def test_idle_modes_reach_the_api(aws_env: dict[str, Any], idle: str) -> None:
    with FakeOpenCost(every_day=_every_day()) as fake:
        aws_env["monkeypatch"].setenv("OPENCOST_URL", fake.url)
        write_config(aws_env, CONFIG.format(idle=idle))
        run = _collect(**WEEK)

    sums = _served(date(2023, 7, 12), date(2023, 7, 18), idle)
    assert run["status"] == "succeeded"
    assert "__idle__" not in sums
    assert _totals("provider") == {"Kubernetes": _cents(sum(sums.values(), Decimal(0)))}
    assert "(none)" not in _totals("tag:namespace")


def test_rate_limits_and_server_errors_are_ridden_out(served: FakeOpenCost) -> None:
    served.then(Reply(429, b"", {"Retry-After": "1"}), Reply(503))

    run = _collect(**WEEK)

    assert run["status"] == "succeeded" and run["requests"] == 3
    exact = sum(_served(date(2023, 7, 12), date(2023, 7, 18)).values(), Decimal(0))
    assert _totals("provider") == {"Kubernetes": _cents(exact)}


def test_a_dead_chunk_fails_the_run_and_keeps_what_was_read(
    served: FakeOpenCost, aws_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("spendwatch.platform.http.backoff", lambda attempt, **_: 0.0)
    served.failing_days = {date(2023, 7, 15)}

    run = _collect(start="2023-07-05", end="2023-07-18")

    assert run["status"] == "failed" and run["requests"] == 1 + 5
    assert "OpenCost allocation 2023-07-12..2023-07-18: HTTP 500 after 5 attempts" in run["error"]
    assert "2023-07-05..2023-07-11 collected, 2023-07-12..2023-07-18 missing" in run["error"]
    assert _cost_items(aws_env) == 7 * 8  # the first week's items were written before the failure
    status, body = call_api("/v1/collections")
    assert status == 200 and body["items"][0]["status"] == "failed"


def test_a_broken_body_fails_the_run(served: FakeOpenCost) -> None:
    served.then(Reply(200, b'{"code": 200, "data": [{"kube-system": '))

    run = _collect(**WEEK)

    assert run["status"] == "failed"
    assert "the answer is not JSON" in run["error"] and "2023-07-12..2023-07-18 missing" in run["error"]

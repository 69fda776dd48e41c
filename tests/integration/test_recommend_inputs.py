"""The recommend function's other inputs, read from what collection and the API stored, on moto: OpenCost's
request and usage averages with their CPU and RAM charges (``k8s_rightsize``), the charges' tag keys
(``untagged``), and plan limits with an upgrade priced against a rate card's overage or the cost of hitting the
limit (``plan_upgrade``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from spendwatch.domain.recommendations.inputs import K8sAllocation
from spendwatch.domain.recommendations.k8s import k8s_finding

from tests.fakes.opencost import EXAMPLE, FakeOpenCost, example_allocations
from tests.integration.conftest import TABLE, LambdaContext, call_api, scheduled_event, store, write_config
from tests.integration.stream_tap import tapped

NOW = "2023-07-19T08:00:00+00:00"
WEEK = {"start": "2023-07-12", "end": "2023-07-18"}
DAYS = 7
CONFIG = """
currency = "USD"

[[sources]]
name = "k8s"
type = "opencost"
url = "http://opencost.invalid:9003"
idle = "drop"

[policy]
required_tags = ["team"]

[[rate_cards]]
name = "kv"
metric = "kv_storage_mb"
provider = "Example KV"
service = "KV store"
basis = "level"
tiers = [{ up_to = "30", price = "0" }, { price = "0.25" }]

[[limits]]
name = "kv-storage"
metric = "kv_storage_mb"
limit = "30"
plan = "KV free"
upgrade = { plan = "KV pro", price = "20.00", limit = "1000", cost_of_hitting = "100" }

[[limits]]
name = "seats"
metric = "seats"
limit = "10"
plan = "Team"
upgrade = { plan = "Business", price = "50", limit = "100" }
"""


@pytest.fixture
def evaluated(aws_env: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A week of OpenCost's example allocations collected, usage pushed, then one evaluation."""
    from api import deps
    from collect.handler import handler as collect
    from recommend.handler import handler as recommend

    deps.settings.cache_clear()
    with FakeOpenCost(every_day=example_allocations()) as fake, tapped(aws_env, TABLE, NOW) as env:
        aws_env["monkeypatch"].setenv("OPENCOST_URL", fake.url)
        write_config(aws_env, CONFIG)
        assert collect(scheduled_event("k8s", **WEEK), LambdaContext())["status"] == "succeeded"
        # KV storage grows 2 MB a day to 36 MB (over the 30 MB limit); seats sit at 8 of 10.
        first = date(2023, 7, 1)
        records = [
            {"metric": "kv_storage_mb", "quantity": str(2 * (n + 1)), "unit": "MB", "day": str(first + timedelta(n))}
            for n in range(18)
        ] + [{"metric": "seats", "quantity": "8", "unit": "seats", "day": "2023-07-18"}]
        status, body = call_api(
            "/v1/usage", method="POST", body={"idempotency_key": "kv-usage-0001", "records": records}
        )
        assert status == 200, body
        assert recommend({"evaluate": True}, LambdaContext()) == {"batchItemFailures": []}
        yield env


def _found() -> dict[tuple[str, str], Any]:
    return {(rec.kind, rec.resource.id): rec for rec in store().recommendations()}


def test_namespaces_whose_requests_far_exceed_use(evaluated: dict[str, Any]) -> None:
    found = _found()
    example = json.loads(EXAMPLE.read_text(encoding="utf-8"), parse_float=Decimal)["data"][0]
    k8s = {rid: rec for (kind, rid), rec in found.items() if kind == "k8s_rightsize"}
    expected = {}
    for name, alloc in example.items():
        allocation = K8sAllocation(
            cluster="default-cluster",
            namespace=name,
            controller="",
            cpu_request_cores=alloc["cpuCoreRequestAverage"],
            cpu_usage_cores=alloc["cpuCoreUsageAverage"],
            ram_request_bytes=alloc["ramByteRequestAverage"],
            ram_usage_bytes=alloc["ramByteUsageAverage"],
            cpu_cost=alloc["cpuCost"] * DAYS,
            ram_cost=alloc["ramCost"] * DAYS,
            window_days=DAYS,
            currency="USD",
        )
        finding = k8s_finding(allocation)
        if finding is not None:
            expected[finding.resource.id] = finding
    assert "default-cluster/kube-system" in expected, "kube-system uses 2 % of its CPU request"
    assert set(k8s) == set(expected)
    for rid, finding in expected.items():
        stored = k8s[rid]
        assert stored.evidence["window_days"] == DAYS
        assert Decimal(stored.evidence["cpu_request_cores"]) == Decimal(finding.evidence["cpu_request_cores"])
        # The collector puts OpenCost's rounding (totalCost less its parts) on a component, so costs agree to
        # the cent, not to the last digit.
        assert f"{stored.monthly_savings:.2f}" == f"{finding.monthly_savings:.2f}"


def test_spend_without_a_required_tag(evaluated: dict[str, Any]) -> None:
    (untagged,) = [rec for (kind, _), rec in _found().items() if kind == "untagged"]
    status, costs = call_api("/v1/costs", {"start": "2023-06-19", "end": "2023-07-18"})
    assert status == 200, costs
    # None of OpenCost's namespaces carries a team label: all the month's collected spend is untagged.
    assert Decimal(untagged.evidence["untagged_share"]) == 1
    assert f"{Decimal(untagged.evidence['total_amount']):.2f}" == costs["total"]
    assert untagged.evidence["required_tags"] == ["team"]


def test_a_limit_hit_this_month_recommends_its_upgrade_when_staying_costs_more(evaluated: dict[str, Any]) -> None:
    found = _found()
    upgrade = found[("plan_upgrade", "kv-storage")]
    evidence = upgrade.evidence
    # Staying: the overage the card charges above 30 MB (0.25 a MB-month) or the 100 a month hitting it costs.
    overage = (Decimal(evidence["projected"]) - 30) * Decimal("0.25")
    assert Decimal(evidence["overage_cost"]) == overage
    assert Decimal(evidence["avoided_cost"]) == max(overage, Decimal(100))
    assert upgrade.monthly_savings == max(overage, Decimal(100)) - 20
    assert upgrade.confidence == "high" and evidence["upgrade_plan"] == "KV pro"
    assert ("plan_upgrade", "seats") not in found, "8 of 10 seats, the limit not reached this month"

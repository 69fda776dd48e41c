"""The demo's provider data end to end: the real collectors read moto's Cost Explorer and the fake DigitalOcean and
OpenCost servers, and the API serves exactly what they were given, to the cent, however often it is collected."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest

from collect.sources.digitalocean.records import sku_service
from spendwatch_local.demo import data as demo_data
from spendwatch_local.demo.shapes import DO_RESOURCES
from spendwatch_local.demo.usage import PLANS
from tests.e2e.local_process import Runtime, local_demo

pytestmark = pytest.mark.calendar

CENT = Decimal("0.01")
DEMO_SOURCES = ("demo-focus", "demo-aws", "demo-do", "demo-k8s")
API_BACKED = ("demo-aws", "demo-do", "demo-k8s")
EC2 = "Amazon Elastic Compute Cloud - Compute"
# Ready takes ~9 s on a quiet 2-core machine; the bound only catches a start-up that has gone badly wrong, since
# a loaded CI machine can be twice as slow.
READY_BOUND_SECONDS = 60.0
HISTORY_LINE = re.compile(r"^\s*demo: (\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2}) read by the real collectors")


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """`spendwatch local --demo` in an empty folder."""
    with local_demo(tmp_path_factory.mktemp("demo-providers")) as running:
        yield running


@pytest.fixture(scope="module")
def today(runtime: Runtime) -> date:
    """The runtime's today (the day after the history it printed), so a test near midnight agrees with it."""
    found = [match for line in runtime.lines if (match := HISTORY_LINE.match(line))]
    assert found, runtime.lines
    return date.fromisoformat(found[0][2]) + timedelta(days=1)


def _cents(exact: Decimal) -> str:
    return str(exact.quantize(CENT, rounding=ROUND_HALF_EVEN))


def _do_service(service: str) -> str:
    """The name the DigitalOcean collector gives a demo service: it reads services from SKU families."""
    return sku_service(DO_RESOURCES[service][0].sku)


# What each provider's collector calls a demo series' service: OpenCost reports every namespace as "Kubernetes".
SERVICE_NAMES: dict[str, Callable[[demo_data.DemoCost], str]] = {
    demo_data.AWS: lambda cost: cost.service,
    demo_data.DIGITALOCEAN: lambda cost: _do_service(cost.service),
    demo_data.KUBERNETES: lambda cost: "Kubernetes",
}


def _expected(today: date, key: Callable[[demo_data.DemoCost], str | None]) -> dict[str, str]:
    """Exact sums of the demo history per ``key``, rounded half-even to the cent as the API rounds."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for cost in demo_data.history(today):
        name = key(cost)
        if name is not None:
            sums[name] += cost.amount
    return {name: _cents(total) for name, total in sums.items()}


def _costs(runtime: Runtime, today: date, group_by: str, granularity: str = "month") -> dict[str, Any]:
    start = today - timedelta(days=demo_data.DEMO_DAYS)
    query = f"start={start}&end={today}&group_by={group_by}&granularity={granularity}"
    status, body = runtime.get(f"/v1/costs?{query}")
    assert status == 200, body
    assert (body["start"], body["end"], body["currency"]) == (start.isoformat(), today.isoformat(), "USD")
    return dict(body)


# The demo application's usage, priced by its rate cards, is not what the providers served.
PRICED = {card["provider"] for card in PLANS["rate_cards"]} | {card["service"] for card in PLANS["rate_cards"]}


def _groups(body: dict[str, Any]) -> list[dict[str, str]]:
    groups: list[dict[str, str]] = body["groups"]
    return groups


def _totals(runtime: Runtime, today: date, group_by: str) -> dict[str, str]:
    return {g["key"]: g["total"] for g in _groups(_costs(runtime, today, group_by)) if g["key"] not in PRICED}


def test_every_demo_source_is_collected_at_start_and_ready_is_quick(runtime: Runtime) -> None:
    collected = [line for line in runtime.lines if line.startswith("collect demo-")]
    assert [line.split(":")[0] for line in collected] == [f"collect {source}" for source in DEMO_SOURCES]
    assert all(", 0 rejected" in line and ": succeeded," in line for line in collected), collected
    assert 0 < runtime.ready_after < READY_BOUND_SECONDS


def test_costs_by_provider_are_what_the_providers_served_to_the_cent(runtime: Runtime, today: date) -> None:
    # The FOCUS sample is September 2024, outside this range: the three demo providers are all there is.
    expected = _expected(today, lambda cost: cost.provider)
    assert set(expected) == {"AWS", "DigitalOcean", "Kubernetes"}
    assert _totals(runtime, today, "provider") == expected
    everything = sum((cost.amount for cost in demo_data.history(today)), Decimal(0))
    body = _costs(runtime, today, "provider")
    priced = sum(Decimal(g["total"]) for g in _groups(body) if g["key"] in PRICED)
    assert Decimal(str(body["total"])) - priced == Decimal(_cents(everything))


def test_costs_by_service_are_what_the_providers_served_to_the_cent(runtime: Runtime, today: date) -> None:
    expected = _expected(today, lambda cost: SERVICE_NAMES[cost.provider](cost))
    assert _totals(runtime, today, "service") == expected


def test_kubernetes_namespaces_are_tags_to_the_cent(runtime: Runtime, today: date) -> None:
    expected = _expected(today, lambda cost: cost.service if cost.provider == demo_data.KUBERNETES else None)
    namespaces = {key: total for key, total in _totals(runtime, today, "tag:namespace").items() if key != "(none)"}
    assert namespaces == expected


def test_collection_runs_cover_the_history(runtime: Runtime, today: date) -> None:
    status, body = runtime.get("/v1/collections")
    assert status == 200, body
    runs = {item["source"]: item for item in body["items"]}
    assert set(DEMO_SOURCES) <= set(runs)
    for source in DEMO_SOURCES:
        assert (runs[source]["status"], runs[source]["rejected"]) == ("succeeded", 0), runs[source]
    window = {"start": (today - timedelta(days=demo_data.DEMO_DAYS)).isoformat(), "end": today.isoformat()}
    for source in API_BACKED:
        assert runs[source]["requests"] >= 1, runs[source]
        assert runs[source]["window"] == window, runs[source]


def test_the_spike_stands_out_in_the_daily_ec2_costs(runtime: Runtime, today: date) -> None:
    body = _costs(runtime, today, "service", granularity="day")
    ec2 = next(group for group in body["groups"] if group["key"] == EC2)
    daily = {point["period"]: Decimal(point["amount"]) for point in ec2["points"]}
    spike_day = (today - timedelta(days=demo_data.SPIKE_DAYS_AGO)).isoformat()
    others = sorted((amount for day, amount in daily.items() if day != spike_day), reverse=True)
    assert max(daily, key=lambda day: daily[day]) == spike_day
    assert daily[spike_day] > 2 * others[0]


@pytest.mark.parametrize("source", API_BACKED)
def test_collecting_again_from_another_shell_changes_nothing(runtime: Runtime, today: date, source: str) -> None:
    # Given the totals after the start-up collection (by service, which also fixes each provider's total)
    before = {group_by: _totals(runtime, today, group_by) for group_by in ("service", "tag:namespace")}

    # When the source is collected again from another process, with the runtime's export line
    run = runtime.collect(source)

    # Then it reads the same days again and every total is as it was
    assert (run["source"], run["status"], run["rejected"]) == (source, "succeeded", 0), run
    assert run["requests"] >= 1
    assert run["window"]["start"] == (today - timedelta(days=demo_data.DEMO_DAYS)).isoformat()
    assert {group_by: _totals(runtime, today, group_by) for group_by in before} == before


def test_the_demo_has_a_daily_and_a_weekly_report_and_the_cli_makes_the_monthly_once(
    runtime: Runtime, today: date
) -> None:
    def costs_total(start: str, end: str) -> str:
        status, body = runtime.get(f"/v1/costs?start={start}&end={end}")
        assert status == 200, body
        return str(body["total"])

    # The demo made yesterday's report and last week's at start-up, after its collections.
    status, page = runtime.get("/v1/reports")
    assert status == 200, page
    reports = {item["kind"]: item for item in page["items"]}
    yesterday = today - timedelta(days=1)
    monday = today - timedelta(days=today.weekday() + 7)
    assert reports["daily"]["id"] == f"{yesterday}-daily"
    assert reports["weekly"]["id"] == f"{monday}-weekly"
    for report in (reports["daily"], reports["weekly"]):
        assert report["total"] == costs_total(report["start"], report["end"])
        assert set(report["artifacts"]) == {"html", "csv"}

    # `spendwatch report monthly` from another shell: printed as JSON, stored, delivered, exit 0; again: the same.
    code, made = runtime.report("monthly", "--date", today.isoformat())
    assert code == 0 and made is not None
    last_month_end = today.replace(day=1) - timedelta(days=1)
    assert (made["start"], made["end"]) == (last_month_end.replace(day=1).isoformat(), last_month_end.isoformat())
    assert made["total"] == costs_total(made["start"], made["end"])
    assert {state["status"] for state in made["delivery"].values()} == {"delivered"}
    assert runtime.get(f"/v1/reports/{made['id']}")[1] == {k: v for k, v in made.items() if k != "delivery"}
    assert runtime.report("monthly", "--date", today.isoformat()) == (0, made)

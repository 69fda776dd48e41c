"""The local runtime end to end: `spendwatch local --demo` as a user runs it, spoken to over real HTTP."""

from __future__ import annotations

import csv
import json
import signal
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from importlib import resources as package_files

import pytest
from spendwatch.platform import clock

from tests.conftest import focus_usage
from tests.e2e.local_process import STOP_TIMEOUT, TOKEN, Runtime, local_demo

pytestmark = pytest.mark.calendar

SEPTEMBER = {"start": "2024-09-01", "end": "2024-09-30"}
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """`spendwatch local --demo` in an empty folder (so no spendwatch.toml is picked up)."""
    with local_demo(tmp_path_factory.mktemp("local-runtime")) as running:
        yield running


def _demo_rows() -> list[dict[str, str]]:
    text = package_files.files("spendwatch_local").joinpath("demo", "focus_sample.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _cents(exact: Decimal) -> str:
    return str(exact.quantize(CENT, rounding=ROUND_HALF_EVEN))


def _expected_totals(column: str) -> dict[str, str]:
    """Sum of BilledCost per value of ``column`` straight from the demo CSV, rounded half-even to the cent."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for row in _demo_rows():
        sums[row[column]] += Decimal(row["BilledCost"])
    return {key: _cents(total) for key, total in sums.items()}


def _grand_total() -> str:
    return _cents(sum((Decimal(row["BilledCost"]) for row in _demo_rows()), Decimal(0)))


def _totals(runtime: Runtime, group_by: str) -> tuple[str, dict[str, str]]:
    status, body = runtime.get(f"/v1/costs?start={SEPTEMBER['start']}&end={SEPTEMBER['end']}&group_by={group_by}")
    assert status == 200, body
    assert body["currency"] == "USD"
    assert (body["start"], body["end"], body["group_by"]) == (SEPTEMBER["start"], SEPTEMBER["end"], group_by)
    return body["total"], {group["key"]: group["total"] for group in body["groups"]}


def test_startup_collects_the_demo_source(runtime: Runtime) -> None:
    runs = [line for line in runtime.lines if line.startswith("collect demo-focus:")]
    # The FOCUS sample's 1,000 charges and their consumed quantities as usage.
    written = 1000 + len(focus_usage())
    assert runs == [f"collect demo-focus: succeeded, {written} records written, 0 rejected"]


def test_health_needs_no_token(runtime: Runtime) -> None:
    status, body = runtime.get("/health", token=None)
    assert status == 200
    assert body == {"status": "ok"}


def test_costs_by_provider_match_the_csv_to_the_cent(runtime: Runtime) -> None:
    total, groups = _totals(runtime, "provider")
    assert groups == _expected_totals("ProviderName")
    assert total == _grand_total()


def test_costs_by_service_match_the_csv_to_the_cent(runtime: Runtime) -> None:
    total, groups = _totals(runtime, "service")
    assert groups == _expected_totals("ServiceName")
    assert total == _grand_total()


def test_costs_without_token_is_401(runtime: Runtime) -> None:
    status, body = runtime.get("/v1/costs?group_by=provider", token=None)
    assert status == 401
    assert body["error"]["code"] == "unauthorized"


def test_collecting_the_same_data_again_changes_nothing(runtime: Runtime) -> None:
    # Given the totals after the start-up collection
    before = {group_by: _totals(runtime, group_by) for group_by in ("provider", "service")}
    assert {"AWS_ENDPOINT_URL", "SPENDWATCH_TABLE", "SPENDWATCH_BUCKET", "SPENDWATCH_CONFIG"} <= set(runtime.exports)

    # When the same source is collected again from another process, as a user would from another shell
    run = runtime.collect("demo-focus")

    # Then the run succeeds, every total is unchanged and both runs are listed, newest first
    # The demo's file is the FOCUS sample: its 1,000 charges and their consumed quantities as usage.
    written = 1000 + len(focus_usage())
    assert (run["source"], run["status"], run["records_written"]) == ("demo-focus", "succeeded", written)
    after = {group_by: _totals(runtime, group_by) for group_by in ("provider", "service")}
    assert after == before
    status, body = runtime.get("/v1/collections")
    assert status == 200, body
    items = [item for item in body["items"] if item["source"] == "demo-focus"]
    assert len(items) == 2
    assert items[0]["run_id"] == run["run_id"], (items, run)
    newest, older = (datetime.fromisoformat(item["started_at"]) for item in items)
    assert newest > older


def test_metrics_over_http_agree_with_the_summary(runtime: Runtime) -> None:
    request = urllib.request.Request(runtime.base_url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        content_type, text = response.headers["Content-Type"], response.read().decode("utf-8")
    status, summary = runtime.get("/v1/costs/summary")
    assert status == 200, summary
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    (line,) = [line for line in text.splitlines() if line.startswith("spendwatch_month_to_date_cost{")]
    assert abs(Decimal(line.rsplit(" ", 1)[1]) - Decimal(summary["month_to_date"])) <= CENT / 2


def _within(figure: dict[str, str], floor: Decimal = Decimal(0)) -> None:
    lower, amount, upper = (Decimal(figure[name]) for name in ("lower", "amount", "upper"))
    assert floor <= lower <= amount <= upper, figure


def test_summary_and_projections_are_consistent_on_any_day(runtime: Runtime) -> None:
    months = {f"{clock.utc_today():%Y-%m}"}
    status, summary = runtime.get("/v1/costs/summary")
    months.add(f"{clock.utc_today():%Y-%m}")  # the month may turn while the summary is computed
    assert status == 200, summary
    assert summary["month"] in months
    month_to_date = Decimal(summary["month_to_date"])
    assert month_to_date >= 0
    _within(summary["projected_month_end"], floor=month_to_date)

    for group_by in ("", "&group_by=provider"):
        status, body = runtime.get(f"/v1/projections?horizon_days=30{group_by}")
        assert status == 200, body
        assert body["groups"], body
        for group in body["groups"]:
            _within(group["month_end"], floor=Decimal(group["month_to_date"]))
            assert len(group["points"]) >= 30
            for point in group["points"]:
                _within(point)


def test_the_page_is_served(runtime: Runtime) -> None:
    with urllib.request.urlopen(f"{runtime.base_url}/?token={TOKEN}", timeout=60) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/html")
        assert "<svg" in response.read().decode("utf-8")


def _send(runtime: Runtime, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(runtime.base_url + path, method=method)
    request.add_header("Authorization", f"Bearer {TOKEN}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "DELETE", "PATCH"])
def test_a_method_the_route_does_not_take_is_405_in_the_error_shape(runtime: Runtime, method: str) -> None:
    status, headers, body = _send(runtime, method, "/v1/collections")
    assert status == 405
    assert headers["Allow"] == "GET, HEAD"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "method_not_allowed"


def test_an_unknown_path_is_404_in_the_error_shape_whatever_the_method(runtime: Runtime) -> None:
    status, _, body = _send(runtime, "TRACE", "/v1/nowhere")
    assert status == 404
    assert json.loads(body)["error"]["code"] == "not_found"


def test_head_is_get_without_the_body(runtime: Runtime) -> None:
    get_status, get_headers, get_body = _send(runtime, "GET", "/v1/collections")
    head_status, head_headers, head_body = _send(runtime, "HEAD", "/v1/collections")
    assert (head_status, head_body) == (get_status, b"")
    assert head_headers["Content-Length"] == str(len(get_body)) == get_headers["Content-Length"]


# Last: it stops the module's runtime.
def test_sigint_stops_cleanly(runtime: Runtime) -> None:
    runtime.process.send_signal(signal.SIGINT)
    assert runtime.process.wait(STOP_TIMEOUT) == 0
    assert "Traceback" not in runtime.stderr_tail()

"""The dashboard in a real browser: `spendwatch local --demo` opened at /?token=... in headless Chromium, every
figure on the page checked against the JSON API of the same runtime, and a screenshot kept for people to look at."""

from __future__ import annotations

import json
import shutil
import struct
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from spendwatch.platform import clock

from api.views.dashboard import MAX_RECOMMENDATIONS
from tests.e2e.local_process import TOKEN, Runtime, local_demo

CHROMIUM = "/usr/bin/chromium"  # Debian's, installed by `make browser`; never downloaded
CHROMEDRIVER = "/usr/bin/chromedriver"
# The background-networking flags matter: without them Chromium phones home and the closed network refuses it.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
WIDTH = 1280
SCREENSHOT = Path(__file__).resolve().parents[2] / "build" / "screenshots" / "dashboard.png"
HOSTILE_NAME = "<script>alert('x')</script> & total"
WAIT_SECONDS = 90
CELLS = "return [...document.querySelectorAll(arguments[0])].map(r => [...r.cells].map(c => c.innerText.trim()))"
TITLES = "return [...document.querySelectorAll('svg.chart .hover title')].map(t => t.textContent)"
TIMES = "return [...document.querySelectorAll(arguments[0])].map(t => t.getAttribute('datetime'))"


@dataclass
class Page:
    """The dashboard as the browser loaded it, and the JSON API's answers around that moment."""

    url: str
    browser: WebDriver
    requests: list[str]
    headers: dict[str, str]
    api: dict[str, Any]
    screenshot: Path

    def cells(self, selector: str) -> list[list[str]]:
        """The text of every cell of the rows ``selector`` finds."""
        rows: list[list[str]] = self.browser.execute_script(CELLS, selector)
        return rows

    def text(self, selector: str) -> str:
        """The rendered text of one element."""
        return str(self.browser.find_element(By.CSS_SELECTOR, selector).text)


def _wait_for(check: Callable[[], bool], what: str, runtime: Runtime) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    pytest.fail(f"{what} did not happen within {WAIT_SECONDS} s\n{runtime.stderr_tail()}")


def _json(runtime: Runtime, path: str) -> Any:
    status, body = runtime.get(path)
    assert status == 200, (path, body)
    return body


def _open_alerts(runtime: Runtime) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = _json(runtime, "/v1/alerts?status=open&limit=200")["items"]
    return items


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """The demo with a budget whose name is markup, once its alerts (the spike, the budget's) have arrived."""
    with local_demo(tmp_path_factory.mktemp("dashboard")) as running:
        month_to_date = Decimal(_json(running, "/v1/costs")["total"])
        # About 90 % used whatever the day of the month: the 50 % and 80 % thresholds are crossed. Posted at once,
        # its evaluation overlaps the start-up collections' (which is what finds the demo's spike).
        amount = max(month_to_date / Decimal("0.9"), Decimal(1)).quantize(Decimal("0.01"))
        budget = {"name": HOSTILE_NAME, "amount": str(amount), "thresholds": ["50%", "80%", "100%"]}
        status, created = running.post("/v1/budgets", budget)
        assert status == 201, created
        used = Decimal(created["status"]["utilisation"])
        crossed = sum(1 for level in (50, 80, 100) if used >= level)
        rule = f"budget:{created['id']}"

        def settled() -> bool:
            alerts = _open_alerts(running)
            budget_alerts = [a for a in alerts if a["rule"] == rule]
            # The demo's KV store is at 90 % of its plan: its capacity alerts are written in one evaluation.
            kv = {a["level"] for a in alerts if a["rule"] == "capacity:demo-kv-storage"}
            spike = any(a["kind"] == "spike" for a in alerts)
            return spike and len(budget_alerts) == crossed and {"75%", "90%"} <= kv

        _wait_for(settled, "the spike, budget and capacity alerts", running)
        yield running


def _api(runtime: Runtime) -> dict[str, Any]:
    """What the JSON API says, under the names the tests use."""
    today = clock.utc_now().date()
    history = f"/v1/costs?start={today - timedelta(days=90)}&end={today - timedelta(days=1)}"
    paths = {
        "summary": "/v1/costs/summary",
        "providers": "/v1/costs?group_by=provider",
        "services": "/v1/costs?group_by=service",
        "history": history,
        "projections": "/v1/projections?horizon_days=30",
        "budgets": "/v1/budgets",
        "alerts": "/v1/alerts?status=open&limit=200",
        "collections": "/v1/collections?limit=200",
        "recommendations": "/v1/recommendations?status=open&limit=200",
    }
    return {name: _json(runtime, path) for name, path in paths.items()}


def _browser(profile: Path) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={WIDTH},900"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


def _network(browser: WebDriver) -> tuple[list[str], dict[str, str]]:
    """The URLs the browser asked for since the log was last read (its own chrome:// pages aside), and the
    headers of the last response."""
    events = [json.loads(entry["message"])["message"] for entry in browser.get_log("performance")]
    urls = [e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"]
    responses = [e["params"]["response"] for e in events if e["method"] == "Network.responseReceived"]
    headers = {name.lower(): value for name, value in (responses[-1]["headers"] if responses else {}).items()}
    return [url for url in urls if not url.startswith(("chrome:", "data:", "about:"))], headers


def _screenshot(browser: WebDriver, path: Path) -> None:
    """The whole page, not only the window."""
    height = int(browser.find_element(By.TAG_NAME, "html").rect["height"])
    metrics = {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    assert browser.save_screenshot(str(path))


@pytest.fixture(scope="module")
def page(runtime: Runtime, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    """The page loaded once, between two reads of what can still change (alerts, budgets), equal on both sides."""
    browser = _browser(tmp_path_factory.mktemp("chromium-profile"))
    url = f"{runtime.base_url}/?token={TOKEN}"
    shot = tmp_path_factory.mktemp("screenshots") / "dashboard.png"
    try:
        for _ in range(3):
            before = (_open_alerts(runtime), _json(runtime, "/v1/budgets"))
            _network(browser)  # what the browser did before, on its own start page
            browser.get(url)
            requests, headers = _network(browser)
            api = _api(runtime)
            if before == (api["alerts"]["items"], api["budgets"]):
                break
        else:
            pytest.fail("alerts or budgets kept changing while the page loaded")
        _screenshot(browser, shot)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)
        yield Page(url, browser, requests, headers, api, shot)
    finally:
        browser.quit()


def test_the_page_is_one_html_request_with_no_script_and_no_token_in_it(page: Page) -> None:
    assert page.requests == [page.url]
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert page.browser.find_elements(By.TAG_NAME, "script") == []
    assert TOKEN not in page.browser.page_source
    assert [entry for entry in page.browser.get_log("browser") if entry["level"] == "SEVERE"] == []


def test_chart_draws_the_api_history_then_the_forecast_band(page: Page) -> None:
    chart = page.browser.find_element(By.CSS_SELECTOR, "svg.chart")
    assert chart.rect["width"] > 1000
    count = "return document.querySelector(arguments[0]).getAttribute('points').trim().split(' ').length"
    assert page.browser.execute_script(count, "svg.chart polyline.actual") == 90
    assert page.browser.execute_script(count, "svg.chart polygon.band") == 60  # 30 upper bounds, 30 lower
    assert page.browser.execute_script(count, "svg.chart polyline.forecast") == 31  # from the last actual day
    assert page.browser.find_elements(By.CSS_SELECTOR, "svg.chart line.today")
    assert {"USD per day", "Day (UTC)", "today"} <= {t.text for t in chart.find_elements(By.TAG_NAME, "text")}
    titles = {title.split(": ", 1)[0]: title for title in page.browser.execute_script(TITLES)}
    for point in page.api["history"]["groups"][0]["points"]:
        assert f"actual {point['amount']} USD" in titles[point["period"]]
    for point in page.api["projections"]["groups"][0]["points"]:
        band = f"forecast {point['amount']} USD (80 %: {point['lower']} to {point['upper']})"
        assert band in titles[point["period"]]


def test_headline_figures_are_the_summary(page: Page) -> None:
    summary = page.api["summary"]
    projected = summary["projected_month_end"]
    assert page.text("#kpi-mtd .value") == f"{summary['month_to_date']} USD"
    assert page.text("#kpi-projected .value") == f"{projected['amount']} USD"
    assert f"{projected['lower']} to {projected['upper']} USD" in page.text("#kpi-projected")
    assert page.text("#kpi-budgets .value") == str(len(page.api["budgets"]["items"]))
    assert page.text("#kpi-alerts .value") == str(len(page.api["alerts"]["items"]))


@pytest.mark.parametrize("dimension", ["providers", "services"])
def test_breakdowns_are_this_month_by_provider_and_service(page: Page, dimension: str) -> None:
    costs = page.api[dimension]
    assert 2 <= len(costs["groups"]) <= 12  # the page folds only from the 13th
    rows = page.cells(f"#{dimension} tbody tr")
    assert [(row[0], row[2]) for row in rows] == [(g["key"], g["total"]) for g in costs["groups"]]
    assert page.cells(f"#{dimension} tfoot tr")[0][2] == costs["total"] == page.api["summary"]["month_to_date"]
    assert abs(sum(Decimal(row[3].removesuffix(" %")) for row in rows) - 100) <= Decimal("0.1") * len(rows)


def test_budgets_show_the_current_period_of_the_budgets_api(page: Page) -> None:
    rows = {row[0].splitlines()[0]: row for row in page.cells("#budgets tbody tr")}
    expected = page.api["budgets"]["items"]
    assert set(rows) == {b["name"] for b in expected} == {HOSTILE_NAME}  # markup in a name is shown as text
    for budget in expected:
        row = rows[budget["name"]]
        status = budget["status"]
        assert row[2:4] == [f"{status['spent']} USD", f"{budget['amount']} USD"]
        assert row[5] == f"{status['utilisation']} %"


def test_open_alerts_are_those_of_the_alerts_api(page: Page) -> None:
    rows = page.cells("#alerts tbody tr")
    shown = Counter((row[0], row[1], row[2].splitlines()[0]) for row in rows)
    expected = Counter((a["severity"], a["kind"], a["title"]) for a in page.api["alerts"]["items"])
    assert shown == expected
    assert {"spike", "budget"} <= {kind for _, kind, _ in shown}


def test_freshness_is_the_latest_run_of_each_source(page: Page) -> None:
    newest: dict[str, dict[str, Any]] = {}
    for run in page.api["collections"]["items"]:  # newest first
        newest.setdefault(run["source"], run)
    rows = page.cells("#freshness tbody tr")
    sources = sorted(newest)
    assert [(row[0], row[1], row[2]) for row in rows] == [(s, newest[s]["type"], newest[s]["status"]) for s in sources]
    data_through = page.browser.execute_script(TIMES, "#freshness tbody td:nth-child(6) time")
    assert [datetime.fromisoformat(t) for t in data_through] == [
        datetime.fromisoformat(newest[s]["data_through"]) for s in sources
    ]


def test_open_recommendations_are_those_of_the_recommendations_api(page: Page) -> None:
    totals = page.api["summary"]["recommendations"]
    expected = page.api["recommendations"]["items"]
    assert totals["open"] == len(expected)
    heading = f"Open recommendations ({totals['open']}), {totals['monthly_savings']} {totals['currency']} a month"
    assert page.text("#recommendations h2").lower().startswith(heading.lower())  # h2 is upper-cased by CSS
    rows = page.cells("#recommendations tbody tr")
    shown = [(row[0], row[2].splitlines()[0], row[3], row[4]) for row in rows]
    assert shown == [
        (r["kind"], r["title"], f"{r['monthly_savings']} {r['currency']}", r["confidence"])
        for r in expected[:MAX_RECOMMENDATIONS]
    ]
    if not expected:
        assert "No open recommendations." in page.text("#recommendations")


def test_screenshot_is_kept_for_people_to_look_at(page: Page) -> None:
    for path in (page.screenshot, SCREENSHOT):
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])
        assert width == WIDTH and height > 1200

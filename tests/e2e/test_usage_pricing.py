"""The running demo as a customer's application uses it: 40 days of usage for three tenants pushed over HTTP are
priced by the formulas, judged against a plan limit, and alerted once per level, and pushing the same batch
again changes nothing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from spendwatch.platform import clock

from tests.e2e.local_process import Runtime, local_demo

pytestmark = pytest.mark.calendar

WAIT_SECONDS = 90
TENANTS = {"acme": (100, 10), "globex": (1200, 5), "initech": (20, 1)}  # first day's GB, growth per day
CONFIG = """
currency = "USD"

[[rate_cards]]
name = "e2e-storage"
metric = "e2e_storage_gb"
provider = "E2E"
service = "Archive"
basis = "level"
period = "month"
free = "50"
tiers = [{ up_to = "1000", price = "0.15" }, { price = "0.10" }]

[[limits]]
name = "e2e-acme-quota"
metric = "e2e_storage_gb"
limit = "600"
scope = { tenant = "acme" }
thresholds = ["75%", "90%", "within:14d"]
"""


def price(quantity: Decimal) -> Decimal:
    """F(q): nothing for the first 50 GB, 0.15 up to 1,000, 0.10 beyond (a tier walk)."""
    first = max(min(quantity, Decimal(1000)) - 50, Decimal(0)) * Decimal("0.15")
    return first + max(quantity - 1000, Decimal(0)) * Decimal("0.10")


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    workdir: Path = tmp_path_factory.mktemp("usage-pricing")
    (workdir / "spendwatch.toml").write_text(CONFIG, encoding="utf-8")
    with local_demo(workdir) as running:
        yield running


def _wait_for(check: Callable[[], bool], what: str, runtime: Runtime) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    pytest.fail(f"{what} did not happen within {WAIT_SECONDS} s\n{runtime.stderr_tail()}")


def _batch() -> dict[str, Any]:
    yesterday = clock.utc_now().date() - timedelta(days=1)
    records = [
        {
            "metric": "e2e_storage_gb",
            "quantity": str(start + growth * n),
            "unit": "GB",
            "day": (yesterday - timedelta(days=39 - n)).isoformat(),
            "tenant": tenant,
        }
        for tenant, (start, growth) in TENANTS.items()
        for n in range(40)
    ]
    return {"idempotency_key": "e2e-forty-days", "records": records}


def _expected(batch: dict[str, Any]) -> dict[str, Decimal]:
    """Per tenant, the 40 days' cost: F(q) / days in that day's month, each day rounded to 10 places."""
    out: dict[str, Decimal] = {}
    for record in batch["records"]:
        day = date.fromisoformat(record["day"])
        length = ((day.replace(day=28) + timedelta(days=4)).replace(day=1) - day.replace(day=1)).days
        amount = Decimal(round(Fraction(price(Decimal(record["quantity"]))) / length * 10**10)).scaleb(-10)
        out[record["tenant"]] = out.get(record["tenant"], Decimal(0)) + amount
    return out


def _priced(runtime: Runtime, batch: dict[str, Any]) -> dict[str, str]:
    days = sorted(record["day"] for record in batch["records"])
    status, body = runtime.get(f"/v1/costs?start={days[0]}&end={days[-1]}&provider=E2E&group_by=tenant")
    assert status == 200, body
    return {group["key"]: group["total"] for group in body["groups"]}


def _capacity_alerts(runtime: Runtime) -> list[dict[str, Any]]:
    status, body = runtime.get("/v1/alerts?limit=200")
    assert status == 200, body
    return [a for a in body["items"] if a["kind"] == "capacity" and a["rule"] == "capacity:e2e-acme-quota"]


def test_pushed_usage_is_priced_judged_and_alerted_once(runtime: Runtime) -> None:
    batch = _batch()
    assert runtime.post("/v1/usage", batch) == (200, {"accepted": 120, "replayed": False})
    expected = {tenant: f"{amount:.2f}" for tenant, amount in _expected(batch).items()}
    _wait_for(lambda: _priced(runtime, batch) == expected, f"priced totals {expected}", runtime)

    status, body = runtime.get("/v1/capacity")
    assert status == 200, body
    (quota,) = [item for item in body["items"] if item["name"] == "e2e-acme-quota"]
    used, growth = Decimal(100 + 10 * 39), Decimal(10)
    assert (Decimal(quota["used"]), quota["status"]) == (used, "warning")  # 490 of 600: 81.7 %
    by_hand = (Decimal(600) - used) / growth  # 11 days
    assert abs(quota["days_to_limit"] - by_hand) <= 3
    _wait_for(lambda: len(_capacity_alerts(runtime)) == 2, "two capacity alerts", runtime)
    assert sorted(a["level"] for a in _capacity_alerts(runtime)) == ["75%", "within:14d"]

    # The same batch again is a replay: nothing new is priced or alerted.
    assert runtime.post("/v1/usage", batch) == (200, {"accepted": 120, "replayed": True})
    time.sleep(6)  # a few stream batching windows
    assert _priced(runtime, batch) == expected
    assert sorted(a["level"] for a in _capacity_alerts(runtime)) == ["75%", "within:14d"]

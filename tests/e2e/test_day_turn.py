"""The month (and day) turns while `spendwatch local --demo` runs: started at 23:59:40 UTC on the last day of a month,
it serves the new month's summary once midnight has passed, with every figure consistent."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from spendwatch.platform import clock

from tests.e2e.local_process import Runtime, local_demo

LEAD_SECONDS = 20


def _last_evening_of_the_month() -> datetime:
    """23:59:40 UTC on the last day of the suite's current month."""
    today = clock.utc_today()
    first_of_next = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return datetime.combine(first_of_next, datetime.min.time(), tzinfo=UTC) - timedelta(seconds=LEAD_SECONDS)


def _runtime_now(started: datetime, since: float) -> datetime:
    return started + timedelta(seconds=time.monotonic() - since)


def _consistent(runtime: Runtime) -> dict[str, object]:
    status, summary = runtime.get("/v1/costs/summary")
    assert status == 200, summary
    month_to_date = Decimal(summary["month_to_date"])
    figure = summary["projected_month_end"]
    lower, amount, upper = (Decimal(figure[name]) for name in ("lower", "amount", "upper"))
    assert month_to_date <= lower <= amount <= upper, summary
    return summary


def test_the_month_turns_while_running(tmp_path: Path) -> None:
    started = _last_evening_of_the_month()
    since = time.monotonic()
    env = {clock.NOW_ENV: started.strftime("%Y-%m-%dT%H:%M:%SZ")}
    with local_demo(tmp_path, env) as runtime:
        assert any(line.startswith("  clock: SPENDWATCH_NOW puts now at") for line in runtime.lines)
        wait = (started + timedelta(seconds=LEAD_SECONDS + 1) - _runtime_now(started, since)).total_seconds()
        time.sleep(max(0.0, wait))

        summary = _consistent(runtime)

        new_month = started + timedelta(seconds=LEAD_SECONDS)
        assert summary["month"] == f"{new_month:%Y-%m}"
        # The demo's history ends the day before it started: nothing is spent yet in the new month.
        assert Decimal(str(summary["month_to_date"])) == 0
        status, body = runtime.get("/v1/projections?horizon_days=30")
        assert status == 200, body
        assert body["start"] == f"{new_month:%Y-%m-%d}"

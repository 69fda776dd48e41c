"""Alerts end to end on `spendwatch local --demo` with Slack pointed at a local receiver: the demo's spike is one
message naming the service behind it, a budget over the API alerts once per threshold crossed, and neither
re-collecting nor restarting the runtime (on the same AWS endpoint) posts anything again.

The budget watches a cost this test writes for today (by the suite's clock) in a FOCUS file of its own: the demo's
history ends yesterday, so on the first day of a month (or week, quarter, year) no budget period has demo spend.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from spendwatch.platform import clock

from spendwatch_local.aws import start_aws
from spendwatch_local.fakes.slack import FakeSlack
from tests.e2e.local_process import Runtime, local_demo

EC2 = "Amazon Elastic Compute Cloud - Compute"
WAIT_SECONDS = 90
QUIET_SECONDS = 8
LEDGER = "E2E Ledger"
pytestmark = pytest.mark.calendar


def _with_todays_cost(workdir: Path, amount: str) -> Path:
    """A spendwatch.toml in ``workdir`` with one FOCUS source: ``amount`` USD of LEDGER spend today (UTC)."""
    day = clock.utc_today()
    export = workdir / "today.csv"
    export.write_text(
        "ProviderName,ServiceName,BilledCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd\n"
        f"{LEDGER},Ledger,{amount},USD,{day} 00:00:00,{day + timedelta(days=1)} 00:00:00\n",
        encoding="utf-8",
    )
    (workdir / "spendwatch.toml").write_text(
        f'[[sources]]\nname = "e2e-today"\ntype = "focus"\npath = "{export}"\nschedule = "rate(1 day)"\n',
        encoding="utf-8",
    )
    return workdir


def _settled(slack: FakeSlack) -> None:
    """Wait until Slack has had no new message for two seconds (first-seen alerts may still be on their way)."""
    deadline = time.monotonic() + WAIT_SECONDS
    count = -1
    while count != len(slack.accepted) and time.monotonic() < deadline:
        count = len(slack.accepted)
        time.sleep(2)


def _wait_for(check: Callable[[], bool], what: str, runtime: Runtime) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    pytest.fail(f"{what} did not happen within {WAIT_SECONDS} s\n{runtime.stderr_tail()}")


def _texts(slack: FakeSlack) -> list[str]:
    return [json.dumps(payload) for payload in slack.accepted]


@pytest.fixture(scope="module")
def aws() -> Iterator[str]:
    """An AWS endpoint that outlives one runtime, so a restart finds the alerts already sent: the embedded moto
    server the runtime itself would start."""
    endpoint = start_aws({})
    yield endpoint.url
    endpoint.stop()


def test_spike_budget_and_restart(tmp_path_factory: pytest.TempPathFactory, aws: str) -> None:
    env = {
        "AWS_ENDPOINT_URL": aws,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
    }
    with FakeSlack() as slack:
        env["SLACK_WEBHOOK_URL"] = slack.url
        with local_demo(_with_todays_cost(tmp_path_factory.mktemp("alerts-1"), "110.00"), env) as runtime:
            _wait_for(lambda: any("Spike" in text for text in _texts(slack)), "the spike message", runtime)
            spike_messages = [text for text in _texts(slack) if "Spike" in text]
            assert len(spike_messages) == 1 and EC2 in spike_messages[0]

            status, budget = runtime.post(
                "/v1/budgets",
                {
                    "name": "e2e",
                    "amount": "100",
                    "period": "month",
                    "scope": {"provider": LEDGER},
                    "thresholds": ["50%", "80%", "100%", "1000%"],
                },
            )
            assert status == 201, budget
            rule = f"budget:{budget['id']}"

            def budget_alerts() -> list[dict[str, Any]]:
                return [a for a in runtime.get("/v1/alerts?kind=budget")[1]["items"] if a["rule"] == rule]

            _wait_for(lambda: len(budget_alerts()) == 3, "three budget alerts", runtime)
            ids = {a["id"] for a in budget_alerts()}
            assert sorted(a["level"] for a in budget_alerts()) == ["100%", "50%", "80%"]
            _wait_for(lambda: ids <= set(slack.accepted_alert_ids()), "budget alerts on Slack", runtime)

            # The demo's KV store is at 90 % of its plan: its capacity alerts come once its usage is evaluated.
            def capacity_ids() -> set[str]:
                return {a["id"] for a in runtime.get("/v1/alerts?kind=capacity")[1]["items"]}

            _wait_for(lambda: len(capacity_ids()) >= 2, "the KV store's capacity alerts", runtime)
            _wait_for(lambda: capacity_ids() <= set(slack.accepted_alert_ids()), "capacity alerts on Slack", runtime)
            _settled(slack)
            posted = len(slack.accepted)
            runtime.collect("demo-do")
            time.sleep(QUIET_SECONDS)
            assert len(slack.accepted) == posted, "re-collecting posted again"

        with local_demo(tmp_path_factory.mktemp("alerts-2"), env) as restarted:
            time.sleep(QUIET_SECONDS)
            assert restarted.get("/v1/alerts?kind=spike")[1]["items"]
            assert len(slack.accepted) == posted, "restarting posted again"
        ids_posted = slack.accepted_alert_ids()
        assert len(ids_posted) == len(set(ids_posted)), "an alert was posted twice"

"""Alerts end to end on `spendwatch local --demo` with Slack pointed at a local receiver: the demo's spike is one
message naming the service behind it, a budget over the API alerts once per threshold crossed, and neither
re-collecting nor restarting the runtime (on the same AWS endpoint) posts anything again."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from tests.e2e.local_process import Runtime, local_demo
from tests.fakes.slack import FakeSlack

EC2 = "Amazon Elastic Compute Cloud - Compute"
WAIT_SECONDS = 90
QUIET_SECONDS = 8


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
    """An AWS endpoint that outlives one runtime, so a restart finds the alerts already sent."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_spike_budget_and_restart(tmp_path_factory: pytest.TempPathFactory, aws: str) -> None:
    env = {
        "AWS_ENDPOINT_URL": aws,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
    }
    with FakeSlack() as slack:
        env["SLACK_WEBHOOK_URL"] = slack.url
        with local_demo(tmp_path_factory.mktemp("alerts-1"), env) as runtime:
            _wait_for(lambda: any("Spike" in text for text in _texts(slack)), "the spike message", runtime)
            spike_messages = [text for text in _texts(slack) if "Spike" in text]
            assert len(spike_messages) == 1 and EC2 in spike_messages[0]

            status, budget = runtime.post(
                "/v1/budgets", {"name": "e2e", "amount": "1000", "thresholds": ["50%", "80%", "100%", "1000%"]}
            )
            assert status == 201, budget
            rule = f"budget:{budget['id']}"

            def budget_alerts() -> list[dict[str, Any]]:
                return [a for a in runtime.get("/v1/alerts?kind=budget")[1]["items"] if a["rule"] == rule]

            _wait_for(lambda: len(budget_alerts()) == 3, "three budget alerts", runtime)
            ids = {a["id"] for a in budget_alerts()}
            assert sorted(a["level"] for a in budget_alerts()) == ["100%", "50%", "80%"]
            _wait_for(lambda: ids <= set(slack.accepted_alert_ids()), "budget alerts on Slack", runtime)

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

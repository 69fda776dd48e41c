"""Stopping the local runtime: steps in their fixed order, one shared time budget, late arrivals stopped at once."""

from __future__ import annotations

import threading
import time

import pytest

from spendwatch_local.shutdown import ORDER, Shutdown


def test_steps_stop_in_order_whatever_order_they_started_in() -> None:
    stopped: list[str] = []
    shutdown = Shutdown()
    for name in reversed(ORDER):
        shutdown.add(name, lambda _timeout, name=name: stopped.append(name))

    assert shutdown.run(5.0) == []
    assert stopped == list(ORDER)


def test_each_step_is_offered_what_is_left_of_the_budget() -> None:
    offered: dict[str, float] = {}
    now = [0.0]
    shutdown = Shutdown(clock=lambda: now[0])

    def poller(timeout: float) -> None:
        offered["poller"] = timeout
        now[0] += 0.5

    shutdown.add("poller", poller)
    shutdown.add("aws", lambda timeout: offered.__setitem__("aws", timeout))
    shutdown.run(1.2)

    assert offered == {"poller": 1.2, "aws": pytest.approx(0.7)}


def test_a_step_that_overruns_is_left_behind_within_the_budget() -> None:
    release = threading.Event()
    shutdown = Shutdown()
    shutdown.add("poller", lambda _timeout: release.wait(10))
    shutdown.add("aws", lambda _timeout: None)

    began = time.monotonic()
    overran = shutdown.run(0.3)
    took = time.monotonic() - began
    release.set()

    # The poller's 10 s wait did not hold the stop up: it is reported and left to end with the process.
    assert overran[0] == "poller"
    assert took < 2.0


def test_a_step_registered_after_the_shutdown_is_stopped_at_once() -> None:
    stopped = threading.Event()
    shutdown = Shutdown()
    shutdown.run(1.0)

    shutdown.add("http", lambda _timeout: stopped.set())

    assert stopped.wait(2.0)


def test_an_unknown_step_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown shutdown step"):
        Shutdown().add("database", lambda _timeout: None)

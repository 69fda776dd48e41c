"""Background work of the local runtime waits while a request is answered: for as long as it takes, up to a bound."""

from __future__ import annotations

import threading
import time

from spendwatch_local.foreground import Foreground


def test_nothing_being_answered_means_no_wait() -> None:
    assert Foreground().give_way(threading.Event()) < 0.05


def test_the_wait_ends_when_the_last_request_is_answered() -> None:
    foreground = Foreground()
    stop = threading.Event()
    first, second = foreground.serving(), foreground.serving()
    first.__enter__()
    second.__enter__()
    assert foreground.serving_now == 2

    def answer() -> None:
        time.sleep(0.1)
        first.__exit__(None, None, None)
        time.sleep(0.1)
        second.__exit__(None, None, None)

    threading.Thread(target=answer).start()
    waited = foreground.give_way(stop, longest=5.0)
    assert 0.15 <= waited < 2.0 and foreground.serving_now == 0


def test_the_wait_is_bounded_and_a_stop_ends_it() -> None:
    foreground = Foreground()
    stop = threading.Event()
    with foreground.serving():
        assert 0.2 <= foreground.give_way(stop, longest=0.2) < 1.0
        threading.Timer(0.1, stop.set).start()
        assert foreground.give_way(stop, longest=5.0) < 1.0


def test_a_failing_request_is_no_longer_counted() -> None:
    foreground = Foreground()
    try:
        with foreground.serving():
            raise RuntimeError("the function raised")
    except RuntimeError:
        pass
    assert foreground.serving_now == 0

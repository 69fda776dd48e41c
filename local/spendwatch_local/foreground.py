"""Requests a person waits for go first: the local runtime's background work gives way while the API answers.

Deployed, the API function and the stream consumers are separate Lambdas; locally they share one interpreter, and
a consumer working through the demo's first few thousand stream records held the page at 3 s. Stream batches wait
(a bounded time, so background work always moves on) while a request is being answered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

LONGEST_WAIT_SECONDS = 2.0  # under a steady stream of requests, background work still runs every 2 s


class Foreground:
    """Counts the requests being answered; background work waits for none to be."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._changed = threading.Condition()
        self._serving = 0

    @property
    def serving_now(self) -> int:
        """How many requests are being answered."""
        with self._changed:
            return self._serving

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Mark a request as being answered for the duration of the block."""
        with self._changed:
            self._serving += 1
        try:
            yield
        finally:
            with self._changed:
                self._serving -= 1
                self._changed.notify_all()

    def give_way(self, stop: threading.Event, longest: float = LONGEST_WAIT_SECONDS) -> float:
        """Wait while a request is being answered (at most ``longest`` seconds, or until ``stop``); seconds waited."""
        started = self._clock()
        with self._changed:
            while self._serving and not stop.is_set():
                remaining = started + longest - self._clock()
                if remaining <= 0:
                    break
                self._changed.wait(min(remaining, 0.05))
        return self._clock() - started


FOREGROUND = Foreground()

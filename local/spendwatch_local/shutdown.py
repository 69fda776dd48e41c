"""Stopping the local runtime: what it started, in a fixed order, within one time budget."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Consumers first (nothing new is invoked), then what fires work, then what serves it, then AWS underneath.
ORDER = ("poller", "scheduler", "staleness", "reports", "http", "providers", "aws")

Stop = Callable[[float], None]  # called with the seconds it may take


@dataclass
class Shutdown:
    """Stop steps registered while the runtime starts, run once in ``ORDER`` with a shared deadline.

    Each step runs in its own daemon thread and is waited for only until the deadline: a step that overruns (a
    stream batch or a collection still working against moto) is left to die with the process rather than keep
    the user waiting. A step registered after the shutdown ran (start-up was still going) is stopped at once.
    """

    clock: Callable[[], float] = time.monotonic
    overran: list[str] = field(default_factory=list)
    took: dict[str, float] = field(default_factory=dict)
    _steps: dict[str, Stop] = field(default_factory=dict)
    _done: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, stop: Stop) -> None:
        """Register how to stop ``name`` (one of ``ORDER``)."""
        if name not in ORDER:
            raise ValueError(f"unknown shutdown step {name!r}")
        with self._lock:
            late = self._done
            if not late:
                self._steps[name] = stop
        if late:
            _bounded(name, stop, 0.0, self.clock() + 0.2, self.overran, self.clock)

    def run(self, budget: float) -> list[str]:
        """Stop every registered step in order within ``budget`` seconds; returns the steps that overran."""
        deadline = self.clock() + budget
        with self._lock:
            self._done = True
            steps = [(name, self._steps.pop(name)) for name in ORDER if name in self._steps]
        for name, stop in steps:
            began = self.clock()
            _bounded(name, stop, max(0.0, deadline - began), deadline, self.overran, self.clock)
            self.took[name] = round(self.clock() - began, 3)
        return list(self.overran)


def _bounded(
    name: str, stop: Stop, timeout: float, deadline: float, overran: list[str], clock: Callable[[], float]
) -> None:
    worker = threading.Thread(target=stop, args=(timeout,), name=f"spendwatch-stop-{name}", daemon=True)
    worker.start()
    worker.join(max(0.0, deadline - clock()))
    if worker.is_alive():
        overran.append(name)

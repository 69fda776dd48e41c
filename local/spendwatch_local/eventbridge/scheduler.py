"""A thread that fires each source's collection on its EventBridge schedule."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime

from aws_lambda_powertools import Logger
from spendwatch.platform import clock

from spendwatch_local.eventbridge.schedule import Schedule, next_fire

# Re-read the wall clock at least this often, so a suspended laptop does not oversleep a fire.
_MAX_SLEEP_SECONDS = 30.0

Fire = Callable[[str, datetime], None]


def utc_now() -> datetime:
    """The current time in UTC by the one clock (EventBridge evaluates every schedule in UTC)."""
    return clock.utc_now()


class Scheduler:
    """Fires ``fire(source, scheduled_time)`` for each source, one at a time, until stopped."""

    def __init__(
        self,
        schedules: Mapping[str, Schedule],
        fire: Fire,
        started_at: datetime,
        logger: Logger,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._schedules = dict(schedules)
        self._fire = fire
        self._clock = clock
        self._logger = logger
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="spendwatch-scheduler", daemon=True)
        # Every source has just fired once at start; the schedule takes over from there.
        self._due: dict[str, datetime] = {}
        for name, schedule in self._schedules.items():
            first = schedule.next_after(started_at)
            if first is not None:
                self._due[name] = first

    def next_due(self) -> tuple[str, datetime] | None:
        """The source that fires next and when, or None if nothing will fire again."""
        if not self._due:
            return None
        name = min(self._due, key=lambda source: self._due[source])
        return name, self._due[name]

    def start(self) -> None:
        """Start the scheduler thread."""
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to stop and wait for a running collection to finish (up to ``timeout``)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def run_due(self) -> float | None:
        """Fire the next source if it is due; return how long to wait before calling again."""
        upcoming = self.next_due()
        if upcoming is None:
            return None
        name, due = upcoming
        wait = (due - self._clock()).total_seconds()
        if wait > 0:
            return min(wait, _MAX_SLEEP_SECONDS)
        try:
            self._fire(name, due)
        except Exception:
            # One failing source must not stop the others' schedules.
            self._logger.exception("scheduled collection failed", extra={"source": name})
        following = next_fire(self._schedules[name], due, self._clock())
        if following is None:
            self._logger.info("schedule has no further fires", extra={"source": name})
            del self._due[name]
        else:
            self._due[name] = following
        return 0.0

    def _loop(self) -> None:
        while not self._stop.is_set():
            wait = self.run_due()
            if wait is None:
                self._stop.wait()
            elif wait > 0:
                self._stop.wait(wait)

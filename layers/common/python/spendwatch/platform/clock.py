"""The one clock every component reads "now" from.

Deployed, it is the system clock. ``SPENDWATCH_NOW`` (an ISO 8601 UTC instant) moves it: the local runtime,
``spendwatch collect`` and the functions they run then behave as if it were that instant, advancing in real
time from the moment the process first read the clock. Timers that measure elapsed time (timeouts, waits,
retry pauses) keep using ``time.monotonic``; protocol stamps set by other parties (an HTTP ``Date``, a stream
record's creation time) stay on the system clock they were written with.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta

NOW_ENV = "SPENDWATCH_NOW"

Clock = Callable[[], datetime]


class ClockError(ValueError):
    """``SPENDWATCH_NOW`` is not an ISO 8601 instant."""


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant as an aware UTC datetime; a value without an offset is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ClockError(f"{NOW_ENV}={text!r} is not an ISO 8601 instant (e.g. 2027-01-01T00:30:00Z)") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def system_now() -> datetime:
    """The system clock in UTC."""
    return datetime.now(UTC)


class _Offset:
    """The shift from the system clock, read from the environment once per process (or after ``reset``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset: timedelta | None = None

    def get(self) -> timedelta:
        offset = self._offset
        if offset is None:
            with self._lock:
                if self._offset is None:
                    self._offset = offset_from(os.environ)
                offset = self._offset
        return offset

    def set(self, offset: timedelta | None) -> None:
        with self._lock:
            self._offset = offset


_OFFSET = _Offset()


def offset_from(environ: Mapping[str, str], real: datetime | None = None) -> timedelta:
    """How far ``SPENDWATCH_NOW`` is from the system clock now (zero when it is not set)."""
    text = environ.get(NOW_ENV, "").strip()
    if not text:
        return timedelta(0)
    return parse_instant(text) - (real or system_now())


def utc_now() -> datetime:
    """Now, in UTC, as this process's clock has it."""
    return system_now() + _OFFSET.get()


def utc_today() -> date:
    """Today's UTC calendar day by this process's clock."""
    return utc_now().date()


def is_shifted() -> bool:
    """True when ``SPENDWATCH_NOW`` moved this process's clock."""
    return _OFFSET.get() != timedelta(0)


def shift() -> timedelta:
    """How far this process's clock is from the system clock (zero unless ``SPENDWATCH_NOW`` moved it)."""
    return _OFFSET.get()


def restore_shift(offset: timedelta) -> None:
    """Put back a shift read earlier with :func:`shift` (the clock keeps advancing from where it was)."""
    _OFFSET.set(offset)


def reset() -> None:
    """Read ``SPENDWATCH_NOW`` again on the next call (after the environment changed); raises ClockError."""
    _OFFSET.set(None)
    _OFFSET.get()


def child_environ() -> dict[str, str]:
    """What a child process needs so its clock agrees with this one: the current shifted instant, or nothing."""
    if not is_shifted():
        return {}
    return {NOW_ENV: utc_now().isoformat().replace("+00:00", "Z")}

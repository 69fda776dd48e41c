"""The one clock: SPENDWATCH_NOW parsing, the shift it makes, and what a child process is handed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from spendwatch.platform import clock


@pytest.fixture
def restore_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Whatever a test does to SPENDWATCH_NOW, the suite's clock is read afresh afterwards."""
    yield monkeypatch
    monkeypatch.undo()
    clock.reset()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-01-01T00:30:00Z", datetime(2027, 1, 1, 0, 30, tzinfo=UTC)),
        ("2027-01-01T01:30:00+01:00", datetime(2027, 1, 1, 0, 30, tzinfo=UTC)),
        ("2028-02-29T12:00:00", datetime(2028, 2, 29, 12, 0, tzinfo=UTC)),
        (" 2026-12-31T23:30:00.250000Z ", datetime(2026, 12, 31, 23, 30, 0, 250000, tzinfo=UTC)),
    ],
)
def test_an_instant_is_read_as_utc(text: str, expected: datetime) -> None:
    parsed = clock.parse_instant(text)
    assert parsed == expected and parsed.tzinfo == UTC


@pytest.mark.parametrize("text", ["tomorrow", "2027-02-30T00:00:00Z", "1733011200", ""])
def test_anything_else_is_refused_naming_the_variable(text: str) -> None:
    with pytest.raises(clock.ClockError, match="SPENDWATCH_NOW"):
        clock.parse_instant(text)


def test_the_offset_is_the_distance_from_the_system_clock() -> None:
    real = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)
    assert clock.offset_from({clock.NOW_ENV: "2027-01-01T00:30:00Z"}, real) == timedelta(days=26, hours=4, minutes=30)
    assert clock.offset_from({}, real) == timedelta(0)
    assert clock.offset_from({clock.NOW_ENV: "  "}, real) == timedelta(0)


def test_the_clock_starts_at_the_instant_and_advances_in_real_time(restore_clock: pytest.MonkeyPatch) -> None:
    restore_clock.setenv(clock.NOW_ENV, "2028-02-29T23:59:59Z")
    clock.reset()
    first = clock.utc_now()
    later = clock.utc_now()

    assert timedelta(0) <= first - datetime(2028, 2, 29, 23, 59, 59, tzinfo=UTC) < timedelta(seconds=5)
    assert later >= first
    assert clock.is_shifted()
    assert clock.utc_today() in {first.date(), first.date() + timedelta(days=1)}


def test_a_child_gets_the_current_shifted_instant(restore_clock: pytest.MonkeyPatch) -> None:
    restore_clock.setenv(clock.NOW_ENV, "2026-12-31T23:30:00Z")
    clock.reset()
    handed = clock.child_environ()[clock.NOW_ENV]

    assert handed.endswith("Z")
    assert timedelta(0) <= clock.parse_instant(handed) - datetime(2026, 12, 31, 23, 30, tzinfo=UTC) < timedelta(5)


def test_an_unshifted_clock_hands_nothing_on(restore_clock: pytest.MonkeyPatch) -> None:
    restore_clock.delenv(clock.NOW_ENV, raising=False)
    clock.reset()
    assert clock.child_environ() == {}
    assert not clock.is_shifted()
    assert abs(clock.utc_now() - clock.system_now()) < timedelta(seconds=5)


def test_a_bad_instant_fails_at_reset(restore_clock: pytest.MonkeyPatch) -> None:
    restore_clock.setenv(clock.NOW_ENV, "next tuesday")
    with pytest.raises(clock.ClockError):
        clock.reset()


def test_a_shift_read_earlier_can_be_put_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clock.NOW_ENV, "2027-01-01T00:30:00Z")
    clock.reset()
    found = clock.shift()
    monkeypatch.setenv(clock.NOW_ENV, "2030-06-01T00:00:00Z")
    clock.reset()
    assert clock.utc_now().year == 2030
    clock.restore_shift(found)
    assert clock.shift() == found and clock.utc_now().year == 2027

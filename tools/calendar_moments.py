"""The instants the calendar check runs the suite at, computed from the system clock: ``all`` or one by name."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

USAGE = "usage: calendar_moments.py all|first-of-next-month|leap-day|year-end|monday"


def moments(now: datetime) -> dict[str, datetime]:
    """00:30 on the 1st of next month, 2028-02-29 12:00, 23:30 on 31 December of this year, the next Monday 00:05."""
    first_of_next = (now.replace(day=1) + timedelta(days=32)).replace(day=1, hour=0, minute=30, second=0, microsecond=0)
    monday = (now + timedelta(days=7 - now.weekday())).replace(hour=0, minute=5, second=0, microsecond=0)
    return {
        "first-of-next-month": first_of_next,
        "leap-day": datetime(2028, 2, 29, 12, 0, tzinfo=UTC),
        "year-end": datetime(now.year, 12, 31, 23, 30, tzinfo=UTC),
        "monday": monday,
    }


def main(argv: list[str]) -> int:
    """Print the asked-for instants, one ISO 8601 UTC instant a line."""
    found = moments(datetime.now(UTC))
    if len(argv) != 1 or (argv[0] != "all" and argv[0] not in found):
        print(USAGE, file=sys.stderr)
        return 2
    chosen = found.values() if argv[0] == "all" else [found[argv[0]]]
    for moment in chosen:
        print(moment.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""How fast `spendwatch local --demo` answers over HTTP: the page, the summary, the projections and /metrics, each
asked in turn for the first 30 s after the ready line (the stream functions busy with the first evaluations) and
again once the demo has settled. Issue targets: settled medians at most 300 ms, nothing above 1 s in the first 30 s.
"""

from __future__ import annotations

import os
import re
import signal
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from bench.stop_time import demo_process

TOKEN = "bench-local-latency"
TARGETS = {"page": "/", "summary": "/v1/costs/summary", "projections": "/v1/projections", "metrics": "/metrics"}
FIRST_WINDOW_SECONDS = 30.0
IDLE_SHARE = 0.1  # settled: the demo's process used under 10 % of a core over IDLE_SPAN_SECONDS
IDLE_SPAN_SECONDS = 3.0
SETTLE_LIMIT_SECONDS = 240.0
SETTLED_ROUNDS = 15
SETTLED_TARGET_MS, FIRST_TARGET_MS = 300, 1000
_READY = re.compile(r"ready at (http://\S+) after ([\d.]+) s")


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(pid: int) -> float:
    """Wait until the process is idle (the stream functions done with the start-up's records); seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < SETTLE_LIMIT_SECONDS:
        before = _cpu_seconds(pid)
        time.sleep(IDLE_SPAN_SECONDS)
        if _cpu_seconds(pid) - before < IDLE_SHARE * IDLE_SPAN_SECONDS:
            break
    return time.monotonic() - started


@contextmanager
def demo() -> Iterator[tuple[str, float, int]]:
    """`spendwatch local --demo` on a free port in a scratch folder; (its URL, its start-up seconds, its pid)."""
    with demo_process(TOKEN) as process:
        assert process.stdout is not None
        try:
            for line in process.stdout:
                found = _READY.search(line)
                if found:
                    break
            else:
                raise RuntimeError("the demo exited before it was ready")
            threading.Thread(target=process.stdout.read, daemon=True).start()  # keep its pipe drained
            yield found.group(1), float(found.group(2)), process.pid
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)


def _ask(session: requests.Session, url: str) -> float:
    started = time.perf_counter()
    response = session.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed * 1000


def measure() -> tuple[float, float, dict[str, list[float]], dict[str, list[float]]]:
    """Start-up seconds, seconds to settle after the first window, then milliseconds per endpoint in the first
    30 s after ready and once settled."""
    first: dict[str, list[float]] = defaultdict(list)
    settled: dict[str, list[float]] = defaultdict(list)
    with demo() as (base, startup, pid), requests.Session() as session:
        ready = time.monotonic()
        while time.monotonic() - ready < FIRST_WINDOW_SECONDS:
            for name, path in TARGETS.items():
                first[name].append(_ask(session, base + path))
        waited = settle(pid)
        for _ in range(SETTLED_ROUNDS):
            for name, path in TARGETS.items():
                settled[name].append(_ask(session, base + path))
    return startup, waited, first, settled


def main() -> None:
    """Print each endpoint's latencies in both windows."""
    startup, waited, first, settled = measure()
    print(
        f"Local API over HTTP on `spendwatch local --demo` (ready after {startup:.1f} s; "
        f"idle {FIRST_WINDOW_SECONDS + waited:.0f} s after ready), ms:"
    )
    print(
        f"  {'':<12} {'first 30 s: median':>19} {'worst':>6} {'calls':>5}   "
        f"{'settled: median':>15} {'p90':>5}   (targets {SETTLED_TARGET_MS} settled, {FIRST_TARGET_MS} first 30 s)"
    )
    for name in TARGETS:
        early, late = first[name], sorted(settled[name])
        p90 = late[max(0, round(0.9 * len(late)) - 1)]
        print(
            f"  {name:<12} {statistics.median(early):19.0f} {max(early):6.0f} {len(early):5d}   "
            f"{statistics.median(late):15.0f} {p90:5.0f}"
        )


if __name__ == "__main__":
    main()

"""How long Ctrl-C takes to stop `spendwatch local --demo`: during the start-up collections, right after ready (the
stream functions busy with the first evaluations), and once idle. Each from SIGINT to the process's exit."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RUNS = 3
TARGET_SECONDS = 2.0
MOMENTS = {
    "during the start-up collections": ("collect demo-focus:", 0.0),
    "right after ready (evaluation busy)": ("press Ctrl-C to stop", 0.0),
    "idle, 30 s after ready": ("press Ctrl-C to stop", 30.0),
}


def _spendwatch() -> str:
    beside = Path(sys.executable).with_name("spendwatch")
    return str(beside) if beside.exists() else "spendwatch"


@contextmanager
def demo_process(token: str) -> Iterator[subprocess.Popen[str]]:
    """`spendwatch local --demo` on a free port in a scratch folder, away from any endpoint or config of this
    shell, its stdout a text pipe."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT_URL", "SPENDWATCH_"))}
    env["SPENDWATCH_API_TOKEN"] = token
    with tempfile.TemporaryDirectory() as workdir:
        process = subprocess.Popen(
            [_spendwatch(), "local", "--demo", "--port", "0"],
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert process.stdout is not None
        yield process


def stop_seconds(marker: str, wait: float) -> float:
    """Start the demo, send SIGINT ``wait`` seconds after it printed ``marker``; seconds until it exited."""
    with demo_process("bench") as process:
        assert process.stdout is not None
        for line in process.stdout:
            if marker in line:
                break
        time.sleep(wait)
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        return time.monotonic() - sent


def main() -> None:
    """Print median and worst stop time per moment."""
    print(
        f"Ctrl-C to exit of `spendwatch local --demo`, {RUNS} runs each (median / worst, s; target < {TARGET_SECONDS})"
    )
    for name, (marker, wait) in MOMENTS.items():
        samples = [stop_seconds(marker, wait) for _ in range(RUNS)]
        print(f"  {name:<40} {statistics.median(samples):5.2f} / {max(samples):5.2f}")


if __name__ == "__main__":
    main()

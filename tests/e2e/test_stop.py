"""Ctrl-C stops `spendwatch local --demo` within two seconds, whatever it is doing: serving with the stream
functions busy right after start, or still collecting at start-up. A second Ctrl-C ends it at once."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.local_process import clean_env, free_port, spendwatch

STOP_LIMIT_SECONDS = 2.0
START_TIMEOUT = 120


@contextmanager
def _demo(workdir: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[str]]:
    with (workdir / "stderr.log").open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [spendwatch(), "local", "--demo", "--port", str(free_port())],
            cwd=workdir,
            env={**clean_env(), **(env or {})},
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _read_until(process: subprocess.Popen[str], marker: str) -> list[str]:
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    seen: list[str] = []
    for line in process.stdout:
        seen.append(line.rstrip("\n"))
        if marker in line:
            return seen
        assert time.monotonic() < deadline, seen
    pytest.fail(f"the runtime exited before printing {marker!r}: {seen}")


def _interrupt(process: subprocess.Popen[str], times: int = 1) -> tuple[float, int, list[str]]:
    """Send SIGINT ``times`` times; seconds until the process exited, its exit code and its last lines."""
    assert process.stdout is not None
    sent = time.monotonic()
    for _ in range(times):
        process.send_signal(signal.SIGINT)
        time.sleep(0.05)
    code = process.wait(timeout=30)
    took = time.monotonic() - sent
    return took, code, [line.rstrip("\n") for line in process.stdout]


def test_ctrl_c_while_the_stream_functions_are_busy(tmp_path: Path) -> None:
    with _demo(tmp_path) as process:
        _read_until(process, "press Ctrl-C to stop")
        # Right after ready the evaluation of the first collections is still running against moto.
        took, code, tail = _interrupt(process)

    assert code == 0
    assert tail[-1] == "spendwatch: stopping"
    assert took < STOP_LIMIT_SECONDS, f"stopped in {took:.2f} s"
    assert "Traceback" not in (tmp_path / "stderr.log").read_text(encoding="utf-8")


def test_ctrl_c_during_the_start_up_collections(tmp_path: Path) -> None:
    with _demo(tmp_path) as process:
        _read_until(process, "collect demo-focus:")
        took, code, tail = _interrupt(process)

    assert code == 0
    assert tail == ["spendwatch: stopping"]
    assert took < STOP_LIMIT_SECONDS, f"stopped in {took:.2f} s"


@contextmanager
def _unanswering_webhook() -> Iterator[tuple[str, threading.Event]]:
    """A Slack webhook URL whose server takes connections and never answers, and an event set on the first."""
    called = threading.Event()
    held: list[socket.socket] = []
    with socket.create_server(("127.0.0.1", 0)) as server:

        def accept() -> None:
            with contextlib.suppress(OSError):
                while True:
                    held.append(server.accept()[0])
                    called.set()

        threading.Thread(target=accept, daemon=True).start()
        yield f"http://127.0.0.1:{server.getsockname()[1]}/hook", called
    for connection in held:
        connection.close()


def test_a_second_ctrl_c_exits_at_once(tmp_path: Path) -> None:
    # A first Ctrl-C while an alert's Slack post hangs waits for that stream batch up to the stop budget.
    with _unanswering_webhook() as (url, called), _demo(tmp_path, {"SLACK_WEBHOOK_URL": url}) as process:
        _read_until(process, "press Ctrl-C to stop")
        assert called.wait(START_TIMEOUT), "no alert was posted"
        took, code, _ = _interrupt(process, times=2)

    assert code == 130
    assert took < STOP_LIMIT_SECONDS, f"exited in {took:.2f} s"
    assert (tmp_path / "stderr.log").read_text(encoding="utf-8").rstrip().endswith("spendwatch: interrupted")

"""Running `spendwatch local` and `spendwatch collect` as a user does: subprocesses spoken to over real HTTP."""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from spendwatch.platform import clock

TOKEN = "e2e-test-token"
READY = re.compile(r"^spendwatch is ready at (http://127\.0\.0\.1:\d+) after (\d+\.\d) s")
EXPORTS = re.compile(r"^\s*export (.+)$")
READY_TIMEOUT = 120
STOP_TIMEOUT = 15
COLLECT_TIMEOUT = 120


def spendwatch() -> str:
    """The console script of this virtualenv."""
    beside_python = Path(sys.executable).with_name("spendwatch")
    return str(beside_python) if beside_python.exists() else "spendwatch"


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env() -> dict[str, str]:
    """The caller's env without anything that would point the runtime elsewhere."""
    redirects = ("AWS_ENDPOINT_URL", "SPENDWATCH_", "POWERTOOLS_", "DIGITALOCEAN_", "OPENCOST_URL", "VERCEL_", "SLACK_")
    env = {name: value for name, value in os.environ.items() if not name.startswith(redirects)}
    env["SPENDWATCH_API_TOKEN"] = TOKEN
    # The suite's clock (pytest --now) is the runtime's clock too, at the instant the child starts.
    env.update(clock.child_environ())
    return env


@dataclass
class Runtime:
    """A running `spendwatch local` and what it printed."""

    process: subprocess.Popen[str]
    stderr_path: Path
    lines: list[str] = field(default_factory=list)
    base_url: str = ""
    ready_after: float = 0.0
    exports: dict[str, str] = field(default_factory=dict)

    def stderr_tail(self) -> str:
        return "\n".join(self.stderr_path.read_text(encoding="utf-8", errors="replace").splitlines()[-40:])

    def get(self, path: str, token: str | None = TOKEN) -> tuple[int, Any]:
        request = urllib.request.Request(self.base_url + path)
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def post(self, path: str, body: Any, token: str | None = TOKEN) -> tuple[int, Any]:
        """POST a JSON body."""
        request = urllib.request.Request(self.base_url + path, data=json.dumps(body).encode(), method="POST")
        request.add_header("Content-Type", "application/json")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def collect(self, source: str) -> dict[str, Any]:
        """`spendwatch collect SOURCE` from another process, with the env the runtime's export line gives."""
        done = subprocess.run(
            [spendwatch(), "collect", source],
            env={**clean_env(), **self.exports},
            capture_output=True,
            text=True,
            timeout=COLLECT_TIMEOUT,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-4000:]
        run: dict[str, Any] = json.loads(done.stdout)
        return run

    def report(self, *args: str) -> tuple[int, dict[str, Any] | None]:
        """`spendwatch report ARGS...` from another process, like ``collect``: its exit code and printed JSON."""
        done = subprocess.run(
            [spendwatch(), "report", *args],
            env={**clean_env(), **self.exports},
            capture_output=True,
            text=True,
            timeout=COLLECT_TIMEOUT,
            check=False,
        )
        return done.returncode, json.loads(done.stdout) if done.stdout.strip() else None


def _read_lines(stream: Any, sink: queue.Queue[str | None]) -> None:
    for line in stream:
        sink.put(line.rstrip("\n"))
    sink.put(None)


def _wait_until_ready(runtime: Runtime, lines: queue.Queue[str | None]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            pytest.fail(f"spendwatch local exited before ready:\n{runtime.lines}\n{runtime.stderr_tail()}")
        runtime.lines.append(line)
        if exports := EXPORTS.match(line):
            runtime.exports = dict(item.split("=", 1) for item in shlex.split(exports[1]))
        if ready := READY.match(line):
            runtime.base_url, runtime.ready_after = ready[1], float(ready[2])
            return
    pytest.fail(f"not ready within {READY_TIMEOUT} s:\n{runtime.lines}\n{runtime.stderr_tail()}")


@contextmanager
def local_demo(workdir: Path, env: dict[str, str] | None = None, demo: bool = True) -> Iterator[Runtime]:
    """`spendwatch local --demo` in ``workdir`` (with its spendwatch.toml, if any), stopped on exit; without
    ``demo``, `spendwatch local` with that config alone."""
    stderr_path = workdir / "stderr.log"
    with stderr_path.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [spendwatch(), "local", *(["--demo"] if demo else []), "--port", str(free_port())],
            cwd=workdir,
            env={**clean_env(), **(env or {})},
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    running = Runtime(process, stderr_path)
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    try:
        _wait_until_ready(running, lines)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

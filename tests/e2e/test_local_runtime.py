"""The local runtime end to end: `spendwatch local --demo` as a user runs it, spoken to over real HTTP."""

from __future__ import annotations

import csv
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
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from importlib import resources as package_files
from pathlib import Path
from typing import Any

import pytest

TOKEN = "e2e-test-token"
READY = re.compile(r"^spendwatch is ready at (http://127\.0\.0\.1:\d+)")
EXPORTS = re.compile(r"^\s*export (.+)$")
READY_TIMEOUT = 120
STOP_TIMEOUT = 15
SEPTEMBER = {"start": "2024-09-01", "end": "2024-09-30"}
CENT = Decimal("0.01")


def _spendwatch() -> str:
    beside_python = Path(sys.executable).with_name("spendwatch")
    return str(beside_python) if beside_python.exists() else "spendwatch"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clean_env() -> dict[str, str]:
    """The caller's env without anything that would point the runtime elsewhere."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_ENDPOINT_URL", "SPENDWATCH_", "POWERTOOLS_"))
    }
    env["SPENDWATCH_API_TOKEN"] = TOKEN
    return env


@dataclass
class Runtime:
    """A running `spendwatch local` and what it printed."""

    process: subprocess.Popen[str]
    stderr_path: Path
    lines: list[str] = field(default_factory=list)
    base_url: str = ""
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
            runtime.base_url = ready[1]
            return
    pytest.fail(f"not ready within {READY_TIMEOUT} s:\n{runtime.lines}\n{runtime.stderr_tail()}")


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """`spendwatch local --demo` in an empty folder (so no spendwatch.toml is picked up)."""
    workdir = tmp_path_factory.mktemp("local-runtime")
    stderr_path = workdir / "stderr.log"
    with stderr_path.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [_spendwatch(), "local", "--demo", "--port", str(_free_port())],
            cwd=workdir,
            env=_clean_env(),
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


def _demo_rows() -> list[dict[str, str]]:
    text = package_files.files("spendwatch_local").joinpath("demo", "focus_sample.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _cents(exact: Decimal) -> str:
    return str(exact.quantize(CENT, rounding=ROUND_HALF_EVEN))


def _expected_totals(column: str) -> dict[str, str]:
    """Sum of BilledCost per value of ``column`` straight from the demo CSV, rounded half-even to the cent."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for row in _demo_rows():
        sums[row[column]] += Decimal(row["BilledCost"])
    return {key: _cents(total) for key, total in sums.items()}


def _grand_total() -> str:
    return _cents(sum((Decimal(row["BilledCost"]) for row in _demo_rows()), Decimal(0)))


def _totals(runtime: Runtime, group_by: str) -> tuple[str, dict[str, str]]:
    status, body = runtime.get(f"/v1/costs?start={SEPTEMBER['start']}&end={SEPTEMBER['end']}&group_by={group_by}")
    assert status == 200, body
    assert body["currency"] == "USD"
    assert (body["start"], body["end"], body["group_by"]) == (SEPTEMBER["start"], SEPTEMBER["end"], group_by)
    return body["total"], {group["key"]: group["total"] for group in body["groups"]}


def test_startup_collects_the_demo_source(runtime: Runtime) -> None:
    runs = [line for line in runtime.lines if line.startswith("collect demo-focus:")]
    assert runs == ["collect demo-focus: succeeded, 1000 records written, 0 rejected"]


def test_health_needs_no_token(runtime: Runtime) -> None:
    status, body = runtime.get("/health", token=None)
    assert status == 200
    assert body == {"status": "ok"}


def test_costs_by_provider_match_the_csv_to_the_cent(runtime: Runtime) -> None:
    total, groups = _totals(runtime, "provider")
    assert groups == _expected_totals("ProviderName")
    assert total == _grand_total()


def test_costs_by_service_match_the_csv_to_the_cent(runtime: Runtime) -> None:
    total, groups = _totals(runtime, "service")
    assert groups == _expected_totals("ServiceName")
    assert total == _grand_total()


def test_costs_without_token_is_401(runtime: Runtime) -> None:
    status, body = runtime.get("/v1/costs?group_by=provider", token=None)
    assert status == 401
    assert body["error"]["code"] == "unauthorized"


def test_collecting_the_same_data_again_changes_nothing(runtime: Runtime) -> None:
    # Given the totals after the start-up collection
    before = {group_by: _totals(runtime, group_by) for group_by in ("provider", "service")}
    assert {"AWS_ENDPOINT_URL", "SPENDWATCH_TABLE", "SPENDWATCH_BUCKET", "SPENDWATCH_CONFIG"} <= set(runtime.exports)

    # When the same source is collected again from another process, as a user would from another shell
    done = subprocess.run(
        [_spendwatch(), "collect", "demo-focus"],
        env={**_clean_env(), **runtime.exports},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # Then the run succeeds, every total is unchanged and both runs are listed, newest first
    assert done.returncode == 0, done.stderr[-4000:]
    run = json.loads(done.stdout)
    assert (run["source"], run["status"], run["records_written"]) == ("demo-focus", "succeeded", 1000)
    after = {group_by: _totals(runtime, group_by) for group_by in ("provider", "service")}
    assert after == before
    status, body = runtime.get("/v1/collections")
    assert status == 200, body
    items = body["items"]
    assert [item["source"] for item in items] == ["demo-focus", "demo-focus"]
    assert items[0]["run_id"] == run["run_id"]
    newest, older = (datetime.fromisoformat(item["started_at"]) for item in items)
    assert newest > older


def test_sigint_stops_cleanly(runtime: Runtime) -> None:
    runtime.process.send_signal(signal.SIGINT)
    assert runtime.process.wait(STOP_TIMEOUT) == 0
    assert "Traceback" not in runtime.stderr_tail()

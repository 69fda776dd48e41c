"""The running API over the local HTTP server against its own OpenAPI document: `schemathesis run` with its default
phases (examples, coverage with its unsupported-method requests, fuzzing, stateful) and every check finds no server
error and no answer the document does not describe.

The runtime collects the demo's FOCUS sample (1,000 real rows) and has a config budget: on the full demo (~3,800
items in moto) the same run takes ~4 minutes instead of ~1.5, for the same routes and statuses; the demo's own
data is checked by the other end-to-end modules.

One check is left out: ``positive_data_acceptance`` expects every schema-valid request to succeed, but some valid
shapes are refused by rules no JSON Schema can state (a ``next_token`` this API did not issue, a usage day more than
three years before today, a snooze ``until`` in the past); each such refusal is a documented 400 or 422.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from importlib import resources as package_files
from pathlib import Path

import pytest

from tests.e2e.local_process import TOKEN, Runtime, local_demo

PHASES = ("Coverage", "Fuzzing", "Stateful")
MAX_EXAMPLES = 3
RUN_TIMEOUT = 900


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """`spendwatch local` with the FOCUS sample and a budget, private to this module (requests change budgets)."""
    workdir = tmp_path_factory.mktemp("api-schema")
    sample = workdir / "focus_sample.csv"
    sample.write_bytes(package_files.files("spendwatch_local").joinpath("demo", "focus_sample.csv").read_bytes())
    (workdir / "spendwatch.toml").write_text(
        f'[[sources]]\nname = "sample"\ntype = "focus"\npath = "{sample}"\nschedule = "rate(1 day)"\n\n'
        '[[budgets]]\nname = "total"\namount = "500.00"\nperiod = "month"\nthresholds = ["50%", "forecast:100%"]\n',
        encoding="utf-8",
    )
    with local_demo(workdir, demo=False) as running:
        yield running


def _schemathesis() -> str:
    beside_python = Path(sys.executable).with_name("schemathesis")
    return str(beside_python) if beside_python.exists() else "schemathesis"


def test_schemathesis_default_run_finds_nothing(runtime: Runtime) -> None:
    command = [
        _schemathesis(),
        "run",
        f"{runtime.base_url}/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {TOKEN}",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "20261205",
        "--generation-database",
        "none",
        "--request-timeout",
        "60",
        "--no-color",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    report = done.stdout[-12000:] + done.stderr[-2000:]
    print(report)

    assert done.returncode == 0, report
    for phase in PHASES:
        assert f"✅  {phase} (in" in done.stdout, f"phase {phase} did not pass:\n{report}"
    selected = re.search(r"Operations:\s+(\d+) selected / (\d+) total", done.stdout)
    assert selected and selected[1] == selected[2] and int(selected[1]) >= 20, report

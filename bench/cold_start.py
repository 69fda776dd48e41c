"""Cold-start import time of each handler next to `import boto3` alone, each in fresh interpreters."""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 15
TARGET_RATIO = 1.6
MODULES = {"boto3 alone": "boto3", "collect handler": "collect.handler", "api handler": "api.handler"}

_PROBE = """
import sys, time
sys.path[:0] = [{functions!r}, {layer!r}]
start = time.perf_counter()
import {module}
print(time.perf_counter() - start)
"""


def measure(module: str, runs: int = RUNS) -> list[float]:
    """Seconds to import ``module`` in ``runs`` fresh interpreters (bytecode already cached)."""
    code = _PROBE.format(functions=str(ROOT / "functions"), layer=str(ROOT / "layers/common/python"), module=module)
    samples = []
    for _ in range(runs + 1):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
        samples.append(float(out.stdout.strip()))
    return samples[1:]  # the first run warms the bytecode and page caches


def main() -> None:
    """Print median and best import times and the ratio to boto3."""
    print(f"cold-start import time, {RUNS} fresh interpreters each (median / best, ms)")
    results = {name: measure(module) for name, module in MODULES.items()}
    base = statistics.median(results["boto3 alone"])
    for name, samples in results.items():
        median = statistics.median(samples)
        verdict = "" if name == "boto3 alone" else f"  {median / base:.2f}x boto3 (target <= {TARGET_RATIO}x)"
        print(f"  {name:<16} {median * 1000:6.0f} / {min(samples) * 1000:4.0f}{verdict}")


if __name__ == "__main__":
    main()

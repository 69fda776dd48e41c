"""Run every benchmark and print its numbers."""

from __future__ import annotations

import importlib

BENCHES = (
    "cold_start",
    "dynamodb_requests",
    "writer_throughput",
    "provider_requests",
    "do_inventory",
    "forecast_accuracy",
    "detection_quality",
    "real_data",
    "alert_pipeline",
    "pricing",
    "api_latency",
    "local_latency",
    "stop_time",
)

WITH_OPTIONS = ("forecast_accuracy", "detection_quality")


def main() -> None:
    """Each benchmark in turn (cold starts first: they spawn fresh interpreters)."""
    for name in BENCHES:
        module = importlib.import_module(f"bench.{name}")
        if name in WITH_OPTIONS:
            module.main([])  # they parse argv when given None; an empty list keeps make's own argv out
        else:
            module.main()
        print()


if __name__ == "__main__":
    main()

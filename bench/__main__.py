"""Run every benchmark and print its numbers."""

from __future__ import annotations

import importlib

BENCHES = (
    "cold_start",
    "dynamodb_requests",
    "writer_throughput",
    "provider_requests",
)


def main() -> None:
    """Each benchmark in turn (cold starts first: they spawn fresh interpreters)."""
    for name in BENCHES:
        importlib.import_module(f"bench.{name}").main()
        print()


if __name__ == "__main__":
    main()

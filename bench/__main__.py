"""Run every benchmark and print its numbers."""

from __future__ import annotations

from bench import cold_start, dynamodb_requests


def main() -> None:
    """Cold starts first (fresh processes), then request counts on moto."""
    cold_start.main()
    print()
    dynamodb_requests.main()


if __name__ == "__main__":
    main()

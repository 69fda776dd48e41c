"""Firing a collection the way EventBridge does, and reading the run it returns."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from spendwatch_local.lambdas.functions import LocalFunction
from spendwatch_local.lambdas.shapes import scheduled_event

OK_STATUSES = frozenset({"succeeded", "partial"})


def fire_collection(
    collect: LocalFunction, source: str, fired_at: datetime, window: tuple[date, date] | None = None
) -> dict[str, Any]:
    """Invoke the collect function with the source's scheduled event and return the run it reports."""
    result = collect.invoke(scheduled_event(source, fired_at, collect.region, window))
    if not isinstance(result, Mapping):
        raise TypeError(f"collect returned {type(result).__name__}, not a collection run")
    return dict(result)


def summary_line(source: str, run: Mapping[str, Any]) -> str:
    """One console line per run: source, status, records written, rejected (and the error if any)."""
    line = (
        f"collect {source}: {run.get('status', 'unknown')}, "
        f"{run.get('records_written', 0)} records written, {run.get('rejected', 0)} rejected"
    )
    error = run.get("error")
    return f"{line} ({error})" if error else line


def exit_code(run: Mapping[str, Any]) -> int:
    """0 when the run succeeded or partly succeeded, 1 otherwise."""
    return 0 if run.get("status") in OK_STATUSES else 1

"""One collection run: read a source, write normalised items, keep totals, record what happened."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from spendwatch.config import Source
from spendwatch.runs import CollectionRun, CollectionWindow
from spendwatch.store import Store, StoreError
from spendwatch.writer import CostWriter

from collect.sources import focus

Clock = Callable[[], datetime]


class UnsupportedSourceError(RuntimeError):
    """The source type has no collector in this version."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class RequestCounter:
    """Counts provider API calls made through a boto3 client (each one may cost money)."""

    def __init__(self) -> None:
        self.count = 0

    def attach(self, boto_client: Any) -> Any:
        """Count every call ``boto_client`` makes from now on; returns the client."""
        boto_client.meta.events.register("before-call.*.*", self._count)
        return boto_client

    def _count(self, **_: Any) -> None:
        self.count += 1


def collect(
    source: Source,
    store: Store,
    *,
    s3: Any = None,
    start: date | None = None,
    end: date | None = None,
    clock: Clock = _utcnow,
) -> CollectionRun:
    """Run one collection of ``source`` and return its finished run record (also stored)."""
    run = CollectionRun(
        run_id=uuid.uuid4().hex,
        source=source.name,
        type=source.type,
        started_at=clock(),
        window=CollectionWindow(start=start, end=end),
    )
    store.put_run(run)
    writer = CostWriter(store, source.name)
    counter = RequestCounter()
    update: dict[str, Any] = {}
    try:
        if source.type != "focus":
            raise UnsupportedSourceError(f"no collector for source type {source.type!r} in this version")
        update = _collect_focus(source, writer, counter.attach(s3) if s3 is not None else None, start, end, run)
        writer.commit_totals()
        update["status"] = "partial" if update["rejected"] else "succeeded"
    except (focus.FocusSourceError, StoreError, UnsupportedSourceError) as exc:
        update["status"] = "failed"
        update["error"] = f"{exc}; totals were not updated, items already written are kept"
    if writer.days and start is None:
        days = sorted(writer.days)
        update["window"] = CollectionWindow(start=date.fromisoformat(days[0]), end=date.fromisoformat(days[-1]))
    update.update(records_written=writer.written, requests=counter.count, finished_at=clock())
    finished = run.model_copy(update=update)
    store.put_run(finished)
    return finished


def _collect_focus(
    source: Source, writer: CostWriter, s3: Any, start: date | None, end: date | None, run: CollectionRun
) -> dict[str, Any]:
    assert source.path is not None  # guaranteed by the config model
    read = rejected = 0
    first_rejection: str | None = None
    data_through: datetime | None = None
    for file in focus.list_files(source.path, s3):
        for result in focus.read_file(file, source.name, run.started_at, (start, end)):
            read += 1
            if isinstance(result, focus.Rejection):
                rejected += 1
                first_rejection = first_rejection or str(result)
                continue
            writer.add(result)
            if data_through is None or result.ChargePeriodEnd > data_through:
                data_through = result.ChargePeriodEnd
    return {
        "records_read": read,
        "rejected": rejected,
        "first_rejection": first_rejection,
        "data_through": data_through,
    }

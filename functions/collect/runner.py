"""One collection run: pick the source's collector, let it fill the sink, keep totals, record the run."""

from __future__ import annotations

import importlib
import uuid
from datetime import date
from typing import Any

from spendwatch.domain.config import Config, Source
from spendwatch.domain.runs import CollectionRun, CollectionWindow
from spendwatch.platform.clock import Clock, utc_now
from spendwatch.store import Store, StoreError
from spendwatch.store.writer import CostWriter, UsageWriter

from collect.sources.base import Collector, CollectRequest, RequestCounter, Sink, SourceError

# Imported on demand: a run loads only its own provider's client (pydo alone costs ~265 ms to import).
COLLECTORS = {
    "focus": "collect.sources.focus",
    "aws_ce": "collect.sources.aws_ce",
    "digitalocean": "collect.sources.digitalocean",
    "opencost": "collect.sources.opencost",
    "vercel": "collect.sources.vercel",
}


class UnsupportedSourceError(RuntimeError):
    """The source type has no collector in this version."""


def collector_for(source_type: str) -> Collector:
    """The ``collect`` function of a source type's module."""
    try:
        module = importlib.import_module(COLLECTORS[source_type])
    except (KeyError, ModuleNotFoundError) as exc:
        raise UnsupportedSourceError(f"no collector for source type {source_type!r} in this version") from exc
    found: Collector = module.collect
    return found


def collect(
    source: Source,
    config: Config,
    store: Store,
    *,
    start: date | None = None,
    end: date | None = None,
    clock: Clock = utc_now,
    **request_options: Any,
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
    sink = Sink(CostWriter(store, source.name), UsageWriter(store), collected_at=run.started_at)
    request = CollectRequest(source, config, sink, RequestCounter(), run.started_at, start, end, **request_options)
    update: dict[str, Any] = {}
    inventory_written = 0
    try:
        coverage = collector_for(source.type)(request)
        if coverage.start and coverage.end:
            sink.costs.claim(coverage.start, coverage.end)
        sink.usage.flush()
        if sink.inventory is not None:
            inventory_written = store.put_inventory(sink.inventory, run.started_at)
        sink.costs.commit_totals()
        update["status"] = "partial" if sink.rejected else "succeeded"
        if coverage.start and coverage.end:
            update["window"] = CollectionWindow(start=coverage.start, end=coverage.end)
    except (SourceError, StoreError, UnsupportedSourceError) as exc:
        update["status"] = "failed"
        update["error"] = f"{exc}; totals were not updated, items already written are kept"
        _flush_quietly(sink)
    update.update(
        records_read=sink.read,
        records_written=sink.costs.written + sink.usage.written + inventory_written,
        rejected=sink.rejected,
        first_rejection=sink.first_rejection,
        data_through=sink.data_through,
        requests=request.requests.count,
        notes=[*run.notes, *sink.notes],
        finished_at=clock(),
    )
    finished = run.model_copy(update=update)
    store.put_run(finished)
    return finished


def _flush_quietly(sink: Sink) -> None:
    """Keep what was read before a provider failure; a storage failure here is already the run's error."""
    try:
        sink.costs.flush()
        sink.usage.flush()
    except StoreError:
        return

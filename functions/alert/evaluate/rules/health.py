"""Data health rules: failed collection runs and sources whose data has gone stale."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta

from spendwatch.domain.alerts import Alert
from spendwatch.domain.config import Config, Source
from spendwatch.domain.runs import CollectionRun

from alert.evaluate.rules import Stamp

STALE_AFTER = timedelta(days=2)
# Providers publish a day's costs a day or so after it ends (Cost Explorer, billing insights, exports): data is
# stale when it is older than the run limit plus this lag, even while runs keep succeeding.
DATA_LAG = timedelta(days=1)


def failed_runs(runs: Sequence[CollectionRun], stamp: Stamp) -> Iterator[Alert]:
    """One collection alert per source and day of failure."""
    for run in runs:
        day = run.started_at.date().isoformat()
        yield stamp.alert(
            kind="collection",
            severity="warning",
            rule=f"collection:{run.source}",
            scope={"source": run.source},
            period=day,
            level="failed",
            title=f"Collection of {run.source} failed",
            message=f"{run.type} collection started {run.started_at:%Y-%m-%d %H:%M}Z failed: {run.error or '-'}",
            data_through=run.data_through,
        )


def _interval(source: Source) -> timedelta:
    expression = source.schedule
    if expression.startswith("rate("):
        count, unit = expression[5:-1].split()
        return timedelta(**{unit.rstrip("s") + "s": int(count)})
    return timedelta(days=1)  # cron schedules: assume at least daily


def run_limit(source: Source) -> timedelta:
    """How long a source may go without a successful run."""
    return max(STALE_AFTER, 2 * _interval(source))


def data_is_fresh(source: Source, run: CollectionRun | None, now: datetime) -> bool:
    """Whether the source's newest successful run is recent and the data it saw is recent too."""
    if run is None or run.finished_at is None or now - run.finished_at > run_limit(source):
        return False
    return run.data_through is None or now - run.data_through <= run_limit(source) + DATA_LAG


def stale_sources(config: Config, latest: Mapping[str, CollectionRun], stamp: Stamp) -> Iterator[Alert]:
    """A staleness alert per source whose last successful run is too old, or whose runs succeed but bring no
    recent data (``data_through`` older than the run limit plus a day of provider lag)."""
    for source in config.enabled_sources:
        run = latest.get(source.name)
        if data_is_fresh(source, run, stamp.now):
            continue
        yield stamp.alert(
            kind="staleness",
            severity="warning",
            rule=f"staleness:{source.name}",
            scope={"source": source.name},
            period=stamp.now.date().isoformat(),
            level="stale",
            title=f"No fresh data from {source.name}",
            message=_stale_message(source, run, stamp.now),
            data_through=run.data_through if run else None,
        )


def _stale_message(source: Source, run: CollectionRun | None, now: datetime) -> str:
    limit = run_limit(source)
    last = run.finished_at if run else None
    if run is None or last is None:
        return f"{source.type} source {source.name} has never succeeded; expected at least every {limit}."
    if now - last > limit:
        return (
            f"{source.type} source {source.name} last succeeded {last:%Y-%m-%d %H:%M}Z; "
            f"expected at least every {limit} ({source.schedule})."
        )
    ends = f"{run.data_through:%Y-%m-%d %H:%M}Z" if run.data_through else "-"
    return (
        f"{source.type} source {source.name} last succeeded {last:%Y-%m-%d %H:%M}Z but its data ends {ends}; "
        f"expected data at most {limit + DATA_LAG} old."
    )


def recovered(alerts: Iterable[Alert], succeeded: Sequence[CollectionRun], config: Config, now: datetime) -> list[str]:
    """Unresolved collection alerts of sources that have since collected successfully, and staleness alerts of
    sources whose new run also brought recent data."""
    runs = {run.source: run for run in succeeded}
    sources = {source.name: source for source in config.sources}
    settled = []
    for alert in alerts:
        run = runs.get(str(alert.scope.get("source")))
        if run is None or alert.status == "resolved" or alert.kind not in ("collection", "staleness"):
            continue
        source = sources.get(run.source)
        if alert.kind == "collection" or source is None or data_is_fresh(source, run, now):
            settled.append(alert.id)
    return settled

"""Data health rules: failed collection runs and sources whose data has gone stale."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta

from spendwatch.domain.alerts import Alert
from spendwatch.domain.config import Config, Source
from spendwatch.domain.runs import CollectionRun

from alert.evaluate.rules import Stamp

STALE_AFTER = timedelta(days=2)


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


def stale_sources(config: Config, latest: Mapping[str, CollectionRun], stamp: Stamp) -> Iterator[Alert]:
    """A staleness alert per source whose last successful run or newest data is too old."""
    for source in config.enabled_sources:
        run = latest.get(source.name)
        limit = max(STALE_AFTER, 2 * _interval(source))
        last = run.finished_at if run else None
        if last is not None and stamp.now - last <= limit:
            continue
        yield stamp.alert(
            kind="staleness",
            severity="warning",
            rule=f"staleness:{source.name}",
            scope={"source": source.name},
            period=stamp.now.date().isoformat(),
            level="stale",
            title=f"No fresh data from {source.name}",
            message=_stale_message(source, last, limit),
            data_through=run.data_through if run else None,
        )


def _stale_message(source: Source, last: datetime | None, limit: timedelta) -> str:
    when = f"last succeeded {last:%Y-%m-%d %H:%M}Z" if last else "has never succeeded"
    return f"{source.type} source {source.name} {when}; expected at least every {limit} ({source.schedule})."


def recovered(alerts: Iterable[Alert], succeeded: Sequence[CollectionRun]) -> list[str]:
    """Unresolved collection and staleness alerts of sources that have since collected successfully."""
    sources = {run.source for run in succeeded}
    return [
        alert.id
        for alert in alerts
        if alert.kind in ("collection", "staleness")
        and alert.scope.get("source") in sources
        and alert.status != "resolved"
    ]

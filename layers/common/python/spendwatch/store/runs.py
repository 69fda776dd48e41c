"""Collection runs and sent reports: one partition each, read newest first a page at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from spendwatch.domain.reports import Report
from spendwatch.domain.runs import CollectionRun
from spendwatch.store.base import Table, to_item
from spendwatch.store.keys import ITEM_TYPE, PK, REPORT, REPORTS_PK, RUN, RUNS_PK, SK, TTL, strip_keys

RUN_RETENTION = timedelta(days=400)
REPORT_RETENTION = timedelta(days=400)


def run_record(run: CollectionRun) -> dict[str, Any]:
    """The stored form of a collection run."""
    data = run.model_dump(mode="json")
    data.update(
        {
            PK: RUNS_PK,
            SK: f"{data['started_at']}#{run.run_id}",
            ITEM_TYPE: RUN,
            TTL: int((run.started_at + RUN_RETENTION).timestamp()),
        }
    )
    return data


def run_from_record(record: dict[str, Any]) -> CollectionRun:
    """Inverse of :func:`run_record`."""
    return CollectionRun.model_validate(strip_keys(record))


def report_record(report: Report) -> dict[str, Any]:
    """The stored form of a report (money as exact decimal strings, dates as ISO strings)."""
    data = report.model_dump(mode="json")
    expires = datetime.combine(report.end, datetime.min.time(), UTC) + REPORT_RETENTION
    data.update({PK: REPORTS_PK, SK: report.id, ITEM_TYPE: REPORT, TTL: int(expires.timestamp())})
    return data


def report_from_record(record: dict[str, Any]) -> Report:
    """Inverse of :func:`report_record` (reports stored with numbers read the same)."""
    return Report.model_validate(strip_keys(record))


class RunStore(Table):
    """Collection runs and reports."""

    def put_run(self, run: CollectionRun) -> None:
        """Create or update the record of a collection run."""
        self.put(run_record(run))

    def list_runs(self, limit: int, next_token: str | None = None) -> tuple[list[CollectionRun], str | None]:
        """Collection runs, newest first, one page at a time."""
        records, token = self._newest_first(RUNS_PK, limit, next_token)
        return [run_from_record(r) for r in records], token

    def put_report(self, report: Report) -> None:
        """Store a report (a report stored again for the same period and kind replaces the earlier one)."""
        self.put(report_record(report))

    def put_report_once(self, report: Report) -> bool:
        """Store a report unless one for its period and kind exists; True when this call stored it."""
        return self._put_new(to_item(report_record(report)))

    def list_reports(
        self, limit: int, next_token: str | None = None, kind: str | None = None
    ) -> tuple[list[Report], str | None]:
        """Reports, newest period first, one page at a time (a page may be short when ``kind`` filters)."""
        records, token = self._newest_first(REPORTS_PK, limit, next_token, {"kind": kind} if kind else None)
        return [report_from_record(r) for r in records], token

    def get_report(self, report_id: str, consistent: bool = False) -> Report | None:
        """One report by id."""
        record = self._get(REPORTS_PK, report_id, consistent=consistent)
        return report_from_record(record) if record else None

    def update_report(self, report_id: str, changes: dict[str, Any]) -> None:
        """Set attributes of a stored report (``delivery.<channel>``)."""
        self._set(REPORTS_PK, report_id, changes)

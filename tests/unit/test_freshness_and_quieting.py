"""Each alert's freshness is its scope's sources'; acknowledged and snoozed alerts quiet their successors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from spendwatch.domain.alerts import Alert, alert_id, quieted
from spendwatch.domain.freshness import newest_by_source, scope_freshness
from spendwatch.domain.runs import CollectionRun, CollectionWindow

NOW = datetime(2026, 11, 24, 8, tzinfo=UTC)
TYPES = {"aws": "aws_ce", "do": "digitalocean", "export": "focus", "k8s": "opencost"}
FRESH = {"aws": NOW - timedelta(days=1), "do": NOW - timedelta(hours=2), "export": NOW - timedelta(days=2)}


def _run(source: str, status: str, through: datetime | None) -> CollectionRun:
    window = CollectionWindow(start=date(2026, 11, 1), end=date(2026, 11, 24))
    return CollectionRun(
        run_id=f"{source}{status}{through}", source=source, type=TYPES.get(source, "focus"), status=status,
        window=window, started_at=NOW, finished_at=NOW, data_through=through,
    )  # fmt: skip


def test_newest_successful_data_per_source() -> None:
    runs = [
        _run("aws", "succeeded", NOW - timedelta(days=2)),
        _run("aws", "partial", NOW - timedelta(days=1)),
        _run("aws", "failed", NOW),
        _run("do", "succeeded", None),
    ]
    assert newest_by_source(runs) == {"aws": NOW - timedelta(days=1)}


def test_a_scope_is_as_fresh_as_its_stalest_source() -> None:
    assert scope_freshness({"source": "do"}, FRESH, TYPES) == FRESH["do"]
    # DigitalOcean's costs come from its collector and possibly the FOCUS export: the export is older.
    assert scope_freshness({"provider": "DigitalOcean"}, FRESH, TYPES) == FRESH["export"]
    assert scope_freshness({"provider": "AWS"}, {"aws": FRESH["aws"]}, TYPES) == FRESH["aws"]
    assert scope_freshness({}, FRESH, TYPES) == FRESH["export"]
    assert scope_freshness({"service": "EC2"}, {"do": FRESH["do"]}, TYPES) == FRESH["do"]
    assert scope_freshness({"provider": "Vercel"}, {}, TYPES) is None


def _alert(status: str = "open", **fields: Any) -> Alert:
    values: dict[str, Any] = {
        "kind": "collection", "severity": "warning", "rule": "collection:s", "scope": {"source": "s"},
        "period": "2026-11-23", "level": "failed", "title": "t", "message": "m", "status": status,
        "created_at": NOW, "updated_at": NOW,
    } | fields  # fmt: skip
    return Alert(id=alert_id(values["rule"], values["scope"], values["period"], values["level"]), **values)


def test_snoozed_quiets_every_successor_until_it_ends() -> None:
    snoozed = _alert("snoozed", snoozed_until=NOW + timedelta(hours=1))
    new = _alert(period="2026-11-24", severity="critical")
    assert (quieted(new, [snoozed], NOW).status, quieted(new, [snoozed], NOW).quieted_by) == ("snoozed", snoozed.id)
    assert quieted(new, [snoozed], NOW + timedelta(hours=2)) == new
    assert quieted(_alert(period="2026-11-24", scope={"source": "t"}), [snoozed], NOW).status == "open"


def test_acknowledged_quiets_only_conditions_and_not_worse_ones() -> None:
    acked = _alert("acknowledged")
    assert quieted(_alert(period="2026-11-24"), [acked], NOW).status == "acknowledged"
    assert quieted(_alert(period="2026-11-24", severity="critical"), [acked], NOW).status == "open"
    budget = _alert("acknowledged", kind="budget", rule="budget:b", threshold=Decimal(80))
    assert quieted(_alert(kind="budget", rule="budget:b", level="x", threshold=Decimal(80)), [budget], NOW).status == (
        "acknowledged"
    )
    assert quieted(_alert(kind="budget", rule="budget:b", level="y", threshold=Decimal(100)), [budget], NOW).status == (
        "open"
    )
    spike = _alert("acknowledged", kind="spike", rule="spike:total")
    assert quieted(_alert(kind="spike", rule="spike:total", period="2026-11-24"), [spike], NOW).status == "open"


def test_the_digest_moment_is_local_time_across_a_dst_change() -> None:
    from datetime import time

    from spendwatch.domain.digest import last_digest_moment

    at = time(9, 0)
    # Berlin leaves summer time on 2026-10-25: 09:00 local is 07:00Z the day before and 08:00Z that day.
    assert last_digest_moment(datetime(2026, 10, 25, 7, 30, tzinfo=UTC), "Europe/Berlin", at) == datetime(
        2026, 10, 24, 7, 0, tzinfo=UTC
    )
    assert last_digest_moment(datetime(2026, 10, 25, 8, 0, tzinfo=UTC), "Europe/Berlin", at) == datetime(
        2026, 10, 25, 8, 0, tzinfo=UTC
    )

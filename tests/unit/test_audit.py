"""Audit entries: time-ordered ids, UTC instants, and the stored form read back exactly."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from spendwatch.domain.audit import ID_PATTERN, audit_entry, audit_id
from spendwatch.store.audit import audit_from_record, audit_record
from spendwatch.store.keys import TTL

AT = datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)


def test_ids_sort_in_time_order_across_seconds_days_and_years() -> None:
    moments = [
        AT - timedelta(days=400),
        AT.replace(microsecond=0),
        AT - timedelta(microseconds=1),
        AT,
        AT + timedelta(microseconds=1),  # 2027-01-01T00:00:00.000000
        AT + timedelta(days=1, hours=10),
    ]
    ids = [
        audit_id(moment, suffix) for moment, suffix in zip(moments, ["ff", "00", "aa", "01", "00", "00"], strict=True)
    ]
    assert sorted(ids) == ids
    assert ids[3] == "20261231T235959.999999Z-01"
    assert ids[4].startswith("20270101T000000.000000Z-")


def test_an_id_is_in_utc_whatever_the_offset_it_is_given_in() -> None:
    berlin = AT.astimezone(timezone(timedelta(hours=1)))
    assert audit_id(berlin, "ab").startswith("20261231T235959.999999Z")
    generated = audit_id(AT)
    assert re.match(ID_PATTERN, generated) and generated != audit_id(AT), "a random suffix keeps one instant apart"


def test_the_stored_form_reads_back_exactly_and_expires_400_days_on() -> None:
    before = {"id": "b1", "amount": "200.50", "scope": {"provider": "AWS"}, "thresholds": ["80%"]}
    entry = audit_entry(
        "budget.update", ("budget", "b1"), "arn:aws:iam::1:user/x", AT, before, {**before, "amount": "1.00"}
    )
    record = audit_record(entry)
    assert record[TTL] == int(datetime(2028, 2, 4, 23, 59, 59, tzinfo=UTC).timestamp())  # 400 days on, to the second
    assert isinstance(record["before"], str), "JSON text: exact, and no float or empty-value surprises"
    assert audit_from_record(record) == entry
    created = entry.model_copy(update={"action": "budget.create", "before": None})
    assert audit_from_record({k: v for k, v in audit_record(created).items() if v is not None}) == created

"""Collected usage from charges: metric names, FOCUS quantities summed per day and service, stable keys."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from spendwatch.domain.config import Config, Source
from spendwatch.domain.models import CostItem, UsageItem

from collect.sources import focus
from collect.sources.base import CollectRequest, RequestCounter
from collect.sources.usage import UsageTally, metric_name
from tests.conftest import FOCUS_SAMPLE, expected_metric, focus_usage
from tests.fakes.sinks import RecordingSink

NOW = datetime(2024, 10, 2, 6, 0, tzinfo=UTC)
PUSHED_METRIC = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


@pytest.mark.parametrize(
    ("unit", "metric"),
    [
        ("GB", "gb"),
        ("GB-Months", "gb_months"),
        ("GB Months", "gb_months"),
        ("GB/Month", "gb_month"),
        ("GiB/Second-Months", "gib_second_months"),
        ("1M Requests", "1m_requests"),
        ("vCPU-Hours", "vcpu_hours"),
        ("  (Units) ", "units"),
        ("Größe", "gr_e"),
        ("%%", ""),
        ("", ""),
        ("a" * 70, "a" * 64),
    ],
)
def test_a_unit_names_its_metric(unit: str, metric: str) -> None:
    assert metric_name(unit) == metric


@given(st.text(max_size=100))
def test_every_metric_is_a_valid_usage_metric_or_none(unit: str) -> None:
    metric = metric_name(unit)
    assert metric == expected_metric(unit)
    assert metric == "" or PUSHED_METRIC.fullmatch(metric)


def _collect(path: Path, start: date | None = None, end: date | None = None) -> RecordingSink:
    source = Source(name="focus", type="focus", path=str(path))
    sink = RecordingSink("focus")
    request = CollectRequest(source, Config(sources=[source]), sink, RequestCounter(), NOW, start, end, env={})
    focus.collect(request)
    return sink


def _by_key(items: list[UsageItem]) -> dict[tuple[str, str, str, str, str], Decimal]:
    found = {(u.day.isoformat(), u.metric, u.unit, u.ProviderName, u.ServiceName): u.quantity for u in items}
    assert len(found) == len(items)  # one item per day, metric, unit, provider and service
    return found


def test_the_sample_s_consumed_quantities_become_usage_per_day_unit_and_service() -> None:
    sink = _collect(FOCUS_SAMPLE)

    expected = focus_usage()
    assert _by_key(sink.used) == expected
    assert len(sink.used) == 393
    assert {u.x_tenant for u in sink.used} == {""} and {u.x_source for u in sink.used} == {"focus"}
    assert {u.ResourceId for u in sink.used} == {""}
    # Usage is derived from the rows already counted: the run still read 1,000 records.
    assert (sink.read, sink.rejected) == (1000, 0)
    sink.usage.flush()
    assert sink.usage.written == 393
    ec2 = ("2024-09-24", "hours", "Hours", "AWS", "Amazon Elastic Compute Cloud")
    assert _by_key(sink.used)[ec2] == expected[ec2] > 0


def test_only_usage_rows_with_a_quantity_count() -> None:
    sink = _collect(FOCUS_SAMPLE)

    # The sample's Oracle adjustments carry a rate ("Gigabyte Per Hour") as their quantity: not usage.
    assert not {u.unit for u in sink.used} & {"Gigabyte Per Hour", "OCPU Per Hour", "NULL", ""}
    # Azure's negative usage rows (corrections) net out of their day's quantity, as their cost does.
    azure = [u for u in sink.used if u.ProviderName == "Microsoft"]
    assert sum((u.quantity for u in azure), Decimal(0)) == sum(
        (q for k, q in focus_usage().items() if k[3] == "Microsoft"), Decimal(0)
    )


def test_a_window_keeps_usage_to_its_days() -> None:
    sink = _collect(FOCUS_SAMPLE, date(2024, 9, 10), date(2024, 9, 12))

    days = {"2024-09-10", "2024-09-11", "2024-09-12"}
    assert _by_key(sink.used) == {k: q for k, q in focus_usage().items() if k[0] in days}


def test_a_day_split_across_files_is_one_quantity(tmp_path: Path) -> None:
    lines = FOCUS_SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    (tmp_path / "a.csv").write_text(header + "".join(rows[:500]), encoding="utf-8")
    (tmp_path / "b.csv").write_text(header + "".join(rows[500:]), encoding="utf-8")

    sink = _collect(tmp_path)

    assert _by_key(sink.used) == focus_usage()


def test_re_collecting_writes_the_same_keys() -> None:
    first, second = _collect(FOCUS_SAMPLE), _collect(FOCUS_SAMPLE)

    assert [u.identity for u in first.used] == [u.identity for u in second.used]
    assert len({u.identity for u in first.used}) == len(first.used)


def _charge(**fields: object) -> CostItem:
    base: dict[str, object] = {
        "ProviderName": "Vercel",
        "ServiceName": "Edge Requests",
        "ChargePeriodStart": datetime(2025, 3, 10, tzinfo=UTC),
        "ChargePeriodEnd": datetime(2025, 3, 11, tzinfo=UTC),
        "BilledCost": Decimal("1"),
        "BillingCurrency": "USD",
        "ConsumedQuantity": Decimal("10"),
        "ConsumedUnit": "Requests",
        "x_source": "v",
        "x_collected_at": NOW,
    }
    return CostItem.model_validate({**base, **fields})


def test_the_tally_sums_per_tenant_and_skips_what_measures_nothing() -> None:
    tally = UsageTally("v", NOW)
    for charge in (
        _charge(),
        _charge(ConsumedQuantity=Decimal("2.5")),
        _charge(x_tenant="acme"),
        _charge(ChargeCategory="Credit"),
        _charge(ConsumedQuantity=None),
        _charge(ConsumedUnit="%"),
    ):
        tally.add(charge)

    items = tally.items()
    assert [(u.metric, u.unit, u.x_tenant, u.quantity) for u in items] == [
        ("requests", "Requests", "", Decimal("12.5")),
        ("requests", "Requests", "acme", Decimal("10")),
    ]
    sink = RecordingSink("v")
    assert tally.write(sink) == 2 and tally.items() == [] and sink.read == 0
    assert [u.identity for u in sink.used] == [u.identity for u in items]

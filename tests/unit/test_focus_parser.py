"""FOCUS rows into cost items: the real sample, nulls, tags, and every way a row can be broken."""

from __future__ import annotations

import csv
import gzip
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from spendwatch.domain.models import CostItem

from collect.sources.focus import FocusSourceError, Rejection, RowError, list_files, read_file, to_cost_item
from tests.conftest import FOCUS_SAMPLE

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def _rows() -> list[dict[str, str | None]]:
    with FOCUS_SAMPLE.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_sample_row_normalises_exactly() -> None:
    rows = _rows()
    items = [to_cost_item(row, "s", NOW) for row in rows]
    assert sum((i.BilledCost for i in items), Decimal(0)) == sum(
        (Decimal(r["BilledCost"] or "0") for r in rows), Decimal(0)
    )
    assert len({i.identity for i in items}) == len(items)
    assert {i.BillingCurrency for i in items} == {"USD"}


def test_nulls_tags_and_timestamps() -> None:
    rows = _rows()
    untagged = next(r for r in rows if r["Tags"] == "NULL")
    tagged = next(r for r in rows if r["Tags"] and r["Tags"].startswith('{"application"'))
    item = to_cost_item(untagged, "s", NOW)
    assert item.Tags == {} and item.ChargeClass == ""
    assert item.ChargePeriodStart.tzinfo is not None and item.ChargePeriodStart.utcoffset().total_seconds() == 0
    tags = to_cost_item(tagged, "s", NOW).Tags
    assert set(tags) == {"application", "environment", "business_unit"}
    oracle = next(r for r in rows if r["ProviderName"] == "Oracle")
    assert to_cost_item(oracle, "s", NOW).RegionId == ""


def test_same_row_same_identity_and_any_change_a_new_one() -> None:
    row = _rows()[0]
    first = to_cost_item(row, "s", NOW)
    later = to_cost_item(row, "s", datetime(2027, 1, 1, tzinfo=UTC))
    assert first.identity == later.identity
    restated = to_cost_item({**row, "BilledCost": "9.99"}, "s", NOW)
    assert restated.identity == first.identity  # a restated amount overwrites the same item
    assert to_cost_item({**row, "ResourceId": "other"}, "s", NOW).identity != first.identity
    assert to_cost_item(row, "other-source", NOW).identity != first.identity


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"BilledCost": "NULL"}, "BilledCost"),
        ({"BilledCost": "12,34.x"}, "not a number"),
        ({"BilledCost": "NaN"}, "not a number"),
        ({"ChargePeriodStart": "last tuesday"}, "not a timestamp"),
        ({"ChargePeriodEnd": "2024-09-01 00:00:00", "ChargePeriodStart": "2024-09-02 00:00:00"}, "before"),
        ({"BillingCurrency": "dollars"}, "BillingCurrency"),
        ({"Tags": "{not json"}, "Tags"),
        ({"Tags": "[1, 2]"}, "Tags"),
        ({"ProviderName": "NULL", "InvoiceIssuerName": "NULL"}, "ProviderName"),
    ],
)
def test_broken_rows_say_why(change: dict[str, str], fragment: str) -> None:
    with pytest.raises(RowError, match=fragment):
        to_cost_item({**_rows()[0], **change}, "s", NOW)


def test_read_file_keeps_good_rows_around_broken_lines(tmp_path: Path) -> None:
    lines = FOCUS_SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    short = '"only","three","fields"\n'
    too_long = lines[2].rstrip("\n") + ',"extra"\n'
    path = tmp_path / "x.csv.gz"
    path.write_bytes(gzip.compress("".join([lines[0], lines[1], short, too_long, lines[3]]).encode()))
    (tmp_path / "notes.txt").write_text("ignored")

    files = list_files(str(tmp_path))
    assert [f.name for f in files] == [str(path)]
    results = list(read_file(files[0], "s", NOW))
    assert [type(r) for r in results] == [CostItem, Rejection, Rejection, CostItem]
    assert "line 3" in str(results[1]) and "line 4" in str(results[2])


def test_window_filters_rows() -> None:
    files = list_files(str(FOCUS_SAMPLE))
    items = [
        r for r in read_file(files[0], "s", NOW, (date(2024, 9, 10), date(2024, 9, 10))) if isinstance(r, CostItem)
    ]
    assert items and all(i.day == date(2024, 9, 10) for i in items)


def test_not_a_focus_file_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("name,amount\nx,1\n")
    with pytest.raises(FocusSourceError, match="not a FOCUS CSV"):
        list(read_file(list_files(str(tmp_path))[0], "s", NOW))
    (tmp_path / "a.csv").unlink()
    (tmp_path / "b.csv.gz").write_bytes(b"not gzip at all")
    with pytest.raises(FocusSourceError, match="unreadable"):
        list(read_file(list_files(str(tmp_path))[0], "s", NOW))


def test_missing_path_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(FocusSourceError, match="no such file"):
        list_files(str(tmp_path / "absent"))


def test_bom_and_crlf_are_fine(tmp_path: Path) -> None:
    text = FOCUS_SAMPLE.read_text(encoding="utf-8").replace("\n", "\r\n")
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeff".encode() + text.encode())
    results = list(read_file(list_files(str(path))[0], "s", NOW))
    assert len(results) == 1000 and all(isinstance(r, CostItem) for r in results)

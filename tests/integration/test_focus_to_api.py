"""From a scheduled event to the API: the real FOCUS sample, collected on moto, served to the cent."""

from __future__ import annotations

import gzip
from decimal import Decimal
from typing import Any

import pytest
from spendwatch.domain.money import to_cents

from tests.conftest import FOCUS_SAMPLE, focus_sums, focus_usage
from tests.integration.conftest import BUCKET, LambdaContext, call_api, scheduled_event, write_config

SEPT = {"start": "2024-09-01", "end": "2024-09-30"}


def _collect(source: str = "focus") -> dict[str, Any]:
    from collect.handler import handler

    result: dict[str, Any] = handler(scheduled_event(source), LambdaContext())
    return result


@pytest.fixture
def s3_focus(aws_env: dict[str, Any]) -> dict[str, Any]:
    """The FOCUS sample uploaded (gzipped) under an S3 prefix and a config pointing at it."""
    aws_env["s3"].put_object(
        Bucket=BUCKET, Key="focus/2024-09/part-0.csv.gz", Body=gzip.compress(FOCUS_SAMPLE.read_bytes())
    )
    aws_env["s3"].put_object(Bucket=BUCKET, Key="focus/2024-09/manifest.json", Body=b"{}")
    write_config(
        aws_env,
        f'currency = "USD"\n[[sources]]\nname = "focus"\ntype = "focus"\npath = "s3://{BUCKET}/focus/"\n',
    )
    return aws_env


def _totals(group_by: str) -> dict[str, str]:
    status, body = call_api("/v1/costs", {**SEPT, "group_by": group_by})
    assert status == 200, body
    return {group["key"]: group["total"] for group in body["groups"]}


def _expected(column: str) -> dict[str, str]:
    return {key or "(none)": f"{to_cents(amount):f}" for key, amount in focus_sums(column).items()}


def test_collected_totals_equal_the_csv_to_the_cent(s3_focus: dict[str, Any]) -> None:
    run = _collect()

    assert run["status"] == "succeeded"
    # The 1,000 charges, then their consumed quantities summed per day, unit and service.
    assert (run["records_read"], run["records_written"], run["rejected"]) == (1000, 1000 + len(focus_usage()), 0)
    assert run["data_through"] == "2024-10-01T00:00:00Z"
    assert run["window"] == SEPT
    assert run["requests"] == 2  # one ListObjectsV2 page, one GetObject; the manifest is skipped
    assert _totals("provider") == _expected("ProviderName")
    assert _totals("service") == _expected("ServiceName")


def test_recollecting_changes_no_total(s3_focus: dict[str, Any]) -> None:
    _collect()
    before = {dim: _totals(dim) for dim in ("provider", "service", "account", "region", "tag:environment")}
    _collect()
    after = {dim: _totals(dim) for dim in before}

    assert after == before
    status, body = call_api("/v1/collections")
    assert status == 200
    assert [run["status"] for run in body["items"]] == ["succeeded", "succeeded"]
    assert body["items"][0]["started_at"] >= body["items"][1]["started_at"]


def test_day_and_month_granularity_agree(s3_focus: dict[str, Any]) -> None:
    _collect()
    status, daily = call_api("/v1/costs", {**SEPT, "granularity": "day"})
    assert status == 200
    status, monthly = call_api("/v1/costs", {**SEPT, "granularity": "month"})
    assert status == 200

    exact = sum(focus_sums("ProviderName").values(), Decimal(0))
    assert daily["total"] == monthly["total"] == f"{to_cents(exact):f}"
    assert len(daily["groups"][0]["points"]) == 30
    assert [p["period"] for p in monthly["groups"][0]["points"]] == ["2024-09"]
    # A range that cuts a month reads the edge from daily totals, not the whole month.
    status, edge = call_api("/v1/costs", {"start": "2024-09-10", "end": "2024-09-30", "granularity": "month"})
    assert status == 200
    assert Decimal(edge["total"]) < Decimal(monthly["total"])


def test_bad_rows_are_counted_and_good_rows_kept(aws_env: dict[str, Any]) -> None:
    lines = FOCUS_SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    broken = rows[5].replace(rows[5].split(",")[1], "not-a-number", 1)
    folder = aws_env["tmp"] / "exports"
    folder.mkdir()
    (folder / "a.csv").write_text(header + "".join(rows[:5]) + broken + "".join(rows[6:]), encoding="utf-8")
    write_config(aws_env, f'[[sources]]\nname = "local"\ntype = "focus"\npath = "{folder}"\n')

    run = _collect("local")

    assert run["status"] == "partial"
    good = aws_env["tmp"] / "good.csv"
    good.write_text(header + "".join(rows[:5]) + "".join(rows[6:]), encoding="utf-8")
    assert (run["records_read"], run["records_written"], run["rejected"]) == (1000, 999 + len(focus_usage(good)), 1)
    assert "line 7" in run["first_rejection"] and "BilledCost" in run["first_rejection"]
    expected = sum(focus_sums("ProviderName").values(), Decimal(0)) - Decimal(rows[5].split(",")[1])
    status, body = call_api("/v1/costs", SEPT)
    assert status == 200
    assert body["total"] == f"{to_cents(expected):f}"


def test_missing_bucket_fails_the_run_and_says_why(aws_env: dict[str, Any]) -> None:
    write_config(aws_env, '[[sources]]\nname = "gone"\ntype = "focus"\npath = "s3://no-such-bucket/focus/"\n')

    run = _collect("gone")

    assert run["status"] == "failed"
    assert "no-such-bucket" in run["error"]
    status, body = call_api("/v1/collections")
    assert status == 200
    assert body["items"][0]["status"] == "failed"


def test_identical_rows_are_both_counted_and_stay_idempotent(aws_env: dict[str, Any]) -> None:
    lines = FOCUS_SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    path = aws_env["tmp"] / "dupes.csv"
    path.write_text(lines[0] + lines[1] + lines[1] + lines[2], encoding="utf-8")
    write_config(aws_env, f'[[sources]]\nname = "dupes"\ntype = "focus"\npath = "{path}"\n')
    costs = [Decimal(line.split(",")[1]) for line in (lines[1], lines[1], lines[2])]
    expected = f"{to_cents(sum(costs, Decimal(0))):f}"
    query = {"start": "2024-09-01", "end": "2024-09-30"}

    assert _collect("dupes")["records_written"] == 3 + len(focus_usage(path))
    first = call_api("/v1/costs", query)[1]["total"]
    _collect("dupes")
    second = call_api("/v1/costs", query)[1]["total"]

    assert first == second == expected
    items = aws_env["dynamodb"].scan(TableName="spendwatch-test")["Items"]
    assert sum(1 for i in items if i["item_type"]["S"] == "cost") == 3
    assert sum(1 for i in items if i["item_type"]["S"] == "usage") == len(focus_usage(path))


def test_collection_runs_page_newest_first(s3_focus: dict[str, Any]) -> None:
    for _ in range(3):
        _collect()
    status, page1 = call_api("/v1/collections", {"limit": "2"})
    assert status == 200 and len(page1["items"]) == 2 and page1["next_token"]
    status, page2 = call_api("/v1/collections", {"limit": "2", "next_token": page1["next_token"]})
    assert status == 200 and len(page2["items"]) == 1 and page2["next_token"] is None
    started = [r["started_at"] for r in page1["items"] + page2["items"]]
    assert started == sorted(started, reverse=True)
    assert len({r["run_id"] for r in page1["items"] + page2["items"]}) == 3


def test_collected_usage_is_served_per_day_metric_and_service(s3_focus: dict[str, Any]) -> None:
    _collect()
    _collect()  # re-collecting overwrites: the quantities are not doubled

    status, body = call_api("/v1/usage", {**SEPT, "limit": 1000})

    assert status == 200, body
    assert body["next_token"] is None
    found: dict[tuple[str, str, str, str], Decimal] = {}
    for item in body["items"]:
        assert (item["tenant"], item["source"]) == ("", "focus")
        key = (item["day"], item["metric"], item["unit"], item["service"])
        found[key] = found.get(key, Decimal(0)) + Decimal(item["quantity"])
    expected: dict[tuple[str, str, str, str], Decimal] = {}
    for (day, metric, unit, _provider, service), quantity in focus_usage().items():
        expected[(day, metric, unit, service)] = expected.get((day, metric, unit, service), Decimal(0)) + quantity
    assert found == expected

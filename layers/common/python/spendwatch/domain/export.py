"""Charge-level export as CSV, in FOCUS column names or plain ones, a page at a time.

Charges live in one partition per source and day. The days that hold charges come from the daily
aggregates (one query per month); a filter skips days whose combinations show nothing matching. A page
stops at a row count, a byte budget (a Lambda response is at most 6 MB) or a time budget, and its token is
the key of the last charge read, so the next page starts exactly after it.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from spendwatch.domain.aggregates import cell_values, dimension_values, matches
from spendwatch.domain.history import check_range
from spendwatch.domain.models import CostItem
from spendwatch.domain.ports import Charges

ExportFormat = Literal["csv", "focus"]
MAX_BYTES = 4_000_000
# API Gateway gives up after 29 s; a page stops reading well before that and hands out its token.
MAX_SECONDS = 10.0

# The charge's own fields: FOCUS names, then spendwatch's ``x_`` extensions (FOCUS allows such columns).
FOCUS_COLUMNS = tuple(name for name in CostItem.model_fields if name != "x_occurrence")
# The plain format: one row per charge with the names /v1/costs uses for its dimensions.
CSV_COLUMNS = {
    "day": "day",
    "provider": "ProviderName",
    "service": "ServiceName",
    "account": "SubAccountId",
    "billing_account": "BillingAccountId",
    "region": "RegionId",
    "tenant": "x_tenant",
    "sku": "SkuId",
    "resource": "ResourceId",
    "category": "ChargeCategory",
    "description": "ChargeDescription",
    "quantity": "ConsumedQuantity",
    "unit": "ConsumedUnit",
    "amount": "BilledCost",
    "currency": "BillingCurrency",
    "estimated": "x_estimated",
    "source": "x_source",
    "tags": "Tags",
}


@dataclass
class Page:
    """One page of an export: the CSV text, how many charges it holds and where the next page starts."""

    body: str
    rows: int
    next_token: str | None


def columns(fmt: ExportFormat) -> list[str]:
    """The header of a format."""
    return list(FOCUS_COLUMNS) if fmt == "focus" else list(CSV_COLUMNS)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")  # the exact stored value, never exponent notation (8E-7)
    if isinstance(value, Mapping):
        return json.dumps(dict(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def row(record: Mapping[str, Any], fmt: ExportFormat) -> list[str]:
    """One stored charge as a CSV row of ``fmt`` (money exactly as stored, never rounded)."""
    if fmt == "focus":
        return [_cell(record.get(name)) for name in FOCUS_COLUMNS]
    return [_cell(record.get(field)) for field in CSV_COLUMNS.values()]


def partitions(store: Charges, start: date, end: date, where: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The charge partitions of [start, end] in order (day, then source), skipping days a filter rules out."""
    found = []
    for source, day, period_totals in store.day_totals(start, end, with_cells=bool(where)):
        if not period_totals.currencies:
            continue
        if where and not any(_may_match(totals.cells, where) for totals in period_totals.currencies.values()):
            continue
        found.append((day, source))
    return [(source, day) for day, source in sorted(found)]


def _may_match(cells: dict[str, Any] | None, where: Mapping[str, Any]) -> bool:
    return cells is None or any(matches(cell_values(key), where) for key in cells)


def export_page(
    store: Charges,
    start: date,
    end: date,
    fmt: ExportFormat,
    where: Mapping[str, Any],
    limit: int,
    next_token: str | None = None,
    seconds: float = MAX_SECONDS,
) -> Page:
    """Up to ``limit`` charges of [start, end] matching ``where``, as CSV with a header row.

    A page also ends after ``seconds`` (with its token), so a wide, sparse range never outlives the request.
    """
    deadline = time.monotonic() + seconds
    check_range(start, end)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns(fmt))
    rows = 0
    resume: Callable[[], str] | None = None
    for record, token in store.charges_in_order(partitions(store, start, end, where), next_token):
        if rows >= limit or out.tell() >= MAX_BYTES or (resume is not None and time.monotonic() > deadline):
            return Page(out.getvalue(), rows, resume() if resume else None)
        resume = token
        if where and not matches(dimension_values(record), where):
            continue
        writer.writerow(row(record, fmt))
        rows += 1
    return Page(out.getvalue(), rows, None)

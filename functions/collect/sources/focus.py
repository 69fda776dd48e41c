"""FOCUS exports (AWS, Azure, GCP, OCI, Vercel...) as CSV files in S3 or on disk, into cost items."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError
from spendwatch.domain.models import CostItem
from spendwatch.domain.money import MoneyError, parse_amount
from spendwatch.platform.aws import client

from collect.sources.base import CollectRequest, Coverage, SourceError
from collect.sources.usage import UsageTally

NULL = "NULL"
SUFFIXES = (".csv", ".csv.gz")
REQUIRED = ("BilledCost", "BillingCurrency", "ChargePeriodStart", "ChargePeriodEnd")
_TEXT_FIELDS = (
    "BillingAccountId",
    "SubAccountId",
    "ServiceName",
    "ServiceCategory",
    "RegionId",
    "ResourceId",
    "SkuId",
    "SkuPriceId",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "CommitmentDiscountId",
    "ConsumedUnit",
    "PricingUnit",
)


class FocusSourceError(SourceError):
    """The export cannot be listed or read (missing bucket, access denied, unreadable file)."""


class RowError(ValueError):
    """One row that cannot become a cost item; the run counts it and goes on."""


@dataclass(frozen=True)
class FocusFile:
    """One export file: where it is and how to open it."""

    name: str
    opener: Any

    def open_text(self) -> IO[str]:
        """The file as text, decompressing ``.gz`` on the fly."""
        raw: IO[bytes] = self.opener()
        if self.name.endswith(".gz"):
            raw = gzip.GzipFile(fileobj=raw)  # type: ignore[assignment]
        return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def list_files(path: str, s3: Any = None) -> list[FocusFile]:
    """Every FOCUS CSV under an ``s3://bucket/prefix`` or a local file or folder, in name order."""
    if path.startswith("s3://"):
        return _list_s3(path, s3)
    root = Path(path)
    if root.is_file():
        return [FocusFile(str(root), lambda: root.open("rb"))]
    if not root.is_dir():
        raise FocusSourceError(f"{path}: no such file or folder")
    return [
        FocusFile(str(p), lambda p=p: p.open("rb"))
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name.endswith(SUFFIXES)
    ]


def _list_s3(path: str, s3: Any) -> list[FocusFile]:
    bucket, _, prefix = path[len("s3://") :].partition("/")
    files = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if key.endswith(SUFFIXES):
                    files.append(FocusFile(f"s3://{bucket}/{key}", _s3_opener(s3, bucket, key)))
    except (ClientError, BotoCoreError) as exc:
        raise FocusSourceError(f"cannot list {path}: {exc}") from exc
    return sorted(files, key=lambda f: f.name)


def _s3_opener(s3: Any, bucket: str, key: str) -> Any:
    def open_object() -> IO[bytes]:
        try:
            body: IO[bytes] = s3.get_object(Bucket=bucket, Key=key)["Body"]
        except (ClientError, BotoCoreError) as exc:
            raise FocusSourceError(f"cannot read s3://{bucket}/{key}: {exc}") from exc
        return body

    return open_object


def _value(row: dict[str, str | None], name: str) -> str:
    raw = row.get(name)
    return "" if raw is None or raw == NULL else raw.strip()


def _timestamp(row: dict[str, str | None], name: str) -> datetime:
    text = _value(row, name)
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise RowError(f"{name} {text!r} is not a timestamp") from exc


def _money(row: dict[str, str | None], name: str, required: bool = False) -> Any:
    text = _value(row, name)
    if not text:
        if required:
            raise RowError(f"{name} is missing")
        return None
    try:
        return parse_amount(text)
    except MoneyError as exc:
        raise RowError(f"{name} {text!r} is not a number") from exc


def _tags(row: dict[str, str | None]) -> dict[str, str]:
    text = _value(row, "Tags")
    if not text:
        return {}
    try:
        tags = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RowError("Tags is not valid JSON") from exc
    if not isinstance(tags, dict):
        raise RowError("Tags is not a JSON object")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in tags.items()}


def to_cost_item(row: dict[str, str | None], source: str, collected_at: datetime) -> CostItem:
    """Normalise one FOCUS row; raises RowError saying what is wrong with it."""
    if None in row:
        raise RowError("row has more fields than the header")
    missing = [name for name in REQUIRED if not _value(row, name)]
    if missing:
        raise RowError(f"missing {', '.join(missing)}")
    provider = _value(row, "ProviderName") or _value(row, "ServiceProviderName") or _value(row, "InvoiceIssuerName")
    start, end = _timestamp(row, "ChargePeriodStart"), _timestamp(row, "ChargePeriodEnd")
    if end < start:
        raise RowError("ChargePeriodEnd is before ChargePeriodStart")
    fields: dict[str, Any] = {name: _value(row, name) for name in _TEXT_FIELDS}
    fields.update(
        ProviderName=provider,
        ChargePeriodStart=start,
        ChargePeriodEnd=end,
        BilledCost=_money(row, "BilledCost", required=True),
        BillingCurrency=_value(row, "BillingCurrency").upper(),
        Tags=_tags(row),
        x_source=source,
        x_collected_at=collected_at,
    )
    for name in ("EffectiveCost", "ListCost", "ConsumedQuantity"):
        amount = _money(row, name)
        if amount is not None:
            fields[name] = amount
    try:
        return CostItem(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise RowError(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from exc


@dataclass
class Rejection:
    """Where a rejected row was and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: {self.reason}"


def read_file(
    file: FocusFile, source: str, collected_at: datetime, window: tuple[date | None, date | None] = (None, None)
) -> Iterator[CostItem | Rejection]:
    """Cost items from one file, and a Rejection for each row that cannot be used."""
    first, last = window
    try:
        with file.open_text() as text:
            reader = csv.DictReader(text)
            if not reader.fieldnames or "BilledCost" not in reader.fieldnames:
                raise FocusSourceError(f"{file.name}: not a FOCUS CSV (no BilledCost column in the header)")
            while True:
                try:
                    row = next(reader)
                    item = to_cost_item(row, source, collected_at)
                except StopIteration:
                    return
                except (RowError, csv.Error) as exc:
                    # csv.Error covers one broken line (a NUL byte, an unclosed quote); the reader moves on.
                    yield Rejection(file.name, reader.line_num, str(exc))
                    continue
                if (first and item.day < first) or (last and item.day > last):
                    continue
                yield item
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise FocusSourceError(f"{file.name}: unreadable: {exc}") from exc


def collect(request: CollectRequest) -> Coverage:
    """Read every export file under the source's path; the days seen are the days covered.

    Consumed quantities are summed over all files and written as usage once every file is read, so a day
    split across files is one quantity and a failed run leaves the usage already stored as it was.
    """
    path = request.source.path
    if not path:
        raise FocusSourceError(f"source {request.source.name!r} has no path")
    s3 = client("s3") if path.startswith("s3://") else None
    usage = UsageTally(request.source.name, request.collected_at)
    with request.requests.counting(s3):
        for file in list_files(path, s3):
            for result in read_file(file, request.source.name, request.collected_at, (request.start, request.end)):
                if isinstance(result, Rejection):
                    request.sink.reject(f"{result.file} line {result.line}", result.reason)
                else:
                    request.sink.cost(result)
                    usage.add(result)
    usage.write(request.sink)
    days = sorted(request.sink.costs.days)
    if not days:
        return Coverage(request.start, request.end)
    return Coverage(date.fromisoformat(days[0]), date.fromisoformat(days[-1]))

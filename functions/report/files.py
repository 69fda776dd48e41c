"""A report's files in the data bucket (``reports/<kind>/<start>.html`` and ``.csv``) and presigned links to them.

The CSV has a header row and one row per (day, provider, service) with its exact amount (no total row), so its
amounts add up to the report's total. Links are S3 presigned GETs valid for a week (SigV4's longest); signed
with a Lambda role's temporary credentials, a link stops working when those credentials expire, if sooner.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from spendwatch.domain.reports import Report
from spendwatch.platform.resources import REPORT_LINK_SECONDS, REPORTS_PREFIX

from report.build import CsvRow

CSV_COLUMNS = ("day", "provider", "service", "amount", "currency")
CONTENT_TYPES = {"html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8"}


def csv_text(rows: Sequence[CsvRow], currency: str) -> str:
    """The CSV document: header, then one row per (day, provider, service), amounts exact (never rounded)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for day, provider, service, amount in rows:
        writer.writerow((day.isoformat(), provider, service, f"{amount:f}", currency))
    return out.getvalue()


def object_key(report: Report, extension: str) -> str:
    """Where a report's file goes in the bucket."""
    return f"{REPORTS_PREFIX}{report.kind}/{report.start.isoformat()}.{extension}"


def publish(s3: Any, bucket: str, report: Report, files: dict[str, str], now: datetime) -> Report:
    """Upload the files (``{"html": ..., "csv": ...}``) and return the report with their URIs and links."""
    artifacts: dict[str, str] = {}
    links: dict[str, str] = {}
    for extension, body in files.items():
        key = object_key(report, extension)
        disposition = f'{"inline" if extension == "html" else "attachment"}; filename="{report.id}.{extension}"'
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=body.encode("utf-8"),
            ContentType=CONTENT_TYPES[extension],
            ContentDisposition=disposition,
        )
        artifacts[extension] = f"s3://{bucket}/{key}"
        links[extension] = s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=REPORT_LINK_SECONDS
        )
    expires = now + timedelta(seconds=REPORT_LINK_SECONDS)
    return report.model_copy(update={"artifacts": artifacts, "links": links, "links_expire_at": expires})

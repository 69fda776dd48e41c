"""The demo dataset: a public FOCUS sample shipped with the package and uploaded to the local bucket."""

from __future__ import annotations

from importlib import resources as package_files
from typing import Any

from spendwatch_local.localconfig import DEMO_PREFIX

DEMO_FILE = "focus_sample.csv"


def demo_csv() -> bytes:
    """The FOCUS 1.0 sample (1,000 rows; see demo/README.md for its origin and licence)."""
    return package_files.files("spendwatch_local").joinpath("demo", DEMO_FILE).read_bytes()


def upload_demo(s3: Any, bucket: str) -> str:
    """Put the sample under ``demo/focus/`` in the bucket and return its key."""
    key = f"{DEMO_PREFIX}{DEMO_FILE}"
    s3.put_object(Bucket=bucket, Key=key, Body=demo_csv(), ContentType="text/csv")
    return key

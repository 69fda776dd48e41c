"""Usage pushed through the API: validated, stored once per idempotency key, read back as daily sums."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from spendwatch.platform import clock

from tests.integration.conftest import call_api, write_config

pytestmark = pytest.mark.calendar

TODAY = clock.utc_now().date()
YESTERDAY = (TODAY - timedelta(days=1)).isoformat()


@pytest.fixture
def api(aws_env: dict[str, Any]) -> dict[str, Any]:
    write_config(aws_env, 'currency = "USD"\n')
    return aws_env


def _batch(key: str, *records: dict[str, Any]) -> dict[str, Any]:
    return {"idempotency_key": key, "records": list(records)}


def _record(quantity: str, metric: str = "emails_sent", tenant: str = "acme", day: str = YESTERDAY) -> dict[str, Any]:
    return {"metric": metric, "quantity": quantity, "unit": "emails", "day": day, "tenant": tenant, "service": "mail"}


def _usage(**query: str) -> list[dict[str, Any]]:
    status, body = call_api("/v1/usage", query)
    assert status == 200, body
    return list(body["items"])


def test_pushes_add_up_and_retries_do_not(api: dict[str, Any]) -> None:
    first = _batch("batch-0001", _record("100"), _record("2.5", metric="storage_gb"))
    assert call_api("/v1/usage", method="POST", body=first) == (200, {"accepted": 2, "replayed": False})
    assert call_api("/v1/usage", method="POST", body=first) == (200, {"accepted": 2, "replayed": True})
    status, _ = call_api("/v1/usage", method="POST", body=_batch("batch-0002", _record("50")))
    assert status == 200

    rows = {(r["metric"], r["tenant"]): r for r in _usage()}
    assert rows[("emails_sent", "acme")]["quantity"] == "150"
    assert rows[("storage_gb", "acme")]["quantity"] == "2.5"
    assert rows[("emails_sent", "acme")]["day"] == YESTERDAY and rows[("emails_sent", "acme")]["source"] == "api"
    assert [r["metric"] for r in _usage(metric="storage_gb")] == ["storage_gb"]
    assert _usage(tenant="nobody") == []


def test_same_key_different_records_is_a_conflict(api: dict[str, Any]) -> None:
    call_api("/v1/usage", method="POST", body=_batch("batch-0003", _record("1")))
    status, body = call_api("/v1/usage", method="POST", body=_batch("batch-0003", _record("2")))
    assert status == 409 and body["error"]["code"] == "conflict"
    assert _usage()[0]["quantity"] == "1"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"records": [_record("1")]}, "idempotency_key"),
        (_batch("batch-0004"), "records"),
        (_batch("batch-0005", _record("-1")), "quantity"),
        (_batch("batch-0006", _record("lots")), "quantity"),
        (_batch("batch-0016", _record("1" + "0" * 15)), "quantity"),
        (_batch("batch-0007", _record("1", day=(TODAY + timedelta(days=5)).isoformat())), "future"),
        (_batch("batch-0008", _record("1", metric="has spaces")), "metric"),
        (_batch("batch-0009", {**_record("1"), "colour": "red"}), "colour"),
        ("{not json", "body"),
    ],
)
def test_bad_batches_get_422(api: dict[str, Any], body: Any, fragment: str) -> None:
    status, answer = call_api("/v1/usage", method="POST", body=body)
    assert status == 422, answer
    assert answer["error"]["code"] == "invalid_body"
    assert fragment in answer["error"]["message"]
    assert _usage() == []


def test_usage_pages_with_next_token(api: dict[str, Any]) -> None:
    records = [_record("1", tenant=f"t{n:02d}") for n in range(5)]
    call_api("/v1/usage", method="POST", body=_batch("batch-0010", *records))
    status, page1 = call_api("/v1/usage", {"limit": "3"})
    assert status == 200 and len(page1["items"]) == 3 and page1["next_token"]
    status, page2 = call_api("/v1/usage", {"limit": "3", "next_token": page1["next_token"]})
    assert status == 200 and len(page2["items"]) == 2 and page2["next_token"] is None
    assert len({r["tenant"] for r in page1["items"] + page2["items"]}) == 5
    status, body = call_api("/v1/usage", {"limit": "3", "metric": "x", "next_token": page1["next_token"]})
    assert status == 400 and "different query" in body["error"]["message"]


def test_usage_range_is_bounded(api: dict[str, Any]) -> None:
    status, body = call_api("/v1/usage", {"start": "2024-01-01", "end": "2025-06-01"})
    assert status == 400 and "366" in body["error"]["message"]

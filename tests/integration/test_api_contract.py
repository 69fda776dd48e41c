"""The API's contract for bad input and authentication: the right status and error body, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.conftest import call_api, write_config


@pytest.fixture
def api(aws_env: dict[str, Any]) -> dict[str, Any]:
    write_config(aws_env, 'currency = "USD"\n')
    return aws_env


def _assert_error(status: int, body: Any, expected_status: int, code: str) -> None:
    assert status == expected_status, body
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"start": "2024-13-01", "end": "2024-12-31"}, "start"),
        ({"start": "yesterday"}, "start"),
        ({"start": "2024-09-01", "end": "2024-09-31"}, "end"),
        ({"start": "2024-09-30", "end": "2024-09-01"}, "before"),
        ({"start": "2020-01-01", "end": "2023-01-01"}, "3 years"),
        ({"start": "2024-09-01", "end": "2024-09-30", "group_by": "colour"}, "group_by"),
        ({"start": "2024-09-01", "end": "2024-09-30", "group_by": "tag:"}, "group_by"),
        ({"start": "2024-09-01", "end": "2024-09-30", "granularity": "hour"}, "granularity"),
    ],
)
def test_bad_cost_queries_get_400(api: dict[str, Any], query: dict[str, str], fragment: str) -> None:
    status, body = call_api("/v1/costs", query)
    _assert_error(status, body, 400, "invalid_parameter")
    assert fragment in body["error"]["message"]


def test_three_years_minus_a_day_is_allowed(api: dict[str, Any]) -> None:
    status, body = call_api("/v1/costs", {"start": "2020-01-01", "end": "2022-12-31", "granularity": "month"})
    assert status == 200, body
    assert body["total"] == "0.00" and body["groups"] == []


@pytest.mark.parametrize("path", ["/v1/costs", "/v1/collections", "/v1/openapi.json", "/v1/nowhere"])
@pytest.mark.parametrize(("token", "message"), [(None, "missing"), ("wrong-token", "invalid")])
def test_every_v1_route_needs_the_token(api: dict[str, Any], path: str, token: str | None, message: str) -> None:
    status, body = call_api(path, token=token)
    _assert_error(status, body, 401, "unauthorized")
    assert message in body["error"]["message"]


def test_health_needs_no_token(api: dict[str, Any]) -> None:
    assert call_api("/health", token=None) == (200, {"status": "ok"})


def test_unknown_route_is_404(api: dict[str, Any]) -> None:
    status, body = call_api("/v1/nowhere")
    _assert_error(status, body, 404, "not_found")


def test_forged_next_token_is_400(api: dict[str, Any]) -> None:
    status, body = call_api("/v1/collections", {"next_token": "bm90LWEtdG9rZW4="})
    _assert_error(status, body, 400, "invalid_parameter")
    status, body = call_api("/v1/collections", {"limit": "0"})
    _assert_error(status, body, 400, "invalid_parameter")


def test_openapi_document_describes_the_routes(api: dict[str, Any]) -> None:
    status, body = call_api("/v1/openapi.json")
    assert status == 200
    assert body["openapi"].startswith("3.1")
    assert {"/health", "/v1/costs", "/v1/collections"} <= set(body["paths"])
    params = {p["name"] for p in body["paths"]["/v1/costs"]["get"]["parameters"]}
    assert params == {
        "start",
        "end",
        "granularity",
        "group_by",
        "provider",
        "service",
        "account",
        "region",
        "tenant",
        "tag",
    }
    json.dumps(body)  # the document is plain JSON


@pytest.mark.parametrize("path", ["/v1/costs", "/v1/export", "/v1/usage"])
@pytest.mark.parametrize("value", ["0", "1733011200", "20240901", "2024-9-1", "2024-09-01T00:00:00"])
def test_a_day_is_only_yyyy_mm_dd(api: dict[str, Any], path: str, value: str) -> None:
    status, body = call_api(path, {"end": value})
    _assert_error(status, body, 400, "invalid_parameter")
    assert "end" in body["error"]["message"]


def test_a_usage_day_is_only_yyyy_mm_dd(api: dict[str, Any]) -> None:
    record = {"metric": "m", "quantity": "1", "unit": "GB", "day": 0}
    status, body = call_api("/v1/usage", method="POST", body={"idempotency_key": "k-1", "records": [record]})
    _assert_error(status, body, 422, "invalid_body")
    assert "day" in body["error"]["message"]


def test_dates_are_documented_as_dates(api: dict[str, Any]) -> None:
    _, document = call_api("/v1/openapi.json")
    (end,) = [p for p in document["paths"]["/v1/costs"]["get"]["parameters"] if p["name"] == "end"]
    assert {"type": "string", "format": "date"} in end["schema"].get("anyOf", [end["schema"]])

"""Conditional GETs on the real handler: ETag on every successful GET, 304 when the client's copy is current."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import LambdaContext, api_event, store, write_config


@pytest.fixture(autouse=True)
def config(aws_env: dict[str, Any]) -> None:
    """A config with no sources: every answer is computed from an empty table."""
    write_config(aws_env, 'currency = "USD"\n')


def _get(path: str, query: dict[str, str] | None = None, if_none_match: str | None = None) -> dict[str, Any]:
    from api.handler import handler

    event = api_event(path, query)
    if if_none_match is not None:
        event["headers"]["If-None-Match"] = if_none_match
        event["multiValueHeaders"]["If-None-Match"] = [if_none_match]
    response: dict[str, Any] = handler(event, LambdaContext())
    return response


def _header(response: dict[str, Any], name: str) -> str | None:
    values = response.get("multiValueHeaders", {}).get(name) or [response.get("headers", {}).get(name)]
    return values[0]


QUERY = {"start": "2026-01-01", "end": "2026-01-31", "group_by": "service"}


def test_a_repeated_get_with_the_etag_is_a_bodiless_304(aws_env: dict[str, Any]) -> None:
    first = _get("/v1/costs", QUERY)
    tag = _header(first, "ETag")

    again = _get("/v1/costs", QUERY, if_none_match=str(tag))

    assert first["statusCode"] == 200
    assert tag is not None and tag.startswith('"')
    assert _header(first, "Cache-Control") == "private, max-age=60"
    assert "Authorization" in str(_header(first, "Vary"))
    assert again["statusCode"] == 304
    assert again["body"] == ""
    assert _header(again, "ETag") == tag


@pytest.mark.parametrize("presented", ['"stale"', 'W/"stale", "older"'])
def test_a_stale_etag_gets_the_full_answer(aws_env: dict[str, Any], presented: str) -> None:
    response = _get("/v1/costs", QUERY, if_none_match=presented)

    assert response["statusCode"] == 200
    assert response["body"]


def test_the_etag_changes_when_the_data_does(aws_env: dict[str, Any]) -> None:
    from spendwatch.domain.reports import Report

    before = _header(_get("/v1/reports"), "ETag")
    store().put_report(
        Report.model_validate(
            {
                "kind": "daily",
                "start": "2026-01-05",
                "end": "2026-01-05",
                "generated_at": "2026-01-06T06:00:00Z",
                "currency": "USD",
                "total": "1",
            }
        )
    )

    after = _get("/v1/reports", if_none_match=str(before))

    assert after["statusCode"] == 200
    assert _header(after, "ETag") != before


def test_errors_and_writes_carry_no_validator(aws_env: dict[str, Any]) -> None:
    bad = _get("/v1/costs", {"start": "2026-02-01", "end": "2026-01-01"})

    assert bad["statusCode"] == 400
    assert _header(bad, "ETag") is None


def test_metrics_and_health_are_revalidated_every_time(aws_env: dict[str, Any]) -> None:
    assert _header(_get("/health"), "Cache-Control") == "private, no-cache"
    assert _header(_get("/v1/openapi.json"), "Cache-Control") == "private, max-age=300"

"""Retries honour Retry-After, back off on 5xx and connection errors, and give up with a clear error."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from spendwatch.platform.http import HttpError, request, retry_after_seconds


def _client(answers: list[httpx.Response | Exception]) -> tuple[httpx.Client, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.Client(transport=httpx.MockTransport(handle), base_url="http://provider.test"), seen


def test_429_waits_what_retry_after_says_then_succeeds() -> None:
    client, seen = _client([httpx.Response(429, headers={"retry-after": "7"}), httpx.Response(200, text="ok")])
    waits: list[float] = []
    attempts: list[int] = []
    response = request(client, "GET", "/x", sleep=waits.append, on_attempt=lambda: attempts.append(1))
    assert response.text == "ok"
    assert waits == [7.0]
    assert len(seen) == len(attempts) == 2


def test_5xx_and_connection_errors_are_retried_4xx_is_not() -> None:
    client, seen = _client(
        [httpx.Response(503), httpx.ConnectError("refused"), httpx.Response(500), httpx.Response(404, text="nope")]
    )
    waits: list[float] = []
    response = request(client, "GET", "/x", sleep=waits.append)
    assert response.status_code == 404
    assert len(seen) == 4 and len(waits) == 3 and all(w >= 0 for w in waits)


def test_gives_up_after_max_attempts_without_leaking_the_url() -> None:
    client, _ = _client([httpx.Response(502)] * 3)
    with pytest.raises(HttpError) as err:
        request(client, "GET", "/x?token=secret", sleep=lambda _s: None, max_attempts=3, what="billing insights")
    assert err.value.status == 502
    assert str(err.value) == "billing insights: HTTP 502 after 3 attempts"
    assert "secret" not in str(err.value)


def test_retry_after_longer_than_allowed_fails_fast() -> None:
    client, seen = _client([httpx.Response(429, headers={"retry-after": "3600"})])
    with pytest.raises(HttpError, match="retry after 3600s"):
        request(client, "GET", "/x", sleep=lambda _s: None, max_wait=60)
    assert len(seen) == 1


def test_retry_after_http_date() -> None:
    now = datetime(2026, 11, 24, 8, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("Tue, 24 Nov 2026 08:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Tue, 24 Nov 2026 07:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None

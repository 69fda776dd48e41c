"""HTTP calls to providers and webhooks: timeouts, bounded retries with backoff, Retry-After honoured."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
MAX_ATTEMPTS = 5
MAX_WAIT_SECONDS = 60.0


class HttpError(RuntimeError):
    """A request that failed for good; ``status`` is None when no response arrived."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    # The server's clock wrote the date: compare it with the system clock, not a SPENDWATCH_NOW-shifted one.
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff(attempt: int, base: float = 0.5, cap: float = 20.0) -> float:
    """Full-jitter exponential backoff for attempt 0, 1, 2..."""
    return random.uniform(0, min(cap, base * 2**attempt))  # noqa: S311 - jitter, not security


def request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    json: Any = None,
    content: bytes | None = None,
    on_attempt: Callable[[], None] = lambda: None,
    sleep: Callable[[float], None] = time.sleep,
    max_attempts: int = MAX_ATTEMPTS,
    max_wait: float = MAX_WAIT_SECONDS,
    what: str = "request",
) -> httpx.Response:
    """Send a request, retrying connection errors, 429 and 5xx; any other status is returned to the caller.

    ``what`` names the call in errors (never the URL's query or headers, which may carry secrets).
    """
    last: str = "no attempt made"
    status: int | None = None
    for attempt in range(max_attempts):
        on_attempt()
        try:
            response = client.request(method, url, params=params, headers=headers, json=json, content=content)
        except httpx.TransportError as exc:
            last, status = f"{type(exc).__name__}", None
            wait = backoff(attempt)
        else:
            if response.status_code not in RETRY_STATUSES:
                return response
            last, status = f"HTTP {response.status_code}", response.status_code
            hinted = retry_after_seconds(response.headers.get("retry-after"))
            wait = backoff(attempt) if hinted is None else hinted
            if wait > max_wait:
                raise HttpError(f"{what}: {last}, asked to retry after {wait:.0f}s (more than {max_wait:.0f}s)", status)
        if attempt + 1 < max_attempts:
            sleep(wait)
    raise HttpError(f"{what}: {last} after {max_attempts} attempts", status)

"""The pydo client for one DigitalOcean run: bearer auth, bounded retries, rate-limit pacing, every attempt counted."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import RetryPolicy, SansIOHTTPPolicy
from spendwatch.platform.observability import logger

DEFAULT_API_URL = "https://api.digitalocean.com"
# The collect Lambda has 5 minutes; these keep one run's worst case (retries, pauses) inside that.
RETRY_TOTAL = 4
RETRY_BACKOFF_FACTOR = 0.8
RETRY_BACKOFF_MAX = 20
CONNECTION_TIMEOUT = 5
READ_TIMEOUT = 30
OPERATION_TIMEOUT = 120
MAX_RETRY_AFTER = 60.0
PAUSE_BUDGET = 150.0
# DigitalOcean allows 5,000 requests an hour per token; below this many left, wait for the oldest to expire.
LOW_WATER = 10
MAX_PACING_PAUSE = 20.0
# DigitalOcean also allows 250 requests a minute (a burst limit). A bucket of BURST tokens refilled at
# RATE_PER_MINUTE lets at most BURST + RATE_PER_MINUTE requests into any minute: 245, under the limit.
RATE_PER_MINUTE = 215
BURST = 30
_LOOPBACK_NAMES = frozenset({"localhost"})


class TransportSetupError(ValueError):
    """The API URL cannot be used (not http(s), or plain http to a host that is not this machine)."""


class PauseBudgetError(RuntimeError):
    """Rate limits asked this run to wait longer in total than it can afford."""


@dataclass
class Pauser:
    """Sleeps on behalf of the retry and pacing policies, within one budget for the whole run."""

    sleep: Callable[[float], None] = time.sleep
    budget: float = PAUSE_BUDGET
    spent: float = 0.0

    def __call__(self, seconds: float) -> None:
        """Wait ``seconds``, or raise PauseBudgetError if the run's waiting budget would be exceeded."""
        if seconds <= 0:
            return
        if self.spent + seconds > self.budget:
            raise PauseBudgetError(
                f"rate limited: would wait {seconds:.0f}s more after {self.spent:.0f}s (budget {self.budget:.0f}s)"
            )
        self.spent += seconds
        self.sleep(seconds)


@dataclass
class TokenBucket:
    """Paces requests under the per-minute limit: each takes a token; an empty bucket waits for the next one.

    Time is ``max(clock(), when the last wait ended)``, so a clock that does not move while ``sleep`` is
    recorded rather than slept (tests) still paces as real time would. Its waits are planned, not rate-limit
    answers, so they do not draw on the run's pause budget.
    """

    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rate_per_minute: float = RATE_PER_MINUTE
    burst: int = BURST
    waited: float = 0.0
    _tokens: float | None = None
    _last: float = 0.0

    def take(self) -> float:
        """Take one token, waiting for it if the bucket is empty; returns the seconds waited."""
        now = self.clock()
        rate = self.rate_per_minute / 60.0
        if self._tokens is None:
            self._tokens, self._last = float(self.burst), now
        now = max(now, self._last)
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        wait = (1.0 - self._tokens) / rate
        self.sleep(wait)
        self.waited += wait
        self._tokens, self._last = 0.0, now + wait
        return wait


def check_api_url(url: str) -> str:
    """The base URL without a trailing slash; plain http only to this machine (the token must not travel in clear)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TransportSetupError(f"DigitalOcean API URL {url!r} is not an http(s) URL")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise TransportSetupError(
            f"DigitalOcean API URL {parts.scheme}://{parts.hostname}: plain http is only allowed to this machine"
        )
    return url.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BearerPolicy(SansIOHTTPPolicy[Any, Any]):
    """Adds the token; replaces azure-core's credential policy, which refuses http even to a local fake."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def on_request(self, request: PipelineRequest[Any]) -> None:
        """Authorise one attempt."""
        request.http_request.headers["Authorization"] = self._header


def _header_int(headers: Any, name: str) -> int | None:
    raw = headers.get(name)
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


class MeterPolicy(SansIOHTTPPolicy[Any, Any]):
    """Runs once per attempt (it sits after the retry policy): counts it and paces by the rate-limit headers."""

    def __init__(
        self,
        on_attempt: Callable[[], None],
        pause: Callable[[float], None],
        clock: Callable[[], float],
        bucket: TokenBucket | None = None,
    ) -> None:
        self._on_attempt = on_attempt
        self._pause = pause
        self._clock = clock
        self._bucket = bucket or TokenBucket(pause, clock)
        self.remaining: int | None = None
        self.reset: int | None = None

    def pacing(self) -> float:
        """Seconds to wait before the next request: none until the hourly allowance runs low."""
        if self.remaining is None or self.remaining > LOW_WATER:
            return 0.0
        if self.reset is None:
            return 1.0
        # The window slides: at ``reset`` the oldest request expires and frees a slot.
        return min(max(self.reset - self._clock(), 0.0), MAX_PACING_PAUSE)

    def on_request(self, request: PipelineRequest[Any]) -> None:
        """Count the attempt, keep under the per-minute limit, then slow down if the hourly allowance runs low."""
        self._on_attempt()
        self._bucket.take()
        wait = self.pacing()
        if wait > 0:
            logger.info("digitalocean_rate_limit_pacing", extra={"remaining": self.remaining, "wait_seconds": wait})
            self._pause(wait)

    def on_response(self, request: PipelineRequest[Any], response: PipelineResponse[Any, Any]) -> None:
        """Remember the allowance the API reports (header names compared case-insensitively)."""
        headers = response.http_response.headers
        if response.http_response.status_code == 429 and headers.get("retry-after"):
            # The retry policy waits what Retry-After says; pacing on top of it would wait twice.
            self.remaining = None
            return
        self.remaining = _header_int(headers, "ratelimit-remaining")
        self.reset = _header_int(headers, "ratelimit-reset")


class PacedRetryPolicy(RetryPolicy[Any, Any]):
    """azure-core's retries (429, 408, 5xx, connection errors; Retry-After honoured) with a ceiling on waits."""

    def __init__(self, pause: Callable[[float], None], max_retry_after: float = MAX_RETRY_AFTER, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pause_for = pause
        self._max_retry_after = max_retry_after

    def is_retry(self, settings: dict[str, Any], response: PipelineResponse[Any, Any]) -> bool:
        """Retry as azure-core would, unless the server asks for a wait this run cannot afford."""
        wait = self.get_retry_after(response)
        if wait is not None and wait > self._max_retry_after:
            return False
        return bool(super().is_retry(settings, response))

    def sleep(
        self, settings: dict[str, Any], transport: Any, response: PipelineResponse[Any, Any] | None = None
    ) -> None:
        """Wait Retry-After if given, else the exponential backoff, through the run's pauser."""
        wait = self.get_retry_after(response) if response is not None else None
        self._pause_for(wait if wait else self.get_backoff_time(settings))


@dataclass
class Transport:
    """What one run's client is made of; tests read ``meter`` and ``pauser``."""

    client: Any
    meter: MeterPolicy
    pauser: Pauser
    bucket: TokenBucket


def build_client(
    base_url: str,
    token: str,
    on_attempt: Callable[[], None],
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> Transport:
    """A ``pydo.Client`` for ``base_url`` whose every attempt (retries included) calls ``on_attempt``."""
    import pydo  # ~265 ms: loaded only by DigitalOcean runs

    url = check_api_url(base_url)
    pauser = Pauser(sleep)
    bucket = TokenBucket(sleep, clock)
    meter = MeterPolicy(on_attempt, pauser, clock, bucket)
    client = pydo.Client(
        token,
        endpoint=url,
        timeout=OPERATION_TIMEOUT,
        authentication_policy=BearerPolicy(token),
        custom_hook_policy=meter,
        retry_policy=PacedRetryPolicy(
            pauser,
            retry_total=RETRY_TOTAL,
            retry_status=RETRY_TOTAL,
            retry_backoff_factor=RETRY_BACKOFF_FACTOR,
            retry_backoff_max=RETRY_BACKOFF_MAX,
            timeout=OPERATION_TIMEOUT,
        ),
        connection_timeout=CONNECTION_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        # The API never redirects; following one could carry the token to another host.
        permit_redirects=False,
    )
    return Transport(client, meter, pauser, bucket)

"""The pydo client's plumbing: where the token may go, how long a run may wait, how pages are followed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from collect.sources.digitalocean.api import DigitalOceanError, next_page
from collect.sources.digitalocean.transport import (
    LOW_WATER,
    MAX_PACING_PAUSE,
    BearerPolicy,
    MeterPolicy,
    PauseBudgetError,
    Pauser,
    TransportSetupError,
    check_api_url,
)
from tests.fakes.digitalocean import FakeDigitalOcean, fixture


@pytest.mark.parametrize(
    "url",
    [
        "https://api.digitalocean.com/",
        "https://do.internal.example",
        "http://127.0.0.1:8080",
        "http://localhost:1",
        "http://[::1]:9",
    ],
)
def test_https_anywhere_and_plain_http_to_this_machine_are_allowed(url: str) -> None:
    assert check_api_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.5:8080", "plain http is only allowed to this machine"),
        ("http://api.digitalocean.com", "plain http is only allowed to this machine"),
        ("ftp://127.0.0.1", "is not an http"),
        ("api.digitalocean.com", "is not an http"),
    ],
)
def test_other_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(TransportSetupError, match=reason):
        check_api_url(url)


def test_the_pauser_keeps_one_budget_for_the_whole_run() -> None:
    slept: list[float] = []
    pauser = Pauser(slept.append, budget=10)
    pauser(4)
    pauser(0)
    pauser(6)
    with pytest.raises(PauseBudgetError, match="would wait 1s more after 10s"):
        pauser(1)
    assert slept == [4, 6]


def _meter(remaining: int | None, reset: int | None, now: float = 100.0) -> MeterPolicy:
    meter = MeterPolicy(lambda: None, lambda _s: None, lambda: now)
    meter.remaining, meter.reset = remaining, reset
    return meter


@pytest.mark.parametrize(
    ("remaining", "reset", "wait"),
    [
        (None, None, 0.0),
        (LOW_WATER + 1, 200, 0.0),
        (LOW_WATER, 103, 3.0),
        (0, 50, 0.0),
        (0, None, 1.0),
        (0, 10_000, MAX_PACING_PAUSE),
    ],
)
def test_pacing_waits_for_the_oldest_request_only_when_nearly_out(
    remaining: int | None, reset: int | None, wait: float
) -> None:
    assert _meter(remaining, reset).pacing() == wait


@pytest.mark.parametrize(
    "body",
    [{}, {"links": {}}, {"links": {"pages": {}}}, {"links": {"pages": {"prev": "https://x/v2/droplets?page=1"}}}],
)
def test_no_next_link_is_the_last_page(body: dict[str, Any]) -> None:
    assert next_page(body, 2) is None


def test_next_links_move_forward_or_fail() -> None:
    assert next_page(fixture("invoices_list.json"), 1) == 2
    with pytest.raises(DigitalOceanError, match="does not point past page 2"):
        next_page({"links": {"pages": {"next": "https://x/v2/droplets?page=2&per_page=1"}}}, 2)
    with pytest.raises(DigitalOceanError, match="does not point past page 1"):
        next_page({"links": {"pages": {"next": "https://x/v2/droplets?per_page=1"}}}, 1)


@pytest.fixture
def fake() -> Iterator[FakeDigitalOcean]:
    """The fixture data served on a free local port."""
    with FakeDigitalOcean.from_fixtures() as served:
        yield served


def test_azure_cores_own_retry_policy_honours_retry_after(
    fake: FakeDigitalOcean, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the collector's policy builds on: the stock RetryPolicy that pydo uses by default.
    import pydo
    from azure.core.pipeline.transport import RequestsTransport

    slept: list[float] = []
    monkeypatch.setattr(RequestsTransport, "sleep", lambda _self, seconds: slept.append(seconds))
    fake.fail("/v2/customers/my/balance", 429, fixture("error_too_many_requests_429.json"), {"retry-after": "3"})
    client = pydo.Client(fake.token, endpoint=fake.url, authentication_policy=BearerPolicy(fake.token))

    assert client.balance.get()["month_to_date_usage"] == "11.21"
    assert slept == [3.0]
    assert len(fake.seen("/v2/customers/my/balance")) == 2

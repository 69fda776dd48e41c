"""One HTTP POST of a channel (Slack, PagerDuty, a webhook) with retries, as a delivery state."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from spendwatch.domain.alerts import Delivery

if TYPE_CHECKING:
    import httpx


def post_for_delivery(
    client: httpx.Client,
    url: str,
    refusal: Callable[[httpx.Response], str | None],
    *,
    what: str,
    pause: Callable[[float], None],
    max_attempts: int,
    max_wait: float,
    **request: Any,
) -> Delivery:
    """POST through ``spendwatch.platform.http`` (429 and 5xx retried with backoff), counting the attempts.

    ``refusal`` says why an answer is not a success (None: delivered); ``what`` names the endpoint in errors,
    never its URL (a webhook URL may carry a token).
    """
    from spendwatch.platform.http import HttpError
    from spendwatch.platform.http import request as http_request

    attempts = 0

    def count() -> None:
        nonlocal attempts
        attempts += 1

    try:
        response = http_request(
            client,
            "POST",
            url,
            on_attempt=count,
            sleep=pause,
            max_attempts=max_attempts,
            max_wait=max_wait,
            what=what,
            **request,
        )
    except HttpError as exc:
        return Delivery(status="failed", attempts=attempts, error=str(exc))
    error = refusal(response)
    if error is None:
        return Delivery(status="delivered", attempts=attempts)
    return Delivery(status="failed", attempts=attempts, error=error)

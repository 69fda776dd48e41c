"""A generic webhook: the alert as JSON (the API's alert item), signed with HMAC-SHA256 over timestamp and body.

Headers: ``X-Spendwatch-Timestamp`` (Unix seconds), ``X-Spendwatch-Signature: sha256=<hex>`` where the MAC is
``HMAC-SHA256(secret, "<timestamp>." + body)``, and ``X-Spendwatch-Event`` (``alert.open``, ``alert.resolved``
or ``alert.test``). A receiver recomputes the MAC over the raw body and refuses old timestamps (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from time import sleep
from typing import TYPE_CHECKING, ClassVar

from spendwatch.channels import quiet_httpx
from spendwatch.channels.posting import post_for_delivery
from spendwatch.domain.alerts import Alert, Delivery
from spendwatch.domain.channels import TEST_KIND, ChannelConfig

if TYPE_CHECKING:
    import httpx

ENV_SECRET = "WEBHOOK_SIGNING_SECRET"  # noqa: S105 - the variable's name, not a secret
SIGNATURE_HEADER = "X-Spendwatch-Signature"
TIMESTAMP_HEADER = "X-Spendwatch-Timestamp"
EVENT_HEADER = "X-Spendwatch-Event"
MAX_ATTEMPTS = 4
MAX_RETRY_WAIT_SECONDS = 30.0
TIMEOUT_SECONDS = 10.0


def body(alert: Alert) -> bytes:
    """The alert as the API serves it, as compact JSON."""
    return json.dumps(alert.model_dump(mode="json"), separators=(",", ":"), sort_keys=True).encode()


def signature(secret: str, timestamp: str, payload: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``"<timestamp>." + payload``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + payload, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: str, headers: dict[str, str], payload: bytes, now: float, tolerance: float = 300.0) -> bool:
    """What a receiver checks: the signature matches and the timestamp is within ``tolerance`` seconds of now."""
    lowered = {name.lower(): value for name, value in headers.items()}
    timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(lowered.get(SIGNATURE_HEADER.lower(), ""), signature(secret, timestamp, payload))


def event_name(alert: Alert, resolved: bool) -> str:
    """The ``X-Spendwatch-Event`` header's value."""
    if alert.kind == TEST_KIND:
        return "alert.test"
    return "alert.resolved" if resolved else "alert.open"


@dataclass
class WebhookChannel:
    """POSTs each alert it takes to ``config.url``, signed; 2xx is delivered, 429 and 5xx are retried."""

    config: ChannelConfig
    secret: str = field(repr=False)
    pause: Callable[[float], None] = sleep
    client: httpx.Client | None = None
    clock: Callable[[], float] = time.time
    resolves: ClassVar[bool] = True

    @property
    def name(self) -> str:
        """The channel's configured name (its key in an alert's delivery state)."""
        return self.config.name

    def send(self, alerts: Sequence[Alert]) -> dict[str, Delivery]:
        """Post each alert as opened (or as a test)."""
        return self._each(alerts, resolved=False)

    def resolve(self, alerts: Sequence[Alert]) -> dict[str, Delivery]:
        """Post each alert again, now resolved."""
        return self._each(alerts, resolved=True)

    def _each(self, alerts: Sequence[Alert], *, resolved: bool) -> dict[str, Delivery]:
        import httpx

        quiet_httpx()
        client = self.client or httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
        try:
            return {alert.id: self._post(client, alert, resolved) for alert in alerts}
        finally:
            if self.client is None:
                client.close()

    def _post(self, client: httpx.Client, alert: Alert, resolved: bool) -> Delivery:
        payload = body(alert)
        timestamp = str(int(self.clock()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self.secret, timestamp, payload),
            EVENT_HEADER: event_name(alert, resolved),
        }
        what = f"webhook {self.name}"  # never the URL, which may carry a token

        def refusal(response: httpx.Response) -> str | None:
            ok = 200 <= response.status_code < 300
            return None if ok else f"{what} answered HTTP {response.status_code}"

        return post_for_delivery(
            client,
            str(self.config.url),
            refusal,
            what=what,
            pause=self.pause,
            max_attempts=MAX_ATTEMPTS,
            max_wait=MAX_RETRY_WAIT_SECONDS,
            headers=headers,
            content=payload,
        )


def channel(config: ChannelConfig, secret: str) -> WebhookChannel:
    """The channel for a ``[[channels]]`` entry."""
    # ``sleep`` is this module's name, looked up per call, so a test can replace the clock for a whole handler run.
    return WebhookChannel(config, secret, pause=sleep)

"""Webhooks: the alert as the API serves it, signed so that a receiver can verify it; retries and refusals."""

from __future__ import annotations

import json

import httpx
from spendwatch.channels.webhook import MAX_ATTEMPTS, WebhookChannel, signature, verify
from spendwatch.domain.channels import ChannelConfig

from spendwatch_local.fakes.webhook import FakeWebhook
from tests.unit.test_slack import make_alert

SECRET = "webhook-signing-secret-for-tests"
CONFIG = ChannelConfig(type="webhook", name="ops-hook", url="https://hooks.example.test/hooks/spendwatch")


def channel(fake: FakeWebhook, secret: str = SECRET) -> WebhookChannel:
    return WebhookChannel(CONFIG, secret, pause=[].append, client=httpx.Client(transport=fake.transport()))


def test_the_receiver_verifies_the_signature_and_gets_the_api_alert_item() -> None:
    fake = FakeWebhook(SECRET)
    alert = make_alert()
    assert channel(fake).send([alert])[alert.id].status == "delivered"
    (post,) = fake.accepted
    assert post.event == "alert.open"
    assert post.alert == json.loads(alert.model_dump_json())


def test_a_resolution_is_posted_as_such() -> None:
    fake = FakeWebhook(SECRET)
    alert = make_alert().model_copy(update={"status": "resolved"})
    assert channel(fake).resolve([alert])[alert.id].status == "delivered"
    assert [p.event for p in fake.accepted] == ["alert.resolved"] and fake.accepted[0].alert["status"] == "resolved"


def test_a_wrong_secret_is_refused_by_the_receiver_and_fails_for_good() -> None:
    fake = FakeWebhook(SECRET)
    alert = make_alert()
    result = channel(fake, secret="not-the-secret").send([alert])[alert.id]
    assert result.status == "failed" and result.attempts == 1 and result.error == "webhook ops-hook answered HTTP 401"
    assert fake.accepted == [] and len(fake.posts) == 1


def test_5xx_is_retried_and_the_url_never_appears_in_errors() -> None:
    fake = FakeWebhook(SECRET).fail(times=MAX_ATTEMPTS)
    alert = make_alert()
    result = channel(fake).send([alert])[alert.id]
    assert result.status == "failed" and result.attempts == MAX_ATTEMPTS
    assert "hooks.example.test" not in str(result.error) and "webhook ops-hook" in str(result.error)


def test_signature_covers_timestamp_and_body() -> None:
    body = b'{"id":"x"}'
    headers = {"X-Spendwatch-Timestamp": "1795000000", "X-Spendwatch-Signature": signature(SECRET, "1795000000", body)}
    assert verify(SECRET, headers, body, now=1795000100)
    assert not verify(SECRET, headers, body + b" ", now=1795000100)  # body changed
    assert not verify(SECRET, {**headers, "X-Spendwatch-Timestamp": "1795000001"}, body, now=1795000100)
    assert not verify(SECRET, headers, body, now=1795000000 + 301)  # too old: a replay
    assert signature(SECRET, "1", b"").startswith("sha256=") and len(signature(SECRET, "1", b"")) == 7 + 64


def test_the_secret_is_not_in_the_channels_repr() -> None:
    assert SECRET not in repr(channel(FakeWebhook(SECRET)))

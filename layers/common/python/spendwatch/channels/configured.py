"""The channels a deployment has: SNS (when a topic is set), Slack or the console, and each ``[[channels]]`` entry.

One factory for the deliver function and for test alerts, so a test reaches exactly what alerts reach. A
channel whose secret cannot be read is :class:`Unavailable`: it fails (and is retried), the others still send.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from spendwatch.channels import Channel, Unavailable, pagerduty, slack, webhook
from spendwatch.channels.email import EmailChannel
from spendwatch.channels.sns import SnsChannel
from spendwatch.domain.channels import ChannelConfig
from spendwatch.domain.config import Config
from spendwatch.platform.aws import client
from spendwatch.platform.secrets import SecretError, read_secret
from spendwatch.platform.settings import ChannelSettings

SecretReader = Callable[[str, str, dict[str, str]], str | None]


def _read(env_name: str, secret_name: str, overrides: dict[str, str]) -> str | None:
    return read_secret(env_name, secret_name, overrides)


def delivery_channels(config: Config, settings: ChannelSettings, read: SecretReader = _read) -> list[Channel]:
    """What alerts are delivered to: e-mail is not here, SNS delivers it through each address's subscription."""
    found: list[Channel] = []
    if settings.topic_arn:
        found.append(SnsChannel(client("sns"), settings.topic_arn))
    overrides = settings.secret_overrides()
    webhook_url = overrides.get(slack.ENV_WEBHOOK)
    try:
        found.append(slack.channel(config.secrets.slack_webhook_url, webhook_url))
    except SecretError as exc:
        found.append(Unavailable(slack.CHANNEL, str(exc)))
    for entry in config.channels:
        if entry.type != "email":
            found.append(_configured(config, entry, settings, overrides, read))
    return found


def trial_channels(config: Config, settings: ChannelSettings, read: SecretReader = _read) -> list[Channel]:
    """What a test alert goes to: every delivery channel, and each e-mail address (through the topic)."""
    found = delivery_channels(config, settings, read)
    topic = client("sns") if settings.topic_arn else None
    found.extend(EmailChannel(entry, topic, settings.topic_arn) for entry in config.channels if entry.type == "email")
    return found


def _configured(
    config: Config, entry: ChannelConfig, settings: ChannelSettings, overrides: dict[str, str], read: SecretReader
) -> Channel:
    secret_name = str(config.channel_secret(entry))
    env_name = pagerduty.ENV_ROUTING_KEY if entry.type == "pagerduty" else webhook.ENV_SECRET
    try:
        secret = read(env_name, secret_name, overrides)
    except SecretError as exc:
        return Unavailable(entry.name, str(exc), resolves=True)
    if not secret or not secret.strip():
        return Unavailable(entry.name, f"secret {secret_name!r} is empty (or set {env_name} locally)", resolves=True)
    built: Any
    if entry.type == "pagerduty":
        url = settings.pagerduty_events_url or pagerduty.EVENTS_URL
        built = pagerduty.channel(entry, secret.strip(), url)
    else:
        built = webhook.channel(entry, secret.strip())
    channel: Channel = built
    return channel

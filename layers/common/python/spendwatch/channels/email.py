"""E-mail: an SNS e-mail subscription on the alerts topic, with a filter policy (``ChannelConfig.filter_policy``).

Alerts reach an address through the SNS channel's publish; nothing is sent from here. For a test alert, this
channel says whether the address can receive it: its subscription exists and the address confirmed it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from spendwatch.domain.alerts import Alert, Delivery
from spendwatch.domain.channels import ChannelConfig

PENDING = "PendingConfirmation"


def subscription_state(client: Any, topic_arn: str, address: str) -> str | None:
    """None when ``address`` has a confirmed e-mail subscription on the topic, else what is wrong."""
    paginator = client.get_paginator("list_subscriptions_by_topic")
    pending = False
    for page in paginator.paginate(TopicArn=topic_arn):
        for subscription in page.get("Subscriptions", []):
            if subscription.get("Protocol") != "email" or subscription.get("Endpoint", "").lower() != address.lower():
                continue
            if subscription.get("SubscriptionArn", "").startswith("arn:"):
                return None
            pending = pending or subscription.get("SubscriptionArn") == PENDING
    if pending:
        return f"the subscription of {address} is pending: confirm the e-mail AWS sent to it"
    return f"no e-mail subscription of {address} on the alerts topic (deploy the stack, or restart spendwatch local)"


@dataclass
class EmailChannel:
    """One ``type = "email"`` channel, for test alerts: delivered when SNS took the alert and the address can get it.

    The SNS channel publishes the test alert; the caller fails this channel too when that publish failed.
    """

    config: ChannelConfig
    client: Any
    topic_arn: str | None

    @property
    def name(self) -> str:
        """The channel's configured name."""
        return self.config.name

    def send(self, alerts: Sequence[Alert]) -> dict[str, Delivery]:
        """Check the address's subscription (the alerts themselves went out through the topic)."""
        if self.client is None or not self.topic_arn:
            problem: str | None = "no SNS topic: e-mail channels need the alerts topic (SPENDWATCH_TOPIC_ARN)"
        else:
            try:
                problem = subscription_state(self.client, self.topic_arn, str(self.config.address))
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "error")
                problem = f"cannot list the topic's subscriptions: {code}"
            except BotoCoreError as exc:
                problem = f"cannot list the topic's subscriptions: {type(exc).__name__}"
        outcome = Delivery(status="failed", attempts=1, error=problem) if problem else Delivery(status="delivered")
        return {alert.id: outcome for alert in alerts}

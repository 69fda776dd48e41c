"""Alert channels in the stack: an SNS e-mail subscription per e-mail channel, and what sending alerts may read.

The deliver function and the api (test alerts) both send through the channels, so both get the same grants.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct
from spendwatch.domain.config import Config

from infra.stacks.nag import acknowledge
from infra.stacks.shared import SpendwatchFunction
from infra.stacks.storage import Storage


def email_subscriptions(scope: Construct, config: Config, storage: Storage) -> list[sns.CfnSubscription]:
    """One e-mail subscription per ``type = "email"`` channel, filtered on the SNS channel's message attributes."""
    return [
        sns.CfnSubscription(
            scope,
            f"Email-{channel.name}",
            topic_arn=storage.topic.topic_arn,
            protocol="email",
            endpoint=str(channel.address),
            filter_policy_scope="MessageAttributes",
            filter_policy=channel.filter_policy(),
        )
        for channel in config.channels
        if channel.type == "email"
    ]


def secret_arns(scope: Construct, config: Config) -> list[str]:
    """The ARNs of every secret the channels read (Slack's webhook, routing keys, signing secrets)."""
    stack = cdk.Stack.of(scope)
    return [
        stack.format_arn(
            service="secretsmanager",
            resource="secret",
            # Secrets Manager appends "-" and six random characters to every secret's ARN.
            resource_name=f"{name}-??????",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        for name in config.channel_secrets()
    ]


def grant_sending(function: SpendwatchFunction, config: Config, storage: Storage, *, check_email: bool = False) -> None:
    """Let ``function`` publish to the topic and read the channels' secrets (and, for tests, list subscriptions)."""
    storage.topic.grant_publish(function.function)
    acknowledge(
        function.role,
        "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "Publishing to the KMS-encrypted alerts topic needs GenerateDataKey*, granted on that one key only.",
    )
    function.function.add_to_role_policy(
        iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=secret_arns(function, config))
    )
    if check_email:
        # A test alert says whether each address confirmed its subscription.
        function.function.add_to_role_policy(
            iam.PolicyStatement(actions=["sns:ListSubscriptionsByTopic"], resources=[storage.topic.topic_arn])
        )

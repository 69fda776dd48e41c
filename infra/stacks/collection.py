"""Collection: the collect function, one EventBridge schedule per enabled source, and what each source may read."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from spendwatch.domain.config import Config, Source
from spendwatch.platform import resources

from infra.stacks import names
from infra.stacks.nag import acknowledge, acknowledge_wildcard
from infra.stacks.shared import SpendwatchFunction, scheduled_event
from infra.stacks.storage import Storage

# What an aws_ce source with ``inventory = true`` reads (collect.sources.aws_inventory), and nothing more.
AWS_INVENTORY_ACTIONS = (
    "ec2:DescribeInstances",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeVolumes",
    "ec2:DescribeAddresses",
    "cloudwatch:GetMetricData",
    "pricing:GetProducts",
)


def reads_aws_inventory(config: Config) -> bool:
    """Whether an enabled Cost Explorer source also reads the EC2 inventory (``inventory = true``)."""
    return any(source.type == "aws_ce" and source.inventory for source in config.enabled_sources)


def split_s3_path(path: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` as ``(bucket, prefix)``; the prefix may be empty."""
    bucket, _, prefix = path.removeprefix("s3://").partition("/")
    return bucket, prefix


def read_statements(bucket_arn: str, prefix: str) -> list[iam.PolicyStatement]:
    """Read objects under ``prefix`` and list only that prefix: the least S3 access a collector needs."""
    listing = iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket_arn])
    if prefix:
        listing.add_condition("StringLike", {"s3:prefix": [f"{prefix}*"]})
    return [iam.PolicyStatement(actions=["s3:GetObject"], resources=[f"{bucket_arn}/{prefix}*"]), listing]


class Collection(Construct):
    """Scheduled collection into the table, with failed invocations kept in a dead-letter queue."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: Config,
        storage: Storage,
        layer: lambda_.ILayerVersion,
        code: Path,
        reserved_concurrency: int | None = names.COLLECT_RESERVED_CONCURRENCY,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        acknowledge(
            self.dead_letters,
            "AwsSolutions-SQS3",
            "This queue is the dead-letter destination of the collect function and its schedules.",
        )
        self.handler = SpendwatchFunction(
            self,
            "Collect",
            name="collect",
            code=code,
            layer=layer,
            memory_size=512,
            timeout=cdk.Duration.minutes(5),
            description="Collect cost and usage from one source into the table",
            reserved_concurrency=reserved_concurrency,
            retry_attempts=names.ASYNC_RETRY_ATTEMPTS,
            # A destination rather than a DLQ: the record carries the error and request context, not just the event.
            on_failure=destinations.SqsDestination(self.dead_letters),
            environment={
                resources.ENV_TABLE: storage.table.table_name,
                resources.ENV_BUCKET: storage.bucket.bucket_name,
                resources.ENV_CONFIG: names.DEPLOYED_CONFIG_PATH,
            },
        )
        self.function = self.handler.function
        storage.table.grant_read_write_data(self.function)
        objects, listing = read_statements(storage.bucket.bucket_arn, "")
        self.function.add_to_role_policy(objects)
        self.function.add_to_role_policy(listing)
        acknowledge_wildcard(
            self.handler.role,
            objects.resources[0],
            "Read-only access to the objects of spendwatch's own data bucket, whose keys are not known ahead.",
        )
        self.rules = {source.name: self._schedule(source) for source in config.enabled_sources}
        self._grant_sources(config)

    def _schedule(self, source: Source) -> events.Rule:
        rule = events.Rule(
            self,
            f"Schedule-{source.name}",
            description=f"spendwatch: collect {source.name} ({source.type})",
            schedule=events.Schedule.expression(source.schedule),
        )
        rule.add_target(
            targets.LambdaFunction(
                self.function,
                event=scheduled_event({"source": source.name}),
                dead_letter_queue=self.dead_letters,
                retry_attempts=names.ASYNC_RETRY_ATTEMPTS,
                # A collection delivered hours late is superseded by the next scheduled run.
                max_event_age=cdk.Duration.hours(2),
            )
        )
        return rule

    def _grant_sources(self, config: Config) -> None:
        enabled = config.enabled_sources
        types = {source.type for source in enabled}
        if "aws_ce" in types:
            self._attach(
                "CostExplorer",
                iam.PolicyStatement(actions=["ce:GetCostAndUsage"], resources=["*"]),
                "Cost Explorer has no resource-level permissions; the only action allowed is GetCostAndUsage.",
            )
        if reads_aws_inventory(config):
            self._attach(
                "AwsInventory",
                iam.PolicyStatement(actions=list(AWS_INVENTORY_ACTIONS), resources=["*"]),
                "EC2 Describe* calls, CloudWatch GetMetricData and the Price List API's GetProducts support no "
                "resource-level permissions; only these read-only actions are allowed.",
            )
        secrets = {"digitalocean": config.secrets.digitalocean_token, "vercel": config.secrets.vercel_token}
        for kind in sorted(types & secrets.keys()):
            self._grant_secret(kind, secrets[kind])
        for source in enabled:
            if source.type == "focus" and source.path and source.path.startswith("s3://"):
                self._grant_focus_path(source.name, source.path)
            elif source.type == "focus":
                cdk.Annotations.of(self).add_warning_v2(
                    "spendwatch:focus-local-path",
                    f"source {source.name!r} reads the local path {source.path!r}, which the deployed function cannot "
                    "see; use an s3:// path to collect it when deployed",
                )

    def _grant_secret(self, kind: str, secret_name: str) -> None:
        arn = cdk.Stack.of(self).format_arn(
            service="secretsmanager",
            resource="secret",
            # Secrets Manager appends "-" and six random characters to every secret's ARN.
            resource_name=f"{secret_name}-??????",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        statement = iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[arn])
        iam.Policy(self, f"SecretAccess-{kind}", statements=[statement], roles=[self.handler.role])

    def _grant_focus_path(self, name: str, path: str) -> None:
        bucket, prefix = split_s3_path(path)
        objects, listing = read_statements(f"arn:{cdk.Aws.PARTITION}:s3:::{bucket}", prefix)
        self._attach(
            f"FocusAccess-{name}",
            objects,
            f"Source {name!r} reads FOCUS exports under this prefix only; their object names are not known ahead.",
            listing,
        )

    def _attach(
        self, construct_id: str, wildcard: iam.PolicyStatement, reason: str, *others: iam.PolicyStatement
    ) -> None:
        """Attach a policy whose first statement has one accepted wildcard resource (``reason`` says why)."""
        policy = iam.Policy(self, construct_id, statements=[wildcard, *others], roles=[self.handler.role])
        acknowledge_wildcard(policy, wildcard.resources[0], reason)

"""Reporting: the report function and one EventBridge Scheduler schedule per enabled ``[reports]`` entry.

Schedules are EventBridge Scheduler's (``AWS::Scheduler::Schedule``), not EventBridge rules, because only they
take a time zone (``ScheduleExpressionTimezone``): the report goes out at 09:00 local time all year, daylight
saving included. Each invokes the function with ``{"kind", "scheduled_time"}`` through its own role, retries
twice and keeps what still fails in an encrypted queue. The function reads the table and writes report items
(their INSERT is delivered by the alerting construct's deliver function), and writes and presigns the report
files under ``reports/`` in the data bucket, nothing else of it.
"""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from spendwatch.domain.config import Config
from spendwatch.platform import resources

from infra.stacks import names
from infra.stacks.nag import acknowledge, acknowledge_wildcard
from infra.stacks.shared import SpendwatchFunction
from infra.stacks.storage import Storage


class Reporting(Construct):
    """The report function on its schedules, with least-privilege access to the table and the report files."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: Config,
        storage: Storage,
        layer: lambda_.ILayerVersion,
        code: Path,
    ) -> None:
        super().__init__(scope, construct_id)
        self.report = SpendwatchFunction(
            self,
            "Report",
            name="report",
            code=code,
            layer=layer,
            memory_size=names.REPORT_MEMORY_MB,
            timeout=cdk.Duration.seconds(names.REPORT_TIMEOUT_SECONDS),
            description="Build the daily, weekly and monthly reports: HTML and CSV in the bucket, the report item",
            environment={
                resources.ENV_TABLE: storage.table.table_name,
                resources.ENV_BUCKET: storage.bucket.bucket_name,
                resources.ENV_CONFIG: names.DEPLOYED_CONFIG_PATH,
            },
        )
        storage.table.grant_read_write_data(self.report.function)
        files = storage.bucket.arn_for_objects(f"{resources.REPORTS_PREFIX}*")
        # PutObject writes the files; GetObject is what the presigned links are signed for.
        self.report.function.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:PutObject", "s3:GetObject"], resources=[files])
        )
        acknowledge_wildcard(
            self.report.role,
            files,
            "The report files' keys (reports/<kind>/<start>.html|.csv) are made at run time under one prefix.",
        )
        self.failures = self._failure_queue()
        self.role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Stack.of(self).account}},
            ),
            description="spendwatch report schedules: invoke the report function",
        )
        # The unqualified function only (grant_invoke would add every version, ARN:*).
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[self.report.function.function_arn])
        )
        self.role.add_to_policy(iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.failures.queue_arn]))
        self.schedules = {
            kind: self._schedule(kind, expression, config.timezone)
            for kind, expression in config.reports.schedules().items()
        }

    def _failure_queue(self) -> sqs.Queue:
        queue = sqs.Queue(
            self,
            "Failures",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        acknowledge(queue, "AwsSolutions-SQS3", "This queue is itself the dead-letter queue of the report schedules.")
        return queue

    def _schedule(self, kind: str, expression: str, timezone: str) -> scheduler.CfnSchedule:
        return scheduler.CfnSchedule(
            self,
            f"Schedule-{kind}",
            description=f"spendwatch: the {kind} report",
            schedule_expression=expression,
            schedule_expression_timezone=timezone,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            target=scheduler.CfnSchedule.TargetProperty(
                arn=self.report.function.function_arn,
                role_arn=self.role.role_arn,
                # Scheduler fills in the instant the schedule fired for; the report is for its local date.
                input=json.dumps({"kind": kind, "scheduled_time": "<aws.scheduler.scheduled-time>"}),
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_retry_attempts=names.ASYNC_RETRY_ATTEMPTS, maximum_event_age_in_seconds=6 * 3600
                ),
                dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(arn=self.failures.queue_arn),
            ),
        )

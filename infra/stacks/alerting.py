"""Alerting: evaluation and delivery fed by the table's stream, an hourly staleness check, and a failure queue.

Every stream consumer's mapping is made here (pricing's too), so all of them share the failure queue.

The event source mappings come from the stream consumer definitions the local poller also runs, so filters,
batching and failure handling are the same deployed and locally. Whatever Lambda finally gives up on lands in
one SQS queue whose alarms notify the alerts topic: nothing is silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from spendwatch.domain.config import Config
from spendwatch.platform import resources
from spendwatch.store import table as store_table
from spendwatch.store.table import StreamConsumer

from infra.stacks import names
from infra.stacks.channels import email_subscriptions, grant_sending
from infra.stacks.nag import acknowledge
from infra.stacks.shared import SpendwatchFunction, scheduled_event
from infra.stacks.storage import Storage


def stream_event_source(consumer: StreamConsumer, storage: Storage, on_failure: sqs.IQueue) -> lambda_.IEventSource:
    """The event source mapping a shared stream consumer definition describes."""
    return event_sources.DynamoEventSource(
        storage.table,
        # Records written while a mapping is being (re)created are still processed.
        starting_position=lambda_.StartingPosition.TRIM_HORIZON,
        filters=[lambda_.FilterCriteria.filter(pattern) for pattern in consumer.filter_patterns()],
        batch_size=consumer.batch_size,
        max_batching_window=cdk.Duration.seconds(consumer.max_batching_window_seconds),
        retry_attempts=consumer.retry_attempts,
        max_record_age=cdk.Duration.seconds(consumer.max_record_age_seconds),
        bisect_batch_on_error=consumer.bisect_batch_on_error,
        parallelization_factor=consumer.parallelization_factor,
        report_batch_item_failures=True,
        on_failure=event_sources.SqsDlq(on_failure),
    )


class Alerting(Construct):
    """Evaluate new totals, runs and budgets into alert items; deliver new alert items to SNS and Slack."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: Config,
        storage: Storage,
        layer: lambda_.ILayerVersion,
        code: Path,
        stream_functions: Mapping[str, SpendwatchFunction] | None = None,
    ) -> None:
        """``stream_functions``: the other stream consumers' functions by name (pricing), mapped here too."""
        super().__init__(scope, construct_id)
        self.failures = self._failure_queue()
        environment = {
            resources.ENV_TABLE: storage.table.table_name,
            resources.ENV_TOPIC: storage.topic.topic_arn,
            resources.ENV_CONFIG: names.DEPLOYED_CONFIG_PATH,
        }
        self.evaluate = SpendwatchFunction(
            self,
            "Evaluate",
            name=store_table.ALERT_EVALUATE.function,
            code=code,
            layer=layer,
            memory_size=names.ALERT_EVALUATE_MEMORY_MB,
            timeout=cdk.Duration.seconds(names.ALERT_EVALUATE_TIMEOUT_SECONDS),
            description="Evaluate budgets, collection runs and staleness into alert items",
            # The scheduled staleness check is an asynchronous invocation: its failures land in the queue too.
            retry_attempts=names.ASYNC_RETRY_ATTEMPTS,
            on_failure=destinations.SqsDestination(self.failures),
            environment=environment,
        )
        self.deliver = SpendwatchFunction(
            self,
            "Deliver",
            name=store_table.ALERT_DELIVER.function,
            code=code,
            layer=layer,
            memory_size=names.ALERT_DELIVER_MEMORY_MB,
            timeout=cdk.Duration.seconds(names.ALERT_DELIVER_TIMEOUT_SECONDS),
            description="Deliver new alert items to SNS and Slack",
            environment=environment,
        )
        consumers = {
            **(stream_functions or {}),
            store_table.ALERT_EVALUATE.function: self.evaluate,
            store_table.ALERT_DELIVER.function: self.deliver,
        }
        # Every shared consumer definition must have its function here: a new one without fails the synth.
        for consumer in store_table.STREAM_CONSUMERS:
            consumers[consumer.function].function.add_event_source(
                stream_event_source(consumer, storage, self.failures)
            )
        self._grant(config, storage)
        self.staleness = self._staleness_schedule()
        self.alarms = self._alarms(storage)

    def _failure_queue(self) -> sqs.Queue:
        queue = sqs.Queue(
            self,
            "Failures",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            # The longest SQS allows: a failure record is what an operator needs to find and replay the records.
            retention_period=cdk.Duration.days(14),
        )
        acknowledge(
            queue,
            "AwsSolutions-SQS3",
            "This queue is itself the on-failure destination of the alert functions' stream mappings and schedule.",
        )
        return queue

    def _grant(self, config: Config, storage: Storage) -> None:
        # Evaluation reads totals, budgets and runs and writes alert items; delivery re-reads each alert and
        # records its delivery state on it. Each e-mail channel is a subscription of the topic delivery publishes to.
        storage.table.grant_read_write_data(self.evaluate.function)
        storage.table.grant_read_write_data(self.deliver.function)
        grant_sending(self.deliver, config, storage)
        self.email = email_subscriptions(self, config, storage)
        for handler in (self.evaluate, self.deliver):
            acknowledge(
                handler.role,
                "AwsSolutions-IAM5[Resource::*]",
                "The stream mapping's dynamodb:ListStreams cannot be scoped to a resource.",
            )

    def _staleness_schedule(self) -> events.Rule:
        rule = events.Rule(
            self,
            "StalenessSchedule",
            description="spendwatch: check that every source's data is fresh",
            schedule=events.Schedule.expression(names.STALENESS_SCHEDULE),
        )
        rule.add_target(
            targets.LambdaFunction(
                self.evaluate.function,
                event=scheduled_event(dict(resources.STALENESS_DETAIL)),
                dead_letter_queue=self.failures,
                retry_attempts=names.ASYNC_RETRY_ATTEMPTS,
                # The next hourly check supersedes one that could not run in time.
                max_event_age=cdk.Duration.hours(1),
            )
        )
        return rule

    def _alarms(self, storage: Storage) -> list[cloudwatch.Alarm]:
        period = cdk.Duration.minutes(5)  # SQS publishes its metrics every five minutes
        waiting = cloudwatch.Alarm(
            self,
            "FailuresWaiting",
            alarm_description="spendwatch alerting gave up on stream records or a staleness check; see the queue",
            metric=self.failures.metric_approximate_number_of_messages_visible(period=period, statistic="Maximum"),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        # A failure still unhandled after a day notifies again, well before the queue's retention drops it.
        stale = cloudwatch.Alarm(
            self,
            "FailuresUnhandled",
            alarm_description="a spendwatch alerting failure record has been waiting for over a day",
            metric=self.failures.metric_approximate_age_of_oldest_message(period=period, statistic="Maximum"),
            threshold=names.FAILURE_AGE_ALARM_SECONDS,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        action = cloudwatch_actions.SnsAction(storage.topic)
        for alarm in (waiting, stale):
            alarm.add_alarm_action(action)
        allow_alarms_to_publish(storage)
        return [waiting, stale]


def allow_alarms_to_publish(storage: Storage) -> None:
    """Let this account's CloudWatch alarms publish to the encrypted alerts topic."""
    stack = cdk.Stack.of(storage)
    alarms = f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:*"
    # The topic's policy replaces SNS's default one, so the alarms' service principal must be named in it.
    storage.topic.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[storage.topic.topic_arn],
            conditions={"ArnLike": {"aws:SourceArn": alarms}, "StringEquals": {"aws:SourceAccount": stack.account}},
        )
    )
    # A service publishing to a KMS-encrypted topic needs the key; only the key's own policy can grant that.
    # The statement is the one CloudWatch documents; in a key policy "*" means this key.
    storage.alerts_key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
        )
    )

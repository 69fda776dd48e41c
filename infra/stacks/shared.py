"""Building blocks every function uses: the common layer and a Lambda function with its own logs and role."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from spendwatch.platform.resources import FUNCTIONS

from infra.stacks import names
from infra.stacks.nag import acknowledge

RUNTIME = lambda_.Runtime.PYTHON_3_11
ARCHITECTURE = lambda_.Architecture.ARM_64


def common_layer(scope: Construct, construct_id: str, asset: Path) -> lambda_.LayerVersion:
    """The layer holding the ``spendwatch`` package and the pinned runtime dependencies."""
    return lambda_.LayerVersion(
        scope,
        construct_id,
        code=lambda_.Code.from_asset(str(asset)),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        description="spendwatch shared package and pinned runtime dependencies",
    )


@dataclass(frozen=True)
class FunctionSpec:
    """What makes one function: its name (an entry in ``FUNCTIONS``), code, layer, size, time and environment."""

    name: str
    code: Path
    layer: lambda_.ILayerVersion
    memory_size: int
    timeout: cdk.Duration
    environment: Mapping[str, str]
    description: str


class SpendwatchFunction(Construct):
    """A Python 3.11 arm64 function with JSON logs, its own log group, and a role that starts out able to log only."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        code: Path,
        layer: lambda_.ILayerVersion,
        memory_size: int,
        timeout: cdk.Duration,
        environment: Mapping[str, str],
        description: str,
        reserved_concurrency: int | None = None,
        retry_attempts: int | None = None,
        on_failure: lambda_.IDestination | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=names.LOG_RETENTION,
            # Logs expire within a month anyway; keeping the group after the stack is gone only leaves litter.
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        # An explicit role instead of AWSLambdaBasicExecutionRole: it may write to this log group and nowhere else.
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"spendwatch {name} function",
        )
        self.log_group.grant_write(self.role)
        self.function = self._function(
            FunctionSpec(name, code, layer, memory_size, timeout, environment, description),
            reserved_concurrency=reserved_concurrency,
            retry_attempts=retry_attempts,
            on_failure=on_failure,
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "Python 3.11 is pinned on purpose: requires-python and the layer's compiled cp311 wheels match it.",
        )

    def _function(
        self,
        spec: FunctionSpec,
        *,
        reserved_concurrency: int | None,
        retry_attempts: int | None,
        on_failure: lambda_.IDestination | None,
    ) -> lambda_.Function:
        # No X-Ray tracing and no metrics namespace: the functions emit neither; their JSON logs carry the counts.
        return lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=FUNCTIONS[spec.name],
            code=lambda_.Code.from_asset(str(spec.code)),
            layers=[spec.layer],
            memory_size=spec.memory_size,
            timeout=spec.timeout,
            role=self.role,
            description=spec.description,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel[names.LOG_LEVEL],
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            reserved_concurrent_executions=reserved_concurrency,
            retry_attempts=retry_attempts,
            on_failure=on_failure,
            environment={
                "POWERTOOLS_SERVICE_NAME": names.SERVICE_NAME,
                "POWERTOOLS_LOG_LEVEL": names.LOG_LEVEL,
                **spec.environment,
            },
        )


def scheduled_event(detail: Mapping[str, Any]) -> events.RuleTargetInput:
    """EventBridge's own "Scheduled Event", with ``detail`` replaced by what the function should do."""
    return events.RuleTargetInput.from_object(
        {
            "version": events.EventField.from_path("$.version"),
            "id": events.EventField.event_id,
            "detail-type": events.EventField.detail_type,
            "source": events.EventField.source,
            "account": events.EventField.account,
            "time": events.EventField.time,
            "region": events.EventField.region,
            "resources": events.EventField.from_path("$.resources"),
            "detail": dict(detail),
        }
    )

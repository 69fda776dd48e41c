"""AWS for the local runtime: an embedded moto server (or an external endpoint) and the project's resources."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError
from spendwatch.domain.channels import ChannelConfig
from spendwatch.platform import resources
from spendwatch.store import table as store_table

ENDPOINT_ENV = "AWS_ENDPOINT_URL"
DEFAULT_REGION = "us-east-1"
_DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# Anything that could steer a client away from the embedded endpoint or towards real credentials.
_REAL_AWS_ENV = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
_ALREADY_THERE = {"ResourceInUseException", "BucketAlreadyOwnedByYou", "BucketAlreadyExists"}


class AwsSetupError(RuntimeError):
    """The AWS endpoint could not be started or the resources could not be created."""


@dataclass
class AwsEndpoint:
    """Where boto3 clients go, and the embedded server behind it if this process started one."""

    url: str
    region: str
    server: Any = None

    @property
    def embedded(self) -> bool:
        """True when this process runs the moto server."""
        return self.server is not None

    def stop(self) -> None:
        """Stop the embedded server (a no-op for an external endpoint)."""
        if self.server is not None:
            self.server.stop()
            self.server = None


@dataclass(frozen=True)
class LocalResources:
    """The physical names of the table, bucket and topic the functions use."""

    table: str
    bucket: str
    topic_arn: str


def start_aws(environ: MutableMapping[str, str], *, in_process: bool = False) -> AwsEndpoint:
    """Use ``AWS_ENDPOINT_URL`` if set, else start moto and point this process's clients at it.

    moto runs in a process of its own (``spendwatch_local.moto_server``) unless ``in_process``: it then works on
    the machine's other core instead of taking turns with the API and the stream functions for this
    interpreter, as DynamoDB is not in a Lambda's process either.
    """
    environ.setdefault("AWS_DEFAULT_REGION", DEFAULT_REGION)
    region = environ["AWS_DEFAULT_REGION"]
    external = environ.get(ENDPOINT_ENV)
    if external:
        if not (environ.get("AWS_ACCESS_KEY_ID") or environ.get("AWS_PROFILE")):
            environ.update(_DUMMY_CREDENTIALS)
        return AwsEndpoint(external, region)
    try:
        if in_process:
            from spendwatch_local.moto_server import start_server

            server: Any = start_server()
            host, port = server.get_host_and_port()
        else:
            server = MotoProcess.start()
            host, port = server.host, server.port
    except OSError as exc:
        raise AwsSetupError(f"cannot start the embedded moto server: {exc}") from exc
    isolate_from_real_aws(environ)
    environ[ENDPOINT_ENV] = f"http://{host}:{port}"
    return AwsEndpoint(environ[ENDPOINT_ENV], region, server)


class MotoProcess:
    """The moto server in a child process: it says where it listens on its first line, and exits when its stdin
    closes (this process stopping it, or dying), so it never outlives the runtime."""

    STARTUP_SECONDS = 60.0

    def __init__(self, process: subprocess.Popen[str], host: str, port: int) -> None:
        self.process, self.host, self.port = process, host, port

    @classmethod
    def start(cls) -> MotoProcess:
        """Start the child and wait for its address; OSError when it does not come up."""
        process = subprocess.Popen(
            [sys.executable, "-m", "spendwatch_local.moto_server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        ready = threading.Timer(cls.STARTUP_SECONDS, process.kill)
        ready.start()
        try:
            line = process.stdout.readline().strip()
        finally:
            ready.cancel()
        host, _, port = line.rpartition(":")
        if not (host and port.isdigit()):
            process.kill()
            process.wait()
            raise OSError(f"the moto server process did not start (it said {line!r}, exit code {process.poll()})")
        return cls(process, host, int(port))

    def get_host_and_port(self) -> tuple[str, int]:
        """Where the server listens."""
        return self.host, self.port

    def stop(self) -> None:
        """Close its stdin (it exits on that) and wait; kill it if it does not go within 5 s."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def isolate_from_real_aws(environ: MutableMapping[str, str]) -> None:
    """Dummy credentials and no service-specific endpoints, so no call can reach a real account."""
    for name in [*_REAL_AWS_ENV, *(key for key in environ if key.startswith(f"{ENDPOINT_ENV}_"))]:
        environ.pop(name, None)
    environ.update(_DUMMY_CREDENTIALS)


def resource_names(environ: MutableMapping[str, str]) -> tuple[str, str]:
    """Table and bucket names: the env's if set, else the local defaults."""
    table = environ.get(resources.ENV_TABLE) or resources.LOCAL_TABLE_NAME
    bucket = environ.get(resources.ENV_BUCKET) or resources.LOCAL_BUCKET_NAME
    return table, bucket


def provision(
    table: str,
    bucket: str,
    region: str,
    topic: str = resources.LOCAL_TOPIC_NAME,
    channels: Sequence[ChannelConfig] = (),
) -> LocalResources:
    """Create the table (with TTL), bucket, topic and e-mail subscriptions as the stack does; existing ones are fine."""
    try:
        _create_table(boto3.client("dynamodb", region_name=region), table)
        _create_bucket(boto3.client("s3", region_name=region), bucket, region)
        sns = boto3.client("sns", region_name=region)
        topic_arn = sns.create_topic(Name=topic)["TopicArn"]
        subscribe_email_channels(sns, str(topic_arn), channels)
    except ClientError as exc:
        raise AwsSetupError(f"cannot create the local resources: {exc}") from exc
    return LocalResources(table=table, bucket=bucket, topic_arn=str(topic_arn))


def subscribe_email_channels(sns: Any, topic_arn: str, channels: Sequence[ChannelConfig]) -> None:
    """Each e-mail channel's subscription with its filter policy, as the stack makes it (kept up to date on restart)."""
    existing: dict[str, str] = {}
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        for found in page.get("Subscriptions", []):
            if found.get("Protocol") == "email":
                existing[found["Endpoint"].lower()] = found["SubscriptionArn"]
    for channel in channels:
        if channel.type != "email" or not channel.address:
            continue
        policy = json.dumps(channel.filter_policy())
        arn = existing.get(channel.address.lower(), "")
        if arn.startswith("arn:"):
            sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy", AttributeValue=policy)
            continue
        sns.subscribe(
            TopicArn=topic_arn,
            Protocol="email",
            Endpoint=channel.address,
            Attributes={"FilterPolicyScope": "MessageAttributes", "FilterPolicy": policy},
            ReturnSubscriptionArn=True,
        )


def _create_table(dynamodb: Any, table: str) -> None:
    try:
        dynamodb.create_table(**store_table.table_create_kwargs(table))
    except ClientError as exc:
        if _code(exc) not in _ALREADY_THERE:
            raise
    # A no-op on moto; LocalStack and real DynamoDB create tables asynchronously.
    dynamodb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    ttl = dynamodb.describe_time_to_live(TableName=table).get("TimeToLiveDescription", {})
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        dynamodb.update_time_to_live(**store_table.table_ttl_kwargs(table))


def _create_bucket(s3: Any, bucket: str, region: str) -> None:
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if region != DEFAULT_REGION:
        # us-east-1 is the one region that rejects an explicit location constraint.
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**kwargs)
    except ClientError as exc:
        if _code(exc) not in _ALREADY_THERE:
            raise


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))

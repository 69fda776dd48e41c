"""Storage: the single DynamoDB table, the data bucket (reports, exports) and the alerts topic."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct
from spendwatch.store import table as store_table


class Storage(Construct):
    """Everything that holds state; the table, the buckets and the key outlive the stack."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = self._table()
        self.access_logs = self._access_log_bucket()
        self.bucket = s3.Bucket(
            self,
            "Data",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="data/",
            lifecycle_rules=[
                # Versioning protects against overwrites; old versions need not live forever.
                s3.LifecycleRule(
                    noncurrent_version_expiration=cdk.Duration.days(90),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                )
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        # A customer managed key rather than aws/sns: service publishers such as CloudWatch alarms can only be
        # granted use of a key whose policy we control.
        self.alerts_key = kms.Key(
            self,
            "AlertsKey",
            description="spendwatch alerts topic encryption",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.topic = sns.Topic(
            self,
            "Alerts",
            display_name="spendwatch alerts",
            master_key=self.alerts_key,
            enforce_ssl=True,
        )

    def _table(self) -> dynamodb.Table:
        string = dynamodb.AttributeType.STRING
        partition, sort = store_table.key_attributes()
        return dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=partition, type=string),
            sort_key=dynamodb.Attribute(name=sort, type=string),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            stream=dynamodb.StreamViewType[store_table.STREAM_VIEW],
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=store_table.ttl_attribute(),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _access_log_bucket(self) -> s3.Bucket:
        # The destination of server access logs does not log itself (cdk-nag S1 recognises it as a log target).
        bucket = s3.Bucket(
            self,
            "AccessLogs",
            # S3 server access logging only delivers to buckets encrypted with S3 managed keys.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(365))],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        return bucket

"""The spendwatch stack: wires one construct per concern and exports what operators need."""

from __future__ import annotations

import re
from typing import Any

import aws_cdk as cdk
from constructs import Construct
from spendwatch.domain.config import Config
from spendwatch.store import table as store_table

from infra.bundling import Assets
from infra.stacks import names
from infra.stacks.alerting import Alerting
from infra.stacks.api import Api
from infra.stacks.collection import Collection
from infra.stacks.pricing import Pricing, Recommending
from infra.stacks.reporting import Reporting
from infra.stacks.shared import common_layer
from infra.stacks.storage import Storage


class SpendwatchStack(cdk.Stack):
    """Storage, collection, pricing, reporting, the API and alerting, built from one validated config."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: Config,
        assets: Assets,
        collect_concurrency: int | None = names.COLLECT_RESERVED_CONCURRENCY,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.storage = Storage(self, "Storage")
        layer = common_layer(self, "CommonLayer", assets.layer)
        self.collection = Collection(
            self,
            "Collection",
            config=config,
            storage=self.storage,
            layer=layer,
            code=assets.functions["collect"],
            reserved_concurrency=collect_concurrency,
        )
        self.api = Api(self, "Api", config=config, storage=self.storage, layer=layer, code=assets.functions["api"])
        self.pricing = Pricing(self, "Pricing", storage=self.storage, layer=layer, code=assets.functions["price"])
        self.recommending = Recommending(
            self, "Recommending", storage=self.storage, layer=layer, code=assets.functions["recommend"]
        )
        self.reporting = Reporting(
            self, "Reporting", config=config, storage=self.storage, layer=layer, code=assets.functions["report"]
        )
        self.alerting = Alerting(
            self,
            "Alerting",
            config=config,
            storage=self.storage,
            layer=layer,
            code=assets.functions["alert"],
            stream_functions={
                store_table.PRICE.function: self.pricing.price,
                store_table.RECOMMEND.function: self.recommending.recommend,
            },
        )
        self._outputs()
        tag_components(self)

    def _outputs(self) -> None:
        cdk.CfnOutput(self, "TableName", value=self.storage.table.table_name)
        cdk.CfnOutput(self, "BucketName", value=self.storage.bucket.bucket_name)
        cdk.CfnOutput(self, "AlertsTopicArn", value=self.storage.topic.topic_arn)
        cdk.CfnOutput(self, "ApiUrl", value=self.api.url)
        cdk.CfnOutput(self, "DeadLetterQueueUrl", value=self.collection.dead_letters.queue_url)
        cdk.CfnOutput(self, "AlertFailureQueueUrl", value=self.alerting.failures.queue_url)
        cdk.CfnOutput(self, "ReportFailureQueueUrl", value=self.reporting.failures.queue_url)
        if self.api.signin is not None:
            signin = self.api.signin
            cdk.CfnOutput(self, "UserPoolId", value=signin.user_pool.user_pool_id, description="People who may sign in")
            cdk.CfnOutput(self, "UserPoolClientId", value=signin.client.user_pool_client_id)
            cdk.CfnOutput(self, "LoginUrl", value=signin.login_url, description="The managed login the page sends to")
        for name, key in self.api.api_keys.items():
            # The key's value stays in API Gateway: aws apigateway get-api-key --api-key <id> --include-value
            cdk.CfnOutput(self, f"ApiKeyId{name}", value=key.key_id, description=f"API key id for {name}")


def component_name(construct_id: str) -> str:
    """A top-level construct's component: ``Storage`` -> ``storage``, ``AuditLog`` -> ``audit-log``."""
    return names.COMPONENT_NAMES.get(construct_id) or re.sub(r"(?<!^)(?=[A-Z])", "-", construct_id).lower()


def tag_components(stack: cdk.Stack) -> None:
    """Tag every taggable resource with ``spendwatch:component``: its top-level construct's component.

    Applied per child of the stack, so a construct added later is covered without a change here; the tag nearest
    a resource wins, and what sits at the stack's root gets the root component.
    """
    cdk.Tags.of(stack).add(names.COMPONENT_TAG, names.ROOT_COMPONENT)
    for child in stack.node.children:
        cdk.Tags.of(child).add(names.COMPONENT_TAG, component_name(child.node.id))

"""The spendwatch stack: wires one construct per concern and exports what operators need."""

from __future__ import annotations

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
from infra.stacks.shared import common_layer
from infra.stacks.storage import Storage


class SpendwatchStack(cdk.Stack):
    """Storage, collection, pricing, the API and alerting, built from one validated config."""

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

    def _outputs(self) -> None:
        cdk.CfnOutput(self, "TableName", value=self.storage.table.table_name)
        cdk.CfnOutput(self, "BucketName", value=self.storage.bucket.bucket_name)
        cdk.CfnOutput(self, "AlertsTopicArn", value=self.storage.topic.topic_arn)
        cdk.CfnOutput(self, "ApiUrl", value=self.api.url)
        cdk.CfnOutput(self, "DeadLetterQueueUrl", value=self.collection.dead_letters.queue_url)
        cdk.CfnOutput(self, "AlertFailureQueueUrl", value=self.alerting.failures.queue_url)
        if self.api.signin is not None:
            signin = self.api.signin
            cdk.CfnOutput(self, "UserPoolId", value=signin.user_pool.user_pool_id, description="People who may sign in")
            cdk.CfnOutput(self, "UserPoolClientId", value=signin.client.user_pool_client_id)
            cdk.CfnOutput(self, "LoginUrl", value=signin.login_url, description="The managed login the page sends to")
        for name, key in self.api.api_keys.items():
            # The key's value stays in API Gateway: aws apigateway get-api-key --api-key <id> --include-value
            cdk.CfnOutput(self, f"ApiKeyId{name}", value=key.key_id, description=f"API key id for {name}")

"""Pricing: the function that turns usage items on the table's stream into priced charges.

Its stream mapping is made with the other consumers' (see ``Alerting``), from the same shared definition the
local poller runs, and sends what it finally gives up on to the same failure queue.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from spendwatch.platform import resources
from spendwatch.store import table as store_table

from infra.stacks import names
from infra.stacks.nag import acknowledge
from infra.stacks.shared import SpendwatchFunction
from infra.stacks.storage import Storage


class Pricing(Construct):
    """The price function: reads usage and aggregates, writes priced charges and their daily totals."""

    def __init__(
        self, scope: Construct, construct_id: str, *, storage: Storage, layer: lambda_.ILayerVersion, code: Path
    ) -> None:
        super().__init__(scope, construct_id)
        self.price = SpendwatchFunction(
            self,
            "Price",
            name=store_table.PRICE.function,
            code=code,
            layer=layer,
            memory_size=names.PRICE_MEMORY_MB,
            timeout=cdk.Duration.seconds(names.PRICE_TIMEOUT_SECONDS),
            description="Price usage items with the config's rate cards into charges",
            environment={
                resources.ENV_TABLE: storage.table.table_name,
                resources.ENV_CONFIG: names.DEPLOYED_CONFIG_PATH,
            },
        )
        storage.table.grant_read_write_data(self.price.function)
        acknowledge(
            self.price.role,
            "AwsSolutions-IAM5[Resource::*]",
            "The stream mapping's dynamodb:ListStreams cannot be scoped to a resource.",
        )

"""Table workers: functions fed by the table's stream that read and write the table and nothing else.

- ``price`` turns usage items into priced charges;
- ``recommend`` runs the recommendation engine after each finished collection (its run record).

Their stream mappings are made with the other consumers' (see ``Alerting``), from the same shared definitions the
local poller runs, and send what they finally give up on to the same failure queue.
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


def table_worker(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    storage: Storage,
    layer: lambda_.ILayerVersion,
    code: Path,
    size: tuple[int, int],
    description: str,
) -> SpendwatchFunction:
    """A function with the table and the config, ``size`` = (memory MB, timeout seconds)."""
    function = SpendwatchFunction(
        scope,
        construct_id,
        name=name,
        code=code,
        layer=layer,
        memory_size=size[0],
        timeout=cdk.Duration.seconds(size[1]),
        description=description,
        environment={resources.ENV_TABLE: storage.table.table_name, resources.ENV_CONFIG: names.DEPLOYED_CONFIG_PATH},
    )
    storage.table.grant_read_write_data(function.function)
    acknowledge(
        function.role,
        "AwsSolutions-IAM5[Resource::*]",
        "The stream mapping's dynamodb:ListStreams cannot be scoped to a resource.",
    )
    return function


class Pricing(Construct):
    """The price function: reads usage and aggregates, writes priced charges and their daily totals."""

    def __init__(
        self, scope: Construct, construct_id: str, *, storage: Storage, layer: lambda_.ILayerVersion, code: Path
    ) -> None:
        super().__init__(scope, construct_id)
        self.price = table_worker(
            self,
            "Price",
            name=store_table.PRICE.function,
            storage=storage,
            layer=layer,
            code=code,
            size=(names.PRICE_MEMORY_MB, names.PRICE_TIMEOUT_SECONDS),
            description="Price usage items with the config's rate cards into charges",
        )


class Recommending(Construct):
    """The recommend function: reads inventories, utilisation, charges and usage, writes recommendations."""

    def __init__(
        self, scope: Construct, construct_id: str, *, storage: Storage, layer: lambda_.ILayerVersion, code: Path
    ) -> None:
        super().__init__(scope, construct_id)
        self.recommend = table_worker(
            self,
            "Recommend",
            name=store_table.RECOMMEND.function,
            storage=storage,
            layer=layer,
            code=code,
            size=(names.RECOMMEND_MEMORY_MB, names.RECOMMEND_TIMEOUT_SECONDS),
            description="Re-evaluate recommendations after each finished collection",
        )

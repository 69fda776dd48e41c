"""The table and its stream: one definition for the CDK storage construct, the local runtime and the consumers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spendwatch.store.keys import ALERT, BUDGET, DAY_AGGREGATE, ITEM_TYPE, PK, REPORT, RUN, SK, TTL, USAGE

STREAM_VIEW = "NEW_AND_OLD_IMAGES"


def key_attributes() -> tuple[str, str]:
    """The (partition, sort) key attribute names, both strings."""
    return PK, SK


def ttl_attribute() -> str:
    """The attribute DynamoDB's time to live reads (epoch seconds)."""
    return TTL


def table_create_kwargs(table_name: str) -> dict[str, Any]:
    """``CreateTable`` arguments for the table, mirroring the CDK storage construct."""
    return {
        "TableName": table_name,
        "KeySchema": [{"AttributeName": PK, "KeyType": "HASH"}, {"AttributeName": SK, "KeyType": "RANGE"}],
        "AttributeDefinitions": [
            {"AttributeName": PK, "AttributeType": "S"},
            {"AttributeName": SK, "AttributeType": "S"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": STREAM_VIEW},
    }


def table_ttl_kwargs(table_name: str) -> dict[str, Any]:
    """``UpdateTimeToLive`` arguments for the table."""
    return {"TableName": table_name, "TimeToLiveSpecification": {"Enabled": True, "AttributeName": TTL}}


@dataclass(frozen=True)
class StreamConsumer:
    """A function fed by the table's stream: one definition for the CDK event source and the local poller."""

    function: str
    item_types: tuple[str, ...]
    event_names: tuple[str, ...] = ("INSERT", "MODIFY")
    batch_size: int = 100
    max_batching_window_seconds: int = 5
    retry_attempts: int = 3
    max_record_age_seconds: int = 3600
    bisect_batch_on_error: bool = True
    parallelization_factor: int = 1
    # Also MODIFY events in which one of these string attributes became one of its values (it was something else
    # before): (attribute, values) pairs.
    changed_to: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def filter_pattern(self) -> dict[str, Any]:
        """The event-source filter: only these events on items of these types reach the function."""
        return {
            "eventName": list(self.event_names),
            "dynamodb": {"NewImage": {ITEM_TYPE: {"S": list(self.item_types)}}},
        }

    def filter_patterns(self) -> list[dict[str, Any]]:
        """Every filter of the event source (Lambda lets a record through when any of them matches)."""
        patterns = [self.filter_pattern()]
        for attribute, values in self.changed_to:
            new = {ITEM_TYPE: {"S": list(self.item_types)}, attribute: {"S": list(values)}}
            old = {attribute: {"S": [{"anything-but": list(values)}]}}
            patterns.append({"eventName": ["MODIFY"], "dynamodb": {"NewImage": new, "OldImage": old}})
        return patterns


# Evaluation runs on the daily aggregates, not on each cost item: a collection of thousands of items
# touches one aggregate per source and day, written after its items, so each evaluation sees complete days
# and works per affected scope. Finished collection runs raise (or resolve) collection alerts, and a budget
# created or changed over the API is evaluated at once. Usage (pushed or collected) is checked against the plan
# limits on its metric.
ALERT_EVALUATE = StreamConsumer(function="alert-evaluate", item_types=(DAY_AGGREGATE, RUN, BUDGET, USAGE))
# Delivery consumes new alert and report items (the outbox). An escalation is a new item (its level is part of the
# id); a report is written once per period and kind; MODIFY events (status, delivery state) never re-deliver. The
# MODIFY events it sees are an alert becoming resolved, which channels that opened an incident (PagerDuty) close,
# and a critical alert nobody acknowledged whose reminder fell due (``reminder`` set to "due" by the hourly
# check); writing their delivery state, and the reminder's "sent", is filtered out.
ALERT_DELIVER = StreamConsumer(
    function="alert-deliver",
    item_types=(ALERT, REPORT),
    event_names=("INSERT",),
    batch_size=25,
    changed_to=(("status", ("resolved",)), ("reminder", ("due",))),
)
# Pricing consumes usage items, pushed or collected: each batch re-prices the (card, tenant, period)s it touches
# and writes priced charges and their daily aggregates, which evaluation then sees like any other cost.
PRICE = StreamConsumer(function="price", item_types=(USAGE,), max_batching_window_seconds=2)
# The recommendation engine runs after every finished collection: its run record is the signal that the source's
# inventory, utilisation and charges are complete (a batch with several finished runs evaluates once).
RECOMMEND = StreamConsumer(function="recommend", item_types=(RUN,), batch_size=25, max_batching_window_seconds=5)
STREAM_CONSUMERS = (ALERT_EVALUATE, ALERT_DELIVER, PRICE, RECOMMEND)

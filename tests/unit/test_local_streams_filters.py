"""Lambda event filtering as the local stream poller applies it, checked against the real consumer patterns."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from spendwatch.store.table import ALERT_DELIVER, ALERT_EVALUATE, STREAM_CONSUMERS

from spendwatch_local.streams.filters import FilterPatternError, check_pattern, matches, matches_any

ITEM_TYPES = ("agg_day", "agg_month", "run", "alert", "cost", "usage", "budget", "idempotency")
EVENT_NAMES = ("INSERT", "MODIFY", "REMOVE")


def stream_record(event_name: str, item_type: str | None, *, old_type: str | None = None) -> dict[str, Any]:
    """A DynamoDB stream record as Lambda filters it (and delivers it)."""
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": 1795000000,
        "Keys": {"pk": {"S": "p"}, "sk": {"S": "s"}},
        "SequenceNumber": "1100000000017454423009",
        "SizeBytes": 120,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if event_name != "REMOVE":
        dynamodb["NewImage"] = {"pk": {"S": "p"}, "sk": {"S": "s"}}
        if item_type is not None:
            dynamodb["NewImage"]["item_type"] = {"S": item_type}
    if event_name != "INSERT":
        dynamodb["OldImage"] = {"pk": {"S": "p"}, "sk": {"S": "s"}, "item_type": {"S": old_type or item_type or "x"}}
    return {
        "eventID": "e1",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-central-1",
        "dynamodb": dynamodb,
        "eventSourceARN": "arn:aws:dynamodb:eu-central-1:123456789012:table/t/stream/2026-01-01T00:00:00.000",
    }


# --- the real consumer patterns ------------------------------------------------------------------------------


@pytest.mark.parametrize("consumer", STREAM_CONSUMERS, ids=lambda c: c.function)
def test_real_patterns_are_supported(consumer: Any) -> None:
    for pattern in consumer.filter_patterns():
        check_pattern(pattern)


@pytest.mark.parametrize("consumer", STREAM_CONSUMERS, ids=lambda c: c.function)
def test_real_patterns_survive_the_json_lambda_stores(consumer: Any) -> None:
    # Deployed, the pattern travels as a JSON string in FilterCriteria; it must mean the same after the trip.
    pattern = json.loads(json.dumps(consumer.filter_pattern()))
    for item_type in consumer.item_types:
        assert matches(pattern, stream_record(consumer.event_names[0], item_type))


@pytest.mark.parametrize(
    ("event_name", "item_type", "expected"),
    [
        ("INSERT", "agg_day", True),
        ("MODIFY", "agg_day", True),  # a restated day
        ("INSERT", "run", True),
        ("MODIFY", "run", True),  # a run that finished (running -> failed)
        ("REMOVE", "agg_day", False),  # no NewImage
        ("INSERT", "agg_month", False),
        ("INSERT", "cost", False),
        ("INSERT", "alert", False),
        ("INSERT", None, False),  # an item without item_type
    ],
)
def test_evaluate_sees_daily_aggregates_and_runs(event_name: str, item_type: str | None, expected: bool) -> None:
    assert matches(ALERT_EVALUATE.filter_pattern(), stream_record(event_name, item_type)) is expected


@pytest.mark.parametrize(
    ("event_name", "item_type", "expected"),
    [
        ("INSERT", "alert", True),
        ("MODIFY", "alert", False),  # acknowledging or marking delivered must never re-deliver
        ("REMOVE", "alert", False),
        ("INSERT", "agg_day", False),
    ],
)
def test_deliver_sees_only_new_alerts(event_name: str, item_type: str, expected: bool) -> None:
    assert matches(ALERT_DELIVER.filter_pattern(), stream_record(event_name, item_type)) is expected


def _status_change(old: str, new: str, item_type: str = "alert") -> dict[str, Any]:
    record = stream_record("MODIFY", item_type)
    record["dynamodb"]["OldImage"]["status"] = {"S": old}
    record["dynamodb"]["NewImage"]["status"] = {"S": new}
    return record


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("open", "resolved", True),  # PagerDuty closes the incident
        ("acknowledged", "resolved", True),
        ("snoozed", "resolved", True),
        ("resolved", "resolved", False),  # recording the resolution's delivery state must not come back
        ("open", "acknowledged", False),
        ("open", "open", False),  # recording an open alert's delivery state
    ],
)
def test_deliver_sees_alerts_becoming_resolved(old: str, new: str, expected: bool) -> None:
    patterns = json.loads(json.dumps(ALERT_DELIVER.filter_patterns()))
    assert matches_any(patterns, _status_change(old, new)) is expected
    assert not matches_any(patterns, _status_change(old, new, item_type="budget"))


def test_the_new_image_decides_not_the_old_one() -> None:
    record = stream_record("MODIFY", "cost", old_type="agg_day")
    assert not matches(ALERT_EVALUATE.filter_pattern(), record)


@given(st.sampled_from(EVENT_NAMES), st.sampled_from(ITEM_TYPES))
def test_each_record_reaches_exactly_the_consumers_that_declare_it(event_name: str, item_type: str) -> None:
    record = stream_record(event_name, item_type)  # no status: no consumer's status change applies
    for consumer in STREAM_CONSUMERS:
        declared = event_name in consumer.event_names and item_type in consumer.item_types
        assert matches_any(consumer.filter_patterns(), record) is declared


# --- the syntax ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ("a", "a", True),
        ("a", "b", False),
        (5, 5.0, True),
        (5, "5", False),  # DynamoDB numbers are strings: they never equal a JSON number
        (True, True, True),
        (True, 1, False),
        (None, None, True),
        ("", "", True),
        ({"prefix": "agg_"}, "agg_day", True),
        ({"prefix": "agg_"}, "alert", False),
        ({"prefix": {"equals-ignore-case": "AGG_"}}, "agg_day", True),
        ({"suffix": "_day"}, "agg_day", True),
        ({"suffix": "_day"}, "agg_month", False),
        ({"equals-ignore-case": "ALERT"}, "alert", True),
        ({"wildcard": "agg_*"}, "agg_month", True),
        ({"wildcard": "a*t"}, "alert", True),
        ({"wildcard": "a*t"}, "alerts", False),
        ({"anything-but": "alert"}, "run", True),
        ({"anything-but": "alert"}, "alert", False),
        ({"anything-but": ["alert", "run"]}, "run", False),
        ({"anything-but": {"prefix": "agg_"}}, "agg_day", False),
        ({"anything-but": {"prefix": "agg_"}}, "run", True),
        ({"numeric": [">", 0, "<=", 5]}, 5, True),
        ({"numeric": [">", 0, "<=", 5]}, 0, False),
        ({"numeric": [">", 0]}, "1", False),
        ({"numeric": ["=", 1]}, True, False),
    ],
)
def test_value_rules(rule: Any, value: Any, expected: bool) -> None:
    check_pattern({"f": [rule]})
    assert matches({"f": [rule]}, {"f": value}) is expected


def test_any_value_in_the_list_matches() -> None:
    assert matches({"f": ["a", {"prefix": "x"}]}, {"f": "xyz"})
    assert not matches({"f": ["a", {"prefix": "x"}]}, {"f": "b"})


def test_every_field_must_match() -> None:
    pattern = {"a": ["1"], "b": {"c": ["2"]}}
    assert matches(pattern, {"a": "1", "b": {"c": "2"}})
    assert not matches(pattern, {"a": "1", "b": {"c": "3"}})
    assert not matches(pattern, {"a": "1"})


def test_a_list_in_the_record_matches_when_any_element_does() -> None:
    assert matches({"f": ["b"]}, {"f": ["a", "b"]})
    assert not matches({"f": ["c"]}, {"f": ["a", "b"]})


def test_missing_fields_match_only_exists_false() -> None:
    assert matches({"f": [{"exists": False}]}, {})
    assert matches({"o": {"f": [{"exists": False}]}}, {})
    assert not matches({"f": [{"exists": False}]}, {"f": None})
    assert not matches({"f": [{"exists": True}]}, {})
    assert matches({"f": [{"exists": True}]}, {"f": None})
    assert not matches({"f": [{"anything-but": "x"}]}, {})
    assert not matches({"f": [None]}, {})


def test_exists_applies_to_leaves_only() -> None:
    assert not matches({"f": [{"exists": True}]}, {"f": {"S": "x"}})
    assert matches({"f": {"S": [{"exists": True}]}}, {"f": {"S": "x"}})


def test_or_combines_with_the_other_fields() -> None:
    pattern = {"eventName": ["INSERT"], "$or": [{"a": ["1"]}, {"b": ["2"]}]}
    check_pattern(pattern)
    assert matches(pattern, {"eventName": "INSERT", "b": "2"})
    assert not matches(pattern, {"eventName": "MODIFY", "b": "2"})
    assert not matches(pattern, {"eventName": "INSERT", "a": "2"})


def test_filters_of_one_mapping_are_ored() -> None:
    assert matches_any([{"a": ["1"]}, {"a": ["2"]}], {"a": "2"})
    assert not matches_any([{"a": ["1"]}, {"a": ["2"]}], {"a": "3"})
    assert not matches_any([], {"a": "1"})


@pytest.mark.parametrize(
    "pattern",
    [
        {},
        {"f": "INSERT"},  # a leaf must be a list
        {"f": []},
        {"f": [{"cidr": "10.0.0.0/24"}]},
        {"f": [{"prefix": 1}]},
        {"f": [{"prefix": "a", "suffix": "b"}]},
        {"f": [{"exists": "yes"}]},
        {"f": [{"numeric": [">"]}]},
        {"f": [{"numeric": ["~", 1]}]},
        {"f": [{"anything-but": {"wildcard": "a*"}}]},
        {"f": [{"anything-but": []}]},
        {"f": [["nested"]]},
        {"$or": [{"a": ["1"]}]},
        {"o": {}},
    ],
)
def test_unsupported_or_malformed_patterns_are_refused(pattern: Any) -> None:
    with pytest.raises(FilterPatternError):
        check_pattern(pattern)

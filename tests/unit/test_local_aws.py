"""The embedded AWS: stream records served without moto's response serializer read the same as with it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from spendwatch.store import table as store_table

from spendwatch_local.aws import AwsEndpoint, MotoProcess, start_aws


@pytest.fixture
def aws() -> Iterator[AwsEndpoint]:
    environ: dict[str, str] = {}
    endpoint = start_aws(environ, in_process=True)  # the fixes are switched off and on in this process
    yield endpoint
    endpoint.stop()


def _client(service: str, endpoint: AwsEndpoint) -> Any:
    return boto3.client(
        service,
        region_name=endpoint.region,
        endpoint_url=endpoint.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _read_stream(streams: Any, arn: str) -> list[dict[str, Any]]:
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records: list[dict[str, Any]] = []
    position = iterator["ShardIterator"]
    while True:
        page = streams.get_records(ShardIterator=position, Limit=2)
        if not page["Records"]:
            return records
        records.extend(page["Records"])
        position = page["NextShardIterator"]


def test_stream_records_read_the_same_with_and_without_the_serializer(
    aws: AwsEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert aws.embedded
    dynamodb = _client("dynamodb", aws)
    dynamodb.create_table(**store_table.table_create_kwargs("t"))
    table = boto3.resource(
        "dynamodb",
        region_name=aws.region,
        endpoint_url=aws.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).Table("t")
    item = {
        "pk": "COST#demo",
        "sk": "2026-11-30#a",
        "item_type": "cost",
        "amount": Decimal("12.3456"),
        "tags": {"team": "web", "env": "prod"},
        "labels": ["a", "b"],
        "flag": True,
        "nothing": None,
    }
    table.put_item(Item=item)
    table.put_item(Item={**item, "amount": Decimal("13")})
    table.delete_item(Key={"pk": "COST#demo", "sk": "2026-11-30#a"})
    arn = dynamodb.describe_table(TableName="t")["Table"]["LatestStreamArn"]
    streams = _client("dynamodbstreams", aws)

    direct = _read_stream(streams, arn)
    assert getattr(DynamoDBStreamsHandler.get_records, "_spendwatch_direct", False)
    monkeypatch.setattr(DynamoDBStreamsHandler, "get_records", DynamoDBStreamsHandler.get_records.__wrapped__)
    serialized = _read_stream(streams, arn)

    assert [r["eventName"] for r in direct] == ["INSERT", "MODIFY", "REMOVE"]
    assert direct == serialized
    assert isinstance(direct[0]["dynamodb"]["ApproximateCreationDateTime"], datetime)
    assert direct[1]["dynamodb"]["OldImage"]["amount"] == {"N": "12.3456"}
    assert direct[1]["dynamodb"]["NewImage"]["tags"] == {"M": {"team": {"S": "web"}, "env": {"S": "prod"}}}


def _queries(ddb: Any, table: str) -> list[Any]:
    """Queries of every shape the store makes: whole partitions, key ranges and prefixes, pages, filters,
    projections, newest first, and an empty partition."""
    key = "pk = :p"
    asked = [
        {"KeyConditionExpression": key, "ExpressionAttributeValues": {":p": {"S": "P#1"}}},
        {"KeyConditionExpression": key, "ExpressionAttributeValues": {":p": {"S": "nothing"}}},
        {
            "KeyConditionExpression": f"{key} AND sk BETWEEN :a AND :b",
            "ExpressionAttributeValues": {":p": {"S": "P#2"}, ":a": {"S": "2026-01-03"}, ":b": {"S": "2026-01-07#~"}},
        },
        {
            "KeyConditionExpression": f"{key} AND begins_with(sk, :s)",
            "ExpressionAttributeValues": {":p": {"S": "P#1"}, ":s": {"S": "2026-01-1"}},
        },
        {"KeyConditionExpression": key, "ExpressionAttributeValues": {":p": {"S": "P#2"}}, "Limit": 4},
        {"KeyConditionExpression": key, "ExpressionAttributeValues": {":p": {"S": "P#2"}}, "ScanIndexForward": False},
        {
            "KeyConditionExpression": key,
            "FilterExpression": "#m IN (:m0, :m1)",
            "ExpressionAttributeNames": {"#m": "metric"},
            "ExpressionAttributeValues": {":p": {"S": "P#1"}, ":m0": {"S": "m0"}, ":m1": {"S": "m2"}},
            "ProjectionExpression": "pk, sk, metric",
        },
    ]
    answers = []
    for kwargs in asked:
        page = ddb.query(TableName=table, **kwargs)
        answers.append((page["Items"], page.get("LastEvaluatedKey"), page["Count"], page["ScannedCount"]))
    start = ddb.query(
        TableName=table, KeyConditionExpression=key, ExpressionAttributeValues={":p": {"S": "P#2"}}, Limit=4
    )
    after = ddb.query(
        TableName=table,
        KeyConditionExpression=key,
        ExpressionAttributeValues={":p": {"S": "P#2"}},
        ExclusiveStartKey=start["LastEvaluatedKey"],
    )
    answers.append(after["Items"])
    return answers


def test_queries_answered_from_their_partition_read_the_same_as_from_the_whole_table(aws: AwsEndpoint) -> None:
    from moto.dynamodb.models.table import Table

    ddb = _client("dynamodb", aws)
    ddb.create_table(**store_table.table_create_kwargs("q"))
    for partition in range(5):
        for day in range(20):
            item = {
                "pk": {"S": f"P#{partition}"},
                "sk": {"S": f"2026-01-{day + 1:02d}#{partition}"},
                "metric": {"S": f"m{day % 4}"},
                "quantity": {"N": str(day * 1.5)},
            }
            ddb.put_item(TableName="q", Item=item)
    assert getattr(Table.query, "_spendwatch_direct", False)
    direct = _queries(ddb, "q")
    with pytest.MonkeyPatch.context() as unfixed:
        unfixed.setattr(Table, "query", Table.query.__wrapped__)  # type: ignore[attr-defined]
        whole_table = _queries(ddb, "q")
    assert direct == whole_table
    assert [len(answer[0]) for answer in direct[:-1]] == [20, 0, 5, 10, 4, 20, 10]


def test_dynamodb_results_read_the_same_with_and_without_the_serializer(aws: AwsEndpoint) -> None:
    from moto.dynamodb.responses import DynamoResult

    ddb = _client("dynamodb", aws)
    ddb.create_table(**store_table.table_create_kwargs("r"))
    item = {
        "pk": {"S": "AGG#D#2026-11"},
        "sk": {"S": "s#2026-11-24"},
        "totals": {"M": {"USD": {"M": {"total": {"N": "79.4372988918"}, "by": {"M": {"provider": {"M": {}}}}}}}},
        "tags": {"L": [{"S": "a"}, {"NULL": True}, {"BOOL": False}]},
        "blob": {"B": b"\x00\x01spend"},
        "kinds": {"SS": ["x", "y"]},
    }
    ddb.put_item(TableName="r", Item=item)
    ddb.put_item(TableName="r", Item={**item, "sk": {"S": "s#2026-11-25"}, "n": {"N": "1"}})
    ddb.put_item(TableName="r", Item={**item, "n": {"N": "1"}})

    def answers() -> list[Any]:
        key = {"pk": item["pk"], "sk": item["sk"]}
        return [
            ddb.query(TableName="r", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": item["pk"]}),
            ddb.query(
                TableName="r",
                KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": item["pk"]},
                ProjectionExpression="sk, totals",
                Limit=1,
            ),
            ddb.get_item(TableName="r", Key=key),
            ddb.get_item(TableName="r", Key={"pk": {"S": "none"}, "sk": {"S": "none"}}),
            ddb.scan(TableName="r"),
            ddb.batch_get_item(RequestItems={"r": {"Keys": [key]}}),
            ddb.update_item(TableName="r", Key=key, UpdateExpression="SET n = :n", ExpressionAttributeValues={
                ":n": {"N": "1"}}, ReturnValues="ALL_NEW"),
            ddb.describe_table(TableName="r")["Table"]["KeySchema"],
        ]  # fmt: skip

    assert getattr(DynamoResult.execute_result, "_spendwatch_direct", False)
    direct = answers()
    with pytest.MonkeyPatch.context() as unfixed:
        unfixed.setattr(DynamoResult, "execute_result", DynamoResult.execute_result.__wrapped__)  # type: ignore[attr-defined]
        serialized = answers()

    def clean(answer: Any) -> Any:
        if isinstance(answer, dict):
            return {k: clean(v) for k, v in answer.items() if k != "ResponseMetadata"}
        return answer

    for one, other in zip(direct, serialized, strict=True):
        assert clean(one) == clean(other), json.dumps([clean(one), clean(other)], default=str)
    assert direct[0]["Items"][0]["blob"] == {"B": b"\x00\x01spend"}
    assert direct[1]["LastEvaluatedKey"] == {"pk": item["pk"], "sk": item["sk"]}


def test_projections_on_attribute_names_read_the_same_as_moto_projects_them(aws: AwsEndpoint) -> None:
    from moto.dynamodb.models.dynamo_type import Item

    ddb = _client("dynamodb", aws)
    ddb.create_table(**store_table.table_create_kwargs("p"))
    item = {
        "pk": {"S": "AGG#D#2026-11"},
        "sk": {"S": "s#2026-11-24"},
        "period": {"S": "2026-11-24"},
        "totals": {"M": {"USD": {"M": {"total": {"N": "79.4372988918"}, "by": {"M": {"svc": {"L": [{"N": "1"}]}}}}}}},
        "kinds": {"SS": ["x", "y"]},
        "unread": {"S": "not asked for"},
    }
    ddb.put_item(TableName="p", Item=item)
    ddb.put_item(TableName="p", Item={**item, "sk": {"S": "s#2026-11-25"}, "period": {"S": "2026-11-25"}})
    key = {"pk": item["pk"], "sk": item["sk"]}
    names = {"#a0": "period", "#a1": "totals", "#a2": "kinds", "#a3": "missing"}

    def query(projection: str, names: dict[str, str]) -> list[Any]:
        return list(
            ddb.query(
                TableName="p",
                KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": item["pk"]},
                ProjectionExpression=projection,
                ExpressionAttributeNames=names,
            )["Items"]
        )

    def answers() -> list[Any]:
        return [
            query("#a0, #a1, #a2, #a3", names),
            query("totals.USD.#t", {"#t": "total"}),
            query("#a3", {"#a3": "missing"}),
            ddb.get_item(TableName="p", Key=key, ProjectionExpression="period, kinds")["Item"],
        ]

    assert getattr(Item.project, "_spendwatch_direct", False)
    direct = answers()
    with pytest.MonkeyPatch.context() as unfixed:
        unfixed.setattr(Item, "project", Item.project.__wrapped__)  # type: ignore[attr-defined]
        projected = answers()

    def unordered_sets(value: Any) -> Any:  # a set has no order; moto's own projection passes it through a set
        if isinstance(value, dict):
            return {k: sorted(v) if k == "SS" else unordered_sets(v) for k, v in value.items()}
        return [unordered_sets(v) for v in value] if isinstance(value, list) else value

    assert unordered_sets(direct) == unordered_sets(projected)
    assert direct[0][0] == {key: item[key] for key in ("period", "totals", "kinds")}
    assert direct[1][0] == {"totals": {"M": {"USD": {"M": {"total": {"N": "79.4372988918"}}}}}}
    assert direct[2] == [{}, {}]


def test_hosts_are_routed_to_the_same_service_once_remembered(aws: AwsEndpoint) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    route = DomainDispatcherApplication.get_backend_for_host
    assert getattr(route, "_spendwatch_direct", False)
    app = DomainDispatcherApplication(lambda service: None)  # type: ignore[arg-type,return-value]
    hosts = ["dynamodb.us-east-1.amazonaws.com", "sns.eu-west-1.amazonaws.com", "127.0.0.1:4566", None]
    first = [route(app, host) for host in hosts]
    assert first == [route.__wrapped__(app, host) for host in hosts]  # type: ignore[attr-defined]
    assert first[:2] == ["dynamodb", "sns"] and first[2:] == [None, None]
    assert [route(app, host) for host in hosts] == first


def test_the_runtime_s_moto_runs_in_its_own_process_and_goes_with_its_stdin() -> None:
    environ: dict[str, str] = {}
    endpoint = start_aws(environ)
    assert isinstance(endpoint.server, MotoProcess) and endpoint.embedded
    assert environ["AWS_ENDPOINT_URL"] == endpoint.url and environ["AWS_ACCESS_KEY_ID"] == "testing"
    process = endpoint.server.process
    ddb = _client("dynamodb", endpoint)
    ddb.create_table(**store_table.table_create_kwargs("own"))
    ddb.put_item(TableName="own", Item={"pk": {"S": "a"}, "sk": {"S": "b"}, "n": {"N": "1"}})
    from moto.backends import get_backend  # nothing of it is in this process

    assert "own" not in get_backend("dynamodb")["123456789012"]["us-east-1"].tables
    assert ddb.get_item(TableName="own", Key={"pk": {"S": "a"}, "sk": {"S": "b"}})["Item"]["n"] == {"N": "1"}
    endpoint.stop()
    assert process.poll() == 0 and endpoint.server is None

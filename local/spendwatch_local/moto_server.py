"""The embedded AWS: moto's server with the project's fixes to its slow paths, in a process of its own.

``python -m spendwatch_local.moto_server`` starts it on a free port of 127.0.0.1, prints ``HOST:PORT`` on its
first line and serves until its stdin closes; it ignores Ctrl-C, which reaches it together with the runtime that
started it and still needs it while stopping. Only the local runtime imports moto.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import os
import signal
import sys
import threading
from datetime import datetime
from decimal import Decimal
from typing import Any


def apply_fixes() -> None:
    """The fixes to moto's DynamoDB below (also for moto used in-process, as by ``mock_aws``)."""
    serve_stream_records_directly()
    serve_dynamodb_results_directly()
    query_partitions_directly()
    project_top_level_attributes_directly()


def start_server() -> Any:
    """A started ``ThreadedMotoServer`` on a free port of 127.0.0.1, with every fix below applied."""
    from moto.server import ThreadedMotoServer

    # werkzeug logs every request at INFO; moto serves hundreds per collection.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    apply_fixes()
    route_hosts_once()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    return server


def serve_stream_records_directly() -> None:
    """Answer DynamoDB Streams ``GetRecords`` with the records' JSON as moto stores it, skipping its serializer.

    moto 5.2's generic response serializer takes about 3 ms per stream record; the demo's start-up writes some
    4,200 records and each of the two stream consumers reads all of them, so serialising alone cost ~35 s of CPU
    before the first alert. moto keeps every record in DynamoDB's wire shape already (attribute values typed; the
    creation time, a datetime, is written here as epoch seconds to the millisecond, as the serializer does), so
    the JSON is the same answer botocore parses; ``tests/unit/test_local_aws.py`` reads a stream both ways.
    """
    from moto.core.serialize import TimestampSerializer
    from moto.dynamodb.models.utilities import DynamoJsonEncoder
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    class _Encoder(DynamoJsonEncoder):
        def default(self, o: Any) -> Any:
            if isinstance(o, datetime):
                return TimestampSerializer._timestamp_unixtimestamp(o)  # milliseconds, as the serializer writes
            return super().default(o)

    if getattr(DynamoDBStreamsHandler.get_records, "_spendwatch_direct", False):
        return

    def get_records(handler: DynamoDBStreamsHandler) -> str:
        limit = handler._get_param("Limit")
        result = handler.backend.get_records(handler._get_param("ShardIterator"), 1000 if limit is None else limit)
        return json.dumps(result, cls=_Encoder)

    get_records._spendwatch_direct = True  # type: ignore[attr-defined]
    get_records.__wrapped__ = DynamoDBStreamsHandler.get_records  # type: ignore[attr-defined]
    DynamoDBStreamsHandler.get_records = get_records  # type: ignore[method-assign,assignment]


def _without_nulls(value: Any) -> Any:
    """A result with the ``None`` members dropped, as the serializer leaves out members that have no value."""
    if isinstance(value, dict):
        return {key: _without_nulls(inner) for key, inner in value.items() if inner is not None}
    if isinstance(value, list):
        return [_without_nulls(inner) for inner in value]
    return value


def _wire(value: Any) -> Any:
    """What the JSON protocol writes for values JSON has no type for: times as epoch seconds, bytes as base64."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} has no JSON form")


def serve_dynamodb_results_directly() -> None:
    """Answer DynamoDB's item results (``Query``, ``GetItem``, ``Scan``, ``BatchGetItem``, writes returning items)
    with their JSON as moto builds it, skipping its generic response serializer.

    moto 5.2 walks every attribute value of a result through the operation's shapes: a query of a month of daily
    aggregates (150 items of ~1.4 KB) took ~1.4 s on an idle machine, ~85 % of it in the serializer, and the demo's
    page reads a dozen such partitions. moto's ``DynamoResult`` already holds the answer in DynamoDB's wire shape
    (typed attribute values, numbers as strings), so its JSON, without empty members, is the body botocore parses;
    errors and every other service still go through the serializer. ``tests/unit/test_local_aws.py`` reads the
    same answers both ways.
    """
    from moto.dynamodb.responses import DynamoResult

    if getattr(DynamoResult.execute_result, "_spendwatch_direct", False):
        return
    serialized = DynamoResult.execute_result

    def execute_result(result: DynamoResult, context: Any) -> tuple[int, dict[str, str], str]:
        body = json.dumps(_without_nulls(result.result), separators=(",", ":"), default=_wire)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    execute_result._spendwatch_direct = True  # type: ignore[attr-defined]
    execute_result.__wrapped__ = serialized  # type: ignore[attr-defined]
    DynamoResult.execute_result = execute_result  # type: ignore[method-assign,assignment]


_QUERIED = threading.local()


def query_partitions_directly() -> None:
    """Answer a table's ``Query`` from the queried partition alone instead of every item of the table.

    moto 5.2 answers a query on a table's own key by sorting all the table's items and keeping those of the
    partition: each query costs time in proportion to the whole table (~0.2 s on the demo's ~7,000 items, even
    for an empty partition), so a page of the API that reads 30 partitions took ~10 s. Its items are already
    kept per partition; while a query runs, ``Table.all_items`` here returns the one partition (sorted by range
    key, as moto sorts), and nothing else changes: conditions, filters, projections, paging and ordering are
    moto's own. Index queries and scans are left as they are. ``tests/unit/test_local_aws.py`` queries both ways.
    """
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_spendwatch_direct", False):
        return
    every_item = Table.all_items
    query = Table.query

    def all_items(table: Table) -> list[Any]:
        partition = getattr(_QUERIED, "partition", None)
        if partition is not None and partition[0] is table:
            return sorted(partition[1], key=lambda item: item.range_key)
        return every_item(table)

    def query_one_partition(table: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("index_name") or hash_key is None or not table.range_key_attr:
            return query(table, hash_key, *args, **kwargs)
        found = table.items.get(hash_key)
        _QUERIED.partition = (table, list(found.values()) if found else [])
        try:
            return query(table, hash_key, *args, **kwargs)
        finally:
            _QUERIED.partition = None

    query_one_partition._spendwatch_direct = True  # type: ignore[attr-defined]
    query_one_partition.__wrapped__ = query  # type: ignore[attr-defined]
    Table.all_items = all_items  # type: ignore[method-assign,assignment]
    Table.query = query_one_partition  # type: ignore[method-assign,assignment]


def project_top_level_attributes_directly() -> None:
    """Project an item on top-level attribute names by picking those attributes, not by converting it to JSON.

    moto 5.2 projects an item by converting the whole item to plain JSON (a deep copy and a deserialisation)
    once per projected name, then serialising what it found back: reading a month of daily aggregates on three
    names cost three full conversions of each of 150 items, ~45 % of the time moto spent answering the page.
    Picking the named attributes (copied, as moto copies them) gives the same item; paths into maps or lists
    (``a.b``, ``a[0]``) still go through moto's own projection. ``tests/unit/test_local_aws.py`` projects both ways.
    """
    from moto.dynamodb.models.dynamo_type import Item

    if getattr(Item.project, "_spendwatch_direct", False):
        return
    project = Item.project

    def project_names(item: Item, projection_expressions: list[list[str]]) -> Item:
        if not all(len(path) == 1 and "[" not in path[0] for path in projection_expressions):
            return project(item, projection_expressions)
        names = dict.fromkeys(path[0] for path in projection_expressions)
        attrs = {name: copy.deepcopy(item.attrs[name]) for name in names if name in item.attrs}
        return Item(hash_key=item.hash_key, range_key=item.range_key, attrs=attrs)

    project_names._spendwatch_direct = True  # type: ignore[attr-defined]
    project_names.__wrapped__ = project  # type: ignore[attr-defined]
    Item.project = project_names  # type: ignore[method-assign,assignment]


def route_hosts_once() -> None:
    """Remember which service answers a ``Host`` header instead of matching it against every service's URLs again.

    moto's server tries each request's host against the URL patterns of every service it emulates (some 800
    regular expressions) and, for the endpoint's ``127.0.0.1:port``, fails and tries again with the host it infers
    from the signature: ~14 % of its time on the page's 35 queries. The answer depends on the host alone.
    """
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    if getattr(DomainDispatcherApplication.get_backend_for_host, "_spendwatch_direct", False):
        return
    find = DomainDispatcherApplication.get_backend_for_host
    found: dict[str | None, Any] = {}

    def get_backend_for_host(app: DomainDispatcherApplication, host: str | None) -> Any:
        if host not in found:
            found[host] = find(app, host)
        return found[host]

    get_backend_for_host._spendwatch_direct = True  # type: ignore[attr-defined]
    get_backend_for_host.__wrapped__ = find  # type: ignore[attr-defined]
    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign,assignment]


def main() -> None:
    """Serve until stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    server = start_server()
    host, port = server.get_host_and_port()
    print(f"{host}:{port}", flush=True)
    sys.stdin.read()  # returns when the parent closes the pipe or exits
    # Freeing moto's in-memory AWS object by object would take seconds; nothing in it outlives the process anyway.
    os._exit(0)


if __name__ == "__main__":
    main()

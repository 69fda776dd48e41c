"""The inventory store on moto: one item per kind, kinds replaced independently, large kinds split into parts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from spendwatch.domain.inventory import Inventory, ReservedIp, Size, Snapshot, Volume
from spendwatch.store import Store
from spendwatch.store import inventory as inventory_store

from tests.integration.conftest import TABLE

FIRST = datetime(2025, 2, 10, 6, tzinfo=UTC)
SECOND = datetime(2025, 2, 10, 12, tzinfo=UTC)


def _store(aws_env: dict[str, Any]) -> Store:
    return Store(aws_env["dynamodb"], TABLE)


def _sizes(count: int) -> list[Size]:
    return [
        Size(slug=f"s-{n}vcpu", vcpus=n, memory_mib=1024 * n, price_monthly=Decimal(6 * n), price_hourly=Decimal(1))
        for n in range(1, count + 1)
    ]


def _volume(attached: bool) -> Volume:
    return Volume(
        id="506f78a4",
        size_gigabytes=Decimal(100),
        droplet_ids=["402001"] if attached else [],
        price_monthly=Decimal("10.00"),
    )


def _items(aws_env: dict[str, Any]) -> list[dict[str, Any]]:
    return aws_env["dynamodb"].scan(TableName=TABLE)["Items"]  # type: ignore[no-any-return]


def test_an_inventory_round_trips_with_exact_prices(aws_env: dict[str, Any]) -> None:
    store = _store(aws_env)
    inventory = Inventory(
        source="do",
        sizes=_sizes(3),
        volumes=[_volume(False)],
        reserved_ips=[ReservedIp(ip="45.55.96.47", price_monthly=Decimal("5.00"))],
        snapshots=[
            Snapshot(
                id="6372321",
                resource_id="200776916",
                resource_type="droplet",
                created_at=datetime(2020, 7, 28, 16, 47, 44, tzinfo=UTC),
                size_gigabytes=Decimal("2.34"),
                price_monthly=Decimal("0.14"),
            )
        ],
    )

    assert store.put_inventory(inventory, FIRST) == 4
    read = store.inventory("do")

    assert read is not None
    assert read.model_dump(exclude={"read_at"}) == inventory.model_dump(exclude={"read_at"})
    assert read.read_at == dict.fromkeys(["sizes", "volumes", "reserved_ips", "snapshots"], FIRST)
    assert read.droplets is None  # never read
    assert {item["pk"]["S"] for item in _items(aws_env)} == {"INVENTORY#do"}
    assert {item["item_type"]["S"] for item in _items(aws_env)} == {"inventory"}
    assert store.inventory("other") is None


def test_a_later_run_replaces_only_the_kinds_it_read(aws_env: dict[str, Any]) -> None:
    store = _store(aws_env)
    store.put_inventory(Inventory(source="do", sizes=_sizes(2), volumes=[_volume(False)]), FIRST)

    store.put_inventory(Inventory(source="do", volumes=[_volume(True)]), SECOND)
    read = store.inventory("do")

    assert read is not None
    assert [v.attached for v in read.volumes or []] == [True]
    assert [s.slug for s in read.sizes or []] == ["s-1vcpu", "s-2vcpu"]
    assert read.read_at == {"sizes": FIRST, "volumes": SECOND}


def test_a_kind_too_big_for_one_item_is_split_and_a_smaller_one_leaves_no_parts(
    aws_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inventory_store, "PART_BYTES", 400)
    store = _store(aws_env)

    written = store.put_inventory(Inventory(source="do", sizes=_sizes(12)), FIRST)
    assert written > 1
    assert [s.slug for s in (store.inventory("do") or Inventory(source="do")).sizes or []] == [
        f"s-{n}vcpu" for n in range(1, 13)
    ]

    assert store.put_inventory(Inventory(source="do", sizes=_sizes(1)), SECOND) == 1
    assert len(_items(aws_env)) == 1
    read = store.inventory("do")
    assert read is not None and [s.slug for s in read.sizes or []] == ["s-1vcpu"]


def test_a_write_missing_a_part_is_ignored_for_the_previous_complete_one(aws_env: dict[str, Any]) -> None:
    store = _store(aws_env)
    store.put_inventory(Inventory(source="do", sizes=_sizes(2)), FIRST)
    # A later write that stopped after its first part of two (written by hand: the store never leaves one).
    unfinished = inventory_store.inventory_records(Inventory(source="do", sizes=_sizes(5)), SECOND)[0]
    unfinished.update(parts=2, sk="sizes#0001")
    store.batch_put([unfinished])

    read = store.inventory("do")

    assert read is not None and read.read_at == {"sizes": FIRST}
    assert len(read.sizes or []) == 2

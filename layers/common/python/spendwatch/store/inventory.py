"""Inventory snapshots: per source, one item per resource kind, replaced whole by each run that read the kind.

A kind's resources travel as one JSON string (DynamoDB items hold at most 400 KB, so a large kind is split into
parts that all carry the run's ``read_at`` and the number of parts). A reader keeps, per kind, only the parts of
the newest complete write, so a larger earlier snapshot's leftover parts never mix in.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from spendwatch.domain.inventory import INVENTORY_KINDS, Inventory, InventoryKind
from spendwatch.store.base import StoreError, Table
from spendwatch.store.keys import INVENTORY, ITEM_TYPE, PK, SK, TTL, inventory_pk, inventory_sk

PART_BYTES = 300_000  # well under DynamoDB's 400 KB item limit, leaving room for the other attributes
# A source that stops being collected stops having an inventory: recommendations must not rest on old news.
INVENTORY_RETENTION = timedelta(days=30)


def _parts(resources: list[dict[str, Any]]) -> list[str]:
    """The resources as JSON arrays of at most PART_BYTES each (at least one part, even when empty)."""
    parts: list[str] = []
    current: list[str] = []
    size = 2
    for resource in resources:
        text = json.dumps(resource, separators=(",", ":"), sort_keys=True)
        if current and size + len(text) + 1 > PART_BYTES:
            parts.append(f"[{','.join(current)}]")
            current, size = [], 2
        current.append(text)
        size += len(text) + 1
    parts.append(f"[{','.join(current)}]")
    return parts


def inventory_records(inventory: Inventory, read_at: datetime) -> list[dict[str, Any]]:
    """The stored items of every kind present in ``inventory``, read at ``read_at``."""
    records = []
    expires = int((read_at + INVENTORY_RETENTION).timestamp())
    for kind, resources in inventory.kinds().items():
        parts = _parts([resource.model_dump(mode="json") for resource in resources])
        for number, text in enumerate(parts):
            records.append(
                {
                    PK: inventory_pk(inventory.source),
                    SK: inventory_sk(kind, number),
                    ITEM_TYPE: INVENTORY,
                    TTL: expires,
                    "kind": kind,
                    "part": number,
                    "parts": len(parts),
                    "read_at": read_at.isoformat(),
                    "resources": text,
                }
            )
    return records


def inventory_from_records(source: str, records: list[dict[str, Any]]) -> Inventory | None:
    """The newest complete snapshot of each kind among ``records`` (None when there is none)."""
    writes: dict[tuple[str, str], dict[int, dict[str, Any]]] = defaultdict(dict)
    for record in records:
        writes[(record["kind"], record["read_at"])][int(record["part"])] = record
    fields: dict[str, Any] = {}
    read_at: dict[InventoryKind, datetime] = {}
    for (kind, moment), parts in sorted(writes.items(), key=lambda entry: entry[0][1], reverse=True):
        if kind in fields or kind not in INVENTORY_KINDS:
            continue
        expected = int(next(iter(parts.values()))["parts"])
        if sorted(parts) != list(range(expected)):
            continue  # a write that did not finish: an older complete one (if any) stands
        fields[kind] = [resource for number in range(expected) for resource in json.loads(parts[number]["resources"])]
        read_at[kind] = datetime.fromisoformat(moment)
    if not fields:
        return None
    return Inventory.model_validate({"source": source, **fields, "read_at": read_at})


class InventoryStore(Table):
    """Each source's latest inventory."""

    def put_inventory(self, inventory: Inventory, read_at: datetime) -> int:
        """Replace the kinds present in ``inventory``; other kinds keep their earlier snapshot. Returns items written.

        The new parts overwrite the earlier ones with the same keys, then the earlier write's surplus parts are
        deleted; a reader meanwhile ignores any write whose parts are not all there.
        """
        records = inventory_records(inventory, read_at)
        if not records:
            return 0
        pk = inventory_pk(inventory.source)
        kinds = set(inventory.kinds())
        earlier = [r for r in self.query(pk, attributes=(SK, "kind")) if r.get("kind") in kinds]
        written = self.batch_put(records)
        new_keys = {record[SK] for record in records}
        for record in earlier:
            if record[SK] not in new_keys:
                self._delete(pk, record[SK])
        return written

    def inventory(self, source: str) -> Inventory | None:
        """The source's latest inventory (each kind as last read in full), or None if none was stored."""
        try:
            return inventory_from_records(source, list(self.query(inventory_pk(source), consistent=True)))
        except (ValueError, KeyError) as exc:
            raise StoreError(f"the inventory of {source!r} cannot be read: {exc}") from exc

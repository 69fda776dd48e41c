"""The key schema: attribute names, item types, partition and sort keys, and paging tokens.

Only the store package knows these; everything else asks the store in domain words. See docs/data-model.md.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Collection
from typing import Any

PK = "pk"
SK = "sk"
ITEM_TYPE = "item_type"
TTL = "expires_at"
# Attributes every item carries for the table's sake, never part of what an item means.
KEY_ATTRIBUTES = (PK, SK, ITEM_TYPE, TTL)

# Item types (the ``item_type`` attribute; stream filters select on it).
COST = "cost"
USAGE = "usage"
DAY_AGGREGATE = "agg_day"
MONTH_AGGREGATE = "agg_month"
ALERT = "alert"
BUDGET = "budget"
RUN = "run"
REPORT = "report"
IDEMPOTENCY = "idempotency"
INVENTORY = "inventory"
AUDIT = "audit"

ALERTS_PK = "ALERT"
RECOMMENDATION = "recommendation"
# Every recommendation in one partition, sort key = its id: at most one per (kind, resource), so a few hundred.
RECOMMENDATIONS_PK = "RECOMMENDATION"
BUDGETS_PK = "BUDGET"
REPORTS_PK = "REPORT"
RUNS_PK = "RUN"
# Every audit entry in one partition, sort key = its time-ordered id: newest first is a reverse query.
AUDIT_PK = "AUDIT"


class InvalidTokenError(ValueError):
    """A paging token that this store did not issue."""


def cost_pk(source: str, day: str) -> str:
    """Partition of one source's cost items for one day."""
    return f"COST#{source}#{day}"


def day_agg_pk(month: str) -> str:
    """Partition of all sources' daily aggregates in one month (``YYYY-MM``)."""
    return f"AGG#D#{month}"


def month_agg_pk(year: str) -> str:
    """Partition of all sources' monthly aggregates in one year (``YYYY``)."""
    return f"AGG#M#{year}"


def usage_pk(metric: str, month: str) -> str:
    """Partition of one metric's usage items for one month (``YYYY-MM``), every source's; sort keys start with the
    day. Whoever asks about a metric (pricing, limits, forecasts, unit costs) reads only its partitions."""
    return f"USAGE#{metric}#{month}"


# The metrics that have usage in each month: one item per month (sort key ``YYYY-MM``) holding a string set, so
# listing every metric's usage knows which partitions to read.
USAGE_METRICS_PK = "USAGE_METRICS"
USAGE_METRICS = "usage_metrics"


def inventory_pk(source: str) -> str:
    """Partition of one source's inventory: one item per resource kind (sort key ``<kind>#<part>``)."""
    return f"INVENTORY#{source}"


def inventory_sk(kind: str, part: int) -> str:
    """Sort key of one part of one kind's snapshot (a kind too big for one item is split into parts)."""
    return f"{kind}#{part:04d}"


def idempotency_pk(key: str) -> str:
    """Partition of one idempotency claim."""
    return f"IDEMPOTENCY#{key}"


def strip_keys(record: dict[str, Any]) -> dict[str, Any]:
    """An item without the attributes that serve the table (keys, type, expiry)."""
    return {k: v for k, v in record.items() if k not in KEY_ATTRIBUTES}


def encode_token(key: dict[str, Any]) -> str:
    """An opaque paging token from a LastEvaluatedKey."""
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def decode_token(token: str, partition: str | Collection[str]) -> dict[str, Any]:
    """Check and decode a paging token; it must point into ``partition`` (or one of several)."""
    allowed = {partition} if isinstance(partition, str) else partition
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidTokenError("next_token is not a token this API issued") from exc
    if not isinstance(key, dict) or set(key) != {PK, SK} or not all(_is_string(key[k]) for k in (PK, SK)):
        raise InvalidTokenError("next_token is not a token this API issued")
    if key[PK]["S"] not in allowed:
        raise InvalidTokenError("next_token belongs to another request")
    return key


def _is_string(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"S"} and isinstance(value["S"], str)

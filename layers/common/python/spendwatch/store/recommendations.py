"""Recommendations: one partition holding every one (at most one per kind and resource, whatever its status)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from spendwatch.domain.audit import AuditEntry
from spendwatch.domain.recommendations.model import Recommendation, ResourceRef
from spendwatch.store.audit import audit_put
from spendwatch.store.base import Table, attribute_value, conditional, to_item
from spendwatch.store.keys import ITEM_TYPE, PK, RECOMMENDATION, RECOMMENDATIONS_PK, SK, strip_keys


def recommendation_record(rec: Recommendation) -> dict[str, Any]:
    """The stored form: exact money, ISO times, the evidence as JSON text (any numbers in it stay as written)."""
    return {
        PK: RECOMMENDATIONS_PK,
        SK: rec.id,
        ITEM_TYPE: RECOMMENDATION,
        "id": rec.id,
        "kind": rec.kind,
        "resource": rec.resource.item(),
        "title": rec.title,
        "detail": rec.detail,
        "monthly_savings": rec.monthly_savings,
        "currency": rec.currency,
        "confidence": rec.confidence,
        "evidence": json.dumps(rec.evidence, sort_keys=True, default=str),
        "status": rec.status,
        "created_at": rec.created_at.isoformat(),
        "updated_at": rec.updated_at.isoformat(),
    }


def recommendation_from_record(record: dict[str, Any]) -> Recommendation:
    """A stored recommendation back in domain form."""
    data = strip_keys(record)
    resource = {key: str(data["resource"].get(key, "")) for key in ("provider", "type", "id", "name", "region")}
    return Recommendation(
        id=str(data["id"]),
        kind=data["kind"],
        resource=ResourceRef(
            **{key: str(resource.get(key, "")) for key in ("provider", "type", "id", "name", "region")}
        ),
        title=str(data["title"]),
        detail=str(data["detail"]),
        monthly_savings=Decimal(data["monthly_savings"]),
        currency=str(data["currency"]),
        confidence=data["confidence"],
        evidence=json.loads(data["evidence"]),
        status=data["status"],
        created_at=datetime.fromisoformat(data["created_at"]),
        updated_at=datetime.fromisoformat(data["updated_at"]),
    )


class RecommendationStore(Table):
    """Reads and writes of recommendations."""

    def recommendations(self) -> list[Recommendation]:
        """Every stored recommendation, in id order (one query, following pages)."""
        return [recommendation_from_record(record) for record in self.query(RECOMMENDATIONS_PK)]

    def get_recommendation(self, rec_id: str) -> Recommendation | None:
        """One recommendation by id, read consistently (before a status change)."""
        record = self._get(RECOMMENDATIONS_PK, rec_id, consistent=True)
        return recommendation_from_record(record) if record else None

    def put_recommendations(self, recs: Iterable[Recommendation]) -> int:
        """Write recommendations (new ones, or changed ones replacing themselves); returns how many."""
        return self.batch_put(recommendation_record(rec) for rec in recs)

    def put_recommendation_if_unchanged(self, rec: Recommendation, expected_updated_at: datetime) -> bool:
        """Replace a stored recommendation only while its ``updated_at`` is still ``expected_updated_at`` (nobody,
        an evaluation included, wrote it since it was read); False, writing nothing, when it changed or is gone."""
        return self._put_if(to_item(recommendation_record(rec)), *_unchanged_since(expected_updated_at))

    def act_on_recommendation(self, rec: Recommendation, expected_updated_at: datetime, entry: AuditEntry) -> bool:
        """An action taken through the API: replace the recommendation, with the same condition as
        :meth:`put_recommendation_if_unchanged`, and write its audit entry, in one transaction; False, nothing
        written, when it changed or is gone."""
        put = conditional("Put", {"Item": to_item(recommendation_record(rec))}, *_unchanged_since(expected_updated_at))
        return self._write_together([put, audit_put(entry)])


def _unchanged_since(updated_at: datetime) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The condition that a stored recommendation is still the one read (there, with that ``updated_at``)."""
    names = {"#pk": PK, "#updated": "updated_at"}
    return "attribute_exists(#pk) AND #updated = :updated", names, {":updated": attribute_value(updated_at.isoformat())}

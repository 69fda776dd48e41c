"""Recommendations: what a rule finds (``Finding``), what is stored and served (``Recommendation``), their ids.

A recommendation's id is a digest of (kind, provider, resource id): there is at most one per kind and
resource whatever its status, so re-evaluating the same inventory rewrites the same items.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from spendwatch.domain.models import identity_hash
from spendwatch.domain.money import format_money

Kind = Literal["idle", "rightsize", "zombie", "plan_upgrade", "untagged", "k8s_rightsize"]
Status = Literal["open", "accepted", "dismissed", "implemented", "expired"]
Confidence = Literal["high", "medium", "low"]
KINDS: tuple[Kind, ...] = ("idle", "rightsize", "zombie", "plan_upgrade", "untagged", "k8s_rightsize")
STATUSES: tuple[Status, ...] = ("open", "accepted", "dismissed", "implemented", "expired")


@dataclass(frozen=True)
class ResourceRef:
    """What a recommendation is about: a droplet, an instance, a volume, a namespace, a limit, the account."""

    provider: str
    type: str
    id: str
    name: str = ""
    region: str = ""

    def item(self) -> dict[str, str]:
        """The contract's ``resource`` object."""
        return {"provider": self.provider, "type": self.type, "id": self.id, "name": self.name, "region": self.region}


@dataclass(frozen=True)
class Finding:
    """One rule's verdict on one resource, before it meets the stored recommendations.

    ``monthly_savings`` comes from the provider's own prices (negative or zero is possible for a plan
    upgrade, see ``upgrade.plan_upgrade``); ``evidence`` holds the numbers the rule used, JSON-able (money
    and ratios as decimal strings).
    """

    kind: Kind
    resource: ResourceRef
    title: str
    detail: str
    monthly_savings: Decimal
    currency: str
    confidence: Confidence
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The recommendation id this finding lands on."""
        return recommendation_id(self.kind, self.resource.provider, self.resource.id)


@dataclass(frozen=True)
class Recommendation:
    """A recommendation as stored and served: a finding plus its id, status and times."""

    id: str
    kind: Kind
    resource: ResourceRef
    title: str
    detail: str
    monthly_savings: Decimal
    currency: str
    confidence: Confidence
    evidence: dict[str, Any]
    status: Status
    created_at: datetime
    updated_at: datetime

    def item(self) -> dict[str, Any]:
        """The ``GET /v1/recommendations`` item: money as a two-decimal string, times in ISO 8601."""
        return {
            "id": self.id,
            "kind": self.kind,
            "resource": self.resource.item(),
            "title": self.title,
            "detail": self.detail,
            "monthly_savings": format_money(self.monthly_savings),
            "currency": self.currency,
            "confidence": self.confidence,
            "evidence": self.evidence,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }

    def with_finding(self, finding: Finding, now: datetime) -> Recommendation:
        """This recommendation with the finding's numbers and words, its status kept, ``updated_at = now``."""
        return replace(
            self,
            title=finding.title,
            detail=finding.detail,
            monthly_savings=finding.monthly_savings,
            currency=finding.currency,
            confidence=finding.confidence,
            evidence=finding.evidence,
            resource=finding.resource,
            updated_at=now,
        )


def recommendation_id(kind: str, provider: str, resource_id: str) -> str:
    """The deterministic id: the same kind on the same resource is the same recommendation."""
    return identity_hash(["recommendation", kind, provider, resource_id])


def new_recommendation(finding: Finding, now: datetime) -> Recommendation:
    """A finding seen for the first time: ``open``, created and updated ``now``."""
    return Recommendation(
        id=finding.id,
        kind=finding.kind,
        resource=finding.resource,
        title=finding.title,
        detail=finding.detail,
        monthly_savings=finding.monthly_savings,
        currency=finding.currency,
        confidence=finding.confidence,
        evidence=finding.evidence,
        status="open",
        created_at=now,
        updated_at=now,
    )


def by_savings(
    recs: Iterable[Recommendation], status: Status | None = None, kind: Kind | None = None
) -> list[Recommendation]:
    """The recommendations of ``status`` and ``kind`` (None: any), biggest ``monthly_savings`` first, then by id.

    Amounts are compared as numbers whatever their currency (a recommendation rarely has another one than its
    provider's prices, and the order stays stable).
    """
    chosen = (rec for rec in recs if (status is None or rec.status == status) and (kind is None or rec.kind == kind))
    return sorted(chosen, key=lambda rec: (-rec.monthly_savings, rec.id))


def money_text(value: Decimal) -> str:
    """A Decimal as evidence carries it: its exact digits as a string, never exponent notation."""
    return f"{value:f}"


def ratio_text(value: Decimal) -> str:
    """A ratio as evidence carries it: 4 decimal places."""
    return f"{value.quantize(Decimal('0.0001')):f}"


def percent(value: Decimal) -> str:
    """A ratio in words: ``Decimal("0.034")`` -> ``"3.4%"``."""
    return f"{(value * 100).quantize(Decimal('0.1')):f}%"

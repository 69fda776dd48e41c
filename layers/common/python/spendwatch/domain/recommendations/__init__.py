"""The recommendation engine (pure): rules over inventory, utilisation, prices, capacity and costs produce
findings with money attached; the lifecycle merges them with the stored recommendations.

- ``inputs``: what the collectors provide (``Inventory``, ``DailyUtilisation``, ``K8sAllocation``...);
  ``stored`` adapts a stored inventory and utilisation usage items, ``gather`` reads the rest through the ports;
  ``digitalocean`` holds DigitalOcean's list prices and size families.
- rules: ``compute`` (idle, rightsize), ``zombie``, ``k8s`` (k8s_rightsize), ``upgrade`` (plan_upgrade),
  ``untagged``; ``engine.evaluate`` runs them all.
- ``model``: ``Finding``, ``Recommendation``, ids; ``lifecycle``: ``merge`` and ``transition``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spendwatch.domain.recommendations.engine import evaluate
    from spendwatch.domain.recommendations.lifecycle import Presence, TransitionError, merge, presence, transition
    from spendwatch.domain.recommendations.model import (
        Finding,
        Recommendation,
        ResourceRef,
        by_savings,
        recommendation_id,
    )

# Where each name lives: imported on first use, so the API (which serves stored recommendations and acts on them)
# does not load every rule on a cold start.
_HOMES = {
    "evaluate": "engine",
    "Presence": "lifecycle",
    "TransitionError": "lifecycle",
    "merge": "lifecycle",
    "presence": "lifecycle",
    "transition": "lifecycle",
    "Finding": "model",
    "Recommendation": "model",
    "ResourceRef": "model",
    "by_savings": "model",
    "recommendation_id": "model",
}

__all__ = [
    "Finding",
    "Presence",
    "Recommendation",
    "ResourceRef",
    "TransitionError",
    "by_savings",
    "evaluate",
    "merge",
    "presence",
    "recommendation_id",
    "transition",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)

"""The recommendation engine (pure): rules over inventory, utilisation, prices, capacity and costs produce
findings with money attached; the lifecycle merges them with the stored recommendations.

- ``inputs``: what the collectors provide (``Inventory``, ``DailyUtilisation``, ``K8sAllocation``...);
  ``stored`` adapts a stored inventory and utilisation usage items, ``gather`` reads the rest through the ports;
  ``digitalocean`` holds DigitalOcean's list prices and size families.
- rules: ``compute`` (idle, rightsize), ``zombie``, ``k8s`` (k8s_rightsize), ``upgrade`` (plan_upgrade),
  ``untagged``; ``engine.evaluate`` runs them all.
- ``model``: ``Finding``, ``Recommendation``, ids; ``lifecycle``: ``merge`` and ``transition``.
"""

from spendwatch.domain.recommendations.engine import evaluate
from spendwatch.domain.recommendations.lifecycle import Presence, TransitionError, merge, presence, transition
from spendwatch.domain.recommendations.model import (
    Finding,
    Recommendation,
    ResourceRef,
    by_savings,
    recommendation_id,
)

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

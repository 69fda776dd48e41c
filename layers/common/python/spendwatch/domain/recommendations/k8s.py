"""``k8s_rightsize``: namespaces or controllers whose CPU or RAM requests are far above their use.

A resource (CPU, RAM) is over-requested when its average use is below ``FAR_BELOW`` (50 %) of its request.
The proposed request is the use plus headroom (``use / HEADROOM``), and the saving is the share of that
resource's cost the unused request pays for: ``cost * (1 - proposed / request)``, scaled from the allocation
window to a month (``DAYS_PER_MONTH`` = 365 / 12 days). Confidence: ``high`` from 7 days of window, ``medium``
from 2, else ``low``.
"""

from __future__ import annotations

from decimal import Decimal

from spendwatch.domain.recommendations.compute import HEADROOM
from spendwatch.domain.recommendations.inputs import K8sAllocation
from spendwatch.domain.recommendations.model import Confidence, Finding, ResourceRef, money_text, percent, ratio_text

FAR_BELOW = Decimal("0.5")
DAYS_PER_MONTH = Decimal(365) / Decimal(12)
_HIGH_DAYS, _MEDIUM_DAYS = 7, 2


def _unused_share(request: Decimal, used: Decimal) -> Decimal:
    """The share of a request that can go (0 when use is not far below it)."""
    if request <= 0 or used / request >= FAR_BELOW:
        return Decimal(0)
    return 1 - (used / HEADROOM) / request


def _confidence(days: int) -> Confidence:
    return "high" if days >= _HIGH_DAYS else "medium" if days >= _MEDIUM_DAYS else "low"


def k8s_finding(allocation: K8sAllocation) -> Finding | None:
    """One namespace or controller: lower its requests to its use plus headroom."""
    cpu_share = _unused_share(allocation.cpu_request_cores, allocation.cpu_usage_cores)
    ram_share = _unused_share(allocation.ram_request_bytes, allocation.ram_usage_bytes)
    if (cpu_share == 0 and ram_share == 0) or allocation.window_days <= 0:
        return None
    per_month = DAYS_PER_MONTH / allocation.window_days
    saving = (allocation.cpu_cost * cpu_share + allocation.ram_cost * ram_share) * per_month
    owner = "/".join(part for part in (allocation.namespace, allocation.controller) if part)
    cpu_used = _ratio(allocation.cpu_usage_cores, allocation.cpu_request_cores)
    ram_used = _ratio(allocation.ram_usage_bytes, allocation.ram_request_bytes)
    over = [name for name, share in (("CPU", cpu_share), ("RAM", ram_share)) if share > 0]
    return Finding(
        kind="k8s_rightsize",
        resource=ResourceRef(
            provider="Kubernetes",
            type="controller" if allocation.controller else "namespace",
            id=f"{allocation.cluster}/{owner}",
            name=owner,
            region=allocation.cluster,
        ),
        title=f"Lower the {' and '.join(over)} requests of {owner}",
        detail=(
            f"Over {allocation.window_days} days {owner} used {percent(cpu_used)} of its CPU request and "
            f"{percent(ram_used)} of its RAM request; "
            f"requests at use plus {percent(1 - HEADROOM)} headroom would free about "
            f"{money_text(saving.quantize(Decimal('0.01')))} {allocation.currency} a month."
        ),
        monthly_savings=saving,
        currency=allocation.currency,
        confidence=_confidence(allocation.window_days),
        evidence={
            "window_days": allocation.window_days,
            "cpu_request_cores": money_text(allocation.cpu_request_cores),
            "cpu_usage_cores": money_text(allocation.cpu_usage_cores),
            "ram_request_bytes": money_text(allocation.ram_request_bytes),
            "ram_usage_bytes": money_text(allocation.ram_usage_bytes),
            "cpu_cost": money_text(allocation.cpu_cost),
            "ram_cost": money_text(allocation.ram_cost),
            "cpu_unused_share": ratio_text(cpu_share),
            "ram_unused_share": ratio_text(ram_share),
            "far_below": ratio_text(FAR_BELOW),
        },
    )


def _ratio(used: Decimal, request: Decimal) -> Decimal:
    return used / request if request > 0 else Decimal(0)

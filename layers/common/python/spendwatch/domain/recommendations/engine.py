"""One evaluation: every rule over the inputs, the findings in a stable order."""

from __future__ import annotations

from spendwatch.domain.recommendations.compute import compute_findings
from spendwatch.domain.recommendations.inputs import Inputs
from spendwatch.domain.recommendations.k8s import k8s_finding
from spendwatch.domain.recommendations.model import Finding
from spendwatch.domain.recommendations.untagged import untagged
from spendwatch.domain.recommendations.upgrade import plan_upgrade
from spendwatch.domain.recommendations.zombie import zombie_findings


def evaluate(inputs: Inputs) -> list[Finding]:
    """Every finding the inputs support, biggest monthly savings first (then by id, so the order is stable)."""
    findings: list[Finding] = []
    for inventory in inputs.inventories:
        findings += compute_findings(inventory, inputs.utilisation, inputs.today, inputs.window_days)
        findings += zombie_findings(inventory, inputs.today)
    findings += [f for f in map(k8s_finding, inputs.k8s) if f is not None]
    findings += [f for f in map(plan_upgrade, inputs.limits) if f is not None]
    tagged = untagged(inputs.spend, inputs.required_tags, inputs.spend_currency)
    findings += [tagged] if tagged is not None else []
    return sorted(findings, key=lambda f: (-f.monthly_savings, f.id))

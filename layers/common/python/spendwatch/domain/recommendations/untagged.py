"""``untagged``: the share of spend whose charges lack one of ``[policy] required_tags``.

One finding for the whole scope judged (savings 0: tagging saves nothing by itself, it makes spend
attributable), made when some spend lacks a required key. Confidence is ``high``: the charges say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from spendwatch.domain.recommendations.inputs import TaggedSpend
from spendwatch.domain.recommendations.model import Finding, ResourceRef, money_text, percent, ratio_text

SCOPE = ResourceRef(provider="all", type="account", id="account", name="whole account", region="")


def untagged(
    spend: Iterable[TaggedSpend], required_tags: Sequence[str], currency: str, scope: ResourceRef = SCOPE
) -> Finding | None:
    """The spend missing any of ``required_tags`` as one finding for ``scope`` (None when all is tagged)."""
    rows = list(spend)
    total = sum((row.amount for row in rows), Decimal(0))
    if not required_tags or total <= 0:
        return None
    required = set(required_tags)
    missing: dict[str, Decimal] = {key: Decimal(0) for key in required_tags}
    untagged_amount = Decimal(0)
    for row in rows:
        absent = required - row.tag_keys
        if absent:
            untagged_amount += row.amount
            for key in absent:
                missing[key] += row.amount
    if untagged_amount <= 0:
        return None
    share = untagged_amount / total
    return Finding(
        kind="untagged",
        resource=scope,
        title=f"{percent(share)} of spend lacks a required tag",
        detail=(
            f"{money_text(untagged_amount)} of {money_text(total)} {currency} carries no "
            f"{' / '.join(k for k in required_tags if missing[k] > 0)} tag: it cannot be attributed."
        ),
        monthly_savings=Decimal(0),
        currency=currency,
        confidence="high",
        evidence={
            "required_tags": list(required_tags),
            "untagged_amount": money_text(untagged_amount),
            "total_amount": money_text(total),
            "untagged_share": ratio_text(share),
            "missing_by_tag": {key: money_text(value) for key, value in missing.items()},
        },
    )

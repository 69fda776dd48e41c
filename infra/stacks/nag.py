"""cdk-nag acknowledgments: each one names a single finding and says why it is accepted."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import IConstruct

PACK = "AwsSolutions"


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """Accept one AwsSolutions finding (e.g. ``AwsSolutions-IAM5[Resource::*]``) on ``scope`` and below."""
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=f"{PACK}::{finding}", reason=reason))


def acknowledge_wildcard(scope: IConstruct, resource: str, reason: str) -> None:
    """Accept the IAM5 finding for one wildcard ``resource`` (a string that may hold tokens) in ``scope``'s policies."""
    acknowledge(scope, f"AwsSolutions-IAM5[Resource::{as_nag_prints(scope, resource)}]", reason)


def as_nag_prints(scope: IConstruct, value: str) -> str:
    """``value`` the way cdk-nag spells it in a finding: ``Ref`` as ``<Name>``, ``GetAtt`` as ``<Id.Attr>``."""
    return _render(cdk.Stack.of(scope).resolve(value))


def _render(node: Any) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and len(node) == 1:
        ((function, argument),) = node.items()
        if function == "Ref":
            return f"<{argument}>"
        if function == "Fn::GetAtt":
            return f"<{'.'.join(argument)}>"
        if function == "Fn::Join":
            separator, parts = argument
            return str(separator).join(_render(part) for part in parts)
    raise ValueError(f"cannot spell {node!r} as a cdk-nag finding")

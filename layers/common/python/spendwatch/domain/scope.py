"""The cost-side scope a budget, a unit cost or an allocation names: which charges it covers."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, WithJsonSchema

SCOPE_KEYS = ("provider", "service", "account", "region", "tenant")
SCOPE_SCHEMA = {
    "type": "object",
    "properties": {
        **{key: {"type": "string", "minLength": 1} for key in SCOPE_KEYS},
        "tag": {"type": "object", "propertyNames": {"minLength": 1}, "additionalProperties": {"type": "string"}},
    },
    "additionalProperties": False,
}


def check_scope(scope: dict[str, Any]) -> dict[str, Any]:
    """Check a cost scope: known keys, non-empty string values, ``tag`` a table of key = value."""
    allowed = {*SCOPE_KEYS, "tag"}
    unknown = set(scope) - allowed
    if unknown:
        raise ValueError(f"unknown scope keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    tag = scope.get("tag", {})
    # DynamoDB has no empty attribute names, so an empty tag key could not be stored.
    if not isinstance(tag, dict) or not all(isinstance(v, str) and k for k, v in tag.items()):
        raise ValueError("scope.tag must be a table of tag key = value, keys not empty")
    for key, value in scope.items():
        if key != "tag" and (not isinstance(value, str) or not value):
            raise ValueError(f"scope.{key} must be a non-empty string")
    return scope


# A cost scope as a field: ``{}`` covers every charge.
CostScope = Annotated[dict[str, Any], WithJsonSchema(SCOPE_SCHEMA, mode="validation"), AfterValidator(check_scope)]

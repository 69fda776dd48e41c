"""Lambda event filtering: the EventBridge pattern syntax that event-source filter criteria accept.

Supported: nested objects, lists of exact values (strings, numbers, booleans, null), ``prefix``, ``suffix``,
``equals-ignore-case``, ``wildcard``, ``anything-but`` (values, ``prefix``, ``suffix``), ``exists``, ``numeric``
and ``$or``. Anything else is refused when the pattern is checked, never silently treated as a match.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any, Final

# A field the record does not have, as distinct from one holding JSON null.
MISSING: Final = object()

_NUMERIC_OPERATORS: Final[dict[str, Callable[[float, float], bool]]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_STRING_OPERATORS: Final = ("prefix", "suffix", "equals-ignore-case", "wildcard")


class FilterPatternError(ValueError):
    """A pattern uses syntax that Lambda rejects or that this implementation does not support."""


def matches_any(patterns: Iterable[Mapping[str, Any]], record: Mapping[str, Any]) -> bool:
    """Whether ``record`` passes filter criteria: Lambda ORs the filters of one event source mapping."""
    return any(matches(pattern, record) for pattern in patterns)


def matches(pattern: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """Whether ``record`` matches ``pattern``: every field of the pattern must match (AND)."""
    for key, expected in pattern.items():
        if key == "$or":
            if not any(matches(branch, record) for branch in expected):
                return False
            continue
        actual = record.get(key, MISSING)
        if isinstance(expected, Mapping):
            # A nested pattern looks inside an object; a missing or scalar field is an object with no fields.
            if not matches(expected, actual if isinstance(actual, Mapping) else {}):
                return False
        elif not _leaf_matches(expected, actual):
            return False
    return True


def check_pattern(pattern: Any, path: str = "") -> None:
    """Raise ``FilterPatternError`` unless ``pattern`` is well formed and fully supported here."""
    if not isinstance(pattern, Mapping) or not pattern:
        raise FilterPatternError(f"{path or 'pattern'}: expected a non-empty object")
    for key, value in pattern.items():
        where = f"{path}.{key}" if path else str(key)
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise FilterPatternError(f"{where}: expected a list of at least two patterns")
            for branch in value:
                check_pattern(branch, where)
        elif isinstance(value, Mapping):
            check_pattern(value, where)
        elif isinstance(value, list) and value:
            for rule in value:
                _check_rule(rule, where)
        else:
            raise FilterPatternError(f"{where}: a leaf must be a non-empty list of values or rules")


def _leaf_matches(rules: Sequence[Any], actual: Any) -> bool:
    # A list in the record matches when any of its elements does; "exists" is about the field, not its elements.
    for rule in rules:
        if isinstance(rule, Mapping) and "exists" in rule:
            if _exists(rule["exists"], actual):
                return True
        elif isinstance(actual, list):
            if any(_value_matches(rule, element) for element in actual):
                return True
        elif actual is not MISSING and _value_matches(rule, actual):
            return True
    return False


def _exists(expected: bool, actual: Any) -> bool:
    present = actual is not MISSING and not isinstance(actual, Mapping)
    return present if expected else actual is MISSING


def _value_matches(rule: Any, actual: Any) -> bool:
    if not isinstance(rule, Mapping):
        return _equal(rule, actual)
    ((name, argument),) = rule.items()
    if name == "anything-but":
        return not _anything_but_excludes(argument, actual)
    if name == "numeric":
        return _numeric(argument, actual)
    return _string_rule(name, argument, actual)


def _equal(expected: Any, actual: Any) -> bool:
    # JSON: true is not 1, and 5 equals 5.0.
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if _is_number(expected) and _is_number(actual):
        return float(expected) == float(actual)
    return type(expected) is type(actual) and bool(expected == actual)


def _anything_but_excludes(argument: Any, actual: Any) -> bool:
    if isinstance(argument, Mapping):
        ((name, inner),) = argument.items()
        return _string_rule(name, inner, actual)
    excluded = argument if isinstance(argument, list) else [argument]
    return any(_equal(value, actual) for value in excluded)


def _string_rule(name: str, argument: Any, actual: Any) -> bool:
    if not isinstance(actual, str):
        return False
    text, expected = actual, argument
    if isinstance(argument, Mapping):
        # {"prefix": {"equals-ignore-case": "x"}}: the same test without regard to case.
        text, expected = actual.casefold(), str(argument["equals-ignore-case"]).casefold()
    if name == "prefix":
        return text.startswith(str(expected))
    if name == "suffix":
        return text.endswith(str(expected))
    if name == "equals-ignore-case":
        return text.casefold() == str(expected).casefold()
    return _wildcard(str(expected)).fullmatch(text) is not None


@lru_cache(maxsize=256)
def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def _numeric(conditions: Sequence[Any], actual: Any) -> bool:
    if not _is_number(actual):
        return False
    pairs = zip(conditions[::2], conditions[1::2], strict=True)
    return all(_NUMERIC_OPERATORS[op](float(actual), float(bound)) for op, bound in pairs)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_rule(rule: Any, where: str) -> None:
    if rule is None or isinstance(rule, str | bool) or _is_number(rule):
        return
    if not isinstance(rule, Mapping) or len(rule) != 1:
        raise FilterPatternError(f"{where}: {rule!r} is neither a value nor a single-operator rule")
    ((name, argument),) = rule.items()
    if name == "exists":
        _require(isinstance(argument, bool), where, "exists takes true or false")
    elif name == "numeric":
        _check_numeric(argument, where)
    elif name == "anything-but":
        _check_anything_but(argument, where)
    elif name in _STRING_OPERATORS:
        _check_string_argument(name, argument, where)
    else:
        raise FilterPatternError(f"{where}: unsupported filter rule {name!r}")


def _check_numeric(argument: Any, where: str) -> None:
    ok = isinstance(argument, list) and len(argument) in (2, 4)
    ok = ok and all(op in _NUMERIC_OPERATORS for op in argument[::2]) and all(_is_number(n) for n in argument[1::2])
    _require(ok, where, f"numeric takes [op, number] or [op, number, op, number], not {argument!r}")


def _check_anything_but(argument: Any, where: str) -> None:
    if isinstance(argument, Mapping):
        _require(len(argument) == 1, where, "anything-but takes one operator")
        ((name, inner),) = argument.items()
        _require(name in ("prefix", "suffix", "equals-ignore-case"), where, f"anything-but cannot use {name!r}")
        _check_string_argument(name, inner, where)
        return
    values = argument if isinstance(argument, list) else [argument]
    scalar = all(v is None or isinstance(v, str | bool) or _is_number(v) for v in values)
    _require(bool(values) and scalar, where, f"anything-but takes values or one string operator, not {argument!r}")


def _check_string_argument(name: str, argument: Any, where: str) -> None:
    if isinstance(argument, Mapping) and name in ("prefix", "suffix"):
        ok = set(argument) == {"equals-ignore-case"} and isinstance(argument["equals-ignore-case"], str)
        _require(ok, where, f"{name} takes a string or {{'equals-ignore-case': string}}")
        return
    _require(isinstance(argument, str), where, f"{name} takes a string, not {argument!r}")


def _require(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise FilterPatternError(f"{where}: {message}")

"""A small TOML writer for the effective config (the stdlib reads TOML but cannot write it)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class TomlWriteError(ValueError):
    """A value TOML cannot represent (such as None inside a list)."""


def dumps(document: Mapping[str, Any]) -> str:
    """Serialise a JSON-like mapping: scalars first, then ``[table]`` and ``[[array of tables]]`` sections."""
    lines: list[str] = []
    sections: list[str] = []
    for key, value in document.items():
        if value is None:
            continue  # TOML has no null: an absent key reads back as the model's default
        if isinstance(value, Mapping):
            sections += ["", f"[{_key(key)}]", *_pairs(value)]
        elif isinstance(value, list) and value and all(isinstance(item, Mapping) for item in value):
            for item in value:
                sections += ["", f"[[{_key(key)}]]", *_pairs(item)]
        else:
            lines.append(f"{_key(key)} = {value_text(value)}")
    return "\n".join([*lines, *sections]).lstrip("\n") + "\n"


def _pairs(table: Mapping[str, Any]) -> list[str]:
    return [f"{_key(key)} = {value_text(value)}" for key, value in table.items() if value is not None]


def value_text(value: Any) -> str:
    """One TOML value on one line (tables become inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(value_text(item) for item in value) + "]"
    if isinstance(value, Mapping):
        items = [f"{_key(key)} = {value_text(item)}" for key, item in value.items() if item is not None]
        return "{" + ", ".join(items) + "}"
    raise TomlWriteError(f"cannot write {type(value).__name__} as TOML")


def _float(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def _string(value: str) -> str:
    # JSON escapes are valid TOML basic-string escapes; TOML additionally forbids a raw DEL.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _string(key)

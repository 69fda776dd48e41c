"""Paging of lists the API assembles in memory (alerts, budgets): an opaque token holding the next offset."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import TypeVar

from api.web.errors import ApiError

T = TypeVar("T")


def _token(kind: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{offset}".encode()).decode()


def offset_of(kind: str, token: str | None) -> int:
    """The offset a token of this list points at (0 without one); a 400 for anything else."""
    if not token:
        return 0
    try:
        prefix, _, number = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        offset = int(number)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_parameter", "next_token is not a token this API issued") from exc
    if prefix != kind or offset < 0 or not number.isdigit():
        raise ApiError(400, "invalid_parameter", "next_token is not a token this API issued")
    return offset


def page(kind: str, items: Sequence[T], limit: int, token: str | None) -> tuple[list[T], str | None]:
    """The page of ``items`` the token points at, and the token of the page after it (None at the end)."""
    offset = offset_of(kind, token)
    chosen = list(items[offset : offset + limit])
    return chosen, _token(kind, offset + limit) if offset + limit < len(items) else None

"""Alert rules: pure functions from what an evaluation read to the alerts it proposes (and those it resolves)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from spendwatch.domain.alerts import Alert, alert_id


@dataclass(frozen=True)
class Stamp:
    """What every alert of one evaluation shares: when it was raised and how fresh the data behind it is."""

    now: datetime
    # The freshness of a scope's data (read once, when the first alert needs it).
    data_through: Callable[[dict[str, Any]], datetime | None]

    def alert(self, **fields: Any) -> Alert:
        """An Alert with its deterministic id, timestamps and data freshness filled in."""
        fields.setdefault("scope", {})
        fields.setdefault("level", "")
        if "data_through" not in fields:
            fields["data_through"] = self.data_through(fields["scope"])
        return Alert(
            id=alert_id(fields["rule"], fields["scope"], fields["period"], fields["level"]),
            created_at=self.now,
            updated_at=self.now,
            **fields,
        )

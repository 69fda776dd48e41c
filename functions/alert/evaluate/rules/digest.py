"""The daily digest of info alerts (``[alerts] info = "digest"``), proposed by the hourly check once it is due."""

from __future__ import annotations

from collections.abc import Iterator

from spendwatch.domain.alerts import Alert
from spendwatch.domain.digest import daily_digest

from alert.evaluate.inputs import Inputs
from alert.evaluate.rules import Stamp


def due(inputs: Inputs, stamp: Stamp) -> Iterator[Alert]:
    """The digest of the last 24 hours before today's digest moment, when there is one to send."""
    settings = inputs.config.alerts
    if settings.info != "digest":
        return
    found = daily_digest(inputs.recent_alerts, inputs.now, inputs.config.timezone, settings.digest_time)
    if found is not None:
        yield stamp.alert(**found.fields())

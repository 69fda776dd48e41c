"""Utilisation rules: a resource's CPU or memory daily average above ``[utilisation]``, and the alerts of days
read again that no longer are."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

from spendwatch.domain.alerts import Alert
from spendwatch.domain.config import Utilisation
from spendwatch.domain.models import UsageItem, end_of_day
from spendwatch.domain.utilisation import settled_utilisation_alerts, utilisation_alerts

from alert.evaluate.rules import Stamp


def above(
    items: Sequence[UsageItem], settings: Utilisation, stamp: Stamp, names: Mapping[str, str] | None = None
) -> Iterator[Alert]:
    """One alert per (resource, day, measure) above its threshold; its data runs through the end of that day."""
    for proposal in utilisation_alerts(items, settings, names):
        yield stamp.alert(**proposal.fields(), data_through=end_of_day(proposal.day))


def settled(items: Sequence[UsageItem], settings: Utilisation, open_alerts: Iterable[Alert]) -> list[str]:
    """Ids of open utilisation alerts whose day, read again, is at or below its threshold."""
    return settled_utilisation_alerts(items, settings, open_alerts)

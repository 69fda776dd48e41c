"""How fresh an alert's data is: the ``data_through`` of the sources behind its scope.

Each source's freshness is the ``data_through`` of its newest successful run. A scope naming a source is as fresh
as that source; one naming a provider is as fresh as the stalest source that can carry the provider (its own
collector, and any FOCUS export, which may carry any provider); any other scope (the whole account, a service, an
account, a tag) is as fresh as the stalest source: its total is only complete through the day every part has.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from spendwatch.domain.runs import CollectionRun

# The provider each collector's cost items carry (a FOCUS export names its own: it may carry any of them).
SOURCE_PROVIDERS = {"aws_ce": "AWS", "digitalocean": "DigitalOcean", "opencost": "Kubernetes", "vercel": "Vercel"}
ANY_PROVIDER = "focus"


def newest_by_source(runs: Iterable[CollectionRun]) -> dict[str, datetime]:
    """Each source's newest ``data_through`` among successful (or partial) runs."""
    found: dict[str, datetime] = {}
    for run in runs:
        if run.status in ("succeeded", "partial") and run.data_through is not None:
            found[run.source] = max(found.get(run.source, run.data_through), run.data_through)
    return found


def scope_freshness(
    scope: Mapping[str, Any], fresh: Mapping[str, datetime], source_types: Mapping[str, str]
) -> datetime | None:
    """The ``data_through`` of the sources behind ``scope`` (see the module); None when none has delivered.

    ``source_types``: the configured sources' names and types; ``fresh``: each source's freshness.
    """
    if "source" in scope:
        return fresh.get(str(scope["source"]))
    names = list(source_types)
    if "provider" in scope:
        provider = str(scope["provider"])
        names = [n for n, t in source_types.items() if SOURCE_PROVIDERS.get(t) == provider or t == ANY_PROVIDER]
    seen = [fresh[name] for name in names if name in fresh]
    return min(seen) if seen else None

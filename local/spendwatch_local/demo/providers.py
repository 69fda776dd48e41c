"""The demo's provider endpoints: fake DigitalOcean and OpenCost servers, and Cost Explorer answers queued in moto.

The real collectors read them exactly as a deployment reads the real APIs; only the endpoints are local.
"""

from __future__ import annotations

import threading
from collections.abc import MutableMapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from spendwatch.domain.config import Config, Source

from spendwatch_local.demo import shapes
from spendwatch_local.demo.data import DemoCost, history
from spendwatch_local.fakes.digitalocean import FakeDigitalOcean
from spendwatch_local.fakes.opencost import FakeOpenCost
from spendwatch_local.localconfig import DEMO_AWS, DemoUrls

DO_TOKEN_ENV = "DIGITALOCEAN_TOKEN"  # noqa: S105 - the name of the variable, not a token
DEMO_DO_TOKEN = "demo-digitalocean-token"  # noqa: S105 - accepted only by the demo's own fake server
CE_QUEUE_PATH = "/moto-api/static/ce/cost-and-usage-results"
QUEUE_TIMEOUT = 10.0  # seconds


class DemoProviderError(RuntimeError):
    """The demo's Cost Explorer answer could not be queued (the AWS endpoint is not a moto server)."""


def use_demo_token(environ: MutableMapping[str, str]) -> bool:
    """Give the DigitalOcean collector the demo's token unless one is set; True if this set it."""
    if environ.get(DO_TOKEN_ENV):
        return False
    environ[DO_TOKEN_ENV] = DEMO_DO_TOKEN
    return True


def ce_window(source: Source, config: Config, now: datetime) -> tuple[date, date]:
    """The days the Cost Explorer collector asks for on a scheduled run at ``now``.

    A scheduled run (no backfill days) reads the source's trailing ``lookback_days`` up to and including today
    (UTC), the collector's default window; ``config`` plays no part in it.
    """
    del config  # the window depends on the source alone
    end = now.astimezone(UTC).date()
    return end - timedelta(days=source.lookback_days - 1), end


def queue_ce_answer(aws_url: str, answer: dict[str, Any]) -> None:
    """Queue one GetCostAndUsage answer in moto: the next new request body gets it (the same body, again)."""
    try:
        response = httpx.post(aws_url.rstrip("/") + CE_QUEUE_PATH, json={"results": [answer]}, timeout=QUEUE_TIMEOUT)
    except httpx.HTTPError as exc:
        raise DemoProviderError(f"cannot queue Cost Explorer data at {aws_url}: {exc}") from exc
    if response.status_code != 201:
        raise DemoProviderError(f"cannot queue Cost Explorer data at {aws_url}: HTTP {response.status_code}")


class DemoProviders:
    """The demo history served by a fake DigitalOcean, a fake OpenCost and moto's Cost Explorer."""

    def __init__(self, today: date, do_token: str) -> None:
        self.today = today
        self.history: list[DemoCost] = history(today)
        self.digitalocean = FakeDigitalOcean(
            token=do_token,
            team_uuid=shapes.DO_TEAM_UUID,
            insights=shapes.do_insights(self.history),
            droplets=shapes.do_droplets(),
            balance=shapes.do_balance(self.history, today),
            sizes=shapes.do_sizes(),
            volumes=shapes.do_volumes(),
            reserved_ips=shapes.do_reserved_ips(),
            snapshots=shapes.do_snapshots(today),
            loads=shapes.do_loads(),
        )
        self.opencost = FakeOpenCost(days=shapes.opencost_days(self.history))
        self._queued: set[tuple[date, date]] = set()
        self._lock = threading.Lock()

    def start(self) -> DemoUrls:
        """Serve both fakes on 127.0.0.1 (free ports) and return where."""
        return DemoUrls(digitalocean=self.digitalocean.start(), opencost=self.opencost.start())

    def stop(self) -> None:
        """Stop both fakes."""
        self.digitalocean.stop()
        self.opencost.stop()

    def prepare(self, source: Source, config: Config, aws_url: str, now: datetime) -> bool:
        """Before the demo's Cost Explorer source collects, queue the answer for its window; True if queued now."""
        if source.name != DEMO_AWS:
            return False
        window = ce_window(source, config, now)
        # moto keeps the answer a request body got, so each window is queued once: a second answer for the same
        # window would wait in the queue and be handed to the next, different request.
        with self._lock:
            if window in self._queued:
                return False
            queue_ce_answer(aws_url, shapes.ce_response(self.history, *window))
            self._queued.add(window)
        return True

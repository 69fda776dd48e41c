"""The DigitalOcean collector, in seven parts.

- ``source``: the collection itself (``collect``): which days come from billing insights, which from invoices,
  and the droplet inventory;
- ``inventory``: sizes, volumes, reserved IPs, snapshots and droplet utilisation (``inventory = true``);
- ``api``: the DigitalOcean calls a collection makes, with paging and errors;
- ``records``: billing rows and droplets into cost and usage items (pure);
- ``resources``: listings into inventory models (pure); ``utilisation``: metric series into daily ratios (pure);
- ``transport``: the pydo client with its authentication, retries and pacing (pydo itself is imported only when a
  client is built).
"""

from collect.sources.digitalocean.api import DigitalOceanError
from collect.sources.digitalocean.source import (
    ENV_API_URL,
    ENV_TOKEN,
    Segment,
    api_url,
    billing_window,
    collect,
    month_segments,
    mtd_note,
)

__all__ = [
    "ENV_API_URL",
    "ENV_TOKEN",
    "DigitalOceanError",
    "Segment",
    "api_url",
    "billing_window",
    "collect",
    "month_segments",
    "mtd_note",
]

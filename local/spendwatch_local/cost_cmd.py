"""``spendwatch cost-of-running``: the deployment's own monthly AWS cost at list prices, for a config.

Pure arithmetic over the config (``spendwatch.domain.selfcost``): no AWS call, no credentials.
"""

from __future__ import annotations

import json
import os

from spendwatch.domain.config import ConfigError
from spendwatch.domain.selfcost.estimate import estimate
from spendwatch.domain.selfcost.footprint import Assumptions
from spendwatch.domain.selfcost.schedules import ScheduleError

from spendwatch_local import localconfig
from spendwatch_local.console import EXIT_OK, EXIT_USAGE, Console


def run_cost_of_running(config: str | None, api_requests_per_day: int, console: Console) -> int:
    """Print ``{currency, monthly_total, items: [{service, what, monthly}], ...}`` as JSON."""
    try:
        loaded = localconfig.read_config(localconfig.config_path(config, os.environ))
        result = estimate(loaded, Assumptions(api_requests_per_day=api_requests_per_day))
    except (ConfigError, ScheduleError) as exc:
        console.error(str(exc))
        return EXIT_USAGE
    console.line(json.dumps(result.as_json(), indent=2))
    return EXIT_OK

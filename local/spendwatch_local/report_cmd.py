"""``spendwatch report daily|weekly|monthly``: build and deliver one report through the real report and deliver
functions, as the schedule and the table's stream would."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from typing import Any

from aws_lambda_powertools import Logger
from spendwatch.domain.budgets import local_today
from spendwatch.domain.config import ConfigError
from spendwatch.platform import clock, resources

from spendwatch_local import localconfig
from spendwatch_local.aws import ENDPOINT_ENV
from spendwatch_local.collect_cmd import UsageError, target_aws
from spendwatch_local.console import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Console
from spendwatch_local.lambdas.functions import FunctionLoadError, LocalFunction
from spendwatch_local.runtime import function_environment

REPORT_FUNCTION = "report"
DELIVER_FUNCTION = "alert-deliver"


@dataclass(frozen=True)
class ReportOptions:
    """What ``spendwatch report`` was asked to do."""

    kind: str
    date: date | None = None
    config: str | None = None
    table: str | None = None
    bucket: str | None = None
    verbose: bool = False


def run_report(options: ReportOptions, console: Console, logger: Logger) -> int:
    """Build (or find) the report and deliver it; print it as JSON. 0 when stored and delivered on every channel
    (now or before), 1 when a channel failed or a function raised, 2 for bad arguments."""
    environ = os.environ
    try:
        path = localconfig.config_path(options.config, environ)
        config = localconfig.read_config(path)
        if not environ.get(ENDPOINT_ENV) and not (options.bucket or environ.get(resources.ENV_BUCKET)):
            raise UsageError(f"real AWS needs the bucket name: set {resources.ENV_BUCKET} or pass --bucket")
        region = target_aws(environ, options.table, options.bucket)
    except (UsageError, ConfigError) as exc:
        console.error(str(exc))
        return EXIT_USAGE
    environ[resources.ENV_CONFIG] = str(path.resolve())
    function_environment(environ, options.verbose)
    today = options.date or local_today(clock.utc_now(), config.timezone)
    try:
        made = LocalFunction(REPORT_FUNCTION, region).invoke({"kind": options.kind, "date": today.isoformat()})
        report: dict[str, Any] = made["report"]
        sent = LocalFunction(DELIVER_FUNCTION, region).invoke({"report_id": report["id"]})
    except FunctionLoadError as exc:
        console.error(str(exc))
        return EXIT_FAILED
    except Exception as exc:
        logger.exception("report failed", extra={"kind": options.kind})
        console.error(f"{options.kind} report failed: {type(exc).__name__}: {exc}")
        return EXIT_FAILED
    console.line(json.dumps({**report, "delivery": sent["delivery"]}, indent=2, sort_keys=True))
    if not sent["delivered"]:
        failed = {
            name: state.get("error") for name, state in sent["delivery"].items() if state["status"] != "delivered"
        }
        console.error(f"report {report['id']} stored, not delivered: {failed}")
        return EXIT_FAILED
    return EXIT_OK

"""``spendwatch collect SOURCE``: one collection (or a backfill) through the real collect function."""

from __future__ import annotations

import json
import os
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import date

import boto3
from aws_lambda_powertools import Logger
from spendwatch.domain.config import ConfigError
from spendwatch.platform import resources

from spendwatch_local import localconfig
from spendwatch_local.aws import DEFAULT_REGION, ENDPOINT_ENV
from spendwatch_local.console import EXIT_FAILED, EXIT_USAGE, Console
from spendwatch_local.eventbridge.scheduler import utc_now
from spendwatch_local.lambdas.functions import FunctionLoadError, LocalFunction
from spendwatch_local.lambdas.runs import exit_code, fire_collection
from spendwatch_local.runtime import function_environment


@dataclass(frozen=True)
class CollectOptions:
    """What ``spendwatch collect`` was asked to do."""

    source: str
    start: date | None = None
    end: date | None = None
    config: str | None = None
    table: str | None = None
    bucket: str | None = None
    verbose: bool = False


class UsageError(ValueError):
    """Arguments that cannot work (exit code 2)."""


def run_collect(options: CollectOptions, console: Console, logger: Logger) -> int:
    """Collect once, print the run as JSON; 0 if it succeeded or partly succeeded, 1 if it failed."""
    environ = os.environ
    try:
        window = backfill_window(options.start, options.end)
        path = localconfig.config_path(options.config, environ)
        known = [source.name for source in localconfig.read_config(path).sources]
        if options.source not in known:
            raise UsageError(f"no source named {options.source!r} in {path} (known: {', '.join(known) or 'none'})")
        region = target_aws(environ, options.table, options.bucket)
    except (UsageError, ConfigError) as exc:
        console.error(str(exc))
        return EXIT_USAGE
    environ[resources.ENV_CONFIG] = str(path.resolve())
    function_environment(environ, options.verbose)
    try:
        run = fire_collection(LocalFunction("collect", region), options.source, utc_now(), window)
    except FunctionLoadError as exc:
        console.error(str(exc))
        return EXIT_FAILED
    except Exception as exc:
        logger.exception("collect function raised", extra={"source": options.source})
        console.error(f"collection of {options.source!r} failed: {type(exc).__name__}: {exc}")
        return EXIT_FAILED
    console.line(json.dumps(run, indent=2, sort_keys=True))
    return exit_code(run)


def backfill_window(start: date | None, end: date | None) -> tuple[date, date] | None:
    """The inclusive window to collect, or None for the source's own incremental window."""
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise UsageError("a backfill needs both --start and --end")
    if end < start:
        raise UsageError(f"--end {end} is before --start {start}")
    return start, end


def target_aws(environ: MutableMapping[str, str], table: str | None, bucket: str | None) -> str:
    """Set where the function's clients go and which table/bucket it writes; return the region."""
    if table:
        environ[resources.ENV_TABLE] = table
    if bucket:
        environ[resources.ENV_BUCKET] = bucket
    if environ.get(ENDPOINT_ENV):
        # A local endpoint (spendwatch local, moto, LocalStack): the local defaults are the right names.
        environ.setdefault("AWS_DEFAULT_REGION", DEFAULT_REGION)
        if not (environ.get("AWS_ACCESS_KEY_ID") or environ.get("AWS_PROFILE")):
            environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
        environ.setdefault(resources.ENV_TABLE, resources.LOCAL_TABLE_NAME)
        environ.setdefault(resources.ENV_BUCKET, resources.LOCAL_BUCKET_NAME)
    elif not environ.get(resources.ENV_TABLE):
        raise UsageError(f"real AWS needs the table name: set {resources.ENV_TABLE} or pass --table")
    return str(boto3.session.Session().region_name or DEFAULT_REGION)

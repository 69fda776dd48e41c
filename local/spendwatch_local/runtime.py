"""``spendwatch local``: embedded AWS, the demo data, collections on their schedules and the API on HTTP."""

from __future__ import annotations

import os
import secrets
import shlex
import threading
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from spendwatch.domain.budgets import local_today
from spendwatch.domain.config import Config, ConfigError
from spendwatch.platform import clock, resources
from spendwatch.store import Store
from spendwatch.store import table as store_table

from spendwatch_local import localconfig
from spendwatch_local.apigateway.server import GatewayServer
from spendwatch_local.aws import AwsEndpoint, AwsSetupError, LocalResources, provision, resource_names, start_aws
from spendwatch_local.console import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Console
from spendwatch_local.demo.providers import (
    DEMO_DO_TOKEN,
    DO_TOKEN_ENV,
    DemoProviderError,
    DemoProviders,
    use_demo_token,
)
from spendwatch_local.demo.sample import upload_demo
from spendwatch_local.demo.usage import demo_usage
from spendwatch_local.eventbridge.schedule import Schedule, ScheduleError, parse_schedule
from spendwatch_local.eventbridge.scheduler import Scheduler, utc_now
from spendwatch_local.lambdas.functions import FunctionLoadError, LocalFunction
from spendwatch_local.lambdas.runs import fire_collection, summary_line
from spendwatch_local.lambdas.shapes import scheduled_event
from spendwatch_local.shutdown import Shutdown
from spendwatch_local.streams.poller import PollerSettings, StreamPoller, function_handlers

READY = "spendwatch is ready at"
# From Ctrl-C to exit stays under 2 s: this much for stopping the components, the rest for Python's own exit.
STOP_BUDGET_SECONDS = 1.2


@dataclass(frozen=True)
class LocalOptions:
    """What ``spendwatch local`` was asked to do."""

    host: str = "127.0.0.1"
    port: int = 8321
    config: str | None = None
    demo: bool = False
    verbose: bool = False


@dataclass(frozen=True)
class _Plan:
    """Everything decided before any server starts, so bad input fails fast."""

    config: Config
    user_config: Path
    schedules: dict[str, Schedule]
    table: str
    bucket: str
    base: Config  # the user's own config, before the demo sources


def function_environment(environ: MutableMapping[str, str], verbose: bool) -> None:
    """Defaults for what Lambda or the CDK app would set; anything the user exported wins."""
    environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO" if verbose else "WARNING")
    environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "spendwatch")
    # No CloudWatch locally: EMF blobs would only clutter the terminal.
    environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")


def run_local(options: LocalOptions, console: Console, logger: Logger, stop: threading.Event) -> int:
    """Run until ``stop`` is set (by SIGINT or SIGTERM); the exit code is 0 on a clean stop.

    Start-up runs in a worker thread while this (the main) thread only waits, so a Ctrl-C is acted on at once
    whatever start-up is doing: the components started so far are stopped in order within STOP_BUDGET_SECONDS.
    """
    started = time.monotonic()
    try:
        plan = _plan(options, os.environ)
    except (ConfigError, ScheduleError) as exc:
        console.error(str(exc))
        return EXIT_USAGE
    shutdown = Shutdown()
    outcome: list[int] = []

    def start() -> None:
        try:
            outcome.append(_serve(options, plan, stop, shutdown, console, logger, started))
        except (AwsSetupError, FunctionLoadError, ConfigError, OSError) as exc:
            console.error(str(exc))
            outcome.append(EXIT_FAILED)
        except Exception as exc:
            logger.exception("start-up failed")
            console.error(f"start-up failed: {type(exc).__name__}: {exc}")
            outcome.append(EXIT_FAILED)

    worker = threading.Thread(target=start, name="spendwatch-start", daemon=True)
    worker.start()
    while not stop.wait(0.2):
        if not worker.is_alive() and outcome != [EXIT_OK]:
            break
    if stop.is_set():
        console.line("spendwatch: stopping")
        console.close()
    overran = shutdown.run(STOP_BUDGET_SECONDS)
    logger.debug("stopped", extra={"seconds": shutdown.took})
    if overran:
        logger.info("still busy at exit, left to end with the process", extra={"components": overran})
    return outcome[0] if outcome and outcome[0] != EXIT_OK else EXIT_OK


def _plan(options: LocalOptions, environ: MutableMapping[str, str]) -> _Plan:
    path = localconfig.config_path(options.config, environ)
    config = localconfig.read_config(
        path, allow_missing=options.demo, hint="; or try the demo: spendwatch local --demo"
    )
    table, bucket = resource_names(environ)
    base = config
    if options.demo:
        config = localconfig.with_demo(config, bucket)
    schedules: dict[str, Schedule] = {}
    for source in config.enabled_sources:
        try:
            schedules[source.name] = parse_schedule(source.schedule)
        except ScheduleError as exc:
            raise ScheduleError(f"source {source.name!r}: {exc}") from exc
    return _Plan(config, path, schedules, table, bucket, base)


@dataclass(frozen=True)
class _Backend:
    """AWS with the resources in place and the functions loaded, configured as when deployed."""

    aws: AwsEndpoint
    created: LocalResources
    config: Config
    config_file: Path
    collect: LocalFunction
    api: LocalFunction
    demo: _Demo | None = None


@dataclass(frozen=True)
class _Demo:
    """The demo's providers, and what another shell needs to collect from them."""

    providers: DemoProviders
    urls: localconfig.DemoUrls
    exports: dict[str, str] = field(default_factory=dict)


def _start_backend(options: LocalOptions, plan: _Plan, shutdown: Shutdown) -> _Backend:
    environ = os.environ
    aws = start_aws(environ)
    shutdown.add("aws", lambda _timeout: aws.stop())
    created = provision(plan.table, plan.bucket, aws.region, channels=plan.config.channels)
    config, demo = plan.config, None
    if options.demo:
        upload_demo(boto3.client("s3", region_name=aws.region), plan.bucket)
        demo = _start_demo(environ, shutdown)
        config = localconfig.with_demo(plan.base, plan.bucket, demo.urls)
        config_file = localconfig.write_effective(config, Path.cwd())
    else:
        config_file = plan.user_config.resolve()
    _export_function_settings(environ, created, config_file)
    function_environment(environ, options.verbose)
    collect, api = LocalFunction("collect", aws.region), LocalFunction("api", aws.region)
    collect.load()
    api.load()
    return _Backend(aws, created, config, config_file, collect, api, demo)


def _start_demo(environ: MutableMapping[str, str], shutdown: Shutdown) -> _Demo:
    """Serve the demo history from the fake providers (stopped on the way out)."""
    token_is_ours = use_demo_token(environ)
    providers = DemoProviders(utc_now().date(), environ[DO_TOKEN_ENV])
    urls = providers.start()
    shutdown.add("providers", lambda _timeout: providers.stop())
    # Only the demo's own token is printed: a token the user exported is theirs, and their shell has it already.
    exports = {DO_TOKEN_ENV: DEMO_DO_TOKEN} if token_is_ours else {}
    return _Demo(providers, urls, exports)


def _serve(
    options: LocalOptions,
    plan: _Plan,
    stop: threading.Event,
    shutdown: Shutdown,
    console: Console,
    logger: Logger,
    started: float,
) -> int:
    """Start everything and print the ready line; returns once serving (or when ``stop`` cut start-up short)."""
    token_from_env = bool(os.environ.get(resources.ENV_API_TOKEN))
    backend = _start_backend(options, plan, shutdown)
    try:
        server = GatewayServer((options.host, options.port), backend.api.invoke, logger)
    except OSError as exc:
        console.error(f"cannot listen on {options.host}:{options.port}: {exc.strerror}; pass --port")
        return EXIT_FAILED
    shutdown.add("http", lambda _timeout: server.server_close())
    _print_setup(console, backend, options.demo)

    def fire(source: str, fired_at: datetime, prefix: str = "") -> None:
        _prepare_demo(backend, source, console, prefix)
        _fire_and_report(backend.collect, source, fired_at, console, logger, prefix)

    started_at = utc_now()
    for source in plan.schedules:
        if stop.is_set():
            return EXIT_OK
        fire(source, started_at)
    if options.demo:
        _push_demo_usage(backend, started_at.date(), console)
        _demo_reports(backend, started_at, console)
    # The stream functions (alert evaluation and delivery) then catch up from the start of the stream (trim
    # horizon, as the event sources start) and run as records arrive; started after the first collections so
    # they don't compete with them for moto; a 1 s batching window instead of 5 s keeps the loop snappy.
    poller = StreamPoller(
        store_table.STREAM_CONSUMERS,
        function_handlers(store_table.STREAM_CONSUMERS),
        table=backend.created.table,
        region=backend.aws.region,
        logger=logger,
        settings=PollerSettings(batching_window_seconds=1.0),
    )
    poller.start()
    shutdown.add("poller", poller.stop)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="spendwatch-api", daemon=True
    ).start()
    shutdown.add("http", server.stop)
    collections = Scheduler(plan.schedules, lambda s, t: fire(s, t, f"[{t:%Y-%m-%d %H:%M}Z] "), started_at, logger)
    for step, timer in _timers(collections, backend, started_at, console, logger):
        timer.start()
        shutdown.add(step, timer.stop)
    if stop.is_set():
        return EXIT_OK
    elapsed = time.monotonic() - started
    _print_ready(console, options.host, server.port, os.environ[resources.ENV_API_TOKEN], token_from_env, elapsed)
    return EXIT_OK


def _timers(
    collections: Scheduler, backend: _Backend, started_at: datetime, console: Console, logger: Logger
) -> list[tuple[str, Scheduler]]:
    """What fires on schedules, by shutdown step: collections, the staleness check, the reports."""
    return [
        ("scheduler", collections),
        ("staleness", _staleness_checks(backend.aws.region, started_at, logger)),
        ("reports", _report_schedules(backend, started_at, console, logger)),
    ]


def _push_demo_usage(backend: _Backend, today: date, console: Console) -> None:
    """The demo application's usage, written as its pushes would be: the price function and evaluation take it
    from the stream like any other usage."""
    items = demo_usage(today)
    Store(boto3.client("dynamodb", region_name=backend.aws.region), backend.created.table).put_usage(items)
    # Priced now, so the totals served from the ready line on already hold them; when the stream delivers the
    # same records, pricing them again writes nothing.
    price = LocalFunction(store_table.PRICE.function, backend.aws.region)
    price.load()
    window = {"start": min(i.day for i in items).isoformat(), "end": max(i.day for i in items).isoformat()}
    price.invoke({"reprice": window})
    console.line(
        f"demo application: {len(items)} usage records pushed and priced (storage per tenant, KV store, orders)"
    )


def _staleness_checks(region: str, started_at: datetime, logger: Logger) -> Scheduler:
    """The evaluate function on its staleness schedule, as the deployed EventBridge rule invokes it."""
    evaluate = LocalFunction("alert-evaluate", region)
    evaluate.load()

    def check(_name: str, fired_at: datetime) -> None:
        event = scheduled_event("staleness", fired_at, region)
        event["detail"] = dict(resources.STALENESS_DETAIL)
        try:
            evaluate.invoke(event)
        except Exception:
            # A failed check is retried by the next one, as the deployed rule's retries would.
            logger.exception("staleness check failed")

    return Scheduler({"staleness": parse_schedule(resources.STALENESS_SCHEDULE)}, check, started_at, logger)


def _make_report(report: LocalFunction, event: dict[str, Any], console: Console, prefix: str = "") -> None:
    """Invoke the report function and print one line; the stream delivers a new report as deployed."""
    made = report.invoke(event)
    item = made["report"]
    state = "stored" if made["created"] else "already stored"
    console.line(f"{prefix}report {item['id']}: {state}, total {item['total']} {item['currency']}")


def _demo_reports(backend: _Backend, started_at: datetime, console: Console) -> None:
    """The demo's daily and weekly reports, made after its collections and pricing, before the stream runs (so
    they are delivered like scheduled ones)."""
    report = LocalFunction("report", backend.aws.region)
    today = local_today(started_at, backend.config.timezone)
    for kind in ("daily", "weekly"):
        _make_report(report, {"kind": kind, "date": today.isoformat()}, console, "demo: ")


def _report_schedules(backend: _Backend, started_at: datetime, console: Console, logger: Logger) -> Scheduler:
    """The report function on each ``[reports]`` schedule, in the config's time zone (never at start), as the
    deployed EventBridge Scheduler schedules invoke it."""
    report = LocalFunction("report", backend.aws.region)
    zone = backend.config.timezone
    schedules: dict[str, Schedule] = {
        kind: parse_schedule(cron, zone) for kind, cron in backend.config.reports.schedules().items()
    }

    def fire(kind: str, fired_at: datetime) -> None:
        try:
            _make_report(
                report,
                {"kind": kind, "scheduled_time": fired_at.isoformat()},
                console,
                f"[{fired_at:%Y-%m-%d %H:%M}Z] ",
            )
        except Exception:
            # The next schedule makes the next report; this one can be made with `spendwatch report`.
            logger.exception("scheduled report failed", extra={"kind": kind})

    return Scheduler(schedules, fire, started_at, logger)


def _export_function_settings(environ: MutableMapping[str, str], created: LocalResources, config_file: Path) -> None:
    """The env the functions read, as the CDK app sets it when deployed."""
    environ[resources.ENV_TABLE] = created.table
    environ[resources.ENV_BUCKET] = created.bucket
    environ[resources.ENV_TOPIC] = created.topic_arn
    environ[resources.ENV_CONFIG] = str(config_file)
    environ[resources.ENV_API_AUTH] = "bearer"
    environ[resources.ENV_API_TOKEN] = environ.get(resources.ENV_API_TOKEN) or secrets.token_urlsafe(24)


def _prepare_demo(backend: _Backend, source: str, console: Console, prefix: str) -> None:
    """Queue the demo's Cost Explorer answer before its source collects; without it the run reads no days."""
    if backend.demo is None or source != localconfig.DEMO_AWS:
        return
    try:
        backend.demo.providers.prepare(backend.config.source(source), backend.config, backend.aws.url, utc_now())
    except DemoProviderError as exc:
        console.line(f"{prefix}collect {source}: {exc}; it will read no days")


def _fire_and_report(
    collect: LocalFunction, source: str, fired_at: datetime, console: Console, logger: Logger, prefix: str
) -> None:
    try:
        run = fire_collection(collect, source, fired_at)
    except Exception as exc:
        # A broken collector is reported like a failed run; the runtime keeps serving.
        logger.exception("collect function raised", extra={"source": source})
        console.line(f"{prefix}collect {source}: failed ({type(exc).__name__}: {exc})")
        return
    console.line(prefix + summary_line(source, run))


def _print_setup(console: Console, backend: _Backend, demo: bool) -> None:
    aws, created, config_file = backend.aws, backend.created, backend.config_file
    kind = "embedded moto server" if aws.embedded else "external endpoint"
    console.line(f"spendwatch local: AWS at {aws.url} ({kind}), region {aws.region}")
    console.line(f"  table {created.table}, bucket {created.bucket}, topic {created.topic_arn}")
    console.line(f"  config {config_file}" + (" (your config + the demo sources)" if demo else ""))
    if clock.is_shifted():
        console.line(
            f"  clock: {clock.NOW_ENV} puts now at {clock.utc_now():%Y-%m-%d %H:%M:%S}Z, advancing in real time"
        )
    if backend.demo is not None:
        _print_demo(console, backend.demo, created.bucket)
    exports = {
        "AWS_ENDPOINT_URL": aws.url,
        "AWS_DEFAULT_REGION": aws.region,
        resources.ENV_TABLE: created.table,
        resources.ENV_BUCKET: created.bucket,
        resources.ENV_CONFIG: str(config_file),
        resources.ENV_TOPIC: created.topic_arn,
        **(backend.demo.exports if backend.demo is not None else {}),
    }
    console.line("  to run `spendwatch collect SOURCE` or `spendwatch report KIND` against it from another shell:")
    console.line("    export " + " ".join(f"{name}={shlex.quote(value)}" for name, value in exports.items()))


def _print_demo(console: Console, demo: _Demo, bucket: str) -> None:
    history = demo.providers.history
    first, last = min(c.day for c in history), max(c.day for c in history)
    console.line(f"  demo: FOCUS sample in s3://{bucket}/{localconfig.DEMO_PREFIX} ({localconfig.DEMO_SOURCE})")
    console.line(f"  demo: {first}..{last} read by the real collectors from")
    console.line(f"        Cost Explorer on the moto server ({localconfig.DEMO_AWS}),")
    console.line(f"        a fake DigitalOcean API at {demo.urls.digitalocean} ({localconfig.DEMO_DO}),")
    console.line(f"        a fake OpenCost at {demo.urls.opencost} ({localconfig.DEMO_K8S})")


def _print_ready(console: Console, host: str, port: int, token: str, token_from_env: bool, elapsed: float) -> None:
    shown_host = "127.0.0.1" if host in ("", "0.0.0.0") else host  # noqa: S104 - only for display
    shown_host = f"[{shown_host}]" if ":" in shown_host else shown_host
    base = f"http://{shown_host}:{port}"
    shown_token = f"${resources.ENV_API_TOKEN}" if token_from_env else token
    note = f"token from {resources.ENV_API_TOKEN}" if token_from_env else f"token {token}"
    console.line(f"{READY} {base} after {elapsed:.1f} s ({note})")
    console.line(f'  curl -H "Authorization: Bearer {shown_token}" "{base}/v1/costs?group_by=provider"')
    console.line(f"  dashboard: {base}/?token={shown_token}")
    console.line("  press Ctrl-C to stop")

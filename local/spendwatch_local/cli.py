"""The ``spendwatch`` command: ``local`` runs the whole system here, ``collect`` runs one collection, ``report``
builds and delivers one report, ``test-alert`` checks every alert channel, ``cost-of-running`` prices the
deployment itself."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
import threading
from collections.abc import Sequence
from datetime import date

from aws_lambda_powertools import Logger
from spendwatch.platform import clock

from spendwatch_local.console import EXIT_INTERRUPTED, EXIT_USAGE, Console, make_logger, stop_on_signals

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _day(text: str) -> date:
    """An ISO calendar day, strictly YYYY-MM-DD."""
    try:
        if not _DAY.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)")
    return int(text)


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of requests (0 or more)")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(prog="spendwatch", description="Serverless multi-provider cloud-cost watchdog.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    local = commands.add_parser(
        "local",
        help="run the whole system locally on an embedded AWS (moto)",
        description="Serve the API, collect every enabled source now and on its schedule. "
        "Uses AWS_ENDPOINT_URL if set, else starts moto in this process.",
    )
    local.add_argument("--port", type=_port, default=8321, help="API port (default 8321; 0 picks a free one)")
    local.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    local.add_argument("--config", help="config file (default $SPENDWATCH_CONFIG, else ./spendwatch.toml)")
    local.add_argument(
        "--demo",
        action="store_true",
        help="add the demo data: a public FOCUS sample, and 120 days of AWS, DigitalOcean and Kubernetes costs "
        "read by the real collectors from local stand-ins of those APIs",
    )
    local.add_argument("-v", "--verbose", action="store_true", help="show the functions' INFO logs")

    collect = commands.add_parser(
        "collect",
        help="run one collection (or a backfill) of a source",
        description="Invoke the collect function once, against AWS_ENDPOINT_URL if set, else real AWS.",
    )
    collect.add_argument("source", metavar="SOURCE", help="a source name from the config")
    collect.add_argument("--start", type=_day, help="backfill from this day (YYYY-MM-DD, inclusive)")
    collect.add_argument("--end", type=_day, help="backfill to this day (YYYY-MM-DD, inclusive)")
    collect.add_argument("--config", help="config file (default $SPENDWATCH_CONFIG, else ./spendwatch.toml)")
    collect.add_argument("--table", help="DynamoDB table (default $SPENDWATCH_TABLE)")
    collect.add_argument("--bucket", help="S3 bucket (default $SPENDWATCH_BUCKET)")
    collect.add_argument("-v", "--verbose", action="store_true", help="show the function's INFO logs")

    _add_report(commands)

    migrate = commands.add_parser(
        "migrate-usage",
        help="move usage stored per source (older tables) to the per-metric layout",
        description="Move usage items written before usage was kept per metric; safe to run again. "
        "Against AWS_ENDPOINT_URL if set, else real AWS.",
    )
    migrate.add_argument("--table", help="DynamoDB table (default $SPENDWATCH_TABLE)")
    migrate.add_argument("-v", "--verbose", action="store_true", help="more logs")

    test_alert = commands.add_parser(
        "test-alert",
        help="send a clearly marked test alert to every channel and say which delivered it",
        description="Send a [TEST] alert to SNS, Slack and every [[channels]] entry (never stored); prints JSON "
        "{channels: [{channel, delivered, error}]} and exits 0 only when every channel delivered. "
        "Against AWS_ENDPOINT_URL if set, else real AWS.",
    )
    test_alert.add_argument("--config", help="config file (default $SPENDWATCH_CONFIG, else ./spendwatch.toml)")
    test_alert.add_argument("-v", "--verbose", action="store_true", help="more logs")

    _add_cost_of_running(commands)
    return parser


def _add_report(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``report daily|weekly|monthly [--date] [--config] [--table] [--bucket] [-v]``."""
    report = commands.add_parser(
        "report",
        help="build and deliver the daily, weekly or monthly report",
        description="Build the report of the last complete day, week (Monday to Sunday) or calendar month before "
        "--date (default: today in the config's time zone), store it with its HTML page and CSV, and deliver it "
        "to Slack and SNS; a report already stored is printed and not posted again. Against AWS_ENDPOINT_URL if "
        "set, else real AWS.",
    )
    report.add_argument("kind", choices=("daily", "weekly", "monthly"), help="which report")
    report.add_argument("--date", type=_day, help="make it as on this local day (YYYY-MM-DD)")
    report.add_argument("--config", help="config file (default $SPENDWATCH_CONFIG, else ./spendwatch.toml)")
    report.add_argument("--table", help="DynamoDB table (default $SPENDWATCH_TABLE)")
    report.add_argument("--bucket", help="S3 bucket (default $SPENDWATCH_BUCKET)")
    report.add_argument("-v", "--verbose", action="store_true", help="show the functions' INFO logs")


def _add_cost_of_running(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``cost-of-running [--config PATH] [--api-requests-per-day N]``."""
    cost = commands.add_parser(
        "cost-of-running",
        help="print the deployment's own monthly AWS cost at list prices (us-east-1) for a config",
        description="Estimate what the deployed stack costs a month for the config: schedules, sources, alerts and API "
        "traffic priced at the list prices shipped with spendwatch; prints JSON {currency, monthly_total, items: "
        "[{service, what, monthly}]}. No AWS call is made.",
    )
    cost.add_argument("--config", help="config file (default $SPENDWATCH_CONFIG, else ./spendwatch.toml)")
    cost.add_argument(
        "--api-requests-per-day", type=_count, default=200, help="API requests a day to price (default 200)"
    )
    cost.add_argument("-v", "--verbose", action="store_true", help=argparse.SUPPRESS)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    if args.command is None:
        build_parser().print_help(sys.stderr)
        return EXIT_USAGE
    try:
        # Read once, before anything asks for the time, so every component runs on the same clock.
        clock.reset()
    except clock.ClockError as exc:
        print(f"spendwatch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    stop = threading.Event()
    if args.command == "local":
        # Before the runtime's imports, so even an early Ctrl-C is a clean stop. `collect` keeps the
        # default: Ctrl-C interrupts the collection at once.
        stop_on_signals(stop)
    # The functions write logs (and anything else) to stdout as Lambda expects; here stdout is the
    # user's console, so their output goes to stderr and only the runtime's own lines reach stdout.
    console = Console(sys.stdout, sys.stderr)
    logger = make_logger(args.verbose)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            return _dispatch(args, console, logger, stop)
    except KeyboardInterrupt:
        console.error("interrupted")
        return EXIT_INTERRUPTED


def _dispatch(args: argparse.Namespace, console: Console, logger: Logger, stop: threading.Event) -> int:
    # Imported per command: `local` pulls in the HTTP server and schedules, `collect` needs neither.
    if args.command == "local":
        from spendwatch_local.runtime import LocalOptions, run_local

        options = LocalOptions(host=args.host, port=args.port, config=args.config, demo=args.demo, verbose=args.verbose)
        return run_local(options, console, logger, stop)
    if args.command == "migrate-usage":
        from spendwatch_local.migrate_cmd import run_migrate_usage

        return run_migrate_usage(args.table, console)
    if args.command == "test-alert":
        from spendwatch_local.alert_test_cmd import run_test_alert

        return run_test_alert(args.config, console)
    if args.command == "cost-of-running":
        from spendwatch_local.cost_cmd import run_cost_of_running

        return run_cost_of_running(args.config, args.api_requests_per_day, console)
    if args.command == "report":
        from spendwatch_local.report_cmd import ReportOptions, run_report

        report_options = ReportOptions(
            kind=args.kind,
            date=args.date,
            config=args.config,
            table=args.table,
            bucket=args.bucket,
            verbose=args.verbose,
        )
        return run_report(report_options, console, logger)
    from spendwatch_local.collect_cmd import CollectOptions, run_collect

    collect_options = CollectOptions(
        source=args.source,
        start=args.start,
        end=args.end,
        config=args.config,
        table=args.table,
        bucket=args.bucket,
        verbose=args.verbose,
    )
    return run_collect(collect_options, console, logger)


def run() -> None:
    """The console script: ``main``, then exit without tearing down the interpreter's heap.

    The runtime has stopped its components in order by then; freeing moto's in-memory AWS object by object
    would add a second or more to every Ctrl-C.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    run()

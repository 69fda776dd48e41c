"""A month of running derived from the config: runs, invocations, requests, writes and reads (no prices here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from spendwatch.domain.config import Config, Source
from spendwatch.domain.selfcost import footprint as fp
from spendwatch.domain.selfcost.footprint import Assumptions
from spendwatch.domain.selfcost.schedules import DAYS_PER_MONTH, runs_per_month

MAX_COST_EXPLORER_REQUESTS = 50  # collect.sources.aws_ce.MAX_REQUESTS: a run never asks for more


@dataclass(frozen=True)
class SourceLoad:
    """One enabled source's run and what the month's runs of it add up to."""

    source: Source
    runs: Decimal
    seconds_per_run: Decimal
    writes_per_run: Decimal
    stored_items: Decimal
    cost_explorer_requests: int = 0
    metrics_requested: int = 0
    ec2_calls: int = 0
    price_list_calls: int = 0
    s3_lists: int = 0
    s3_gets: int = 0
    secret: str | None = None

    @property
    def writes_usage(self) -> bool:
        """Whether its runs write usage items (which the price function reads from the stream)."""
        return self.source.type != "aws_ce" or self.source.inventory


@dataclass
class Month:
    """The month's volumes: per function invocations and run seconds, and per AWS API what it is asked."""

    sources: list[SourceLoad]
    invocations: dict[str, Decimal] = field(default_factory=dict)
    seconds: dict[str, Decimal] = field(default_factory=dict)
    write_units: Decimal = Decimal(0)
    read_units: Decimal = Decimal(0)
    stored_items: Decimal = Decimal(0)
    api_requests: Decimal = Decimal(0)
    alerts: int = 0
    email_channels: int = 0
    secrets: list[str] = field(default_factory=list)
    secret_calls: Decimal = Decimal(0)
    scheduled_events: Decimal = Decimal(0)
    reports: Decimal = Decimal(0)  # report schedules fired (EventBridge Scheduler), one report each

    def invoke(self, function: str, count: Decimal, seconds_each: Decimal) -> None:
        """``count`` more invocations of ``function``, each running ``seconds_each``."""
        self.invocations[function] = self.invocations.get(function, Decimal(0)) + count
        self.seconds[function] = self.seconds.get(function, Decimal(0)) + count * seconds_each

    def total(self, attribute: str) -> Decimal:
        """The month's total of one per-run source figure (``cost_explorer_requests``, ``s3_gets``...)."""
        return sum((load.runs * getattr(load, attribute) for load in self.sources), Decimal(0))

    @property
    def runs(self) -> Decimal:
        """Collection runs of every enabled source."""
        return sum((load.runs for load in self.sources), Decimal(0))

    @property
    def total_invocations(self) -> Decimal:
        """Invocations of every function."""
        return sum(self.invocations.values(), Decimal(0))


def source_load(source: Source, config: Config, assume: Assumptions) -> SourceLoad:
    """What one run of ``source`` asks of AWS and writes, and how many runs a month its schedule makes."""
    runs = runs_per_month(source.schedule)
    days = source.lookback_days
    if source.type == "aws_ce":
        return _aws_ce(source, runs, assume)
    if source.type == "focus":
        rows = assume.focus_days * fp.CHARGES_PER_DAY["focus"]
        on_s3 = bool(source.path and source.path.startswith("s3://"))
        return SourceLoad(
            source,
            runs,
            fp.COLLECT_SECONDS["focus"],
            writes_per_run=Decimal(rows + _aggregate_writes(assume.focus_days)),
            stored_items=_stored(fp.CHARGES_PER_DAY["focus"], assume),
            s3_lists=1 if on_s3 else 0,
            s3_gets=assume.focus_files if on_s3 else 0,
        )
    per_day = fp.CHARGES_PER_DAY[source.type]
    seconds = fp.COLLECT_SECONDS[source.type]
    writes = days * per_day + _aggregate_writes(days)
    stored = _stored(per_day, assume)
    secret = {"digitalocean": config.secrets.digitalocean_token, "vercel": config.secrets.vercel_token}.get(source.type)
    if source.type == "digitalocean" and source.inventory:
        seconds += assume.droplets * fp.DIGITALOCEAN_SECONDS_PER_DROPLET
        utilisation = assume.droplets * fp.UTILISATION_METRICS
        writes += fp.INVENTORY_WRITE_UNITS + utilisation * source.utilisation_days
        stored += utilisation * assume.retention_days
    return SourceLoad(source, runs, seconds, Decimal(writes), Decimal(stored), secret=secret)


def _aws_ce(source: Source, runs: Decimal, assume: Assumptions) -> SourceLoad:
    """Cost Explorer: 1 request, + 1 for regions, + one per value path before each tag key (capped at 50)."""
    paths = assume.regions if source.group_by_region else 1
    requests = 1 + (1 if source.group_by_region else 0)
    for _key in source.tag_keys:
        requests += paths
        paths *= assume.tag_values
    requests = min(requests, MAX_COST_EXPLORER_REQUESTS)
    per_day = fp.CHARGES_PER_DAY["aws_ce"] * (assume.regions if source.group_by_region else 1)
    per_day *= 3 if source.tag_keys else 1  # services split over the tag values they carry
    writes = source.lookback_days * per_day + _aggregate_writes(source.lookback_days)
    stored = _stored(per_day, assume)
    load = SourceLoad(source, runs, fp.COLLECT_SECONDS["aws_ce"], Decimal(writes), stored, requests)
    if not source.inventory:
        return load
    instances = assume.ec2_instances
    utilisation = instances * fp.UTILISATION_METRICS
    return SourceLoad(
        source,
        runs,
        load.seconds_per_run + 2,
        load.writes_per_run + fp.INVENTORY_WRITE_UNITS + utilisation * source.utilisation_days,
        stored + utilisation * assume.retention_days,
        requests,
        metrics_requested=utilisation,
        ec2_calls=4,
        price_list_calls=assume.ec2_types,
    )


def _aggregate_writes(days: int) -> int:
    """Each day's aggregate, the month's (two months at most), and the run record."""
    return (days + 2) * fp.AGGREGATE_WRITE_UNITS + fp.RUN_RECORD_WRITES


def _stored(charges_per_day: int, assume: Assumptions) -> Decimal:
    """Items a source keeps after ``retention_days``: its charges and one aggregate (several KB) a day."""
    return Decimal((charges_per_day + fp.AGGREGATE_WRITE_UNITS) * assume.retention_days)


def month_of(config: Config, assume: Assumptions) -> Month:
    """Every volume the estimate prices, for ``config`` under ``assume``."""
    month = Month([source_load(source, config, assume) for source in config.enabled_sources])
    _functions(month, config, assume)
    _storage(month, config)
    _secrets(month, config)
    return month


# Reports a month per enabled ``[reports]`` entry.
REPORTS_PER_MONTH = {"daily": DAYS_PER_MONTH, "weekly": DAYS_PER_MONTH / 7, "monthly": Decimal(1)}


def report_runs(config: Config) -> Decimal:
    """How many reports the config's ``[reports]`` schedules make in a month."""
    enabled = (kind for kind in REPORTS_PER_MONTH if getattr(config.reports, kind))
    return sum((REPORTS_PER_MONTH[kind] for kind in enabled), Decimal(0))


def _functions(month: Month, config: Config, assume: Assumptions) -> None:
    runs = month.runs
    for load in month.sources:
        month.invoke("collect", load.runs, load.seconds_per_run)
    month.api_requests = assume.api_requests_per_day * DAYS_PER_MONTH
    month.invoke("api", month.api_requests, fp.API_SECONDS)
    staleness = sum((runs_per_month(expression) for expression in fp.FIXED_SCHEDULES.values()), Decimal(0))
    month.scheduled_events = runs + staleness
    # Each finished collection reaches evaluation (its aggregates), recommend (its run record) and, with usage, price.
    month.invoke("alert-evaluate", runs, fp.EVALUATE_SECONDS)
    month.invoke("alert-evaluate", staleness, fp.STALENESS_SECONDS)
    month.alerts = assume.alerts_per_month
    month.invoke("alert-deliver", Decimal(month.alerts), fp.DELIVER_SECONDS)
    priced = sum((load.runs for load in month.sources if load.writes_usage), Decimal(0))
    month.invoke("price", priced, fp.PRICE_SECONDS)
    month.invoke("recommend", runs, fp.RECOMMEND_SECONDS)
    month.reports = report_runs(config)
    month.invoke("report", month.reports, fp.REPORT_SECONDS)
    month.invoke("alert-deliver", month.reports, fp.DELIVER_SECONDS)
    month.email_channels = sum(1 for channel in config.channels if channel.type == "email")


def _storage(month: Month, config: Config) -> None:
    month.write_units = month.total("writes_per_run") + month.alerts * fp.ALERT_WRITE_UNITS
    if config.rate_cards:
        # Each batch re-prices the touched (card, tenant, period) and writes the days that changed.
        month.write_units += month.invocations["price"] * 10 * len(config.rate_cards)
    inv = month.invocations
    month.read_units = (
        inv["api"] * fp.API_READ_UNITS
        + month.runs * fp.EVALUATE_READ_UNITS
        + (inv["alert-evaluate"] - month.runs) * fp.STALENESS_READ_UNITS
        + inv["alert-deliver"] * fp.DELIVER_READ_UNITS
        + inv["price"] * fp.PRICE_READ_UNITS
        + inv["recommend"] * fp.RECOMMEND_READ_UNITS
    )
    month.stored_items = sum((load.stored_items for load in month.sources), Decimal(0))


def _secrets(month: Month, config: Config) -> None:
    """The secrets read: each source's token and every channel's; each read at most once per invocation."""
    channel_secrets = config.channel_secrets()
    sources = [load.secret for load in month.sources if load.secret]
    month.secrets = sorted({*sources, *channel_secrets})
    month.secret_calls = sum((load.runs for load in month.sources if load.secret), Decimal(0)) + Decimal(
        month.invocations["alert-deliver"] * len(channel_secrets)
    )

"""The DigitalOcean inventory: each endpoint's real shape, the CPU counter maths, requests counted and paced, 429s."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import pairwise
from statistics import mean
from typing import Any

import pytest
from pydantic import ValidationError
from spendwatch.domain.config import Config, Source

from collect.sources import digitalocean
from collect.sources.base import CollectRequest, RequestCounter
from collect.sources.digitalocean import resources
from collect.sources.digitalocean.inventory import metrics_window
from collect.sources.digitalocean.records import Origin, RowError
from collect.sources.digitalocean.transport import BURST, RATE_PER_MINUTE, TokenBucket
from collect.sources.digitalocean.utilisation import cpu_days, memory_days, utilisation_usage
from spendwatch_local.fakes.digitalocean import Load
from tests.fakes.digitalocean import FakeDigitalOcean, fixture
from tests.fakes.sinks import RecordingSink

NOW = datetime(2025, 2, 10, 8, tzinfo=UTC)
TODAY = NOW.date()
ORIGIN = Origin("do", NOW, "do:team:x")
TOO_MANY = fixture("error_too_many_requests_429.json")
DO_LIMIT_PER_MINUTE = 250


def _utc_day(stamp: int) -> date:
    return datetime.fromtimestamp(stamp, UTC).date()


# -- each endpoint's shape --------------------------------------------------------------------------------------


def test_sizes_keep_their_prices_exactly() -> None:
    [size] = [resources.size(row) for row in fixture("sizes_list.json")["sizes"]]

    assert (size.slug, size.vcpus, size.memory_mib, size.disk_gib) == ("s-1vcpu-1gb", 1, 1024, 25)
    assert size.price_monthly == Decimal("5.0")
    assert size.price_hourly == Decimal("0.00743999984115362")


def test_volumes_are_unattached_without_droplet_ids_and_priced_per_gib() -> None:
    volumes = [resources.volume(row) for row in fixture("volumes_list.json")["volumes"]]

    assert [(v.id, v.region, v.attached) for v in volumes] == [
        ("506f78a4-e098-11e5-ad9f-000f53306ae1", "nyc1", False),
        ("506f78a4-e098-11e5-ad9f-000f53305eb2", "nyc3", False),
    ]
    assert [v.price_monthly for v in volumes] == [Decimal("1.00"), Decimal("1.00")]  # 10 GiB at $0.10
    assert volumes[0].created_at == datetime(2016, 3, 2, 17, 0, 49, tzinfo=UTC)
    attached = resources.volume({**fixture("volumes_list.json")["volumes"][0], "droplet_ids": [3164494]})
    assert attached.attached and attached.droplet_ids == ["3164494"]


def test_a_reserved_ip_is_assigned_only_with_a_droplet() -> None:
    row = fixture("reserved_ips_list.json")["reserved_ips"][0]

    free = resources.reserved_ip(row)
    held = resources.reserved_ip({**row, "droplet": {"id": 3164444, "name": "example.com"}})

    assert (free.ip, free.region, free.assigned, free.price_monthly) == ("45.55.96.47", "nyc3", False, Decimal(5))
    assert free.project_id == "746c6152-2fa2-11ed-92d3-27aaa54e4988"
    assert (held.assigned, held.droplet_id) == (True, "3164444")


def test_snapshots_name_their_source_resource_and_age() -> None:
    snapshots = [resources.snapshot(row) for row in fixture("snapshots_list.json")["snapshots"]]

    assert [(s.id, s.resource_type, s.resource_id) for s in snapshots] == [
        ("6372321", "droplet", "200776916"),
        ("fbe805e8-866b-11e6-96bf-000f53315a41", "volume", "89bcc42f-85cf-11e6-a004-000f53315871"),
    ]
    assert snapshots[0].created_at == datetime(2020, 7, 28, 16, 47, 44, tzinfo=UTC)
    assert [s.size_gigabytes for s in snapshots] == [Decimal("2.34"), Decimal("0.1008")]
    assert [s.price_monthly for s in snapshots] == [Decimal("0.14"), Decimal("0.01")]  # $0.06 per GiB-month


def test_droplets_carry_their_size_and_monthly_price() -> None:
    rows = fixture("droplets_list_all.json")["droplets"]

    droplets = [resources.droplet(row) for row in rows]

    assert [d.id for d in droplets] == [str(row["id"]) for row in rows]
    assert [d.size_slug for d in droplets] == [row["size_slug"] for row in rows]
    assert [d.price_monthly for d in droplets] == [Decimal(str(row["size"]["price_monthly"])) for row in rows]


@pytest.mark.parametrize(
    ("parse", "row", "reason"),
    [
        (resources.size, {"slug": "x", "vcpus": 1, "memory": 1, "price_monthly": "n/a", "price_hourly": 1}, "price"),
        (resources.volume, {"id": "v"}, "size_gigabytes is None"),
        (resources.reserved_ip, {"droplet": None}, "ip"),
        (resources.snapshot, [], "not an object"),
        (resources.droplet, {"id": 7, "size": {"price_monthly": 5}}, "size_slug"),
    ],
)
def test_unreadable_rows_are_row_errors(parse: Any, row: Any, reason: str) -> None:
    with pytest.raises(RowError, match=reason):
        parse(row)


# -- the maths ---------------------------------------------------------------------------------------------------


def test_cpu_utilisation_is_one_minus_the_idle_share_of_each_interval() -> None:
    body = fixture("monitoring_droplet_cpu.json")
    # Independently of the collector: floats, per interval 1 - Δidle / Δ(all modes).
    modes = {r["metric"]["mode"]: {int(t): float(v) for t, v in r["values"]} for r in body["data"]["result"]}
    stamps = sorted(modes["idle"])
    ratios = []
    for start, end in pairwise(stamps):
        total = sum(series[end] - series[start] for series in modes.values())
        ratios.append(1 - (modes["idle"][end] - modes["idle"][start]) / total)

    days = cpu_days(body)

    assert list(days) == [_utc_day(stamps[0])] == [date(2021, 10, 28)]
    average, peak = days[date(2021, 10, 28)]
    assert len(ratios) == 2 and 0 < min(ratios) < max(ratios) < 1
    assert float(average) == pytest.approx(mean(ratios), abs=5e-5)
    assert float(peak) == pytest.approx(max(ratios), abs=5e-5)


def test_a_counter_that_goes_back_skips_its_interval_and_days_split_at_midnight_utc() -> None:
    midnight = int(datetime(2025, 2, 9, tzinfo=UTC).timestamp())
    stamps = [midnight - 600, midnight - 300, midnight, midnight + 300, midnight + 600]
    idle = ["0", "270", "540", "10", "280"]  # a reboot between the 3rd and 4th samples
    user = ["0", "30", "60", "0", "30"]
    body = {
        "data": {
            "result": [
                {"metric": {"mode": "idle"}, "values": [[t, v] for t, v in zip(stamps, idle, strict=True)]},
                {"metric": {"mode": "user"}, "values": [[t, v] for t, v in zip(stamps, user, strict=True)]},
            ]
        }
    }

    days = cpu_days(body)

    assert days == {
        date(2025, 2, 8): (Decimal("0.1000"), Decimal("0.1000")),
        date(2025, 2, 9): (Decimal("0.1000"), Decimal("0.1000")),  # only 00:05-00:10: 00:00-00:05 went back
    }


def test_memory_utilisation_is_one_minus_available_over_total() -> None:
    assert memory_days(
        fixture("monitoring_droplet_memory_total.json"), fixture("monitoring_droplet_memory_available.json")
    ) == {date(2015, 7, 1): Decimal("0.0000")}
    stamp = int(datetime(2025, 2, 9, 12, tzinfo=UTC).timestamp())
    total = {"data": {"result": [{"metric": {}, "values": [[stamp, "8000"], [stamp + 60, "8000"]]}]}}
    available = {"data": {"result": [{"metric": {}, "values": [[stamp, "6000"], [stamp + 60, "2000"]]}]}}
    assert memory_days(total, available) == {date(2025, 2, 9): Decimal("0.5000")}  # mean of 0.25 and 0.75


def test_utilisation_becomes_ratio_usage_per_droplet_and_day() -> None:
    day = date(2025, 2, 9)
    items = utilisation_usage("402001", {day: (Decimal("0.02"), Decimal("0.05"))}, {day: Decimal("0.3")}, ORIGIN)

    assert [(i.metric, i.quantity, i.unit, i.ResourceId, i.day) for i in items] == [
        ("cpu_utilisation_avg", Decimal("0.02"), "ratio", "402001", day),
        ("cpu_utilisation_peak", Decimal("0.05"), "ratio", "402001", day),
        ("memory_utilisation_avg", Decimal("0.3"), "ratio", "402001", day),
    ]


def test_the_metrics_window_is_the_last_complete_utc_days() -> None:
    start, end = metrics_window(TODAY, 14)

    assert datetime.fromtimestamp(end, UTC) == datetime(2025, 2, 10, tzinfo=UTC)
    assert datetime.fromtimestamp(start, UTC) == datetime(2025, 1, 27, tzinfo=UTC)


# -- runs against the fake ---------------------------------------------------------------------------------------


@dataclass
class SimulatedTime:
    """A clock that moves only when the run sleeps (requests take no time): what pacing alone costs."""

    now: float = 1_700_000_000.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def clock(self) -> float:
        return self.now


def _request(fake: FakeDigitalOcean, **source: Any) -> CollectRequest:
    config_source = Source(name="do", type="digitalocean", **source)
    return CollectRequest(
        config_source,
        Config(sources=[config_source]),
        RecordingSink("do"),
        RequestCounter(),
        NOW,
        env={"DIGITALOCEAN_API_URL": fake.url},
        secret=lambda _env, _name: fake.token,
    )


@pytest.fixture
def fake() -> Iterator[FakeDigitalOcean]:
    """The fixture data, billing empty (the inventory is what is under test)."""
    with FakeDigitalOcean.from_fixtures(insights=[]) as served:
        yield served


def test_the_inventory_is_read_into_the_sink(fake: FakeDigitalOcean) -> None:
    request = _request(fake, lookback_days=1)
    digitalocean.collect(request, sleep=lambda _s: None, clock=lambda: 0.0)

    inventory = request.sink.inventory
    assert inventory is not None
    assert [len(inventory.kinds()[kind]) for kind in ("droplets", "sizes", "volumes", "reserved_ips", "snapshots")] == [
        3,
        1,
        2,
        1,
        2,
    ]
    window = metrics_window(TODAY, 14)
    metric_requests = fake.seen("/v2/monitoring")
    assert len(metric_requests) == 3 * 3
    assert {(r.path.rsplit("/", 1)[1], r.query["host_id"]) for r in metric_requests} == {
        (metric, str(row["id"])) for metric in ("cpu", "memory_total", "memory_available") for row in fake.droplets
    }
    assert {(r.query["start"], r.query["end"]) for r in metric_requests} == {(str(window[0]), str(window[1]))}
    assert {r.query["per_page"] for r in fake.seen("/v2/snapshots")} == {"200"}


def test_inventory_off_reads_only_billing_and_droplets(fake: FakeDigitalOcean) -> None:
    request = _request(fake, lookback_days=1, inventory=False)
    digitalocean.collect(request, sleep=lambda _s: None, clock=lambda: 0.0)

    assert request.sink.inventory is None
    assert request.requests.count == 3  # account, insights, droplets
    assert fake.seen("/v2/monitoring") == [] and fake.seen("/v2/sizes") == []


def test_a_listing_that_fails_leaves_its_kind_out_and_the_rest_in(fake: FakeDigitalOcean) -> None:
    fake.fail("/v2/volumes", 404, {"id": "not_found", "message": "gone"})
    request = _request(fake, lookback_days=1)
    digitalocean.collect(request, sleep=lambda _s: None, clock=lambda: 0.0)

    inventory = request.sink.inventory
    assert inventory is not None and inventory.volumes is None and inventory.sizes is not None
    assert request.sink.rejected == 1
    assert request.sink.first_rejection is not None
    assert request.sink.first_rejection.startswith("volumes: not listed in full, the earlier snapshot stays")


def test_a_droplet_whose_metrics_fail_is_rejected_and_the_others_read(fake: FakeDigitalOcean) -> None:
    fake.fail("/v2/monitoring/metrics/droplet/memory_total", 404, {"id": "not_found", "message": "no droplet"})
    request = _request(fake, lookback_days=1)
    digitalocean.collect(request, sleep=lambda _s: None, clock=lambda: 0.0)

    sink: Any = request.sink
    failed = fake.seen("/v2/monitoring/metrics/droplet/memory_total")[0].query["host_id"]
    assert sink.rejected == 1
    assert sink.first_rejection.startswith(f"utilisation of droplet {failed}: droplet {failed} memory_total metrics")
    assert {u.ResourceId for u in sink.used if u.unit == "ratio"} == {str(d["id"]) for d in fake.droplets} - {failed}


def test_metric_failures_stop_after_five_droplets(fake: FakeDigitalOcean) -> None:
    fake.droplets = [{**fake.droplets[0], "id": n} for n in range(1, 9)]
    fake.fail("/v2/monitoring/metrics/droplet/cpu", 404, {"id": "not_found", "message": "no"}, times=99)
    request = _request(fake, lookback_days=1)
    digitalocean.collect(request, sleep=lambda _s: None, clock=lambda: 0.0)

    assert len(fake.seen("/v2/monitoring")) == 5
    assert request.sink.rejected == 6  # five droplets, then the note of the three not asked for


def test_a_429_on_metrics_waits_retry_after_and_counts_the_retry(fake: FakeDigitalOcean) -> None:
    fake.fail("/v2/monitoring/metrics/droplet/cpu", 429, TOO_MANY, {"retry-after": "29", "ratelimit-remaining": "0"})
    request = _request(fake, lookback_days=1)
    sleeps: list[float] = []
    digitalocean.collect(request, sleep=sleeps.append, clock=lambda: 0.0)

    assert sleeps == [29.0]
    assert request.requests.count == 3 + 4 + 3 * 3 + 1  # the retried request counts twice
    assert request.sink.rejected == 0
    assert len([u for u in request.sink.used if u.unit == "ratio"]) == 3 * 3  # type: ignore[attr-defined]


def test_200_droplets_over_14_days_stay_under_the_per_minute_limit() -> None:
    droplets = 200
    template = fixture("droplets_list_all.json")["droplets"][0]
    rows = [{**template, "id": 500_000 + n} for n in range(droplets)]
    loads = {str(row["id"]): Load(cpu=0.02 + 0.004 * (n % 200), memory=0.5) for n, row in enumerate(rows)}
    time = SimulatedTime()
    stamps: list[float] = []
    with FakeDigitalOcean.from_fixtures(insights=[], droplets=rows, loads=loads, metric_bodies={}) as fake:
        served = fake.answer

        def timed(*args: Any) -> Any:
            stamps.append(time.now)
            return served(*args)

        fake.answer = timed  # type: ignore[method-assign]
        request = _request(fake, lookback_days=1, utilisation_days=14)
        digitalocean.collect(request, sleep=time.sleep, clock=time.clock)

    listings = 1 + 1 + 1 + 4  # account, insights, droplets (200 a page), sizes, volumes, reserved IPs, snapshots
    assert request.requests.count == len(stamps) == listings + 3 * droplets
    busiest = max(sum(1 for s in stamps if start <= s < start + 60) for start in stamps)
    assert busiest <= BURST + RATE_PER_MINUTE < DO_LIMIT_PER_MINUTE
    duration = stamps[-1] - stamps[0]
    assert duration == pytest.approx((len(stamps) - BURST) * 60 / RATE_PER_MINUTE, abs=1.0)
    assert duration < 240  # inside the collect function's 5 minutes, with room for the requests themselves
    used: Any = request.sink
    ratios = [u for u in used.used if u.unit == "ratio"]
    assert {u.day for u in ratios} == {date(2025, 1, 27 + n) if n < 5 else date(2025, 2, n - 4) for n in range(14)}
    assert len(ratios) == droplets * 14 * 3
    assert request.sink.rejected == 0


def test_the_bucket_lets_a_burst_through_then_paces_at_its_rate() -> None:
    time = SimulatedTime()
    bucket = TokenBucket(time.sleep, time.clock, rate_per_minute=60, burst=3)

    waits = [bucket.take() for _ in range(6)]

    assert waits == [0.0, 0.0, 0.0, pytest.approx(1.0), pytest.approx(1.0), pytest.approx(1.0)]
    time.now += 10  # idle time refills up to the burst, never beyond
    assert [bucket.take() for _ in range(4)] == [0.0, 0.0, 0.0, pytest.approx(1.0)]


def test_config_validates_the_inventory_keys() -> None:
    assert Source(name="do", type="digitalocean").utilisation_days == 14
    assert Source(name="do", type="digitalocean").inventory is True
    with pytest.raises(ValidationError, match="utilisation_days"):
        Source(name="do", type="digitalocean", utilisation_days=0)
    with pytest.raises(ValidationError, match=r"utilisation_days do\(es\) not apply to type 'focus'"):
        Source(name="f", type="focus", path="s3://b/p", utilisation_days=7)


def test_utilisation_stops_at_the_runs_deadline_and_a_later_run_starts_elsewhere() -> None:
    rows = [{**fixture("droplets_list_all.json")["droplets"][0], "id": 700 + n} for n in range(300)]
    loads = {str(row["id"]): Load(cpu=0.5, memory=0.5) for row in rows}
    time = SimulatedTime()
    with FakeDigitalOcean.from_fixtures(insights=[], droplets=rows, loads=loads, metric_bodies={}) as fake:
        request = _request(fake, lookback_days=1, utilisation_days=2)
        digitalocean.collect(request, sleep=time.sleep, clock=time.clock)
        first_hosts = [r.query["host_id"] for r in fake.seen("/v2/monitoring/metrics/droplet/cpu")]

    read = len(first_hosts)
    assert 0 < read < 300
    # Pacing alone: the bucket lets BURST through, then RATE_PER_MINUTE; the deadline is 210 s after the start.
    assert read == pytest.approx((BURST + 210 * RATE_PER_MINUTE / 60 - 7) / 3, abs=2)
    assert request.sink.first_rejection == (
        f"utilisation: the run's 210 s for utilisation are spent; {300 - read} droplets not asked for this run"
    )
    assert first_hosts[0] == str(rows[int(NOW.timestamp() // 3600) % 300]["id"])

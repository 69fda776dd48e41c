"""In-process latency of the API's heaviest reads on the demo data, and the DynamoDB requests each makes: the first
call in a fresh container and warm calls after it (the API handler invoked with API Gateway proxy events on moto,
with the local runtime's fixes to moto applied)."""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from spendwatch.platform import clock

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "layers/common/python"), str(ROOT / "local"), str(ROOT)]
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.update(
    AWS_DEFAULT_REGION="us-east-1",
    AWS_ACCESS_KEY_ID="bench",
    AWS_SECRET_ACCESS_KEY="bench",
    SPENDWATCH_API_AUTH="bearer",
    SPENDWATCH_API_TOKEN="bench-token",
)

import requests  # noqa: E402
from moto import mock_aws  # noqa: E402
from spendwatch.domain.config import Config  # noqa: E402
from spendwatch.platform import aws, resources  # noqa: E402

from spendwatch_local import localconfig  # noqa: E402
from spendwatch_local.aws import provision, resource_names  # noqa: E402
from spendwatch_local.demo import shapes as demo_shapes  # noqa: E402
from spendwatch_local.demo.providers import DO_TOKEN_ENV, DemoProviders, ce_window, use_demo_token  # noqa: E402
from spendwatch_local.demo.sample import upload_demo  # noqa: E402
from spendwatch_local.lambdas.functions import LocalFunction  # noqa: E402
from spendwatch_local.lambdas.runs import fire_collection, summary_line  # noqa: E402
from spendwatch_local.moto_server import apply_fixes  # noqa: E402
from spendwatch_local.runtime import function_environment  # noqa: E402

REGION = "us-east-1"
WARM_CALLS = 20
# moto's in-process API: under mock_aws the requests library reaches it without a server.
CE_QUEUE_URL = "http://motoapi.amazonaws.com/moto-api/static/ce/cost-and-usage-results"


def _endpoints(today: str, year_ago: str) -> list[tuple[str, str]]:
    return [
        (
            "GET /v1/costs, 365 days by service",
            "/v1/costs?" + urlencode({"start": year_ago, "end": today, "group_by": "service"}),
        ),
        ("GET /v1/costs/summary", "/v1/costs/summary"),
        ("GET /v1/projections", "/v1/projections"),
    ]


def load_demo(folder: Path) -> list[str]:
    """The demo's data collected as `spendwatch local --demo` collects it: the FOCUS sample in S3, the fake
    DigitalOcean and OpenCost servers, Cost Explorer's answer queued in moto, every demo source fired once; returns
    each run's summary line."""
    table, bucket = resource_names(os.environ)
    created = provision(table, bucket, REGION)
    upload_demo(aws.client("s3"), created.bucket)
    use_demo_token(os.environ)
    now = clock.utc_now()
    providers = DemoProviders(now.date(), os.environ[DO_TOKEN_ENV])
    config = localconfig.with_demo(Config(), created.bucket, providers.start())
    try:
        os.environ.update(
            {
                resources.ENV_TABLE: created.table,
                resources.ENV_BUCKET: created.bucket,
                resources.ENV_TOPIC: created.topic_arn,
                resources.ENV_CONFIG: str(localconfig.write_effective(config, folder)),
            }
        )
        function_environment(os.environ, verbose=False)
        collect = LocalFunction("collect", REGION)
        lines = []
        for source in config.enabled_sources:
            if source.name == localconfig.DEMO_AWS:
                answer = demo_shapes.ce_response(providers.history, *ce_window(source, config, now))
                requests.post(CE_QUEUE_URL, json={"results": [answer]}, timeout=10).raise_for_status()
            lines.append(summary_line(source.name, fire_collection(collect, source.name, now)))
    finally:
        providers.stop()
    return lines


def _event(target: str) -> dict[str, Any]:
    from spendwatch_local.apigateway.events import HttpRequest, build_event

    headers = [("Authorization", "Bearer bench-token"), ("Host", "bench")]
    return build_event(HttpRequest("GET", target, headers, b"", "127.0.0.1"))


class DynamoDbCalls:
    """Counts a client's DynamoDB requests and the time at least one of them was in flight (moto's share of a
    call; a request reads partitions side by side, so requests overlap)."""

    def __init__(self, client: Any) -> None:
        self.count = 0
        self.seconds = 0.0
        self._in_flight = 0
        self._started = 0.0
        self._lock = threading.Lock()
        client.meta.events.register("before-call.dynamodb.*", self._before)
        client.meta.events.register("after-call.dynamodb.*", self._after)

    def _before(self, **_: Any) -> None:
        with self._lock:
            self.count += 1
            self._in_flight += 1
            if self._in_flight == 1:
                self._started = time.perf_counter()

    def _after(self, **_: Any) -> None:
        with self._lock:
            self._in_flight -= 1
            if self._in_flight == 0:
                self.seconds += time.perf_counter() - self._started


def _call(api: LocalFunction, target: str, dynamodb: DynamoDbCalls) -> tuple[float, int, float]:
    """Seconds for one invocation, the DynamoDB requests it made and the seconds spent in them."""
    dynamodb.count, dynamodb.seconds = 0, 0.0
    started = time.perf_counter()
    response = api.invoke(_event(target))
    elapsed = time.perf_counter() - started
    assert response["statusCode"] == 200, response["body"][:500]
    return elapsed, dynamodb.count, dynamodb.seconds


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]  # nearest rank


def measure(target: str) -> dict[str, Any]:
    """In a fresh container: the first call, then warm calls (p50/p95, requests and moto's share)."""
    api = LocalFunction("api", REGION)
    api.load()  # the import is Lambda's init phase, measured by bench.cold_start
    dynamodb = DynamoDbCalls(aws.client("dynamodb"))
    first = _call(api, target, dynamodb)
    warm = [_call(api, target, dynamodb) for _ in range(WARM_CALLS)]
    seconds = [s for s, _, _ in warm]
    own = [s - in_moto for s, _, in_moto in warm]  # the API's own code: routing, validation, maths, JSON
    return {
        "first_ms": first[0] * 1000,
        "first_own_ms": (first[0] - first[2]) * 1000,
        "first_requests": first[1],
        "p50_ms": _percentile(seconds, 0.5) * 1000,
        "p95_ms": _percentile(seconds, 0.95) * 1000,
        "own_p50_ms": _percentile(own, 0.5) * 1000,
        "own_p95_ms": _percentile(own, 0.95) * 1000,
        "warm_requests": sorted({n for _, n, _ in warm}),
    }


def measure_in_fresh_process(target: str) -> dict[str, Any]:
    """Load the demo and measure one endpoint; run in a spawned interpreter, its first call is a fresh container's."""
    with tempfile.TemporaryDirectory() as folder, mock_aws():
        apply_fixes()  # moto as `spendwatch local` runs it
        aws.client.cache_clear()
        started = time.perf_counter()
        runs = load_demo(Path(folder))
        result = {"load_s": time.perf_counter() - started, "runs": runs}
        result.update(measure(target))
        return result


def main() -> None:
    """Each endpoint in its own interpreter (demo loaded afresh), then the numbers."""
    today = clock.utc_now().date()
    print("API latency in-process (moto, demo data as `spendwatch local --demo` loads it):")
    spawn = multiprocessing.get_context("spawn")
    for n, (label, target) in enumerate(_endpoints(today.isoformat(), (today - timedelta(days=364)).isoformat())):
        with spawn.Pool(1) as pool:
            result = pool.apply(measure_in_fresh_process, (target,))
        if n == 0:
            print("\n".join(f"  {line}" for line in result["runs"]) + f"\n  demo loaded in {result['load_s']:.1f} s")
        warm_requests = "/".join(str(count) for count in result["warm_requests"])
        print(
            f"  {label}: {result['first_requests']} DynamoDB requests first, {warm_requests} warm\n"
            f"    first call {result['first_ms']:5.0f} ms ({result['first_own_ms']:4.0f} ms outside moto)\n"
            f"    warm p50   {result['p50_ms']:5.0f} ms ({result['own_p50_ms']:4.0f} ms outside moto), "
            f"p95 {result['p95_ms']:5.0f} ms ({result['own_p95_ms']:4.0f} ms outside moto), {WARM_CALLS} calls"
        )


if __name__ == "__main__":
    main()

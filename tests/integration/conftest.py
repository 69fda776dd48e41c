"""Integration fixtures: handlers end to end on moto, resources from the same definitions as the stack."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import boto3
import pytest
from moto import mock_aws
from spendwatch.domain.config import cached_config
from spendwatch.platform import aws, resources
from spendwatch.store import Store
from spendwatch.store import table as store_table

from spendwatch_local.apigateway.events import HttpRequest, build_event
from spendwatch_local.lambdas import shapes
from tests.conftest import FOCUS_SAMPLE

TABLE = "spendwatch-test"
BUCKET = "spendwatch-test-data"
TOKEN = "test-token-not-a-secret"


def LambdaContext() -> shapes.LambdaContext:
    """The local runtime's Lambda context, for a function called "test"."""
    return shapes.LambdaContext("test", "us-east-1", timeout_seconds=30.0, memory_limit_in_mb=256)


@contextmanager
def aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Moto with the table (stream + TTL) and bucket the stack defines, and the env the functions read."""
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv(resources.ENV_TABLE, TABLE)
    monkeypatch.setenv(resources.ENV_BUCKET, BUCKET)
    monkeypatch.setenv(resources.ENV_API_AUTH, "bearer")
    monkeypatch.setenv(resources.ENV_API_TOKEN, TOKEN)
    clear_caches()
    with mock_aws():
        ddb = boto3.client("dynamodb")
        ddb.create_table(**store_table.table_create_kwargs(TABLE))
        ddb.update_time_to_live(**store_table.table_ttl_kwargs(TABLE))
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield {"dynamodb": ddb, "s3": boto3.client("s3"), "tmp": tmp_path, "monkeypatch": monkeypatch}
    clear_caches()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A fresh moto account per test."""
    with aws_environment(monkeypatch, tmp_path) as env:
        yield env


@pytest.fixture(scope="module")
def module_aws_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One moto account shared by a module's tests (for modules that only read what a fixture loaded once)."""
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        aws_environment(monkeypatch, tmp_path_factory.mktemp("aws")) as env,
    ):
        yield env


@pytest.fixture(scope="module")
def focus_collected(module_aws_env: dict[str, Any]) -> dict[str, Any]:
    """The real FOCUS sample uploaded gzipped to S3 and collected once by the collect handler."""
    from collect.handler import handler

    module_aws_env["s3"].put_object(
        Bucket=BUCKET, Key="focus/2024-09/part-0.csv.gz", Body=gzip.compress(FOCUS_SAMPLE.read_bytes())
    )
    write_config(module_aws_env, f'[[sources]]\nname = "focus"\ntype = "focus"\npath = "s3://{BUCKET}/focus/"\n')
    assert handler(scheduled_event("focus"), LambdaContext())["status"] == "succeeded"
    return module_aws_env


def clear_caches() -> None:
    """Each test is a cold start: clients, config, the API's settings and Powertools' secret providers (whose
    clients would otherwise keep an earlier test's moto endpoint) are made afresh."""
    from aws_lambda_powertools.utilities import parameters

    from api import deps

    parameters.clear_caches()
    aws.client.cache_clear()
    cached_config.cache_clear()
    deps.settings.cache_clear()


def write_config(env: dict[str, Any], text: str) -> Path:
    """Write a spendwatch.toml and point the functions at it."""
    path: Path = env["tmp"] / "spendwatch.toml"
    path.write_text(text, encoding="utf-8")
    env["monkeypatch"].setenv(resources.ENV_CONFIG, str(path))
    cached_config.cache_clear()
    return path


def scheduled_event(source: str, **detail: str) -> dict[str, Any]:
    """A real EventBridge Scheduled Event as the schedule's input transformer delivers it."""
    event = shapes.scheduled_event(source, datetime(2026, 11, 24, 8, 0, tzinfo=UTC), "us-east-1")
    event["detail"].update(detail)
    return event


Query = dict[str, str] | dict[str, str | list[str]]


def api_event(
    path: str,
    query: Query | None = None,
    token: str | None = TOKEN,
    method: str = "GET",
    body: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event, as the local gateway builds it from an HTTP request."""
    headers = [("Authorization", f"Bearer {token}")] if token else []
    if body is not None:
        headers.append(("Content-Type", "application/json"))
    target = quote(path) + (f"?{urlencode(query, doseq=True)}" if query else "")
    request = HttpRequest(method, target, headers, (body or "").encode(), "127.0.0.1")
    return build_event(request)


def call_api(
    path: str,
    query: Query | None = None,
    token: str | None = TOKEN,
    method: str = "GET",
    body: Any = None,
) -> tuple[int, Any]:
    """Invoke the real API handler; returns status and decoded JSON body (``body`` is sent as JSON)."""
    from api.handler import handler

    raw = body if isinstance(body, str) or body is None else json.dumps(body)
    response = handler(api_event(path, query, token, method, raw), LambdaContext())
    return response["statusCode"], json.loads(response["body"]) if response["body"] else None


def store() -> Store:
    """A store on the test table."""
    return Store(boto3.client("dynamodb"), TABLE)

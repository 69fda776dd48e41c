"""Vercel charges from the billing API: FOCUS rows streamed as JSON lines, normalised like any FOCUS export.

``GET /v1/billing/charges?from=&to=&teamId=`` (bearer token) answers FOCUS 1.3 rows, one JSON object per
line, at one-day granularity; ``from`` is inclusive and ``to`` exclusive, both ISO 8601 in UTC, and a query
spans at most a year. The API does not page, so long windows are asked for in chunks of :data:`CHUNK_DAYS`
days: each answer stays small and a failure names the days it lost. Rows go through the FOCUS collector's
own :func:`~collect.sources.focus.to_cost_item`, so Vercel and exported FOCUS files mean the same thing.
A line that is not JSON, or a row that is not a usable charge, is counted as rejected and the run goes on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any

import httpx
from spendwatch.domain.models import CostItem
from spendwatch.platform import http
from spendwatch.platform.secrets import SecretError

from collect.sources.base import CollectRequest, Coverage, SourceError, chunks, days_to_read
from collect.sources.focus import NULL, RowError, to_cost_item
from collect.sources.usage import UsageTally

DEFAULT_URL = "https://api.vercel.com"
PATH = "/v1/billing/charges"
CHUNK_DAYS = 31
ONE_DAY = timedelta(days=1)


class VercelSourceError(SourceError):
    """Vercel could not be reached, refused the token or the query, or sent no charges to read."""


@dataclass(frozen=True)
class Target:
    """What every item of this run shares."""

    source: str
    team_id: str | None
    collected_at: datetime


def base_url(request: CollectRequest) -> str:
    """``VERCEL_API_URL`` if set, else the source's ``url``, else Vercel's public API."""
    return (request.env.get("VERCEL_API_URL") or request.source.url or DEFAULT_URL).rstrip("/")


def token(request: CollectRequest) -> str:
    """The API token (env ``VERCEL_TOKEN`` locally, the configured secret when deployed)."""
    try:
        value = request.secret("VERCEL_TOKEN", request.config.secrets.vercel_token)
    except SecretError as exc:
        raise VercelSourceError(str(exc)) from exc
    if not value:
        raise VercelSourceError(
            f"no Vercel token: set VERCEL_TOKEN or the secret {request.config.secrets.vercel_token!r}"
        )
    return value.strip()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def query_params(first: date, last: date, now: datetime, team_id: str | None) -> dict[str, str]:
    """``from``/``to`` for whole UTC days ``first``..``last``; ``to`` never later than now."""
    start = datetime.combine(first, dtime(0), tzinfo=UTC)
    end = min(datetime.combine(last + ONE_DAY, dtime(0), tzinfo=UTC), now)
    params = {"from": _iso(start), "to": _iso(end)}
    if team_id:
        params["teamId"] = team_id
    return params


def _text(value: Any) -> str:
    """A JSON value as the FOCUS parser reads a CSV cell (``NULL`` for null, JSON text for objects)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, sort_keys=True)
    return str(value)


def cost_item(line: str, target: Target) -> CostItem:
    """One JSON line as a cost item; RowError says why it cannot be one."""
    try:
        row = json.loads(line, parse_float=Decimal, parse_constant=Decimal)
    except ValueError as exc:
        raise RowError("not valid JSON") from exc
    if not isinstance(row, dict):
        raise RowError("not a JSON object")
    item = to_cost_item({str(k): _text(v) for k, v in row.items()}, target.source, target.collected_at)
    update: dict[str, Any] = {"x_estimated": item.ChargePeriodEnd > target.collected_at}
    if not item.BillingAccountId and target.team_id:
        # Vercel's rows name no billing account; the team is the account the charges are invoiced to.
        update["BillingAccountId"] = target.team_id
    return item.model_copy(update=update)


def _error_detail(response: httpx.Response) -> str:
    """Vercel's ``{"error": {"code", "message"}}`` as one short line (it never echoes the token)."""
    try:
        error = response.json().get("error", {})
        return f"{error.get('code', '')}: {error.get('message', '')}".strip(": ")[:200]
    except (ValueError, AttributeError):
        return ""


def fetch_lines(
    client: httpx.Client,
    params: Mapping[str, str],
    secret: str,
    what: str,
    on_attempt: Callable[[], None],
    sleep: Callable[[float], None],
) -> list[str]:
    """The JSON lines of one charges answer; VercelSourceError if the answer is an error."""
    headers = {"Authorization": f"Bearer {secret}", "Accept": "application/jsonl"}
    try:
        response = http.request(
            client, "GET", PATH, params=params, headers=headers, on_attempt=on_attempt, sleep=sleep, what=what
        )
    except http.HttpError as exc:
        raise VercelSourceError(str(exc)) from exc
    if response.status_code != 200:
        detail = _error_detail(response)
        raise VercelSourceError(f"{what}: HTTP {response.status_code}{' ' + detail if detail else ''}")
    return response.text.splitlines()


def read_lines(request: CollectRequest, lines: list[str], target: Target, first: date, last: date) -> None:
    """Every charge of the chunk into the sink, then its days' consumed quantities as usage.

    Broken lines and rows are counted, not fatal. Chunks never share a day, so each chunk's usage is whole.
    """
    where = f"{PATH} {_span(first, last)} line"
    usage = UsageTally(target.source, target.collected_at)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = cost_item(line, target)
        except RowError as exc:
            request.sink.reject(f"{where} {number}", str(exc))
            continue
        # A charge outside the asked days would replace the totals of a day this run did not read in full.
        if first <= item.day <= last:
            request.sink.cost(item)
            usage.add(item)
    usage.write(request.sink)


def _span(first: date, last: date) -> str:
    return first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()}"


def collect(
    request: CollectRequest, client: httpx.Client | None = None, sleep: Callable[[float], None] = time.sleep
) -> Coverage:
    """Read the source's days of Vercel charges, a chunk of days per request; every day asked is covered."""
    days = days_to_read(request)
    if days is None:
        return Coverage(None, None)
    first, last = days
    secret = token(request)
    target = Target(request.source.name, request.source.team_id, request.collected_at)
    own = client is None
    client = client or httpx.Client(base_url=base_url(request), timeout=http.DEFAULT_TIMEOUT)
    try:
        for chunk_first, chunk_last in chunks(first, last, CHUNK_DAYS):
            params = query_params(chunk_first, chunk_last, request.collected_at, target.team_id)
            what = f"Vercel charges {_span(chunk_first, chunk_last)}"
            try:
                lines = fetch_lines(client, params, secret, what, request.requests.hit, sleep)
            except VercelSourceError as exc:
                done = f"{_span(first, chunk_first - ONE_DAY)} collected, " if chunk_first > first else ""
                raise VercelSourceError(f"{exc}; {done}{_span(chunk_first, last)} missing") from exc
            read_lines(request, lines, target, chunk_first, chunk_last)
    finally:
        if own:
            client.close()
    return Coverage(first, last)

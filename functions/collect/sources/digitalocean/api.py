"""The DigitalOcean calls a collection makes, with both paging schemes and errors turned into SourceError."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

from collect.sources.base import SourceError
from collect.sources.digitalocean.transport import PauseBudgetError

PER_PAGE = 200  # the API's maximum: fewest requests
MAX_PAGES = 500  # a guard against a server that keeps answering "next"
Body = dict[str, Any]
METRIC_OPERATIONS = {
    "cpu": "get_droplet_cpu_metrics",
    "memory_total": "get_droplet_memory_total_metrics",
    "memory_available": "get_droplet_memory_available_metrics",
}


class DigitalOceanError(SourceError):
    """DigitalOcean answered with an error, an unreadable body, or not at all (after retries)."""


def _with_status(pipeline_response: Any, body: Any, _headers: Any) -> tuple[int, Any]:
    """pydo's ``cls`` hook: keep the HTTP status, since some operations return a 404 body instead of raising."""
    return int(pipeline_response.http_response.status_code), body


def _error_text(body: Any) -> str:
    """``id: message`` of a DigitalOcean error body (shared/models/error.yml), or '' if it is not one."""
    if isinstance(body, dict) and isinstance(body.get("id"), str) and "message" in body:
        return f"{body['id']}: {body['message']}"
    return ""


def _describe_http_error(exc: Any) -> str:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(exc, "status_code", None)
    if status is None or status < 400:
        return "the answer is not valid JSON"
    reason = getattr(response, "reason", None) or ""
    try:
        detail = _error_text(response.json()) if response is not None else ""
    except ValueError:
        detail = ""
    return f"HTTP {status} {reason}".rstrip() + (f" ({detail})" if detail else "")


def next_page(body: Body, current: int) -> int | None:
    """The page after ``current`` from ``links.pages.next`` (absent on the last page or when there is one page)."""
    links = body.get("links")
    pages = links.get("pages") if isinstance(links, dict) else None
    following = pages.get("next") if isinstance(pages, dict) else None
    if not following:
        return None
    values = parse_qs(urlsplit(str(following)).query).get("page", [])
    if not values or not values[0].isdigit() or int(values[0]) <= current:
        raise DigitalOceanError(f"links.pages.next {following!r} does not point past page {current}")
    return int(values[0])


def _int_field(body: Body, name: str, what: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise DigitalOceanError(f"{what}: {name} is {value!r}, not a number")
    return value


def _page_points(body: Body, page: int, what: str) -> list[Any]:
    points = body["data_points"]
    if not isinstance(points, list):
        raise DigitalOceanError(f"{what}: data_points is not a list")
    current = body.get("current_page", page)
    if current != page:
        raise DigitalOceanError(f"{what}: asked for page {page}, got current_page {current!r}")
    return points


class DoApi:
    """One run's view of the API: each method returns plain dicts and raises DigitalOceanError."""

    def __init__(self, client: Any, token: str) -> None:
        self._client = client
        self._token = token

    def call(self, what: str, operation: Callable[..., Any], *args: Any, expect: str, **kwargs: Any) -> Body:
        """Run one pydo operation and return its body, which must be an object holding ``expect``."""
        from azure.core.exceptions import AzureError, HttpResponseError

        try:
            status, body = operation(*args, cls=_with_status, **kwargs)
        except HttpResponseError as exc:
            raise self._error(f"{what}: {_describe_http_error(exc)}") from exc
        except AzureError as exc:
            raise self._error(f"{what}: no answer ({type(exc).__name__})") from exc
        except PauseBudgetError as exc:
            raise self._error(f"{what}: {exc}") from exc
        except ValueError as exc:
            raise self._error(f"{what}: the answer is not valid JSON") from exc
        if status != 200 or _error_text(body):
            # Several pydo operations hand back a 404 error body instead of raising.
            raise self._error(f"{what}: HTTP {status} ({_error_text(body) or 'no error body'})")
        if not isinstance(body, dict) or expect not in body:
            raise self._error(f"{what}: the answer has no {expect!r}")
        return body

    def _error(self, message: str) -> DigitalOceanError:
        # The token travels only in a header, but a server could echo it: never let it into a message.
        return DigitalOceanError(message.replace(self._token, "***") if self._token else message)

    def account_urn(self) -> str:
        """``do:team:<team uuid>``: billing insights are kept per team (an organization would be do:teamgroup:)."""
        body = self.call("account", self._client.account.get, expect="account")
        account = body["account"] if isinstance(body["account"], dict) else {}
        team = account.get("team") if isinstance(account.get("team"), dict) else {}
        uuid = team.get("uuid") if team else None
        if not isinstance(uuid, str) or not uuid:
            raise DigitalOceanError("account: no team uuid, so there is no billing insights URN")
        return f"do:team:{uuid}"

    def insights(self, urn: str, start: date, end: date, per_page: int = PER_PAGE) -> Iterator[Body]:
        """Billing insight data points for [start, end] (at most 31 days), following total_pages/current_page."""
        what = f"billing insights {start}..{end}"
        page = 1
        while True:
            body = self.call(
                f"{what} page {page}",
                self._client.billing_insights.list,
                urn,
                start,
                end,
                per_page=per_page,
                page=page,
                expect="data_points",
            )
            points = _page_points(body, page, what)
            yield from points
            if page >= _int_field(body, "total_pages", what):
                return
            if not points or page >= MAX_PAGES:
                # Paging that stalls or never ends would make the run claim days it did not read.
                raise DigitalOceanError(f"{what}: page {page} of {body['total_pages']} is empty or past {MAX_PAGES}")
            page += 1

    def insights_exist(self, urn: str, start: date, end: date) -> bool:
        """Whether billing insights hold any row for [start, end] (one request of one row)."""
        body = self.call(
            f"billing insights {start}..{end}",
            self._client.billing_insights.list,
            urn,
            start,
            end,
            per_page=1,
            page=1,
            expect="data_points",
        )
        return bool(body["data_points"]) or _int_field(body, "total_items", "billing insights") > 0

    def _linked(self, what: str, key: str, operation: Callable[..., Any], *args: Any) -> Iterator[Any]:
        """Every element of ``key`` across pages, following ``links.pages.next``."""
        page: int | None = 1
        while page is not None:
            if page > MAX_PAGES:
                raise DigitalOceanError(f"{what}: more than {MAX_PAGES} pages")
            body = self.call(f"{what} page {page}", operation, *args, per_page=PER_PAGE, page=page, expect=key)
            if not isinstance(body[key], list):
                raise DigitalOceanError(f"{what}: {key} is not a list")
            yield from body[key]
            page = next_page(body, page) if body[key] else None

    def invoices(self) -> Iterator[Any]:
        """Closed invoices, newest first (the preview of the current month is not one of them)."""
        return self._linked("invoices", "invoices", self._client.invoices.list)

    def invoice_items(self, invoice_uuid: str) -> Iterator[Any]:
        """The line items of one invoice."""
        return self._linked(f"invoice {invoice_uuid}", "invoice_items", self._client.invoices.get_by_uuid, invoice_uuid)

    def droplets(self) -> Iterator[Any]:
        """Every droplet, with its size and prices."""
        return self._linked("droplets", "droplets", self._client.droplets.list)

    def sizes(self) -> Iterator[Any]:
        """Every size on offer, with its prices."""
        return self._linked("sizes", "sizes", self._client.sizes.list)

    def volumes(self) -> Iterator[Any]:
        """Every block storage volume, with the droplets it is attached to."""
        return self._linked("volumes", "volumes", self._client.volumes.list)

    def reserved_ips(self) -> Iterator[Any]:
        """Every reserved IP, with the droplet it is assigned to (or none)."""
        return self._linked("reserved IPs", "reserved_ips", self._client.reserved_ips.list)

    def snapshots(self) -> Iterator[Any]:
        """Every droplet and volume snapshot, with the resource it was taken of."""
        return self._linked("snapshots", "snapshots", self._client.snapshots.list)

    def droplet_metric(self, metric: str, host_id: str, start: int, end: int) -> Body:
        """One droplet's ``cpu``, ``memory_total`` or ``memory_available`` series over [start, end] (Unix seconds).

        The answer is Prometheus-shaped: ``data.result[]`` of ``{metric: {...labels}, values: [[ts, "value"]]}``;
        the API picks the resolution from the window's length.
        """
        operation = getattr(self._client.monitoring, METRIC_OPERATIONS[metric])
        what = f"droplet {host_id} {metric} metrics"
        return self.call(what, operation, host_id=host_id, start=str(start), end=str(end), expect="data")

    def balance(self) -> Body:
        """Month-to-date usage and when DigitalOcean computed it."""
        return self.call("balance", self._client.balance.get, expect="month_to_date_usage")

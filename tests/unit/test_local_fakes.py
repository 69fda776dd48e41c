"""The fake provider servers' shared plumbing, without sockets: requests parsed once, replies as sent."""

from __future__ import annotations

import httpx
import pytest

from spendwatch_local.fakes._http import FakeServer, Reply, Request, json_reply
from spendwatch_local.fakes.digitalocean import FakeDigitalOcean


class Echo(FakeServer):
    """Answers every GET with what it saw."""

    def reply(self, request: Request) -> Reply:
        return json_reply(200, {"path": request.path, "query": request.query, "auth": request.headers.get("x-auth")})


def test_a_request_keeps_the_last_value_of_a_repeated_name_and_lower_cases_headers() -> None:
    request = Request.parse("/v2/droplets?page=1&page=2&per_page=20", [("X-Auth", "t"), ("Accept", "*/*")])
    assert request == Request("/v2/droplets", {"page": "2", "per_page": "20"}, {"x-auth": "t", "accept": "*/*"})


def test_the_transport_answers_like_the_server() -> None:
    with httpx.Client(transport=Echo().transport(), base_url="http://fake") as client:
        response = client.get("/allocation", params={"window": "7d"}, headers={"X-Auth": "token"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"path": "/allocation", "query": {"window": "7d"}, "auth": "token"}


def test_a_fake_that_is_not_serving_has_no_url() -> None:
    with pytest.raises(RuntimeError, match="not serving"):
        _ = Echo().url


def test_digitalocean_answers_carry_the_rate_limit_headers() -> None:
    fake = FakeDigitalOcean(balance={"month_to_date_usage": "1.00"})
    reply = fake.reply(Request.parse("/v2/customers/my/balance", [("Authorization", f"Bearer {fake.token}")]))
    assert (reply.status, reply.body) == (200, b'{"month_to_date_usage": "1.00"}')
    assert reply.headers["ratelimit-remaining"] == "4999"
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    refused = fake.reply(Request.parse("/v2/customers/my/balance", []))
    assert refused.status == 401


def test_methods_a_fake_does_not_serve_are_405() -> None:
    with httpx.Client(transport=Echo().transport(), base_url="http://fake") as client:
        assert client.post("/allocation", content=b"{}").status_code == 405

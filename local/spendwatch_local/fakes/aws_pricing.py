"""A local AWS Price List Query API (``GetProducts`` only): moto has no ``pricing`` service.

The protocol is awsJson1_1, as the botocore service model says: ``POST /`` with ``X-Amz-Target:
AWSPriceListService.GetProducts`` and a JSON body (``ServiceCode``, ``Filters``, ``FormatVersion``, ``MaxResults``
1..100, ``NextToken``); the answer is ``{FormatVersion, PriceList: [<product document as a JSON string>...],
NextToken}``, errors ``{"__type": ..., "Message": ...}`` with HTTP 400. A product matches a ``TERM_MATCH`` or
``EQUALS`` filter when its ``product.attributes[Field]`` (or ``productFamily``) equals ``Value`` (``TERM_MATCH``
ignoring case, as AWS does); ``CONTAINS``, ``ANY_OF`` and ``NONE_OF`` (comma-separated values) are served too.

Point botocore at it with ``AWS_ENDPOINT_URL_PRICING=<fake.url>``. The products come from ``aws_price_list.json``
beside this module (real us-east-1 and eu-west-1 on-demand prices, in the documents' real shape) unless given.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from spendwatch_local.fakes._http import FakeServer, Reply, Request

DATA = Path(__file__).with_name("aws_price_list.json")
TARGET = "AWSPriceListService.GetProducts"
CONTENT_TYPE = "application/x-amz-json-1.1"
ENDPOINT_ENV = "AWS_ENDPOINT_URL_PRICING"
Product = dict[str, Any]

__all__ = ["DATA", "ENDPOINT_ENV", "FakePricing", "load_products"]


def load_products(path: Path = DATA) -> list[Product]:
    """The product documents of a data file (``{"products": [...]}``)."""
    products: list[Product] = json.loads(path.read_text(encoding="utf-8"))["products"]
    return products


def _error(code: str, message: str, status: int = 400) -> Reply:
    body = json.dumps({"__type": code, "Message": message}).encode()
    return Reply(status, body, {"Content-Type": CONTENT_TYPE, "x-amzn-ErrorType": code})


def _field(product: Product, name: str) -> str | None:
    inner = product.get("product") or {}
    if name == "productFamily":
        return inner.get("productFamily")
    if name == "ServiceCode":
        return product.get("serviceCode")
    value = (inner.get("attributes") or {}).get(name)
    return None if value is None else str(value)


def matches(product: Product, filters: Iterable[Mapping[str, str]]) -> bool:
    """Whether ``product`` passes every filter."""
    for item in filters:
        value = _field(product, item["Field"])
        wanted, kind = item["Value"], item["Type"]
        options = [v.strip() for v in wanted.split(",")]
        if kind == "TERM_MATCH":
            ok = value is not None and value.lower() == wanted.lower()
        elif kind == "EQUALS":
            ok = value == wanted
        elif kind == "CONTAINS":
            ok = value is not None and wanted in value
        elif kind == "ANY_OF":
            ok = value in options
        else:  # NONE_OF
            ok = value not in options
        if not ok:
            return False
    return True


class FakePricing(FakeServer):
    """GetProducts over ``products``; every request's body is kept in ``requests``. :meth:`fail` queues errors."""

    thread_name = "fake-aws-pricing"
    methods = frozenset({"POST"})

    def __init__(self, products: list[Product] | None = None) -> None:
        self.products = load_products() if products is None else products
        self.requests: list[dict[str, Any]] = []
        self._failures: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()

    def fail(self, code: str = "ThrottlingException", message: str = "Rate exceeded", status: int = 400) -> None:
        """Answer the next request with this error."""
        with self._lock:
            self._failures.append((code, message, status))

    def reply(self, request: Request) -> Reply:
        """The awsJson1_1 answer to one POST."""
        if request.headers.get("x-amz-target") != TARGET:
            return _error("UnknownOperationException", f"{request.headers.get('x-amz-target')!r} is not served here")
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return _error("SerializationException", "the body is not JSON")
        with self._lock:
            self.requests.append(body)
            if self._failures:
                return _error(*self._failures.pop(0))
        return self.get_products(body)

    def get_products(self, body: Mapping[str, Any]) -> Reply:
        """GetProducts: the matching products from the token's offset, at most ``MaxResults``."""
        service = body.get("ServiceCode")
        if not isinstance(service, str) or not service:
            return _error("ValidationException", "1 validation error detected: ServiceCode must not be null")
        size = int(body.get("MaxResults") or 100)
        if not 1 <= size <= 100:
            return _error("InvalidParameterException", "MaxResults must be between 1 and 100")
        try:
            start = int(base64.b64decode(body["NextToken"]).decode()) if body.get("NextToken") else 0
        except ValueError:
            return _error("InvalidNextTokenException", "The NextToken is not valid")
        filters = [{"Type": "EQUALS", "Field": "ServiceCode", "Value": service}, *(body.get("Filters") or [])]
        found = [product for product in self.products if matches(product, filters)]
        page = found[start : start + size]
        answer: dict[str, Any] = {
            "FormatVersion": body.get("FormatVersion") or "aws_v1",
            "PriceList": [json.dumps(product, separators=(",", ":")) for product in page],
        }
        if start + size < len(found):
            answer["NextToken"] = base64.b64encode(str(start + size).encode()).decode()
        return Reply(200, json.dumps(answer).encode(), {"Content-Type": CONTENT_TYPE})

"""HEAD on every GET route, and ``Allow`` that names exactly the methods of each path."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

if TYPE_CHECKING:
    from conftest import NewCustomer, TokenFor

Client = AsyncTestClient[Litestar]
_PARAMETER = re.compile(r"\{[^}]+\}")
_METHODS = {"get", "post", "put", "patch", "delete"}


async def _paths(client: Client) -> dict[str, set[str]]:
    document: dict[str, Any] = (await client.get("/api/v1/openapi.json")).json()
    return {
        path: {method.upper() for method in item if method in _METHODS}
        for path, item in document["paths"].items()
    }


def _concrete(path: str, customer_id: str) -> str:
    return _PARAMETER.sub(customer_id, path)


def _allowed(methods: set[str]) -> set[str]:
    return {*methods, "OPTIONS", *({"HEAD"} if "GET" in methods else set())}


async def test_head_answers_like_get_without_a_body(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer()
    admin = token_for("admin")
    gets = [path for path, methods in (await _paths(client)).items() if "GET" in methods]
    assert len(gets) > 10
    for path in gets:
        url = _concrete(path, customer.id)
        got = await client.get(url, headers=admin)
        head = await client.head(url, headers=admin)
        assert head.status_code == got.status_code, url
        assert head.content == b"", url
        for header in ("content-type", "etag", "cache-control"):
            assert head.headers.get(header) == got.headers.get(header), (url, header)
        if "content-length" in got.headers and "content-encoding" not in got.headers:
            assert head.headers["content-length"] == got.headers["content-length"], url
    # Without a token, HEAD is refused exactly like GET.
    assert (await client.head("/api/v1/customers")).status_code == 401


async def test_allow_lists_exactly_the_methods_of_each_path(
    client: Client, token_for: TokenFor
) -> None:
    admin = token_for("admin")
    for path, methods in (await _paths(client)).items():
        url = _concrete(path, "cust_any")
        expected = _allowed(methods)
        options = await client.options(url, headers=admin)
        assert options.status_code == 204, url
        assert set(options.headers["allow"].split(", ")) == expected, url
        wrong = await client.request("TRACE", url, headers=admin)
        assert wrong.status_code == 405, url
        assert set(wrong.headers["allow"].split(", ")) == expected, url
        assert wrong.json()["success"] is False

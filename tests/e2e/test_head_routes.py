"""HEAD on every GET route the app serves — those the OpenAPI document lists and those it does
not (health, readiness, metrics, the documents themselves): the GET's status and headers, no
body (issue 9, Deliver 5). ``test_http_methods.py`` walks the document's paths; this walks the
application's own routes, so a route left out of the document is still covered."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

if TYPE_CHECKING:
    from conftest import NewCustomer, TokenFor

Client = AsyncTestClient[Litestar]
_PARAMETER = re.compile(r"\{[^}]+\}")
_SAME_HEADERS = ("content-type", "etag", "cache-control", "allow", "content-disposition")


def get_paths(app: Litestar) -> list[str]:
    """Every path template the app answers GET on (parameters as ``{name:type}``)."""
    return sorted(
        {
            route.path
            for route in app.routes
            if isinstance(route, HTTPRoute) and "GET" in route.methods
        }
    )


async def test_every_get_route_answers_head_like_get_without_a_body(
    app: Litestar, client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer()
    admin = token_for("admin")
    paths = get_paths(app)
    assert {"/health", "/api/v1/customers"} <= set(paths)
    for template in paths:
        url = _PARAMETER.sub(customer.id, template)
        got = await client.get(url, headers=admin)
        head = await client.head(url, headers=admin)
        assert head.status_code == got.status_code, url
        assert head.content == b"", url
        for header in _SAME_HEADERS:
            assert head.headers.get(header) == got.headers.get(header), (url, header)
        if "content-length" in got.headers and "content-encoding" not in got.headers:
            assert head.headers["content-length"] == got.headers["content-length"], url


async def test_head_of_an_unknown_path_or_without_a_token_is_refused_like_get(
    client: Client,
) -> None:
    for url in ("/api/v1/customers", "/api/v1/customers/stats"):
        got, head = await client.get(url), await client.head(url)
        assert head.status_code == got.status_code == 401, url
        assert head.content == b""
    got, head = await client.get("/api/v1/nowhere"), await client.head("/api/v1/nowhere")
    assert head.status_code == got.status_code == 404
    assert head.content == b""

"""Authentication by default: every HTTP route of the app answers 401 without a valid token,
except the explicit public list (``middleware.PUBLIC_ROUTES``), and the token is decoded once
per request.

The route walk reads ``app.routes`` — not the OpenAPI document, not a hand-written list — so a
route added anywhere (a controller that forgets ``StrictController``, a handler registered on the
app, a router of its own) is checked the day it is added.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from conftest import SharedHub
from litestar import Litestar, get, post
from litestar.routes import HTTPRoute, WebSocketRoute
from litestar.testing import AsyncTestClient

from customers_hub.adapters.ratelimit import RATE_LIMITS
from customers_hub.application.rate_limits import RateCategory
from customers_hub.domain.enums import Role
from customers_hub.entrypoints.bootstrap import Hub
from customers_hub.entrypoints.http.app import create_app
from customers_hub.entrypoints.http.auth import AuthSettings, issue_token
from customers_hub.entrypoints.http.errors import AUTHENTICATION_MESSAGE
from customers_hub.entrypoints.http.middleware import PUBLIC_ROUTES
from customers_hub.entrypoints.http.ratelimits import RateLimitPolicy

if TYPE_CHECKING:
    from conftest import MakeClient, NewCustomer, TokenFor

Client = AsyncTestClient[Litestar]
API = "/api/v1"
_PARAMETER = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
WEBSOCKET_ROUTES = frozenset({f"{API}/ws"})
"""The app's WebSocket routes: they verify the token in their own handshake
(``test_websocket.py``); a new one must be added here knowingly."""

# A real value for a public route's parameter where one gives a 200 (else a dummy id).
_PUBLIC_VALUES = {"file_path": "swagger-ui.css"}


def _concrete(template: str, values: dict[str, str] | None = None) -> str:
    """``template`` with every path parameter filled: ``values`` where given, else a dummy id."""
    return _PARAMETER.sub(lambda m: (values or {}).get(m.group(1), f"dummy_{m.group(1)}"), template)


def _requests(app: Litestar) -> list[tuple[str, str, str]]:
    """``(path template, method, url)`` for every method of every HTTP route of ``app`` (HEAD
    wherever GET is: the app answers it like GET)."""
    found: list[tuple[str, str, str]] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        methods = set(route.methods) | ({"HEAD"} if "GET" in route.methods else set())
        public = route.path_format in PUBLIC_ROUTES
        url = _concrete(route.path_format, _PUBLIC_VALUES if public else None)
        found.extend((route.path_format, method, url) for method in sorted(methods))
    return found


def _assert_refused(response: Any, what: Any) -> None:
    assert response.status_code == 401, (what, response.status_code, response.text)
    assert response.headers["www-authenticate"] == 'Bearer realm="customers-hub"', what
    if response.request.method != "HEAD":
        error = response.json()["error"]
        assert error == {
            "code": "AUTHENTICATION_FAILED",
            "message": AUTHENTICATION_MESSAGE,
            "details": None,
        }, what


async def test_every_route_but_the_public_list_needs_a_token(app: Litestar, client: Client) -> None:
    requests = _requests(app)
    templates = {template for template, _, _ in requests}
    assert len(templates) > 30
    # The public list names routes that exist (no stale entry widening it later).
    assert templates >= PUBLIC_ROUTES, PUBLIC_ROUTES - templates
    others = {r.path_format for r in app.routes if not isinstance(r, HTTPRoute)}
    assert others == WEBSOCKET_ROUTES
    assert all(isinstance(r, WebSocketRoute) for r in app.routes if r.path_format in others)
    answered: dict[str, set[int]] = {}
    for template, method, url in requests:
        # A broken body where one may go: never looked at, the 401 comes before any body is read.
        broken = method in _BODY_METHODS
        content = b'{"name": ' if broken else None
        for token in ({}, {"Authorization": "Bearer not.a.token"}):
            headers = {**token, **({"Content-Type": "application/json"} if broken else {})}
            response = await client.request(method, url, headers=headers, content=content)
            if template in PUBLIC_ROUTES:
                assert response.status_code not in (401, 403), (method, url, response.text)
                assert response.status_code < 500, (method, url, response.text)
                answered.setdefault(template, set()).add(response.status_code)
            else:
                _assert_refused(response, (method, url, token))
    # The public routes answer for real, not only "not 401".
    for template in ("/health", "/ready", f"{API}/openapi.json", f"{API}/docs"):
        assert 200 in answered[template], (template, answered[template])
    assert 200 in answered[f"{API}/docs/assets/{{file_path}}"]


async def test_a_route_added_without_thinking_is_protected(make_client: MakeClient) -> None:
    calls: list[str] = []

    @get(f"{API}/forgotten", sync_to_thread=False)
    def forgotten() -> dict[str, str]:
        calls.append("get")
        return {"secret": "data"}

    @post("/outside-the-api", sync_to_thread=False)
    def outside(data: dict[str, Any]) -> dict[str, Any]:
        calls.append("post")
        return data

    async with make_client() as other:
        other.app.register(forgotten)
        other.app.register(outside)
        _assert_refused(await other.get(f"{API}/forgotten"), "get")
        _assert_refused(await other.post("/outside-the-api", json={"a": 1}), "post")
        forged = {"Authorization": "Bearer not.a.token"}
        _assert_refused(await other.get(f"{API}/forgotten", headers=forged), "forged")
    assert calls == []


# --- once per request --------------------------------------------------------------------------


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every signature verification of a token (``jwt.decode``) in this test."""
    seen: list[str] = []
    real: Callable[..., Any] = jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    return seen


@pytest.fixture
async def limited_client(hub: Hub, auth: AuthSettings) -> AsyncIterator[Client]:
    """An app on the session hub with the rate limiter on (it reads the caller too)."""
    shared = SharedHub(hub.container, hub.config)
    app = create_app(shared, auth=auth, rate_limits=RateLimitPolicy())
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


async def test_a_stage_change_decodes_the_token_once(
    limited_client: Client,
    token_for: TokenFor,
    new_customer: NewCustomer,
    decodes: list[str],
) -> None:
    customer = await new_customer()
    # No ``name`` claim: the write also looks the caller's name up, without decoding again.
    admin = token_for("admin", name=None)
    response = await limited_client.patch(
        f"{API}/customers/{customer.id}/stage", headers=admin, json={"toStage": "qualified"}
    )
    assert response.status_code == 200, response.text
    # Counted as the admin's write: the rate limiter read the same verified caller.
    assert response.headers["x-ratelimit-limit"] == str(
        RATE_LIMITS[Role.ADMIN][RateCategory.WRITE].limit
    )
    assert len(decodes) == 1
    decodes.clear()
    listed = await limited_client.get(f"{API}/customers", headers=admin)
    assert listed.status_code == 200
    # The same token again: remembered as verified (auth.actor_from_token), not decoded again.
    assert decodes == []
    never_seen = token_for("manager", name=f"مدير {uuid.uuid4().hex}")  # a token not yet seen
    fresh = await limited_client.get(f"{API}/customers", headers=never_seen)
    assert fresh.status_code == 200
    assert len(decodes) == 1


async def test_a_refused_token_is_decoded_once_and_counted_by_address(
    limited_client: Client, auth: AuthSettings, decodes: list[str]
) -> None:
    expired = issue_token(auth, "emp_x", "admin", "org_x", [], ttl=-3600)
    response = await limited_client.patch(
        f"{API}/customers/cust_x/stage",
        headers={"Authorization": f"Bearer {expired}"},
        json={"toStage": "qualified"},
    )
    assert response.status_code == 401, response.text
    assert response.headers["x-ratelimit-limit"] == "5"  # the ``auth`` category, by address
    assert len(decodes) == 1


async def test_the_refusal_is_logged_once_with_its_reason(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="customers_hub.http"):
        response = await client.get(f"{API}/customers", headers={"X-Request-ID": "r-401"})
    assert response.status_code == 401
    lines = [json.loads(r.getMessage()) for r in caplog.records]
    errors = [line for line in lines if line.get("event") == "http.error"]
    requests = [line for line in lines if line.get("event") == "http.request"]
    assert [(e["status"], e["reason"], e["requestId"]) for e in errors] == [
        (401, "no Authorization header", "r-401")
    ]
    assert [(r["status"], r["requestId"]) for r in requests] == [(401, "r-401")]

"""The lean HTTP hot path (issue 9, Deliver 5): the app's dependencies handed to handlers
directly (:mod:`customers_hub.entrypoints.http.injection`), cached bodies served as stored bytes,
the cache keys' hash, the request log line."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import msgspec
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from customers_hub.application.use_cases import reads
from customers_hub.domain.enums import Stage
from customers_hub.entrypoints.http import caching
from customers_hub.entrypoints.http.envelope import (
    Envelope,
    Meta,
    RequestContext,
    bind_context,
    ok_raw,
    reset_context,
    utc_timestamp,
)
from customers_hub.entrypoints.http.injection import DirectDependencies

if TYPE_CHECKING:
    from conftest import NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
CUSTOMERS = "/api/v1/customers"
APP_DEPENDENCIES = {"deps", "hub", "actor"}


def _models(app: Litestar) -> list[tuple[str, str, object]]:
    return [
        (route.path, method, model)
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for method, (_, model) in route.route_handler_map.items()
    ]


def test_every_handler_with_only_the_apps_dependencies_gets_them_directly(app: Litestar) -> None:
    """A Litestar upgrade that renames what ``inject_directly`` relies on fails here, not in
    production: the customers list (and every handler asking only for deps/hub/actor) is
    direct; the export, which has a dependency of its own, keeps Litestar's resolution."""
    models = _models(app)
    direct = {
        (path, method) for path, method, model in models if isinstance(model, DirectDependencies)
    }
    assert (CUSTOMERS, "GET") in direct
    assert (f"{CUSTOMERS}/{{customer_id:str}}", "GET") in direct
    assert len(direct) > 50
    for path, method, model in models:
        if isinstance(model, DirectDependencies):
            continue
        keys = {d.key for batch in getattr(model, "dependency_batches", ()) for d in batch}
        assert not keys or not keys <= APP_DEPENDENCIES, (path, method, keys)
    export = [m for p, _, m in models if p == f"{CUSTOMERS}/export"]
    assert export
    assert not any(isinstance(m, DirectDependencies) for m in export)


async def test_the_actor_a_handler_gets_is_the_one_the_token_names(
    client: Client, token_for: TokenFor, staff: Staff, new_customer: NewCustomer
) -> None:
    """Requests of different callers one after the other on one client: each handler sees its
    own caller (scope of the list, author of a write), never the previous request's."""
    mine = await new_customer(assigned="agent")
    theirs = await new_customer(assigned="manager")
    for _ in range(2):
        agent = await client.get(CUSTOMERS, headers=token_for("agent"))
        admin = await client.get(CUSTOMERS, headers=token_for("admin"))
        agent_ids = {c["id"] for c in agent.json()["data"]["customers"]}
        admin_ids = {c["id"] for c in admin.json()["data"]["customers"]}
        assert mine.id in agent_ids
        assert theirs.id not in agent_ids
        assert {mine.id, theirs.id} <= admin_ids
    for who in ("manager", "admin"):  # a write records its caller
        changed = await client.patch(
            f"{CUSTOMERS}/{theirs.id}/stage",
            json={"toStage": "qualified" if who == "manager" else "property_matching"},
            headers=token_for(who),
        )
        assert changed.status_code == 200, changed.text
        history = changed.json()["data"]["customer"]["stageHistory"]
        assert history[-1]["changedById"] == staff.id(who)
    no_token = await client.get(CUSTOMERS)
    assert no_token.status_code == 401


async def test_a_cached_body_is_served_with_the_same_bytes_and_headers(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    await new_customer()
    admin = token_for("admin")
    url = f"{CUSTOMERS}?limit=5&sortBy=name"
    first = await client.get(url, headers={**admin, "X-Request-ID": "lean-1"})  # a miss
    second = await client.get(url, headers={**admin, "X-Request-ID": "lean-2"})  # a hit
    assert first.status_code == second.status_code == 200
    for header in ("etag", "cache-control", "content-type"):
        assert first.headers[header] == second.headers[header], header
    assert first.headers["content-type"] == "application/json"
    assert second.headers["x-request-id"] == "lean-2"
    one, two = first.json(), second.json()
    assert list(two) == ["success", "data", "meta"]
    assert two["success"] is True
    assert two["data"] == one["data"]
    assert two["meta"]["requestId"] == "lean-2"
    not_modified = await client.get(url, headers={**admin, "If-None-Match": second.headers["etag"]})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == second.headers["etag"]


def test_ok_raw_writes_the_bytes_ok_would_encode() -> None:
    token = bind_context(RequestContext("req_lean"))
    try:
        data = msgspec.json.encode({"customers": [{"id": "c1", "name": "نورة"}], "n": 1.5})
        for _ in range(3):  # the two may straddle a second: the timestamps then differ
            raw = ok_raw(data, headers={"ETag": '"x"'})
            expected = msgspec.json.encode(
                Envelope(
                    success=True,
                    data=msgspec.Raw(data),
                    meta=Meta(timestamp=utc_timestamp(), request_id="req_lean"),
                )
            )
            if raw.content == expected:
                break
        assert raw.content == expected
        assert raw.media_type == "application/json"
    finally:
        reset_context(token)


def test_the_cache_key_hash_depends_on_every_parameter_and_not_on_set_order() -> None:
    base = reads.CustomerListParams(page=1, limit=20)
    same = reads.CustomerListParams(page=1, limit=20)
    assert caching._hash("list", base, {"role": "admin"}) == caching._hash(
        "list", same, {"role": "admin"}
    )
    others = [
        ("list", reads.CustomerListParams(page=2, limit=20), {"role": "admin"}),
        ("list", reads.CustomerListParams(page=1, limit=21), {"role": "admin"}),
        (
            "list",
            reads.CustomerListParams(page=1, limit=20, stage=(Stage.NEW_LEAD,)),
            {"role": "admin"},
        ),
        ("list", base, {"role": "agent"}),
        ("search", base, {"role": "admin"}),
    ]
    hashes = {caching._hash(*parts) for parts in others}
    assert len(hashes) == len(others)
    assert caching._hash("list", base, {"role": "admin"}) not in hashes
    assert caching._hash(frozenset({"a", "b", "c"})) == caching._hash(frozenset({"c", "b", "a"}))
    assert caching._hash({"b": 1, "a": 2}) == caching._hash({"a": 2, "b": 1})


async def test_the_request_log_line_is_one_json_object_and_silent_when_info_is_off(
    client: Client, token_for: TokenFor, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="customers_hub.http"):
        await client.get(
            CUSTOMERS, headers=token_for("admin", headers={"X-Request-ID": "lean-log"})
        )
    lines = [
        msgspec.json.decode(r.getMessage())
        for r in caplog.records
        if r.name == "customers_hub.http" and '"lean-log"' in r.getMessage()
    ]
    assert len(lines) == 1
    assert list(lines[0]) == [
        "event",
        "method",
        "path",
        "status",
        "duration_ms",
        "requestId",
        "userId",
        "organizationId",
    ]
    assert lines[0]["event"] == "http.request"
    assert lines[0]["status"] == 200
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="customers_hub.http"):
        await client.get(
            CUSTOMERS, headers=token_for("admin", headers={"X-Request-ID": "lean-off"})
        )
    assert not [r for r in caplog.records if '"lean-off"' in r.getMessage()]

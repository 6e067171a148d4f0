"""The application cache and HTTP caching through the HTTP service, on the in-process cache and
on Redis.

A view is shown to be served from the cache by counting the loads behind it (a spy on the use
case or the query service) and by changing the database *behind the service's back* (a write
that publishes no event): the cached answer keeps the old data until a write made through the
service invalidates it — after which the very next read shows the write.

``make test`` starts Redis and exports ``CUSTOMERS_HUB_TEST_REDIS_URL``; without it the Redis
cases fail rather than skip.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.adapters.cache import InMemoryCache
from customers_hub.adapters.event_wire import invalidation_for
from customers_hub.adapters.redis_events import InProcessEventBus
from customers_hub.adapters.redis_support import redis_client
from customers_hub.application.caching import CacheKeys, Invalidation
from customers_hub.application.use_cases import customers as customer_use_cases
from customers_hub.application.use_cases.actions import get_action
from customers_hub.application.use_cases.customers import get_customer
from customers_hub.domain.enums import ActionType, Priority, Stage
from customers_hub.domain.events import ActionCreated, CustomerUpdated, DomainEvent, EmployeeSaved
from customers_hub.domain.model import Customer
from customers_hub.entrypoints.bootstrap import Hub, HubEventPublisher, build_hub
from customers_hub.entrypoints.http.app import create_app
from customers_hub.entrypoints.http.auth import AuthSettings
from customers_hub.entrypoints.http.caching import CachedBody, body_of, read_through
from customers_hub.entrypoints.settings import HubConfig

if TYPE_CHECKING:
    from conftest import NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
API = "/api/v1"
CUSTOMERS = f"{API}/customers"
ACTIONS = f"{API}/customers/actions"
REDIS_ENV = "CUSTOMERS_HUB_TEST_REDIS_URL"


@attrs.frozen
class Api:
    """A service under test: its client, its hub and which cache it runs on."""

    client: Client
    hub: Hub
    kind: str


def redis_url() -> str:
    """The shared test Redis, or a failure that says how to get one."""
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.fail(f"{REDIS_ENV} is not set: run the tests with `make test`, which starts Redis")
    return url


@pytest.fixture(scope="module")
async def redis_api(hub_config: HubConfig, auth: AuthSettings) -> AsyncIterator[Api]:
    """A second service on the session database whose cache (and limiter, bus) is Redis."""
    redis_hub = build_hub(config=attrs.evolve(hub_config, redis_url=redis_url()))
    async with AsyncTestClient(app=create_app(redis_hub, auth=auth)) as client:
        yield Api(client, redis_hub, "redis")


@pytest.fixture(params=["memory", "redis"])
def api(request: pytest.FixtureRequest, client: Client, hub: Hub) -> Api:
    """The service on the in-process cache (the session one), or the one on Redis."""
    if request.param == "memory":
        return Api(client, hub, "memory")
    redis_service: Api = request.getfixturevalue("redis_api")
    return redis_service


class Spy:
    """Counts the calls of one async method (and still makes them)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> None:
        self.calls = 0
        original: Callable[..., Awaitable[Any]] = getattr(owner, name)

        async def counting(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return await original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counting)


async def sneak(hub: Hub, customer: Customer, **changes: Any) -> Customer:
    """Change a customer in the database without publishing anything (no invalidation)."""
    async with hub.deps.uow() as uow:
        current = await uow.customers.get(customer.organization_id, customer.id)
        assert current is not None
        changed = attrs.evolve(current, **changes)
        await uow.customers.save(changed, expected_version=current.version)
        await uow.commit()
    return changed


async def redis_keys(pattern: str) -> list[bytes]:
    """Keys of the test Redis matching ``pattern``."""
    admin = redis_client(redis_url())
    try:
        return [key async for key in admin.scan_iter(match=pattern, count=500)]
    finally:
        await admin.aclose()


def data(response: Any) -> dict[str, Any]:
    """The ``data`` of a 200."""
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()["data"]
    return body


# --- application cache ---------------------------------------------------------------------------


async def test_customer_details_are_served_from_the_cache_until_a_write(
    api: Api,
    token_for: TokenFor,
    new_customer: NewCustomer,
    staff: Staff,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    customer = await new_customer(name="سالم القديم")
    loads = Spy(monkeypatch, customer_use_cases, "run_get_customer")  # the read behind the cache
    url = f"{CUSTOMERS}/{customer.id}"
    headers = token_for("agent")

    first = await api.client.get(url, headers=headers)
    assert data(first)["customer"]["name"] == "سالم القديم"
    assert first.headers["etag"] == f'"v{customer.version}"'
    assert first.headers["cache-control"] == "private, max-age=300"
    assert loads.calls == 1

    await sneak(api.hub, customer, name="تغيير بلا حدث")
    second = await api.client.get(url, headers=headers)
    assert data(second) == data(first)  # served from the cache: the sneaked change is not seen
    assert loads.calls == 1
    if api.kind == "redis":
        assert await redis_keys(f"hub:{staff.org}:customer:{customer.id}:*")

    updated = await api.client.put(url, headers=headers, json={"name": "سالم الجديد"})
    assert updated.status_code == 200, updated.text
    third = await api.client.get(url, headers=headers)
    assert data(third)["customer"]["name"] == "سالم الجديد"
    assert third.headers["etag"] == updated.headers["etag"] != first.headers["etag"]
    assert loads.calls == 2


async def test_a_cached_customer_is_still_checked_against_each_caller(
    api: Api,
    token_for: TokenFor,
    new_customer: NewCustomer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    customer = await new_customer(assigned="agent")
    loads = Spy(monkeypatch, customer_use_cases, "run_get_customer")  # the read behind the cache
    url = f"{CUSTOMERS}/{customer.id}"
    cached = await api.client.get(url, headers=token_for("admin"))
    assert cached.status_code == 200
    etag = cached.headers["etag"]

    for who in ("outsider", "agent2", "viewer"):
        refused = await api.client.get(url, headers={**token_for(who), "If-None-Match": etag})
        assert refused.status_code == 403, (who, refused.text)
        assert refused.json()["error"]["code"] == "PERMISSION_DENIED"
    hidden = await api.client.get(url, headers={**token_for("other_admin"), "If-None-Match": etag})
    assert hidden.status_code == 404
    assert hidden.json()["error"]["details"] == {
        "resourceType": "customer",
        "resourceId": customer.id,
    }
    for who in ("manager", "agent"):
        assert (await api.client.get(url, headers=token_for(who))).status_code == 200
    # In-scope reads after the first were hits and the out-of-scope ones were refused from the
    # cached scope; only the other organization (its own key) went to the database — and found
    # nothing, so nothing was stored for it.
    assert loads.calls == 2
    no_token = await api.client.get(url)
    assert no_token.status_code == 401


async def test_a_list_is_cached_per_scope_and_dropped_by_a_new_customer(
    api: Api,
    token_for: TokenFor,
    new_customer: NewCustomer,
    staff: Staff,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mine = await new_customer(assigned="agent", name="عميل الوكيل")
    await new_customer(assigned="agent2")
    loads = Spy(monkeypatch, api.hub.deps.customer_queries, "list_with_assignees")
    admin = token_for("admin")

    first = await api.client.get(CUSTOMERS, headers=admin)
    assert data(first)["pagination"]["totalItems"] == 2
    assert first.headers["cache-control"] == "private, max-age=60"
    await sneak(api.hub, mine, name="تغيير بلا حدث")
    again = await api.client.get(CUSTOMERS, headers=admin)
    assert data(again) == data(first)
    assert again.headers["etag"] == first.headers["etag"]
    assert loads.calls == 1

    # Another scope is another entry: the agent sees its own customer only.
    agents = data(await api.client.get(CUSTOMERS, headers=token_for("agent")))
    assert [c["id"] for c in agents["customers"]] == [mine.id]
    assert loads.calls == 2
    others = data(await api.client.get(CUSTOMERS, headers=token_for("other_admin")))
    assert all(c["id"] != mine.id for c in others["customers"])

    created = await api.client.post(
        CUSTOMERS,
        headers=admin,
        json={"name": "عميل جديد", "phone": "+966501234999", "source": "manual"},
    )
    assert created.status_code == 201, created.text
    after = await api.client.get(CUSTOMERS, headers=admin)
    listed = data(after)
    assert listed["pagination"]["totalItems"] == 3
    names = {c["name"] for c in listed["customers"]}
    assert {"عميل جديد", "تغيير بلا حدث"} <= names
    assert after.headers["etag"] != first.headers["etag"]
    if api.kind == "redis":
        assert await redis_keys(f"hub:{staff.org}:customer:list:*")


async def test_search_and_query_are_cached_and_dropped_by_a_write(
    api: Api,
    token_for: TokenFor,
    new_customer: NewCustomer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    customer = await new_customer(name="ريم الزهراني")
    searches = Spy(monkeypatch, api.hub.deps.customer_queries, "search")
    lists = Spy(monkeypatch, api.hub.deps.customer_queries, "list_with_assignees")
    admin = token_for("admin")
    body = {"query": "ريم"}
    query = {"filters": {"stage": {"eq": "new_lead"}}, "limit": 10}

    for _ in range(2):
        found = data(await api.client.post(f"{CUSTOMERS}/search", headers=admin, json=body))
        assert [hit["customer"]["id"] for hit in found["results"]] == [customer.id]
        queried = data(await api.client.post(f"{CUSTOMERS}/query", headers=admin, json=query))
        assert [c["id"] for c in queried["customers"]] == [customer.id]
    assert (searches.calls, lists.calls) == (1, 1)

    moved = await api.client.patch(
        f"{CUSTOMERS}/{customer.id}/stage", headers=admin, json={"toStage": "qualified"}
    )
    assert moved.status_code == 200, moved.text
    queried = data(await api.client.post(f"{CUSTOMERS}/query", headers=admin, json=query))
    assert queried["customers"] == []
    found = data(await api.client.post(f"{CUSTOMERS}/search", headers=admin, json=body))
    assert found["results"][0]["customer"]["stage"] == Stage.QUALIFIED.value
    assert (searches.calls, lists.calls) == (2, 2)


async def test_statistics_filters_and_employees_are_cached_and_dropped_by_writes(
    api: Api,
    token_for: TokenFor,
    new_customer: NewCustomer,
    staff: Staff,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    customer = await new_customer(assigned="agent", city="الرياض")
    queries = api.hub.deps
    stats = Spy(monkeypatch, queries.customer_queries, "stats")
    options = Spy(monkeypatch, queries.customer_queries, "filter_options")
    action_stats = Spy(monkeypatch, queries.action_queries, "stats")
    employees = Spy(monkeypatch, queries.employee_queries, "list")
    admin = token_for("admin")
    views = {
        "stats": (f"{CUSTOMERS}/stats", {"groupBy": "city"}, stats, "private, max-age=30"),
        "filters": (f"{CUSTOMERS}/filters", {}, options, "private, max-age=3600"),
        "actions": (f"{ACTIONS}/stats", {}, action_stats, "private, max-age=30"),
        "employees": (
            f"{API}/employees",
            {"includeStats": "true"},
            employees,
            "private, max-age=900",
        ),
    }
    before: dict[str, Any] = {}
    for name, (url, params, spy, control) in views.items():
        for _ in range(2):
            response = await api.client.get(url, headers=admin, params=params)
            assert response.status_code == 200, (name, response.text)
            assert response.headers["cache-control"] == control, name
        assert spy.calls == 1, name
        before[name] = response.json()["data"]

    # Writes through the service: a customer in a new city, an action, an employee.
    created = await api.client.post(
        CUSTOMERS,
        headers=admin,
        json={"name": "عميل جدة", "phone": "+966501234888", "source": "manual", "city": "جدة"},
    )
    assert created.status_code == 201, created.text
    action = await api.client.post(
        ACTIONS,
        headers=admin,
        json={"customerId": customer.id, "type": "follow_up", "title": "اتصال"},
    )
    assert action.status_code == 201, action.text
    hired = await api.client.post(
        f"{API}/employees", headers=admin, json={"name": "موظف جديد", "role": "sales_agent"}
    )
    assert hired.status_code == 201, hired.text

    after = {
        name: data(await api.client.get(url, headers=admin, params=params))
        for name, (url, params, _spy, _control) in views.items()
    }
    assert after["stats"]["stats"]["total"] == before["stats"]["stats"]["total"] + 1
    assert "جدة" in str(after["filters"])
    assert "جدة" not in str(before["filters"])
    pending = before["actions"]["stats"]["total"]["pending"]
    assert after["actions"]["stats"]["total"]["pending"] == pending + 1
    assert len(after["employees"]["employees"]) == len(before["employees"]["employees"]) + 1
    for name, (_url, _params, spy, _control) in views.items():
        assert spy.calls == 2, name
    assert staff.org  # the writes stayed in the test's organization


async def test_an_unreadable_entry_is_loaded_again() -> None:
    cache = InMemoryCache()
    key = CacheKeys.customer("org_x", "cust_x")
    lookup = await cache.get(key)
    await cache.put(lookup, b"not a cached body")
    loads = 0

    async def load() -> CachedBody:
        nonlocal loads
        loads += 1
        return body_of({"ok": True})

    body = await read_through(cache, key, load)
    assert body.data == b'{"ok":true}'
    assert loads == 1
    with pytest.raises(ValueError, match="another format"):
        CachedBody.from_bytes(b'{"f":99,"etag":"x"}\n{}')
    assert CachedBody.from_bytes(body.to_bytes()) == body


class RecordingCache(InMemoryCache):
    """An in-process cache that records its invalidations (and can be made to fail)."""

    def __init__(self, *, fail: bool = False) -> None:
        super().__init__()
        self.invalidations: list[Invalidation] = []
        self.fail = fail

    async def invalidate(self, invalidation: Invalidation) -> None:
        self.invalidations.append(invalidation)
        if self.fail:
            raise RuntimeError("cache broken")
        await super().invalidate(invalidation)


def _events(org: str) -> list[DomainEvent]:
    at = datetime.now(UTC)
    return [
        CustomerUpdated(organization_id=org, occurred_at=at, customer_id="cust_1"),
        *(
            ActionCreated(
                organization_id=org,
                occurred_at=at,
                action_id=f"act_{i}",
                customer_id="cust_1",
                action_type=ActionType.FOLLOW_UP,
                priority=Priority.HIGH,
                assigned_to="emp_1",
            )
            for i in range(3)
        ),
        EmployeeSaved(organization_id=org, occurred_at=at, employee_id="emp_1"),
    ]


async def test_the_publisher_invalidates_once_per_organization_then_forwards() -> None:
    cache, bus = RecordingCache(), InProcessEventBus()
    publisher = HubEventPublisher(cache, bus)
    seen: list[str] = []

    async def handler(event: DomainEvent) -> None:
        seen.append(event.name)

    publisher.subscribe(handler)
    subscription = await bus.subscribe("org_a")
    events = [*_events("org_a"), *_events("org_b")]
    await publisher.publish(events)

    expected = {
        org: frozenset(
            t for e in events if e.organization_id == org for t in invalidation_for(e).tags
        )
        for org in ("org_a", "org_b")
    }
    assert {i.organization_id: i.tags for i in cache.invalidations} == expected
    assert len(cache.invalidations) == 2  # one call per organization, not one per event
    received = [await subscription.get(timeout=1) for _ in range(4)]  # 4 broadcast events
    assert [m["payload"]["event"] for m in received if m] == [
        "customer.updated",
        "action.created",
        "action.created",
        "action.created",
    ]
    assert await subscription.get(timeout=0.05) is None  # employee.saved is not broadcast
    assert seen == [e.name for e in events]
    await subscription.aclose()


async def test_a_failing_cache_never_fails_the_publisher() -> None:
    cache, bus = RecordingCache(fail=True), InProcessEventBus()
    publisher = HubEventPublisher(cache, bus)
    subscription = await bus.subscribe("org_a")
    seen: list[str] = []

    async def handler(event: DomainEvent) -> None:
        seen.append(event.name)

    publisher.subscribe(handler)
    await publisher.publish(_events("org_a"))  # no exception
    assert [i.organization_id for i in cache.invalidations] == ["org_a"]
    assert seen == [e.name for e in _events("org_a")]  # the handlers still got every event
    message = await subscription.get(timeout=1)
    assert message is not None
    assert message["payload"]["event"] == "customer.updated"
    await subscription.aclose()


# --- HTTP caching ------------------------------------------------------------------------------


async def test_get_responses_carry_etags_and_answer_304(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer()
    action = await client.post(
        ACTIONS,
        headers=token_for("admin"),
        json={"customerId": customer.id, "type": "follow_up", "title": "اتصال"},
    )
    assert action.status_code == 201, action.text
    action_id = action.json()["data"]["action"]["id"]
    views = {
        f"{CUSTOMERS}/{customer.id}": ('"v1"', 300),
        CUSTOMERS: (None, 60),
        f"{CUSTOMERS}/stats": (None, 30),
        f"{CUSTOMERS}/filters": (None, 3600),
        ACTIONS: (None, 60),
        f"{ACTIONS}/stats": (None, 30),
        f"{ACTIONS}/{action_id}": ('"v1"', 60),
        f"{API}/employees": (None, 900),
    }
    admin = token_for("admin")
    for url, (version_tag, max_age) in views.items():
        response = await client.get(url, headers=admin)
        assert response.status_code == 200, (url, response.text)
        etag = response.headers["etag"]
        if version_tag is not None:
            assert etag == version_tag, url
        else:
            assert re.fullmatch(r'"[0-9a-f]{32}"', etag), (url, etag)
        assert response.headers["cache-control"] == f"private, max-age={max_age}", url
        for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            not_modified = await client.get(url, headers={**admin, "If-None-Match": sent})
            assert not_modified.status_code == 304, (url, sent)
            assert not_modified.content == b""
            assert not_modified.headers["etag"] == etag
        other = await client.get(url, headers={**admin, "If-None-Match": '"something-else"'})
        assert other.status_code == 200, url
        assert other.json()["data"] == response.json()["data"]

    # A write moves the ETags on: the old one no longer answers 304.
    url = f"{CUSTOMERS}/{customer.id}"
    old = (await client.get(CUSTOMERS, headers=admin)).headers["etag"]
    changed = await client.put(url, headers=admin, json={"notes": "ملاحظة"})
    assert changed.status_code == 200, changed.text
    for target, tag in ((url, '"v1"'), (CUSTOMERS, old)):
        response = await client.get(target, headers={**admin, "If-None-Match": tag})
        assert response.status_code == 200, target
        assert response.headers["etag"] != tag
    # Relations the version does not follow: never "not modified".
    with_relations = await client.get(
        url, headers={**admin, "If-None-Match": '"v2"'}, params={"include": "interactions"}
    )
    assert with_relations.status_code == 200
    assert with_relations.headers["etag"] == '"v2"'
    assert (await get_customer(hub.deps, staff.admin, customer.id)).customer.version == 2


async def test_if_match_refuses_stale_versions_and_changes_nothing(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}"
    stale = {**token_for("admin"), "If-Match": '"v7"'}
    refusals = [
        await client.put(url, headers=stale, json={"name": "اسم آخر"}),
        await client.patch(f"{url}/stage", headers=stale, json={"toStage": "qualified"}),
        await client.delete(url, headers=stale),
        await client.delete(url, headers=stale, params={"permanent": "true"}),
    ]
    for response in refusals:
        assert response.status_code == 412, response.text
        error = response.json()["error"]
        assert error["code"] == "PRECONDITION_FAILED"
        assert error["details"]["currentVersion"] == customer.version
    bad = await client.delete(url, headers={**token_for("admin"), "If-Match": "yesterday"})
    assert bad.status_code == 400
    assert [d["field"] for d in bad.json()["error"]["details"]] == ["If-Match"]
    kept = (await get_customer(hub.deps, staff.admin, customer.id)).customer
    assert (kept.name, kept.stage, kept.version, kept.is_deleted) == (
        customer.name,
        customer.stage,
        customer.version,
        False,
    )
    read = await client.get(url, headers=token_for("admin"))
    assert read.json()["data"]["customer"]["name"] == customer.name

    created = await client.post(
        ACTIONS,
        headers=token_for("admin"),
        json={"customerId": customer.id, "type": "follow_up", "title": "اتصال"},
    )
    action_id = created.json()["data"]["action"]["id"]
    action_url = f"{ACTIONS}/{action_id}"
    for method, path, body in (
        ("PATCH", action_url, {"priority": "low"}),
        ("POST", f"{action_url}/complete", {}),
        ("POST", f"{action_url}/dismiss", {"reason": "سبب"}),
        ("POST", f"{action_url}/snooze", {"snoozedUntil": "2099-01-01T00:00:00Z"}),
    ):
        response = await client.request(method, path, headers=stale, json=body)
        assert response.status_code == 412, (path, response.text)
    action = (await get_action(hub.deps, staff.admin, action_id)).action
    assert (action.status.value, action.priority.value, action.version) == (
        "pending",
        created.json()["data"]["action"]["priority"],
        1,
    )

    # The current version passes, on a delete too.
    current = {**token_for("admin"), "If-Match": read.headers["etag"]}
    deleted = await client.delete(url, headers=current)
    assert deleted.status_code == 200, deleted.text
    assert (await client.get(url, headers=token_for("admin"))).status_code == 404


# --- Redis unreachable -------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # nothing listens there once the socket is closed


async def test_reads_and_writes_work_while_redis_is_unreachable(
    hub_config: HubConfig,
    auth: AuthSettings,
    token_for: TokenFor,
    new_customer: NewCustomer,
) -> None:
    customer = await new_customer(name="قبل")
    config = attrs.evolve(
        hub_config, redis_url=f"redis://127.0.0.1:{_closed_port()}/0", rate_limits_enabled=True
    )
    cut_off = build_hub(config=config)
    async with AsyncTestClient(app=create_app(cut_off, auth=auth)) as client:
        url = f"{CUSTOMERS}/{customer.id}"
        headers = token_for("agent")
        first = await client.get(url, headers=headers)
        assert data(first)["customer"]["name"] == "قبل"
        assert first.headers["x-ratelimit-limit"] == "100"  # per instance meanwhile
        changed = await client.put(url, headers=headers, json={"name": "بعد"})
        assert changed.status_code == 200, changed.text
        assert data(await client.get(url, headers=headers))["customer"]["name"] == "بعد"
        for view in (CUSTOMERS, f"{CUSTOMERS}/stats", f"{CUSTOMERS}/filters", f"{API}/employees"):
            assert (await client.get(view, headers=headers)).status_code == 200, view

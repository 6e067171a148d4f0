"""A write invalidates what it can change, not the whole organization (issue 9, Deliver 6).

A note on one customer (an interaction of type ``note``) must leave cached: every other
customer's details, the filter options, the action statistics and the employee list — and it
must make at once fresh every view it moves: the customer's details, the lists (its
``lastContactAt``) and the customer statistics (their engagement numbers count interactions).
A reminder leaves the statistics and the lists cached too (it changes nothing they show).

Served-from-cache is shown as in ``test_caching.py``: a spy counts the loads behind a view, and
a change made *behind the service's back* (no event, no invalidation) stays invisible while the
entry lives. Run on the in-process cache and on Redis, and across two instances sharing Redis
(a note written on one, read on the other).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.domain.model import Customer
from customers_hub.entrypoints.bootstrap import Hub, build_hub
from customers_hub.entrypoints.http.app import create_app
from customers_hub.entrypoints.http.auth import AuthSettings
from customers_hub.entrypoints.settings import HubConfig

if TYPE_CHECKING:
    from conftest import NewCustomer, TokenFor

Client = AsyncTestClient[Litestar]
API = "/api/v1"
CUSTOMERS = f"{API}/customers"
REDIS_ENV = "CUSTOMERS_HUB_TEST_REDIS_URL"
NOTE = {"type": "note", "notes": "ملاحظة داخلية عن العميل"}


@attrs.frozen
class Api:
    """A service under test: its client and its hub."""

    client: Client
    hub: Hub


def redis_url() -> str:
    """The shared test Redis, or a failure that says how to get one."""
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.fail(f"{REDIS_ENV} is not set: run the tests with `make test`, which starts Redis")
    return url


@pytest.fixture(scope="module")
async def redis_pair(hub_config: HubConfig, auth: AuthSettings) -> AsyncIterator[tuple[Api, Api]]:
    """Two instances on the session database sharing the test Redis (cache, bus, limiter)."""
    config = attrs.evolve(hub_config, redis_url=redis_url())
    first, second = build_hub(config=config), build_hub(config=config)
    async with (
        AsyncTestClient(app=create_app(first, auth=auth)) as one,
        AsyncTestClient(app=create_app(second, auth=auth)) as two,
    ):
        yield Api(one, first), Api(two, second)


@pytest.fixture(params=["memory", "redis"])
def api(request: pytest.FixtureRequest, client: Client, hub: Hub) -> Api:
    """The service on the in-process cache (the session one), or one on Redis."""
    if request.param == "memory":
        return Api(client, hub)
    pair: tuple[Api, Api] = request.getfixturevalue("redis_pair")
    return pair[0]


class Spy:
    """Counts the calls of one async method (and still makes them)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> None:
        self.calls = 0
        original: Callable[..., Awaitable[Any]] = getattr(owner, name)

        async def counting(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return await original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counting)


async def sneak(hub: Hub, customer: Customer, **changes: Any) -> None:
    """Change a customer in the database without publishing anything (no invalidation)."""
    async with hub.deps.uow() as uow:
        current = await uow.customers.get(customer.organization_id, customer.id)
        assert current is not None
        await uow.customers.save(attrs.evolve(current, **changes), expected_version=current.version)
        await uow.commit()


def data(response: Any) -> dict[str, Any]:
    """The ``data`` of a 200."""
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()["data"]
    return body


# The organization-wide views a note cannot change, with the query method that loads each.
SURVIVORS: dict[str, tuple[str, dict[str, str], str, str]] = {
    "filters": (f"{CUSTOMERS}/filters", {}, "customer_queries", "filter_options"),
    "action stats": (f"{CUSTOMERS}/actions/stats", {}, "action_queries", "stats"),
    "employees": (f"{API}/employees", {"includeStats": "true"}, "employee_queries", "list"),
}
# The newest contact first: the noted customer moves to the top of this list.
BY_CONTACT = {"sortBy": "lastContactAt", "sortOrder": "desc", "limit": "5"}


async def test_a_note_keeps_other_views_cached_and_refreshes_what_it_moves(
    api: Api, token_for: TokenFor, new_customer: NewCustomer, monkeypatch: pytest.MonkeyPatch
) -> None:
    noted = await new_customer(assigned="agent")
    other = await new_customer(assigned="agent", name="سارة القحطاني")
    admin = token_for("admin")
    deps = api.hub.deps
    spies = {
        name: Spy(monkeypatch, getattr(deps, service), method)
        for name, (_url, _params, service, method) in SURVIVORS.items()
    }
    stats = Spy(monkeypatch, deps.customer_queries, "stats")
    lists = Spy(monkeypatch, deps.customer_queries, "list_with_assignees")
    other_url, noted_url = f"{CUSTOMERS}/{other.id}", f"{CUSTOMERS}/{noted.id}"
    for _ in range(2):  # the second read of each comes from the cache
        for _name, (url, params, _service, _method) in SURVIVORS.items():
            data(await api.client.get(url, headers=admin, params=params))
        data(await api.client.get(f"{CUSTOMERS}/stats", headers=admin))
        listed = data(await api.client.get(CUSTOMERS, headers=admin, params=BY_CONTACT))
        assert data(await api.client.get(other_url, headers=admin))["customer"]["name"] == (
            "سارة القحطاني"
        )
        data(await api.client.get(noted_url, headers=admin, params={"include": "interactions"}))
    assert {name: spy.calls for name, spy in spies.items()} == dict.fromkeys(spies, 1)
    assert (stats.calls, lists.calls) == (1, 1)
    # Behind the service's back: only a cached entry can still show the old name.
    await sneak(api.hub, other, name="اسم تغير دون حدث")

    note = await api.client.post(f"{noted_url}/interactions", headers=admin, json=NOTE)
    assert note.status_code == 201, note.text
    note_id = note.json()["data"]["interaction"]["id"]

    # Untouched: another customer's details and the organization's other views.
    assert data(await api.client.get(other_url, headers=admin))["customer"]["name"] == (
        "سارة القحطاني"
    )
    for name, (url, params, _service, _method) in SURVIVORS.items():
        data(await api.client.get(url, headers=admin, params=params))
        assert spies[name].calls == 1, f"a note emptied the cached {name}"
    # Fresh at once: the customer's details, the lists and the statistics that count contacts.
    shown = data(await api.client.get(noted_url, headers=admin, params={"include": "interactions"}))
    assert [i["id"] for i in shown["customer"]["interactions"]] == [note_id]
    assert shown["customer"]["totalInteractions"] == 1
    fresh = data(await api.client.get(CUSTOMERS, headers=admin, params=BY_CONTACT))
    assert fresh["customers"][0]["id"] == noted.id
    assert fresh["customers"] != listed["customers"]
    data(await api.client.get(f"{CUSTOMERS}/stats", headers=admin))
    assert (stats.calls, lists.calls) == (2, 2)


async def test_a_reminder_leaves_the_lists_and_statistics_cached(
    api: Api, token_for: TokenFor, new_customer: NewCustomer, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = await new_customer(assigned="agent")
    admin = token_for("admin")
    stats = Spy(monkeypatch, api.hub.deps.customer_queries, "stats")
    lists = Spy(monkeypatch, api.hub.deps.customer_queries, "list_with_assignees")
    url = f"{CUSTOMERS}/{customer.id}"
    for _ in range(2):
        data(await api.client.get(f"{CUSTOMERS}/stats", headers=admin))
        data(await api.client.get(CUSTOMERS, headers=admin, params=BY_CONTACT))
        data(await api.client.get(url, headers=admin, params={"include": "reminders"}))
    when = (datetime.now(UTC) + timedelta(days=2)).isoformat().replace("+00:00", "Z")
    added = await api.client.post(
        f"{url}/reminders", headers=admin, json={"title": "متابعة", "datetime": when}
    )
    assert added.status_code == 201, added.text

    data(await api.client.get(f"{CUSTOMERS}/stats", headers=admin))
    data(await api.client.get(CUSTOMERS, headers=admin, params=BY_CONTACT))
    assert (stats.calls, lists.calls) == (1, 1)
    shown = data(await api.client.get(url, headers=admin, params={"include": "reminders"}))
    assert [r["id"] for r in shown["customer"]["reminders"]] == [
        added.json()["data"]["reminder"]["id"]
    ]


async def test_a_note_written_on_one_instance_is_read_fresh_on_the_other(
    redis_pair: tuple[Api, Api],
    token_for: TokenFor,
    new_customer: NewCustomer,
) -> None:
    writer, reader = redis_pair
    noted = await new_customer(assigned="agent")
    other = await new_customer(assigned="agent", name="نورة الفيفي")
    admin = token_for("admin")
    noted_url, other_url = f"{CUSTOMERS}/{noted.id}", f"{CUSTOMERS}/{other.id}"
    include = {"include": "interactions"}
    for _ in range(2):  # warm the reader's views in the shared cache
        before = data(await reader.client.get(noted_url, headers=admin, params=include))
        data(await reader.client.get(other_url, headers=admin))
        listed = data(await reader.client.get(CUSTOMERS, headers=admin, params=BY_CONTACT))
        stats = data(await reader.client.get(f"{CUSTOMERS}/stats", headers=admin))
    assert before["customer"]["interactions"] == []
    await sneak(reader.hub, other, name="اسم تغير دون حدث")

    note = await writer.client.post(f"{noted_url}/interactions", headers=admin, json=NOTE)
    assert note.status_code == 201, note.text

    after = data(await reader.client.get(noted_url, headers=admin, params=include))
    assert [i["id"] for i in after["customer"]["interactions"]] == [
        note.json()["data"]["interaction"]["id"]
    ]
    fresh = data(await reader.client.get(CUSTOMERS, headers=admin, params=BY_CONTACT))
    assert fresh["customers"][0]["id"] == noted.id
    assert fresh["customers"] != listed["customers"]
    moved = data(await reader.client.get(f"{CUSTOMERS}/stats", headers=admin))
    assert moved["stats"]["engagement"] != stats["stats"]["engagement"]
    # The other customer's entry survived the note on every instance.
    shown = data(await reader.client.get(other_url, headers=admin))
    assert shown["customer"]["name"] == "نورة الفيفي"

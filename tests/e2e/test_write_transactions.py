"""One request, one transaction (issue 13, "a slim write path"): the customer writes answer with
the assignee their use case read in its own unit of work, so the controller opens no second
one; reading one customer embeds the assignee its use case loaded. Counted on the hub's
engine: every connection taken (a unit of work or any adapter's own) and every transaction
begun on it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event

from customers_hub.entrypoints.bootstrap import Hub

if TYPE_CHECKING:
    from conftest import NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
CUSTOMERS = "/api/v1/customers"


@dataclass
class Opened:
    """What the hub's engine opened: connections taken (a unit of work, or any adapter's own),
    and the distinct connections that began a transaction."""

    connections: int = 0
    transactions: set[int] = field(default_factory=set)


@contextmanager
def transactions(hub: Hub) -> Iterator[Opened]:
    """What the hub's engine opened inside the block."""
    opened = Opened()
    engine = hub.engine.sync_engine

    def connected(_conn: Any) -> None:
        opened.connections += 1

    def began(conn: Any) -> None:
        opened.transactions.add(id(conn))

    event.listen(engine, "engine_connect", connected)
    event.listen(engine, "begin", began)
    try:
        yield opened
    finally:
        event.remove(engine, "engine_connect", connected)
        event.remove(engine, "begin", began)


@pytest.fixture
async def warm(client: Client, token_for: TokenFor, staff: Staff) -> dict[str, str]:
    """The admin's headers, after one request of the organization (its time zone is cached
    from then on, as on a running service)."""
    headers = token_for("admin")
    response = await client.get(f"{CUSTOMERS}/cust_missing", headers=headers)
    assert response.status_code == 404, response.text
    return headers


async def test_a_stage_change_opens_exactly_one_transaction(
    client: Client, hub: Hub, new_customer: NewCustomer, warm: dict[str, str], staff: Staff
) -> None:
    customer = await new_customer()
    with transactions(hub) as opened:
        response = await client.patch(
            f"{CUSTOMERS}/{customer.id}/stage", headers=warm, json={"toStage": "qualified"}
        )
    assert response.status_code == 200, response.text
    assert (opened.connections, len(opened.transactions)) == (1, 1), opened
    body = response.json()["data"]["customer"]
    # The assignee embedded is the one the use case read (no second read after the commit).
    assert body["assignedEmployee"]["id"] == staff.id("agent")
    assert [h["toStage"] for h in body["stageHistory"]] == ["qualified"]


async def test_an_update_opens_exactly_one_transaction(
    client: Client, hub: Hub, new_customer: NewCustomer, warm: dict[str, str], staff: Staff
) -> None:
    customer = await new_customer()
    with transactions(hub) as opened:
        response = await client.put(
            f"{CUSTOMERS}/{customer.id}", headers=warm, json={"notes": "يفضل الاتصال مساءً"}
        )
    assert response.status_code == 200, response.text
    assert (opened.connections, len(opened.transactions)) == (1, 1), opened
    assert response.json()["data"]["customer"]["assignedEmployee"]["id"] == staff.id("agent")


async def test_an_assignment_opens_exactly_one_transaction(
    client: Client, hub: Hub, new_customer: NewCustomer, warm: dict[str, str], staff: Staff
) -> None:
    customer = await new_customer()
    with transactions(hub) as opened:
        response = await client.post(
            f"{CUSTOMERS}/{customer.id}/assign",
            headers=warm,
            json={"employeeId": staff.id("agent2")},
        )
    assert response.status_code == 200, response.text
    assert (opened.connections, len(opened.transactions)) == (1, 1), opened
    # The new assignee, as the assignment wrote it.
    embedded = response.json()["data"]["customer"]["assignedEmployee"]
    assert embedded["id"] == staff.id("agent2")


async def test_a_create_and_a_restore_open_exactly_one_transaction_each(
    client: Client, hub: Hub, new_customer: NewCustomer, warm: dict[str, str], staff: Staff
) -> None:
    phone = f"05{uuid.uuid4().int % 10**8:08d}"
    body = {"name": "سعد العتيبي", "phone": phone, "source": "manual"}
    body["assignedEmployeeId"] = staff.id("agent")
    with transactions(hub) as opened:
        created = await client.post(CUSTOMERS, headers=warm, json=body)
    assert created.status_code == 201, created.text
    assert (opened.connections, len(opened.transactions)) == (1, 1), opened
    customer_id = created.json()["data"]["customer"]["id"]
    assert created.json()["data"]["customer"]["assignedEmployee"]["id"] == staff.id("agent")
    deleted = await client.delete(f"{CUSTOMERS}/{customer_id}", headers=warm)
    assert deleted.status_code == 200, deleted.text
    with transactions(hub) as opened:
        restored = await client.post(f"{CUSTOMERS}/{customer_id}/restore", headers=warm)
    assert restored.status_code == 200, restored.text
    assert (opened.connections, len(opened.transactions)) == (1, 1), opened
    assert restored.json()["data"]["customer"]["assignedEmployee"]["id"] == staff.id("agent")


async def test_reading_one_customer_opens_exactly_one_transaction(
    client: Client, hub: Hub, new_customer: NewCustomer, warm: dict[str, str], staff: Staff
) -> None:
    customer = await new_customer()  # never read yet: the read misses the cache
    with transactions(hub) as opened:
        response = await client.get(f"{CUSTOMERS}/{customer.id}", headers=warm)
    assert response.status_code == 200, response.text
    assert (opened.connections, len(opened.transactions)) == (1, 1), opened
    # The assignee is the one get_customer loaded with the customer.
    assert response.json()["data"]["customer"]["assignedEmployee"]["id"] == staff.id("agent")

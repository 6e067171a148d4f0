"""Texts longer than their columns never reach the database (issue 13, bug 1), over HTTP.

SQLite stores a ``VARCHAR(n)`` of any length; PostgreSQL refuses the INSERT, which was a 500.
These tests run the HTTP app on both databases (the end-to-end suite runs on SQLite only):

* a stage change's ``reason`` (``stage_history.reason`` is ``String(500)``) longer than 500
  characters is a 400 ``VALIDATION_ERROR`` naming ``reason``;
* a token's ``userId`` or ``organizationId`` longer than the id columns (``String(50)``) is a 401
  ``AUTHENTICATION_FAILED`` — an id cannot be shortened without naming someone else;
* a ``name`` claim no ``String(255)`` column can hold (``changedBy``, ``agentName``,
  ``createdBy``, ``uploadedBy``) is not used: the caller's employee record names the change.

And a NUL character (U+0000), which SQLite refuses in a statement and PostgreSQL in any text
value (found by the API fuzz run as a 500): in a query or path parameter it is a 400 naming the
parameter; in a ``search`` it would separate terms, as the search normalization reads it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.application.use_cases.customers import (
    CreateCustomer,
    create_customer,
    get_customer,
)
from customers_hub.application.use_cases.employees import CreateEmployee, create_employee
from customers_hub.application.use_cases.reads import CustomerListParams, list_customers
from customers_hub.domain.enums import CustomerSource, Permission, Role, Stage
from customers_hub.domain.model import Actor, Customer
from customers_hub.domain.validation import CustomerDraft
from customers_hub.entrypoints.bootstrap import Hub, build_hub
from customers_hub.entrypoints.http.app import create_app
from customers_hub.entrypoints.http.auth import AuthSettings, issue_token
from customers_hub.entrypoints.settings import HubConfig

SECRET = "bounded-texts-test-secret-long-enough-for-hs256"
AGENT_ID = "emp_agent"
AGENT_NAME = "أحمد السعيد"


@pytest.fixture
async def hub(engine: AsyncEngine, database_url: str, tmp_path: Path) -> Hub:
    """A hub on the migrated test database (``engine`` migrated it); the app's lifespan
    starts and closes it."""
    return build_hub(
        config=HubConfig(
            data_dir=tmp_path,
            database_url=database_url,
            rate_limits_enabled=False,
            snooze_interval=None,  # no background job in these tests
        )
    )


@pytest.fixture
async def client(hub: Hub) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=create_app(hub, auth=AuthSettings(secret=SECRET))) as c:
        yield c


def admin(org: str) -> Actor:
    return Actor("emp_admin", org, Role.ADMIN, frozenset(Permission), name="سارة المدير")


async def agents_customer(hub: Hub, org: str) -> Customer:
    """A customer assigned to the agent :data:`AGENT_ID` (an employee of ``org``)."""
    await create_employee(
        hub.deps, admin(org), CreateEmployee(id=AGENT_ID, name=AGENT_NAME, role=Role.SALES_AGENT)
    )
    draft = CustomerDraft(
        name="محمد الفهد",
        phone=f"+9665{uuid.uuid4().int % 10**8:08d}",
        source=CustomerSource.MANUAL,
        city="الرياض",
        assigned_employee_id=AGENT_ID,
    )
    return (await create_customer(hub.deps, admin(org), CreateCustomer(draft))).customer


def bearer(
    org: str, user_id: str = AGENT_ID, role: Role = Role.SALES_AGENT, **claims: Any
) -> dict[str, str]:
    """Headers with a token for ``user_id``; ``claims`` replace the token's claims."""
    token = issue_token(AuthSettings(secret=SECRET), user_id, role, org, list(Permission), 3600)
    if claims:
        token = jwt.encode(
            {**jwt.decode(token, SECRET, algorithms=["HS256"]), **claims},
            SECRET,
            algorithm="HS256",
        )
    return {"Authorization": f"Bearer {token}"}


def stage_url(customer: Customer) -> str:
    return f"/api/v1/customers/{customer.id}/stage"


async def test_a_reason_longer_than_its_column_is_a_400_naming_reason(
    client: AsyncTestClient[Litestar], hub: Hub, org_id: str
) -> None:
    customer = await agents_customer(hub, org_id)
    # 501 characters is one too many, even where no reason is required.
    too_long = await client.patch(
        stage_url(customer),
        headers=bearer(org_id),
        json={"toStage": "qualified", "reason": "س" * 501},
    )
    assert too_long.status_code == 400, too_long.text
    error = too_long.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert [d["field"] for d in error["details"]] == ["reason"]
    unchanged = await get_customer(hub.deps, admin(org_id), customer.id)
    assert unchanged.customer.stage is Stage.NEW_LEAD

    longest = await client.patch(
        stage_url(customer),
        headers=bearer(org_id),
        json={"toStage": "qualified", "reason": "س" * 500},
    )
    assert longest.status_code == 200, longest.text
    [entry] = longest.json()["data"]["customer"]["stageHistory"]
    assert entry["reason"] == "س" * 500


@pytest.mark.parametrize("claim", ["userId", "organizationId"])
async def test_an_id_claim_longer_than_the_id_columns_is_refused(
    client: AsyncTestClient[Litestar], hub: Hub, org_id: str, claim: str
) -> None:
    customer = await agents_customer(hub, org_id)
    # An admin may change any customer of the organization: the change would record the id.
    refused = await client.patch(
        stage_url(customer),
        headers=bearer(org_id, role=Role.ADMIN, **{claim: "x" * 51}),
        json={"toStage": "qualified"},
    )
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"]["code"] == "AUTHENTICATION_FAILED"
    unchanged = await get_customer(hub.deps, admin(org_id), customer.id)
    assert unchanged.customer.stage is Stage.NEW_LEAD


async def test_a_user_id_as_long_as_the_id_columns_is_recorded(
    client: AsyncTestClient[Litestar], hub: Hub, org_id: str
) -> None:
    """The longest accepted user id names the change (no employee record: its id is shown)."""
    customer = await agents_customer(hub, org_id)
    user_id = "u" * 50
    moved = await client.patch(
        stage_url(customer),
        headers=bearer(org_id, user_id, role=Role.ADMIN),
        json={"toStage": "qualified"},
    )
    assert moved.status_code == 200, moved.text
    [entry] = moved.json()["data"]["customer"]["stageHistory"]
    assert (entry["changedBy"], entry["changedById"]) == (user_id, user_id)


async def test_a_name_claim_longer_than_its_columns_never_reaches_them(
    client: AsyncTestClient[Litestar], hub: Hub, org_id: str
) -> None:
    customer = await agents_customer(hub, org_id)
    headers = bearer(org_id, name="م" * 300)
    url = f"/api/v1/customers/{customer.id}"
    moved = await client.patch(f"{url}/stage", headers=headers, json={"toStage": "qualified"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["data"]["customer"]["stageHistory"][0]["changedBy"] == AGENT_NAME
    logged = await client.post(
        f"{url}/interactions", headers=headers, json={"type": "call", "notes": "مكالمة"}
    )
    assert logged.status_code == 201, logged.text
    assert logged.json()["data"]["interaction"]["agentName"] == AGENT_NAME
    # The longest name a column holds is used as it is.
    longest = "م" * 255
    again = await client.patch(
        f"{url}/stage",
        headers=bearer(org_id, name=longest),
        json={"toStage": "property_matching"},
    )
    assert again.status_code == 200, again.text
    assert again.json()["data"]["customer"]["stageHistory"][0]["changedBy"] == longest


NUL_URLS = [
    ("/api/v1/customers?city=%D8%A7%00x", ["city"]),
    ("/api/v1/customers?search=%D9%85%00x", ["search"]),
    ("/api/v1/customers/actions?search=a%00b&assignedTo=e%00&limit=5", ["search", "assignedTo"]),
    ("/api/v1/customers/cust_%00x", ["customerId"]),
    ("/api/v1/customers/cust_%00x/timeline", ["customerId"]),
]


@pytest.mark.parametrize(("url", "named"), NUL_URLS)
async def test_a_nul_in_the_url_is_a_400_naming_the_parameter(
    client: AsyncTestClient[Litestar], hub: Hub, org_id: str, url: str, named: list[str]
) -> None:
    await agents_customer(hub, org_id)
    response = await client.get(url, headers=bearer(org_id, AGENT_ID))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert [d["field"] for d in error["details"]] == named
    assert all("U+0000" in d["message"] for d in error["details"])


async def test_a_search_reads_a_control_character_as_a_space(
    client: AsyncTestClient[Litestar], hub: Hub, org_id: str
) -> None:
    # ``client``: the app's lifespan starts and closes the hub.
    customer = await agents_customer(hub, org_id)
    # What an embedding service may pass without the HTTP edge: no error, the terms around it.
    found = await list_customers(
        hub.deps, admin(org_id), CustomerListParams(search="محمد\x00الفهد")
    )
    assert [c.id for c in found.page.items] == [customer.id]

"""The recipe's HTTP steps for ``responseRate`` (docs/architecture.md, "Adding a customer field"):
read-only on the way in, on the way out, filterable, in the OpenAPI document — with nothing in
the HTTP layer naming it but the response Struct."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import attrs
from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.application.use_cases.customers import get_customer
from customers_hub.entrypoints.bootstrap import Hub

if TYPE_CHECKING:
    from conftest import NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
CUSTOMERS = "/api/v1/customers"


def _errors(response: Any) -> list[str]:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    return [d["field"] for d in error["details"]]


async def _measured(hub: Hub, staff: Staff, new_customer: NewCustomer, rate: int) -> str:
    """A customer whose rate the system measured (no request sets it: it is read-only)."""
    customer = await new_customer()
    async with hub.deps.uow() as uow:
        await uow.customers.save(
            attrs.evolve(customer, response_rate=rate, version=customer.version + 1),
            expected_version=customer.version,
        )
        await uow.commit()
    return customer.id


async def test_a_client_cannot_set_it_and_reads_it_back(
    client: Client, token_for: TokenFor, staff: Staff, hub: Hub, new_customer: NewCustomer
) -> None:
    body = {"name": "سعد القحطاني", "phone": "+966557700001", "source": "manual"}
    created = await client.post(
        CUSTOMERS, json={**body, "responseRate": 99}, headers=token_for("admin")
    )
    assert created.status_code == 201, created.text
    assert "responseRate" not in created.json()["data"]["customer"]  # echoed, checked, ignored
    cid = created.json()["data"]["customer"]["id"]
    details = await get_customer(hub.deps, staff.admin, cid)
    assert details.customer.response_rate is None
    # A wrong type is still a 400 naming it, and changes nothing.
    bad = await client.put(
        f"{CUSTOMERS}/{cid}", json={"responseRate": "high"}, headers=token_for("admin")
    )
    assert _errors(bad) == ["responseRate"]
    measured = await _measured(hub, staff, new_customer, 73)
    got = await client.get(f"{CUSTOMERS}/{measured}", headers=token_for("admin"))
    assert got.status_code == 200, got.text
    assert got.json()["data"]["customer"]["responseRate"] == 73
    # Another organization never sees it, not even that it exists.
    other = await client.get(f"{CUSTOMERS}/{measured}", headers=token_for("other_admin"))
    assert other.status_code == 404


async def test_the_list_filters_on_it(
    client: Client, token_for: TokenFor, staff: Staff, hub: Hub, new_customer: NewCustomer
) -> None:
    high = await _measured(hub, staff, new_customer, 97)
    low = await _measured(hub, staff, new_customer, 12)

    async def ids(filters: object) -> list[str]:
        response = await client.get(
            CUSTOMERS,
            headers=token_for("admin"),
            params={"filters": json.dumps(filters), "limit": "100"},
        )
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["data"]["customers"]]

    found = await ids({"responseRate": {"gte": 95}})
    assert high in found
    assert low not in found
    assert low in await ids({"responseRate": {"lte": 12}})
    bad = await client.get(
        CUSTOMERS,
        headers=token_for("admin"),
        params={"filters": json.dumps({"responseRate": {"gte": "most"}})},
    )
    assert any("responseRate" in field for field in _errors(bad))


async def test_the_document_shows_it_as_a_read_only_integer(client: Client) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    schemas = document["components"]["schemas"]
    out = [s for s in schemas.values() if "responseRate" in s.get("properties", {})]
    assert out, "no schema holds responseRate"
    for schema in out:
        shape = schema["properties"]["responseRate"]
        assert "integer" in json.dumps(shape)
    inputs = [s for name, s in schemas.items() if name.endswith("Input") and s in out]
    assert all(s["properties"]["responseRate"].get("readOnly") for s in inputs)


# --- employer: a field clients write, with the same four files ---------------------------------


async def test_a_client_writes_changes_and_clears_it(client: Client, token_for: TokenFor) -> None:
    admin = token_for("admin")
    body = {"name": "نورة العتيبي", "phone": "+966557700002", "source": "manual"}
    created = await client.post(
        CUSTOMERS, json={**body, "employer": " وزارة الصحة "}, headers=admin
    )
    assert created.status_code == 201, created.text
    customer = created.json()["data"]["customer"]
    assert customer["employer"] == "وزارة الصحة"  # cleaned by the rule of its type
    url = f"{CUSTOMERS}/{customer['id']}"
    changed = await client.put(url, json={"employer": "Saudi Aramco"}, headers=admin)
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"]["customer"]["employer"] == "Saudi Aramco"
    # Too long: a 400 naming it, and nothing changes.
    bad = await client.put(url, json={"employer": "x" * 201, "city": "جدة"}, headers=admin)
    assert _errors(bad) == ["employer"]
    read = (await client.get(url, headers=admin)).json()["data"]["customer"]
    assert (read["employer"], read.get("city")) == ("Saudi Aramco", None)
    # The list filters on it; another organization sees nothing of it.
    listed = await client.get(
        CUSTOMERS,
        headers=admin,
        params={"filters": json.dumps({"employer": {"eq": "Saudi Aramco"}}), "limit": "100"},
    )
    assert customer["id"] in [c["id"] for c in listed.json()["data"]["customers"]]
    other = await client.put(url, json={"employer": "x"}, headers=token_for("other_admin"))
    assert other.status_code == 404
    # null clears it: the key is then omitted.
    cleared = await client.put(url, json={"employer": None}, headers=admin)
    assert cleared.status_code == 200, cleared.text
    assert "employer" not in cleared.json()["data"]["customer"]


async def test_the_document_shows_it_writable_with_its_length(client: Client) -> None:
    schemas = (await client.get("/api/v1/openapi.json")).json()["components"]["schemas"]
    for name in ("NewCustomerIn", "CustomerIn"):
        shape = json.dumps(schemas[name]["properties"]["employer"])
        assert '"maxLength": 200' in shape, (name, shape)
        assert "readOnly" not in shape

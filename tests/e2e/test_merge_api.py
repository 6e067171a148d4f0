"""Merge and unmerge through HTTP (rules §10): ``POST /customers/{id}/merge`` and
``POST /customers/{id}/unmerge`` — what the survivor and the sources become (and how they read
afterwards: lists, duplicates, ``GET`` of a merged source), bad input (400/422 naming the
field, changing nothing), another organization (404), roles and scopes (403), the 409 of an
unmerge when something moved since and the 422 of one that cannot happen any more."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import update

from customers_hub.adapters.sql import tables
from customers_hub.application.use_cases.relations import LogInteraction, log_interaction
from customers_hub.domain.enums import InteractionType
from customers_hub.entrypoints.bootstrap import Hub

if TYPE_CHECKING:
    from conftest import NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
CUSTOMERS = "/api/v1/customers"


def merge_url(customer_id: str) -> str:
    return f"{CUSTOMERS}/{customer_id}/merge"


def unmerge_url(customer_id: str) -> str:
    return f"{CUSTOMERS}/{customer_id}/unmerge"


def error_of(response: Any, status: int) -> tuple[str, list[str] | dict[str, Any] | None]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    details = error.get("details")
    if isinstance(details, list):
        return error["code"], [d["field"] for d in details]
    return error["code"], details


async def read(client: Client, headers: dict[str, str], customer_id: str, query: str = "") -> Any:
    return await client.get(f"{CUSTOMERS}/{customer_id}{query}", headers=headers)


async def test_merge_and_unmerge_over_http(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    agent = token_for("agent")
    survivor = await new_customer(name="محمد الفهد", assigned="agent")
    source = await new_customer(
        name="محمد الفهد", assigned="agent", email="fahd@example.com", whatsapp=survivor.phone
    )
    await log_interaction(
        hub.deps,
        staff.actor("agent"),
        LogInteraction(customer_id=source.id, type=InteractionType.CALL, notes="مكالمة أولى"),
    )
    before = await read(client, agent, survivor.id)  # cached: the merge must invalidate it
    assert before.json()["data"]["customer"]["totalInteractions"] == 0

    merged = await client.post(
        merge_url(survivor.id), json={"sourceIds": [source.id]}, headers=agent
    )

    assert merged.status_code == 200, merged.text
    data = merged.json()["data"]
    assert data["merge"]["sourceIds"] == [source.id]
    assert data["merge"]["filledFields"] == {"email": source.id, "whatsapp": source.id}
    assert data["merge"]["moved"]["interactions"] == 1
    assert data["merge"]["moved"]["stageHistory"] == 1
    assert data["customer"]["email"] == "fahd@example.com"
    after = await read(client, agent, survivor.id, "?include=stageHistory")
    customer = after.json()["data"]["customer"]
    assert customer["totalInteractions"] == 1
    assert [e.get("mergedFrom") for e in customer["stageHistory"]] == [None, source.id]
    # The source left every read; an admin still finds it, with where it went.
    assert (await read(client, agent, source.id)).status_code == 404
    trash = await read(client, token_for("admin"), source.id, "?includeDeleted=true")
    assert trash.json()["data"]["customer"]["mergedInto"] == survivor.id
    listed = await client.get(CUSTOMERS, params={"limit": 100}, headers=agent)
    assert source.id not in {c["id"] for c in listed.json()["data"]["customers"]}
    duplicates = await client.get(f"{CUSTOMERS}/{survivor.id}/duplicates", headers=agent)
    assert duplicates.json()["data"]["duplicates"] == []

    undone = await client.post(unmerge_url(survivor.id), json={}, headers=agent)

    assert undone.status_code == 200, undone.text
    data = undone.json()["data"]
    assert data["merge"]["id"] == merged.json()["data"]["merge"]["id"]
    assert "unmergedAt" in data["merge"]
    assert [s["id"] for s in data["sources"]] == [source.id]
    assert "email" not in data["customer"]
    assert "whatsapp" not in data["customer"]
    assert (await read(client, agent, source.id)).json()["data"]["customer"][
        "totalInteractions"
    ] == 1
    again = await client.post(
        unmerge_url(survivor.id), json={"mergeId": data["merge"]["id"]}, headers=agent
    )
    code, details = error_of(again, 422)
    assert code == "UNMERGE_NOT_ALLOWED"
    assert isinstance(details, dict)
    assert details["reason"] == "already_unmerged"
    code, _ = error_of(await client.post(unmerge_url(survivor.id), json={}, headers=agent), 404)
    assert code == "RESOURCE_NOT_FOUND"


async def test_bad_input_names_the_field_and_changes_nothing(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    admin = token_for("admin")
    survivor = await new_customer()
    source = await new_customer(email="kept@example.com")
    cases: list[tuple[Any, int, list[str]]] = [
        ({}, 400, ["sourceIds"]),
        ({"sourceIds": None}, 400, ["sourceIds"]),
        ({"sourceIds": []}, 400, ["sourceIds"]),
        ({"sourceIds": [f"cust_{n}" for n in range(11)]}, 400, ["sourceIds"]),
        ({"sourceIds": [" "]}, 400, ["sourceIds"]),
        ({"sourceIds": ["x" * 51]}, 400, ["sourceIds"]),
        ({"sourceIds": [7]}, 400, ["sourceIds"]),
        ({"sourceIds": [source.id], "fields": {"phone": source.id}}, 400, ["fields.phone"]),
        ({"sourceIds": [source.id], "unknown": 1}, 400, ["unknown"]),
        ({"sourceIds": [source.id, source.id]}, 422, ["sourceIds"]),
        ({"sourceIds": [survivor.id]}, 422, ["sourceIds"]),
        ({"sourceIds": [source.id], "fields": {"email": "cust_nobody"}}, 422, ["fields.email"]),
    ]
    for body, status, fields in cases:
        response = await client.post(merge_url(survivor.id), json=body, headers=admin)
        code, named = error_of(response, status)
        assert code == "VALIDATION_ERROR", (body, response.text)
        assert isinstance(named, list), body
        assert named[0].startswith(fields[0]), (body, named)
    for body in ({"mergeId": ""}, {"mergeId": "m" * 51}, {"mergeId": 3}):
        code, named = error_of(
            await client.post(unmerge_url(survivor.id), json=body, headers=admin), 400
        )
        assert named == ["mergeId"], body
    # Nothing changed: the source is live and unmerged, the survivor has no email.
    assert (await read(client, admin, source.id)).status_code == 200
    assert "email" not in (await read(client, admin, survivor.id)).json()["data"]["customer"]


async def test_another_organization_is_not_found(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, staff: Staff
) -> None:
    admin, other_admin = token_for("admin"), token_for("other_admin")
    survivor = await new_customer()
    source = await new_customer()
    theirs = await new_customer(by=staff.actor("other_admin"), assigned=None)
    response = await client.post(
        merge_url(survivor.id), json={"sourceIds": [theirs.id]}, headers=admin
    )
    assert error_of(response, 404) == (
        "RESOURCE_NOT_FOUND",
        {"resourceType": "customer", "resourceId": theirs.id},
    )
    response = await client.post(
        merge_url(survivor.id), json={"sourceIds": [source.id]}, headers=other_admin
    )
    assert error_of(response, 404)[0] == "RESOURCE_NOT_FOUND"
    merged = await client.post(
        merge_url(survivor.id), json={"sourceIds": [source.id]}, headers=admin
    )
    merge_id = merged.json()["data"]["merge"]["id"]
    for body in ({}, {"mergeId": merge_id}):
        response = await client.post(unmerge_url(survivor.id), json=body, headers=other_admin)
        assert error_of(response, 404)[0] == "RESOURCE_NOT_FOUND"
    assert (await read(client, admin, source.id)).status_code == 404  # still merged


async def test_roles_and_scopes(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    mine = await new_customer(assigned="agent")
    also_mine = await new_customer(assigned="agent")
    theirs = await new_customer(assigned="agent2")
    outside = await new_customer(assigned="outsider")
    body = {"sourceIds": [theirs.id]}
    for who, customer_id, payload in (
        ("agent", mine.id, body),  # another agent's customer
        ("agent", theirs.id, {"sourceIds": [mine.id]}),
        ("manager", mine.id, {"sourceIds": [outside.id]}),  # outside the team
        ("viewer", mine.id, {"sourceIds": [also_mine.id]}),  # the role may not write
    ):
        response = await client.post(merge_url(customer_id), json=payload, headers=token_for(who))
        assert error_of(response, 403)[0] == "PERMISSION_DENIED", (who, response.text)
    # A manager merges within the team; the agent may not undo it (another agent's source).
    merged = await client.post(merge_url(mine.id), json=body, headers=token_for("manager"))
    assert merged.status_code == 200, merged.text
    response = await client.post(unmerge_url(mine.id), json={}, headers=token_for("agent"))
    assert error_of(response, 403)[0] == "PERMISSION_DENIED"
    response = await client.post(unmerge_url(mine.id), json={}, headers=token_for("viewer"))
    assert error_of(response, 403)[0] == "PERMISSION_DENIED"


async def test_unmerge_conflicts_and_the_window(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub
) -> None:
    admin = token_for("admin")
    survivor = await new_customer()
    source = await new_customer(email="old@example.com")
    merged = await client.post(
        merge_url(survivor.id), json={"sourceIds": [source.id]}, headers=admin
    )
    assert merged.status_code == 200, merged.text
    edited = await client.put(
        f"{CUSTOMERS}/{survivor.id}", json={"email": "new@example.com"}, headers=admin
    )
    assert edited.status_code == 200, edited.text
    response = await client.post(unmerge_url(survivor.id), json={}, headers=admin)
    assert error_of(response, 409) == ("UNMERGE_CONFLICT", ["fields.email"])
    assert "fields.email" in response.json()["error"]["message"]

    other = await new_customer()
    second = await client.post(
        merge_url(other.id), json={"sourceIds": [survivor.id]}, headers=admin
    )
    assert second.status_code == 200, second.text
    async with hub.engine.begin() as conn:
        m = tables.customer_merges
        await conn.execute(
            update(m)
            .where(m.c.id == second.json()["data"]["merge"]["id"])
            .values(merged_at=hub.deps.clock.now() - timedelta(days=31))
        )
    response = await client.post(unmerge_url(other.id), json={}, headers=admin)
    code, details = error_of(response, 422)
    assert code == "UNMERGE_NOT_ALLOWED"
    assert isinstance(details, dict)
    assert details["reason"] == "expired"


async def test_erasing_a_merged_customer_removes_its_merge_records(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub
) -> None:
    """A merge record keeps the values the merge filled in: after an erasure (rules §8) none
    of them may stay, so the erased person's merges go and cannot be undone."""
    admin = token_for("admin")
    survivor = await new_customer()
    source = await new_customer(email="erase.me@example.com")
    merged = await client.post(
        merge_url(survivor.id), json={"sourceIds": [source.id]}, headers=admin
    )
    assert merged.status_code == 200, merged.text
    erased = await client.post(f"{CUSTOMERS}/{survivor.id}/erase", json={}, headers=admin)
    assert erased.status_code == 200, erased.text
    async with hub.engine.connect() as conn:
        m = tables.customer_merges
        rows = (await conn.execute(m.select().where(m.c.survivor_id == survivor.id))).all()
    assert rows == []
    response = await client.post(unmerge_url(survivor.id), json={}, headers=admin)
    assert 400 <= response.status_code < 500
    assert "erase.me@example.com" not in response.text

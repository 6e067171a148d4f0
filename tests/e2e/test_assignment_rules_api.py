"""Assignment rules over HTTP (rules §10): an admin manages rules and new customers created
without an assignee are spread by them; bad input names each failing field (400) and unknown or
foreign employees are 422 on ``employeeIds``; another organization's rules are 404; agents and
viewers get 403 and a manager only manages the team's rules; ``If-Match`` guards changes.
Several instances at once: ``test_assignment_instances.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from conftest import unique_phone
from litestar import Litestar
from litestar.testing import AsyncTestClient

if TYPE_CHECKING:
    from conftest import Staff, TokenFor

Client = AsyncTestClient[Litestar]
RULES = "/api/v1/assignment-rules"
CUSTOMERS = "/api/v1/customers"


def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    error: dict[str, Any] = body["error"]
    return error


def failing_fields(response: Any) -> set[str]:
    error = error_of(response, 400, "VALIDATION_ERROR")
    return {d["field"] for d in error["details"]}


def rejected_fields(response: Any) -> set[str]:
    error = error_of(response, 422, "VALIDATION_ERROR")
    return {d["field"] for d in error["details"]}


def body(staff: Staff, *keys: str, **fields: Any) -> dict[str, Any]:
    return {
        "name": "توزيع الرياض",
        "strategy": "round_robin",
        "employeeIds": [staff.id(k) for k in keys or ("agent", "agent2")],
        **fields,
    }


async def create(client: Client, headers: dict[str, str], payload: dict[str, Any]) -> Any:
    response = await client.post(RULES, headers=headers, json=payload)
    assert response.status_code == 201, response.text
    assert response.headers["etag"] == '"v1"'
    return response.json()["data"]["rule"]


async def lead(client: Client, headers: dict[str, str], **fields: Any) -> str | None:
    payload = {"name": "عبدالله الشمري", "phone": unique_phone(), "source": "manual", **fields}
    response = await client.post(CUSTOMERS, headers=headers, json=payload)
    assert response.status_code == 201, response.text
    assigned: str | None = response.json()["data"]["customer"].get("assignedEmployeeId")
    return assigned


async def test_an_admin_manages_a_rule_and_new_customers_follow_it(
    client: Client, token_for: TokenFor, staff: Staff
) -> None:
    admin = token_for("admin")
    made = await create(
        client, admin, body(staff, match={"sources": ["manual"], "cities": ["الرياض"]})
    )
    assert made["match"] == {"sources": ["manual"], "cities": ["الرياض"], "propertyTypes": []}
    assert (made["priority"], made["active"], made["version"]) == (100, True, 1)
    assert "lastEmployeeId" not in made
    spread = [await lead(client, admin, city="الرياض") for _ in range(3)]
    assert spread == [staff.id("agent"), staff.id("agent2"), staff.id("agent")]
    assert await lead(client, admin, city="جدة") is None  # the rule does not fit
    url = f"{RULES}/{made['id']}"
    read = (await client.get(url, headers=admin)).json()["data"]["rule"]
    assert read["lastEmployeeId"] == staff.id("agent")
    listed = (await client.get(RULES, headers=admin)).json()["data"]
    assert [r["id"] for r in listed["rules"]] == [made["id"]]
    assert listed["pagination"]["totalItems"] == 1

    changed = await client.patch(
        url, headers={**admin, "If-Match": '"v1"'}, json={"active": False, "priority": 5}
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"v2"'
    assert await lead(client, admin, city="الرياض") is None  # inactive: nobody assigns

    stale = await client.delete(url, headers={**admin, "If-Match": '"v1"'})
    error_of(stale, 412, "PRECONDITION_FAILED")
    deleted = await client.delete(url, headers=admin)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["data"] == {"ruleId": made["id"]}
    error_of(await client.get(url, headers=admin), 404, "RESOURCE_NOT_FOUND")


async def test_a_rule_with_nobody_active_sends_the_customer_to_the_admins_inbox(
    client: Client, token_for: TokenFor, staff: Staff
) -> None:
    admin = token_for("admin")
    await create(client, admin, body(staff, "outsider"))
    deactivated = await client.patch(
        f"/api/v1/employees/{staff.id('outsider')}", headers=admin, json={"isActive": False}
    )
    assert deactivated.status_code == 200, deactivated.text
    phone = unique_phone()
    assert await lead(client, admin, phone=phone) is None
    inbox = await client.get(
        "/api/v1/customers/actions", headers=admin, params={"type": "follow_up"}
    )
    assert inbox.status_code == 200, inbox.text
    [action] = inbox.json()["data"]["actions"]
    assert "assignedTo" not in action
    assert "تعيين" in action["title"]


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"name", "strategy", "employeeIds"}),
        ({"name": "  ", "strategy": "fastest", "employeeIds": []}, {"strategy", "employeeIds"}),
        ({"priority": -1, "active": "yes"}, {"priority", "active"}),
        ({"match": {"sources": ["fax"], "cities": "الرياض"}}, {"match.sources[0]", "match.cities"}),
        ({"match": {"colors": ["red"]}}, {"match.colors"}),
        ({"employeeIds": ["x" * 51]}, {"employeeIds[0]"}),
        ({"unknown": 1}, {"unknown"}),
    ],
)
async def test_bad_input_names_each_failing_field_and_stores_nothing(
    client: Client,
    token_for: TokenFor,
    staff: Staff,
    payload: dict[str, Any],
    fields: set[str],
) -> None:
    admin = token_for("admin")
    base = body(staff) if not fields & {"name", "strategy", "employeeIds"} else {}
    response = await client.post(RULES, headers=admin, json={**base, **payload})
    assert fields <= failing_fields(response)
    listed = (await client.get(RULES, headers=admin)).json()["data"]
    assert listed["rules"] == []


async def test_a_blank_name_is_refused(client: Client, token_for: TokenFor, staff: Staff) -> None:
    response = await client.post(RULES, headers=token_for("admin"), json=body(staff, name=" "))
    assert "name" in failing_fields(response)


async def test_employees_must_be_of_the_organization(
    client: Client, token_for: TokenFor, staff: Staff
) -> None:
    admin = token_for("admin")
    for ids in (["emp_nobody"], [staff.id("agent"), staff.id("other_admin") + "_x"]):
        response = await client.post(RULES, headers=admin, json={**body(staff), "employeeIds": ids})
        assert rejected_fields(response) == {"employeeIds"}
    # Another organization's employee reads exactly like an unknown id.
    other = token_for("other_admin")
    response = await client.post(RULES, headers=other, json=body(staff, "agent"))
    assert rejected_fields(response) == {"employeeIds"}
    made = await create(client, admin, body(staff))
    patched = await client.patch(
        f"{RULES}/{made['id']}", headers=admin, json={"employeeIds": ["emp_nobody"]}
    )
    assert rejected_fields(patched) == {"employeeIds"}


async def test_another_organizations_rules_are_invisible(
    client: Client, token_for: TokenFor, staff: Staff
) -> None:
    made = await create(client, token_for("admin"), body(staff))
    other = token_for("other_admin")
    url = f"{RULES}/{made['id']}"
    error_of(await client.get(url, headers=other), 404, "RESOURCE_NOT_FOUND")
    error_of(await client.patch(url, headers=other, json={"name": "x"}), 404, "RESOURCE_NOT_FOUND")
    error_of(await client.delete(url, headers=other), 404, "RESOURCE_NOT_FOUND")
    assert (await client.get(RULES, headers=other)).json()["data"]["rules"] == []
    still = (await client.get(url, headers=token_for("admin"))).json()["data"]["rule"]
    assert still["name"] == made["name"]


@pytest.mark.parametrize("who", ["agent", "viewer"])
async def test_agents_and_viewers_get_403(
    client: Client, token_for: TokenFor, staff: Staff, who: str
) -> None:
    made = await create(client, token_for("admin"), body(staff))
    headers = token_for(who)
    url = f"{RULES}/{made['id']}"
    for response in (
        await client.get(RULES, headers=headers),
        await client.post(RULES, headers=headers, json=body(staff)),
        await client.get(url, headers=headers),
        await client.patch(url, headers=headers, json={"name": "x"}),
        await client.delete(url, headers=headers),
    ):
        error_of(response, 403, "PERMISSION_DENIED")


async def test_a_manager_manages_only_the_teams_rules(
    client: Client, token_for: TokenFor, staff: Staff
) -> None:
    manager = token_for("manager")
    mine = await create(client, manager, body(staff, "manager", "agent"))
    outside = await create(client, token_for("admin"), body(staff, "agent", "outsider"))
    error_of(
        await client.post(RULES, headers=manager, json=body(staff, "outsider")),
        403,
        "PERMISSION_DENIED",
    )
    listed = (await client.get(RULES, headers=manager)).json()["data"]["rules"]
    assert [r["id"] for r in listed] == [mine["id"]]
    url = f"{RULES}/{outside['id']}"
    error_of(await client.get(url, headers=manager), 403, "PERMISSION_DENIED")
    error_of(await client.delete(url, headers=manager), 403, "PERMISSION_DENIED")
    moved = await client.patch(
        f"{RULES}/{mine['id']}", headers=manager, json={"employeeIds": [staff.id("outsider")]}
    )
    error_of(moved, 403, "PERMISSION_DENIED")
    renamed = await client.patch(f"{RULES}/{mine['id']}", headers=manager, json={"name": "فريقي"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["data"]["rule"]["name"] == "فريقي"


async def test_the_openapi_document_declares_the_rules(client: Client) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    assert {"post", "get"} <= set(document["paths"][RULES])
    assert {"get", "patch", "delete"} <= set(document["paths"][RULES + "/{rule_id}"])

"""The sales team through HTTP (endpoint 29, ``POST``/``PATCH /employees``): the document's
shape, admin-only management, other organizations hidden (404), bad input named (400; 422 for
the rules that read stored employees) and nothing changed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conftest import document_validator
from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.application.use_cases.actions import CreateAction, create_action
from customers_hub.domain.enums import ActionType, Role
from customers_hub.domain.model import Employee
from customers_hub.entrypoints.bootstrap import Hub

if TYPE_CHECKING:
    from conftest import NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
EMPLOYEES = "/api/v1/employees"


def fields_of(response: Any, status: int = 400) -> list[str]:
    """The ``field`` of each error detail of a 400 (or ``status``)."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    return [d["field"] for d in error["details"]]


def refused_fields(response: Any) -> list[str]:
    """The fields of a 422: a rule that depends on what is stored (the manager, the team)."""
    return fields_of(response, 422)


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The error object, after checking the status, the code and the envelope."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    error: dict[str, Any] = body["error"]
    return error


async def team(hub: Hub, staff: Staff, org: str | None = None) -> dict[str, Employee]:
    """Every employee of the organization (default: the staff's), by id, as stored now."""
    employees = await hub.deps.employee_queries.list(org or staff.org, role=None, is_active=None)
    return {e.id: e for e in employees}


NEW_EMPLOYEE: dict[str, Any] = {
    "id": "idp_user_4821",
    "name": "ريم الدوسري",
    "nameEn": "Reem Al-Dosari",
    "email": "reem@taearif.com",
    "phone": "0501234567",
    "role": "sales_agent",
    "title": "Senior Sales Agent",
    "managerId": "emp_manager",
    "falLicence": {"number": "1100012345", "expiresOn": "2030-06-30"},
}


# --- 29. list -------------------------------------------------------------------------------------


async def test_list_answers_the_documented_shape_with_stats(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer(assigned="agent")
    await new_customer(assigned="agent")
    await create_action(
        hub.deps,
        staff.admin,
        CreateAction(customer_id=customer.id, type=ActionType.FOLLOW_UP, title="متابعة"),
    )
    response = await client.get(EMPLOYEES, headers=token_for("viewer"))
    assert response.status_code == 200, response.text
    employees = {e["id"]: e for e in response.json()["data"]["employees"]}
    assert set(employees) == {e.id for k, e in staff.employees.items() if k != "other_admin"}
    agent = employees[staff.id("agent")]
    assert agent == {
        "id": staff.id("agent"),
        "name": "أحمد السعيد",
        "email": staff.employees["agent"].email,
        "role": "Sales Agent",
        "accessRole": "sales_agent",
        "managerId": staff.id("manager"),
        "isActive": True,
    }

    with_stats = await client.get(
        EMPLOYEES, headers=token_for("manager"), params={"includeStats": "true"}
    )
    assert with_stats.status_code == 200, with_stats.text
    stats = {e["id"]: e["stats"] for e in with_stats.json()["data"]["employees"]}
    assert stats[staff.id("agent")]["assignedCustomers"] == 2
    assert stats[staff.id("agent")]["pendingActions"] == 1
    assert stats[staff.id("agent")]["completedThisMonth"] == 0
    assert set(stats[staff.id("agent2")]) == {
        "assignedCustomers",
        "pendingActions",
        "completedThisMonth",
        "avgResponseTime",
    }
    assert stats[staff.id("agent2")]["assignedCustomers"] == 0


async def test_list_filters_by_role_and_activity(
    client: Client, token_for: TokenFor, hub: Hub, staff: Staff
) -> None:
    headers = token_for("agent")
    agents = await client.get(EMPLOYEES, headers=headers, params={"role": "sales_agent"})
    assert {e["id"] for e in agents.json()["data"]["employees"]} == {
        staff.id("agent"),
        staff.id("agent2"),
        staff.id("outsider"),
    }
    deactivated = await client.patch(
        f"{EMPLOYEES}/{staff.id('outsider')}", headers=token_for("admin"), json={"isActive": False}
    )
    assert deactivated.status_code == 200, deactivated.text
    active = await client.get(
        EMPLOYEES, headers=headers, params={"role": "sales_agent", "isActive": "true"}
    )
    assert {e["id"] for e in active.json()["data"]["employees"]} == {
        staff.id("agent"),
        staff.id("agent2"),
    }
    inactive = await client.get(EMPLOYEES, headers=headers, params={"isActive": "false"})
    assert [e["id"] for e in inactive.json()["data"]["employees"]] == [staff.id("outsider")]
    # Another organization's admin sees only their own team.
    foreign = await client.get(EMPLOYEES, headers=token_for("other_admin"))
    assert [e["id"] for e in foreign.json()["data"]["employees"]] == ["emp_other_admin"]


async def test_list_names_bad_parameters(client: Client, token_for: TokenFor) -> None:
    headers = token_for("admin")
    for params, expected in (
        ({"role": "boss"}, ["role"]),
        ({"isActive": "maybe"}, ["isActive"]),
        ({"includeStats": "please"}, ["includeStats"]),
    ):
        response = await client.get(EMPLOYEES, headers=headers, params=params)
        assert fields_of(response) == expected, params
    # Listing employees needs membership only (rules §4), not a permission claim.
    members = await client.get(EMPLOYEES, headers=token_for("agent", permissions=[]))
    assert members.status_code == 200, members.text
    assert_error(await client.get(EMPLOYEES), 401, "AUTHENTICATION_FAILED")


# --- POST /employees ------------------------------------------------------------------------------


async def test_create_answers_201_with_the_employee(
    client: Client, token_for: TokenFor, hub: Hub, staff: Staff
) -> None:
    response = await client.post(EMPLOYEES, headers=token_for("admin"), json=NEW_EMPLOYEE)
    assert response.status_code == 201, response.text
    assert response.json()["message"] == "Employee created successfully"
    employee = response.json()["data"]["employee"]
    assert employee == {
        "id": "idp_user_4821",
        "name": "ريم الدوسري",
        "nameEn": "Reem Al-Dosari",
        "email": "reem@taearif.com",
        "phone": "+966501234567",
        "role": "Senior Sales Agent",
        "accessRole": "sales_agent",
        "title": "Senior Sales Agent",
        "managerId": "emp_manager",
        "isActive": True,
        "falLicence": {"number": "1100012345", "expiresOn": "2030-06-30"},
    }
    assert (await team(hub, staff))["idp_user_4821"].role is Role.SALES_AGENT
    generated = await client.post(
        EMPLOYEES, headers=token_for("admin"), json={"name": "ماجد", "role": "viewer"}
    )
    assert generated.status_code == 201, generated.text
    assert generated.json()["data"]["employee"]["id"].startswith("emp_")

    duplicate = await client.post(EMPLOYEES, headers=token_for("admin"), json=NEW_EMPLOYEE)
    assert assert_error(duplicate, 409, "DUPLICATE_RESOURCE")["details"][0]["field"] == "id"
    # Ids are per organization: another organization may use the same one.
    elsewhere = await client.post(EMPLOYEES, headers=token_for("other_admin"), json=NEW_EMPLOYEE)
    assert refused_fields(elsewhere) == ["managerId"]  # not an employee over there
    same_id = await client.post(
        EMPLOYEES, headers=token_for("other_admin"), json={**NEW_EMPLOYEE, "managerId": None}
    )
    assert same_id.status_code == 201, same_id.text


async def test_create_is_for_admins_and_names_bad_fields(
    client: Client, token_for: TokenFor, hub: Hub, staff: Staff
) -> None:
    before = await team(hub, staff)
    for who in ("manager", "agent", "viewer"):
        refused = await client.post(EMPLOYEES, headers=token_for(who), json=NEW_EMPLOYEE)
        assert_error(refused, 403, "PERMISSION_DENIED")
    headers = token_for("admin")
    malformed = await client.post(
        EMPLOYEES, headers={**headers, "Content-Type": "application/json"}, content=b'{"name": '
    )
    assert fields_of(malformed) == ["body"]
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({**NEW_EMPLOYEE, "role": "boss"}, ["role"]),
        ({k: v for k, v in NEW_EMPLOYEE.items() if k != "role"}, ["role"]),
        ({k: v for k, v in NEW_EMPLOYEE.items() if k != "name"}, ["name"]),
        ({**NEW_EMPLOYEE, "name": "  "}, ["name"]),
        ({**NEW_EMPLOYEE, "email": "not-an-email"}, ["email"]),
        ({**NEW_EMPLOYEE, "phone": "12345"}, ["phone"]),
        ({**NEW_EMPLOYEE, "id": "has space"}, ["id"]),
        ({**NEW_EMPLOYEE, "isActive": "yes"}, ["isActive"]),
        (
            {**NEW_EMPLOYEE, "falLicence": {"number": "1", "expiresOn": "soon"}},
            ["falLicence.expiresOn"],
        ),
        ({**NEW_EMPLOYEE, "email": "x", "phone": "1"}, ["email", "phone"]),
        # A malformed field is named first, before any rule that reads what is stored.
        ({**NEW_EMPLOYEE, "email": "x", "managerId": "emp_nobody"}, ["email"]),
    ]
    for body, expected in cases:
        response = await client.post(EMPLOYEES, headers=headers, json=body)
        assert sorted(fields_of(response)) == sorted(expected), (body, response.text)
    stored_rules: list[dict[str, Any]] = [
        {**NEW_EMPLOYEE, "managerId": staff.id("agent")},
        {**NEW_EMPLOYEE, "managerId": "emp_nobody"},
        {**NEW_EMPLOYEE, "managerId": NEW_EMPLOYEE["id"]},
    ]
    for body in stored_rules:
        response = await client.post(EMPLOYEES, headers=headers, json=body)
        assert refused_fields(response) == ["managerId"], (body, response.text)
    assert await team(hub, staff) == before


# --- PATCH /employees/{id} ------------------------------------------------------------------------


async def test_update_changes_the_sent_fields(
    client: Client, token_for: TokenFor, hub: Hub, staff: Staff
) -> None:
    url = f"{EMPLOYEES}/{staff.id('agent2')}"
    response = await client.patch(
        url,
        headers=token_for("admin"),
        json={
            "title": "Team Lead",
            "phone": "+966 55 123 4567",
            "email": None,
            "id": "emp_renamed",
            "stats": {"assignedCustomers": 99},
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["message"] == "Employee updated successfully"
    employee = response.json()["data"]["employee"]
    assert employee["id"] == staff.id("agent2")
    assert employee["role"] == "Team Lead"
    assert employee["accessRole"] == "sales_agent"
    assert employee["phone"] == "+966551234567"
    assert "email" not in employee
    assert "stats" not in employee
    stored = (await team(hub, staff))[staff.id("agent2")]
    assert stored.title == "Team Lead"
    assert stored.email is None
    assert stored.name == staff.employees["agent2"].name

    promoted = await client.patch(url, headers=token_for("admin"), json={"role": "sales_manager"})
    assert promoted.json()["data"]["employee"]["accessRole"] == "sales_manager"


async def test_update_refusals_change_nothing(
    client: Client, token_for: TokenFor, hub: Hub, staff: Staff
) -> None:
    before = await team(hub, staff)
    url = f"{EMPLOYEES}/{staff.id('agent')}"
    assert_error(
        await client.patch(url, headers=token_for("other_admin"), json={"title": "x"}),
        404,
        "RESOURCE_NOT_FOUND",
    )
    assert_error(
        await client.patch(f"{EMPLOYEES}/emp_nobody", headers=token_for("admin"), json={}),
        404,
        "RESOURCE_NOT_FOUND",
    )
    for who in ("manager", "agent", "viewer"):
        refused = await client.patch(url, headers=token_for(who), json={"title": "x"})
        assert_error(refused, 403, "PERMISSION_DENIED")
    headers = token_for("admin")
    cases: list[tuple[Any, list[str]]] = [
        ({"role": "boss"}, ["role"]),
        ({"role": None}, ["role"]),
        ({"name": ""}, ["name"]),
        ({"email": "nope"}, ["email"]),
        ({"isActive": None}, ["isActive"]),
        (["title"], ["body"]),
    ]
    for body, expected in cases:
        response = await client.patch(url, headers=headers, json=body)
        assert fields_of(response) == expected, (body, response.text)
    for manager in (staff.id("agent"), staff.id("agent2")):  # not a manager; themselves
        response = await client.patch(url, headers=headers, json={"managerId": manager})
        assert refused_fields(response) == ["managerId"], (manager, response.text)
    # A manager who still manages agents cannot become an agent.
    demoted = await client.patch(
        f"{EMPLOYEES}/{staff.id('manager')}", headers=headers, json={"role": "sales_agent"}
    )
    assert refused_fields(demoted) == ["role"]
    # Nobody manages their own manager.
    cycle = await client.patch(
        f"{EMPLOYEES}/{staff.id('manager')}",
        headers=headers,
        json={"managerId": staff.id("manager")},
    )
    assert refused_fields(cycle) == ["managerId"]
    assert await team(hub, staff) == before


async def test_a_deactivated_employee_can_no_longer_be_assigned(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, staff: Staff
) -> None:
    customer = await new_customer()
    deactivated = await client.patch(
        f"{EMPLOYEES}/{staff.id('agent2')}", headers=token_for("admin"), json={"isActive": False}
    )
    assert deactivated.status_code == 200, deactivated.text
    assert deactivated.json()["data"]["employee"]["isActive"] is False
    refused = await client.post(
        "/api/v1/customers/actions",
        headers=token_for("admin"),
        json={
            "customerId": customer.id,
            "type": "follow_up",
            "title": "متابعة",
            "assignedTo": staff.id("agent2"),
        },
    )
    assert assert_error(refused, 422, "VALIDATION_ERROR")["details"][0]["field"] == "assignedTo"


async def stored_employee(hub: Hub, org: str, employee_id: str) -> Employee | None:
    async with hub.deps.uow(read_only=True) as uow:
        return await uow.employees.get(org, employee_id)


async def test_the_document_and_the_service_refuse_a_control_character_in_manager_id(
    client: Client, token_for: TokenFor, staff: Staff, hub: Hub
) -> None:
    # Found by the API fuzz run: the document stated no rule for managerId, so a C1 control
    # character (U+0090) was schema-valid while the service refuses it (400 naming managerId).
    validator = await document_validator(client, "EmployeePatchIn")
    agent = staff.id("agent")
    url = f"{EMPLOYEES}/{agent}"
    before = await stored_employee(hub, staff.org, agent)
    for manager_id in ("\u0090x", "a\nb", "m" * 51):
        assert not validator.is_valid({"managerId": manager_id}), manager_id
        response = await client.patch(
            url, headers=token_for("admin"), json={"managerId": manager_id}
        )
        assert fields_of(response) == ["managerId"]
    assert await stored_employee(hub, staff.org, agent) == before
    assert validator.is_valid({"managerId": staff.id("manager")})
    assert validator.is_valid({"managerId": None})

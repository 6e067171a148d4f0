"""Customer endpoints through HTTP: each answers in the document's shape, refuses what the rules
refuse, hides other organizations (404), keeps callers in their scope (403) and names every bad
field (400) without changing anything."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest
from conftest import document_validator
from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.application.use_cases.customers import get_customer
from customers_hub.domain.enums import CustomerSource, Permission, Priority, Stage
from customers_hub.domain.model import Customer
from customers_hub.entrypoints.bootstrap import Hub

if TYPE_CHECKING:
    from conftest import NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
CUSTOMERS = "/api/v1/customers"


def fields_of(response: Any) -> list[str]:
    """The ``field`` of each error detail of a 400."""
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    return [d["field"] for d in error["details"]]


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The error object, after checking the status, the code and the envelope."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert body["meta"]["requestId"]
    error: dict[str, Any] = body["error"]
    return error


async def stored(hub: Hub, staff: Staff, customer_id: str) -> Customer:
    """The customer as stored now (read through the use case as the admin)."""
    details = await get_customer(hub.deps, staff.admin, customer_id, include_deleted=True)
    return details.customer


async def total(client: Client, headers: dict[str, str], **params: Any) -> int:
    """How many customers the caller's list holds."""
    response = await client.get(CUSTOMERS, headers=headers, params=params)
    assert response.status_code == 200, response.text
    count: int = response.json()["data"]["pagination"]["totalItems"]
    return count


NEW_CUSTOMER: dict[str, Any] = {
    "name": "عبدالله الشمري",
    "nameEn": "Abdullah Al-Shammari",
    "phone": "0551234567",
    "whatsapp": "+966551234567",
    "email": "abdullah@email.com",
    "nationality": "Saudi",
    "gender": "male",
    "source": "whatsapp",
    "sourceDetails": {"campaign": "ramadan_2024", "utmSource": "instagram"},
    "preferences": {
        "propertyType": ["apartment"],
        "budgetMin": 800000,
        "budgetMax": 1200000.5,
        "preferredAreas": ["جدة - حي الزهراء"],
        "bedrooms": 3,
        "bathrooms": 2,
        "purpose": "buy",
        "timeline": "immediate",
    },
    "priority": "high",
    "tags": ["hot_lead"],
    "city": "جدة",
}


# --- 3. create ------------------------------------------------------------------------------------


async def test_create_answers_201_with_the_customer(
    client: Client, token_for: TokenFor, staff: Staff, hub: Hub
) -> None:
    body = {**NEW_CUSTOMER, "assignedEmployeeId": staff.id("agent2")}
    response = await client.post(CUSTOMERS, json=body, headers=token_for("manager"))
    assert response.status_code == 201, response.text
    envelope = response.json()
    assert envelope["success"] is True
    assert envelope["message"] == "Customer created successfully"
    customer = envelope["data"]["customer"]
    assert customer["id"].startswith("cust_")
    assert customer["stage"] == "new_lead"
    assert customer["phone"] == "+966551234567"
    assert customer["preferences"]["budgetMin"] == 800000
    assert customer["preferences"]["budgetMax"] == 1200000.5
    assert 0 <= customer["leadScore"] <= 100
    assert customer["assignedEmployee"]["id"] == staff.id("agent2")
    assert customer["createdAt"].endswith("Z")
    assert customer["stageHistory"][0]["fromStage"] is None
    assert response.headers["etag"] == '"v1"'
    assert (await stored(hub, staff, customer["id"])).name == "عبدالله الشمري"


async def test_create_ignores_read_only_fields(
    client: Client, token_for: TokenFor, hub: Hub, staff: Staff
) -> None:
    body = {
        **NEW_CUSTOMER,
        "id": "cust_chosen",
        "stage": "closing",
        "leadScore": 99,
        "organizationId": staff.other_org,
        "createdAt": "2020-01-01T00:00:00Z",
        "totalInteractions": 40,
        "version": 7,
    }
    response = await client.post(CUSTOMERS, json=body, headers=token_for("admin"))
    assert response.status_code == 201, response.text
    customer = response.json()["data"]["customer"]
    assert customer["id"] != "cust_chosen"
    assert customer["stage"] == "new_lead"
    assert customer["organizationId"] == staff.org
    assert customer["totalInteractions"] == 0
    assert customer["version"] == 1
    saved = await stored(hub, staff, customer["id"])
    assert saved.stage is Stage.NEW_LEAD
    assert saved.organization_id == staff.org


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"phone": "12345"}, ["phone"]),
        ({"name": None, "phone": None}, ["name", "phone"]),
        ({"name": "   "}, ["name"]),
        ({"source": "fax"}, ["source"]),
        ({"priority": 3}, ["priority"]),
        ({"email": "not-an-email"}, ["email"]),
        ({"nationalId": "1234567890"}, ["nationalId"]),
        ({"dateOfBirth": "1990-02-30"}, ["dateOfBirth"]),
        ({"preferences": {"budgetMin": "abc"}}, ["preferences.budgetMin"]),
        ({"preferences": {"budgetMin": -5}}, ["preferences.budgetMin"]),
        ({"preferences": {"budgetMin": 900, "budgetMax": 100}}, ["preferences.budgetMax"]),
        ({"preferences": {"propertyType": ["castle"]}}, ["preferences.propertyType[0]"]),
        ({"tags": "vip"}, ["tags"]),
    ],
)
async def test_create_refuses_bad_input_naming_the_field(
    client: Client, token_for: TokenFor, changes: dict[str, Any], expected: list[str]
) -> None:
    body = {k: v for k, v in {**NEW_CUSTOMER, **changes}.items() if v is not None}
    response = await client.post(CUSTOMERS, json=body, headers=token_for("admin"))
    assert fields_of(response) == expected
    assert await total(client, token_for("admin")) == 0


async def test_create_refuses_a_duplicate_phone(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    existing = await new_customer()
    body = {**NEW_CUSTOMER, "phone": "0" + existing.phone.removeprefix("+966")}
    error = assert_error(
        await client.post(CUSTOMERS, json=body, headers=token_for("admin")),
        409,
        "DUPLICATE_RESOURCE",
    )
    assert error["details"][0]["field"] == "phone"
    assert await total(client, token_for("admin")) == 1


async def test_create_access(client: Client, token_for: TokenFor, staff: Staff) -> None:
    viewer = await client.post(CUSTOMERS, json=NEW_CUSTOMER, headers=token_for("viewer"))
    error = assert_error(viewer, 403, "PERMISSION_DENIED")
    assert error["details"]["currentRole"] == "viewer"
    # An agent creates only for themselves.
    other = {**NEW_CUSTOMER, "assignedEmployeeId": staff.id("agent2")}
    assert_error(
        await client.post(CUSTOMERS, json=other, headers=token_for("agent")),
        403,
        "PERMISSION_DENIED",
    )
    # Another organization's employee is no assignee here.
    foreign = {**NEW_CUSTOMER, "assignedEmployeeId": staff.id("other_admin")}
    error = assert_error(
        await client.post(CUSTOMERS, json=foreign, headers=token_for("admin")),
        422,
        "VALIDATION_ERROR",
    )
    assert error["details"][0]["field"] == "assignedEmployeeId"
    assert await total(client, token_for("admin")) == 0
    own = await client.post(CUSTOMERS, json=NEW_CUSTOMER, headers=token_for("agent"))
    assert own.status_code == 201
    assert own.json()["data"]["customer"]["assignedEmployeeId"] == staff.id("agent")


# --- 1. list --------------------------------------------------------------------------------------


async def test_list_answers_the_documented_shape(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, staff: Staff
) -> None:
    first = await new_customer(assigned="agent", priority=Priority.HIGH, tags=("vip",))
    await new_customer(assigned="agent2", city="جدة")
    await new_customer(assigned="outsider")
    response = await client.get(CUSTOMERS, headers=token_for("admin"), params={"limit": 2})
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["pagination"] == {
        "currentPage": 1,
        "pageSize": 2,
        "totalPages": 2,
        "totalItems": 3,
        "hasNextPage": True,
        "hasPreviousPage": False,
    }
    assert len(data["customers"]) == 2
    filtered = await client.get(
        CUSTOMERS,
        headers=token_for("admin"),
        params={"priority": ["high", "urgent"], "tags": "vip", "sortBy": "leadScore"},
    )
    customers = filtered.json()["data"]["customers"]
    assert [c["id"] for c in customers] == [first.id]
    assert customers[0]["assignedEmployee"]["name"] == staff.employees["agent"].name


async def test_list_is_scoped_to_the_caller(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    await new_customer(assigned="agent")
    await new_customer(assigned="agent2")
    await new_customer(assigned="outsider")
    assert await total(client, token_for("agent")) == 1
    assert await total(client, token_for("manager")) == 2
    assert await total(client, token_for("admin")) == 3
    assert await total(client, token_for("viewer")) == 0
    assert await total(client, token_for("other_admin")) == 0
    error = assert_error(
        await client.get(CUSTOMERS, headers=token_for("agent", permissions=[])),
        403,
        "PERMISSION_DENIED",
    )
    assert error["details"]["requiredPermission"] == "customers.read"


async def test_list_selects_fields_and_pages_by_cursor(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    made = [await new_customer() for _ in range(3)]
    slim = await client.get(
        CUSTOMERS,
        headers=token_for("admin"),
        params={"fields": "name,leadScore", "include": "properties"},
    )
    for customer in slim.json()["data"]["customers"]:
        assert set(customer) == {"id", "name", "leadScore"}
    seen: list[str] = []
    cursor = ""
    for _ in range(3):
        page = await client.get(
            CUSTOMERS, headers=token_for("admin"), params={"cursor": cursor, "limit": 2}
        )
        data = page.json()["data"]
        assert set(data["pagination"]) == {
            "nextCursor",
            "prevCursor",
            "hasNext",
            "hasPrevious",
            "limit",
        }
        seen += [c["id"] for c in data["customers"]]
        if not data["pagination"]["hasNext"]:
            break
        cursor = data["pagination"]["nextCursor"]
    assert sorted(seen) == sorted(c.id for c in made)


async def test_list_takes_the_filters_json_parameter(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    riyadh = await new_customer(city="الرياض")
    await new_customer(city="جدة")
    response = await client.get(
        CUSTOMERS,
        headers=token_for("admin"),
        params={"filters": json.dumps({"city": {"in": ["الرياض"]}})},
    )
    assert [c["id"] for c in response.json()["data"]["customers"]] == [riyadh.id]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"limit": 101}, ["limit"]),
        ({"limit": "many"}, ["limit"]),
        ({"page": 0}, ["page"]),
        ({"stage": ["qualified", "bogus"]}, ["stage"]),
        ({"leadScoreMin": "x"}, ["leadScoreMin"]),
        ({"leadScoreMin": 80, "leadScoreMax": 20}, ["leadScoreMax"]),
        ({"budgetMin": "lots"}, ["budgetMin"]),
        ({"createdFrom": "2024-13-01"}, ["createdFrom"]),
        ({"lastContactTo": "yesterday"}, ["lastContactTo"]),
        ({"sortBy": "phone"}, ["sortBy"]),
        ({"sortOrder": "sideways"}, ["sortOrder"]),
        ({"filters": "{not json"}, ["filters"]),
        ({"fields": "name,password"}, ["fields"]),
        ({"include": "interactions"}, ["include"]),
        ({"cursor": "garbage!!"}, ["cursor"]),
    ],
)
async def test_list_refuses_bad_parameters_naming_them(
    client: Client, token_for: TokenFor, params: dict[str, Any], expected: list[str]
) -> None:
    response = await client.get(CUSTOMERS, headers=token_for("admin"), params=params)
    assert fields_of(response) == expected


async def test_only_an_admin_lists_the_deleted(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    gone = await new_customer()
    await client.delete(f"{CUSTOMERS}/{gone.id}", headers=token_for("admin"))
    trash = await client.get(CUSTOMERS, headers=token_for("admin"), params={"deleted": "true"})
    assert [c["id"] for c in trash.json()["data"]["customers"]] == [gone.id]
    assert trash.json()["data"]["customers"][0]["deletedAt"].endswith("Z")
    assert_error(
        await client.get(CUSTOMERS, headers=token_for("manager"), params={"deleted": "true"}),
        403,
        "PERMISSION_DENIED",
    )


# --- 2. get ---------------------------------------------------------------------------------------


async def test_get_answers_the_customer_with_its_includes(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer()
    response = await client.get(
        f"{CUSTOMERS}/{customer.id}",
        headers=token_for("agent"),
        params={"include": ["interactions", "appointments", "properties"]},
    )
    assert response.status_code == 200
    assert response.headers["etag"] == f'"v{customer.version}"'
    data = response.json()["data"]["customer"]
    assert data["id"] == customer.id
    assert data["interactions"] == []
    assert data["appointments"] == []
    assert data["properties"] == []
    assert "documents" not in data
    plain = await client.get(f"{CUSTOMERS}/{customer.id}", headers=token_for("agent"))
    assert "interactions" not in plain.json()["data"]["customer"]


async def test_get_access_and_bad_input(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer(assigned="agent")
    url = f"{CUSTOMERS}/{customer.id}"
    error = assert_error(
        await client.get(url, headers=token_for("other_admin")), 404, "RESOURCE_NOT_FOUND"
    )
    assert error["details"] == {"resourceType": "customer", "resourceId": customer.id}
    assert_error(await client.get(url, headers=token_for("outsider")), 403, "PERMISSION_DENIED")
    assert_error(await client.get(url, headers=token_for("viewer")), 403, "PERMISSION_DENIED")
    assert (await client.get(url, headers=token_for("manager"))).status_code == 200
    assert_error(
        await client.get(f"{CUSTOMERS}/cust_missing", headers=token_for("admin")),
        404,
        "RESOURCE_NOT_FOUND",
    )
    assert fields_of(
        await client.get(url, headers=token_for("admin"), params={"include": "secrets"})
    ) == ["include"]


async def test_static_segments_do_not_collide_with_an_id(
    client: Client, token_for: TokenFor
) -> None:
    for segment, key in (("stats", "stats"), ("filters", "filters"), ("actions", "actions")):
        response = await client.get(f"{CUSTOMERS}/{segment}", headers=token_for("admin"))
        assert response.status_code == 200, (segment, response.text)
        assert key in response.json()["data"], segment
    for segment in ("search", "query"):
        response = await client.get(f"{CUSTOMERS}/{segment}", headers=token_for("admin"))
        # POST-only routes: a GET is the wrong method, never "customer search not found".
        assert response.status_code == 405, (segment, response.text)


# --- 4. update ------------------------------------------------------------------------------------


async def test_update_changes_the_sent_fields(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer(email="old@mail.sa", nationality="Saudi")
    response = await client.put(
        f"{CUSTOMERS}/{customer.id}",
        headers={**token_for("agent"), "If-Match": f'"v{customer.version}"'},
        json={
            "preferences": {"budgetMin": 900000, "budgetMax": 1300000, "bedrooms": 4},
            "priority": "urgent",
            "tags": ["vip", "hot_lead", "ready_to_buy"],
            "notes": "العميل جاهز للشراء خلال أسبوعين",
            "email": None,
            "id": "cust_other",
            "stage": "closing",
            "leadScore": 100,
            "updatedAt": "2020-01-01T00:00:00Z",
        },
    )
    assert response.status_code == 200, response.text
    envelope = response.json()
    assert envelope["message"] == "Customer updated successfully"
    data = envelope["data"]["customer"]
    assert data["id"] == customer.id
    assert data["priority"] == "urgent"
    assert "email" not in data
    assert data["nationality"] == "Saudi"
    assert response.headers["etag"] == f'"v{customer.version + 1}"'
    saved = await stored(hub, staff, customer.id)
    assert saved.stage is Stage.NEW_LEAD
    assert saved.email is None
    assert saved.preferences.bedrooms == 4
    assert saved.tags == ("vip", "hot_lead", "ready_to_buy")


async def test_update_refuses_a_stale_version_and_bad_input_changing_nothing(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer(priority=Priority.LOW)
    url = f"{CUSTOMERS}/{customer.id}"
    stale = await client.put(
        url, headers={**token_for("admin"), "If-Match": '"v99"'}, json={"priority": "high"}
    )
    error = assert_error(stale, 412, "PRECONDITION_FAILED")
    assert error["details"]["currentVersion"] == customer.version
    assert fields_of(
        await client.put(
            url, headers={**token_for("admin"), "If-Match": "yesterday"}, json={"priority": "high"}
        )
    ) == ["If-Match"]
    bad = await client.put(
        url,
        headers=token_for("admin"),
        json={"priority": "high", "email": "nope", "phone": "99", "preferences": {"bedrooms": "x"}},
    )
    # Type errors and rule errors in one 400 (strict decoding, see docs/http.md).
    assert sorted(fields_of(bad)) == ["email", "phone", "preferences.bedrooms"]
    bad_rules = await client.put(
        url, headers=token_for("admin"), json={"priority": "high", "email": "nope", "phone": "99"}
    )
    assert sorted(fields_of(bad_rules)) == ["email", "phone"]
    cleared = await client.put(url, headers=token_for("admin"), json={"name": None})
    assert fields_of(cleared) == ["name"]
    reassign = await client.put(
        url, headers=token_for("admin"), json={"assignedEmployeeId": staff.id("agent2")}
    )
    assert fields_of(reassign) == ["assignedEmployeeId"]
    saved = await stored(hub, staff, customer.id)
    assert saved.priority is Priority.LOW
    assert saved.version == customer.version
    assert saved.assigned_employee_id == staff.id("agent")


async def test_update_access_and_conflicts(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer(assigned="agent")
    other = await new_customer(assigned="agent")
    url = f"{CUSTOMERS}/{customer.id}"
    body = {"priority": "urgent"}
    assert_error(
        await client.put(url, headers=token_for("other_admin"), json=body),
        404,
        "RESOURCE_NOT_FOUND",
    )
    assert_error(
        await client.put(url, headers=token_for("outsider"), json=body), 403, "PERMISSION_DENIED"
    )
    assert_error(
        await client.put(url, headers=token_for("viewer"), json=body), 403, "PERMISSION_DENIED"
    )
    duplicate = await client.put(url, headers=token_for("admin"), json={"phone": other.phone})
    assert assert_error(duplicate, 409, "DUPLICATE_RESOURCE")["details"][0]["field"] == "phone"
    assert (await stored(hub, staff, customer.id)).version == customer.version


# --- 5. stage -------------------------------------------------------------------------------------


async def test_stage_change_answers_the_moved_customer(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer()
    response = await client.patch(
        f"{CUSTOMERS}/{customer.id}/stage",
        headers=token_for("agent"),
        json={"toStage": "qualified", "notes": "تم التأكد من الميزانية", "reason": "budget_ok"},
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]["customer"]
    assert data["stage"] == "qualified"
    # As the API document shows: only the entry just appended (GET has the whole history).
    [last] = data["stageHistory"]
    assert last["fromStage"] == "new_lead"
    assert last["toStage"] == "qualified"
    assert last["changedById"] == "emp_agent1"
    assert last["reason"] == "budget_ok"
    assert last["autoGenerated"] is False


async def test_stage_change_refusals_change_nothing(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}/stage"
    skip = await client.patch(url, headers=token_for("admin"), json={"toStage": "negotiation"})
    error = assert_error(skip, 422, "INVALID_STAGE_TRANSITION")
    assert error["details"]
    assert fields_of(
        await client.patch(url, headers=token_for("admin"), json={"toStage": "sold"})
    ) == ["toStage"]
    assert fields_of(await client.patch(url, headers=token_for("admin"), json={})) == ["toStage"]
    assert_error(
        await client.patch(url, headers=token_for("other_admin"), json={"toStage": "qualified"}),
        404,
        "RESOURCE_NOT_FOUND",
    )
    assert_error(
        await client.patch(url, headers=token_for("outsider"), json={"toStage": "qualified"}),
        403,
        "PERMISSION_DENIED",
    )
    stale = await client.patch(
        url,
        headers={**token_for("admin"), "If-Match": '"v0"'},
        json={"toStage": "qualified"},
    )
    assert_error(stale, 412, "PRECONDITION_FAILED")
    saved = await stored(hub, staff, customer.id)
    assert saved.stage is Stage.NEW_LEAD
    assert len(saved.stage_history) == 1


# --- 6. delete and restore ------------------------------------------------------------------------


async def test_soft_delete_and_restore(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer(assigned="agent2")
    url = f"{CUSTOMERS}/{customer.id}"
    response = await client.delete(url, headers=token_for("manager"))
    assert response.status_code == 200, response.text
    envelope = response.json()
    assert envelope["message"] == "Customer deleted successfully"
    assert envelope["data"]["deletedAt"].endswith("Z")
    assert envelope["data"]["permanent"] is False
    assert_error(await client.get(url, headers=token_for("admin")), 404, "RESOURCE_NOT_FOUND")
    seen = await client.get(url, headers=token_for("admin"), params={"includeDeleted": "true"})
    assert seen.json()["data"]["customer"]["deletedAt"]
    assert_error(
        await client.post(f"{url}/restore", headers=token_for("manager")), 403, "PERMISSION_DENIED"
    )
    assert_error(
        await client.post(f"{url}/restore", headers=token_for("other_admin")),
        404,
        "RESOURCE_NOT_FOUND",
    )
    restored = await client.post(f"{url}/restore", headers=token_for("admin"))
    assert restored.status_code == 200, restored.text
    assert restored.json()["message"] == "Customer restored successfully"
    assert "deletedAt" not in restored.json()["data"]["customer"]
    again = await client.post(f"{url}/restore", headers=token_for("admin"))
    assert_error(again, 409, "DUPLICATE_RESOURCE")
    assert not (await stored(hub, staff, customer.id)).is_deleted


async def test_delete_refusals_change_nothing(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer(assigned="agent")
    url = f"{CUSTOMERS}/{customer.id}"
    assert_error(await client.delete(url, headers=token_for("agent")), 403, "PERMISSION_DENIED")
    assert_error(
        await client.delete(url, headers=token_for("other_admin")), 404, "RESOURCE_NOT_FOUND"
    )
    assert_error(
        await client.delete(url, headers=token_for("manager"), params={"permanent": "true"}),
        403,
        "PERMISSION_DENIED",
    )
    assert fields_of(
        await client.delete(url, headers=token_for("admin"), params={"permanent": "maybe"})
    ) == ["permanent"]
    assert not (await stored(hub, staff, customer.id)).is_deleted


async def test_permanent_delete_removes_the_customer(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}"
    response = await client.delete(url, headers=token_for("admin"), params={"permanent": "true"})
    assert response.status_code == 200
    assert response.json()["data"]["permanent"] is True
    gone = await client.get(url, headers=token_for("admin"), params={"includeDeleted": "true"})
    assert_error(gone, 404, "RESOURCE_NOT_FOUND")


# --- assign ---------------------------------------------------------------------------------------


async def test_assign_moves_the_customer(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, staff: Staff
) -> None:
    customer = await new_customer(assigned="agent")
    response = await client.post(
        f"{CUSTOMERS}/{customer.id}/assign",
        headers=token_for("manager"),
        json={"employeeId": staff.id("agent2"), "notes": "تحويل العميل بسبب التخصص في منطقة جدة"},
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]["customer"]
    assert data["assignedEmployeeId"] == staff.id("agent2")
    assert data["assignedEmployee"]["name"] == staff.employees["agent2"].name


async def test_assign_refusals_change_nothing(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer(assigned="agent")
    url = f"{CUSTOMERS}/{customer.id}/assign"
    to_agent2 = {"employeeId": staff.id("agent2")}
    assert_error(
        await client.post(url, headers=token_for("agent"), json=to_agent2), 403, "PERMISSION_DENIED"
    )
    assert_error(
        await client.post(url, headers=token_for("other_admin"), json=to_agent2),
        404,
        "RESOURCE_NOT_FOUND",
    )
    outside_team = {"employeeId": staff.id("outsider")}
    assert_error(
        await client.post(url, headers=token_for("manager"), json=outside_team),
        403,
        "PERMISSION_DENIED",
    )
    unknown = await client.post(url, headers=token_for("admin"), json={"employeeId": "emp_x"})
    assert assert_error(unknown, 422, "VALIDATION_ERROR")["details"][0]["field"] == "employeeId"
    assert fields_of(await client.post(url, headers=token_for("admin"), json={})) == ["employeeId"]
    assert fields_of(
        await client.post(url, headers=token_for("admin"), json={"employeeId": 7})
    ) == ["employeeId"]
    assert (await stored(hub, staff, customer.id)).assigned_employee_id == staff.id("agent")


# --- query, search, filters, stats ----------------------------------------------------------------


async def test_advanced_query(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    vip = await new_customer(city="الرياض", priority=Priority.URGENT)
    await new_customer(city="جدة", priority=Priority.LOW)
    response = await client.post(
        f"{CUSTOMERS}/query",
        headers=token_for("admin"),
        json={
            "filters": {"city": {"in": ["الرياض", "الدمام"]}, "priority": {"in": ["urgent"]}},
            "sort": {"field": "createdAt", "order": "desc"},
            "limit": 10,
            "cursor": None,
        },
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert [c["id"] for c in data["customers"]] == [vip.id]
    assert data["pagination"]["limit"] == 10
    assert data["pagination"]["hasNext"] is False


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"filters": {"leadScore": {"near": 70}}}, "filters.leadScore"),
        ({"filters": {"password": {"eq": "x"}}}, "filters.password"),
        ({"limit": 500}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"sort": {"field": "phone"}}, "sort.field"),
        ({"filters": ["city"]}, "filters"),
    ],
)
async def test_advanced_query_bad_input(
    client: Client, token_for: TokenFor, body: dict[str, Any], expected: str
) -> None:
    response = await client.post(f"{CUSTOMERS}/query", headers=token_for("admin"), json=body)
    fields = fields_of(response)
    assert any(f == expected or f.startswith(f"{expected}.") for f in fields), fields


async def test_a_phone_operand_needs_a_digit_in_the_document_as_in_the_service(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    # Found by the API fuzz run: the document took any text for phone's contains/startsWith
    # while the service matches its digits and refuses an operand without one.
    found = await new_customer(phone="+966551230987")
    validator = await document_validator(client, "AdvancedQueryIn")
    cases = [
        ({"phone": {"contains": "abc"}}, 400),
        ({"phone": {"startsWith": "Ét]"}}, 400),
        ({"phone": {"contains": "١٢٣٠٩٨٧"}}, 200),  # Arabic-Indic digits are digits
        ({"name": {"contains": "abc"}}, 200),  # other texts: anything but blank
        ({"name": {"startsWith": "\u0640\u064b"}}, 200),  # tatweel and a mark: no constraint
    ]
    for filters, status in cases:
        assert validator.is_valid({"filters": filters}) is (status == 200), filters
        response = await client.post(
            f"{CUSTOMERS}/query", headers=token_for("admin"), json={"filters": filters}
        )
        assert response.status_code == status, (filters, response.text)
        if status == 200 and "abc" not in str(filters):
            assert [c["id"] for c in response.json()["data"]["customers"]] == [found.id]


async def test_the_advanced_query_sort_is_stated_in_the_document_as_the_service_reads_it(
    client: Client, token_for: TokenFor
) -> None:
    # The document took any text for sort.field and sort.order, so a client coded from it could
    # not know the keys; the service refuses any other (400 naming sort.field / sort.order).
    validator = await document_validator(client, "AdvancedQueryIn")
    cases = [
        ({"field": "createdAt", "order": "asc"}, None),
        ({"field": "leadScore"}, None),  # an alias, as sortBy takes it
        ({"order": "desc"}, None),
        ({"field": "zzz"}, "sort.field"),
        ({"field": ""}, "sort.field"),
        ({"order": "DESC"}, "sort.order"),
        ({"order": "sideways"}, "sort.order"),
    ]
    for sort, refused in cases:
        assert validator.is_valid({"sort": sort}) is (refused is None), sort
        response = await client.post(
            f"{CUSTOMERS}/query", headers=token_for("admin"), json={"sort": sort}
        )
        if refused is None:
            assert response.status_code == 200, (sort, response.text)
        else:
            assert fields_of(response) == [refused], sort


async def test_search(client: Client, token_for: TokenFor, new_customer: NewCustomer) -> None:
    found = await new_customer(name="مُحَمَّد الفهد", assigned="agent")
    await new_customer(name="سارة العمري", assigned="agent")
    await new_customer(name="محمد القحطاني", assigned="outsider")
    response = await client.post(
        f"{CUSTOMERS}/search",
        headers=token_for("agent"),
        json={"query": "محمد", "filters": {"city": ["الرياض"]}, "fuzzy": True, "limit": 20},
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert [r["customer"]["id"] for r in data["results"]] == [found.id]
    assert data["total"] == 1
    assert 0 <= data["results"][0]["score"] <= 1
    assert "name" in data["results"][0]["matchedFields"]
    assert fields_of(
        await client.post(f"{CUSTOMERS}/search", headers=token_for("agent"), json={"query": " "})
    ) == ["query"]
    assert fields_of(
        await client.post(
            f"{CUSTOMERS}/search", headers=token_for("agent"), json={"query": "x", "limit": 0}
        )
    ) == ["limit"]
    assert_error(
        await client.post(
            f"{CUSTOMERS}/search", headers=token_for("agent", permissions=[]), json={"query": "x"}
        ),
        403,
        "PERMISSION_DENIED",
    )


async def test_filter_options(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, staff: Staff
) -> None:
    await new_customer(city="الرياض", source=CustomerSource.INQUIRY)
    await new_customer(city="الرياض")
    await new_customer(city="جدة", assigned="outsider")
    response = await client.get(f"{CUSTOMERS}/filters", headers=token_for("manager"))
    assert response.status_code == 200
    filters = response.json()["data"]["filters"]
    assert set(filters) == {"stages", "sources", "cities", "propertyTypes", "employees"}
    cities = {c["value"]: c["count"] for c in filters["cities"]}
    assert cities == {"الرياض": 2}
    new_lead = next(s for s in filters["stages"] if s["value"] == "new_lead")
    assert new_lead == {
        "value": "new_lead",
        "label": "عميل جديد",
        "labelEn": "New Lead",
        "count": 2,
    }
    employees = {e["id"]: e["count"] for e in filters["employees"]}
    assert employees.get(staff.id("agent")) == 2
    assert_error(
        await client.get(f"{CUSTOMERS}/filters", headers=token_for("viewer", permissions=[])),
        403,
        "PERMISSION_DENIED",
    )


async def test_customer_stats(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    await new_customer(total_deal_value=None)
    await new_customer(priority=Priority.URGENT)
    response = await client.get(
        f"{CUSTOMERS}/stats",
        headers=token_for("admin"),
        params={"groupBy": "city", "dateFrom": "2020-01-01", "dateTo": "2099-12-31T23:59:59Z"},
    )
    assert response.status_code == 200, response.text
    stats = response.json()["data"]["stats"]
    assert stats["total"] == 2
    assert stats["byStage"]["new_lead"] == 2
    assert stats["byPriority"]["urgent"] == 1
    assert {"avg", "median", "above80", "60to80", "40to60", "below40"} <= set(stats["leadScores"])
    assert stats["grouped"] == {"الرياض": 2}
    assert fields_of(
        await client.get(
            f"{CUSTOMERS}/stats", headers=token_for("admin"), params={"groupBy": "mood"}
        )
    ) == ["groupBy"]
    assert fields_of(
        await client.get(
            f"{CUSTOMERS}/stats", headers=token_for("admin"), params={"dateFrom": "soon"}
        )
    ) == ["dateFrom"]
    assert (await client.get(f"{CUSTOMERS}/stats", headers=token_for("other_admin"))).json()[
        "data"
    ]["stats"]["total"] == 0


async def test_permissions_claim_is_enforced_per_endpoint(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer()
    read_only = token_for("admin", permissions=[Permission.CUSTOMERS_READ])
    assert (await client.get(f"{CUSTOMERS}/{customer.id}", headers=read_only)).status_code == 200
    error = assert_error(
        await client.put(f"{CUSTOMERS}/{customer.id}", headers=read_only, json={"notes": "x"}),
        403,
        "PERMISSION_DENIED",
    )
    assert error["details"] == {"requiredPermission": "customers.write", "currentRole": "admin"}


# --- every route that takes a customer id hides other organizations -----------------------------

_PDF = b"%PDF-1.7\n%%EOF"
VALID_REQUESTS: dict[str, dict[str, Any]] = {
    "getCustomer": {},
    "getCustomerDuplicates": {},
    "getCustomerTimeline": {},
    "getCustomerCompliance": {},
    "updateCustomer": {"json": {"priority": "high"}},
    "changeCustomerStage": {"json": {"toStage": "qualified", "reason": "x"}},
    "deleteCustomer": {},
    "restoreCustomer": {},
    "assignCustomer": {"json": {"employeeId": "emp_other_admin"}},
    "addPropertyInterest": {"json": {"propertyId": "prop_1"}},
    "updatePropertyInterestStatus": {"json": {"status": "viewed"}},
    "logInteraction": {"json": {"type": "call", "notes": "x"}},
    "scheduleAppointment": {
        "json": {"title": "x", "type": "meeting", "datetime": "2099-01-01T10:00:00Z"}
    },
    "updateAppointment": {"json": {"notes": "x"}},
    "addReminder": {"json": {"title": "x", "datetime": "2099-01-01T10:00:00Z"}},
    "completeReminder": {},
    "uploadDocument": {
        "files": {"file": ("a.pdf", _PDF, "application/pdf")},
        "data": {"name": "a", "type": "other"},
    },
    "downloadDocument": {},
    "deleteDocument": {},
    "getCustomerConsents": {},
    "updateCustomerConsents": {
        "json": {"consents": [{"channel": "sms", "granted": True, "source": "form"}]}
    },
    "exportCustomerPersonalData": {},
    "eraseCustomer": {"json": {"reason": "x"}},
    "mergeCustomers": {"json": {"sourceIds": ["cust_missing"]}},
    "unmergeCustomers": {"json": {}},
}
"""A request each customer-id route accepts in shape, by operationId."""


async def test_another_organizations_admin_gets_404_on_every_customer_id_route(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer()
    document = await client.get("/api/v1/openapi.json")
    operations = [
        (method, path, operation["operationId"])
        for path, item in document.json()["paths"].items()
        if "{customer_id}" in path
        for method, operation in item.items()
    ]
    assert {op for _, _, op in operations} == set(VALID_REQUESTS), "keep VALID_REQUESTS complete"
    for method, path, operation_id in operations:
        url = re.sub(
            r"\{(\w+)\}", lambda m: customer.id if m.group(1) == "customer_id" else "x1", path
        )
        response = await client.request(
            method.upper(), url, headers=token_for("other_admin"), **VALID_REQUESTS[operation_id]
        )
        error = assert_error(response, 404, "RESOURCE_NOT_FOUND")
        assert error["details"]["resourceType"] == "customer", operation_id
    saved = await stored(hub, staff, customer.id)
    assert saved.version == customer.version
    assert not saved.is_deleted

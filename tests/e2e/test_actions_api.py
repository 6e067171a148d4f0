"""The requests inbox through HTTP (endpoints 7–15, start, reopen): each answers in the
document's shape, refuses what the action machine refuses (422, nothing changed), hides other
organizations (404), keeps callers in their scope (403) and names every bad field (400) without
changing anything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.application.use_cases.action_reads import list_actions
from customers_hub.application.use_cases.actions import (
    ActionDetails,
    CreateAction,
    create_action,
    get_action,
)
from customers_hub.application.use_cases.employees import UpdateEmployee, update_employee
from customers_hub.application.use_cases.reads import ActionListParams
from customers_hub.domain.enums import ActionType, Priority, PropertyType
from customers_hub.domain.model import Customer, CustomerAction, Preferences
from customers_hub.entrypoints.bootstrap import Hub

if TYPE_CHECKING:
    from conftest import NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
ACTIONS = "/api/v1/customers/actions"


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


def iso(moment: datetime) -> str:
    """``moment`` as the API writes it."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def later(**delta: float) -> str:
    """An ISO instant ``delta`` from now."""
    return iso(datetime.now(UTC) + timedelta(**delta))


async def new_action(
    hub: Hub,
    staff: Staff,
    customer: Customer,
    *,
    by: str = "admin",
    title: str = "متابعة بعد إرسال العروض",
    type: ActionType = ActionType.FOLLOW_UP,
    **fields: Any,
) -> CustomerAction:
    """An action created through the use case (on ``customer``'s organization)."""
    return await create_action(
        hub.deps,
        staff.actor(by),
        CreateAction(customer_id=customer.id, type=type, title=title, **fields),
    )


async def stored(hub: Hub, staff: Staff, action_id: str, *, key: str = "admin") -> ActionDetails:
    """The action as stored now (read through the use case as an admin of its organization)."""
    return await get_action(hub.deps, staff.actor(key), action_id)


async def check_access(
    client: Client, token_for: TokenFor, method: str, url: str, **kwargs: Any
) -> None:
    """Another organization's admin: 404; an agent outside the team and a viewer: 403."""
    other = await client.request(method, url, headers=token_for("other_admin"), **kwargs)
    assert_error(other, 404, "RESOURCE_NOT_FOUND")
    for outsider in ("outsider", "viewer"):
        refused = await client.request(method, url, headers=token_for(outsider), **kwargs)
        assert_error(refused, 403, "PERMISSION_DENIED")


# --- routing --------------------------------------------------------------------------------------


async def test_static_segments_are_not_action_or_customer_ids(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    await new_action(hub, staff, await new_customer())
    listed = await client.get(ACTIONS, headers=token_for("admin"))
    assert listed.status_code == 200, listed.text
    assert set(listed.json()["data"]) == {"actions", "pagination"}
    stats = await client.get(f"{ACTIONS}/stats", headers=token_for("admin"))
    assert stats.status_code == 200, stats.text
    assert "stats" in stats.json()["data"]
    # A GET of the POST-only bulk path is the wrong method, never "action bulk not found".
    assert (await client.get(f"{ACTIONS}/bulk", headers=token_for("admin"))).status_code == 405


# --- 9. create ------------------------------------------------------------------------------------


async def test_create_answers_201_with_the_action(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer()
    body = {
        "customerId": customer.id,
        "type": "follow_up",
        "title": "متابعة بعد إرسال العروض",
        "description": "الاتصال بالعميل للحصول على تعليقه على العروض المرسلة",
        "priority": "high",
        "dueDate": "2030-01-23T10:00:00Z",
        "metadata": {"propertyId": "prop_apt_045", "autoGenerated": True},
        # read-only keys: ignored
        "id": "action_chosen",
        "status": "completed",
        "createdAt": "2020-01-01T00:00:00Z",
        "version": 7,
    }
    response = await client.post(ACTIONS, headers=token_for("agent"), json=body)
    assert response.status_code == 201, response.text
    envelope = response.json()
    assert envelope["success"] is True
    assert envelope["message"] == "Action created successfully"
    action = envelope["data"]["action"]
    assert action["id"].startswith("action_")
    assert action["id"] != "action_chosen"
    assert action["customerId"] == customer.id
    assert action["customerName"] == customer.name
    assert action["status"] == "pending"
    assert action["priority"] == "high"
    assert action["source"] == "manual"
    assert action["dueDate"] == "2030-01-23T10:00:00Z"
    assert action["assignedTo"] == staff.id("agent")
    assert action["assignedToName"] == staff.employees["agent"].name
    assert action["metadata"] == {"propertyId": "prop_apt_045"}
    assert action["createdAt"].endswith("Z")
    assert not action["createdAt"].startswith("2020")
    assert action["version"] == 1
    assert response.headers["etag"] == '"v1"'
    assert (await stored(hub, staff, action["id"])).action.title == body["title"]


async def test_create_with_a_source_and_an_assignee(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, staff: Staff
) -> None:
    customer = await new_customer()
    response = await client.post(
        ACTIONS,
        headers=token_for("manager"),
        json={
            "customerId": customer.id,
            "type": "callback_request",
            "title": "طلب اتصال - معاينة شقة",
            "assignedTo": staff.id("agent2"),
            "source": "whatsapp",
        },
    )
    assert response.status_code == 201, response.text
    action = response.json()["data"]["action"]
    assert action["assignedTo"] == staff.id("agent2")
    assert action["source"] == "whatsapp"
    assert action["priority"] == "medium"
    assert "dueDate" not in action
    assert "description" not in action


async def action_count(hub: Hub, staff: Staff, customer: Customer) -> int:
    """How many actions ``customer`` has (as the admin sees them)."""
    page = await list_actions(
        hub.deps, staff.admin, ActionListParams(customer_id=customer.id, limit=100)
    )
    return len(page.items)


async def test_create_refuses_other_organizations_scopes_and_bad_assignees(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer()
    body = {"customerId": customer.id, "type": "follow_up", "title": "متابعة"}
    await check_access(client, token_for, "POST", ACTIONS, json=body)
    # An agent may not give an action to someone else.
    refused = await client.post(
        ACTIONS, headers=token_for("agent"), json={**body, "assignedTo": staff.id("agent2")}
    )
    assert_error(refused, 403, "PERMISSION_DENIED")
    # Unknown, foreign and inactive assignees are 422 on assignedTo.
    await update_employee(
        hub.deps, staff.admin, UpdateEmployee(employee_id=staff.id("agent2"), is_active=False)
    )
    for assignee in ("emp_nobody", "emp_other_admin", staff.id("agent2")):
        rejected = await client.post(
            ACTIONS, headers=token_for("admin"), json={**body, "assignedTo": assignee}
        )
        error = assert_error(rejected, 422, "VALIDATION_ERROR")
        assert error["details"][0]["field"] == "assignedTo"
    assert_error(
        await client.post(
            ACTIONS, headers=token_for("admin"), json={**body, "customerId": "cust_nowhere"}
        ),
        404,
        "RESOURCE_NOT_FOUND",
    )
    assert await action_count(hub, staff, customer) == 0


async def test_create_names_every_bad_field_and_creates_nothing(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer()
    headers = token_for("agent")
    good = {"customerId": customer.id, "type": "follow_up", "title": "متابعة"}
    malformed = await client.post(
        ACTIONS,
        headers={**headers, "Content-Type": "application/json"},
        content=b'{"customerId": ',
    )
    assert fields_of(malformed) == ["body"]
    assert fields_of(await client.post(ACTIONS, headers=headers, json=[good])) == ["body"]
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({**good, "type": "coffee_break"}, ["type"]),
        ({**good, "priority": "critical"}, ["priority"]),
        ({**good, "dueDate": "next thursday"}, ["dueDate"]),
        ({**good, "dueDate": "2030-01-23T10:00:00"}, ["dueDate"]),  # no time zone
        ({**good, "title": "   "}, ["title"]),
        ({**good, "title": 12}, ["title"]),
        ({**good, "metadata": ["not", "an", "object"]}, ["metadata"]),
        ({"customerId": customer.id, "title": "x"}, ["type"]),
        ({"type": "follow_up", "title": ""}, ["customerId", "title"]),
    ]
    for body, expected in cases:
        response = await client.post(ACTIONS, headers=headers, json=body)
        assert fields_of(response) == expected, (body, response.text)
    assert await action_count(hub, staff, customer) == 0


# --- 7. list --------------------------------------------------------------------------------------


async def test_list_answers_the_documented_shape_in_the_callers_scope(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    mine = await new_customer(name="محمد الفهد")
    theirs = await new_customer(name="فاطمة الزهراني", assigned="agent2")
    first = await new_action(
        hub,
        staff,
        mine,
        type=ActionType.NEW_INQUIRY,
        title="استفسار عن فلل في شمال الرياض",
        priority=Priority.HIGH,
        due_date=datetime(2030, 1, 22, 20, 59, 59, tzinfo=UTC),
        metadata={"phoneNumber": "+966512345678", "preferredContactTime": "evening"},
    )
    other = await new_action(hub, staff, theirs, type=ActionType.CALLBACK_REQUEST)

    response = await client.get(ACTIONS, headers=token_for("agent"))
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert [a["id"] for a in data["actions"]] == [first.id]
    action = data["actions"][0]
    assert action == {
        "id": first.id,
        "customerId": mine.id,
        "customerName": "محمد الفهد",
        "type": "new_inquiry",
        "title": "استفسار عن فلل في شمال الرياض",
        "priority": "high",
        "status": "pending",
        "source": "manual",
        "dueDate": "2030-01-22T20:59:59Z",
        "assignedTo": staff.id("agent"),
        "assignedToName": staff.employees["agent"].name,
        "createdAt": iso(first.created_at),
        "updatedAt": iso(first.updated_at),
        "metadata": {"phoneNumber": "+966512345678", "preferredContactTime": "evening"},
        "version": 1,
    }
    assert data["pagination"] == {
        "currentPage": 1,
        "pageSize": 50,
        "totalPages": 1,
        "totalItems": 1,
        "hasNextPage": False,
        "hasPreviousPage": False,
    }
    manager = (await client.get(ACTIONS, headers=token_for("manager"))).json()["data"]
    assert {a["id"] for a in manager["actions"]} == {first.id, other.id}
    outsider = (await client.get(ACTIONS, headers=token_for("outsider"))).json()["data"]
    assert outsider["actions"] == []
    assert outsider["pagination"]["totalItems"] == 0
    foreign = (await client.get(ACTIONS, headers=token_for("other_admin"))).json()["data"]
    assert not {a["id"] for a in foreign["actions"]} & {first.id, other.id}


async def test_list_filters_sorts_and_pages(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    riyadh = await new_customer(
        city="الرياض",
        region="منطقة الرياض",
        preferences=Preferences(property_type=(PropertyType.VILLA,)),
    )
    jeddah = await new_customer(name="فاطمة الزهراني", city="جدة", region="منطقة مكة")
    now = datetime.now(UTC)
    low = await new_action(hub, staff, riyadh, priority=Priority.LOW, title="اتصال عادي")
    urgent = await new_action(
        hub, staff, riyadh, priority=Priority.URGENT, due_date=now - timedelta(hours=2)
    )
    high = await new_action(
        hub,
        staff,
        jeddah,
        priority=Priority.HIGH,
        type=ActionType.SITE_VISIT,
        title="معاينة شقة في حي الزهراء",
    )
    medium = await new_action(hub, staff, jeddah, priority=Priority.MEDIUM)
    headers = token_for("admin")

    async def ids(**params: Any) -> list[str]:
        response = await client.get(ACTIONS, headers=headers, params=params)
        assert response.status_code == 200, (params, response.text)
        return [a["id"] for a in response.json()["data"]["actions"]]

    by_priority = await ids(sortBy="priority", sortOrder="desc")
    assert by_priority == [urgent.id, high.id, medium.id, low.id]
    assert await ids(sortBy="priority", sortOrder="asc") == by_priority[::-1]
    assert set(await ids(priority=["high", "urgent"])) == {urgent.id, high.id}
    assert await ids(type="site_visit") == [high.id]
    assert set(await ids(customerId=jeddah.id)) == {high.id, medium.id}
    assert set(await ids(city="جدة")) == {high.id, medium.id}
    assert set(await ids(state="منطقة الرياض")) == {low.id, urgent.id}
    assert set(await ids(propertyType="villa")) == {low.id, urgent.id}
    assert await ids(dueDate="overdue") == [urgent.id]
    assert set(await ids(dueDate="no_date")) == {low.id, high.id, medium.id}
    assert await ids(search="الزهراء") == [high.id]
    assert set(await ids(assignedTo=staff.id("agent"), status=["pending", "in_progress"])) == {
        low.id,
        urgent.id,
        high.id,
        medium.id,
    }
    assert await ids(source="whatsapp") == []

    # Offset pages, then keyset pages with cursor.
    page2 = await client.get(
        ACTIONS, headers=headers, params={"limit": 3, "page": 2, "sortBy": "priority"}
    )
    pagination = page2.json()["data"]["pagination"]
    assert pagination["totalItems"] == 4
    assert pagination["totalPages"] == 2
    assert pagination["hasPreviousPage"] is True
    assert pagination["hasNextPage"] is False
    assert [a["id"] for a in page2.json()["data"]["actions"]] == [low.id]
    first = await client.get(
        ACTIONS, headers=headers, params={"limit": 3, "cursor": "", "sortBy": "priority"}
    )
    first_page = first.json()["data"]
    assert first_page["pagination"]["hasNext"] is True
    assert first_page["pagination"]["prevCursor"] is None
    assert [a["id"] for a in first_page["actions"]] == by_priority[:3]
    rest = await client.get(
        ACTIONS,
        headers=headers,
        params={"limit": 3, "cursor": first_page["pagination"]["nextCursor"], "sortBy": "priority"},
    )
    assert [a["id"] for a in rest.json()["data"]["actions"]] == [low.id]
    assert rest.json()["data"]["pagination"]["hasNext"] is False


async def test_list_names_every_bad_parameter(client: Client, token_for: TokenFor) -> None:
    headers = token_for("admin")
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"status": ["pending", "finished"]}, ["status"]),
        ({"type": "coffee_break"}, ["type"]),
        ({"priority": "critical"}, ["priority"]),
        ({"source": "fax"}, ["source"]),
        ({"dueDate": "tomorrow"}, ["dueDate"]),
        ({"propertyType": "castle"}, ["propertyType"]),
        ({"budgetMin": "lots"}, ["budgetMin"]),
        ({"budgetMin": 2_000_000, "budgetMax": 1_000_000}, ["budgetMax"]),
        ({"limit": 500}, ["limit"]),
        ({"limit": "many"}, ["limit"]),
        ({"page": 0}, ["page"]),
        ({"sortBy": "title"}, ["sortBy"]),
        ({"sortOrder": "up"}, ["sortOrder"]),
        ({"cursor": "not-a-cursor"}, ["cursor"]),
    ]
    for params, expected in cases:
        response = await client.get(ACTIONS, headers=headers, params=params)
        assert fields_of(response) == expected, (params, response.text)
    assert_error(await client.get(ACTIONS), 401, "AUTHENTICATION_FAILED")


# --- 8. get ---------------------------------------------------------------------------------------


async def test_get_answers_the_action_with_its_customer_and_notes(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer(
        email="mohammed.fahd@email.com",
        preferences=Preferences(
            property_type=(PropertyType.VILLA,),
            budget_min=Decimal("1500000"),
            budget_max=Decimal("2500000"),
        ),
    )
    action = await new_action(hub, staff, customer)
    noted = await client.post(
        f"{ACTIONS}/{action.id}/notes",
        headers=token_for("agent"),
        json={"content": "تم إرسال 3 عروض عقارية للعميل عبر الواتساب"},
    )
    assert noted.status_code == 201, noted.text

    response = await client.get(f"{ACTIONS}/{action.id}", headers=token_for("agent"))
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"v2"'
    data = response.json()["data"]["action"]
    assert data["id"] == action.id
    assert data["customerName"] == customer.name
    summary = data["customer"]
    assert summary["id"] == customer.id
    assert summary["phone"] == customer.phone
    assert summary["email"] == "mohammed.fahd@email.com"
    assert summary["city"] == "الرياض"
    assert summary["preferences"] == {
        "propertyType": ["villa"],
        "budgetMin": 1500000,
        "budgetMax": 2500000,
    }
    [note] = data["notes"]
    assert note["content"] == "تم إرسال 3 عروض عقارية للعميل عبر الواتساب"
    assert note["createdBy"] == staff.employees["agent"].name
    assert note["createdById"] == staff.id("agent")
    assert note["createdAt"].endswith("Z")

    await check_access(client, token_for, "GET", f"{ACTIONS}/{action.id}")
    assert_error(
        await client.get(f"{ACTIONS}/action_nowhere", headers=token_for("admin")),
        404,
        "RESOURCE_NOT_FOUND",
    )


# --- 10. update -----------------------------------------------------------------------------------


async def test_update_changes_the_sent_fields_under_if_match(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    action = await new_action(hub, staff, await new_customer(), description="وصف")
    url = f"{ACTIONS}/{action.id}"
    response = await client.patch(
        url,
        headers={**token_for("manager"), "If-Match": '"v1"'},
        json={
            "priority": "urgent",
            "dueDate": "2030-01-22T16:00:00Z",
            "assignedTo": staff.id("agent2"),
            "notes": "العميل طلب الاتصال قبل نهاية اليوم",
            "description": None,
            "status": "in_progress",
            "id": "action_other",
            "customerId": "cust_other",
            "createdAt": "2020-01-01T00:00:00Z",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["message"] == "Action updated successfully"
    data = response.json()["data"]["action"]
    assert data["version"] > 1
    assert response.headers["etag"] == f'"v{data["version"]}"'
    assert data["id"] == action.id
    assert data["customerId"] == action.customer_id
    assert data["priority"] == "urgent"
    assert data["status"] == "in_progress"
    assert data["dueDate"] == "2030-01-22T16:00:00Z"
    assert data["assignedTo"] == staff.id("agent2")
    assert data["assignedToName"] == staff.employees["agent2"].name
    assert "description" not in data
    assert data["updatedAt"] >= data["createdAt"]
    assert [n["content"] for n in data["notes"]] == ["العميل طلب الاتصال قبل نهاية اليوم"]

    # An old ETag: 412, and nothing changes.
    stale = await client.patch(
        url, headers={**token_for("admin"), "If-Match": '"v1"'}, json={"priority": "low"}
    )
    details = assert_error(stale, 412, "PRECONDITION_FAILED")["details"]
    assert details["currentVersion"] == data["version"]
    assert fields_of(
        await client.patch(
            url, headers={**token_for("admin"), "If-Match": "latest"}, json={"priority": "low"}
        )
    ) == ["If-Match"]
    assert (await stored(hub, staff, action.id)).action.priority is Priority.URGENT


async def test_update_refusals_change_nothing(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    action = await new_action(hub, staff, await new_customer())
    url = f"{ACTIONS}/{action.id}"
    headers = token_for("agent")
    await check_access(client, token_for, "PATCH", url, json={"priority": "low"})
    # An agent may not hand the action to a colleague.
    assert_error(
        await client.patch(url, headers=headers, json={"assignedTo": staff.id("agent2")}),
        403,
        "PERMISSION_DENIED",
    )
    cases: list[tuple[Any, list[str]]] = [
        ({"priority": "critical"}, ["priority"]),
        ({"status": "finished"}, ["status"]),
        ({"status": "completed"}, ["status"]),  # completing has its own endpoint
        ({"dueDate": "soon"}, ["dueDate"]),
        ({"title": ""}, ["title"]),
        ({"title": None}, ["title"]),
        ([{"priority": "low"}], ["body"]),
    ]
    for body, expected in cases:
        response = await client.patch(url, headers=headers, json=body)
        assert fields_of(response) == expected, (body, response.text)
    malformed = await client.patch(
        url, headers={**headers, "Content-Type": "application/json"}, content=b"{priority"
    )
    assert fields_of(malformed) == ["body"]
    after = (await stored(hub, staff, action.id)).action
    assert after == action

    # A completed action refuses every change (422), notes included in the refusal.
    done = await client.post(f"{url}/complete", headers=headers)
    assert done.status_code == 200, done.text
    refused = await client.patch(
        url, headers=headers, json={"priority": "urgent", "notes": "لن تُضاف"}
    )
    error = assert_error(refused, 422, "INVALID_ACTION_TRANSITION")
    assert error["details"]["fromStatus"] == "completed"
    completed = (await stored(hub, staff, action.id)).action
    assert completed.priority is action.priority
    assert completed.notes == ()


# --- 11–13, start, reopen -------------------------------------------------------------------------


async def test_complete_then_completing_again_is_422_and_changes_nothing(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    action = await new_action(hub, staff, await new_customer())
    url = f"{ACTIONS}/{action.id}/complete"
    response = await client.post(
        url,
        headers={**token_for("agent"), "If-Match": '"v1"'},
        json={
            "outcome": "تم إرسال العروض بنجاح والعميل مهتم بعقارين",
            "notes": "جدولة معاينة للعقارين يوم الخميس",
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"v2"'
    data = response.json()["data"]["action"]
    assert data["status"] == "completed"
    assert data["completedBy"] == staff.id("agent")
    assert data["completedAt"].endswith("Z")
    assert data["outcome"] == "تم إرسال العروض بنجاح والعميل مهتم بعقارين"
    assert [n["content"] for n in data["notes"]] == ["جدولة معاينة للعقارين يوم الخميس"]
    before = (await stored(hub, staff, action.id)).action

    again = await client.post(url, headers=token_for("admin"), json={"notes": "مرة أخرى"})
    error = assert_error(again, 422, "INVALID_ACTION_TRANSITION")
    assert error["details"] == {"fromStatus": "completed", "toStatus": "completed"}
    # Each move with its own body: a key of another move is an unknown field (400).
    bodies: dict[str, dict[str, Any]] = {
        "dismiss": {"reason": "سبب"},
        "snooze": {"snoozedUntil": later(days=1)},
        "start": {},
        "reopen": {},
    }
    for move, body in bodies.items():
        refused = await client.post(
            f"{ACTIONS}/{action.id}/{move}", headers=token_for("admin"), json=body
        )
        assert_error(refused, 422, "INVALID_ACTION_TRANSITION")
    assert (await stored(hub, staff, action.id)).action == before


async def test_moves_refuse_other_organizations_scopes_and_stale_versions(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    action = await new_action(hub, staff, await new_customer())
    bodies: dict[str, dict[str, Any]] = {
        "complete": {},
        "dismiss": {"reason": "العميل لم يعد مهتماً"},
        "snooze": {"snoozedUntil": later(days=2)},
        "start": {},
        "reopen": {},
        "notes": {"content": "ملاحظة"},
    }
    for move, body in bodies.items():
        await check_access(client, token_for, "POST", f"{ACTIONS}/{action.id}/{move}", json=body)
        missing = await client.post(
            f"{ACTIONS}/action_nowhere/{move}", headers=token_for("admin"), json=body
        )
        assert_error(missing, 404, "RESOURCE_NOT_FOUND")
        if move != "notes":
            stale = await client.post(
                f"{ACTIONS}/{action.id}/{move}",
                headers={**token_for("admin"), "If-Match": '"v9"'},
                json=body,
            )
            assert_error(stale, 412, "PRECONDITION_FAILED")
    assert (await stored(hub, staff, action.id)).action == action


async def test_dismiss_requires_a_reason(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    action = await new_action(hub, staff, await new_customer())
    url = f"{ACTIONS}/{action.id}/dismiss"
    headers = token_for("agent")
    for body in ({"reason": "   "}, {"reason": None}, {"notes": "بدون سبب"}, {}):
        assert fields_of(await client.post(url, headers=headers, json=body)) == ["reason"], body
    assert fields_of(await client.post(url, headers=headers, json={"reason": 5})) == ["reason"]
    assert (await stored(hub, staff, action.id)).action == action

    response = await client.post(
        url,
        headers=headers,
        json={"reason": "العميل لم يعد مهتماً", "notes": "العميل قرر تأجيل الشراء لمدة 6 أشهر"},
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]["action"]
    assert data["status"] == "dismissed"
    assert data["dismissReason"] == "العميل لم يعد مهتماً"
    assert [n["content"] for n in data["notes"]] == ["العميل قرر تأجيل الشراء لمدة 6 أشهر"]


async def test_snooze_needs_a_moment_within_the_next_year(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    action = await new_action(hub, staff, await new_customer())
    url = f"{ACTIONS}/{action.id}/snooze"
    headers = token_for("agent")
    for body in (
        {"snoozedUntil": later(hours=-1)},
        {"snoozedUntil": later(days=400)},
        {"snoozedUntil": "2030-01-25 at nine"},
        {"snoozedUntil": "2030-01-25T09:00:00"},  # no time zone
        {"notes": "العميل في سفر"},
    ):
        response = await client.post(url, headers=headers, json=body)
        assert fields_of(response) == ["snoozedUntil"], (body, response.text)
    assert (await stored(hub, staff, action.id)).action == action

    until = later(days=3)
    response = await client.post(
        url, headers=headers, json={"snoozedUntil": until, "notes": "العميل في سفر"}
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]["action"]
    assert data["status"] == "snoozed"
    assert datetime.fromisoformat(data["snoozedUntil"]) == datetime.fromisoformat(until)
    # A snoozed action can be started or reopened early.
    reopened = await client.post(f"{ACTIONS}/{action.id}/reopen", headers=headers)
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["data"]["action"]["status"] == "pending"
    assert "snoozedUntil" not in reopened.json()["data"]["action"]


async def test_start_and_reopen(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    action = await new_action(hub, staff, await new_customer())
    headers = token_for("agent")
    started = await client.post(f"{ACTIONS}/{action.id}/start", headers=headers)
    assert started.status_code == 200, started.text
    assert started.json()["data"]["action"]["status"] == "in_progress"
    assert started.headers["etag"] == '"v2"'
    # Already in progress: the machine refuses in_progress → in_progress.
    again = await client.post(f"{ACTIONS}/{action.id}/start", headers=headers)
    assert_error(again, 422, "INVALID_ACTION_TRANSITION")
    reopened = await client.post(
        f"{ACTIONS}/{action.id}/reopen", headers={**headers, "If-Match": '"v2"'}
    )
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["data"]["action"]["status"] == "pending"
    refused = await client.post(f"{ACTIONS}/{action.id}/reopen", headers=headers)
    assert assert_error(refused, 422, "INVALID_ACTION_TRANSITION")["details"] == {
        "fromStatus": "pending",
        "toStatus": "pending",
    }
    assert (await stored(hub, staff, action.id)).action.version == 3


# --- 14. notes ------------------------------------------------------------------------------------


async def test_notes_are_added_even_to_a_completed_action(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    action = await new_action(hub, staff, await new_customer())
    url = f"{ACTIONS}/{action.id}/notes"
    headers = token_for("agent")
    for body, expected in (
        ({"content": "   "}, ["content"]),
        ({}, ["content"]),
        ({"content": ["a"]}, ["content"]),
        ({"content": "x" * 10_001}, ["content"]),
    ):
        assert fields_of(await client.post(url, headers=headers, json=body)) == expected, body
    malformed = await client.post(
        url, headers={**headers, "Content-Type": "application/json"}, content=b'{"content"'
    )
    assert fields_of(malformed) == ["body"]
    assert (await stored(hub, staff, action.id)).action.notes == ()

    assert (await client.post(f"{ACTIONS}/{action.id}/complete", headers=headers)).is_success
    response = await client.post(
        url, headers=headers, json={"content": "العميل طلب معلومات إضافية عن خيارات التمويل"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["message"] == "Note added successfully"
    note = response.json()["data"]["note"]
    assert note["id"].startswith("note_")
    assert note["actionId"] == action.id
    assert note["content"] == "العميل طلب معلومات إضافية عن خيارات التمويل"
    assert note["createdBy"] == staff.employees["agent"].name
    assert note["createdById"] == staff.id("agent")
    assert note["createdAt"].endswith("Z")
    [kept] = (await stored(hub, staff, action.id)).action.notes
    assert kept.id == note["id"]


# --- 15. stats ------------------------------------------------------------------------------------


async def test_stats_answer_the_documented_shape(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    mine = await new_customer()
    theirs = await new_customer(assigned="agent2")
    now = datetime.now(UTC)
    await new_action(hub, staff, mine, priority=Priority.URGENT, due_date=now - timedelta(hours=1))
    done = await new_action(hub, staff, mine, type=ActionType.NEW_INQUIRY)
    await new_action(hub, staff, theirs, type=ActionType.SITE_VISIT, priority=Priority.HIGH)
    assert (
        await client.post(f"{ACTIONS}/{done.id}/complete", headers=token_for("admin"))
    ).is_success

    response = await client.get(f"{ACTIONS}/stats", headers=token_for("admin"))
    assert response.status_code == 200, response.text
    stats = response.json()["data"]["stats"]
    assert stats["total"] == {
        "pending": 2,
        "inProgress": 0,
        "completed": 1,
        "dismissed": 0,
        "snoozed": 0,
    }
    assert set(stats["byType"]) == {t.value for t in ActionType}
    assert stats["byType"]["follow_up"] == 1
    assert stats["byType"]["site_visit"] == 1
    assert stats["byPriority"] == {"urgent": 1, "high": 1, "medium": 0, "low": 0}
    assert set(stats["bySource"]) == {"inquiry", "whatsapp", "manual", "referral", "import"}
    assert set(stats["dueDates"]) == {"overdue", "today", "thisWeek", "thisMonth", "noDueDate"}
    assert stats["dueDates"]["overdue"] == 1
    assert stats["dueDates"]["noDueDate"] == 1
    assert set(stats["timeline"]) == {"avgCompletionTime", "avgResponseTime", "completionRate"}
    assert stats["timeline"]["completionRate"] == pytest.approx(100 / 3, abs=0.1)

    agent2 = await client.get(
        f"{ACTIONS}/stats", headers=token_for("manager"), params={"assignedTo": staff.id("agent2")}
    )
    assert agent2.status_code == 200, agent2.text
    assert agent2.json()["data"]["stats"]["total"]["pending"] == 1
    # The agent sees only their own actions, and may not ask for a colleague's.
    own = await client.get(f"{ACTIONS}/stats", headers=token_for("agent"))
    assert own.json()["data"]["stats"]["total"]["pending"] == 1
    assert_error(
        await client.get(
            f"{ACTIONS}/stats",
            headers=token_for("agent"),
            params={"assignedTo": staff.id("agent2")},
        ),
        403,
        "PERMISSION_DENIED",
    )
    # Another organization's admin counts nothing of this organization.
    foreign = await client.get(f"{ACTIONS}/stats", headers=token_for("other_admin"))
    assert foreign.json()["data"]["stats"]["total"]["pending"] == 0


async def test_stats_name_bad_dates(client: Client, token_for: TokenFor) -> None:
    headers = token_for("admin")
    url = f"{ACTIONS}/stats"
    assert fields_of(await client.get(url, headers=headers, params={"dateFrom": "Jan 1"})) == [
        "dateFrom"
    ]
    assert fields_of(
        await client.get(url, headers=headers, params={"dateFrom": "x", "dateTo": "2024-13-01"})
    ) == ["dateFrom", "dateTo"]
    assert fields_of(
        await client.get(
            url, headers=headers, params={"dateFrom": "2024-02-01", "dateTo": "2024-01-01"}
        )
    ) == ["dateTo"]
    window = await client.get(
        url, headers=headers, params={"dateFrom": "2024-01-01", "dateTo": "2024-01-31T23:59:59Z"}
    )
    assert window.status_code == 200, window.text

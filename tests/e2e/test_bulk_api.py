"""Bulk operations on actions through HTTP (endpoints 19–23): per-item answers in the document's
shape; items another organization holds, out of scope or refused by the machine go to ``failed``
and stay as they were; whole-request refusals (viewer, agent over 25 ids or reassigning, bad
input) change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.application.use_cases.actions import (
    CompleteAction,
    CreateAction,
    complete_action,
    create_action,
    get_action,
)
from customers_hub.domain.enums import ActionStatus, ActionType, Priority
from customers_hub.domain.model import Customer, CustomerAction
from customers_hub.entrypoints.bootstrap import Hub

if TYPE_CHECKING:
    from conftest import NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
BULK = "/api/v1/customers/actions/bulk"
ENDPOINTS = ("", "/complete", "/dismiss", "/snooze", "/assign")


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
    error: dict[str, Any] = body["error"]
    return error


def later(**delta: float) -> str:
    """An ISO instant ``delta`` from now."""
    return (datetime.now(UTC) + timedelta(**delta)).isoformat().replace("+00:00", "Z")


def ok_data(response: Any) -> dict[str, Any]:
    """``data`` of a 200 envelope."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    data: dict[str, Any] = body["data"]
    return data


async def new_actions(
    hub: Hub, staff: Staff, customer: Customer, count: int, *, by: str = "admin"
) -> list[CustomerAction]:
    """``count`` pending actions on ``customer`` (assigned to the customer's employee)."""
    return [
        await create_action(
            hub.deps,
            staff.actor(by),
            CreateAction(customer_id=customer.id, type=ActionType.FOLLOW_UP, title=f"متابعة {i}"),
        )
        for i in range(count)
    ]


async def current(hub: Hub, staff: Staff, action: CustomerAction) -> CustomerAction:
    """``action`` as stored now (read by an admin of its organization)."""
    admin = "other_admin" if action.organization_id == staff.other_org else "admin"
    return (await get_action(hub.deps, staff.actor(admin), action.id)).action


async def unchanged(hub: Hub, staff: Staff, actions: list[CustomerAction]) -> bool:
    """True when every action is stored exactly as given."""
    return all([await current(hub, staff, a) == a for a in actions])


def ids(actions: list[CustomerAction]) -> list[str]:
    """The ids of ``actions``."""
    return [a.id for a in actions]


# --- 19. bulk update ------------------------------------------------------------------------------


async def test_bulk_update_answers_per_item(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    actions = await new_actions(hub, staff, await new_customer(), 3)
    response = await client.post(
        BULK,
        headers=token_for("manager"),
        json={
            "actionIds": ids(actions),
            "operation": "update",
            "updates": {"priority": "high", "assignedTo": staff.id("agent2")},
        },
    )
    data = ok_data(response)
    assert data == {
        "updatedCount": 3,
        "failed": [],
        "actions": [{"id": a.id, "status": "success"} for a in actions],
    }
    for action in actions:
        stored = await current(hub, staff, action)
        assert stored.priority is Priority.HIGH
        assert stored.assigned_to == staff.id("agent2")
        assert stored.assigned_to_name == staff.employees["agent2"].name


async def test_bulk_items_out_of_reach_fail_and_stay_as_they_were(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    [open_action, done] = await new_actions(hub, staff, await new_customer(), 2)
    done = await complete_action(hub.deps, staff.admin, CompleteAction(action_id=done.id))
    [outside] = await new_actions(hub, staff, await new_customer(assigned="outsider"), 1)
    [foreign] = await new_actions(
        hub, staff, await new_customer(by="other_admin", assigned=None), 1, by="other_admin"
    )
    requested = [open_action.id, done.id, outside.id, foreign.id, "action_nowhere", done.id]
    response = await client.post(
        BULK,
        headers=token_for("manager"),
        json={
            "actionIds": requested,
            "updates": {"dueDate": later(days=2), "status": "in_progress"},
        },
    )
    data = ok_data(response)
    assert data["updatedCount"] == 1
    failures = {f["id"]: f for f in data["failed"]}
    assert failures[done.id]["code"] == "INVALID_ACTION_TRANSITION"
    assert failures[outside.id]["code"] == "PERMISSION_DENIED"
    assert failures[foreign.id] == {
        "id": foreign.id,
        "reason": "Action not found",
        "code": "RESOURCE_NOT_FOUND",
    }
    assert failures["action_nowhere"]["code"] == "RESOURCE_NOT_FOUND"
    # Repeated ids are answered once, in request order.
    assert [a["id"] for a in data["actions"]] == requested[:-1]
    assert [a["status"] for a in data["actions"]] == ["success"] + ["failed"] * 4
    assert (await current(hub, staff, open_action)).status is ActionStatus.IN_PROGRESS
    assert await unchanged(hub, staff, [done, outside, foreign])


async def test_the_bulk_endpoint_runs_every_operation(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    actions = await new_actions(hub, staff, await new_customer(), 4)
    headers = token_for("admin")
    cases: list[tuple[CustomerAction, dict[str, Any], str, ActionStatus]] = [
        (
            actions[0],
            {"operation": "complete", "notes": "تم"},
            "completedCount",
            ActionStatus.COMPLETED,
        ),
        (
            actions[1],
            {"operation": "dismiss", "reason": "مكرر"},
            "dismissedCount",
            ActionStatus.DISMISSED,
        ),
        (
            actions[2],
            {"operation": "snooze", "snoozedUntil": later(days=1)},
            "snoozedCount",
            ActionStatus.SNOOZED,
        ),
        (
            actions[3],
            {"operation": "assign", "assignedTo": staff.id("agent2")},
            "assignedCount",
            ActionStatus.PENDING,
        ),
    ]
    for action, body, count_key, status in cases:
        data = ok_data(
            await client.post(BULK, headers=headers, json={"actionIds": [action.id], **body})
        )
        assert data[count_key] == 1, body
        assert "updatedCount" not in data
        assert (await current(hub, staff, action)).status is status
    assert (await current(hub, staff, actions[3])).assigned_to == staff.id("agent2")


async def test_the_bulk_endpoint_refuses_keys_of_another_operation(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    actions = await new_actions(hub, staff, await new_customer(), 2)
    headers = token_for("admin")
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"operation": "complete", "updates": {"priority": "low"}}, ["updates"]),
        ({"operation": "update", "reason": "x", "updates": {"priority": "low"}}, ["reason"]),
        ({"operation": "archive"}, ["operation"]),
        ({"operation": "snooze"}, ["snoozedUntil"]),
        ({"operation": "assign"}, ["assignedTo"]),
        ({"updates": {}}, ["updates"]),
        ({}, ["updates"]),
        ({"updates": {"priority": "critical"}}, ["updates.priority"]),
        ({"updates": {"status": "completed"}}, ["updates.status"]),
        ({"updates": {"dueDate": "soon"}}, ["updates.dueDate"]),
        ({"updates": {"assignedTo": None}}, ["updates.assignedTo"]),
    ]
    for body, expected in cases:
        response = await client.post(
            BULK, headers=headers, json={"actionIds": ids(actions), **body}
        )
        assert fields_of(response) == expected, (body, response.text)
    assigned = await client.post(
        BULK,
        headers=headers,
        json={"actionIds": ids(actions), "updates": {"assignedTo": "emp_nobody"}},
    )
    error = assert_error(assigned, 422, "VALIDATION_ERROR")
    assert error["details"][0]["field"] == "updates.assignedTo"
    assert await unchanged(hub, staff, actions)


# --- 20–22 ----------------------------------------------------------------------------------------


async def test_bulk_complete_then_again(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    actions = await new_actions(hub, staff, await new_customer(), 2)
    body = {"actionIds": ids(actions), "notes": "تم معالجة جميع الطلبات بنجاح"}
    data = ok_data(await client.post(f"{BULK}/complete", headers=token_for("agent"), json=body))
    assert data["completedCount"] == 2
    assert data["failed"] == []
    for action in actions:
        stored = await current(hub, staff, action)
        assert stored.status is ActionStatus.COMPLETED
        assert stored.completed_by == staff.id("agent")
        assert [n.content for n in stored.notes] == ["تم معالجة جميع الطلبات بنجاح"]
    before = [await current(hub, staff, a) for a in actions]

    again = ok_data(await client.post(f"{BULK}/complete", headers=token_for("admin"), json=body))
    assert again["completedCount"] == 0
    assert [f["code"] for f in again["failed"]] == ["INVALID_ACTION_TRANSITION"] * 2
    assert await unchanged(hub, staff, before)


async def test_bulk_dismiss_requires_a_reason(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    actions = await new_actions(hub, staff, await new_customer(), 2)
    url = f"{BULK}/dismiss"
    headers = token_for("agent")
    for body in ({"reason": "  "}, {"reason": None}, {}):
        response = await client.post(url, headers=headers, json={"actionIds": ids(actions), **body})
        assert fields_of(response) == ["reason"], body
    assert await unchanged(hub, staff, actions)
    data = ok_data(
        await client.post(
            url, headers=headers, json={"actionIds": ids(actions), "reason": "العملاء غير مستجيبين"}
        )
    )
    assert data["dismissedCount"] == 2
    for action in actions:
        assert (await current(hub, staff, action)).dismiss_reason == "العملاء غير مستجيبين"


async def test_bulk_snooze_needs_a_moment_within_the_next_year(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    actions = await new_actions(hub, staff, await new_customer(), 2)
    url = f"{BULK}/snooze"
    headers = token_for("agent")
    for until in (later(minutes=-5), later(days=366), "2030-01-25", "next week", None):
        response = await client.post(
            url, headers=headers, json={"actionIds": ids(actions), "snoozedUntil": until}
        )
        assert fields_of(response) == ["snoozedUntil"], (until, response.text)
    assert fields_of(await client.post(url, headers=headers, json={"actionIds": ids(actions)})) == [
        "snoozedUntil"
    ]
    assert await unchanged(hub, staff, actions)
    data = ok_data(
        await client.post(
            url, headers=headers, json={"actionIds": ids(actions), "snoozedUntil": later(days=3)}
        )
    )
    assert data["snoozedCount"] == 2
    assert [a["status"] for a in data["actions"]] == ["success", "success"]
    for action in actions:
        assert (await current(hub, staff, action)).status is ActionStatus.SNOOZED


# --- 23. bulk assign ------------------------------------------------------------------------------


async def test_bulk_assign_names_the_assignee_from_the_record(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    actions = await new_actions(hub, staff, await new_customer(), 3)
    response = await client.post(
        f"{BULK}/assign",
        headers=token_for("manager"),
        json={
            "actionIds": ids(actions),
            "assignedTo": staff.id("agent2"),
            "assignedToName": "اسم مزيف",
        },
    )
    data = ok_data(response)
    assert data["assignedCount"] == 3
    assert data["assignedTo"] == {"id": staff.id("agent2"), "name": staff.employees["agent2"].name}
    assert data["failed"] == []
    for action in actions:
        stored = await current(hub, staff, action)
        assert stored.assigned_to_name == staff.employees["agent2"].name


async def test_bulk_assign_refusals_change_nothing(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    actions = await new_actions(hub, staff, await new_customer(), 2)
    url = f"{BULK}/assign"
    for assignee in ("emp_nobody", "emp_other_admin"):
        rejected = await client.post(
            url,
            headers=token_for("admin"),
            json={"actionIds": ids(actions), "assignedTo": assignee},
        )
        error = assert_error(rejected, 422, "VALIDATION_ERROR")
        assert error["details"][0]["field"] == "assignedTo"
    assert fields_of(
        await client.post(url, headers=token_for("admin"), json={"actionIds": ids(actions)})
    ) == ["assignedTo"]
    # Agents never reassign; a manager only within the team (per item).
    assert_error(
        await client.post(
            url,
            headers=token_for("agent"),
            json={"actionIds": ids(actions), "assignedTo": staff.id("agent")},
        ),
        403,
        "PERMISSION_DENIED",
    )
    outside = ok_data(
        await client.post(
            url,
            headers=token_for("manager"),
            json={"actionIds": ids(actions), "assignedTo": staff.id("outsider")},
        )
    )
    assert outside["assignedCount"] == 0
    assert [f["code"] for f in outside["failed"]] == ["PERMISSION_DENIED"] * 2
    assert await unchanged(hub, staff, actions)


# --- access and bad input on every bulk endpoint ------------------------------------------------


def bodies(action_ids: list[str]) -> dict[str, dict[str, Any]]:
    """A valid body for each bulk endpoint."""
    return {
        "": {"actionIds": action_ids, "updates": {"priority": "urgent"}},
        "/complete": {"actionIds": action_ids},
        "/dismiss": {"actionIds": action_ids, "reason": "مكرر"},
        "/snooze": {"actionIds": action_ids, "snoozedUntil": later(days=1)},
        "/assign": {"actionIds": action_ids, "assignedTo": "emp_agent1"},
    }


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_bulk_access(
    endpoint: str,
    client: Client,
    token_for: TokenFor,
    new_customer: NewCustomer,
    hub: Hub,
    staff: Staff,
) -> None:
    actions = await new_actions(hub, staff, await new_customer(), 2)
    body = bodies(ids(actions))[endpoint]
    url = f"{BULK}{endpoint}"
    # Viewers never run bulk operations.
    assert_error(
        await client.post(url, headers=token_for("viewer"), json=body), 403, "PERMISSION_DENIED"
    )
    # Another organization's admin: every id is "not found", nothing changes.
    foreign = await client.post(url, headers=token_for("other_admin"), json=body)
    if endpoint == "/assign":
        # emp_agent1 is not an employee of that organization.
        assert_error(foreign, 422, "VALIDATION_ERROR")
    else:
        data = ok_data(foreign)
        assert [f["code"] for f in data["failed"]] == ["RESOURCE_NOT_FOUND"] * 2
        assert [f["reason"] for f in data["failed"]] == ["Action not found"] * 2
    # An agent outside the team: every item is out of scope (assign: agents never reassign).
    outsider = await client.post(url, headers=token_for("outsider"), json=body)
    if endpoint == "/assign":
        assert_error(outsider, 403, "PERMISSION_DENIED")
    else:
        assert [f["code"] for f in ok_data(outsider)["failed"]] == ["PERMISSION_DENIED"] * 2
    # An agent sends at most 25 ids.
    many = bodies([*ids(actions), *(f"action_{i}" for i in range(24))])[endpoint]
    assert_error(
        await client.post(url, headers=token_for("agent"), json=many), 403, "PERMISSION_DENIED"
    )
    assert_error(await client.post(url, json=body), 401, "AUTHENTICATION_FAILED")
    assert await unchanged(hub, staff, actions)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_bulk_bad_input(
    endpoint: str,
    client: Client,
    token_for: TokenFor,
    new_customer: NewCustomer,
    hub: Hub,
    staff: Staff,
) -> None:
    actions = await new_actions(hub, staff, await new_customer(), 1)
    url = f"{BULK}{endpoint}"
    headers = token_for("admin")
    body = bodies(ids(actions))[endpoint]
    malformed = await client.post(
        url, headers={**headers, "Content-Type": "application/json"}, content=b'{"actionIds": ['
    )
    assert fields_of(malformed) == ["body"]
    assert fields_of(await client.post(url, headers=headers, json=[body])) == ["body"]
    for action_ids, field in (
        ([], "actionIds"),
        ("action_1", "actionIds"),
        ([""], "actionIds[0]"),
        ([1], "actionIds[0]"),
        ([f"action_{i}" for i in range(501)], "actionIds"),
    ):
        response = await client.post(url, headers=headers, json={**body, "actionIds": action_ids})
        assert fields_of(response) == [field], (action_ids, response.text)
    missing = {k: v for k, v in body.items() if k != "actionIds"}
    assert fields_of(await client.post(url, headers=headers, json=missing)) == ["actionIds"]
    assert await unchanged(hub, staff, actions)

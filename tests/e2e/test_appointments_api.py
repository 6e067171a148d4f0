"""Appointments that do not collide and employee calendars over HTTP (issue 12, Deliver 5;
rules §10): 409 ``APPOINTMENT_CONFLICT`` naming the other appointment, ``allowConflict``, site
visits moving and dismissing their action, ``GET /employees/{id}/calendar`` in scope — with bad
input (4xx naming the field, nothing changed), another organization (404) and out-of-scope
callers (403)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from conftest import document_validator
from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.application.use_cases.customers import get_customer
from customers_hub.domain.hijri import hijri_of_instant, to_hijri
from customers_hub.entrypoints.bootstrap import Hub

if TYPE_CHECKING:
    from conftest import NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
CUSTOMERS = "/api/v1/customers"
EMPLOYEES = "/api/v1/employees"


def slot_time(days: int = 10, hours: float = 0) -> datetime:
    """A whole hour ``days`` ahead, plus ``hours``."""
    base = (datetime.now(UTC) + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    return base + timedelta(hours=hours)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def body(moment: datetime, **extra: Any) -> dict[str, Any]:
    return {"title": "معاينة فيلا الياسمين", "type": "meeting", "datetime": iso(moment), **extra}


def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    return error


def field_names(response: Any, status: int = 400) -> list[str]:
    error = error_of(response, status, "VALIDATION_ERROR")
    return [d["field"] for d in error["details"]]


async def appointments_of(hub: Hub, staff: Staff, customer_id: str) -> list[Any]:
    details = await get_customer(
        hub.deps, staff.admin, customer_id, include=frozenset({"appointments"})
    )
    return list(details.appointments)


# ---------------------------------------------------------------------------------------------
# Scheduling and moving


async def test_a_booked_slot_is_a_409_naming_the_other_appointment(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    first, second = await new_customer(), await new_customer()
    t0 = slot_time()
    created = await client.post(
        f"{CUSTOMERS}/{first.id}/appointments",
        headers=token_for("agent"),
        json=body(t0, duration=90),
    )
    assert created.status_code == 201, created.text
    existing = created.json()["data"]["appointment"]

    url = f"{CUSTOMERS}/{second.id}/appointments"
    refused = await client.post(url, headers=token_for("agent"), json=body(t0 + timedelta(hours=1)))
    error = error_of(refused, 409, "APPOINTMENT_CONFLICT")
    assert error["details"] == {
        "field": "datetime",
        "agentId": staff.id("agent"),
        "conflicts": [
            {"id": existing["id"], "customerId": first.id, "datetime": iso(t0), "duration": 90}
        ],
    }
    assert await appointments_of(hub, staff, second.id) == []

    # Touching ends do not conflict; allowConflict books over it.
    after = await client.post(url, headers=token_for("agent"), json=body(t0 + timedelta(hours=1.5)))
    assert after.status_code == 201, after.text
    forced = await client.post(url, headers=token_for("agent"), json=body(t0, allowConflict=True))
    assert forced.status_code == 201, forced.text
    # The manager books the same slot for another agent of the team: another employee's time.
    other_agent = await client.post(
        url, headers=token_for("manager"), json=body(t0, agentId=staff.id("agent2"))
    )
    assert other_agent.status_code == 201, other_agent.text


async def test_moving_an_appointment_over_another_is_a_409_unless_allowed(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}/appointments"
    t0 = slot_time()
    first = (await client.post(url, headers=token_for("agent"), json=body(t0))).json()
    later = await client.post(url, headers=token_for("agent"), json=body(t0 + timedelta(hours=3)))
    moving = later.json()["data"]["appointment"]
    patch_url = f"{url}/{moving['id']}"
    refused = await client.patch(
        patch_url, headers=token_for("agent"), json={"datetime": iso(t0 + timedelta(minutes=30))}
    )
    error = error_of(refused, 409, "APPOINTMENT_CONFLICT")
    assert [c["id"] for c in error["details"]["conflicts"]] == [first["data"]["appointment"]["id"]]
    stored = {a.id: a for a in await appointments_of(hub, staff, customer.id)}
    assert stored[moving["id"]].at == t0 + timedelta(hours=3)  # unchanged

    moved = await client.patch(
        patch_url,
        headers=token_for("agent"),
        json={"datetime": iso(t0 + timedelta(minutes=30)), "allowConflict": True},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["data"]["appointment"]["status"] == "rescheduled"
    # A status change alone never conflicts (its time was held already).
    confirmed = await client.patch(
        patch_url, headers=token_for("agent"), json={"status": "confirmed"}
    )
    assert confirmed.status_code == 200, confirmed.text


async def test_bad_allow_conflict_is_a_400_and_changes_nothing(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}/appointments"
    t0 = slot_time()
    assert field_names(
        await client.post(url, headers=token_for("agent"), json=body(t0, allowConflict="yes"))
    ) == ["allowConflict"]
    created = await client.post(url, headers=token_for("agent"), json=body(t0))
    appointment = created.json()["data"]["appointment"]
    assert field_names(
        await client.patch(
            f"{url}/{appointment['id']}",
            headers=token_for("agent"),
            json={"datetime": iso(t0 + timedelta(hours=5)), "allowConflict": 1},
        )
    ) == ["allowConflict"]
    (stored,) = await appointments_of(hub, staff, customer.id)
    assert stored.at == t0


async def test_a_conflict_never_shows_through_another_organization_or_scope(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, staff: Staff
) -> None:
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}/appointments"
    t0 = slot_time()
    assert (await client.post(url, headers=token_for("agent"), json=body(t0))).status_code == 201
    # Refused for who they are before the calendar is ever read.
    error_of(
        await client.post(url, headers=token_for("other_admin"), json=body(t0)),
        404,
        "RESOURCE_NOT_FOUND",
    )
    for outsider in ("outsider", "viewer"):
        error_of(
            await client.post(url, headers=token_for(outsider), json=body(t0)),
            403,
            "PERMISSION_DENIED",
        )


async def test_a_customer_outside_the_scope_is_named_by_id_and_time_only(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, staff: Staff
) -> None:
    # The admin booked the agent for a customer of the outsider (not the agent's to read).
    outsiders = await new_customer(assigned="outsider")
    t0 = slot_time()
    booked = await client.post(
        f"{CUSTOMERS}/{outsiders.id}/appointments",
        headers=token_for("admin"),
        json=body(t0, agentId=staff.id("agent")),
    )
    assert booked.status_code == 201, booked.text
    mine = await new_customer()
    refused = await client.post(
        f"{CUSTOMERS}/{mine.id}/appointments", headers=token_for("agent"), json=body(t0)
    )
    conflicts = error_of(refused, 409, "APPOINTMENT_CONFLICT")["details"]["conflicts"]
    assert conflicts == [
        {"id": booked.json()["data"]["appointment"]["id"], "datetime": iso(t0), "duration": 60}
    ]


async def site_visit_action(client: Client, token_for: TokenFor, customer_id: str) -> Any:
    listed = await client.get(
        f"{CUSTOMERS}/actions",
        headers=token_for("admin"),
        params={"customerId": customer_id, "type": "site_visit"},
    )
    assert listed.status_code == 200, listed.text
    (action,) = listed.json()["data"]["actions"]
    return action


async def test_moving_a_site_visit_moves_its_action_and_cancelling_dismisses_it(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}/appointments"
    t0 = slot_time()
    created = await client.post(url, headers=token_for("agent"), json=body(t0, type="site_visit"))
    visit = created.json()["data"]["appointment"]
    action = await site_visit_action(client, token_for, customer.id)
    assert action["dueDate"] == iso(t0)

    new_time = t0 + timedelta(days=1)
    moved = await client.patch(
        f"{url}/{visit['id']}", headers=token_for("agent"), json={"datetime": iso(new_time)}
    )
    assert moved.status_code == 200, moved.text
    action = await site_visit_action(client, token_for, customer.id)
    assert action["dueDate"] == iso(new_time)
    assert action["status"] == "pending"

    cancelled = await client.patch(
        f"{url}/{visit['id']}", headers=token_for("agent"), json={"status": "cancelled"}
    )
    assert cancelled.status_code == 200, cancelled.text
    action = await site_visit_action(client, token_for, customer.id)
    assert action["status"] == "dismissed"
    assert action["dismissReason"]
    # The cancelled visit frees the slot.
    again = await client.post(url, headers=token_for("agent"), json=body(new_time))
    assert again.status_code == 201, again.text


# ---------------------------------------------------------------------------------------------
# The employee calendar


async def test_the_calendar_lists_busy_slots(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, staff: Staff
) -> None:
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}/appointments"
    t0 = slot_time(days=3)
    first = (await client.post(url, headers=token_for("agent"), json=body(t0, duration=45))).json()
    second = (
        await client.post(url, headers=token_for("agent"), json=body(t0 + timedelta(hours=2)))
    ).json()
    cancelled = (
        await client.post(url, headers=token_for("agent"), json=body(t0 + timedelta(hours=4)))
    ).json()["data"]["appointment"]
    await client.patch(
        f"{url}/{cancelled['id']}", headers=token_for("agent"), json={"status": "cancelled"}
    )
    response = await client.get(
        f"{EMPLOYEES}/{staff.id('agent')}/calendar",
        headers=token_for("agent"),
        params={"from": iso(t0 - timedelta(hours=1)), "to": iso(t0 + timedelta(days=1))},
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["employeeId"] == staff.id("agent")
    assert data["rangeStart"] == iso(t0 - timedelta(hours=1))
    assert data["rangeEnd"] == iso(t0 + timedelta(days=1))
    assert data["truncated"] is False
    slots = data["slots"]
    assert [s["id"] for s in slots] == [
        first["data"]["appointment"]["id"],
        second["data"]["appointment"]["id"],
    ]
    assert slots[0]["datetime"] == iso(t0)
    assert slots[0]["endsAt"] == iso(t0 + timedelta(minutes=45))
    assert slots[0]["duration"] == 45
    assert slots[0]["status"] == "scheduled"
    assert slots[0]["appointment"]["customerId"] == customer.id
    assert slots[0]["appointment"]["title"] == "معاينة فيلا الياسمين"

    # Default range: today and the next 7 days (the slots are 3 days ahead).
    default = await client.get(
        f"{EMPLOYEES}/{staff.id('agent')}/calendar", headers=token_for("manager")
    )
    assert [s["id"] for s in default.json()["data"]["slots"]] == [s["id"] for s in slots]


async def test_a_calendar_slot_of_a_customer_out_of_scope_shows_its_time_only(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, staff: Staff
) -> None:
    outsiders = await new_customer(assigned="outsider")
    t0 = slot_time(days=2)
    await client.post(
        f"{CUSTOMERS}/{outsiders.id}/appointments",
        headers=token_for("admin"),
        json=body(t0, agentId=staff.id("agent")),
    )
    for who, shown in (("agent", False), ("manager", False), ("admin", True)):
        response = await client.get(
            f"{EMPLOYEES}/{staff.id('agent')}/calendar",
            headers=token_for(who),
            params={"from": iso(t0), "to": iso(t0 + timedelta(hours=1))},
        )
        (slot,) = response.json()["data"]["slots"]
        assert ("appointment" in slot) is shown, who
        assert slot["datetime"] == iso(t0)


async def test_who_may_read_a_calendar(client: Client, token_for: TokenFor, staff: Staff) -> None:
    allowed = [
        ("admin", "outsider"),
        ("manager", "manager"),
        ("manager", "agent2"),
        ("agent", "agent"),
        ("viewer", "viewer"),
    ]
    for reader, owner in allowed:
        response = await client.get(
            f"{EMPLOYEES}/{staff.id(owner)}/calendar", headers=token_for(reader)
        )
        assert response.status_code == 200, (reader, owner, response.text)
    forbidden = [("manager", "outsider"), ("agent", "agent2"), ("agent", "manager")]
    forbidden += [("viewer", "agent"), ("outsider", "agent")]
    for reader, owner in forbidden:
        response = await client.get(
            f"{EMPLOYEES}/{staff.id(owner)}/calendar", headers=token_for(reader)
        )
        error_of(response, 403, "PERMISSION_DENIED")
    # Another organization's employee, seen from here; ours, seen from there; nobody.
    for reader, owner in (("admin", "other_admin"), ("other_admin", "agent")):
        response = await client.get(
            f"{EMPLOYEES}/{staff.id(owner)}/calendar", headers=token_for(reader)
        )
        error = error_of(response, 404, "RESOURCE_NOT_FOUND")
        assert error["details"]["resourceType"] == "employee"
    error_of(
        await client.get(f"{EMPLOYEES}/emp_nobody/calendar", headers=token_for("admin")),
        404,
        "RESOURCE_NOT_FOUND",
    )


async def test_a_bad_calendar_range_names_its_parameter(
    client: Client, token_for: TokenFor, staff: Staff
) -> None:
    url = f"{EMPLOYEES}/{staff.id('agent')}/calendar"
    headers = token_for("agent")
    bad = await client.get(url, headers=headers, params={"from": "tomorrow", "to": "2030-13-01"})
    assert field_names(bad) == ["from", "to"]
    today = date.today()
    too_long = await client.get(
        url,
        headers=headers,
        params={"from": today.isoformat(), "to": (today + timedelta(days=62)).isoformat()},
    )
    error = error_of(too_long, 422, "BUSINESS_RULE_VIOLATION")
    assert error["details"]["field"] == "to"
    longest = await client.get(
        url,
        headers=headers,
        params={"from": today.isoformat(), "to": (today + timedelta(days=61)).isoformat()},
    )
    assert longest.status_code == 200, longest.text
    reversed_range = await client.get(
        url,
        headers=headers,
        params={"from": today.isoformat(), "to": (today - timedelta(days=1)).isoformat()},
    )
    assert error_of(reversed_range, 422, "BUSINESS_RULE_VIOLATION")["details"]["field"] == "to"


async def test_the_calendar_in_hijri(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, staff: Staff
) -> None:
    from zoneinfo import ZoneInfo

    riyadh = ZoneInfo("Asia/Riyadh")
    customer = await new_customer()
    t0 = slot_time(days=4)
    await client.post(
        f"{CUSTOMERS}/{customer.id}/appointments", headers=token_for("agent"), json=body(t0)
    )
    local_day = t0.astimezone(riyadh).date()
    response = await client.get(
        f"{EMPLOYEES}/{staff.id('agent')}/calendar",
        headers=token_for("agent"),
        # Hijri days, read as the local days they name.
        params={"calendar": "hijri", "from": to_hijri(local_day), "to": to_hijri(local_day)},
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    (slot,) = data["slots"]
    assert slot["datetimeHijri"] == hijri_of_instant(t0, riyadh)
    assert slot["endsAtHijri"] is not None
    assert data["rangeStartHijri"] == to_hijri(local_day)
    assert slot["appointment"]["datetimeHijri"] == hijri_of_instant(t0, riyadh)


async def test_the_document_and_the_service_read_a_blank_time_alike(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    # Found by the API fuzz run: the document called a whitespace ``time`` given (so it needed
    # a ``date``) while the service reads it as absent and answered 200.
    validator = await document_validator(client, "AppointmentPatchIn")
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}/appointments"
    created = await client.post(url, headers=token_for("agent"), json=body(slot_time(days=12)))
    patch_url = f"{url}/{created.json()['data']['appointment']['id']}"
    moment = "2031-03-10T09:00:00Z"  # the document describes moments from 2027 on
    cases = [
        ({"time": "\f\t\f"}, 200),  # blank: not given
        ({"time": "10:00"}, 400),  # a time without its date
        ({"datetime": moment, "time": " "}, 200),
        ({"datetime": moment, "date": "2030-01-01"}, 400),
    ]
    for sent, status in cases:
        assert validator.is_valid(sent) is (status == 200), sent
        response = await client.patch(patch_url, headers=token_for("agent"), json=sent)
        assert response.status_code == status, (sent, response.text)
    stored = {a.id: a for a in await appointments_of(hub, staff, customer.id)}
    assert iso(stored[patch_url.rsplit("/", 1)[1]].at) == moment

"""The audit timeline over HTTP (issue 10): every kind of write appends an entry in its own
transaction saying who (the token's user id and name), what (action, entity, ``changes`` with
from/to) and in which request (the response's ``X-Request-ID``); ``GET
/customers/{id}/timeline`` pages them newest first by cursor, in the caller's scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from customers_hub.adapters.sql import tables
from customers_hub.entrypoints.bootstrap import Hub

if TYPE_CHECKING:
    from conftest import NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
CUSTOMERS = "/api/v1/customers"
ACTIONS = "/api/v1/customers/actions"


def later(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0).isoformat()


async def page(
    client: Client, headers: dict[str, str], customer_id: str, **params: Any
) -> dict[str, Any]:
    response = await client.get(
        f"{CUSTOMERS}/{customer_id}/timeline", headers=headers, params=params
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def entries(client: Client, headers: dict[str, str], customer_id: str) -> list[Any]:
    found: list[Any] = (await page(client, headers, customer_id, limit=100))["entries"]
    return found


async def written(response: Any, status: int = 200) -> str:
    """The request id of a write that succeeded."""
    assert response.status_code == status, response.text
    request_id: str = response.headers["X-Request-ID"]
    return request_id


def changes_of(entry: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {c["field"]: (c["from"], c["to"]) for c in entry["changes"]}


def by_request(all_entries: list[Any], request_id: str) -> list[Any]:
    return [e for e in all_entries if e["requestId"] == request_id]


def authored(entry: dict[str, Any], staff: Staff, who: str) -> None:
    assert entry["actorId"] == staff.id(who)
    assert entry["actorName"] == staff.employees[who].name


# --- customer writes ---------------------------------------------------------------------------


async def test_customer_writes_say_who_changed_what_in_which_request(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, staff: Staff
) -> None:
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}"
    admin = token_for("admin")

    # create (over HTTP)
    created = await client.post(
        CUSTOMERS,
        headers=token_for("agent"),
        json={"name": "سلمان الدوسري", "phone": "+966553000001", "source": "manual"},
    )
    request_id = await written(created, 201)
    new_id = created.json()["data"]["customer"]["id"]
    [entry] = [e for e in await entries(client, admin, new_id) if e["entityType"] == "customer"]
    authored(entry, staff, "agent")
    assert entry["action"] == "customer.created"
    assert entry["entityId"] == new_id
    assert entry["requestId"] == request_id
    assert changes_of(entry)["name"] == (None, "سلمان الدوسري")

    # fields
    request_id = await written(
        await client.put(url, headers=token_for("agent"), json={"city": "جدة", "email": "s@x.sa"})
    )
    [entry] = by_request(await entries(client, admin, customer.id), request_id)
    authored(entry, staff, "agent")
    assert entry["action"] == "customer.updated"
    assert changes_of(entry)["city"] == ("الرياض", "جدة")
    assert changes_of(entry)["email"] == (None, "s@x.sa")

    # stage
    request_id = await written(
        await client.patch(f"{url}/stage", headers=admin, json={"toStage": "qualified"})
    )
    stage_entries = by_request(await entries(client, admin, customer.id), request_id)
    [entry] = [e for e in stage_entries if e["entityType"] == "customer"]
    authored(entry, staff, "admin")
    assert entry["action"] == "customer.stage_changed"
    assert changes_of(entry)["stage"] == ("new_lead", "qualified")

    # assignment
    request_id = await written(
        await client.post(
            f"{url}/assign", headers=token_for("manager"), json={"employeeId": staff.id("agent2")}
        )
    )
    [entry] = [
        e
        for e in by_request(await entries(client, admin, customer.id), request_id)
        if e["entityType"] == "customer"
    ]
    authored(entry, staff, "manager")
    assert entry["action"] == "customer.assigned"
    assert changes_of(entry)["assignedEmployeeId"] == (staff.id("agent"), staff.id("agent2"))

    # delete and restore
    request_id = await written(await client.delete(url, headers=admin))
    [entry] = by_request(await entries(client, admin, customer.id), request_id)
    assert entry["action"] == "customer.deleted"
    assert changes_of(entry)["deletedAt"][0] is None
    request_id = await written(await client.post(f"{url}/restore", headers=admin))
    [entry] = by_request(await entries(client, admin, customer.id), request_id)
    assert entry["action"] == "customer.restored"
    assert changes_of(entry)["deletedAt"][1] is None


async def test_a_refused_write_appends_nothing(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer()
    admin = token_for("admin")
    before = await entries(client, admin, customer.id)
    refused = await client.patch(
        f"{CUSTOMERS}/{customer.id}/stage", headers=admin, json={"toStage": "negotiation"}
    )
    assert refused.status_code == 422, refused.text
    bad = await client.put(f"{CUSTOMERS}/{customer.id}", headers=admin, json={"email": "nope"})
    assert bad.status_code == 400, bad.text
    assert await entries(client, admin, customer.id) == before


# --- relations ---------------------------------------------------------------------------------


async def test_relation_writes_are_entries_of_the_customers_timeline(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, staff: Staff
) -> None:
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}"
    agent = token_for("agent")

    async def one(
        response: Any, action: str, status: int = 201, who: str = "agent"
    ) -> dict[str, Any]:
        request_id = await written(response, status)
        [entry] = [
            e
            for e in by_request(await entries(client, agent, customer.id), request_id)
            if e["action"] == action
        ]
        authored(entry, staff, who)
        return entry

    interest = await one(
        await client.post(
            f"{url}/properties",
            headers=agent,
            json={"propertyId": "prop_v1", "propertyTitle": "فيلا", "status": "interested"},
        ),
        "propertyInterest.added",
    )
    assert changes_of(interest)["status"] == (None, "interested")
    patched = await one(
        await client.patch(
            f"{url}/properties/{interest['entityId']}", headers=agent, json={"status": "viewed"}
        ),
        "propertyInterest.updated",
        200,
    )
    assert changes_of(patched)["status"] == ("interested", "viewed")

    logged = await one(
        await client.post(
            f"{url}/interactions", headers=agent, json={"type": "call", "notes": "مكالمة أولى"}
        ),
        "interaction.logged",
    )
    assert changes_of(logged)["notes"] == (None, "مكالمة أولى")

    scheduled = await one(
        await client.post(
            f"{url}/appointments",
            headers=agent,
            json={"title": "معاينة", "type": "site_visit", "datetime": later(10), "duration": 60},
        ),
        "appointment.scheduled",
    )
    moved = await one(
        await client.patch(
            f"{url}/appointments/{scheduled['entityId']}", headers=agent, json={"notes": "تأكيد"}
        ),
        "appointment.updated",
        200,
    )
    assert changes_of(moved)["notes"] == (None, "تأكيد")
    assert "datetime" in changes_of(scheduled)  # the API's name of the instant

    reminder = await one(
        await client.post(
            f"{url}/reminders",
            headers=agent,
            json={"title": "متابعة", "datetime": later(2), "type": "follow_up"},
        ),
        "reminder.created",
    )
    done = await one(
        await client.post(f"{url}/reminders/{reminder['entityId']}/complete", headers=agent),
        "reminder.completed",
        200,
    )
    assert changes_of(done)["status"] == ("pending", "completed")

    document = await one(
        await client.post(
            f"{url}/documents",
            headers=agent,
            files={
                "file": (
                    "a.pdf",
                    b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n<<>>\nendobj\n",
                    "application/pdf",
                )
            },
            data={"name": "عقد", "type": "contract"},
        ),
        "document.uploaded",
    )
    assert changes_of(document)["name"] == (None, "عقد")
    await one(
        await client.delete(f"{url}/documents/{document['entityId']}", headers=token_for("admin")),
        "document.deleted",
        200,
        who="admin",
    )


# --- actions -----------------------------------------------------------------------------------


async def test_action_writes_are_entries_named_for_what_happened(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, staff: Staff
) -> None:
    customer = await new_customer()
    admin = token_for("admin")
    created = await client.post(
        ACTIONS,
        headers=admin,
        json={"customerId": customer.id, "type": "follow_up", "title": "متابعة", "priority": "low"},
    )
    await written(created, 201)
    action_id = created.json()["data"]["action"]["id"]
    url = f"{ACTIONS}/{action_id}"
    steps: list[tuple[str, str, dict[str, Any] | None, str, tuple[str, Any, Any]]] = [
        ("PATCH", url, {"priority": "high"}, "action.updated", ("priority", "low", "high")),
        ("POST", f"{url}/start", None, "action.started", ("status", "pending", "in_progress")),
        ("POST", f"{url}/reopen", None, "action.reopened", ("status", "in_progress", "pending")),
        (
            "POST",
            f"{url}/snooze",
            {"snoozedUntil": later(3)},
            "action.snoozed",
            ("status", "pending", "snoozed"),
        ),
        ("POST", f"{url}/reopen", None, "action.reopened", ("status", "snoozed", "pending")),
        (
            "POST",
            f"{url}/notes",
            {"content": "تم الاتصال"},
            "actionNote.added",
            ("content", None, "تم الاتصال"),
        ),
        (
            "POST",
            f"{url}/complete",
            {"outcome": "تم"},
            "action.completed",
            ("status", "pending", "completed"),
        ),
    ]
    for method, path, body, action, (field, old, new) in steps:
        response = await client.request(method, path, headers=admin, json=body)
        request_id = await written(response, 201 if path.endswith("/notes") else 200)
        [entry] = [
            e
            for e in by_request(await entries(client, admin, customer.id), request_id)
            if e["action"] == action
        ]
        authored(entry, staff, "admin")
        assert changes_of(entry)[field] == (old, new), entry
    all_entries = await entries(client, admin, customer.id)
    [made] = [
        e for e in all_entries if e["action"] == "action.created" and e["entityId"] == action_id
    ]
    assert changes_of(made)["title"] == (None, "متابعة")

    other = await client.post(
        ACTIONS,
        headers=admin,
        json={"customerId": customer.id, "type": "follow_up", "title": "ثانية"},
    )
    other_id = other.json()["data"]["action"]["id"]
    request_id = await written(
        await client.post(f"{ACTIONS}/{other_id}/dismiss", headers=admin, json={"reason": "مكرر"})
    )
    [entry] = [
        e
        for e in by_request(await entries(client, admin, customer.id), request_id)
        if e["entityType"] == "action"
    ]
    assert entry["action"] == "action.dismissed"
    assert changes_of(entry)["dismissReason"] == (None, "مكرر")


async def test_each_item_of_a_bulk_operation_is_its_own_entry(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, staff: Staff
) -> None:
    customer = await new_customer()
    admin = token_for("admin")
    ids = []
    for n in range(3):
        created = await client.post(
            ACTIONS,
            headers=admin,
            json={"customerId": customer.id, "type": "follow_up", "title": f"مهمة {n}"},
        )
        ids.append(created.json()["data"]["action"]["id"])
    request_id = await written(
        await client.post(
            f"{ACTIONS}/bulk",
            headers=token_for("manager"),
            json={"actionIds": ids, "updates": {"priority": "urgent"}},
        )
    )
    bulk = by_request(await entries(client, admin, customer.id), request_id)
    assert sorted(e["entityId"] for e in bulk) == sorted(ids)
    for entry in bulk:
        authored(entry, staff, "manager")
        assert entry["action"] == "action.updated"
        assert changes_of(entry)["priority"][1] == "urgent"


# --- employees, settings, exports: entries outside any customer's timeline ---------------------


async def test_employee_settings_and_export_writes_are_audited(
    client: Client, token_for: TokenFor, hub: Hub, staff: Staff
) -> None:
    admin = token_for("admin")
    created = await client.post(
        "/api/v1/employees", headers=admin, json={"name": "ريم", "role": "sales_agent"}
    )
    create_id = await written(created, 201)
    employee_id = created.json()["data"]["employee"]["id"]
    update_id = await written(
        await client.patch(
            f"/api/v1/employees/{employee_id}", headers=admin, json={"title": "مستشارة"}
        )
    )
    settings_id = await written(
        await client.patch(
            "/api/v1/organization/settings", headers=admin, json={"retentionYears": 12}
        )
    )
    export = await client.get(f"{CUSTOMERS}/export", headers=admin, params={"format": "csv"})
    export_id = await written(export)

    log = tables.audit_log
    async with hub.engine.connect() as conn:
        rows = (
            (
                await conn.execute(
                    select(log).where(log.c.organization_id == staff.org).order_by(log.c.id)
                )
            )
            .mappings()
            .all()
        )
    found = {r["request_id"]: r for r in rows}
    for request_id, action in [
        (create_id, "employee.created"),
        (update_id, "employee.updated"),
        (settings_id, "organization.settings_updated"),
        (export_id, "customers.exported"),
    ]:
        row = found[request_id]
        assert row["action"] == action
        assert row["actor_id"] == staff.id("admin")
        assert row["actor_name"] == staff.employees["admin"].name
        assert row["customer_id"] is None
    assert {"field": "title", "from": None, "to": "مستشارة"} in found[update_id]["changes"]
    assert {"field": "retentionYears", "from": None, "to": 12} in found[settings_id]["changes"]
    assert {"field": "format", "from": None, "to": "csv"} in found[export_id]["changes"]


# --- the timeline: paging, scope, bad input ----------------------------------------------------


async def test_the_timeline_pages_newest_first_by_cursor(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer()
    admin = token_for("admin")
    for n in range(5):
        await written(
            await client.put(f"{CUSTOMERS}/{customer.id}", headers=admin, json={"notes": f"n{n}"})
        )
    everything = await entries(client, admin, customer.id)
    assert [(e["at"], e["id"]) for e in everything] == sorted(
        ((e["at"], e["id"]) for e in everything), reverse=True
    )
    assert changes_of(everything[0])["notes"][1] == "n4"  # the newest first

    seen: list[str] = []
    cursor = ""
    while True:
        data = await page(client, admin, customer.id, limit=2, cursor=cursor)
        assert len(data["entries"]) <= 2
        seen += [e["id"] for e in data["entries"]]
        if not data["pagination"]["hasNext"]:
            break
        cursor = data["pagination"]["nextCursor"]
    assert seen == [e["id"] for e in everything]
    first = await page(client, admin, customer.id, limit=2)
    assert first["pagination"]["hasPrevious"] is False
    assert first["customerId"] == customer.id


async def test_the_timeline_is_read_in_the_callers_scope(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer(assigned="agent")
    url = f"{CUSTOMERS}/{customer.id}/timeline"
    for who in ("admin", "manager", "agent"):
        response = await client.get(url, headers=token_for(who))
        assert response.status_code == 200, (who, response.text)
    outsider = await client.get(url, headers=token_for("outsider"))  # an agent of another team
    assert outsider.status_code == 403, outsider.text
    assert outsider.json()["error"]["code"] == "PERMISSION_DENIED"
    for who in ("outsider", "agent2", "viewer"):  # exactly the access of GET /customers/{id}
        read = await client.get(f"{CUSTOMERS}/{customer.id}", headers=token_for(who))
        timeline = await client.get(url, headers=token_for(who))
        assert timeline.status_code == read.status_code, (who, timeline.text)
    other = await client.get(url, headers=token_for("other_admin"))
    assert other.status_code == 404, other.text
    missing = await client.get(f"{CUSTOMERS}/cust_missing/timeline", headers=token_for("admin"))
    assert missing.status_code == 404, missing.text


async def test_bad_limit_or_cursor_is_a_400_naming_it(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer()
    url = f"{CUSTOMERS}/{customer.id}/timeline"
    for params, field in [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "eyJzIjoibmFtZSJ9"}, "cursor"),
    ]:
        response = await client.get(url, headers=token_for("admin"), params=params)
        assert response.status_code == 400, (params, response.text)
        fields = [d.get("field") for d in response.json()["error"]["details"]]
        assert field in fields, (params, response.text)

"""Privacy under the PDPL over HTTP (rules §8): the consent ledger, data-subject requests and
their clock, the access export. Admins only (other roles 403), audited, another organization's
customer or request is a 404, bad input is a 400 naming the field and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.entrypoints.bootstrap import Hub

if TYPE_CHECKING:
    from conftest import NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
REQUESTS = "/api/v1/privacy-requests"


def consents_url(customer_id: str) -> str:
    return f"/api/v1/customers/{customer_id}/consents"


def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    error: dict[str, Any] = body["error"]
    return error


def failing_fields(response: Any) -> set[str]:
    return {d["field"] for d in error_of(response, 400, "VALIDATION_ERROR")["details"]}


async def timeline_actions(client: Client, headers: dict[str, str], customer_id: str) -> list[str]:
    response = await client.get(f"/api/v1/customers/{customer_id}/timeline", headers=headers)
    assert response.status_code == 200, response.text
    return [e["action"] for e in response.json()["data"]["entries"]]


# --- consents ----------------------------------------------------------------------------------


async def test_consent_changes_are_appended_and_the_last_one_is_current(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, staff: Staff
) -> None:
    admin = token_for("admin")
    customer = await new_customer()
    url = consents_url(customer.id)
    empty = (await client.get(url, headers=admin)).json()["data"]
    assert empty == {"customerId": customer.id, "consents": [], "history": []}

    granted = await client.put(
        url,
        headers=admin,
        json={
            "consents": [
                {"channel": "whatsapp", "granted": True, "source": "web_form", "notes": "نموذج"},
                {"channel": "marketing", "granted": True, "source": "web_form"},
            ]
        },
    )
    assert granted.status_code == 200, granted.text
    withdrawn = await client.put(
        url,
        headers=admin,
        json={"consents": [{"channel": "whatsapp", "granted": False, "source": "call"}]},
    )
    data = withdrawn.json()["data"]
    current = {c["channel"]: c for c in data["consents"]}
    assert set(current) == {"whatsapp", "marketing"}
    assert current["whatsapp"]["granted"] is False
    assert current["whatsapp"]["source"] == "call"
    assert current["whatsapp"]["actorId"] == staff.id("admin")
    assert current["marketing"]["granted"] is True
    history = [(h["channel"], h["granted"]) for h in data["history"]]
    assert history[0] == ("whatsapp", False)  # newest first
    assert sorted(history) == [("marketing", True), ("whatsapp", False), ("whatsapp", True)]
    assert (await client.get(url, headers=admin)).json()["data"] == data

    # A retried change appends nothing.
    again = await client.put(
        url,
        headers=admin,
        json={"consents": [{"channel": "whatsapp", "granted": False, "source": "call"}]},
    )
    assert len(again.json()["data"]["history"]) == 3
    actions = await timeline_actions(client, admin, customer.id)
    assert actions.count("consent.changed") == 3


async def test_include_consents_shows_the_current_state_to_admins(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    admin = token_for("admin")
    customer = await new_customer()
    url = f"/api/v1/customers/{customer.id}"
    before = await client.get(url, params={"include": "consents"}, headers=admin)
    assert before.json()["data"]["customer"]["consents"] == []
    await client.put(
        consents_url(customer.id),
        headers=admin,
        json={"consents": [{"channel": "sms", "granted": True, "source": "branch"}]},
    )
    after = await client.get(url, params={"include": "consents"}, headers=admin)
    (consent,) = after.json()["data"]["customer"]["consents"]
    assert (consent["channel"], consent["granted"]) == ("sms", True)
    plain = await client.get(url, headers=admin)
    assert "consents" not in plain.json()["data"]["customer"]
    agent = await client.get(url, params={"include": "consents"}, headers=token_for("agent"))
    error_of(agent, 403, "PERMISSION_DENIED")


async def test_the_consent_filter_lists_customers_by_their_current_consent(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    admin = token_for("admin")
    yes, no, never = await new_customer(), await new_customer(), await new_customer()
    for customer, granted in ((yes, True), (no, False)):
        response = await client.put(
            consents_url(customer.id),
            headers=admin,
            json={"consents": [{"channel": "whatsapp", "granted": granted, "source": "form"}]},
        )
        assert response.status_code == 200, response.text

    async def listed(value: str) -> set[str]:
        response = await client.get(
            "/api/v1/customers", params={"consent": value, "limit": 100}, headers=admin
        )
        assert response.status_code == 200, response.text
        return {c["id"] for c in response.json()["data"]["customers"]}

    ours = {yes.id, no.id, never.id}
    assert await listed("whatsapp") & ours == {yes.id}
    assert await listed("!whatsapp") & ours == {no.id, never.id}
    assert await listed("sms") & ours == set()
    bad = await client.get("/api/v1/customers", params={"consent": "fax"}, headers=admin)
    assert failing_fields(bad) == {"consent"}
    agent = await client.get(
        "/api/v1/customers", params={"consent": "whatsapp"}, headers=token_for("agent")
    )
    error_of(agent, 403, "PERMISSION_DENIED")


async def test_bad_consents_name_each_field_and_change_nothing(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    admin = token_for("admin")
    customer = await new_customer()
    url = consents_url(customer.id)
    twice = await client.put(
        url,
        headers=admin,
        json={
            "consents": [
                {"channel": "sms", "granted": True, "source": "form"},
                {"channel": "sms", "granted": False, "source": "form"},
            ]
        },
    )
    # Well-formed (no schema states "one change per channel"), so 422 rather than 400.
    repeated = error_of(twice, 422, "VALIDATION_ERROR")["details"]
    assert [d["field"] for d in repeated] == ["consents[1].channel"]
    blank = await client.put(
        url,
        headers=admin,
        json={"consents": [{"channel": "call", "granted": True, "source": "   "}]},
    )
    assert failing_fields(blank) == {"consents[0].source"}
    for body in ({"consents": []}, {"consents": [{"channel": "fax", "granted": True}]}, {}):
        response = await client.put(url, headers=admin, json=body)
        assert response.status_code == 400, response.text
    assert (await client.get(url, headers=admin)).json()["data"]["history"] == []


async def test_consents_are_admin_only_and_invisible_across_organizations(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer()
    url = consents_url(customer.id)
    body = {"consents": [{"channel": "email", "granted": True, "source": "form"}]}
    for role in ("manager", "agent", "viewer"):
        error_of(await client.get(url, headers=token_for(role)), 403, "PERMISSION_DENIED")
        error_of(
            await client.put(url, headers=token_for(role), json=body), 403, "PERMISSION_DENIED"
        )
    other = token_for("other_admin")
    error_of(await client.get(url, headers=other), 404, "RESOURCE_NOT_FOUND")
    error_of(await client.put(url, headers=other, json=body), 404, "RESOURCE_NOT_FOUND")
    history = (await client.get(url, headers=token_for("admin"))).json()["data"]["history"]
    assert history == []


# --- requests ----------------------------------------------------------------------------------


async def create_request(
    client: Client, headers: dict[str, str], customer_id: str, **body: Any
) -> dict[str, Any]:
    response = await client.post(
        REQUESTS, headers=headers, json={"customerId": customer_id, "type": "access", **body}
    )
    assert response.status_code == 201, response.text
    request: dict[str, Any] = response.json()["data"]["request"]
    return request


async def test_a_request_is_due_30_local_days_after_receipt_and_moves_along_its_statuses(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    admin = token_for("admin")
    customer = await new_customer()
    received = "2026-01-10T22:30:00Z"  # already 11 January in Riyadh (UTC+3)
    made = await create_request(client, admin, customer.id, receivedAt=received, notes="بالبريد")
    assert made["status"] == "received"
    assert made["dueAt"] == "2026-02-10T20:59:59.999999Z"  # end of 10 February, Riyadh
    assert made["originalDueAt"] == made["dueAt"]
    assert made["extended"] is False
    assert made["createdBy"] == staff.id("admin")
    url = f"{REQUESTS}/{made['id']}"
    assert (await client.get(url, headers=admin)).json()["data"]["request"]["id"] == made["id"]

    skip = await client.patch(url, headers=admin, json={"status": "completed"})
    assert error_of(skip, 422, "BUSINESS_RULE_VIOLATION")["details"]["field"] == "status"
    started = await client.patch(url, headers=admin, json={"status": "in_progress"})
    assert started.json()["data"]["request"]["status"] == "in_progress"
    no_reason = await client.patch(url, headers=admin, json={"status": "rejected"})
    assert failing_fields(no_reason) == {"reason"}
    rejected = await client.patch(
        url, headers=admin, json={"status": "rejected", "reason": "identity not verified"}
    )
    done = rejected.json()["data"]["request"]
    assert (done["status"], done["reason"]) == ("rejected", "identity not verified")
    assert "closedAt" in done
    reopen = await client.patch(url, headers=admin, json={"status": "in_progress"})
    error_of(reopen, 422, "BUSINESS_RULE_VIOLATION")
    actions = await timeline_actions(client, admin, customer.id)
    assert actions.count("privacyRequest.updated") == 2
    assert "privacyRequest.created" in actions


async def test_a_request_is_extended_once_with_a_reason(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    admin = token_for("admin")
    customer = await new_customer()
    made = await create_request(client, admin, customer.id, type="erasure")
    url = f"{REQUESTS}/{made['id']}/extend"
    assert failing_fields(await client.post(url, headers=admin, json={"reason": " "})) == {"reason"}
    too_long = await client.post(url, headers=admin, json={"reason": "complex", "days": 31})
    assert failing_fields(too_long) == {"days"}
    extended = await client.post(url, headers=admin, json={"reason": "complex", "days": 10})
    assert extended.status_code == 200, extended.text
    request = extended.json()["data"]["request"]
    due = datetime.fromisoformat(request["dueAt"])
    assert due - datetime.fromisoformat(made["dueAt"]) == timedelta(days=10)
    assert request["extended"] is True
    assert request["extensionReason"] == "complex"
    again = await client.post(url, headers=admin, json={"reason": "more"})
    assert error_of(again, 422, "BUSINESS_RULE_VIOLATION")["details"]["field"] == "extendedAt"


async def test_requests_are_listed_with_overdue_and_due_soon_filters_and_counted_in_stats(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    admin = token_for("admin")
    customer = await new_customer()
    now = datetime.now(UTC)
    overdue = await create_request(
        client, admin, customer.id, receivedAt=(now - timedelta(days=40)).isoformat()
    )
    soon = await create_request(
        client, admin, customer.id, receivedAt=(now - timedelta(days=27)).isoformat()
    )
    later = await create_request(client, admin, customer.id, type="correction")
    closed = await create_request(
        client, admin, customer.id, receivedAt=(now - timedelta(days=45)).isoformat()
    )
    for status in ("in_progress", "completed"):
        response = await client.patch(
            f"{REQUESTS}/{closed['id']}", headers=admin, json={"status": status}
        )
        assert response.status_code == 200, response.text
    assert overdue["overdue"] is True
    assert soon["overdue"] is False

    async def ids(**params: Any) -> list[str]:
        response = await client.get(
            REQUESTS, params={"customerId": customer.id, **params}, headers=admin
        )
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["data"]["requests"]]

    assert await ids() == [later["id"], soon["id"], overdue["id"], closed["id"]]
    assert await ids(overdue="true") == [overdue["id"]]
    assert await ids(dueSoon="true") == [soon["id"]]
    assert await ids(type="correction") == [later["id"]]
    assert await ids(status="completed") == [closed["id"]]
    paged = await client.get(
        REQUESTS, params={"customerId": customer.id, "limit": 1}, headers=admin
    )
    assert paged.json()["data"]["pagination"]["totalItems"] == 4
    bad = await client.get(REQUESTS, params={"status": "lost", "limit": 0}, headers=admin)
    assert failing_fields(bad) >= {"status", "limit"}
    assert await ids(overdue="false") == [later["id"], soon["id"], closed["id"]]
    assert await ids(dueSoon="false", overdue="false") == [later["id"], closed["id"]]

    stats = (await client.get("/api/v1/customers/stats", headers=admin)).json()["data"]["stats"]
    assert stats["privacyRequests"] == {"open": 3, "overdue": 1, "dueSoon": 1}
    agent_stats = await client.get("/api/v1/customers/stats", headers=token_for("agent"))
    assert "privacyRequests" not in agent_stats.json()["data"]["stats"]


async def test_bad_requests_name_each_field_and_store_nothing(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    admin = token_for("admin")
    customer = await new_customer()
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    bad = await client.post(
        REQUESTS,
        headers=admin,
        json={"customerId": customer.id, "type": "access", "receivedAt": future},
    )
    assert failing_fields(bad) == {"receivedAt"}
    early = await client.post(
        REQUESTS,
        headers=admin,
        json={"customerId": customer.id, "type": "access", "receivedAt": "2020-01-01T00:00:00Z"},
    )
    assert failing_fields(early) == {"receivedAt"}
    unknown = await client.post(
        REQUESTS, headers=admin, json={"customerId": customer.id, "type": "deletion"}
    )
    assert failing_fields(unknown) == {"type"}
    missing = await client.post(REQUESTS, headers=admin, json={"type": "access"})
    assert failing_fields(missing) == {"customerId"}
    absent = await client.post(
        REQUESTS, headers=admin, json={"customerId": "cus_nobody", "type": "access"}
    )
    error_of(absent, 404, "RESOURCE_NOT_FOUND")
    listed = await client.get(REQUESTS, params={"customerId": customer.id}, headers=admin)
    assert listed.json()["data"]["requests"] == []


async def test_requests_are_admin_only_and_invisible_across_organizations(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    admin = token_for("admin")
    customer = await new_customer()
    made = await create_request(client, admin, customer.id)
    url = f"{REQUESTS}/{made['id']}"
    for role in ("manager", "agent", "viewer"):
        headers = token_for(role)
        error_of(await client.get(REQUESTS, headers=headers), 403, "PERMISSION_DENIED")
        error_of(await client.get(url, headers=headers), 403, "PERMISSION_DENIED")
        created = await client.post(
            REQUESTS, headers=headers, json={"customerId": customer.id, "type": "access"}
        )
        error_of(created, 403, "PERMISSION_DENIED")
        moved = await client.patch(url, headers=headers, json={"status": "in_progress"})
        error_of(moved, 403, "PERMISSION_DENIED")
    other = token_for("other_admin")
    error_of(await client.get(url, headers=other), 404, "RESOURCE_NOT_FOUND")
    moved = await client.patch(url, headers=other, json={"status": "in_progress"})
    error_of(moved, 404, "RESOURCE_NOT_FOUND")
    extended = await client.post(f"{url}/extend", headers=other, json={"reason": "x"})
    error_of(extended, 404, "RESOURCE_NOT_FOUND")
    foreign = await client.post(
        REQUESTS, headers=other, json={"customerId": customer.id, "type": "access"}
    )
    error_of(foreign, 404, "RESOURCE_NOT_FOUND")
    assert (await client.get(REQUESTS, headers=other)).json()["data"]["requests"] == []
    still = (await client.get(url, headers=admin)).json()["data"]["request"]
    assert still["status"] == "received"


# --- the access export -------------------------------------------------------------------------


async def test_the_access_export_holds_everything_about_the_customer(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    admin = token_for("admin")
    customer = await new_customer(notes="يفضل الاتصال مساء")
    base = f"/api/v1/customers/{customer.id}"
    logged = await client.post(
        f"{base}/interactions",
        headers=admin,
        json={"type": "call", "notes": "اتصال أول", "direction": "outbound"},
    )
    assert logged.status_code == 201, logged.text
    uploaded = await client.post(
        f"{base}/documents",
        headers=admin,
        files={"file": ("id.pdf", b"%PDF-1.4 test", "application/pdf")},
        data={"type": "id_copy"},
    )
    assert uploaded.status_code == 201, uploaded.text
    await client.put(
        consents_url(customer.id),
        headers=admin,
        json={"consents": [{"channel": "call", "granted": True, "source": "call"}]},
    )
    request = await create_request(client, admin, customer.id)

    response = await client.get(f"{base}/personal-data", headers=admin)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "private, no-store"
    data = response.json()["data"]["personalData"]
    assert data["customer"]["id"] == customer.id
    assert data["customer"]["notes"] == "يفضل الاتصال مساء"
    assert [i["notes"] for i in data["interactions"]] == ["اتصال أول"]
    (document,) = data["documents"]
    assert document["fileUrl"] == f"{base}/documents/{document['id']}"
    assert [c["channel"] for c in data["consents"]] == ["call"]
    assert [r["id"] for r in data["privacyRequests"]] == [request["id"]]
    assert data["customer"]["stageHistory"]
    assert data["truncated"] == []
    audited = {e["action"] for e in data["audit"]}
    assert {"customer.created", "consent.changed", "privacyRequest.created"} <= audited
    assert "customer.personal_data_exported" in audited
    # The document link works with the same token.
    download = await client.get(document["fileUrl"], headers=admin)
    assert download.status_code == 200


async def test_the_access_export_is_admin_only_and_invisible_across_organizations(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer()
    url = f"/api/v1/customers/{customer.id}/personal-data"
    for role in ("manager", "agent", "viewer"):
        error_of(await client.get(url, headers=token_for(role)), 403, "PERMISSION_DENIED")
    error_of(await client.get(url, headers=token_for("other_admin")), 404, "RESOURCE_NOT_FOUND")
    missing = "/api/v1/customers/cus_missing/personal-data"
    error_of(await client.get(missing, headers=token_for("admin")), 404, "RESOURCE_NOT_FOUND")
    actions = await timeline_actions(client, token_for("admin"), customer.id)
    assert "customer.personal_data_exported" not in actions

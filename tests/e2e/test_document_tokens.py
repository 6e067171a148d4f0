"""Tokens shaped exactly like the API document's JWT example work on everything the role allows.

The document's payload (``userId``, ``email``, ``role``, ``organizationId``, the five
permissions, ``iat``, ``exp`` — no ``name``) is minted for each of the four roles, and every
operation of the OpenAPI document is called with it on records inside the caller's scope: what
rules §4 allows answers 2xx, what it does not answers 403 — never 401, never 403 for a missing
claim. A table below holds one request per operation; a test fails when the OpenAPI document
gains an operation the table does not cover.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import jwt
import pytest
from attrs import define, field
from conftest import TEST_SECRET, NewCustomer, Staff, TokenFor
from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.domain.enums import Role
from customers_hub.entrypoints.bootstrap import Hub

Client = AsyncTestClient[Litestar]

DOCUMENT_PERMISSIONS = [
    "customers.read",
    "customers.write",
    "actions.read",
    "actions.write",
    "customers.delete",
]
"""The ``permissions`` claim of the document's example, in its order."""

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF"
API = "/api/v1"
CUSTOMERS = f"{API}/customers"
ACTIONS = f"{CUSTOMERS}/actions"
WEBHOOKS = f"{API}/webhooks"
PRIVACY = f"{API}/privacy-requests"
RULES = f"{API}/assignment-rules"
IMPORTS = f"{CUSTOMERS}/imports"
HOOK_URL = "https://hooks.example.com/customers-hub"  # does not resolve here: accepted

# Whose records each role works on: its own (the manager's: an agent of its team).
OWNER = {"admin": "admin", "sales_manager": "agent", "sales_agent": "agent", "viewer": "viewer"}
STAFF_KEY = {
    "admin": "admin",
    "sales_manager": "manager",
    "sales_agent": "agent",
    "viewer": "viewer",
}


def document_token(user_id: str, role: str, organization_id: str) -> str:
    """The document's example payload, field for field, for ``user_id`` in ``role``."""
    now = int(time.time())
    claims = {
        "userId": user_id,
        "email": "agent@taearif.com",
        "role": role,
        "organizationId": organization_id,
        "permissions": DOCUMENT_PERMISSIONS,
        "iat": now,
        "exp": now + 86_400,
    }
    return jwt.encode(claims, TEST_SECRET, algorithm="HS256")


def later(days: int) -> str:
    return time.strftime("%Y-%m-%dT10:00:00Z", time.gmtime(time.time() + days * 86_400))


@define
class Records:
    """Records in the caller's scope, created on first use with an admin token of the suite."""

    client: Client
    admin: dict[str, str]
    customer_id: str
    staff: Staff
    owner: str
    role: str = "admin"
    _cache: dict[str, str] = field(factory=dict)

    async def _create(self, key: str, url: str, **kwargs: Any) -> str:
        if key not in self._cache:
            response = await self.client.post(url, headers=self.admin, **kwargs)
            assert response.status_code == 201, response.text
            data = response.json()["data"]
            self._cache[key] = next(iter(data.values()))["id"]
        return self._cache[key]

    async def action(self) -> str:
        body = {
            "customerId": self.customer_id,
            "type": "follow_up",
            "title": "متابعة بعد إرسال العروض",
            "priority": "high",
            "assignedTo": self.staff.id(self.owner),
        }
        return await self._create("action", ACTIONS, json=body)

    async def interest(self) -> str:
        body = {"propertyId": "prop_villa_023", "status": "interested"}
        return await self._create(
            "interest", f"{CUSTOMERS}/{self.customer_id}/properties", json=body
        )

    async def appointment(self) -> str:
        body = {
            "title": "معاينة فيلا الياسمين",
            "type": "site_visit",
            "datetime": later(days=5),
            "duration": 60,
        }
        return await self._create(
            "appointment", f"{CUSTOMERS}/{self.customer_id}/appointments", json=body
        )

    async def reminder(self) -> str:
        body = {"title": "متابعة بعد المعاينة", "datetime": later(days=2), "type": "follow_up"}
        return await self._create(
            "reminder", f"{CUSTOMERS}/{self.customer_id}/reminders", json=body
        )

    async def webhook(self) -> str:
        body = {"url": HOOK_URL, "events": ["*"]}
        return await self._create("webhook", WEBHOOKS, json=body)

    async def delivery(self) -> tuple[str, str]:
        """A webhook and one of its deliveries (the relay creates it for the next event)."""
        webhook = await self.webhook()
        await _create_customer(self.client, self.admin, self)
        url = f"{WEBHOOKS}/{webhook}/deliveries"
        for _ in range(100):
            listed = await self.client.get(url, headers=self.admin)
            assert listed.status_code == 200, listed.text
            deliveries = listed.json()["data"]["deliveries"]
            if deliveries:
                return webhook, deliveries[0]["id"]
            await asyncio.sleep(0.05)
        raise AssertionError("the relay created no delivery")

    async def document(self) -> str:
        return await self._create(
            "document",
            f"{CUSTOMERS}/{self.customer_id}/documents",
            files={"file": ("عقد.pdf", PDF, "application/pdf")},
            data={"name": "عقد الإيجار", "type": "contract"},
        )


Call = Callable[[Client, dict[str, str], Records], Awaitable[httpx.Response]]
WRITERS = {"admin", "sales_manager", "sales_agent"}
EVERYONE = {*WRITERS, "viewer"}
MANAGERS = {"admin", "sales_manager"}
IMPORTERS = MANAGERS


async def _create_customer(c: Client, h: dict[str, str], r: Records) -> httpx.Response:
    body = {
        "name": "عبدالله الشمري",
        "phone": f"05{time.time_ns() % 10**8:08d}",
        "source": "whatsapp",
    }
    return await c.post(CUSTOMERS, headers=h, json=body)


async def _bulk(
    c: Client, h: dict[str, str], r: Records, path: str, **extra: Any
) -> httpx.Response:
    body = {"actionIds": [await r.action()], **extra}
    return await c.post(f"{ACTIONS}/bulk{path}", headers=h, json=body)


async def _source(r: Records) -> str:
    """A second customer of the owner's, to merge into the record's customer."""
    body = {
        "name": "عبدالله الشمري",
        "phone": f"05{time.time_ns() % 10**8:08d}",
        "source": "whatsapp",
        "assignedEmployeeId": r.staff.id(r.owner),
    }
    response = await r.client.post(CUSTOMERS, headers=r.admin, json=body)
    assert response.status_code == 201, response.text
    customer_id: str = response.json()["data"]["customer"]["id"]
    return customer_id


async def _merge(c: Client, h: dict[str, str], r: Records) -> httpx.Response:
    url = f"{CUSTOMERS}/{r.customer_id}/merge"
    return await c.post(url, headers=h, json={"sourceIds": [await _source(r)]})


async def _unmerge(c: Client, h: dict[str, str], r: Records) -> httpx.Response:
    merged = await _merge(c, r.admin, r)
    assert merged.status_code == 200, merged.text
    return await c.post(f"{CUSTOMERS}/{r.customer_id}/unmerge", headers=h, json={})


async def _privacy_request(r: Records) -> str:
    body = {"customerId": r.customer_id, "type": "access"}
    return await r._create("privacy_request", PRIVACY, json=body)


def _import_file() -> dict[str, Any]:
    row = f"عبدالله الشمري,05{time.time_ns() % 10**8:08d}"
    content = ("\ufeffname,phone\r\n" + row + "\r\n").encode()
    return {"files": {"file": ("leads.csv", content, "text/csv")}}


async def _import_job(c: Client, h: dict[str, str], r: Records) -> str:
    """A job the caller may see: its own where it may import (a manager sees only its own),
    else the admin's."""
    starter = h if r.role in IMPORTERS else r.admin
    response = await c.post(IMPORTS, headers=starter, **_import_file())
    assert response.status_code == 202, response.text
    job_id: str = response.json()["data"]["job"]["id"]
    return job_id


async def _rule(r: Records) -> str:
    """An assignment rule over the owner's team (a manager may manage it)."""
    body = {"name": "توزيع", "strategy": "round_robin", "employeeIds": [r.staff.id("agent")]}
    return await r._create("rule", RULES, json=body)


# operationId → (the roles §4 allows, the request)
OPERATIONS: dict[str, tuple[set[str], Call]] = {
    "listCustomers": (EVERYONE, lambda c, h, r: c.get(CUSTOMERS, headers=h)),
    "createCustomer": (WRITERS, _create_customer),
    "getCustomer": (EVERYONE, lambda c, h, r: c.get(f"{CUSTOMERS}/{r.customer_id}", headers=h)),
    "updateCustomer": (
        WRITERS,
        lambda c, h, r: c.put(
            f"{CUSTOMERS}/{r.customer_id}", headers=h, json={"city": "جدة", "priority": "high"}
        ),
    ),
    "deleteCustomer": (
        {"admin", "sales_manager"},
        lambda c, h, r: c.delete(f"{CUSTOMERS}/{r.customer_id}", headers=h),
    ),
    "restoreCustomer": ({"admin"}, lambda c, h, r: _restore(c, h, r)),
    "getCustomerFilterOptions": (
        EVERYONE,
        lambda c, h, r: c.get(f"{CUSTOMERS}/filters", headers=h),
    ),
    "queryCustomers": (
        EVERYONE,
        lambda c, h, r: c.post(
            f"{CUSTOMERS}/query",
            headers=h,
            json={"filters": {"stage": {"eq": "new_lead"}}},  # the document's shape
        ),
    ),
    "searchCustomers": (
        EVERYONE,
        lambda c, h, r: c.post(f"{CUSTOMERS}/search", headers=h, json={"query": "محمد"}),
    ),
    "getCustomerStats": (EVERYONE, lambda c, h, r: c.get(f"{CUSTOMERS}/stats", headers=h)),
    "exportCustomers": (
        EVERYONE,
        lambda c, h, r: c.get(f"{CUSTOMERS}/export", headers=h, params={"format": "xlsx"}),
    ),
    "listDuplicatePairs": (EVERYONE, lambda c, h, r: c.get(f"{CUSTOMERS}/duplicates", headers=h)),
    "getCustomerDuplicates": (
        EVERYONE,
        lambda c, h, r: c.get(f"{CUSTOMERS}/{r.customer_id}/duplicates", headers=h),
    ),
    "getCustomerCompliance": (
        EVERYONE,
        lambda c, h, r: c.get(f"{CUSTOMERS}/{r.customer_id}/compliance", headers=h),
    ),
    "getCustomerTimeline": (
        EVERYONE,
        lambda c, h, r: c.get(f"{CUSTOMERS}/{r.customer_id}/timeline", headers=h),
    ),
    "changeCustomerStage": (
        WRITERS,
        lambda c, h, r: c.patch(
            f"{CUSTOMERS}/{r.customer_id}/stage",
            headers=h,
            json={"toStage": "qualified", "notes": "تم التأكد من الميزانية"},
        ),
    ),
    "assignCustomer": (
        {"admin", "sales_manager"},
        lambda c, h, r: c.post(
            f"{CUSTOMERS}/{r.customer_id}/assign",
            headers=h,
            json={"employeeId": r.staff.id("agent2"), "notes": "توزيع العمل"},
        ),
    ),
    "addPropertyInterest": (
        WRITERS,
        lambda c, h, r: c.post(
            f"{CUSTOMERS}/{r.customer_id}/properties",
            headers=h,
            json={"propertyId": "prop_apt_045", "status": "interested"},
        ),
    ),
    "updatePropertyInterestStatus": (
        WRITERS,
        lambda c, h, r: _with(
            r.interest(),
            lambda i: c.patch(
                f"{CUSTOMERS}/{r.customer_id}/properties/{i}", headers=h, json={"status": "viewed"}
            ),
        ),
    ),
    "logInteraction": (
        WRITERS,
        lambda c, h, r: c.post(
            f"{CUSTOMERS}/{r.customer_id}/interactions",
            headers=h,
            json={"type": "call", "direction": "outbound", "notes": "مكالمة متابعة"},
        ),
    ),
    "scheduleAppointment": (
        WRITERS,
        lambda c, h, r: c.post(
            f"{CUSTOMERS}/{r.customer_id}/appointments",
            headers=h,
            json={"title": "معاينة", "type": "site_visit", "datetime": later(days=7)},
        ),
    ),
    "updateAppointment": (
        WRITERS,
        lambda c, h, r: _with(
            r.appointment(),
            lambda a: c.patch(
                f"{CUSTOMERS}/{r.customer_id}/appointments/{a}",
                headers=h,
                json={"status": "confirmed"},
            ),
        ),
    ),
    "addReminder": (
        WRITERS,
        lambda c, h, r: c.post(
            f"{CUSTOMERS}/{r.customer_id}/reminders",
            headers=h,
            json={"title": "اتصال", "datetime": later(days=3), "type": "follow_up"},
        ),
    ),
    "completeReminder": (
        WRITERS,
        lambda c, h, r: _with(
            r.reminder(),
            lambda m: c.post(f"{CUSTOMERS}/{r.customer_id}/reminders/{m}/complete", headers=h),
        ),
    ),
    "uploadDocument": (
        WRITERS,
        lambda c, h, r: c.post(
            f"{CUSTOMERS}/{r.customer_id}/documents",
            headers=h,
            files={"file": ("هوية.pdf", PDF, "application/pdf")},
            data={"name": "صورة الهوية", "type": "id_copy"},
        ),
    ),
    "downloadDocument": (
        EVERYONE,
        lambda c, h, r: _with(
            r.document(), lambda d: c.get(f"{CUSTOMERS}/{r.customer_id}/documents/{d}", headers=h)
        ),
    ),
    "deleteDocument": (
        WRITERS,
        lambda c, h, r: _with(
            r.document(),
            lambda d: c.delete(f"{CUSTOMERS}/{r.customer_id}/documents/{d}", headers=h),
        ),
    ),
    "listActions": (EVERYONE, lambda c, h, r: c.get(ACTIONS, headers=h)),
    "createAction": (
        WRITERS,
        lambda c, h, r: c.post(
            ACTIONS,
            headers=h,
            json={"customerId": r.customer_id, "type": "follow_up", "title": "متابعة"},
        ),
    ),
    "getAction": (
        EVERYONE,
        lambda c, h, r: _with(r.action(), lambda a: c.get(f"{ACTIONS}/{a}", headers=h)),
    ),
    "updateAction": (
        WRITERS,
        lambda c, h, r: _with(
            r.action(), lambda a: c.patch(f"{ACTIONS}/{a}", headers=h, json={"priority": "urgent"})
        ),
    ),
    "addActionNote": (
        WRITERS,
        lambda c, h, r: _with(
            r.action(),
            lambda a: c.post(f"{ACTIONS}/{a}/notes", headers=h, json={"content": "تم الاتصال"}),
        ),
    ),
    "startAction": (
        WRITERS,
        lambda c, h, r: _with(r.action(), lambda a: c.post(f"{ACTIONS}/{a}/start", headers=h)),
    ),
    "completeAction": (
        WRITERS,
        lambda c, h, r: _with(
            r.action(),
            lambda a: c.post(f"{ACTIONS}/{a}/complete", headers=h, json={"notes": "تم"}),
        ),
    ),
    "dismissAction": (
        WRITERS,
        lambda c, h, r: _with(
            r.action(),
            lambda a: c.post(f"{ACTIONS}/{a}/dismiss", headers=h, json={"reason": "مكرر"}),
        ),
    ),
    "snoozeAction": (
        WRITERS,
        lambda c, h, r: _with(
            r.action(),
            lambda a: c.post(
                f"{ACTIONS}/{a}/snooze", headers=h, json={"snoozedUntil": later(days=1)}
            ),
        ),
    ),
    "reopenAction": (WRITERS, lambda c, h, r: _reopen(c, h, r)),
    "getActionStats": (EVERYONE, lambda c, h, r: c.get(f"{ACTIONS}/stats", headers=h)),
    "bulkUpdateActions": (
        WRITERS,
        lambda c, h, r: _bulk(c, h, r, "", updates={"priority": "high"}),
    ),
    "bulkCompleteActions": (WRITERS, lambda c, h, r: _bulk(c, h, r, "/complete")),
    "bulkDismissActions": (WRITERS, lambda c, h, r: _bulk(c, h, r, "/dismiss", reason="مكرر")),
    "bulkSnoozeActions": (
        WRITERS,
        lambda c, h, r: _bulk(c, h, r, "/snooze", snoozedUntil=later(days=1)),
    ),
    # An agent's bulk work never reassigns (rules §4).
    "bulkAssignActions": (
        {"admin", "sales_manager"},
        lambda c, h, r: _bulk(c, h, r, "/assign", assignedTo=r.staff.id("agent2")),
    ),
    "listEmployees": (EVERYONE, lambda c, h, r: c.get(f"{API}/employees", headers=h)),
    "createEmployee": (
        {"admin"},
        lambda c, h, r: c.post(
            f"{API}/employees",
            headers=h,
            json={"name": "ماجد القحطاني", "role": "sales_agent", "email": "majed@taearif.com"},
        ),
    ),
    "updateEmployee": (
        {"admin"},
        lambda c, h, r: c.patch(
            f"{API}/employees/{r.staff.id('agent2')}", headers=h, json={"title": "وكيل أول"}
        ),
    ),
    "getEmployeeCalendar": (
        EVERYONE,  # the owner's calendar: itself, or (a manager) an agent of its team
        lambda c, h, r: c.get(f"{API}/employees/{r.staff.id(r.owner)}/calendar", headers=h),
    ),
    "getOrganizationSettings": (
        EVERYONE,
        lambda c, h, r: c.get(f"{API}/organization/settings", headers=h),
    ),
    "updateOrganizationSettings": (
        {"admin"},
        lambda c, h, r: c.patch(
            f"{API}/organization/settings", headers=h, json={"requireFalLicence": True}
        ),
    ),
    "createWebhook": (
        {"admin"},
        lambda c, h, r: c.post(
            WEBHOOKS, headers=h, json={"url": HOOK_URL, "events": ["customer.created"]}
        ),
    ),
    "listWebhooks": ({"admin"}, lambda c, h, r: c.get(WEBHOOKS, headers=h)),
    "getWebhook": (
        {"admin"},
        lambda c, h, r: _with(r.webhook(), lambda w: c.get(f"{WEBHOOKS}/{w}", headers=h)),
    ),
    "updateWebhook": (
        {"admin"},
        lambda c, h, r: _with(
            r.webhook(),
            lambda w: c.patch(f"{WEBHOOKS}/{w}", headers=h, json={"description": "CRM"}),
        ),
    ),
    "deleteWebhook": (
        {"admin"},
        lambda c, h, r: _with(r.webhook(), lambda w: c.delete(f"{WEBHOOKS}/{w}", headers=h)),
    ),
    "listWebhookDeliveries": (
        {"admin"},
        lambda c, h, r: _with(
            r.webhook(), lambda w: c.get(f"{WEBHOOKS}/{w}/deliveries", headers=h)
        ),
    ),
    "retryWebhookDelivery": ({"admin"}, lambda c, h, r: _retry_delivery(c, h, r)),
    "mergeCustomers": (WRITERS, _merge),
    "unmergeCustomers": (WRITERS, _unmerge),
    "getCustomerConsents": (
        {"admin"},
        lambda c, h, r: c.get(f"{CUSTOMERS}/{r.customer_id}/consents", headers=h),
    ),
    "updateCustomerConsents": (
        {"admin"},
        lambda c, h, r: c.put(
            f"{CUSTOMERS}/{r.customer_id}/consents",
            headers=h,
            json={"consents": [{"channel": "sms", "granted": True, "source": "form"}]},
        ),
    ),
    "exportCustomerPersonalData": (
        {"admin"},
        lambda c, h, r: c.get(f"{CUSTOMERS}/{r.customer_id}/personal-data", headers=h),
    ),
    "eraseCustomer": (
        {"admin"},
        lambda c, h, r: c.post(f"{CUSTOMERS}/{r.customer_id}/erase", headers=h, json={}),
    ),
    "listPrivacyRequests": ({"admin"}, lambda c, h, r: c.get(PRIVACY, headers=h)),
    "createPrivacyRequest": (
        {"admin"},
        lambda c, h, r: c.post(
            PRIVACY, headers=h, json={"customerId": r.customer_id, "type": "erasure"}
        ),
    ),
    "getPrivacyRequest": (
        {"admin"},
        lambda c, h, r: _with(_privacy_request(r), lambda p: c.get(f"{PRIVACY}/{p}", headers=h)),
    ),
    "updatePrivacyRequestStatus": (
        {"admin"},
        lambda c, h, r: _with(
            _privacy_request(r),
            lambda p: c.patch(f"{PRIVACY}/{p}", headers=h, json={"status": "in_progress"}),
        ),
    ),
    "extendPrivacyRequest": (
        {"admin"},
        lambda c, h, r: _with(
            _privacy_request(r),
            lambda p: c.post(
                f"{PRIVACY}/{p}/extend", headers=h, json={"reason": "مستندات إضافية", "days": 10}
            ),
        ),
    ),
    "listAssignmentRules": (MANAGERS, lambda c, h, r: c.get(RULES, headers=h)),
    "createAssignmentRule": (
        MANAGERS,
        lambda c, h, r: c.post(
            RULES,
            headers=h,
            json={"name": "توزيع", "strategy": "round_robin", "employeeIds": [r.staff.id("agent")]},
        ),
    ),
    "getAssignmentRule": (
        MANAGERS,
        lambda c, h, r: _with(_rule(r), lambda w: c.get(f"{RULES}/{w}", headers=h)),
    ),
    "updateAssignmentRule": (
        MANAGERS,
        lambda c, h, r: _with(
            _rule(r), lambda w: c.patch(f"{RULES}/{w}", headers=h, json={"priority": 3})
        ),
    ),
    "deleteAssignmentRule": (
        MANAGERS,
        lambda c, h, r: _with(_rule(r), lambda w: c.delete(f"{RULES}/{w}", headers=h)),
    ),
    "startCustomerImport": (
        IMPORTERS,
        lambda c, h, r: c.post(IMPORTS, headers=h, **_import_file()),
    ),
    "getCustomerImport": (
        IMPORTERS,
        lambda c, h, r: _with(_import_job(c, h, r), lambda j: c.get(f"{IMPORTS}/{j}", headers=h)),
    ),
    "listCustomerImportErrors": (
        IMPORTERS,
        lambda c, h, r: _with(
            _import_job(c, h, r), lambda j: c.get(f"{IMPORTS}/{j}/errors", headers=h)
        ),
    ),
}
"""Every operation of the OpenAPI document but liveness and readiness."""

UNAUTHENTICATED = {"health", "ready"}


async def _with(
    made: Awaitable[str], call: Callable[[str], Awaitable[httpx.Response]]
) -> httpx.Response:
    return await call(await made)


async def _retry_delivery(c: Client, h: dict[str, str], r: Records) -> httpx.Response:
    webhook, delivery = await r.delivery()
    return await c.post(f"{WEBHOOKS}/{webhook}/deliveries/{delivery}/retry", headers=h)


async def _restore(c: Client, h: dict[str, str], r: Records) -> httpx.Response:
    deleted = await c.delete(f"{CUSTOMERS}/{r.customer_id}", headers=r.admin)
    assert deleted.status_code == 200, deleted.text
    return await c.post(f"{CUSTOMERS}/{r.customer_id}/restore", headers=h)


async def _reopen(c: Client, h: dict[str, str], r: Records) -> httpx.Response:
    action = await r.action()
    started = await c.post(f"{ACTIONS}/{action}/start", headers=r.admin)
    assert started.status_code == 200, started.text
    return await c.post(f"{ACTIONS}/{action}/reopen", headers=h)


async def test_the_table_covers_every_operation_of_the_openapi_document(client: Client) -> None:
    document = (await client.get(f"{API}/openapi.json")).json()
    operations = {
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert operations - UNAUTHENTICATED == set(OPERATIONS)


@pytest.mark.parametrize("role", [r.value for r in Role])
@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
async def test_a_document_shaped_token_is_allowed_what_its_role_allows(
    client: Client,
    token_for: TokenFor,
    staff: Staff,
    new_customer: NewCustomer,
    hub: Hub,
    role: str,
    operation_id: str,
) -> None:
    allowed, call = OPERATIONS[operation_id]
    customer = await new_customer(assigned=OWNER[role])
    records = Records(client, token_for("admin"), customer.id, staff, OWNER[role], role)
    token = document_token(staff.id(STAFF_KEY[role]), role, staff.org)
    headers = {"Authorization": f"Bearer {token}", "X-Organization-ID": staff.org}
    response = await call(client, headers, records)
    if role in allowed:
        assert 200 <= response.status_code < 300, (operation_id, role, response.text)
    else:
        assert response.status_code == 403, (operation_id, role, response.text)
        assert response.json()["error"]["code"] == "PERMISSION_DENIED"


async def test_names_come_from_the_employee_record_when_the_token_has_none(
    client: Client, staff: Staff, new_customer: NewCustomer
) -> None:
    agent = staff.employees["agent"]
    customer = await new_customer(assigned="agent")
    token = document_token(agent.id, "sales_agent", staff.org)
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{CUSTOMERS}/{customer.id}"
    moved = await client.patch(f"{url}/stage", headers=headers, json={"toStage": "qualified"})
    assert moved.status_code == 200, moved.text
    [entry] = moved.json()["data"]["customer"]["stageHistory"]
    assert (entry["changedBy"], entry["changedById"]) == (agent.name, agent.id)
    logged = await client.post(
        f"{url}/interactions", headers=headers, json={"type": "call", "notes": "مكالمة"}
    )
    assert logged.status_code == 201, logged.text
    assert logged.json()["data"]["interaction"]["agentName"] == agent.name
    reminded = await client.post(
        f"{url}/reminders",
        headers=headers,
        json={"title": "اتصال", "datetime": later(days=1), "type": "follow_up"},
    )
    assert reminded.status_code == 201, reminded.text
    assert reminded.json()["data"]["reminder"]["createdBy"] == agent.name
    uploaded = await client.post(
        f"{url}/documents",
        headers=headers,
        files={"file": ("عقد.pdf", PDF, "application/pdf")},
        data={"name": "عقد", "type": "contract"},
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["data"]["document"]["uploadedBy"] == agent.name
    # A token that names its bearer keeps that name.
    named = jwt.encode(
        {**jwt.decode(token, TEST_SECRET, algorithms=["HS256"]), "name": "اسم من الرمز"},
        TEST_SECRET,
        algorithm="HS256",
    )
    again = await client.patch(
        f"{url}/stage",
        headers={"Authorization": f"Bearer {named}"},
        json={"toStage": "property_matching"},
    )
    assert again.status_code == 200, again.text
    assert again.json()["data"]["customer"]["stageHistory"][0]["changedBy"] == "اسم من الرمز"


@pytest.mark.parametrize("claimed", ["م" * 256, "اسم\x00خفي", "   "])
async def test_a_name_claim_no_column_can_hold_gives_way_to_the_employee_record(
    client: Client, staff: Staff, new_customer: NewCustomer, claimed: str
) -> None:
    agent = staff.employees["agent"]
    customer = await new_customer(assigned="agent")
    claims = jwt.decode(
        document_token(agent.id, "sales_agent", staff.org), TEST_SECRET, algorithms=["HS256"]
    )
    token = jwt.encode({**claims, "name": claimed}, TEST_SECRET, algorithm="HS256")
    moved = await client.patch(
        f"{CUSTOMERS}/{customer.id}/stage",
        headers={"Authorization": f"Bearer {token}"},
        json={"toStage": "qualified"},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["data"]["customer"]["stageHistory"][0]["changedBy"] == agent.name

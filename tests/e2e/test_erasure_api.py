"""``POST /api/v1/customers/{id}/erase`` over HTTP (issue 11, rules §8): access, bad input,
idempotence, the restricted customer (EJAR contract / closed sale) hidden from lists, search,
duplicates and exports and shown to admins only, the event and the cache."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.domain.compliance import EjarContract, KsaCompliance
from customers_hub.domain.enums import PaymentFrequency
from customers_hub.domain.events import CustomerErased, DomainEvent
from customers_hub.entrypoints.bootstrap import Hub

if TYPE_CHECKING:
    from conftest import NewCustomer, Staff, TokenFor

CUSTOMERS = "/api/v1/customers"
Client = AsyncTestClient[Litestar]


def erase_url(customer_id: str) -> str:
    """The erasure of ``customer_id``."""
    return f"{CUSTOMERS}/{customer_id}/erase"


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The error object, after checking status and code."""
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    return error


def ejar(tenant: str) -> KsaCompliance:
    """An EJAR contract naming ``tenant``."""
    return KsaCompliance(
        ejar=EjarContract(
            contract_number="EJ-2025-445566",
            landlord_name="مالك",
            tenant_name=tenant,
            start_date=date(2025, 2, 1),
            end_date=date(2026, 1, 31),
            annual_rent=Decimal("48000"),
            payment_frequency=PaymentFrequency.MONTHLY,
        )
    )


@pytest.mark.parametrize("who", ["manager", "agent", "viewer"])
async def test_only_admins_erase(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, who: str
) -> None:
    customer = await new_customer(name="غدير المطيري")
    error = assert_error(
        await client.post(erase_url(customer.id), headers=token_for(who)),
        403,
        "PERMISSION_DENIED",
    )
    assert error["details"]["currentRole"] != "admin"
    shown = await client.get(f"{CUSTOMERS}/{customer.id}", headers=token_for("admin"))
    assert shown.json()["data"]["customer"]["name"] == "غدير المطيري"  # nothing changed


async def test_another_organizations_customer_and_an_unknown_one_are_404(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer(name="غدير المطيري")
    assert_error(
        await client.post(erase_url(customer.id), headers=token_for("other_admin")),
        404,
        "RESOURCE_NOT_FOUND",
    )
    assert_error(
        await client.post(erase_url("cust_nowhere"), headers=token_for("admin")),
        404,
        "RESOURCE_NOT_FOUND",
    )
    shown = await client.get(f"{CUSTOMERS}/{customer.id}", headers=token_for("admin"))
    assert shown.json()["data"]["customer"]["name"] == "غدير المطيري"


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "x" * 501},
        {"reason": "سطر\nآخر"},
        {"reason": 5},
        {"reason": "ok", "unknown": 1},
        [],
    ],
)
async def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, body: Any
) -> None:
    customer = await new_customer(name="غدير المطيري")
    error = assert_error(
        await client.post(erase_url(customer.id), headers=token_for("admin"), json=body),
        400,
        "VALIDATION_ERROR",
    )
    assert error["details"], error
    shown = await client.get(f"{CUSTOMERS}/{customer.id}", headers=token_for("admin"))
    assert shown.json()["data"]["customer"]["name"] == "غدير المطيري"


async def test_erase_anonymizes_once_and_answers_the_same_state_again(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub
) -> None:
    customer = await new_customer(
        name="غدير المطيري", email="ghadeer@example.com", address="حي النرجس"
    )
    admin = token_for("admin")
    url = f"{CUSTOMERS}/{customer.id}"
    assert (await client.get(url, headers=admin)).json()["data"]["customer"]["name"] == (
        "غدير المطيري"
    )  # cached now
    seen: list[DomainEvent] = []

    async def record(event: DomainEvent) -> None:
        seen.append(event)

    unsubscribe = hub.publisher.subscribe(record)
    first = await client.post(erase_url(customer.id), headers=admin, json={"reason": "طلب"})
    assert first.status_code == 200, first.text
    state = first.json()["data"]["erasure"]
    assert state["restricted"] is False
    assert state["customerId"] == customer.id
    shown = (await client.get(url, headers=admin)).json()["data"]["customer"]
    assert (shown["name"], shown["nameEn"], shown["phone"]) == (
        "عميل محذوف",
        "Erased customer",
        "",
    )
    assert "email" not in shown
    assert "address" not in shown
    # The assigned agent still sees the (anonymous) customer: it is not restricted.
    assert (await client.get(url, headers=token_for("agent"))).status_code == 200
    second = await client.post(erase_url(customer.id), headers=admin)
    assert second.status_code == 200
    assert second.json()["data"] == first.json()["data"]
    unsubscribe()
    assert [e.customer_id for e in seen if isinstance(e, CustomerErased)] == [customer.id]


async def test_a_customer_with_an_ejar_contract_is_restricted(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, staff: Staff
) -> None:
    kept = await new_customer(
        name="رزان الشمري", national_id="1098765439", ksa_compliance=ejar("رزان الشمري")
    )
    plain = await new_customer(name="رزان الشمري")  # same name and city: a duplicate pair
    admin = token_for("admin")
    before = await client.get(f"{CUSTOMERS}/duplicates", headers=admin, params={"limit": 100})
    assert kept.id in before.text

    erased = await client.post(erase_url(kept.id), headers=admin)
    assert erased.status_code == 200, erased.text
    state = erased.json()["data"]["erasure"]
    assert state["restricted"] is True
    assert state["restrictedUntil"][:4] == str(int(state["erasedAt"][:4]) + 10)

    url = f"{CUSTOMERS}/{kept.id}"
    shown = (await client.get(url, headers=admin)).json()["data"]["customer"]
    assert (shown["name"], shown["nationalId"]) == ("رزان الشمري", "1098765439")
    assert shown["phone"] == ""
    for who in ("manager", "agent", "viewer"):
        assert_error(await client.get(url, headers=token_for(who)), 404, "RESOURCE_NOT_FOUND")
    listed = await client.get(CUSTOMERS, headers=admin, params={"limit": 100})
    assert kept.id not in listed.text
    assert plain.id in listed.text
    searched = await client.post(f"{CUSTOMERS}/search", headers=admin, json={"query": "رزان"})
    assert kept.id not in searched.text
    exported = await client.get(f"{CUSTOMERS}/export", headers=admin)
    assert kept.id not in exported.text
    pairs = await client.get(f"{CUSTOMERS}/duplicates", headers=admin, params={"limit": 100})
    assert kept.id not in pairs.text
    candidates = await client.get(f"{CUSTOMERS}/{plain.id}/duplicates", headers=admin)
    assert kept.id not in candidates.text


async def test_a_sale_that_reached_closing_is_restricted_too(
    client: Client, token_for: TokenFor, new_customer: NewCustomer
) -> None:
    customer = await new_customer(name="هيفاء العنزي")
    admin = token_for("admin")
    moved = await client.patch(
        f"{CUSTOMERS}/{customer.id}/stage",
        headers=admin,
        json={"toStage": "closing", "reason": "بيع منتهٍ", "totalDealValue": 1},
    )
    if moved.status_code != 200:
        # The guards need a deal value and a payment: set them, then move.
        updated = await client.put(
            f"{CUSTOMERS}/{customer.id}",
            headers=admin,
            json={"totalDealValue": 900000, "paidAmount": 90000},
        )
        assert updated.status_code == 200, updated.text
        await client.post(
            f"{CUSTOMERS}/{customer.id}/properties",
            headers=admin,
            json={"propertyId": "prop_x", "status": "interested"},
        )
        moved = await client.patch(
            f"{CUSTOMERS}/{customer.id}/stage",
            headers=admin,
            json={"toStage": "closing", "reason": "بيع منتهٍ"},
        )
    assert moved.status_code == 200, moved.text
    erased = await client.post(erase_url(customer.id), headers=admin)
    assert erased.json()["data"]["erasure"]["restricted"] is True


async def test_an_erased_customer_is_read_only(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, staff: Staff
) -> None:
    """An edit could bring the erased personal data back: fields, stage, relations and
    assignment are refused with 422 naming the rule; nothing changes."""
    customer = await new_customer(name="سلمى الحربي")
    admin = token_for("admin")
    url = f"{CUSTOMERS}/{customer.id}"
    assert (await client.post(erase_url(customer.id), headers=admin, json={})).status_code == 200
    attempts = [
        ("PUT", url, {"phone": "+966551112233"}),
        ("PATCH", f"{url}/stage", {"toStage": "qualified"}),
        ("POST", f"{url}/interactions", {"type": "call", "notes": "x"}),
        ("POST", f"{url}/assign", {"employeeId": staff.id("agent")}),
    ]
    for method, path, body in attempts:
        response = await client.request(method, path, json=body, headers=admin)
        error = assert_error(response, 422, "BUSINESS_RULE_VIOLATION")
        assert error["details"]["rule"] == "customer_erased"
    shown = (await client.get(url, headers=admin)).json()["data"]["customer"]
    assert (shown["name"], shown["phone"], shown["stage"]) == ("عميل محذوف", "", "new_lead")

"""Saudi compliance over HTTP (issue 11, Deliver 1, rules §7): each refusal with its ``rule`` and
no change, a passing path through all nine stages for a financed first-home purchase by a citizen
with REDF support and for a rental with EJAR, the licensed-assignee check, and the agent's
checklist (``GET /customers/{id}/compliance``) with its access rules."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from customers_hub.application.use_cases.customers import get_customer
from customers_hub.application.use_cases.employees import CreateEmployee, create_employee
from customers_hub.domain.enums import PropertyType, Role, Stage
from customers_hub.domain.model import Actor, Employee, FalLicence, Property
from customers_hub.entrypoints.bootstrap import Hub

if TYPE_CHECKING:
    from conftest import NewCustomer, Staff, TokenFor

Client = AsyncTestClient[Litestar]
CUSTOMERS = "/api/v1/customers"
SETTINGS = "/api/v1/organization/settings"
PATH = [
    "qualified",
    "property_matching",
    "site_visit",
    "negotiation",
    "contract_prep",
    "down_payment",
    "closing",
    "post_sale",
]


async def require_fal(client: Client, token_for: TokenFor, on: bool = True) -> None:
    response = await client.patch(
        SETTINGS, headers=token_for("admin"), json={"requireFalLicence": on}
    )
    assert response.status_code == 200, response.text


async def licensed_agent(hub: Hub, staff: Staff, *, days: int = 365) -> Employee:
    """An agent of the manager's team whose FAL licence expires in ``days`` days."""
    today = hub.deps.local_today()
    admin = staff.actor("admin")
    return await create_employee(
        hub.deps,
        admin,
        CreateEmployee(
            id=f"emp_licensed_{days}",
            name="خالد المرخص",
            role=Role.SALES_AGENT,
            manager_id=staff.id("manager"),
            fal_licence=FalLicence("1100012345", today + timedelta(days=days)),
        ),
    )


async def put_catalog(hub: Hub, prop: Property) -> None:
    async with hub.deps.uow() as uow:
        await uow.properties.add(prop)
        await uow.commit()


def villa(org: str, prop_id: str, *, off_plan: bool = False) -> Property:
    return Property(
        id=prop_id,
        organization_id=org,
        title="فيلا في حي الياسمين",
        type=PropertyType.VILLA,
        city="الرياض",
        price=Decimal(1_000_000),
        off_plan=off_plan,
    )


async def move(client: Client, headers: dict[str, str], customer_id: str, stage: str) -> Any:
    return await client.patch(
        f"{CUSTOMERS}/{customer_id}/stage", headers=headers, json={"toStage": stage}
    )


def refused_rule(response: Any) -> str:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "INVALID_STAGE_TRANSITION"
    rule: str = error["details"]["rule"]
    return rule


async def update(client: Client, headers: dict[str, str], customer_id: str, **body: Any) -> None:
    response = await client.put(f"{CUSTOMERS}/{customer_id}", headers=headers, json=body)
    assert response.status_code == 200, response.text


async def add_interest(
    client: Client, headers: dict[str, str], customer_id: str, prop_id: str, status: str
) -> None:
    response = await client.post(
        f"{CUSTOMERS}/{customer_id}/properties",
        headers=headers,
        json={"propertyId": prop_id, "status": status},
    )
    assert response.status_code == 201, response.text


async def stage_of(hub: Hub, staff: Staff, customer_id: str) -> Stage:
    details = await get_customer(hub.deps, staff.actor("admin"), customer_id)
    return details.customer.stage


async def walk_until(client: Client, headers: dict[str, str], customer_id: str, last: str) -> None:
    for stage in PATH[: PATH.index(last) + 1]:
        response = await move(client, headers, customer_id, stage)
        assert response.status_code == 200, (stage, response.text)


async def test_a_financed_first_home_purchase_with_redf_passes_all_nine_stages(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    await require_fal(client, token_for)
    broker = await licensed_agent(hub, staff)
    admin = token_for("admin")
    await put_catalog(hub, villa(staff.org, "prop_redf_1"))
    customer = await new_customer(assigned=None, assigned_employee_id=broker.id)
    await add_interest(client, admin, customer.id, "prop_redf_1", "interested")
    await update(
        client,
        admin,
        customer.id,
        totalDealValue=1_000_000,
        paidAmount=20_000,  # 2 %: below the 5 % a citizen's first home with REDF needs
        ksaCompliance={
            "financing": {
                "bank": "Al Rajhi",
                "redfSupported": True,
                "firstHome": True,
                "isCitizen": True,
            }
        },
    )
    await walk_until(client, admin, customer.id, "down_payment")
    assert refused_rule(await move(client, admin, customer.id, "closing")) == "sama_down_payment"
    assert await stage_of(hub, staff, customer.id) is Stage.DOWN_PAYMENT

    await update(client, admin, customer.id, paidAmount=50_000)  # exactly 5 %
    for stage in ("closing", "post_sale"):
        response = await move(client, admin, customer.id, stage)
        assert response.status_code == 200, response.text
    assert await stage_of(hub, staff, customer.id) is Stage.POST_SALE


async def test_a_rental_needs_its_ejar_contract_to_close(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    admin = token_for("admin")
    await put_catalog(hub, villa(staff.org, "prop_rent_1"))
    customer = await new_customer()
    await update(client, admin, customer.id, preferences={"purpose": "rent"})
    await add_interest(client, admin, customer.id, "prop_rent_1", "interested")
    await update(client, admin, customer.id, totalDealValue=60_000, paidAmount=15_000)
    await walk_until(client, admin, customer.id, "down_payment")
    assert refused_rule(await move(client, admin, customer.id, "closing")) == "ejar_contract"

    today = hub.deps.local_today()
    ejar = {
        "contractNumber": "EJ-2026-000123",
        "landlordName": "عبدالله المالك",
        "tenantName": "سارة المستأجرة",
        "startDate": today.isoformat(),
        "endDate": (today + timedelta(days=365)).isoformat(),
        "annualRent": 60_000,
        "paymentFrequency": "quarterly",
    }
    await update(client, admin, customer.id, ksaCompliance={"ejar": ejar})
    for stage in ("closing", "post_sale"):
        response = await move(client, admin, customer.id, stage)
        assert response.status_code == 200, response.text


async def test_an_off_plan_deal_needs_a_wafi_licence_before_the_down_payment(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    admin = token_for("admin")
    await put_catalog(hub, villa(staff.org, "prop_offplan_1", off_plan=True))
    customer = await new_customer()
    await add_interest(client, admin, customer.id, "prop_offplan_1", "offer_made")
    await update(client, admin, customer.id, totalDealValue=1_000_000, paidAmount=300_000)
    await walk_until(client, admin, customer.id, "contract_prep")
    assert refused_rule(await move(client, admin, customer.id, "down_payment")) == "wafi_licence"
    assert await stage_of(hub, staff, customer.id) is Stage.CONTRACT_PREP

    await update(
        client,
        admin,
        customer.id,
        ksaCompliance={"wafi": {"licenceNumber": "WF-77", "projectName": "مشروع الياسمين"}},
    )
    response = await move(client, admin, customer.id, "down_payment")
    assert response.status_code == 200, response.text


async def test_fal_licences_are_required_only_when_the_organization_says_so(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    admin = token_for("admin")
    await put_catalog(hub, villa(staff.org, "prop_fal_1"))
    unlicensed = await new_customer()  # assigned to an agent without a licence
    unassigned = await new_customer(assigned=None)
    for customer in (unlicensed, unassigned):
        await add_interest(client, admin, customer.id, "prop_fal_1", "interested")
        await walk_until(client, admin, customer.id, "site_visit")

    await require_fal(client, token_for)
    for customer in (unlicensed, unassigned):
        assert refused_rule(await move(client, admin, customer.id, "negotiation")) == "fal_licence"
        assert await stage_of(hub, staff, customer.id) is Stage.SITE_VISIT

    await require_fal(client, token_for, on=False)
    response = await move(client, admin, unlicensed.id, "negotiation")
    assert response.status_code == 200, response.text


async def test_a_customer_in_negotiation_is_assigned_only_to_a_licensed_broker(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    admin = token_for("admin")
    broker = await licensed_agent(hub, staff)
    await put_catalog(hub, villa(staff.org, "prop_assign_1"))
    customer = await new_customer(assigned=None, assigned_employee_id=broker.id)
    await add_interest(client, admin, customer.id, "prop_assign_1", "interested")
    await walk_until(client, admin, customer.id, "negotiation")
    await require_fal(client, token_for)

    url = f"{CUSTOMERS}/{customer.id}/assign"
    refused = await client.post(url, headers=admin, json={"employeeId": staff.id("agent")})
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert [d["field"] for d in error["details"]] == ["employeeId"]
    details = await get_customer(hub.deps, staff.actor("admin"), customer.id)
    assert details.customer.assigned_employee_id == broker.id

    other = await licensed_agent(hub, staff, days=40)
    accepted = await client.post(url, headers=admin, json={"employeeId": other.id})
    assert accepted.status_code == 200, accepted.text


async def test_the_checklist_shows_every_rule_ahead_with_reasons(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, hub: Hub, staff: Staff
) -> None:
    await require_fal(client, token_for)
    broker = await licensed_agent(hub, staff, days=10)  # expires within 30 days: a warning
    customer = await new_customer(assigned=None, assigned_employee_id=broker.id)
    await update(client, token_for("admin"), customer.id, preferences={"purpose": "rent"})

    response = await client.get(
        f"{CUSTOMERS}/{customer.id}/compliance", headers=token_for("manager")
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "private, no-store"
    data = response.json()["data"]
    assert data["customerId"] == customer.id
    assert data["stage"] == "new_lead"
    assert data["nextStage"] == "qualified"
    assert data["requireFalLicence"] is True
    states = {(c["stage"], c["rule"]): c["state"] for c in data["checks"]}
    assert states == {
        ("site_visit", "active_property_interest_required"): "block",
        ("negotiation", "fal_licence"): "warn",
        ("contract_prep", "deal_value_required"): "block",
        ("down_payment", "wafi_licence"): "not_applicable",
        ("closing", "payment_required"): "block",
        ("closing", "ejar_contract"): "block",
        ("closing", "sama_down_payment"): "not_applicable",
    }
    assert all(c["message"] and c["messageAr"] for c in data["checks"])


async def test_the_checklist_is_read_like_the_customer(
    client: Client, token_for: TokenFor, new_customer: NewCustomer, staff: Staff
) -> None:
    customer = await new_customer()  # the agent's
    url = f"{CUSTOMERS}/{customer.id}/compliance"
    for who in ("admin", "manager", "agent"):
        assert (await client.get(url, headers=token_for(who))).status_code == 200
    outsider = await client.get(url, headers=token_for("outsider"))
    assert outsider.status_code == 403, outsider.text
    other = await client.get(url, headers=token_for("other_admin"))
    assert other.status_code == 404, other.text
    assert other.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    unknown = await client.get(f"{CUSTOMERS}/cust_missing/compliance", headers=token_for("admin"))
    assert unknown.status_code == 404
    too_long = await client.get(f"{CUSTOMERS}/{'x' * 51}/compliance", headers=token_for("admin"))
    assert too_long.status_code == 400, too_long.text
    assert "customer_id" in too_long.text or "customerId" in too_long.text
    assert (await client.get(url)).status_code == 401
    bare = Actor("user_x", staff.org, Role.VIEWER, frozenset())
    assert (await client.get(url, headers=token_for(bare))).status_code == 403

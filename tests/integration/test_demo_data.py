"""The demo organization, loaded through the use cases on SQLite and PostgreSQL.

Everything is checked through the read use cases (what the API shows), not through the loader's
own summary: every stage, every action status, the three cities, E.164 phones, valid national
IDs, the team, the stage guards — and that a second run adds nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.application.use_cases.action_reads import list_actions
from customers_hub.application.use_cases.customers import get_customer
from customers_hub.application.use_cases.employees import CreateEmployee, create_employee
from customers_hub.application.use_cases.reads import (
    ActionListParams,
    CustomerListParams,
    list_customers,
    list_employees,
)
from customers_hub.application.use_cases.settings import get_organization_settings
from customers_hub.domain.enums import ActionStatus, Role, Stage
from customers_hub.domain.model import Actor, Customer
from customers_hub.domain.validation import validate_national_id
from customers_hub.entrypoints.bootstrap import Hub, build_hub
from customers_hub.entrypoints.demo import (
    ADMIN_ID,
    MANAGER_ID,
    VIEWER_ID,
    DemoDataIncomplete,
    default_permissions,
    load_demo_data,
)
from customers_hub.entrypoints.settings import HubConfig

CUSTOMERS = 30
E164_SAUDI_MOBILE = re.compile(r"\+9665[0-9]{8}")
CITIES = {"الرياض", "جدة", "الدمام"}


@pytest.fixture
async def hub(engine: AsyncEngine, database_url: str, tmp_path: Path) -> AsyncIterator[Hub]:
    """A hub on the test database (migrated by the ``engine`` fixture), documents in tmp."""
    built = build_hub(config=HubConfig(data_dir=tmp_path, database_url=database_url))
    await built.start(migrate=False)
    yield built
    await built.close()


def admin(org: str) -> Actor:
    return Actor(ADMIN_ID, org, Role.ADMIN, default_permissions(Role.ADMIN))


async def all_customers(hub: Hub, org: str) -> list[Customer]:
    listed = await list_customers(hub.deps, admin(org), CustomerListParams(limit=100))
    assert listed.page.total_items == len(listed.page.items)  # one page holds them all
    return list(listed.page.items)


async def action_counts(hub: Hub, org: str) -> dict[ActionStatus, int]:
    counts = {}
    for status in ActionStatus:
        page = await list_actions(hub.deps, admin(org), ActionListParams(status=(status,), limit=1))
        counts[status] = page.total_items or 0
    return counts


async def test_demo_data_holds_every_rule_and_loads_once(hub: Hub, org_id: str) -> None:
    summary = await load_demo_data(hub, org=org_id, customers=CUSTOMERS, seed=11)
    assert not summary.already_loaded
    customers = await all_customers(hub, org_id)

    assert len(customers) == CUSTOMERS
    assert {c.stage for c in customers} == set(Stage)
    assert {c.city for c in customers} == CITIES
    assert all(E164_SAUDI_MOBILE.fullmatch(c.phone) for c in customers)
    assert len({c.phone for c in customers}) == CUSTOMERS
    for customer in customers:
        if customer.national_id is not None:
            assert validate_national_id(customer.national_id) == customer.national_id
        assert 0 <= customer.lead_score <= 100
    # Arabic and English names.
    assert all(re.search(r"[\u0600-\u06FF]", c.name) or c.name_en == c.name for c in customers)
    assert all(c.name_en and re.fullmatch(r"[A-Za-z' .-]+", c.name_en) for c in customers)
    # The stage guards held on the way (they were checked by change_stage).
    for customer in customers:
        if customer.stage.rank >= Stage.SITE_VISIT.rank:
            assert customer.property_interests
        if customer.stage.rank >= Stage.CONTRACT_PREP.rank:
            assert customer.total_deal_value is not None
            assert customer.total_deal_value > 0
        if customer.stage.rank >= Stage.CLOSING.rank:
            assert customer.paid_amount is not None
            assert 0 < customer.paid_amount <= (customer.total_deal_value or 0)

    # Histories: created over the last 90 days, each stage reached through the use case, and
    # nothing recorded as having happened in the future.
    now = hub.deps.clock.now()
    created = sorted(c.created_at for c in customers)
    assert (now - created[0]).days <= 90
    assert (now - created[0]).days >= 20  # spread, not all "just now"
    for customer in customers:
        details = await get_customer(
            hub.deps,
            admin(org_id),
            customer.id,
            include=frozenset({"stageHistory", "interactions"}),
        )
        assert all(i.date <= now for i in details.interactions)
        history = details.stage_history
        assert history[0].to_stage is Stage.NEW_LEAD
        assert history[-1].to_stage is customer.stage
        assert all(e.changed_at <= now for e in history)
        assert [e.changed_at for e in history] == sorted(e.changed_at for e in history)

    counts = await action_counts(hub, org_id)
    assert all(counts[status] > 0 for status in ActionStatus), counts

    team = (await list_employees(hub.deps, admin(org_id))).employees
    roles = Counter(e.role for e in team)
    assert roles == {Role.ADMIN: 1, Role.SALES_MANAGER: 1, Role.SALES_AGENT: 4, Role.VIEWER: 1}
    agents = [e for e in team if e.role is Role.SALES_AGENT]
    assert all(a.manager_id == MANAGER_ID and a.fal_licence is not None for a in agents)
    assert {e.id for e in team} >= {ADMIN_ID, MANAGER_ID, VIEWER_ID}
    # Rules §9: the demo organization requires FAL licences, and every entry into negotiation
    # or later is covered: each such customer's broker is licensed today.
    settings = await get_organization_settings(hub.deps, admin(org_id))
    assert settings.settings.require_fal_licence is True
    today = hub.deps.local_today()
    licensed = {e.id for e in team if e.fal_licence and e.fal_licence.is_valid_on(today)}
    late = [c for c in customers if c.stage.rank >= Stage.NEGOTIATION.rank]
    assert late
    assert all(c.assigned_employee_id in licensed for c in late)

    # A second run changes nothing and says so.
    again = await load_demo_data(hub, org=org_id, customers=CUSTOMERS, seed=11)
    assert again.already_loaded
    assert again.customers == CUSTOMERS
    assert len(await all_customers(hub, org_id)) == CUSTOMERS
    assert await action_counts(hub, org_id) == counts
    assert len((await list_employees(hub.deps, admin(org_id))).employees) == len(team)


async def test_same_seed_same_people(hub: Hub, org_id: str) -> None:
    """Deterministic given the seed (ids and moments aside)."""
    other_org = f"{org_id}_b"
    third_org = f"{org_id}_c"
    await load_demo_data(hub, org=org_id, customers=9, seed=5)
    await load_demo_data(hub, org=other_org, customers=9, seed=5)
    await load_demo_data(hub, org=third_org, customers=9, seed=6)

    def people(customers: list[Customer]) -> set[tuple[str, str, Stage, str | None, str | None]]:
        return {(c.name, c.phone, c.stage, c.city, c.assigned_employee_id) for c in customers}

    first = people(await all_customers(hub, org_id))
    assert first == people(await all_customers(hub, other_org))
    assert first != people(await all_customers(hub, third_org))
    assert {stage for _, _, stage, _, _ in first} == set(Stage)  # nine customers, nine stages


async def test_bad_counts_are_refused_and_load_nothing(hub: Hub, org_id: str) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        await load_demo_data(hub, org=org_id, customers=0)
    assert (await list_employees(hub.deps, admin(org_id))).employees == []
    assert await all_customers(hub, org_id) == []


async def test_an_interrupted_load_is_reported_not_repeated(hub: Hub, org_id: str) -> None:
    await create_employee(
        hub.deps, admin(org_id), CreateEmployee(id=ADMIN_ID, name="عبدالله", role=Role.ADMIN)
    )
    with pytest.raises(DemoDataIncomplete, match=org_id):
        await load_demo_data(hub, org=org_id, customers=3)
    assert [e.id for e in (await list_employees(hub.deps, admin(org_id))).employees] == [ADMIN_ID]
    assert await all_customers(hub, org_id) == []

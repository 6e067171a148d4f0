"""The export's SQL source on SQLite and PostgreSQL: every customer of a list query, in the
list's order, in keyset batches — whatever the sort (nullable ones too), the scope, the
conditions and the search — and never more than a batch at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.sql.customer_reads import SqlCustomerQueries
from customers_hub.adapters.sql.exports import SqlCustomerExportSource
from customers_hub.adapters.sql.uow import SqlUnitOfWork
from customers_hub.application.queries import (
    Condition,
    CustomerListQuery,
    Op,
    PageRequest,
    Sort,
)
from customers_hub.domain.access import Reach, ScopeFilter
from customers_hub.domain.enums import CustomerSource, Priority, Role, Stage
from customers_hub.domain.model import Customer, Employee

BASE = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
ASSIGNEES = (None, "agt_1", "agt_2", "mgr_1", "agt_3")


def customers(org: str, count: int = 23) -> list[Customer]:
    """Customers with ties and NULLs in every sort key (same second, same score, no contact)."""
    out = []
    for n in range(count):
        created = BASE + timedelta(minutes=n // 3)  # three customers per minute: ties
        out.append(
            Customer(
                id=f"{org}_c{n:03d}",
                organization_id=org,
                name=["نورة", "أحمد", "بدر", "Zaid"][n % 4] + f" {n % 5}",
                phone=f"+96650{n:07d}",
                source=CustomerSource.MANUAL,
                stage=Stage.QUALIFIED if n % 3 == 0 else Stage.NEW_LEAD,
                created_at=created,
                updated_at=created + timedelta(hours=n % 4),
                lead_score=(n * 7) % 50,
                priority=list(Priority)[n % 4],
                assigned_employee_id=ASSIGNEES[n % len(ASSIGNEES)],
                city="الرياض" if n % 2 else "جدة",
                last_contact_at=None if n % 4 == 0 else BASE + timedelta(days=n % 6),
                total_deal_value=None if n % 3 else Decimal(100_000 * (n % 4)),
                deleted_at=BASE if n == 5 else None,
            )
        )
    return out


async def seed(engine: AsyncEngine, org: str) -> list[Customer]:
    stored = customers(org)
    async with SqlUnitOfWork(engine) as uow:
        for employee in (
            Employee("mgr_1", org, "منيرة", Role.SALES_MANAGER),
            Employee("agt_1", org, "أحمد", Role.SALES_AGENT, manager_id="mgr_1"),
            Employee("agt_2", org, "بدر", Role.SALES_AGENT, manager_id="mgr_1"),
            Employee("agt_3", org, "تركي", Role.SALES_AGENT),
        ):
            await uow.employees.save(employee)
        for customer in stored:
            await uow.customers.add(customer)
        await uow.commit()
    return stored


async def listed(engine: AsyncEngine, query: CustomerListQuery) -> list[str]:
    """Every id of the list, page by page (cursor)."""
    queries = SqlCustomerQueries(engine)
    ids: list[str] = []
    cursor = ""
    while True:
        page = await queries.list(
            CustomerListQuery(
                scope=query.scope,
                conditions=query.conditions,
                search=query.search,
                sort=query.sort,
                page=PageRequest(limit=7, cursor=cursor),
            )
        )
        ids += [c.id for c in page.items]
        if not page.has_next or page.next_cursor is None:
            return ids
        cursor = page.next_cursor


async def exported(engine: AsyncEngine, query: CustomerListQuery, size: int) -> list[list[str]]:
    source = SqlCustomerExportSource(engine)
    return [[c.id for c in batch] async for batch in source.batches(query, size)]


SORTS = [
    Sort("createdAt", descending=True),
    Sort("createdAt", descending=False),
    Sort("name", descending=False),
    Sort("leadScore", descending=True),
    Sort("priority", descending=True),
    Sort("updatedAt", descending=False),
    Sort("lastContactAt", descending=True),
    Sort("lastContactAt", descending=False),
    Sort("dealValue", descending=True),
    Sort("dealValue", descending=False),
]


@pytest.mark.parametrize(
    "sort", SORTS, ids=lambda s: f"{s.field}-{'desc' if s.descending else 'asc'}"
)
async def test_batches_hold_the_lists_rows_in_the_lists_order(
    engine: AsyncEngine, org_id: str, sort: Sort
) -> None:
    await seed(engine, org_id)
    query = CustomerListQuery(scope=ScopeFilter(org_id, Reach.ALL), sort=sort)
    batches = await exported(engine, query, 4)
    flat = [i for batch in batches for i in batch]
    assert flat == await listed(engine, query)
    assert len(flat) == 22  # the deleted one is left out
    assert all(len(batch) <= 4 for batch in batches)
    assert all(batch for batch in batches)


async def test_scope_conditions_and_search_are_the_lists(engine: AsyncEngine, org_id: str) -> None:
    stored = await seed(engine, org_id)
    team = ScopeFilter(org_id, Reach.TEAM, "mgr_1")
    query = CustomerListQuery(
        scope=team,
        conditions=(Condition("city", Op.IN, ("الرياض",)),),
        search="احمد",
        sort=Sort("name", descending=False),
    )
    flat = [i for batch in await exported(engine, query, 2) for i in batch]
    expected = {
        c.id
        for c in stored
        if c.assigned_employee_id in ("mgr_1", "agt_1", "agt_2")
        and c.city == "الرياض"
        and c.name.startswith("أحمد")
        and c.deleted_at is None
    }
    assert expected
    assert set(flat) == expected
    assert flat == await listed(engine, query)


async def test_nothing_of_another_organization_or_out_of_scope(
    engine: AsyncEngine, org_id: str
) -> None:
    await seed(engine, org_id)
    other = ScopeFilter(f"{org_id}_other", Reach.ALL)
    assert await exported(engine, CustomerListQuery(scope=other), 10) == []
    nobody = ScopeFilter(org_id, Reach.NONE)
    assert await exported(engine, CustomerListQuery(scope=nobody), 10) == []
    own = ScopeFilter(org_id, Reach.OWN, "agt_3")
    flat = [i for batch in await exported(engine, CustomerListQuery(scope=own), 1) for i in batch]
    assert flat
    assert all(i.startswith(org_id) for i in flat)
    assert len(flat) == len(set(flat))


async def test_exported_customers_carry_their_fields(engine: AsyncEngine, org_id: str) -> None:
    stored = {c.id: c for c in await seed(engine, org_id)}
    query = CustomerListQuery(scope=ScopeFilter(org_id, Reach.ALL))
    async for batch in SqlCustomerExportSource(engine).batches(query, 100):
        for customer in batch:
            original = stored[customer.id]
            assert customer.name == original.name
            assert customer.last_contact_at == original.last_contact_at
            assert customer.total_deal_value == original.total_deal_value
            assert customer.assigned_employee_id == original.assigned_employee_id

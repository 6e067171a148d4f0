"""The recipe's storage step, on SQLite and PostgreSQL: ``responseRate`` is stored, read back and
filtered on with no code naming it but the entity, the column and the migration
(tests/unit/test_field_recipe.py walks the other steps)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.sql.customer_reads import SqlCustomerQueries
from customers_hub.adapters.sql.uow import SqlUnitOfWork
from customers_hub.application.queries import (
    Condition,
    CustomerListQuery,
    Op,
    PageRequest,
    Sort,
)
from customers_hub.domain.access import Reach, ScopeFilter
from customers_hub.domain.enums import CustomerSource, Stage
from customers_hub.domain.model import Customer

BASE = datetime(2025, 1, 1, tzinfo=UTC)


def _customer(org: str, n: int, rate: int | None) -> Customer:
    created = BASE + timedelta(days=n)
    return Customer(
        id=f"{org}_r{n}",
        organization_id=org,
        name=f"عميل {n}",
        phone=f"+96651{n:07d}",
        source=CustomerSource.MANUAL,
        stage=Stage.NEW_LEAD,
        created_at=created,
        updated_at=created,
        total_interactions=3,
        response_rate=rate,
    )


async def _ids(engine: AsyncEngine, org: str, *conditions: Condition) -> list[str]:
    page = await SqlCustomerQueries(engine).list(
        CustomerListQuery(
            scope=ScopeFilter(org, Reach.ALL),
            conditions=conditions,
            sort=Sort("createdAt", descending=False),
            page=PageRequest(limit=100),
        )
    )
    return [c.id for c in page.items]


async def test_the_field_is_stored_read_back_and_filtered(engine: AsyncEngine, org_id: str) -> None:
    rates = (0, 55, 100, None)
    stored = [_customer(org_id, n, rate) for n, rate in enumerate(rates)]
    async with SqlUnitOfWork(engine) as uow:
        for customer in stored:
            await uow.customers.add(customer)
        await uow.commit()
    async with SqlUnitOfWork(engine) as uow:
        for customer in stored:
            loaded = await uow.customers.get(org_id, customer.id)
            assert loaded is not None
            assert loaded.response_rate == customer.response_rate
            assert loaded == customer
    ids = [c.id for c in stored]
    assert await _ids(engine, org_id, Condition("responseRate", Op.GTE, 55)) == ids[1:3]
    assert await _ids(engine, org_id, Condition("responseRate", Op.LT, 55)) == ids[:1]
    assert await _ids(engine, org_id, Condition("responseRate", Op.EQ, None)) == ids[3:]
    # ne keeps the customers without a rate (an empty field is "not equal").
    assert await _ids(engine, org_id, Condition("responseRate", Op.NE, 55)) == [
        ids[0],
        ids[2],
        ids[3],
    ]


async def test_a_written_field_is_stored_changed_cleared_and_filtered(
    engine: AsyncEngine, org_id: str
) -> None:
    # ``employer`` is written by clients; storage needs nothing but the column and migration.
    employers = ("وزارة التعليم", "Saudi Aramco", None)
    stored = [
        attrs.evolve(_customer(org_id, 10 + n, None), employer=employer)
        for n, employer in enumerate(employers)
    ]
    async with SqlUnitOfWork(engine) as uow:
        for customer in stored:
            await uow.customers.add(customer)
        await uow.commit()
    ids = [c.id for c in stored]
    assert await _ids(engine, org_id, Condition("employer", Op.EQ, "Saudi Aramco")) == ids[1:2]
    assert await _ids(engine, org_id, Condition("employer", Op.CONTAINS, "التعليم")) == ids[:1]
    assert await _ids(engine, org_id, Condition("employer", Op.EQ, None)) == ids[2:]
    # A patch changes it and clears it through the slim save (changed columns only).
    first, second = stored[0], stored[1]
    async with SqlUnitOfWork(engine) as uow:
        for before, employer in ((first, "أرامكو السعودية"), (second, None)):
            after = attrs.evolve(before, employer=employer, version=before.version + 1)
            await uow.customers.save(after, expected_version=before.version)
        await uow.commit()
    async with SqlUnitOfWork(engine) as uow:
        loaded = [await uow.customers.get(org_id, c.id) for c in (first, second)]
    assert [c.employer if c else "missing" for c in loaded] == ["أرامكو السعودية", None]

"""A page of customers loads its stage history and interests within the caller's organization.

Issue 13, bug 5: the read side loaded a page's relations by ``customer_id`` alone, unlike the
repository. Safe only while ids are globally unique, and a blocker for sharding by organization.
Nothing in the schema ties a relation row's ``organization_id`` to its customer's, so the test
plants rows of another organization on the listed customer's id and checks that neither a list
(page numbers or cursor) nor a search returns them — and that the statements name the
organization.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.sql import tables as t
from customers_hub.adapters.sql.customer_reads import SqlCustomerQueries
from customers_hub.adapters.sql.uow import SqlUnitOfWork
from customers_hub.application.queries import (
    CustomerListQuery,
    PageRequest,
    SearchQuery,
)
from customers_hub.domain.access import Reach, ScopeFilter
from customers_hub.domain.enums import CustomerSource, PropertyInterestStatus, Stage
from customers_hub.domain.model import Customer, PropertyInterest, StageChange

CREATED = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def customer(org: str) -> Customer:
    cid = f"{org}_c1"
    return Customer(
        id=cid,
        organization_id=org,
        name="نورة الحربي",
        phone="+966551230001",
        source=CustomerSource.MANUAL,
        stage=Stage.NEW_LEAD,
        created_at=CREATED,
        updated_at=CREATED,
        stage_history=(
            StageChange(
                id=f"{cid}_h1",
                from_stage=None,
                to_stage=Stage.NEW_LEAD,
                changed_by="System",
                changed_by_id="system",
                changed_at=CREATED,
                auto_generated=True,
            ),
        ),
        property_interests=(
            PropertyInterest(
                id=f"{cid}_i1",
                property_id="prop_1",
                status=PropertyInterestStatus.INTERESTED,
                added_at=CREATED,
                property_price=Decimal("900000.00"),
            ),
        ),
    )


async def plant_foreign_relations(engine: AsyncEngine, customer_id: str, other_org: str) -> None:
    """Rows of ``other_org`` that carry ``customer_id`` (another organization's data)."""
    later = CREATED + timedelta(days=1)
    async with engine.begin() as conn:
        await conn.execute(
            insert(t.stage_history).values(
                id=f"h_{uuid.uuid4().hex[:10]}",
                organization_id=other_org,
                customer_id=customer_id,
                seq=2,
                from_stage=Stage.NEW_LEAD.value,
                to_stage=Stage.QUALIFIED.value,
                changed_by="intruder",
                changed_by_id="emp_other",
                changed_at=later,
                auto_generated=False,
            )
        )
        await conn.execute(
            insert(t.property_interests).values(
                id=f"i_{uuid.uuid4().hex[:10]}",
                organization_id=other_org,
                customer_id=customer_id,
                property_id="prop_other",
                status=PropertyInterestStatus.INTERESTED.value,
                added_at=later,
            )
        )


@contextmanager
def relation_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The statements that read ``stage_history`` or ``property_interests``."""
    seen: list[str] = []

    def listener(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM stage_history" in statement or "FROM property_interests" in statement:
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", listener)


def assert_own_relations_only(found: Customer, expected: Customer) -> None:
    assert [h.id for h in found.stage_history] == [h.id for h in expected.stage_history]
    assert [i.id for i in found.property_interests] == [i.id for i in expected.property_interests]


@pytest.mark.parametrize("mode", ["page", "cursor", "search"])
async def test_a_page_never_reads_another_organizations_relations(
    engine: AsyncEngine, org_id: str, mode: str
) -> None:
    mine = customer(org_id)
    async with SqlUnitOfWork(engine) as uow:
        await uow.customers.add(mine)
        await uow.commit()
    await plant_foreign_relations(engine, mine.id, f"{org_id}_other")
    queries = SqlCustomerQueries(engine)
    scope = ScopeFilter(org_id, Reach.ALL)
    with relation_statements(engine) as statements:
        if mode == "search":
            hits = (await queries.search(SearchQuery(scope=scope, text="نورة"))).hits
            items = [hit.item for hit in hits]
        else:
            page = PageRequest(cursor="") if mode == "cursor" else PageRequest()
            items = list((await queries.list(CustomerListQuery(scope=scope, page=page))).items)
    assert [c.id for c in items] == [mine.id]
    assert_own_relations_only(items[0], mine)
    assert len(statements) == 2
    for statement in statements:
        assert "organization_id = " in statement, statement

"""The audit trail on SQLite and PostgreSQL: the commit hook appends one entry per changed entity
with one INSERT in the write's own transaction (a rolled-back write leaves none), an embedding
service's direct use-case calls are recorded with their actor, ``mask_customer`` masks the
personal values of exactly that customer's entries, and the timeline is an index seek."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.sql import tables
from customers_hub.adapters.sql.audit import SqlAuditLog
from customers_hub.application.queries import PageRequest
from customers_hub.application.use_cases.actions import CreateAction, create_action
from customers_hub.application.use_cases.bulk import BulkSnooze, bulk_snooze
from customers_hub.application.use_cases.customer_stage import ChangeStage, change_stage
from customers_hub.application.use_cases.customers import (
    CreateCustomer,
    UpdateCustomer,
    create_customer,
    update_customer,
)
from customers_hub.application.use_cases.employees import CreateEmployee, create_employee
from customers_hub.application.write_context import bind_request_id, reset_request_id
from customers_hub.domain.audit import MASK
from customers_hub.domain.enums import ActionType, CustomerSource, Permission, Role, Stage
from customers_hub.domain.errors import InvalidStageTransition
from customers_hub.domain.lifecycle import StageChangeRequest
from customers_hub.domain.model import Actor
from customers_hub.domain.validation import CustomerDraft, CustomerPatch
from customers_hub.entrypoints.bootstrap import Hub, build_hub

_PHONES = iter(range(3_000_000, 3_999_999))


@pytest.fixture
async def hub(engine: AsyncEngine, database_url: str) -> AsyncIterator[Hub]:
    """A hub on the session's database (migrated), as an embedding service builds it."""
    async with build_hub(database_url) as built:
        yield built


@contextmanager
def audit_inserts(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def listener(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if re.match(r"\s*INSERT INTO audit_log\b", statement):
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", listener)


async def rows_of(engine: AsyncEngine, org: str) -> list[Any]:
    log = tables.audit_log
    async with engine.connect() as conn:
        result = await conn.execute(
            select(log).where(log.c.organization_id == org).order_by(log.c.id)
        )
        return list(result.mappings())


async def team(hub: Hub, org: str) -> tuple[Actor, Actor]:
    admin = Actor("emp_admin", org, Role.ADMIN, frozenset(Permission), name="سارة")
    await create_employee(
        hub.deps, admin, CreateEmployee(id="emp_agent", name="أحمد", role=Role.SALES_AGENT)
    )
    agent = Actor("emp_agent", org, Role.SALES_AGENT, frozenset(Permission), name="أحمد")
    return admin, agent


async def a_customer(hub: Hub, actor: Actor, **fields: Any) -> str:
    draft = CustomerDraft(
        name="محمد الفهد",
        phone=f"+96655{next(_PHONES):07d}",
        source=CustomerSource.MANUAL,
        assigned_employee_id="emp_agent",
        **fields,
    )
    return ((await create_customer(hub.deps, actor, CreateCustomer(draft))).customer).id


async def test_direct_use_case_calls_are_recorded_with_their_actor_and_request(
    hub: Hub, org_id: str
) -> None:
    admin, agent = await team(hub, org_id)
    token = bind_request_id("embed-1")  # an embedding service may name its own request
    try:
        customer_id = await a_customer(hub, agent, email="m@example.com")
    finally:
        reset_request_id(token)
    await change_stage(
        hub.deps, admin, ChangeStage(customer_id, StageChangeRequest(to_stage=Stage.QUALIFIED))
    )
    rows = [r for r in await rows_of(hub.engine, org_id) if r["customer_id"] == customer_id]
    created = next(r for r in rows if r["action"] == "customer.created")
    assert (created["actor_id"], created["actor_name"]) == ("emp_agent", "أحمد")
    assert created["request_id"] == "embed-1"
    assert {"field": "email", "from": None, "to": "m@example.com"} in created["changes"]
    moved = next(r for r in rows if r["action"] == "customer.stage_changed")
    assert (moved["actor_id"], moved["actor_name"]) == ("emp_admin", "سارة")
    assert moved["request_id"] is None
    assert {"field": "stage", "from": "new_lead", "to": "qualified"} in moved["changes"]
    employees = [r for r in await rows_of(hub.engine, org_id) if r["entity_type"] == "employee"]
    assert [(r["action"], r["entity_id"], r["customer_id"]) for r in employees] == [
        ("employee.created", "emp_agent", None)
    ]


async def test_a_rolled_back_write_appends_nothing(hub: Hub, org_id: str) -> None:
    admin, _agent = await team(hub, org_id)
    customer_id = await a_customer(hub, admin)
    before = await rows_of(hub.engine, org_id)
    with pytest.raises(InvalidStageTransition):
        await change_stage(
            hub.deps,
            admin,
            ChangeStage(customer_id, StageChangeRequest(to_stage=Stage.NEGOTIATION)),
        )
    assert await rows_of(hub.engine, org_id) == before


async def test_a_bulk_write_is_one_entry_per_item_in_one_insert(hub: Hub, org_id: str) -> None:
    admin, _agent = await team(hub, org_id)
    customer_id = await a_customer(hub, admin)
    ids = [
        (
            await create_action(
                hub.deps,
                admin,
                CreateAction(customer_id=customer_id, type=ActionType.FOLLOW_UP, title=f"م {n}"),
            )
        ).id
        for n in range(5)
    ]
    until = hub.deps.clock.now().replace(microsecond=0) + timedelta(days=2)
    with audit_inserts(hub.engine) as inserts:
        result = await bulk_snooze(
            hub.deps, admin, BulkSnooze(action_ids=tuple(ids), snoozed_until=until)
        )
    assert len(result.succeeded_ids) == 5
    assert len(inserts) == 1
    snoozed = [r for r in await rows_of(hub.engine, org_id) if r["action"] == "action.snoozed"]
    assert sorted(r["entity_id"] for r in snoozed) == sorted(ids)
    assert {r["customer_id"] for r in snoozed} == {customer_id}


async def test_mask_customer_masks_that_customers_personal_values_only(
    hub: Hub, org_id: str
) -> None:
    admin, _agent = await team(hub, org_id)
    erased = await a_customer(hub, admin, email="erase@example.com")
    kept = await a_customer(hub, admin, email="keep@example.com")
    await update_customer(
        hub.deps, admin, UpdateCustomer(erased, CustomerPatch(city="جدة", notes="ملاحظة خاصة"))
    )
    log = SqlAuditLog(hub.engine)
    assert await log.mask_customer(org_id, erased) >= 2
    assert await log.mask_customer(org_id, erased) == 0  # a second erase is a no-op
    page = await log.customer_page(org_id, erased, PageRequest(limit=50, cursor=""))
    values = {(c.field, c.from_, c.to) for e in page.items for c in e.changes}
    assert ("email", None, MASK) in values
    assert ("notes", None, MASK) in values
    assert ("city", "الرياض", "جدة") in values or ("city", None, "جدة") in values
    assert not any("erase@example.com" in str(v) or "ملاحظة" in str(v) for v in values)
    # Another customer's entries keep their values; so does another organization's.
    other = await log.customer_page(org_id, kept, PageRequest(limit=50, cursor=""))
    assert ("email", None, "keep@example.com") in {
        (c.field, c.from_, c.to) for e in other.items for c in e.changes
    }
    assert await log.mask_customer("org_elsewhere", kept) == 0


async def test_the_timeline_reads_an_index_range_newest_first(
    hub: Hub, engine: AsyncEngine, org_id: str
) -> None:
    admin, _agent = await team(hub, org_id)
    customer_id = await a_customer(hub, admin)
    source = SqlAuditLog.timeline_source(org_id, customer_id)
    log = tables.audit_log
    query = source.select().order_by(log.c.at.desc(), log.c.id.desc()).limit(21)
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = [str(r[3]) for r in await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")]
            assert any("USING INDEX ix_audit_log_org_customer_at" in d for d in plan), plan
            assert not any("TEMP B-TREE" in d for d in plan), plan
        else:
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                await conn.execute(text(f"SET LOCAL {setting} = off"))
            plan = (await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}")).scalar_one()
            text_plan = str(plan)
            assert "ix_audit_log_org_customer_at" in text_plan, plan
            assert "Index Scan Backward" in text_plan or "'Scan Direction': 'Backward'" in text_plan
            assert "'Node Type': 'Sort'" not in text_plan, plan
            await conn.rollback()

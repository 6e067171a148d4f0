"""Assignment rules on SQLite and PostgreSQL: the use cases on a real hub (``build_hub``).

Shown: creates without an assignee are spread by round robin (inactive employees skipped) and by
load (live customers in new_lead … negotiation); nobody active leaves the customer unassigned
with the admins' follow-up action; the audit entry names the rule and ``customer.assigned`` is
in the outbox; with no rule a create reads ``assignment_rules`` once; a batch
(``assign_new_customers``) spreads like single creates; rules round-trip, a manager lists only
the team's rules, an old ``If-Match`` is 412 and a failed change writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.sql import tables
from customers_hub.application.errors import PreconditionFailed
from customers_hub.application.use_cases.assignment import (
    RulePatch,
    UpdateAssignmentRule,
    assign_new_customers,
    create_assignment_rule,
    get_assignment_rule,
    list_assignment_rules,
    update_assignment_rule,
)
from customers_hub.application.use_cases.customers import CreateCustomer, create_customer
from customers_hub.application.use_cases.employees import (
    CreateEmployee,
    UpdateEmployee,
    create_employee,
    update_employee,
)
from customers_hub.domain import customers as aggregate
from customers_hub.domain.assignment import RuleDraft, RuleMatch, Strategy
from customers_hub.domain.enums import ActionType, CustomerSource, Permission, Role, Stage
from customers_hub.domain.errors import AssignmentRejected, PermissionDenied
from customers_hub.domain.model import Actor
from customers_hub.domain.validation import CustomerDraft
from customers_hub.entrypoints.bootstrap import Hub, build_hub

_PHONES = iter(range(4_000_000, 4_999_999))


@pytest.fixture
async def hub(engine: AsyncEngine, database_url: str) -> AsyncIterator[Hub]:
    """A hub on the session's database (migrated), as an embedding service builds it."""
    async with build_hub(database_url) as built:
        yield built


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def listener(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", listener)


async def team(hub: Hub, org: str) -> Actor:
    """An admin, a manager with agents a1..a3, and an agent of nobody's team (x)."""
    admin = Actor("emp_admin", org, Role.ADMIN, frozenset(Permission), name="سارة")
    for employee_id, role, manager in (
        ("emp_manager", Role.SALES_MANAGER, None),
        ("a1", Role.SALES_AGENT, "emp_manager"),
        ("a2", Role.SALES_AGENT, "emp_manager"),
        ("a3", Role.SALES_AGENT, "emp_manager"),
        ("x", Role.SALES_AGENT, None),
    ):
        await create_employee(
            hub.deps,
            admin,
            CreateEmployee(id=employee_id, name=employee_id, role=role, manager_id=manager),
        )
    return admin


def draft(**fields: Any) -> CustomerDraft:
    values: dict[str, Any] = {
        "name": "محمد الفهد",
        "phone": f"+96655{next(_PHONES):07d}",
        "source": CustomerSource.MANUAL,
        "city": "الرياض",
    }
    return CustomerDraft(**{**values, **fields})


async def lead(hub: Hub, admin: Actor, **fields: Any) -> str | None:
    created = (await create_customer(hub.deps, admin, CreateCustomer(draft(**fields)))).customer
    return created.assigned_employee_id


async def a_rule(hub: Hub, admin: Actor, **fields: Any) -> str:
    values: dict[str, Any] = {
        "name": "توزيع",
        "strategy": Strategy.ROUND_ROBIN,
        "employee_ids": ("a1", "a2", "a3"),
    }
    return (await create_assignment_rule(hub.deps, admin, RuleDraft(**{**values, **fields}))).id


async def test_round_robin_spreads_creates_and_skips_inactive_employees(
    hub: Hub, org_id: str
) -> None:
    admin = await team(hub, org_id)
    await a_rule(hub, admin)
    assert [await lead(hub, admin) for _ in range(4)] == ["a1", "a2", "a3", "a1"]
    await update_employee(hub.deps, admin, UpdateEmployee(employee_id="a2", is_active=False))
    assert [await lead(hub, admin) for _ in range(3)] == ["a3", "a1", "a3"]


async def test_a_named_assignee_and_unmatched_customers_are_left_alone(
    hub: Hub, org_id: str
) -> None:
    admin = await team(hub, org_id)
    await a_rule(hub, admin, match=RuleMatch(sources=(CustomerSource.WHATSAPP,)))
    assert await lead(hub, admin, assigned_employee_id="x") == "x"
    assert await lead(hub, admin) is None  # manual: the rule does not fit
    assert await lead(hub, admin, source=CustomerSource.WHATSAPP) == "a1"


async def test_load_balanced_counts_live_customers_in_the_open_stages(
    hub: Hub, org_id: str
) -> None:
    admin = await team(hub, org_id)
    for _ in range(2):
        await lead(hub, admin, assigned_employee_id="a1")
    await lead(hub, admin, assigned_employee_id="a2")
    # a3 holds a closed customer only: it does not count.
    async with hub.deps.uow() as uow:
        customer, _ = aggregate.new_customer(
            draft(assigned_employee_id="a3"),
            customer_id="cust_closed_" + org_id,
            organization_id=org_id,
            actor=admin,
            history_entry_id="stage_closed_" + org_id,
            now=hub.deps.clock.now(),
        )
        await uow.customers.add(customer)
        await uow.commit()
    async with hub.deps.uow() as uow:
        conn = uow.connection  # type: ignore[attr-defined]
        await conn.execute(
            tables.customers.update()
            .where(tables.customers.c.id == customer.id)
            .values(stage=Stage.CLOSING.value)
        )
        await uow.commit()
    await a_rule(hub, admin, strategy=Strategy.LOAD_BALANCED)
    assert [await lead(hub, admin) for _ in range(4)] == ["a3", "a2", "a3", "a1"]


async def test_nobody_active_leaves_the_customer_to_the_admins_inbox(hub: Hub, org_id: str) -> None:
    admin = await team(hub, org_id)
    await a_rule(hub, admin, employee_ids=("x",))
    await update_employee(hub.deps, admin, UpdateEmployee(employee_id="x", is_active=False))
    created = (await create_customer(hub.deps, admin, CreateCustomer(draft()))).customer
    assert created.assigned_employee_id is None
    async with hub.deps.uow(read_only=True) as uow:
        actions = await uow.actions.open_for_customer(org_id, created.id)
    [follow_up] = [a for a in actions if a.type is ActionType.FOLLOW_UP]
    assert follow_up.assigned_to is None
    assert "تعيين" in follow_up.title


async def test_the_decision_is_audited_and_announced(
    hub: Hub, org_id: str, engine: AsyncEngine
) -> None:
    admin = await team(hub, org_id)
    rule_id = await a_rule(hub, admin)
    created = (await create_customer(hub.deps, admin, CreateCustomer(draft()))).customer
    log, outbox = tables.audit_log, tables.outbox
    async with engine.connect() as conn:
        entry = (
            await conn.execute(
                select(log).where(log.c.organization_id == org_id, log.c.entity_id == created.id)
            )
        ).one()
        events = (
            (await conn.execute(select(outbox.c.event).where(outbox.c.organization_id == org_id)))
            .scalars()
            .all()
        )
    assert entry.action == "customer.created"
    assert entry.actor_id == admin.user_id
    assert {"field": "assignmentRuleId", "from": None, "to": rule_id} in entry.changes
    assert {"field": "assignedEmployeeId", "from": None, "to": "a1"} in entry.changes
    assert "customer.assigned" in events


async def test_without_rules_a_create_reads_the_rules_once(hub: Hub, org_id: str) -> None:
    admin = await team(hub, org_id)
    with statements(hub.engine) as seen:
        assert await lead(hub, admin) is None
    touching = [s for s in seen if re.search(r"\bassignment_rule", s)]
    assert len(touching) == 1
    assert touching[0].lstrip().upper().startswith("SELECT")


async def test_a_batch_spreads_like_single_creates(hub: Hub, org_id: str) -> None:
    admin = await team(hub, org_id)
    await a_rule(hub, admin)
    batch = [
        aggregate.new_customer(
            draft(),
            customer_id=f"cust_b{i}_{org_id}",
            organization_id=org_id,
            actor=admin,
            history_entry_id=f"stage_b{i}_{org_id}",
            now=hub.deps.clock.now(),
        )[0]
        for i in range(5)
    ]
    async with hub.deps.uow() as uow:
        assigned = await assign_new_customers(hub.deps, uow, org_id, batch)
        await uow.commit()
    assert [c.assigned_employee_id for c in assigned] == ["a1", "a2", "a3", "a1", "a2"]
    assert await lead(hub, admin) == "a3"  # the pointer moved with the batch


async def test_rules_round_trip_and_managers_see_their_team(hub: Hub, org_id: str) -> None:
    admin = await team(hub, org_id)
    manager = Actor("emp_manager", org_id, Role.SALES_MANAGER, frozenset(Permission))
    team_rule = await a_rule(
        hub,
        admin,
        match=RuleMatch(cities=("جدة",), property_types=()),
        priority=7,
        active=False,
    )
    await a_rule(hub, admin, employee_ids=("a1", "x"))
    read = await get_assignment_rule(hub.deps, manager, team_rule)
    assert read.match == RuleMatch(cities=("جدة",))
    assert (read.priority, read.active, read.employee_ids) == (7, False, ("a1", "a2", "a3"))
    listed = await list_assignment_rules(hub.deps, manager)
    assert [r.id for r in listed.items] == [team_rule]
    assert (await list_assignment_rules(hub.deps, admin)).total_items == 2
    with pytest.raises(PermissionDenied):
        await update_assignment_rule(
            hub.deps,
            manager,
            UpdateAssignmentRule(rule_id=team_rule, patch=RulePatch(employee_ids=("a1", "x"))),
        )
    with pytest.raises(AssignmentRejected):
        await update_assignment_rule(
            hub.deps,
            admin,
            UpdateAssignmentRule(rule_id=team_rule, patch=RulePatch(employee_ids=("a1", "nobody"))),
        )
    with pytest.raises(PreconditionFailed):
        await update_assignment_rule(
            hub.deps,
            admin,
            UpdateAssignmentRule(
                rule_id=team_rule, patch=RulePatch(name="جديد"), expected_version=9
            ),
        )
    assert await get_assignment_rule(hub.deps, admin, team_rule) == read  # nothing written
    changed = await update_assignment_rule(
        hub.deps,
        manager,
        UpdateAssignmentRule(
            rule_id=team_rule, patch=RulePatch(name="جديد", active=True), expected_version=1
        ),
    )
    assert (changed.name, changed.active, changed.version) == ("جديد", True, 2)

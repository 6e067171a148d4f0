"""Merge and unmerge on SQLite and PostgreSQL (rules §10): what moves, what the survivor
becomes, that an unmerge gives back exactly what was there, that it refuses when something
moved since (and then changes nothing), that a failed merge leaves no partial write, and that
the number of statements does not grow with the rows moved."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import attrs
import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.sql import tables
from customers_hub.adapters.sql.merging import SqlMergeStore, sql_merge_store
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.use_cases.actions import CreateAction, create_action
from customers_hub.application.use_cases.customer_stage import ChangeStage, change_stage
from customers_hub.application.use_cases.customers import (
    CreateCustomer,
    UpdateCustomer,
    create_customer,
    get_customer,
    update_customer,
)
from customers_hub.application.use_cases.employees import CreateEmployee, create_employee
from customers_hub.application.use_cases.merging import (
    MergeCustomers,
    UnmergeCustomers,
    merge_customers,
    unmerge_customers,
)
from customers_hub.application.use_cases.relations import (
    AddPropertyInterest,
    LogInteraction,
    add_property_interest,
    log_interaction,
)
from customers_hub.application.use_cases.reminders import (
    AddReminder,
    CompleteReminder,
    add_reminder,
    complete_reminder,
)
from customers_hub.application.use_cases.scheduling import ScheduleAppointment, schedule_appointment
from customers_hub.domain.enums import (
    ActionType,
    AppointmentType,
    CustomerSource,
    InteractionDirection,
    InteractionType,
    Permission,
    PropertyInterestStatus,
    Role,
    Sentiment,
    Stage,
)
from customers_hub.domain.errors import NotFound, PermissionDenied
from customers_hub.domain.lifecycle import StageChangeRequest
from customers_hub.domain.merging import MergeRejected, UnmergeConflict, UnmergeRefused
from customers_hub.domain.model import Actor
from customers_hub.domain.validation import CustomerDraft, CustomerPatch
from customers_hub.entrypoints.bootstrap import Hub, build_hub

_PHONES = iter(range(4_000_000, 4_999_999))
_SLOTS = iter(range(1, 10_000))  # one agent's appointments never overlap (no conflict)
_RELATIONS = (
    tables.interactions,
    tables.appointments,
    tables.reminders,
    tables.documents,
    tables.customer_actions,
    tables.property_interests,
    tables.stage_history,
)


@pytest.fixture
async def hub(engine: AsyncEngine, database_url: str) -> AsyncIterator[Hub]:
    """A hub on the session's (migrated) database."""
    async with build_hub(database_url) as built:
        yield built


def admin_of(org: str) -> Actor:
    return Actor("emp_admin", org, Role.ADMIN, frozenset(Permission), name="سارة")


async def agents(hub: Hub, org: str) -> tuple[Actor, Actor]:
    admin = admin_of(org)
    for employee_id, name in (("emp_a", "أحمد"), ("emp_b", "بدر")):
        await create_employee(
            hub.deps, admin, CreateEmployee(id=employee_id, name=name, role=Role.SALES_AGENT)
        )
    return (
        Actor("emp_a", org, Role.SALES_AGENT, frozenset(Permission), name="أحمد"),
        Actor("emp_b", org, Role.SALES_AGENT, frozenset(Permission), name="بدر"),
    )


async def a_customer(hub: Hub, actor: Actor, **fields: Any) -> str:
    draft = CustomerDraft(
        name=fields.pop("name", "محمد الفهد"),
        phone=f"+96655{next(_PHONES):07d}",
        source=CustomerSource.MANUAL,
        **fields,
    )
    return ((await create_customer(hub.deps, actor, CreateCustomer(draft))).customer).id


async def with_relations(hub: Hub, actor: Actor, customer_id: str, *, interactions: int) -> None:
    """Rows of every kind the merge moves (the property ``prop_shared`` too)."""
    now = hub.deps.clock.now()
    for n in range(interactions):
        await log_interaction(
            hub.deps,
            actor,
            LogInteraction(
                customer_id=customer_id,
                type=InteractionType.CALL,
                notes=f"مكالمة {n}",
                date=now - timedelta(hours=n + 1),
                direction=InteractionDirection.INBOUND,
                sentiment=Sentiment.POSITIVE,
            ),
        )
    await schedule_appointment(
        hub.deps,
        actor,
        ScheduleAppointment(
            customer_id=customer_id,
            title="زيارة",
            type=AppointmentType.SITE_VISIT,
            at=now + timedelta(days=2, hours=2 * next(_SLOTS)),
        ),
    )
    await add_reminder(
        hub.deps,
        actor,
        AddReminder(customer_id=customer_id, title="اتصل", at=now + timedelta(days=1)),
    )
    for property_id in ("prop_shared", f"prop_{customer_id}"):
        await add_property_interest(
            hub.deps,
            actor,
            AddPropertyInterest(
                customer_id=customer_id,
                property_id=property_id,
                status=PropertyInterestStatus.VIEWED,
            ),
        )
    await create_action(
        hub.deps,
        actor,
        CreateAction(customer_id=customer_id, type=ActionType.CALLBACK_REQUEST, title="عاود"),
    )
    await change_stage(
        hub.deps, actor, ChangeStage(customer_id, StageChangeRequest(to_stage=Stage.QUALIFIED))
    )


async def rows_of(engine: AsyncEngine, org: str) -> dict[str, dict[str, dict[str, Any]]]:
    """Every relation row of the organization by table and id (what an unmerge must restore);
    an action's version and the history's position/mark are bookkeeping, left out."""
    skip = {"version", "search_text"}
    found: dict[str, dict[str, dict[str, Any]]] = {}
    async with engine.connect() as conn:
        for table in _RELATIONS:
            result = await conn.execute(select(table).where(table.c.organization_id == org))
            found[table.name] = {
                r["id"]: {k: v for k, v in r.items() if k not in skip} for r in result.mappings()
            }
    return found


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


async def test_merge_moves_everything_and_fills_the_survivors_empty_fields(
    hub: Hub, org_id: str
) -> None:
    agent, _ = await agents(hub, org_id)
    survivor = await a_customer(hub, agent, city="الرياض")
    first = await a_customer(hub, agent, name="محمد", city="جدة", notes="من المعرض")
    second = await a_customer(hub, agent, email="m@example.com", notes="عميل قديم")
    for customer_id, count in ((survivor, 1), (first, 2), (second, 3)):
        await with_relations(hub, agent, customer_id, interactions=count)

    outcome = await merge_customers(
        hub.deps,
        agent,
        MergeCustomers(survivor_id=survivor, source_ids=(first, second), fields={"notes": second}),
    )

    merged = outcome.survivor
    assert merged.id == survivor
    assert merged.stage is Stage.QUALIFIED
    assert merged.city == "الرياض"  # the survivor keeps what it has
    assert merged.email == "m@example.com"  # the first source with a value
    assert merged.notes == "عميل قديم"  # named in fields
    assert merged.total_interactions == 6
    assert merged.positive_inbound_interactions == 6
    assert merged.total_appointments == 3
    # The sources' prop_shared stay with them: one interest per (customer, property).
    properties = sorted(i.property_id for i in merged.property_interests)
    assert properties == sorted(
        ["prop_shared", f"prop_{survivor}", f"prop_{first}", f"prop_{second}"]
    )
    assert merged.total_property_views == 4
    assert set(outcome.merge.fields) == {"email", "notes"}

    details = await get_customer(
        hub.deps, agent, survivor, include=frozenset({"interactions", "appointments", "reminders"})
    )
    assert len(details.interactions) == 6
    assert len(details.appointments) == 3
    assert len(details.reminders) == 3
    history = details.customer.stage_history
    assert len(history) == 6  # 2 entries each (created, qualified)
    assert [e.changed_at for e in history] == sorted(e.changed_at for e in history)
    assert {e.merged_from for e in history} == {None, first, second}
    own = [e for e in history if e.merged_from is None]
    assert len(own) == 2

    for source in (first, second):
        with pytest.raises(NotFound):
            await get_customer(hub.deps, agent, source)
        admin_view = await get_customer(hub.deps, admin_of(org_id), source, include_deleted=True)
        assert admin_view.customer.merged_into == survivor
        assert admin_view.customer.deleted_at is not None
    rows = await rows_of(hub.engine, org_id)
    actions = rows["customer_actions"].values()
    assert {a["customer_id"] for a in actions} == {survivor}
    assert {a["customer_name"] for a in actions} == {"محمد الفهد"}
    # The sources keep only the interest the survivor had already.
    left = [i for i in rows["property_interests"].values() if i["customer_id"] != survivor]
    assert sorted((i["customer_id"], i["property_id"]) for i in left) == sorted(
        [(first, "prop_shared"), (second, "prop_shared")]
    )


async def test_unmerge_gives_back_exactly_what_was_there(hub: Hub, org_id: str) -> None:
    agent, _ = await agents(hub, org_id)
    survivor = await a_customer(hub, agent)
    first = await a_customer(hub, agent, email="f@example.com", latitude=None)
    second = await a_customer(hub, agent, whatsapp="+966500000001")
    for customer_id, count in ((survivor, 2), (first, 1), (second, 2)):
        await with_relations(hub, agent, customer_id, interactions=count)
    before_rows = await rows_of(hub.engine, org_id)
    admin = admin_of(org_id)
    before = {
        c: (await get_customer(hub.deps, admin, c)).customer for c in (survivor, first, second)
    }

    merged = await merge_customers(
        hub.deps, agent, MergeCustomers(survivor_id=survivor, source_ids=(first, second))
    )
    assert merged.survivor.email == "f@example.com"
    undone = await unmerge_customers(hub.deps, agent, UnmergeCustomers(survivor_id=survivor))

    assert undone.merge.id == merged.merge.id
    assert undone.merge.unmerged_at is not None
    assert await rows_of(hub.engine, org_id) == before_rows
    ignored = {"updated_at", "version", "lead_score", "ai_insights"}
    for customer_id, old in before.items():
        now = (await get_customer(hub.deps, admin, customer_id)).customer
        assert not now.is_deleted
        assert now.merged_into is None
        assert attrs.asdict(now, filter=lambda a, _: a.name not in ignored) == attrs.asdict(
            old, filter=lambda a, _: a.name not in ignored
        )
    # A second unmerge of the same merge says why not.
    with pytest.raises(UnmergeRefused) as refused:
        await unmerge_customers(
            hub.deps, agent, UnmergeCustomers(survivor_id=survivor, merge_id=merged.merge.id)
        )
    assert refused.value.details["reason"] == "already_unmerged"
    with pytest.raises(NotFound):  # no merge left to undo
        await unmerge_customers(hub.deps, agent, UnmergeCustomers(survivor_id=survivor))


async def test_unmerge_refuses_when_something_moved_since_and_changes_nothing(
    hub: Hub, org_id: str
) -> None:
    agent, _ = await agents(hub, org_id)
    survivor = await a_customer(hub, agent)
    source = await a_customer(hub, agent, email="s@example.com")
    await with_relations(hub, agent, source, interactions=1)
    await merge_customers(
        hub.deps, agent, MergeCustomers(survivor_id=survivor, source_ids=(source,))
    )
    reminder = next(
        r
        for r in (await rows_of(hub.engine, org_id))["reminders"].values()
        if r["customer_id"] == survivor
    )
    await complete_reminder(
        hub.deps, agent, CompleteReminder(customer_id=survivor, reminder_id=reminder["id"])
    )
    await update_customer(
        hub.deps, agent, UpdateCustomer(survivor, CustomerPatch(email="new@example.com"))
    )
    before = await rows_of(hub.engine, org_id)

    with pytest.raises(UnmergeConflict) as conflict:
        await unmerge_customers(hub.deps, agent, UnmergeCustomers(survivor_id=survivor))

    named = {c.what: c.message for c in conflict.value.conflicts}
    assert named == {f"reminders.{reminder['id']}": "was changed", "fields.email": "was edited"}
    assert await rows_of(hub.engine, org_id) == before
    with pytest.raises(NotFound):
        await get_customer(hub.deps, agent, source)


async def test_unmerge_after_thirty_days_says_why_not(hub: Hub, org_id: str) -> None:
    agent, _ = await agents(hub, org_id)
    survivor = await a_customer(hub, agent)
    source = await a_customer(hub, agent)
    merged = await merge_customers(
        hub.deps, agent, MergeCustomers(survivor_id=survivor, source_ids=(source,))
    )
    async with hub.engine.begin() as conn:
        m = tables.customer_merges
        await conn.execute(
            update(m)
            .where(m.c.id == merged.merge.id)
            .values(merged_at=merged.merge.merged_at - timedelta(days=30, seconds=1))
        )
    with pytest.raises(UnmergeRefused) as refused:
        await unmerge_customers(hub.deps, agent, UnmergeCustomers(survivor_id=survivor))
    assert refused.value.code == "UNMERGE_NOT_ALLOWED"
    assert refused.value.details["reason"] == "expired"


async def test_refusals_change_nothing(hub: Hub, org_id: str) -> None:
    agent, other_agent = await agents(hub, org_id)
    survivor = await a_customer(hub, agent)
    source = await a_customer(hub, agent, email="x@example.com")
    theirs = await a_customer(hub, other_agent)
    foreign = await a_customer(hub, admin_of(f"{org_id}_other"))
    await with_relations(hub, agent, source, interactions=1)
    before = await rows_of(hub.engine, org_id)
    with pytest.raises(NotFound):  # another organization's customer does not exist here
        await merge_customers(
            hub.deps, agent, MergeCustomers(survivor_id=survivor, source_ids=(source, foreign))
        )
    with pytest.raises(PermissionDenied):  # another agent's customer
        await merge_customers(
            hub.deps, agent, MergeCustomers(survivor_id=survivor, source_ids=(source, theirs))
        )
    with pytest.raises(MergeRejected) as rejected:  # the survivor has an email: it keeps it
        await merge_customers(
            hub.deps,
            agent,
            MergeCustomers(survivor_id=source, source_ids=(survivor,), fields={"email": survivor}),
        )
    assert rejected.value.details == {"field": "fields.email"}
    assert await rows_of(hub.engine, org_id) == before
    assert not (await get_customer(hub.deps, agent, source)).customer.is_deleted


async def test_a_failure_after_the_moves_rolls_everything_back(hub: Hub, org_id: str) -> None:
    agent, _ = await agents(hub, org_id)
    survivor = await a_customer(hub, agent)
    source = await a_customer(hub, agent)
    await with_relations(hub, agent, source, interactions=2)
    before = await rows_of(hub.engine, org_id)

    class Failing(SqlMergeStore):
        async def add(self, record: Any) -> None:
            raise RuntimeError("the disk is full")

    def failing(uow: UnitOfWork) -> SqlMergeStore:
        return Failing(sql_merge_store(uow)._conn)

    deps = attrs.evolve(hub.deps, merges=failing)
    with pytest.raises(RuntimeError):
        await merge_customers(
            deps, agent, MergeCustomers(survivor_id=survivor, source_ids=(source,))
        )
    assert await rows_of(hub.engine, org_id) == before
    assert not (await get_customer(hub.deps, agent, source)).customer.is_deleted


async def test_statements_do_not_grow_with_the_rows_moved(hub: Hub, org_id: str) -> None:
    agent, _ = await agents(hub, org_id)
    counts = []
    for interactions in (1, 12):
        survivor = await a_customer(hub, agent)
        source = await a_customer(hub, agent)
        await with_relations(hub, agent, source, interactions=interactions)
        with statements(hub.engine) as seen:
            await merge_customers(
                hub.deps, agent, MergeCustomers(survivor_id=survivor, source_ids=(source,))
            )
            await unmerge_customers(hub.deps, agent, UnmergeCustomers(survivor_id=survivor))
        counts.append(len([s for s in seen if re.match(r"\s*(SELECT|UPDATE|INSERT)", s)]))
    assert counts[0] == counts[1]

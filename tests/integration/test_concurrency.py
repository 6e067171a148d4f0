"""Real concurrent transactions: no lost update, no double history entry, one completion.

Two use-case runs on two connections race through
:func:`customers_hub.application.context.transaction`. Each loads the record, waits a moment so
the other has loaded it too, then writes. On PostgreSQL the loser either blocks on the row lock
(``get_for_update``) or fails the versioned UPDATE (``get``) and is retried by ``transaction``
on fresh data; on SQLite the unit of work serializes writers (``BEGIN IMMEDIATE``). Either way
the retried run sees the winner's change and the domain refuses to do it twice.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.events import InProcessEventPublisher
from customers_hub.adapters.sql import tables
from customers_hub.adapters.sql.uow import SqlUnitOfWorkFactory
from customers_hub.adapters.system import PrefixedIdGenerator, SystemClock
from customers_hub.application.context import Dependencies, transaction
from customers_hub.application.ports import UnitOfWork
from customers_hub.domain import inbox, lifecycle
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    CustomerSource,
    Priority,
    Role,
    Stage,
)
from customers_hub.domain.errors import InvalidActionTransition, InvalidStageTransition
from customers_hub.domain.events import DomainEvent
from customers_hub.domain.model import Actor, Customer, CustomerAction, StageChange

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
PAUSE = 0.05  # long enough for the other task to load the same record


class _Unused:
    """A port the tests never call."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected call of {name}")


def deps_for(engine: AsyncEngine, published: list[DomainEvent]) -> Dependencies:
    publisher = InProcessEventPublisher()

    async def record(event: DomainEvent) -> None:
        published.append(event)

    publisher.subscribe(record)
    unused = cast(Any, _Unused())
    return Dependencies(
        uow=SqlUnitOfWorkFactory(engine),
        clock=SystemClock(),
        ids=PrefixedIdGenerator(),
        publisher=publisher,
        customer_queries=unused,
        action_queries=unused,
        employee_queries=unused,
        storage=unused,
    )


def actor(org: str, n: int) -> Actor:
    return Actor(user_id=f"emp_{n}", organization_id=org, role=Role.ADMIN, name=f"موظف {n}")


async def qualified_customer(deps: Dependencies, org: str) -> Customer:
    s = uuid.uuid4().hex[:12]
    start = StageChange(
        id=f"stage_{s}_1",
        from_stage=None,
        to_stage=Stage.NEW_LEAD,
        changed_by="System",
        changed_by_id="system",
        changed_at=NOW,
        auto_generated=True,
    )
    step = StageChange(
        id=f"stage_{s}_2",
        from_stage=Stage.NEW_LEAD,
        to_stage=Stage.QUALIFIED,
        changed_by="x",
        changed_by_id="emp_x",
        changed_at=NOW,
    )
    customer = Customer(
        id=f"cust_{s}",
        organization_id=org,
        name="سعد القحطاني",
        phone=f"+9665{uuid.uuid4().int % 10**8:08d}",
        source=CustomerSource.WHATSAPP,
        stage=Stage.QUALIFIED,
        created_at=NOW,
        updated_at=NOW,
        stage_history=(start, step),
        version=2,
    )
    async with deps.uow() as uow:
        await uow.customers.add(customer)
        await uow.commit()
    return customer


Loader = Callable[[UnitOfWork, str, str], Awaitable[Customer | None]]


async def _get(uow: UnitOfWork, org: str, cid: str) -> Customer | None:
    return await uow.customers.get(org, cid)


async def _get_for_update(uow: UnitOfWork, org: str, cid: str) -> Customer | None:
    return await uow.customers.get_for_update(org, cid)


LOADERS = {"optimistic": _get, "locking": _get_for_update}


async def change_stage(
    deps: Dependencies,
    load: Loader,
    org: str,
    cid: str,
    who: Actor,
    attempts: list[int],
    both_loaded: asyncio.Barrier | None,
) -> Customer:
    first_attempt = True

    async def work(uow: UnitOfWork) -> tuple[Customer, Sequence[DomainEvent]]:
        nonlocal first_attempt
        attempts.append(1)
        customer = await load(uow, org, cid)
        assert customer is not None
        if both_loaded is not None and first_attempt:
            # Both writers hold the same version before either writes: a certain conflict.
            await asyncio.wait_for(both_loaded.wait(), timeout=10)
        else:
            await asyncio.sleep(PAUSE)
        first_attempt = False
        moved, events = lifecycle.change_stage(
            customer,
            lifecycle.StageChangeRequest(to_stage=Stage.PROPERTY_MATCHING),
            actor=who,
            entry_id=deps.ids.new_id("stage"),
            now=deps.clock.now(),
        )
        await uow.customers.save(moved, expected_version=customer.version)
        return moved, events

    return await transaction(deps, work)


@pytest.mark.parametrize("loader", sorted(LOADERS))
async def test_two_concurrent_stage_changes_write_one_history_entry(
    engine: AsyncEngine, org_id: str, loader: str
) -> None:
    published: list[DomainEvent] = []
    deps = deps_for(engine, published)
    customer = await qualified_customer(deps, org_id)
    attempts: list[int] = []
    # Only optimistic writers on PostgreSQL can both read before either writes; the others wait
    # for the first writer's lock (a barrier would deadlock them).
    optimistic_pg = engine.dialect.name == "postgresql" and loader == "optimistic"
    both_loaded = asyncio.Barrier(2) if optimistic_pg else None
    results = await asyncio.gather(
        *(
            change_stage(
                deps,
                LOADERS[loader],
                org_id,
                customer.id,
                actor(org_id, n),
                attempts,
                both_loaded,
            )
            for n in (1, 2)
        ),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, Customer)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1, results
    assert len(losers) == 1, results
    assert isinstance(losers[0], InvalidStageTransition), results
    if optimistic_pg:
        assert len(attempts) == 3  # the loser's UPDATE found the version moved: one retry
    else:
        assert len(attempts) == 2  # the loser waited (row lock / SQLite write lock), read fresh

    async with engine.connect() as conn:
        entries = await conn.scalar(
            select(func.count())
            .select_from(tables.stage_history)
            .where(
                tables.stage_history.c.customer_id == customer.id,
                tables.stage_history.c.to_stage == Stage.PROPERTY_MATCHING.value,
            )
        )
    assert entries == 1
    async with deps.uow() as uow:
        stored = await uow.customers.get(org_id, customer.id)
    assert stored is not None
    assert stored.stage is Stage.PROPERTY_MATCHING
    assert stored.version == customer.version + 1
    assert len(stored.stage_history) == len(customer.stage_history) + 1
    assert stored.stage_history[-1].changed_by_id == winners[0].stage_history[-1].changed_by_id
    assert [e.name for e in published] == ["customer.stage_changed"]


async def test_concurrent_stage_changes_to_different_stages_lose_no_update(
    engine: AsyncEngine, org_id: str
) -> None:
    """Three writers, three different moves: each lands once, in some order, none lost."""
    deps = deps_for(engine, [])
    customer = await qualified_customer(deps, org_id)
    targets = (Stage.PROPERTY_MATCHING, Stage.NEW_LEAD, Stage.QUALIFIED)

    async def move(n: int, to: Stage) -> Customer:
        async def work(uow: UnitOfWork) -> tuple[Customer, Sequence[DomainEvent]]:
            current = await uow.customers.get(org_id, customer.id)
            assert current is not None
            await asyncio.sleep(PAUSE)
            moved, events = lifecycle.change_stage(
                current,
                lifecycle.StageChangeRequest(to_stage=to, reason="إعادة تقييم العميل"),
                actor=actor(org_id, n),
                entry_id=deps.ids.new_id("stage"),
                now=deps.clock.now(),
            )
            await uow.customers.save(moved, expected_version=current.version)
            return moved, events

        return await transaction(deps, work)

    results = await asyncio.gather(
        *(move(n, to) for n, to in enumerate(targets)), return_exceptions=True
    )
    done = [r for r in results if isinstance(r, Customer)]
    async with deps.uow() as uow:
        stored = await uow.customers.get(org_id, customer.id)
    assert stored is not None
    added = stored.stage_history[len(customer.stage_history) :]
    # Every successful run is in the history exactly once, chained from the one before it.
    assert len(added) == len(done) == stored.version - customer.version
    previous = customer.stage
    for entry in added:
        assert entry.from_stage == previous
        previous = entry.to_stage
    assert stored.stage == previous
    assert done
    # A run may only fail as a rule refusal on fresh data (e.g. "already at this stage").
    for r in results:
        if not isinstance(r, Customer):
            assert isinstance(r, InvalidStageTransition), r


async def test_two_concurrent_completions_record_one(engine: AsyncEngine, org_id: str) -> None:
    published: list[DomainEvent] = []
    deps = deps_for(engine, published)
    customer = await qualified_customer(deps, org_id)
    action = CustomerAction(
        id=f"action_{uuid.uuid4().hex[:12]}",
        organization_id=org_id,
        customer_id=customer.id,
        customer_name=customer.name,
        type=ActionType.CALLBACK_REQUEST,
        title="اتصال",
        priority=Priority.HIGH,
        status=ActionStatus.IN_PROGRESS,
        source=CustomerSource.WHATSAPP,
        created_at=NOW,
        updated_at=NOW + timedelta(minutes=1),
    )
    async with deps.uow() as uow:
        await uow.actions.add_many([action])
        await uow.commit()

    async def complete(n: int) -> CustomerAction:
        async def work(uow: UnitOfWork) -> tuple[CustomerAction, Sequence[DomainEvent]]:
            current = await uow.actions.get(org_id, action.id)
            assert current is not None
            await asyncio.sleep(PAUSE)
            done, events = inbox.complete(
                current,
                actor=actor(org_id, n),
                now=deps.clock.now(),
                outcome=f"outcome {n}",
                notes=f"note {n}",
                note_id=deps.ids.new_id("note"),
            )
            await uow.actions.save(done, expected_version=current.version)
            return done, events

        return await transaction(deps, work)

    results = await asyncio.gather(complete(1), complete(2), return_exceptions=True)
    winners = [r for r in results if isinstance(r, CustomerAction)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1, results
    assert len(losers) == 1, results
    assert isinstance(losers[0], InvalidActionTransition), results
    async with deps.uow() as uow:
        stored = await uow.actions.get(org_id, action.id)
    assert stored is not None
    assert stored.status is ActionStatus.COMPLETED
    assert stored.completed_by == winners[0].completed_by
    assert stored.outcome == winners[0].outcome
    assert stored.version == action.version + 1
    assert [n.content for n in stored.notes] == [n.content for n in winners[0].notes]
    assert len(stored.notes) == 1
    # The winner's events only, published after its commit; the loser published nothing.
    assert [type(e).__name__ for e in published] == ["ActionUpdated", "ActionNoteAdded"]


async def test_concurrent_bulk_snoozes_report_the_moved_actions(
    engine: AsyncEngine, org_id: str
) -> None:
    """Two bulk writers over the same actions: every action is written once, never twice."""
    deps = deps_for(engine, [])
    customer = await qualified_customer(deps, org_id)
    base = [
        CustomerAction(
            id=f"action_{uuid.uuid4().hex[:12]}",
            organization_id=org_id,
            customer_id=customer.id,
            customer_name=customer.name,
            type=ActionType.FOLLOW_UP,
            title=f"متابعة {n}",
            priority=Priority.MEDIUM,
            status=ActionStatus.PENDING,
            source=CustomerSource.MANUAL,
            created_at=NOW,
            updated_at=NOW,
        )
        for n in range(6)
    ]
    async with deps.uow() as uow:
        await uow.actions.add_many(base)
        await uow.commit()
    ids = [a.id for a in base]

    async def bulk(n: int) -> set[str]:
        until = datetime.now(UTC) + timedelta(days=n)
        async with deps.uow() as uow:
            loaded = await uow.actions.get_many(org_id, ids)
            await asyncio.sleep(PAUSE)
            changes = []
            for a in loaded.values():
                snoozed, _ = inbox.snooze(
                    a, actor=actor(org_id, n), now=deps.clock.now(), until=until
                )
                changes.append((snoozed, a.version))
            moved = await uow.actions.save_many(changes)
            await uow.commit()
            return moved

    first, second = await asyncio.gather(bulk(1), bulk(2))
    # On PostgreSQL both read version 1: the second to write finds every version moved. On
    # SQLite the second waits for the first and reads the new versions: it writes them all.
    async with deps.uow() as uow:
        stored = await uow.actions.get_many(org_id, ids)
    written_twice = not first and not second
    if written_twice:
        assert all(a.version == 3 for a in stored.values())
    else:
        assert {frozenset(first), frozenset(second)} == {frozenset(), frozenset(ids)}
        assert all(a.version == 2 for a in stored.values())


async def test_a_deadlock_victim_is_run_again_not_failed(
    engine: AsyncEngine, org_id: str, dialect: str
) -> None:
    """Two transactions lock two customers in opposite orders: PostgreSQL aborts one (40P01);
    the unit of work turns that into ``ConcurrentUpdate`` and ``transaction`` runs it again."""
    if dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time: no deadlock to detect")
    deps = deps_for(engine, [])
    first = await qualified_customer(deps, org_id)
    second = await qualified_customer(deps, org_id)
    both_hold = asyncio.Barrier(2)
    attempts = {"ab": 0, "ba": 0}

    def locking(name: str, ids: tuple[str, str]) -> Callable[[UnitOfWork], Awaitable[Any]]:
        async def work(uow: UnitOfWork) -> tuple[str, list[DomainEvent]]:
            attempts[name] += 1
            await uow.customers.get_for_update(org_id, ids[0])
            if attempts[name] == 1:
                await both_hold.wait()  # each holds its first row: the next lock closes a cycle
            await uow.customers.get_for_update(org_id, ids[1])
            return name, []

        return work

    done = await asyncio.wait_for(
        asyncio.gather(
            transaction(deps, locking("ab", (first.id, second.id))),
            transaction(deps, locking("ba", (second.id, first.id))),
        ),
        timeout=30,
    )
    assert sorted(done) == ["ab", "ba"]
    assert sorted(attempts.values()) == [1, 2]  # exactly one victim, run once more

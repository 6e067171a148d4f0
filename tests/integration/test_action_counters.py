"""Action counters (issue 9): after any sequence of real writes the statistics read from the
counters equal those of a fresh scan, for several scopes, on SQLite and PostgreSQL.

Hypothesis draws sequences of operations (action create/update/complete/dismiss/snooze/start/
reopen/note/reassign, bulk complete/assign/snooze/update, customer soft delete/restore/assign/
permanent delete, clock moves that wake snoozes); each runs through the use cases on the real
database, whose triggers keep the counters. Then :func:`action_stats` (counters + index range
counts) must equal :func:`scan_action_stats` (the scanning reference), before and after a fold
and after a rebuild. A PostgreSQL test races several writers (multi-row statements too).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.events import InProcessEventPublisher
from customers_hub.adapters.sql import tables
from customers_hub.adapters.sql.action_counters import rebuild_action_counters
from customers_hub.adapters.sql.action_statistics import action_stats, scan_action_stats
from customers_hub.adapters.sql.counters import fold
from customers_hub.adapters.sql.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from customers_hub.adapters.system import PrefixedIdGenerator
from customers_hub.application.context import Dependencies
from customers_hub.application.queries import ActionStats, StatsWindow
from customers_hub.application.use_cases import actions as uc
from customers_hub.application.use_cases import bulk
from customers_hub.application.use_cases import customer_assignment as cua
from customers_hub.application.use_cases import customer_deletion as cud
from customers_hub.domain.access import Reach, ScopeFilter
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    CustomerSource,
    Permission,
    Priority,
    Role,
    Stage,
)
from customers_hub.domain.errors import DomainError
from customers_hub.domain.model import Actor, Customer, Employee, StageChange
from customers_hub.testing.fakes.services import FixedClock

START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
ZONES: tuple[tzinfo, ...] = (ZoneInfo("Asia/Riyadh"), ZoneInfo("America/St_Johns"))
ASSIGNEES = ("agt_1", "agt_2", "agt_3", "mgr_1", None)
KINDS = (
    "create",
    "create",
    "create",
    "update",
    "complete",
    "dismiss",
    "snooze",
    "start",
    "reopen",
    "note",
    "reassign",
    "bulk_complete",
    "bulk_assign",
    "bulk_snooze",
    "bulk_update",
    "soft_delete",
    "restore",
    "assign_customer",
    "permanent_delete",
    "advance",
    "wake",
    "move",
)

Op = tuple[str, int, int, int]
OPS = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.integers(0, 1000),
        st.integers(0, 1000),
        st.integers(0, 10**9),
    ),
    min_size=5,
    max_size=30,
)


class _Unused:
    """A port the tests never call."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected call of {name}")


def drawn(count: int) -> list[list[Op]]:
    """``count`` operation sequences drawn by Hypothesis (generation only; run afterwards on
    the database, which an async fixture owns)."""
    values: list[list[Op]] = []

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(OPS)
    def collect(value: list[Op]) -> None:
        values.append(value)

    collect()
    assert values, "Hypothesis drew nothing"
    return values


def deps_for(engine: AsyncEngine, clock: FixedClock) -> Dependencies:
    unused = cast(Any, _Unused())
    return Dependencies(
        uow=SqlUnitOfWorkFactory(engine),
        clock=clock,
        ids=PrefixedIdGenerator(),
        publisher=InProcessEventPublisher(),
        customer_queries=unused,
        action_queries=unused,
        employee_queries=unused,
        storage=unused,
    )


def team(org: str) -> list[Employee]:
    return [
        Employee("admin_1", org, "مدير النظام", Role.ADMIN),
        Employee("mgr_1", org, "منيرة", Role.SALES_MANAGER),
        Employee("agt_1", org, "أحمد", Role.SALES_AGENT, manager_id="mgr_1"),
        Employee("agt_2", org, "بدر", Role.SALES_AGENT, manager_id="mgr_1"),
        Employee("agt_3", org, "تركي", Role.SALES_AGENT),
    ]


def customer(org: str, n: int, assignee: str | None) -> Customer:
    cid = f"cust_{uuid.uuid4().hex[:12]}"
    return Customer(
        id=cid,
        organization_id=org,
        name=f"عميل {n}",
        phone=f"+9665{uuid.uuid4().int % 10**8:08d}",
        source=CustomerSource.WHATSAPP,
        stage=Stage.NEW_LEAD,
        created_at=START,
        updated_at=START,
        assigned_employee_id=assignee,
        stage_history=(
            StageChange(
                id=f"{cid}_h1",
                from_stage=None,
                to_stage=Stage.NEW_LEAD,
                changed_by="System",
                changed_by_id="system",
                changed_at=START,
                auto_generated=True,
            ),
        ),
    )


async def seed(engine: AsyncEngine, org: str) -> list[str]:
    """The team and five customers (one unassigned); returns the customer ids."""
    made = [customer(org, n, ASSIGNEES[n]) for n in range(5)]
    async with SqlUnitOfWork(engine) as uow:
        for employee in team(org):
            await uow.employees.save(employee)
        for c in made:
            await uow.customers.add(c)
        await uow.commit()
    return [c.id for c in made]


def scopes(org: str) -> list[tuple[ScopeFilter, str | None]]:
    return [
        (ScopeFilter(org, Reach.ALL), None),
        (ScopeFilter(org, Reach.ALL), "agt_2"),
        (ScopeFilter(org, Reach.TEAM, "mgr_1"), None),
        (ScopeFilter(org, Reach.OWN, "agt_1"), None),
        (ScopeFilter(org, Reach.OWN, "agt_3"), None),
    ]


async def assert_copies_match(engine: AsyncEngine, org: str) -> None:
    """Every action's copy of its customer's assignee and liveness (migration 0019's
    triggers) equals the customer's."""
    a, c = tables.customer_actions.c, tables.customers.c
    stale = (
        select(func.count())
        .select_from(tables.customer_actions.join(tables.customers, c.id == a.customer_id))
        .where(
            a.organization_id == org,
            a.customer_assignee_id.is_distinct_from(c.assigned_employee_id)
            | a.customer_live.is_distinct_from(c.deleted_at.is_(None)),
        )
    )
    async with engine.connect() as conn:
        assert (await conn.execute(stale)).scalar_one() == 0


async def assert_counters_match(engine: AsyncEngine, org: str, now: datetime) -> ActionStats:
    """Counter statistics == scanning statistics for every scope and zone (and the actions'
    copies of their customers' columns are right); returns the organization-wide ones."""
    await assert_copies_match(engine, org)
    first: ActionStats | None = None
    for zone in ZONES:
        window = StatsWindow(now=now, tz=zone)
        for scope, assigned_to in scopes(org):
            counted = await action_stats(engine, scope, window, assigned_to)
            scanned = await scan_action_stats(engine, scope, window, assigned_to)
            assert counted == scanned, (scope, assigned_to, zone)
            first = first or counted
    assert first is not None
    return first


class World:
    """One organization's state for running drawn operations through the use cases."""

    def __init__(self, engine: AsyncEngine, org: str, customers: list[str]) -> None:
        self.clock = FixedClock(START)
        self.engine = engine
        self.deps = deps_for(engine, self.clock)
        self.org = org
        self.admin = Actor(
            user_id="admin_1",
            organization_id=org,
            role=Role.ADMIN,
            permissions=frozenset(Permission),
            name="مدير",
        )
        self.customers = customers
        self.actions: list[str] = []
        self.refused = 0
        self.done: set[str] = set()

    def _pick(self, items: list[str], i: int) -> str | None:
        return items[i % len(items)] if items else None

    def _some(self, i: int, j: int) -> list[str]:
        if not self.actions:
            return []
        start = i % len(self.actions)
        return self.actions[start : start + 1 + j % 4]

    async def run(self, op: Op) -> None:
        kind, i, j, k = op
        # A few microseconds of noise: averages never sit exactly on a rounding boundary.
        self.clock.advance(timedelta(minutes=k % 90, microseconds=k % 997))
        try:
            await self._apply(kind, i, j, k)
            self.done.add(kind)
        except DomainError:
            self.refused += 1  # a refused write (wrong state, gone customer) changes nothing

    async def _apply(self, kind: str, i: int, j: int, k: int) -> None:
        deps, admin, now = self.deps, self.admin, self.clock.now()
        action = self._pick(self.actions, i)
        target = ASSIGNEES[j % len(ASSIGNEES)]
        if kind == "create":
            cid = self._pick(self.customers, i)
            assert cid is not None
            due = None if k % 3 == 0 else now + timedelta(hours=(k % 2000) - 1000)
            made = await uc.create_action(
                deps,
                admin,
                uc.CreateAction(
                    customer_id=cid,
                    type=list(ActionType)[k % len(ActionType)],
                    title=f"متابعة {k}",
                    priority=list(Priority)[j % len(Priority)],
                    due_date=due,
                    assigned_to=target,
                    source=list(CustomerSource)[i % len(CustomerSource)],
                ),
            )
            self.actions.append(made.id)
        elif action is None:
            return
        elif kind == "update":
            await uc.update_action(
                deps,
                admin,
                uc.UpdateAction(
                    action_id=action,
                    priority=list(Priority)[k % len(Priority)],
                    due_date=None if k % 4 == 0 else now + timedelta(hours=(k % 300) - 150),
                    status=(ActionStatus.PENDING, ActionStatus.IN_PROGRESS)[j % 2],
                    notes="ملاحظة" if k % 2 else None,
                ),
            )
        elif kind == "complete":
            await uc.complete_action(deps, admin, uc.CompleteAction(action_id=action, notes=None))
        elif kind == "dismiss":
            await uc.dismiss_action(
                deps, admin, uc.DismissAction(action_id=action, reason="لا حاجة")
            )
        elif kind == "snooze":
            until = now + timedelta(minutes=1 + k % 600)
            await uc.snooze_action(
                deps, admin, uc.SnoozeAction(action_id=action, snoozed_until=until)
            )
        elif kind == "start":
            await uc.start_action(deps, admin, uc.StartAction(action_id=action))
        elif kind == "reopen":
            await uc.reopen_action(deps, admin, uc.ReopenAction(action_id=action))
        elif kind == "note":
            await uc.add_action_note(
                deps, admin, uc.AddActionNote(action_id=action, content=f"ملاحظة {k}")
            )
        elif kind == "reassign":
            await uc.update_action(
                deps, admin, uc.UpdateAction(action_id=action, assigned_to=target)
            )
        elif kind == "bulk_complete":
            await bulk.bulk_complete(
                deps, admin, bulk.BulkComplete(action_ids=self._some(i, j), notes="تم")
            )
        elif kind == "bulk_assign":
            await bulk.bulk_assign(
                deps,
                admin,
                bulk.BulkAssign(action_ids=self._some(i, j), assigned_to=target or "agt_3"),
            )
        elif kind == "bulk_snooze":
            until = now + timedelta(minutes=1 + k % 300)
            await bulk.bulk_snooze(
                deps, admin, bulk.BulkSnooze(action_ids=self._some(i, j), snoozed_until=until)
            )
        elif kind == "bulk_update":
            updates = bulk.ActionUpdates(
                priority=list(Priority)[k % len(Priority)],
                status=(ActionStatus.PENDING, ActionStatus.IN_PROGRESS)[j % 2],
            )
            await bulk.bulk_update(
                deps, admin, bulk.BulkUpdate(action_ids=self._some(i, j), updates=updates)
            )
        else:
            await self._customer_op(kind, i, target, k)

    async def _customer_op(self, kind: str, i: int, target: str | None, k: int) -> None:
        deps, admin = self.deps, self.admin
        cid = self._pick(self.customers, i)
        if cid is None:
            return
        if kind == "soft_delete":
            await cud.delete_customer(deps, admin, cud.DeleteCustomer(cid))
        elif kind == "restore":
            await cud.restore_customer(deps, admin, cud.RestoreCustomer(cid))
        elif kind == "assign_customer":
            await cua.assign_customer(deps, admin, cua.AssignCustomer(cid, target or "agt_2"))
        elif kind == "permanent_delete" and k % 3 == 0:  # rarer: it empties the world
            await cud.delete_customer(deps, admin, cud.DeleteCustomer(cid, permanent=True))
            self.customers.remove(cid)
        elif kind == "advance":
            self.clock.advance(timedelta(hours=k % 30))
        elif kind == "wake":
            await uc.wake_due_snoozes(deps)
        elif kind == "move" and self.actions:
            # An action moved to another customer, as a merge moves them (a plain UPDATE: the
            # triggers, not the writer, keep the copy of the new customer's columns).
            moved = self.actions[k % len(self.actions)]
            async with self.engine.begin() as conn:
                await conn.execute(
                    text("UPDATE customer_actions SET customer_id = :c WHERE id = :a"),
                    {"c": cid, "a": moved},
                )


async def counter_rows(engine: AsyncEngine, org: str) -> int:
    c = tables.action_counters.c
    async with engine.connect() as conn:
        return int(
            (await conn.execute(select(func.count()).where(c.organization_id == org))).scalar_one()
        )


async def in_transaction(engine: AsyncEngine, work: Callable[[Any], Awaitable[None]]) -> None:
    async with engine.begin() as conn:
        await work(conn)


# --- the property ------------------------------------------------------------------------------


@pytest.mark.parametrize("sequence", range(6))
async def test_counters_equal_a_recount_after_random_writes(
    engine: AsyncEngine, sequence: int
) -> None:
    ops = SEQUENCES[sequence]
    org = f"org_{uuid.uuid4().hex[:12]}"
    world = World(engine, org, await seed(engine, org))
    for n, op in enumerate(ops):
        await world.run(op)
        if n % 5 == 4:
            await assert_counters_match(engine, org, world.clock.now())
    before = await assert_counters_match(engine, org, world.clock.now())
    # Folding compacts the rows to one per key and changes no number.
    await in_transaction(engine, lambda conn: fold(conn, tables.action_counters, org))
    assert await assert_counters_match(engine, org, world.clock.now()) == before
    keys = await counter_rows(engine, org)
    await in_transaction(engine, lambda conn: fold(conn, tables.action_counters, org))
    assert await counter_rows(engine, org) == keys
    # A rebuild from the scan gives the same numbers.
    await in_transaction(engine, lambda conn: rebuild_action_counters(conn, org))
    assert await assert_counters_match(engine, org, world.clock.now()) == before


SEQUENCES = drawn(6)


async def test_every_write_path_is_exercised(engine: AsyncEngine) -> None:
    """A fixed sequence that surely runs each kind of write (the drawn ones may skip some)."""
    org = f"org_{uuid.uuid4().hex[:12]}"
    world = World(engine, org, await seed(engine, org))
    for n in range(10):
        await world.run(("create", n, n, n * 7 + 1))
    script = [kind for kind in KINDS if kind != "create"]
    for n, kind in enumerate(script):
        await world.run((kind, n, n + 1, 3 * n))
        await assert_counters_match(engine, org, world.clock.now())
    stats = await assert_counters_match(engine, org, world.clock.now())
    assert sum(stats.total.values()) > 0
    assert stats.avg_response_time is not None


async def test_counters_follow_customer_deletion_and_assignment(engine: AsyncEngine) -> None:
    org = f"org_{uuid.uuid4().hex[:12]}"
    world = World(engine, org, await seed(engine, org))
    cid = world.customers[0]  # assigned to agt_1
    for n in range(3):
        await world.run(("create", 0, 2, 3 * n + 1))  # on customer 0 (agt_1's), for agt_3
    everyone = ScopeFilter(org, Reach.ALL)
    own = ScopeFilter(org, Reach.OWN, "agt_1")
    window = StatsWindow(now=world.clock.now(), tz=ZONES[0])
    assert sum((await action_stats(engine, own, window, None)).total.values()) == 3
    await cua.assign_customer(world.deps, world.admin, cua.AssignCustomer(cid, "agt_3"))
    assert sum((await action_stats(engine, own, window, None)).total.values()) == 0
    await cud.delete_customer(world.deps, world.admin, cud.DeleteCustomer(cid))
    assert sum((await action_stats(engine, everyone, window, None)).total.values()) == 0
    await cud.restore_customer(world.deps, world.admin, cud.RestoreCustomer(cid))
    assert sum((await action_stats(engine, everyone, window, None)).total.values()) == 3
    await cud.delete_customer(world.deps, world.admin, cud.DeleteCustomer(cid, permanent=True))
    assert sum((await action_stats(engine, everyone, window, None)).total.values()) == 0
    await assert_counters_match(engine, org, world.clock.now())


async def test_an_update_that_moves_no_counted_column_writes_no_counter_row(
    engine: AsyncEngine,
) -> None:
    org = f"org_{uuid.uuid4().hex[:12]}"
    world = World(engine, org, await seed(engine, org))
    await world.run(("create", 0, 0, 1))
    rows = await counter_rows(engine, org)
    await uc.update_action(
        world.deps, world.admin, uc.UpdateAction(action_id=world.actions[0], title="عنوان جديد")
    )
    assert await counter_rows(engine, org) == rows


async def test_a_window_falls_back_to_the_scan(engine: AsyncEngine) -> None:
    org = f"org_{uuid.uuid4().hex[:12]}"
    world = World(engine, org, await seed(engine, org))
    for n in range(4):
        await world.run(("create", n, n, 5 * n + 1))
    now = world.clock.now()
    window = StatsWindow(now=now, tz=ZONES[0], date_from=now - timedelta(minutes=30))
    everyone = ScopeFilter(org, Reach.ALL)
    windowed = await action_stats(engine, everyone, window, None)
    assert windowed == await scan_action_stats(engine, everyone, window, None)
    whole = await action_stats(engine, everyone, StatsWindow(now=now, tz=ZONES[0]), None)
    assert sum(windowed.total.values()) < sum(whole.total.values())


# --- concurrency (PostgreSQL) ------------------------------------------------------------------


async def test_concurrent_writers_lose_no_count(engine: AsyncEngine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    org = f"org_{uuid.uuid4().hex[:12]}"
    world = World(engine, org, await seed(engine, org))
    for n in range(20):
        await world.run(("create", n, n, 11 * n + 1))
    ids = list(world.actions)

    concurrent_kinds = [kind for kind in KINDS if kind != "permanent_delete"]
    columns = ", ".join(
        col.name
        for col in tables.customer_actions.columns
        if col.name not in ("id", "first_note_at", "customer_assignee_id", "customer_live")
    )

    async def writer(w: int) -> None:
        own = World(engine, org, world.customers)
        own.clock.set(world.clock.now())
        own.actions = list(ids)
        for n in range(15):
            kind = concurrent_kinds[(w * 7 + n) % len(concurrent_kinds)]
            await own.run((kind, w + n, n, w * 1000 + n))
        # One multi-row statement: copies of the first actions (a set-based bulk write),
        # with a wrong copy of the customer's columns that the trigger must overwrite.
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO customer_actions"
                    f" (id, customer_assignee_id, customer_live, {columns})"
                    f" SELECT id || '_copy{w}', 'nobody', FALSE, {columns} FROM customer_actions"
                    " WHERE organization_id = :o AND id = ANY(:ids)"
                ),
                {"o": org, "ids": ids[:10]},
            )

    async def folder() -> None:
        for _ in range(5):
            await in_transaction(engine, lambda conn: fold(conn, tables.action_counters, org))
            await asyncio.sleep(0.01)

    await asyncio.gather(*(writer(w) for w in range(4)), folder())
    await assert_counters_match(engine, org, world.clock.now())


async def test_an_action_of_no_customer_is_still_refused_by_the_foreign_key(
    engine: AsyncEngine,
) -> None:
    """The copy trigger (0019) leaves a row of a missing customer as written: the foreign key,
    not a NOT NULL of the copied columns, refuses it."""
    org = f"org_{uuid.uuid4().hex[:12]}"
    world = World(engine, org, await seed(engine, org))
    await world.run(("create", 0, 0, 1))
    columns = ", ".join(
        col.name
        for col in tables.customer_actions.columns
        if col.name not in ("id", "customer_id", "first_note_at", "customer_assignee_id")
    )
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    f"INSERT INTO customer_actions (id, customer_id, {columns})"
                    f" SELECT id || '_orphan', 'cust_missing', {columns} FROM customer_actions"
                    " WHERE id = :a"
                ),
                {"a": world.actions[0]},
            )


async def test_the_range_counts_read_the_live_partial_indexes_alone(engine: AsyncEngine) -> None:
    """PostgreSQL: each part of the range-count statement can be answered from one of the
    partial indexes of 0019 (its literal predicates match), without joining customers."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    org = f"org_{uuid.uuid4().hex[:12]}"
    world = World(engine, org, await seed(engine, org))
    for n in range(6):
        await world.run(("create", n, n, 5 * n + 1))
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append((statement, params))

    window = StatsWindow(now=world.clock.now(), tz=ZONES[0])
    for scope in (ScopeFilter(org, Reach.ALL), ScopeFilter(org, Reach.TEAM, "mgr_1")):
        seen.clear()
        event.listen(engine.sync_engine, "before_cursor_execute", capture)
        try:
            await action_stats(engine, scope, window, None)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", capture)
        statement, params = seen[-1]
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            async with driver.transaction(force_rollback=True):  # type: ignore[attr-defined]
                cursor = driver.cursor()
                # Only 0019's indexes left (dropped in a transaction rolled back): with the
                # planner's costs on a few rows, any other index of the organization could
                # win; this asks whether the partial ones are usable at all.
                await cursor.execute(
                    "SELECT indexname FROM pg_indexes WHERE tablename = 'customer_actions'"
                    " AND indexname NOT LIKE 'ix_actions_org_%%open_due'"
                    " AND indexname NOT LIKE 'ix_actions_org_%%snoozed'"
                    " AND indexname NOT LIKE 'pk_%%'"
                )
                for (name,) in await cursor.fetchall():
                    await cursor.execute(f'DROP INDEX "{name}"')
                await cursor.execute("SET LOCAL enable_seqscan = off")
                await cursor.execute("SET LOCAL enable_bitmapscan = off")
                await cursor.execute(f"EXPLAIN {statement}", params)
                plan = "\n".join(row[0] for row in await cursor.fetchall())
        assert "customers" not in plan.replace("customer_actions", ""), plan
        assert "Seq Scan" not in plan, plan
        scans = [line for line in plan.splitlines() if "Scan using" in line]
        assert scans, plan
        for line in scans:
            assert "Index Only Scan using ix_actions_org_" in line, plan
            assert "_open_due" in line or "_snoozed" in line, plan


async def test_a_rebuild_repairs_the_copy_of_the_customers_columns(engine: AsyncEngine) -> None:
    org = f"org_{uuid.uuid4().hex[:12]}"
    world = World(engine, org, await seed(engine, org))
    for n in range(4):
        await world.run(("create", n, n, 5 * n + 1))
    async with engine.begin() as conn:  # a copy gone wrong (no trigger rewrites it)
        await conn.execute(
            text(
                "UPDATE customer_actions SET customer_assignee_id = 'nobody',"
                " customer_live = FALSE WHERE organization_id = :o"
            ),
            {"o": org},
        )
    with pytest.raises(AssertionError):
        await assert_copies_match(engine, org)
    await in_transaction(engine, lambda conn: rebuild_action_counters(conn, org))
    await assert_counters_match(engine, org, world.clock.now())

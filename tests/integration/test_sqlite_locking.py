"""Readers do not queue behind writers (issue 13, bug 2).

On SQLite a writing unit of work starts with ``BEGIN IMMEDIATE`` and holds the database's write
lock until it ends. A read-only unit of work (``uow(read_only=True)``, what the read use cases
open) starts a deferred transaction instead: under WAL it reads the last committed state while
the writer works, without waiting for the lock.

The engine here waits at most :data:`LOCK_TIMEOUT_MS` for a lock (instead of the service's 30
s), so a reader that queued behind the writer fails fast with "database is locked" instead of
making the test slow — no timing assertion. The same tests run on PostgreSQL (with the same
``lock_timeout``), where readers never waited for writers.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.events import InProcessEventPublisher
from customers_hub.adapters.sql.engine import create_engine
from customers_hub.adapters.sql.uow import SqlUnitOfWorkFactory
from customers_hub.adapters.system import PrefixedIdGenerator, SystemClock
from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases.customers import get_customer
from customers_hub.domain.enums import CustomerSource, Permission, Role, Stage
from customers_hub.domain.model import Actor, Customer, StageChange

LOCK_TIMEOUT_MS = 300
"""How long a connection of these tests waits for a lock before it gives up."""

GUARD_SECONDS = 10.0
"""Upper bound on every wait, so a regression fails instead of hanging."""

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def impatient_engine(engine: AsyncEngine, database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the migrated test database whose connections wait little for locks
    (``engine`` is requested so that the schema exists)."""
    eng = create_engine(database_url)
    sqlite = eng.dialect.name == "sqlite"

    def short_lock_timeout(dbapi_connection: Any, _record: Any) -> None:
        # Runs after the engine's own pragmas (listeners run in registration order).
        cursor = dbapi_connection.cursor()
        if sqlite:
            cursor.execute(f"PRAGMA busy_timeout={LOCK_TIMEOUT_MS}")
        else:
            cursor.execute(f"SET lock_timeout = {LOCK_TIMEOUT_MS}")
            dbapi_connection.commit()  # a SET in a rolled-back transaction would be undone
        cursor.close()

    event.listen(eng.sync_engine, "connect", short_lock_timeout)
    yield eng
    await eng.dispose()


def deps_on(engine: AsyncEngine) -> Dependencies:
    unused = cast(Any, None)
    return Dependencies(
        uow=SqlUnitOfWorkFactory(engine),
        clock=SystemClock(),
        ids=PrefixedIdGenerator(),
        publisher=InProcessEventPublisher(),
        customer_queries=unused,
        action_queries=unused,
        employee_queries=unused,
        storage=unused,
    )


def admin(org: str) -> Actor:
    return Actor("emp_admin", org, Role.ADMIN, frozenset(Permission), name="سارة المدير")


async def stored_customer(factory: SqlUnitOfWorkFactory, org: str) -> Customer:
    s = uuid.uuid4().hex[:12]
    customer = Customer(
        id=f"cust_{s}",
        organization_id=org,
        name="سعد القحطاني",
        phone=f"+9665{uuid.uuid4().int % 10**8:08d}",
        source=CustomerSource.WHATSAPP,
        stage=Stage.NEW_LEAD,
        created_at=NOW,
        updated_at=NOW,
        stage_history=(
            StageChange(
                id=f"stage_{s}",
                from_stage=None,
                to_stage=Stage.NEW_LEAD,
                changed_by="System",
                changed_by_id="system",
                changed_at=NOW,
                auto_generated=True,
            ),
        ),
    )
    async with factory() as uow:
        await uow.customers.add(customer)
        await uow.commit()
    return customer


async def test_a_read_unit_of_work_completes_while_a_writer_holds_the_lock(
    impatient_engine: AsyncEngine, org_id: str
) -> None:
    factory = SqlUnitOfWorkFactory(impatient_engine)
    customer = await stored_customer(factory, org_id)
    async with factory() as writer:
        # The writer is mid-transaction: it holds the row (PostgreSQL) or the database's write
        # lock (SQLite) and has changed nothing yet.
        assert await writer.customers.get_for_update(org_id, customer.id) is not None

        async def read() -> Customer | None:
            async with factory(read_only=True) as reader:
                return await reader.customers.get(org_id, customer.id)

        seen = await asyncio.wait_for(read(), GUARD_SECONDS)
        assert seen is not None
        assert seen.id == customer.id


async def test_a_read_use_case_completes_while_a_writer_holds_the_lock(
    impatient_engine: AsyncEngine, org_id: str
) -> None:
    deps = deps_on(impatient_engine)
    customer = await stored_customer(cast(SqlUnitOfWorkFactory, deps.uow), org_id)
    async with deps.uow() as writer:
        assert await writer.customers.get_for_update(org_id, customer.id) is not None
        details = await asyncio.wait_for(
            get_customer(deps, admin(org_id), customer.id), GUARD_SECONDS
        )
        assert details.customer.id == customer.id


async def test_writers_still_take_turns(impatient_engine: AsyncEngine, org_id: str) -> None:
    """The lock the read tests pass beside is real: a second writer waits for it (and, with the
    short lock timeout, gives up) — the database's write lock on SQLite, the row on PostgreSQL."""
    factory = SqlUnitOfWorkFactory(impatient_engine)
    customer = await stored_customer(factory, org_id)
    async with factory() as writer:
        assert await writer.customers.get_for_update(org_id, customer.id) is not None

        async def write() -> None:
            async with factory() as other:
                await other.customers.get_for_update(org_id, customer.id)

        with pytest.raises(OperationalError, match=r"database is locked|lock timeout"):
            await asyncio.wait_for(write(), GUARD_SECONDS)


async def test_a_read_only_unit_of_work_refuses_to_commit(
    impatient_engine: AsyncEngine, org_id: str
) -> None:
    """A read-only unit of work never writes: on SQLite it holds no write lock, so a write
    there could fail at once on a concurrent writer's commit instead of waiting its turn."""
    factory = SqlUnitOfWorkFactory(impatient_engine)
    async with factory(read_only=True) as reader:
        with pytest.raises(RuntimeError, match="read-only"):
            await reader.commit()

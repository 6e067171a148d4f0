"""Every per-customer read is an index search on a customer-led index, on both databases.

A customer's relations (interactions, appointments, reminders, documents, interests, stage
history), its actions and an action's notes are read through the real repository and query
code; the SQL sent is captured and explained (``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN``
on PostgreSQL with the alternatives to an index scan switched off, so the plan on small test
tables shows which index would be used). The index must lead with ``(organization_id,
customer_id)`` (``(action_id)`` for notes, the primary key for a read by id) and, where the
statement orders one customer's rows, end with the ORDER BY columns: the newest rows are read
in index order and nothing is sorted. Before migration ``0005`` SQLite read a customer's
appointments through ``(organization_id, datetime)`` and its open actions through
``(organization_id, created_at, id)``: a walk of the whole organization's rows.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import _admin
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from customers_hub.adapters.sql.customer_reads import SqlCustomerQueries
from customers_hub.adapters.sql.engine import create_engine
from customers_hub.adapters.sql.migrate import ensure_schema
from customers_hub.adapters.sql.uow import SqlUnitOfWork
from customers_hub.application.queries import CustomerListQuery, PageRequest
from customers_hub.domain.access import Reach, ScopeFilter
from customers_hub.domain.enums import ActionStatus, ActionType, CustomerSource, Priority, Stage
from customers_hub.domain.model import Customer, CustomerAction, StageChange

NOW = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)

Read = Callable[[AsyncEngine, str, str, str], Awaitable[object]]


@dataclass(frozen=True)
class Case:
    """A read, the table whose statements are checked, and what their index must look like."""

    read: Read
    table: str
    lead: tuple[str, ...]  # the index's leading columns
    order: tuple[str, ...] = ()  # the ORDER BY columns the index must end with
    sorted_in_index: bool = True  # False: an IN list of keys, whose matches PG may sort
    by_id: bool = False  # one row by its id: the primary key serves as well


# --- the reads -------------------------------------------------------------------------------


def _relations(kind: str) -> Read:
    async def read(engine: AsyncEngine, org: str, customer_id: str, _action_id: str) -> object:
        async with SqlUnitOfWork(engine, read_only=True) as uow:
            return await uow.relations.list_for_customer(org, customer_id, frozenset({kind}), 20)

    return read


async def _sentiment(engine: AsyncEngine, org: str, customer_id: str, _action_id: str) -> object:
    async with SqlUnitOfWork(engine, read_only=True) as uow:
        return await uow.relations.recent_with_sentiment(org, customer_id, 10)


def _by_id(kind: str) -> Read:
    async def read(engine: AsyncEngine, org: str, customer_id: str, _action_id: str) -> object:
        async with SqlUnitOfWork(engine, read_only=True) as uow:
            get = {
                "appointments": uow.relations.get_appointment,
                "reminders": uow.relations.get_reminder,
                "documents": uow.relations.get_document,
            }[kind]
            return await get(org, customer_id, "no_such_id")

    return read


async def _customer(engine: AsyncEngine, org: str, customer_id: str, _action_id: str) -> object:
    async with SqlUnitOfWork(engine, read_only=True) as uow:
        return await uow.customers.get(org, customer_id)


async def _customer_page(
    engine: AsyncEngine, org: str, _customer_id: str, _action_id: str
) -> object:
    return await SqlCustomerQueries(engine).list(
        CustomerListQuery(scope=ScopeFilter(org, Reach.ALL), page=PageRequest(limit=5))
    )


async def _open_actions(engine: AsyncEngine, org: str, customer_id: str, _action_id: str) -> object:
    async with SqlUnitOfWork(engine, read_only=True) as uow:
        return await uow.actions.open_for_customer(org, customer_id)


async def _rename(engine: AsyncEngine, org: str, customer_id: str, _action_id: str) -> object:
    async with SqlUnitOfWork(engine) as uow:
        await uow.actions.set_customer_name(org, customer_id, "اسم آخر")
        await uow.rollback()
    return None


async def _action(engine: AsyncEngine, org: str, _customer_id: str, action_id: str) -> object:
    async with SqlUnitOfWork(engine, read_only=True) as uow:
        return await uow.actions.get(org, action_id)


CUSTOMER = ("organization_id", "customer_id")
CASES: dict[str, Case] = {
    "interactions": Case(_relations("interactions"), "interactions", CUSTOMER, ("date", "id")),
    "interactions with sentiment": Case(_sentiment, "interactions", CUSTOMER, ("date", "id")),
    "appointments": Case(_relations("appointments"), "appointments", CUSTOMER, ("datetime", "id")),
    "reminders": Case(_relations("reminders"), "reminders", CUSTOMER, ("datetime", "id")),
    "documents": Case(_relations("documents"), "documents", CUSTOMER, ("uploaded_at", "id")),
    "appointment by id": Case(_by_id("appointments"), "appointments", CUSTOMER, by_id=True),
    "reminder by id": Case(_by_id("reminders"), "reminders", CUSTOMER, by_id=True),
    "document by id": Case(_by_id("documents"), "documents", CUSTOMER, by_id=True),
    "stage history of a customer": Case(
        _customer, "stage_history", CUSTOMER, ("customer_id", "seq"), sorted_in_index=False
    ),
    "interests of a customer": Case(
        _customer,
        "property_interests",
        CUSTOMER,
        ("customer_id", "added_at", "id"),
        sorted_in_index=False,
    ),
    "stage history of a page": Case(_customer_page, "stage_history", CUSTOMER),
    "interests of a page": Case(_customer_page, "property_interests", CUSTOMER),
    "open actions of a customer": Case(
        _open_actions, "customer_actions", CUSTOMER, ("created_at", "id")
    ),
    "actions to rename": Case(_rename, "customer_actions", CUSTOMER),
    "notes of open actions": Case(
        _open_actions,
        "action_notes",
        ("action_id",),
        ("action_id", "created_at", "id"),
        sorted_in_index=False,
    ),
    "notes of an action": Case(
        _action, "action_notes", ("action_id",), ("action_id", "created_at", "id")
    ),
}


# --- capturing and explaining ----------------------------------------------------------------


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    """Every (statement, parameters) sent while the block runs."""
    seen: list[tuple[str, Any]] = []

    def listener(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", listener)


def walk_plan(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from walk_plan(child)


async def index_columns(conn: AsyncConnection, name: str) -> tuple[str, ...]:
    if conn.dialect.name == "sqlite":
        rows = await conn.exec_driver_sql(f"PRAGMA index_info('{name}')")
        return tuple(str(r[2]) for r in sorted(rows, key=lambda r: r[0]))
    rows = await conn.execute(
        text(
            "SELECT a.attname FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid"
            " JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) ON true"
            " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
            " WHERE c.relname = :name ORDER BY k.n"
        ),
        {"name": name},
    )
    return tuple(r[0] for r in rows)


def check_columns(case: Case, index: str, columns: tuple[str, ...], plan: object) -> str:
    """The index fits the case; its leading column (an index condition) is returned."""
    if case.by_id and columns == ("id",):
        return "id"
    keeps_order = not case.order or columns[-len(case.order) :] == case.order
    if keeps_order and columns[:1] == ("customer_id",) and "customer_id" in case.lead:
        # The foreign key's own index seeks the customer as well, in the read's order where it
        # has one (PostgreSQL may pick either on small tables).
        return "customer_id"
    assert columns[: len(case.lead)] == case.lead, (index, columns, plan)
    if case.order:
        assert columns[-len(case.order) :] == case.order, (index, columns, plan)
    return case.lead[0]


async def check_sqlite(conn: AsyncConnection, case: Case, statement: str, params: Any) -> None:
    details = [
        str(r[3]) for r in await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
    ]
    assert not any(d.startswith(f"SCAN {case.table}") for d in details), details
    searches = [d for d in details if d.startswith(f"SEARCH {case.table} USING ")]
    assert searches, details
    for search in searches:
        found = re.search(r"USING (?:COVERING )?INDEX (\w+) \(", search)
        assert found, details
        lead = check_columns(case, found[1], await index_columns(conn, found[1]), details)
        assert re.search(rf"\({lead}=\?", search), details
    if case.order:
        assert not any("TEMP B-TREE" in d for d in details), details


async def check_postgresql(conn: AsyncConnection, case: Case, statement: str, params: Any) -> None:
    # Small test tables: forbid the alternatives so the plan shows what an index can do.
    for setting in ("enable_seqscan", "enable_bitmapscan"):
        await conn.execute(text(f"SET LOCAL {setting} = off"))
    if case.sorted_in_index:
        await conn.execute(text("SET LOCAL enable_sort = off"))
    plan = (await conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, params)).scalar_one()
    nodes = list(walk_plan(plan[0]["Plan"]))
    scans = [n for n in nodes if n.get("Relation Name") == case.table]
    assert scans, nodes
    for scan in scans:
        assert scan["Node Type"] in ("Index Scan", "Index Only Scan"), nodes
        index = scan["Index Name"]
        lead = check_columns(case, index, await index_columns(conn, index), nodes)
        condition = str(scan.get("Index Cond", ""))
        assert re.search(rf"\(\(?{lead}\)?(::[a-z ]+)? = ", condition), nodes
    if case.order and case.sorted_in_index:
        assert not any(n["Node Type"] in ("Sort", "Incremental Sort") for n in nodes), nodes
    await conn.rollback()


# --- data and the test -----------------------------------------------------------------------


@pytest.fixture(scope="module")
async def engine(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    """A migrated database of this module's own: on tiny tables several indexes tie, and the
    rows and statistics the suite's other tests leave in the shared database tilt PostgreSQL's
    choice between them (an organization-led index then wins by a hair). Here the plans show
    the indexes the reads were written for, as they do at scale."""
    if make_url(database_url).get_backend_name() == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('plans') / 'plans.db'}"
        await ensure_schema(url)
        own = create_engine(url)
        yield own
        await own.dispose()
        return
    name = f"hub_plans_{uuid.uuid4().hex[:12]}"
    _admin(database_url, f'CREATE DATABASE "{name}"')
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    try:
        await ensure_schema(url)
        own = create_engine(url)
        yield own
        await own.dispose()
    finally:
        _admin(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def seed(engine: AsyncEngine, org: str) -> tuple[str, str]:
    """One customer with a history entry and one open action: the reads reach every table."""
    customer = Customer(
        id=f"{org}_c",
        organization_id=org,
        name="أحمد الغامدي",
        phone=f"+9665{abs(hash(org)) % 10**8:08d}",
        source=CustomerSource.MANUAL,
        stage=Stage.NEW_LEAD,
        created_at=NOW,
        updated_at=NOW,
        stage_history=(
            StageChange(
                id=f"{org}_s1",
                from_stage=None,
                to_stage=Stage.NEW_LEAD,
                changed_by="System",
                changed_by_id="system",
                changed_at=NOW,
                auto_generated=True,
            ),
        ),
    )
    action = CustomerAction(
        id=f"{org}_a",
        organization_id=org,
        customer_id=customer.id,
        customer_name=customer.name,
        type=ActionType.FOLLOW_UP,
        title="متابعة",
        priority=Priority.HIGH,
        status=ActionStatus.PENDING,
        source=CustomerSource.MANUAL,
        created_at=NOW,
        updated_at=NOW,
    )
    async with SqlUnitOfWork(engine) as uow:
        await uow.customers.add(customer)
        await uow.actions.add_many([action])
        await uow.commit()
    return customer.id, action.id


@pytest.mark.parametrize("name", list(CASES))
async def test_a_per_customer_read_searches_a_customer_led_index(
    engine: AsyncEngine, org_id: str, name: str
) -> None:
    case = CASES[name]
    customer_id, action_id = await seed(engine, org_id)
    with statements(engine) as seen:
        await case.read(engine, org_id, customer_id, action_id)
    reads = [
        (sql, params)
        for sql, params in seen
        if sql.lstrip().upper().startswith("SELECT") and re.search(rf"\bFROM {case.table}\b", sql)
    ]
    assert reads, seen
    for sql, params in reads:
        async with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                await check_postgresql(conn, case, sql, params)
            else:
                await check_sqlite(conn, case, sql, params)

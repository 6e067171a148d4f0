"""The statements of one uncached customers list (``GET /customers``), on SQLite and PostgreSQL.

What the benchmark's floor sends (``benchmarks/floor.py``: page, stage history, interests, the
capped count) is what the use case may send, plus the page's assignees: a fixed number of
statements whatever the page size, all on one connection (no second transaction for the
employees), the capped count carried by the page's own statement. A regression — a statement
more, a relation loaded per customer, a second connection — fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast
from zoneinfo import ZoneInfo

import attrs
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from test_sql_queries import BASE, make_customer, store, team

from customers_hub.adapters.events import InProcessEventPublisher
from customers_hub.adapters.sql import pagination
from customers_hub.adapters.sql.customer_reads import SqlCustomerQueries
from customers_hub.adapters.sql.pagination import EstimateMemo
from customers_hub.adapters.sql.uow import SqlUnitOfWorkFactory
from customers_hub.adapters.system import PrefixedIdGenerator, SystemClock
from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases.reads import (
    CustomerList,
    CustomerListParams,
    list_customers,
)
from customers_hub.domain.enums import Permission, Role, Stage
from customers_hub.domain.model import Actor

RIYADH = ZoneInfo("Asia/Riyadh")
CUSTOMERS = 30


class _Unused:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected call of {name}")


async def _riyadh(_organization_id: str) -> ZoneInfo:
    # The service's zone lookup answers from its cache after the first request; the list's
    # own statements are what is counted here.
    return RIYADH


def deps_for(engine: AsyncEngine, estimates: EstimateMemo | None = None) -> Dependencies:
    unused = cast(Any, _Unused())
    return Dependencies(
        uow=SqlUnitOfWorkFactory(engine),
        clock=SystemClock(),
        ids=PrefixedIdGenerator(),
        publisher=InProcessEventPublisher(),
        customer_queries=SqlCustomerQueries(engine, estimates=estimates),
        action_queries=unused,
        employee_queries=unused,
        storage=unused,
        zone_lookup=_riyadh,
    )


def admin(org_id: str) -> Actor:
    return Actor("admin_1", org_id, Role.ADMIN, frozenset(Permission), name="Admin")


@attrs.frozen
class Sent:
    """The statements sent and the connections they went through."""

    statements: list[str]
    connections: set[int]
    isolation: set[str | None] = attrs.Factory(set)

    def tables(self) -> list[str]:
        """What each statement reads: the table of its first column, ``count`` for a count,
        ``counters`` for a sum of counters, ``EXPLAIN`` for a plan."""
        out = []
        for sql in self.statements:
            head = sql.split()
            if head[0].upper() == "EXPLAIN":
                out.append("EXPLAIN")
            elif head[1].lower().startswith("count("):
                out.append("count")
            elif "customer_counters" in head[1]:
                out.append("counters")
            else:
                out.append(head[1].split(".")[0])
        return out


@contextmanager
def sending(engine: AsyncEngine) -> Iterator[Sent]:
    sent = Sent([], set())

    def listener(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.statements.append(statement)
        sent.connections.add(id(conn.connection.dbapi_connection))
        sent.isolation.add(conn.get_execution_options().get("isolation_level"))

    event.listen(engine.sync_engine, "before_cursor_execute", listener)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", listener)


@pytest.fixture
async def stored(engine: AsyncEngine, org_id: str) -> None:
    moved = [(Stage.QUALIFIED, BASE)]
    customers = [
        make_customer(
            org_id,
            n,
            moves=moved,
            interests=2,
            # Every third customer is unassigned; the others share two agents.
            assigned_employee_id=(None, "agt_1", "agt_2")[n % 3],
        )
        for n in range(1, CUSTOMERS + 1)
    ]
    await store(engine, customers=customers, employees=team(org_id))


async def listed(engine: AsyncEngine, org_id: str, **params: Any) -> tuple[CustomerList, Sent]:
    deps = deps_for(engine)
    await list_customers(deps, admin(org_id), CustomerListParams(**params))  # warm-up
    with sending(engine) as sent:
        result = await list_customers(deps, admin(org_id), CustomerListParams(**params))
    return result, sent


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize("limit", [5, 20])
async def test_an_uncached_list_sends_the_floors_statements_on_one_connection(
    engine: AsyncEngine, org_id: str, dialect: str, limit: int
) -> None:
    result, sent = await listed(engine, org_id, limit=limit)
    # page with its capped count · stage history · interests · the page's assignees
    assert sent.tables() == ["customers", "stage_history", "property_interests", "employees"]
    assert len(sent.connections) == 1
    # PostgreSQL reads in autocommit: no BEGIN and ROLLBACK round trips around the reads.
    assert sent.isolation == ({"AUTOCOMMIT"} if dialect == "postgresql" else {None})
    page = result.page
    assert (len(page.items), page.total_items, page.total_is_estimate) == (limit, CUSTOMERS, False)
    assert all(len(c.stage_history) == 2 and len(c.property_interests) == 2 for c in page.items)
    assigned = {c.assigned_employee_id for c in page.items} - {None}
    assert set(result.employees) == assigned
    assert {e.name_en for e in result.employees.values()} <= {"Ahmed", "Badr"}


@pytest.mark.usefixtures("stored")
async def test_above_the_cap_one_more_statement_estimates_or_counts(
    engine: AsyncEngine, org_id: str, dialect: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pagination, "EXACT_COUNT_CAP", 10)
    now = [0.0]
    deps = deps_for(engine, EstimateMemo(ttl=10.0, clock=lambda: now[0]))
    # A filter (that every customer passes): a list without one is counted by its counters.
    params = CustomerListParams(limit=20, stage=(Stage.QUALIFIED,))

    async def a_list() -> tuple[CustomerList, list[str]]:
        with sending(engine) as sent:
            result = await list_customers(deps, admin(org_id), params)
        return result, sent.tables()

    result, tables = await a_list()
    # PostgreSQL asks the planner for an estimate; SQLite counts exactly.
    beyond = "EXPLAIN" if dialect == "postgresql" else "count"
    relations = ["stage_history", "property_interests", "employees"]
    assert tables == ["customers", beyond, *relations]
    total, estimate = result.page.total_items, result.page.total_is_estimate
    if dialect == "postgresql":
        assert estimate is True
        assert total is not None
        assert total >= 11  # never below cap + 1
    else:
        assert (total, estimate) == (CUSTOMERS, False)
    # The estimate is remembered for the memo's ttl: the same list asks no EXPLAIN again
    # (SQLite's exact count is never remembered); after the ttl it asks anew.
    now[0] = 9.9
    again, tables = await a_list()
    remembered = [] if dialect == "postgresql" else ["count"]
    assert tables == ["customers", *remembered, *relations]
    assert (again.page.total_items, again.page.total_is_estimate) == (total, estimate)
    now[0] = 10.0
    _, tables = await a_list()
    assert tables == ["customers", beyond, *relations]


@pytest.mark.usefixtures("stored")
async def test_the_relations_and_assignees_go_together(
    engine: AsyncEngine, org_id: str, dialect: str
) -> None:
    # On PostgreSQL the three go in one pipeline (one round trip): all three are sent before
    # the first result is read. SQLite runs them one after another.
    deps = deps_for(engine)
    events: list[tuple[str, str]] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        events.append(("send", statement.split()[1].split(".")[0]))

    def after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        events.append(("read", statement.split()[1].split(".")[0]))

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)
    try:
        result = await list_customers(deps, admin(org_id), CustomerListParams(limit=20))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)
        event.remove(engine.sync_engine, "after_cursor_execute", after)
    relations = ["stage_history", "property_interests", "employees"]
    if dialect == "postgresql":
        together = [("send", r) for r in relations] + [("read", r) for r in relations]
    else:
        together = [step for r in relations for step in (("send", r), ("read", r))]
    assert events == [("send", "customers"), ("read", "customers"), *together]
    assert all(
        len(c.stage_history) == 2 and len(c.property_interests) == 2 for c in result.page.items
    )
    assert set(result.employees) == {c.assigned_employee_id for c in result.page.items} - {None}


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(
    ("filters", "count"), [({}, "counters"), ({"stage": (Stage.QUALIFIED,)}, "count")]
)
async def test_last_page_and_past_the_end(
    engine: AsyncEngine, org_id: str, filters: dict[str, Any], count: str
) -> None:
    last, sent = await listed(engine, org_id, limit=20, page=2, **filters)
    assert sent.tables() == ["customers", "stage_history", "property_interests", "employees"]
    assert (len(last.page.items), last.page.total_items, last.page.has_next) == (10, 30, False)
    beyond, sent = await listed(engine, org_id, limit=20, page=3, **filters)
    # No row carries the count past the end: it runs on its own; nothing else does.
    assert sent.tables() == ["customers", count]
    assert (beyond.page.items, beyond.page.total_items) == ([], CUSTOMERS)


async def test_an_unassigned_page_reads_no_employees(engine: AsyncEngine, org_id: str) -> None:
    await store(engine, customers=[make_customer(org_id, n) for n in range(1, 4)])
    result, sent = await listed(engine, org_id, limit=20)
    assert sent.tables() == ["customers", "stage_history", "property_interests"]
    assert (len(result.page.items), result.employees) == (3, {})


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(
    "params",
    [{"limit": 7, "page": 3}, {"limit": 7, "page": 3, "stage": (Stage.QUALIFIED,)}],
    ids=["plain", "filtered"],
)
async def test_limits_and_offsets_are_literals_in_the_sql_sent(
    engine: AsyncEngine, org_id: str, params: dict[str, Any]
) -> None:
    """A prepared statement's generic plan cannot see a bound LIMIT (PostgreSQL then plans for
    a tenth of the rows: parallel workers for a 21-row page): the page's LIMIT and OFFSET, and
    the capped count's, are in the text (``dialect.literal_rows``)."""
    result, sent = await listed(engine, org_id, **params)
    assert len(result.page.items) == 7
    page_sql = sent.statements[0]
    assert re.search(r"LIMIT 8 OFFSET 14\s*$", page_sql), page_sql
    if "stage" in params:
        assert re.search(r"LIMIT 10001\b", page_sql), page_sql  # the capped count
    assert "POSTCOMPILE" not in " ".join(sent.statements)

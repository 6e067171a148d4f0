"""Cursors seek: a cursor page is an index range scan that starts at the cursor, on both databases.

A cursor ``(value, id)`` is compiled as the row value ``(field, id) < (value, id)`` (``>`` the
other way), never as ``field < value OR (field = value AND id < id)``, which no index can start
from. A nullable field (NULLs last either way) splits into the non-NULL range and the NULL range,
each its own ordered seek, the second read only when the first runs out. These tests check, for
every sort field of the customers list and of the actions inbox, in both directions, reading
forwards and backwards:

* the rows a cursor returns (every position of a small data set with ties and NULLs);
* the SQL actually sent: the row-value comparison is there, no OR is;
* the plan: PostgreSQL puts the row comparison into the ``Index Cond`` of an index led by
  ``(organization_id, field)`` (never into a Filter); SQLite's plan shows the index SEARCH
  constrained by ``(field,id)<(?,?)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.sql.action_reads import SqlActionQueries
from customers_hub.adapters.sql.customer_reads import SqlCustomerQueries
from customers_hub.adapters.sql.filters import ACTION_SORTS, CUSTOMER_SORTS, SortSpec
from customers_hub.adapters.sql.pagination import encode_cursor
from customers_hub.adapters.sql.uow import SqlUnitOfWork
from customers_hub.application.queries import ActionListQuery, CustomerListQuery, PageRequest, Sort
from customers_hub.domain.access import Reach, ScopeFilter
from customers_hub.domain.enums import ActionStatus, ActionType, CustomerSource, Priority, Stage
from customers_hub.domain.model import Customer, CustomerAction

BASE = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
NOW = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)
RIYADH = ZoneInfo("Asia/Riyadh")

CUSTOMER_VALUES: dict[str, Callable[[Customer], Any]] = {
    "name": lambda c: c.name,
    "createdAt": lambda c: c.created_at,
    "updatedAt": lambda c: c.updated_at,
    "leadScore": lambda c: c.lead_score,
    "lastContactAt": lambda c: c.last_contact_at,
    "dealValue": lambda c: c.total_deal_value,
    "totalDealValue": lambda c: c.total_deal_value,
    "priority": lambda c: c.priority.rank,
}
ACTION_VALUES: dict[str, Callable[[CustomerAction], Any]] = {
    "createdAt": lambda a: a.created_at,
    "updatedAt": lambda a: a.updated_at,
    "dueDate": lambda a: a.due_date,
    "priority": lambda a: a.priority.rank,
}


def test_every_sort_field_is_covered() -> None:
    assert set(CUSTOMER_VALUES) == set(CUSTOMER_SORTS)
    assert set(ACTION_VALUES) == set(ACTION_SORTS)


# --- data ------------------------------------------------------------------------------------


def customers(org: str) -> list[Customer]:
    """Ten customers: ties on every field, NULLs on the nullable ones, ids not in any order."""
    out = []
    for k, n in enumerate((6, 2, 9, 4, 1, 10, 7, 3, 8, 5)):
        created = BASE + timedelta(hours=(k * 3) % 4)
        out.append(
            Customer(
                id=f"{org}_c{n:02d}",
                organization_id=org,
                name=("سارة", "Omar", "أحمد")[k % 3],
                phone=f"+96655{n:07d}",
                source=CustomerSource.MANUAL,
                stage=Stage.NEW_LEAD,
                created_at=created,
                updated_at=created + timedelta(minutes=(k % 2) * 30),
                lead_score=(40, 75, 40, 90, 75)[k % 5],
                priority=list(Priority)[k % 4],
                last_contact_at=None if k % 3 == 1 else BASE + timedelta(days=k % 2),
                total_deal_value=None if k % 4 == 0 else Decimal(500_000 * (1 + k % 2)),
            )
        )
    return out


def actions(org: str, owners: Sequence[Customer]) -> list[CustomerAction]:
    """Ten open actions: ties on every sort field, NULL due dates, ids not in any order."""
    out = []
    for k, n in enumerate((3, 8, 1, 10, 6, 2, 9, 5, 7, 4)):
        customer = owners[k % len(owners)]
        created = NOW - timedelta(hours=(k * 5) % 3)
        out.append(
            CustomerAction(
                id=f"{org}_a{n:02d}",
                organization_id=org,
                customer_id=customer.id,
                customer_name=customer.name,
                type=ActionType.FOLLOW_UP,
                title=f"متابعة {n}",
                priority=list(Priority)[k % 3],
                status=ActionStatus.PENDING,
                source=CustomerSource.MANUAL,
                created_at=created,
                updated_at=created + timedelta(minutes=k % 2),
                due_date=None if k % 3 == 0 else NOW + timedelta(days=k % 2),
            )
        )
    return out


async def store(
    engine: AsyncEngine, people: Sequence[Customer], work: Sequence[CustomerAction] = ()
) -> None:
    async with SqlUnitOfWork(engine) as uow:
        for customer in people:
            await uow.customers.add(customer)
        await uow.actions.add_many(list(work))
        await uow.commit()


def documented_order(
    items: Sequence[Any], key: Callable[[Any], Any], *, descending: bool
) -> list[Any]:
    """By the key (NULLs last either way), then the id in the same direction."""
    present = sorted(
        (i for i in items if key(i) is not None), key=lambda i: (key(i), i.id), reverse=descending
    )
    absent = sorted((i for i in items if key(i) is None), key=lambda i: i.id, reverse=descending)
    return present + absent


# --- reading ---------------------------------------------------------------------------------


async def customer_page(
    engine: AsyncEngine, org: str, sort: Sort, cursor: str, limit: int
) -> list[str]:
    page = await SqlCustomerQueries(engine).list(
        CustomerListQuery(
            scope=ScopeFilter(org, Reach.ALL),
            sort=sort,
            page=PageRequest(limit=limit, cursor=cursor),
        )
    )
    return [c.id for c in page.items]


async def action_page(
    engine: AsyncEngine, org: str, sort: Sort, cursor: str, limit: int
) -> list[str]:
    page = await SqlActionQueries(engine).list(
        ActionListQuery(
            scope=ScopeFilter(org, Reach.ALL),
            now=NOW,
            tz=RIYADH,
            sort=sort,
            page=PageRequest(limit=limit, cursor=cursor),
        )
    )
    return [a.id for a in page.items]


Reader = Callable[[AsyncEngine, str, Sort, str, int], Any]


async def check_every_position(
    engine: AsyncEngine,
    org: str,
    items: Sequence[Any],
    values: dict[str, Callable[[Any], Any]],
    read: Reader,
) -> None:
    limit = 4
    for field, key in values.items():
        for descending in (False, True):
            sort = Sort(field, descending=descending)
            ordered = documented_order(items, key, descending=descending)
            ids = [i.id for i in ordered]
            for k, item in enumerate(ordered):
                where = (field, "desc" if descending else "asc", item.id)
                for after, inclusive, expected in (
                    (True, False, ids[k + 1 : k + 1 + limit]),
                    (True, True, ids[k : k + limit]),
                    (False, False, ids[max(0, k - limit) : k]),
                    (False, True, ids[max(0, k + 1 - limit) : k + 1]),
                ):
                    cursor = encode_cursor(
                        field, descending, key(item), item.id, after=after, inclusive=inclusive
                    )
                    got = await read(engine, org, sort, cursor, limit)
                    assert got == expected, (after, inclusive, *where)


async def test_a_customer_cursor_continues_exactly_at_its_position(
    engine: AsyncEngine, org_id: str
) -> None:
    people = customers(org_id)
    await store(engine, people)
    await check_every_position(engine, org_id, people, CUSTOMER_VALUES, customer_page)


async def test_an_action_cursor_continues_exactly_at_its_position(
    engine: AsyncEngine, org_id: str
) -> None:
    people = customers(org_id)
    work = actions(org_id, people)
    await store(engine, people, work)
    await check_every_position(engine, org_id, work, ACTION_VALUES, action_page)


# --- the SQL sent and its plan ---------------------------------------------------------------


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


def positions(spec: SortSpec, value: object) -> list[tuple[object, bool]]:
    """(cursor value, after) pairs to check: both ways from a value, and from NULL if it can be."""
    out: list[tuple[object, bool]] = [(value, True), (value, False)]
    if spec.nullable:
        out += [(None, True), (None, False)]
    return out


def row_value(table: str, column: str) -> re.Pattern[str]:
    return re.compile(rf"\({table}\.{column}, {table}\.id\) (<|>|<=|>=) \(")


def walk_plan(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from walk_plan(child)


async def check_plan(
    engine: AsyncEngine, statement: str, parameters: Any, table: str, column: str, *, rows: bool
) -> None:
    """The page statement seeks: its cursor ranges are index conditions, not filters."""
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # Small test tables: forbid the alternatives so the plan shows what the index can do.
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                await conn.execute(text(f"SET LOCAL {setting} = off"))
            plan = (
                await conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)
            ).scalar_one()
            nodes = list(walk_plan(plan[0]["Plan"]))
            scans = [n for n in nodes if n.get("Relation Name") == table]
            assert scans, nodes
            for scan in scans:
                assert scan["Node Type"] in ("Index Scan", "Index Only Scan"), scan
                definition = (
                    await conn.execute(
                        text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"),
                        {"name": scan["Index Name"]},
                    )
                ).scalar_one()
                led = rf"\(organization_id, {column}( DESC NULLS LAST)?, id"
                assert re.search(led, definition), definition
            conditions = " ".join(str(s.get("Index Cond", "")) for s in scans)
            filters = " ".join(str(n.get("Filter", "")) for n in nodes)
            assert "ROW(" not in filters
            if rows:
                assert re.search(rf"ROW\(\(?{column}\)?(::[a-z]+)?, ", conditions), scans
            else:
                assert f"({column} IS NULL)" in conditions, scans
            await conn.rollback()
            return
        details = [
            str(list(r)[3])
            for r in await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        ]
    searches = [d for d in details if d.startswith(f"SEARCH {table} USING ")]
    assert searches, details
    assert not any(d.startswith(f"SCAN {table}") for d in details), details
    for search in searches:
        assert re.search(rf"INDEX \w+ \(organization_id=\? AND {column}[=<>(,]", search) or (
            f"({column},id)" in search
        ), search
    if rows:
        assert any(re.search(rf"\({column},id\)[<>]=?\(\?,\?\)", s) for s in searches), details


async def check_sql(
    engine: AsyncEngine,
    org: str,
    sorts: dict[str, SortSpec],
    sample: dict[str, object],
    table: str,
    read: Reader,
) -> None:
    for field, spec in sorts.items():
        column = spec.column.name
        for descending in (False, True):
            for value, after in positions(spec, sample[field]):
                cursor = encode_cursor(field, descending, value, "zzz_id", after=after)
                with statements(engine) as seen:
                    await read(engine, org, Sort(field, descending=descending), cursor, 5)
                page_sql, parameters = seen[0]
                case = (field, "desc" if descending else "asc", "after" if after else "before")
                assert f"FROM {table}" in page_sql, case
                assert " OR " not in page_sql, (case, page_sql)
                if value is None:
                    assert re.search(rf"{table}\.{column} IS NULL AND {table}\.id [<>]", page_sql)
                else:
                    assert row_value(table, column).search(page_sql), (case, page_sql)
                await check_plan(
                    engine, page_sql, parameters, table, column, rows=value is not None
                )


async def test_customer_cursors_are_row_value_seeks_for_every_sort(
    engine: AsyncEngine, org_id: str
) -> None:
    people = customers(org_id)
    await store(engine, people)
    sample = {field: key(people[2]) for field, key in CUSTOMER_VALUES.items()}
    await check_sql(engine, org_id, dict(CUSTOMER_SORTS), sample, "customers", customer_page)


async def test_action_cursors_are_row_value_seeks_for_every_sort(
    engine: AsyncEngine, org_id: str
) -> None:
    people = customers(org_id)
    work = actions(org_id, people)
    await store(engine, people, work)
    sample = {field: key(work[1]) for field, key in ACTION_VALUES.items()}
    await check_sql(engine, org_id, dict(ACTION_SORTS), sample, "customer_actions", action_page)


@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
async def test_a_nullable_sort_reads_the_nulls_only_when_the_dated_rows_run_out(
    engine: AsyncEngine, org_id: str, descending: bool
) -> None:
    """A page inside the non-NULL region is one seek; the page that runs on into the NULLs
    sends a second seek for what the first left."""
    people = customers(org_id)
    await store(engine, people)
    sort = Sort("lastContactAt", descending=descending)
    ordered = documented_order(people, CUSTOMER_VALUES["lastContactAt"], descending=descending)
    last_dated = max(k for k, c in enumerate(ordered) if c.last_contact_at is not None)
    assert last_dated >= 4  # the data set has room for a page inside the dated rows

    def seeks(seen: list[tuple[str, Any]]) -> list[str]:
        return [sql for sql, _ in seen if "ORDER BY customers.last_contact_at" in sql]

    def after(k: int) -> str:
        return encode_cursor(
            "lastContactAt", descending, ordered[k].last_contact_at, ordered[k].id, after=True
        )

    # Inside the dated rows: the page and its one extra row are all dated.
    with statements(engine) as seen:
        got = await customer_page(engine, org_id, sort, after(0), 2)
    assert got == [c.id for c in ordered[1:3]]
    pages = seeks(seen)  # the page's relations are read by statements of their own
    assert len(pages) == 1, seen
    assert "customers.last_contact_at IS NULL" not in pages[0]

    # Crossing: one dated row is left, the rest of the page comes from the NULLs.
    position = ordered[last_dated - 1]
    with statements(engine) as seen:
        got = await customer_page(engine, org_id, sort, after(last_dated - 1), 3)
    assert got == [c.id for c in ordered[last_dated : last_dated + 3]]
    assert position.last_contact_at is not None
    assert ordered[last_dated + 1].last_contact_at is None  # the page crossed into the NULLs
    pages = seeks(seen)
    assert len(pages) == 2, seen
    assert all("UNION" not in sql for sql in pages)
    assert (
        "customers.last_contact_at IS NOT NULL AND (customers.last_contact_at, customers.id)"
        in pages[0]
    )
    assert "customers.last_contact_at IS NULL" in pages[1]

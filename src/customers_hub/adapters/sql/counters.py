"""Summary counters that statistics read instead of scanning (issue 9; ``docs/statistics.md``).

A counter table holds **append-only delta rows**: database triggers on the source table
(migration ``0016`` for customers) insert, for each write, ``+1`` for a row's new state and
``-1`` for its old state on every key the write changed; nothing is ever updated in place, so
concurrent writers take no row lock on a hot counter and never block or deadlock on one.
A read sums the rows of its organization (and scope) grouped by key. :func:`fold` compacts an
organization's rows into one row per key (``adapters/counter_folder.py`` runs it in the
background for organizations whose rows piled up); :func:`recount_all` rebuilds the counters
from a scan (``customers-hub db recount``).

A counter table's columns are of two kinds: the columns marked ``info={"sum": True}`` are
summed, every other column is a key.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Select,
    String,
    Table,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.functions import FunctionElement

from customers_hub.adapters.sql import tables as t
from customers_hub.adapters.sql.action_counters import rebuild_action_counters
from customers_hub.adapters.sql.dialect import Epoch, compile_by_dialect, literal_rows
from customers_hub.adapters.sql.filters.scope import within_reach
from customers_hub.domain.access import Reach, ScopeFilter

__all__ = [
    "CONTACT_DAY",
    "LISTED_STAGE",
    "UNASSIGNED",
    "assignee_reach",
    "customer_counters",
    "first_closes",
    "fold",
    "fold_into",
    "key_columns",
    "listed_total",
    "rebuild_customer_counters",
    "recount_all",
    "sum_columns",
    "write_transaction",
]

logger = logging.getLogger(__name__)

UNASSIGNED: Final = ""
"""The ``assignee`` key of rows that belong to no employee (key columns are never NULL)."""

customer_counters = t.customer_counters
"""Customer counters: delta rows keyed by (organization, assignee, dimension, value); the
dimensions are listed in ``docs/statistics.md``."""

LISTED_STAGE: Final = "listed_stage"
"""The dimension of listed customers (live, not restricted) by stage: filter options' stages,
and the total of a customers list without filters (:func:`listed_total`)."""

CONTACT_DAY: Final = "contact_day"
"""The dimension of live customers by UTC day (``YYYY-MM-DD``) of their last contact
(migration 0020): statistics sum the whole days of "contacted in the last 30 days"."""


def sum_columns(table: Table) -> list[Column[object]]:
    """The columns of a counter table that are summed."""
    return [col for col in table.columns if col.info.get("sum")]


def key_columns(table: Table) -> list[Column[object]]:
    """The key columns of a counter table (every column not summed)."""
    return [col for col in table.columns if not col.info.get("sum")]


async def fold(connection: AsyncConnection, table: Table, organization_id: str) -> None:
    """Compact the organization's delta rows of ``table`` into one row per key (keys whose sums
    are all zero disappear). Runs in the caller's transaction.

    PostgreSQL: one statement, ``WITH gone AS (DELETE … RETURNING …) INSERT … SELECT … GROUP
    BY``. Under READ COMMITTED a row another fold deleted meanwhile is skipped and not
    returned, and rows of writers not yet committed are neither seen nor deleted, so racing
    folds and writers never lose or double a count. SQLite: sum, delete, insert in the
    caller's transaction (SQLite has one writer at a time).
    """
    keys, sums = key_columns(table), sum_columns(table)
    names = [col.name for col in (*keys, *sums)]
    org = table.c.organization_id == organization_id
    if connection.dialect.name == "postgresql":
        gone = delete(table).where(org).returning(*keys, *sums).cte("gone")
        totals = [func.sum(gone.c[col.name]).label(col.name) for col in sums]
        grouped = (
            select(*(gone.c[col.name] for col in keys), *totals)
            .group_by(*(gone.c[col.name] for col in keys))
            .having(or_(*(func.sum(gone.c[col.name]) != 0 for col in sums)))
        )
        await connection.execute(insert(table).from_select(names, grouped))
        return
    grouped_rows = (
        select(*keys, *(func.sum(col).label(col.name) for col in sums))
        .where(org)
        .group_by(*keys)
        .having(or_(*(func.sum(col) != 0 for col in sums)))
    )
    rows = [dict(row) for row in (await connection.execute(grouped_rows)).mappings()]
    await connection.execute(delete(table).where(org))
    if rows:
        await connection.execute(insert(table), rows)


async def fold_due(connection: AsyncConnection, table: Table, threshold: int) -> list[str]:
    """The organizations with more than ``threshold`` rows in ``table`` (bounded: at most 100)."""
    org = table.c.organization_id
    statement = (
        select(org)
        .group_by(org)
        .having(func.count() > threshold)
        .order_by(org)
        .limit(literal_rows(100))
    )
    return list((await connection.execute(statement)).scalars())


def assignee_reach(scope: ScopeFilter, assignee: ColumnElement[str]) -> ColumnElement[bool]:
    """The counter rows a scope sums: every assignee (ALL), the manager and direct reports
    (TEAM), oneself (OWN), none (NONE) — as :func:`~customers_hub.adapters.sql.filters.
    customer_scope` chooses customers."""
    if scope.kind is Reach.ALL:
        return literal(True)
    if scope.kind is Reach.NONE or scope.employee_id is None:
        return literal(False)
    return within_reach(scope, assignee)


def listed_total(scope: ScopeFilter) -> Select[Any]:
    """How many customers of ``scope`` a list without filters shows (live, not restricted:
    the ``listed_stage`` counters of the assignees in reach), exactly, from one index range
    of the counters instead of a count of the customers."""
    c = t.customer_counters.c
    return select(cast(func.coalesce(func.sum(c.n), 0), BigInteger)).where(
        c.organization_id == scope.organization_id,
        c.dimension == LISTED_STAGE,
        assignee_reach(scope, c.assignee),
    )


# --- rebuilding from a scan ----------------------------------------------------------------------


def _customer_contributions(organization_id: str) -> Any:
    """Every live customer's counter rows and its property types', ungrouped: the same
    contributions the triggers of migrations 0016 and 0020 add (keep them in step)."""
    c, f = t.customers.c, t.customer_facets.c
    live = c.deleted_at.is_(None)
    listed = and_(live, c.restricted_until.is_(None))
    one: Any = literal_column("1")
    nothing: Any = literal_column("0")
    none: Any = literal_column("''")

    def row(dimension: str, value: Any, n: Any, amount: Any, condition: ColumnElement[bool]) -> Any:
        return select(
            c.organization_id,
            func.coalesce(c.assigned_employee_id, none).label("assignee"),
            literal_column(f"'{dimension}'").label("dimension"),
            value.label("value"),
            n.label("n"),
            amount.label("amount"),
        ).where(c.organization_id == organization_id, condition)

    def counted(col: Any) -> Any:
        return case((col.is_(None), 0), else_=1)

    city = func.coalesce(c.city, none)
    parts = [
        row("stage", c.stage, one, nothing, live),
        row("source", c.source, one, nothing, live),
        row("priority", c.priority, one, nothing, live),
        row("score", cast(c.lead_score, String(12)), one, nothing, live),
        row("city", city, one, nothing, live),
        row(LISTED_STAGE, c.stage, one, nothing, listed),
        row("listed_source", c.source, one, nothing, listed),
        row("listed_city", city, one, nothing, listed),
        row(
            "deal",
            none,
            counted(c.total_deal_value),
            func.coalesce(c.total_deal_value, 0),
            live,
        ),
        row(
            "revenue",
            none,
            counted(c.expected_revenue),
            func.coalesce(c.expected_revenue, 0),
            live,
        ),
        row("interactions", none, one, c.total_interactions, live),
        row("response", none, counted(c.response_rate), func.coalesce(c.response_rate, 0), live),
        row("property_type", f.value, one, nothing, listed)
        .select_from(t.customers.join(t.customer_facets, f.customer_id == c.id))
        .where(f.kind == "property_type"),
    ]
    contacted = c.last_contact_at
    parts.append(
        row(CONTACT_DAY, UtcDay(contacted), one, nothing, and_(live, contacted.is_not(None)))
    )
    first = first_closes(organization_id)
    closed_at = first.c.closed_at
    parts.append(
        row(
            "closed",
            UtcDay(closed_at),
            one,
            Epoch(closed_at) - Epoch(c.created_at),
            live,
        ).select_from(t.customers.join(first, first.c.customer_id == c.id))
    )
    return union_all(*parts).subquery("contributions")


def first_closes(organization_id: str) -> Any:
    """Each customer's first close (entry into closing or post_sale), a subquery."""
    h = t.stage_history.c
    return (
        select(h.customer_id, func.min(h.changed_at).label("closed_at"))
        .where(h.organization_id == organization_id, text(t.CLOSED_STAGES_SQL))
        .group_by(h.customer_id)
        .subquery("closes")
    )


class UtcDay(FunctionElement[str]):
    """``YYYY-MM-DD``, the UTC date of a timestamp, as the triggers of migrations 0016 and
    0020 write the values of the ``closed`` and ``contact_day`` dimensions."""

    type = String()
    name = "utc_day"
    inherit_cache = True


compile_by_dialect(
    UtcDay,
    postgresql="to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
    sqlite="substr({}, 1, 10)",  # stored as UTC text
)


async def rebuild_customer_counters(connection: AsyncConnection, organization_id: str) -> None:
    """Replace the organization's customer counters by a count of its rows (one DELETE, one
    grouped INSERT … SELECT). On PostgreSQL the customer tables are locked against writes
    (``SHARE`` mode) until the caller's transaction ends, so no write falls between the two."""
    if connection.dialect.name == "postgresql":
        await connection.execute(
            text("LOCK TABLE customers, customer_facets, stage_history IN SHARE MODE")
        )
    table = customer_counters
    await fold_into(connection, table, organization_id, _customer_contributions(organization_id))


async def fold_into(
    connection: AsyncConnection, table: Table, organization_id: str, contributions: Any
) -> None:
    """Replace the organization's rows of ``table`` by ``contributions`` (a subquery with the
    table's columns) summed per key."""
    keys, sums = key_columns(table), sum_columns(table)
    await connection.execute(delete(table).where(table.c.organization_id == organization_id))
    grouped = (
        select(
            *(contributions.c[col.name] for col in keys),
            *(func.sum(contributions.c[col.name]).label(col.name) for col in sums),
        )
        .group_by(*(contributions.c[col.name] for col in keys))
        .having(or_(*(func.sum(contributions.c[col.name]) != 0 for col in sums)))
    )
    names = [col.name for col in (*keys, *sums)]
    await connection.execute(insert(table).from_select(names, grouped))


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection in a write transaction (``BEGIN IMMEDIATE`` on SQLite, as units of work
    take it), committed when the block ends without an error."""
    async with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            await conn.begin()
        try:
            yield conn
        except BaseException:
            await conn.rollback()
            raise
        await conn.commit()


async def recount_all(engine: AsyncEngine, organization_id: str | None = None) -> list[str]:
    """Rebuild every counter of ``organization_id`` (every organization with customers when
    None) from a scan, one transaction per organization; the organizations rebuilt — none for
    an organization without employees, customers or counters (a mistyped id)."""
    c = t.customers.c
    async with engine.connect() as conn:
        if organization_id is None:
            found = select(c.organization_id).distinct().order_by(c.organization_id)
            organizations = list((await conn.execute(found)).scalars())
        else:
            known = or_(
                *(
                    select(literal(1)).where(table.c.organization_id == organization_id).exists()
                    for table in (t.employees, t.customers, t.customer_counters, t.action_counters)
                )
            )
            found_any = bool(await conn.scalar(select(known)))
            organizations = [organization_id] if found_any else []
    for org in organizations:
        async with write_transaction(engine) as conn:
            if conn.dialect.name == "postgresql":
                # A rebuild scans the whole organization: the request timeout of the engine's
                # sessions (engine.DbTimeouts) is not meant for it.
                await conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
            await rebuild_customer_counters(conn, org)
            await rebuild_action_counters(conn, org)
    return organizations

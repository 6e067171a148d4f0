"""Fixed read statements sent together: one round trip on PostgreSQL, one after another elsewhere.

A list page's relations (stage history, interests) and its assignees are three statements that
depend only on the page's rows, not on one another. Through SQLAlchemy each is a round trip of
its own (a send, a wake-up of the server, a wait); on PostgreSQL :func:`read_all` sends them in
psycopg's pipeline mode on the connection's own driver connection and reads the three results
after one flush — measured in process on the benchmark's list (``docs/benchmarks.md``) ≈ 1 ms
less a request, wall and CPU.

The rows are what SQLAlchemy would return: each statement is compiled once by the connection's
dialect (the very SQL text ``conn.execute`` sends), its parameters go through the statement's
bind processors, and each column's value through the result processor SQLAlchemy would apply
for that column's type and the driver's type code; a row is a ``dict`` by the same keys as the
``RowMapping`` (``tests/integration/test_pipelined.py`` compares them on both databases). The
engine's ``before_cursor_execute``/``after_cursor_execute`` listeners still see each statement
(with no execution context). A failure arrives as psycopg's own error, not wrapped in
SQLAlchemy's ``DBAPIError`` (:func:`~customers_hub.adapters.sql.engine.is_database_unavailable`
reads both; a broken connection is found by the pool's pre-ping at its next checkout). Only
fixed ``SELECT`` statements go through here; SQLite, which has no round trip to save, executes
them one by one through SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import psycopg
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["read_all"]

Rows = list[Mapping[str, Any]]

_PIPELINES: Final = psycopg.AsyncPipeline.is_supported()
"""Whether the libpq psycopg runs on has pipeline mode (14 or later); without it the statements
go one by one, as on SQLite."""

_compiled: Final[dict[tuple[int, str], tuple[Select[Any], SQLCompiler]]] = {}
"""Compiled forms by (statement's id, dialect's name); the statement is kept with its form, so
its id is never reused while the entry lives. Only fixed, module-level statements come here."""


def _compile(statement: Select[Any], conn: AsyncConnection) -> SQLCompiler:
    key = (id(statement), conn.dialect.name)
    found = _compiled.get(key)
    if found is None:
        compiled = statement.compile(dialect=conn.dialect)
        found = _compiled[key] = (statement, compiled)
    return found[1]


def _bound(compiled: SQLCompiler, params: Mapping[str, Any]) -> dict[str, Any]:
    processors: Mapping[str, Any] = compiled._bind_processors
    return {
        name: processors[name](value) if name in processors else value
        for name, value in params.items()
    }


async def read_all(
    conn: AsyncConnection, statements: Sequence[tuple[Select[Any], Mapping[str, Any]]]
) -> list[Rows]:
    """The rows of each (statement, parameters), in order: on PostgreSQL in one pipeline (one
    round trip); elsewhere executed one by one. Each statement must be a fixed ``SELECT``."""
    if conn.dialect.name != "postgresql" or not _PIPELINES:
        return [list((await conn.execute(s, p)).mappings()) for s, p in statements]
    sync = conn.sync_connection
    assert sync is not None  # an open AsyncConnection has its sync side
    dialect = conn.dialect
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None
    events = sync._has_events or sync.engine._has_events  # as SQLAlchemy's own execute checks
    sent = []
    async with driver.pipeline():
        for statement, params in statements:
            compiled = _compile(statement, conn)
            sql, bound = compiled.string, _bound(compiled, params)
            cursor = driver.cursor()
            if events:
                sync.dispatch.before_cursor_execute(sync, cursor, sql, bound, None, False)
            await cursor.execute(sql, bound)
            sent.append((compiled, cursor, sql, bound))
        out: list[Rows] = []
        for compiled, cursor, sql, bound in sent:
            rows = await cursor.fetchall()
            if events:
                sync.dispatch.after_cursor_execute(sync, cursor, sql, bound, None, False)
            # What SQLAlchemy's result applies: each column type's processor for the driver's
            # type code of that column (the type memo makes each lookup a dict hit); most
            # columns have none, so a row is the driver's values zipped with the keys, and only
            # the few processed columns (timestamps) are replaced.
            keys = [key for key, _name, _objects, _type in compiled._result_columns]
            processed = [
                (i, key, process)
                for i, ((key, _name, _objects, type_), described) in enumerate(
                    zip(compiled._result_columns, cursor.description or (), strict=True)
                )
                if (process := type_._cached_result_processor(dialect, described.type_code))
                is not None
            ]
            read: Rows = []
            for row in rows:
                values = dict(zip(keys, row, strict=True))
                for i, key, process in processed:
                    values[key] = process(row[i])
                read.append(values)
            out.append(read)
    return out

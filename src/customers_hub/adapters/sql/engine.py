"""Engines from plain database URLs, for SQLite (aiosqlite) and PostgreSQL (psycopg 3).

``sqlite:///path/hub.db`` and ``postgresql://user@host:port/db`` are accepted as users write
them; the async driver is chosen here. SQLite gets foreign keys, WAL and a busy timeout;
PostgreSQL gets a connection pool with pre-ping so a restarted server is survived.

Every wait on PostgreSQL is bounded (:class:`DatabaseTimeouts`): connecting, waiting for a
pooled connection, one statement, and a silent network (TCP keepalives and
``tcp_user_timeout``), so a request never hangs on an unreachable database: it fails, and
:func:`is_database_unavailable` tells the HTTP edge to answer 503 rather than 500.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from typing import Any, Final

import msgspec
import psycopg
from attrs import frozen
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from customers_hub.adapters.sql.tables import metadata

_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
}


def async_url(url: str) -> str:
    """The SQLAlchemy async URL for a plain ``sqlite://`` or ``postgresql://`` URL."""
    parsed = make_url(url)
    backend = parsed.drivername.split("+", 1)[0]
    if backend not in _DRIVERS:
        raise ValueError(f"unsupported database URL scheme {parsed.drivername!r}")
    return parsed.set(drivername=_DRIVERS[backend]).render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    """True for a SQLite URL."""
    return make_url(url).drivername.startswith("sqlite")


def json_loads(text: str | bytes) -> Any:
    """A JSON column's value: msgspec's decoder (about 4x the standard library's on the small
    objects stored here), the standard library's for what msgspec refuses (a number beyond a
    double, such as ``1e400``), so values are exactly ``json.loads``'s."""
    try:
        return msgspec.json.decode(text)
    except msgspec.MsgspecError:
        return json.loads(text)


@frozen
class DatabaseTimeouts:
    """How long PostgreSQL may keep a request waiting (seconds; SQLite ignores them).

    ``connect``: opening a connection (a stopped server refuses at once; an unreachable host
    waits this long). ``pool``: waiting for a pooled connection when all are checked out.
    ``statement``: one SQL statement, enforced by the server (``statement_timeout``; 0 = none);
    above the slowest read measured at a million customers (action statistics, ~3 s).
    ``network``: a connection whose server went silent (no answer, no reset: a partition) is
    given up after this long (``tcp_user_timeout`` and TCP keepalives).
    """

    connect: float = 5.0
    pool: float = 5.0
    statement: float = 30.0
    network: float = 15.0


def _postgres_connect_args(timeouts: DatabaseTimeouts) -> dict[str, Any]:
    # JIT compilation costs more than it saves on these short aggregate queries
    # (measured: customer stats 1.40 s -> 1.18 s, action stats 3.2 s -> 2.5 s at 1M rows).
    options = "-c jit=off"
    if timeouts.statement > 0:
        options += f" -c statement_timeout={int(timeouts.statement * 1000)}"
    network = max(1, int(timeouts.network))
    return {
        "options": options,
        "connect_timeout": max(1, round(timeouts.connect)),  # libpq takes whole seconds
        "keepalives": 1,
        "keepalives_idle": max(1, network // 3),
        "keepalives_interval": max(1, network // 6),
        "keepalives_count": 3,
        "tcp_user_timeout": network * 1000,
    }


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    echo: bool = False,
    timeouts: DatabaseTimeouts | None = None,
) -> AsyncEngine:
    """An async engine for ``url`` (plain or driver-qualified); PostgreSQL's waits bounded by
    ``timeouts`` (:class:`DatabaseTimeouts` defaults when ``None``)."""
    target = async_url(url)
    kwargs: dict[str, Any] = {"echo": echo, "json_deserializer": json_loads}
    if is_sqlite(url):
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_SECONDS}
    else:
        bounds = timeouts or DatabaseTimeouts()
        kwargs.update(
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_timeout=bounds.pool,
            connect_args=_postgres_connect_args(bounds),
        )
    engine = create_async_engine(target, **kwargs)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        ping_when_idle(engine, PING_AFTER_IDLE)
    return engine


PING_AFTER_IDLE: Final = 1.0
"""Seconds a pooled PostgreSQL connection may rest before it is pinged at its next checkout."""


def ping_when_idle(engine: AsyncEngine, idle: float) -> None:
    """Ping a pooled connection before use when it rested more than ``idle`` seconds.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout: a round trip a request (a busy
    service checks a connection out again within milliseconds). A connection that died with a
    restarted server is still replaced before use when it rested — the usual case: a restart
    takes seconds —; one checked in less than ``idle`` seconds before the restart fails its
    statement instead, which is a 503 (``is_database_unavailable``), and SQLAlchemy then
    replaces every pooled connection older than the failure. A failed ping replaces the whole
    pool, as ``pool_pre_ping`` does.
    """
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:  # None: a connection detached from the pool
            record.info[_RESTING_SINCE] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        # The record's info is cleared with its connection: a new one has no mark (and needs
        # no ping: it was just opened).
        since = record.info.pop(_RESTING_SINCE, None)
        if since is None or time.monotonic() - since <= idle:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:  # any failure: the connection is not usable
            raise sa_exc.InvalidatePoolError(f"ping after {idle} s at rest failed") from error

    event.listen(pool, "checkin", checked_in)
    event.listen(pool, "checkout", checked_out)


_RESTING_SINCE: Final = "customers_hub.resting_since"


SQLITE_BUSY_SECONDS: Final = 30.0
"""How long SQLite waits for another connection's lock (the busy timeout), and how long a new
connection retries putting the file in WAL mode."""


def _wal_mode(cursor: Any) -> None:
    # SQLite may refuse the journal-mode change (or its read while another connection recovers
    # the WAL) with "database is locked" at once, without its busy handler: several workers
    # opening one file together. Retried within the busy timeout; any other error is raised.
    deadline = time.monotonic() + SQLITE_BUSY_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if not str(error).startswith(_SQLITE_BUSY) or time.monotonic() >= deadline:
                raise
        time.sleep(0.05)  # a new connection only; it holds no lock meanwhile


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    _wal_mode(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")
    # Rules §8 erasure: overwrite deleted and replaced content with zeros, so an erased
    # customer's old values do not linger in free space of the file (adapters/sql/erasure.py).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


_OUTAGE_SQLSTATE_CLASSES: Final = frozenset({"08", "53", "57", "58"})
"""SQLSTATE classes of a database that cannot serve now, not of a wrong request: connection
exception, insufficient resources (too many connections, out of memory or disk), operator
intervention (shutting down, starting up, statement timeout, cancelled) and system error."""

_SQLITE_BUSY: Final = ("database is locked", "database is busy")


def _causes(error: BaseException) -> Iterator[BaseException]:
    # Explicit causes only (``raise … from``): an error raised while handling an outage is not
    # itself an outage.
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 8:
        yield current
        if isinstance(current, sa_exc.DBAPIError) and current.orig is not None:
            yield current.orig
        current = current.__cause__
        seen += 1


def is_database_unavailable(error: BaseException) -> bool:
    """True when ``error`` says the database cannot be reached or cannot serve right now —
    the request may succeed if retried later — rather than that the request or the code is wrong.

    Outages: a connection SQLAlchemy invalidated (the server went away mid-request), a pool
    checkout that timed out, a psycopg failure with no SQLSTATE (connection refused, reset,
    timed out, closed) or one of :data:`_OUTAGE_SQLSTATE_CLASSES`, SQLite's busy/locked, a
    refused or reset socket. Not outages: constraint violations, syntax errors, a missing table,
    anything else — those stay what they are (409, 500, …).
    """
    for cause in _causes(error):
        if isinstance(cause, sa_exc.DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, sa_exc.TimeoutError):  # waiting for a pooled connection
            return True
        if isinstance(cause, psycopg.OperationalError):
            state = cause.sqlstate
            return state is None or state[:2] in _OUTAGE_SQLSTATE_CLASSES
        if isinstance(cause, psycopg.InterfaceError):
            return "closed" in str(cause) or "lost" in str(cause)
        if isinstance(cause, sqlite3.OperationalError):
            return str(cause).startswith(_SQLITE_BUSY)
        if isinstance(cause, ConnectionError):
            return True
    return False


async def create_schema(engine: AsyncEngine) -> None:
    """Create every table directly (tests; production runs the Alembic migrations)."""
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)


async def drop_schema(engine: AsyncEngine) -> None:
    """Drop every table (tests)."""
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)

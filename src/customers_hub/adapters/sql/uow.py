"""The SQL unit of work: one connection, one transaction, every repository on it.

On PostgreSQL the transaction is a plain ``BEGIN`` (read committed); the repositories' versioned
UPDATEs and ``SELECT … FOR UPDATE`` keep concurrent writers from losing updates.

On SQLite a unit of work that may write starts with ``BEGIN IMMEDIATE``: it takes the
database's write lock up front (waiting up to the busy timeout for another writer). A deferred
transaction that read first and then tried to write would fail at once with "database is locked"
whenever another writer committed in between — SQLite cannot upgrade a stale read snapshot — so
writers are serialized instead.

A *read-only* unit of work (``uow_factory(read_only=True)``, what the read use cases open)
starts a plain deferred ``BEGIN`` instead: it takes no write lock, so under WAL it reads the last
committed state at once while a writer works — readers never queue behind writers. It cannot
commit (:meth:`SqlUnitOfWork.commit` raises), and whatever it might have written is rolled back
on exit. On PostgreSQL both kinds are a plain ``BEGIN``.
"""

from __future__ import annotations

from types import TracebackType
from typing import Final, Self
from zoneinfo import ZoneInfo

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from customers_hub.adapters.sql.appointments import SqlAppointmentBook
from customers_hub.adapters.sql.mappers import DEFAULT_TIME_ZONE
from customers_hub.adapters.sql.repositories import (
    ChangeLog,
    SqlActionRepository,
    SqlCustomerRepository,
    SqlEmployeeRepository,
    SqlOrganizationSettingsRepository,
    SqlPropertyCatalog,
    SqlRelationRepository,
)
from customers_hub.application.errors import ConcurrentUpdate
from customers_hub.application.ports import UnitOfWork

__all__ = ["SqlUnitOfWork", "SqlUnitOfWorkFactory"]


RETRYABLE_STATES: Final = frozenset({"40P01", "40001"})
"""SQLSTATEs after which a whole transaction may simply run again: deadlock detected (the
counter triggers lock a written action's customer, so a customer write and a write of its
actions can meet in either order) and serialization failure."""


class SqlUnitOfWork(UnitOfWork):
    """One transaction shared by the repositories; rolled back on exit unless committed.

    ``read_only`` units of work take no write lock on SQLite and refuse to commit. The port
    declares the repositories' types, so mypy checks that each SQL repository implements its
    port (Protocol attributes are invariant).
    """

    def __init__(
        self, engine: AsyncEngine, tz: ZoneInfo = DEFAULT_TIME_ZONE, *, read_only: bool = False
    ) -> None:
        self._engine = engine
        self._tz = tz
        self.read_only = read_only
        self._conn: AsyncConnection | None = None
        # Every repository write of this unit of work (the audit trail's input at commit).
        self.change_log = ChangeLog()

    @property
    def connection(self) -> AsyncConnection:
        """The transaction's connection (for adapters that join the same transaction)."""
        if self._conn is None:
            raise RuntimeError("the unit of work is not entered")
        return self._conn

    async def __aenter__(self) -> Self:
        """Open a connection and begin the transaction."""
        if self._conn is not None:
            raise RuntimeError("a unit of work is entered once")
        conn = await self._engine.connect()
        try:
            if conn.dialect.name == "sqlite":
                # The driver opens no transaction of its own before this statement; from here
                # on it sees one open and leaves BEGIN to us (see the module docstring).
                await conn.exec_driver_sql("BEGIN" if self.read_only else "BEGIN IMMEDIATE")
            else:
                await conn.begin()
        except BaseException:
            await conn.close()
            raise
        self._conn = conn
        log = self.change_log
        self.customers = SqlCustomerRepository(conn, log)
        self.actions = SqlActionRepository(conn, log)
        self.employees = SqlEmployeeRepository(conn, log)
        self.relations = SqlRelationRepository(conn, self._tz, log)
        self.properties = SqlPropertyCatalog(conn)
        self.organization_settings = SqlOrganizationSettingsRepository(conn, log)
        self.appointments = SqlAppointmentBook(conn)
        return self

    async def commit(self) -> None:
        """Make the transaction's writes durable (never for a read-only unit of work)."""
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        await self.connection.commit()

    async def rollback(self) -> None:
        """Discard the transaction's writes."""
        await self.connection.rollback()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed and give the connection back."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if conn.in_transaction():
                await conn.rollback()
        finally:
            await conn.close()
        state = getattr(getattr(exc, "orig", None), "sqlstate", None)
        if isinstance(exc, DBAPIError) and state in RETRYABLE_STATES:
            # PostgreSQL chose this transaction as a deadlock's (or a serialization
            # conflict's) victim: nothing of it was written, so the runner may run it again.
            raise ConcurrentUpdate("transaction", str(state)) from exc


class SqlUnitOfWorkFactory:
    """Makes a fresh :class:`SqlUnitOfWork` per use-case call."""

    def __init__(self, engine: AsyncEngine, tz: ZoneInfo = DEFAULT_TIME_ZONE) -> None:
        self.engine = engine
        self.tz = tz

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        """A new, not yet entered, unit of work (``read_only``: see the module docstring)."""
        return SqlUnitOfWork(self.engine, self.tz, read_only=read_only)

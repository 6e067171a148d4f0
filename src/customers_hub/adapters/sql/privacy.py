"""Consents and data-subject requests in SQL (rules §8; tables of migration 0009).

* ``consent_events`` is the append-only ledger; ``customer_consents`` holds the last entry per
  (customer, channel), upserted in the same transaction, so the current state is one primary-key
  range read and the list filter ``consent=<channel>`` an index-only EXISTS per customer
  (``filters.conditions.consent_granted``).
* ``privacy_requests`` rows carry a ``version``: a status change or an extension is a versioned
  UPDATE (no lost update).

Each write is recorded in the unit of work's change log, so the audit commit hook writes its
entries (``consent.changed``, ``privacyRequest.created`` / ``.updated``) like any other write's.
Rows and records share their names: the conversions are by name (a new field needs a column of
the same name; the round trips of ``tests/integration/test_privacy_sql.py`` catch a lost one).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

import attrs
from sqlalchemy import ColumnElement, Table, and_, func, not_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from customers_hub.adapters.sql.dialect import literal_rows
from customers_hub.adapters.sql.mappers.rows import from_row, row_values
from customers_hub.adapters.sql.offset_pages import offset_page
from customers_hub.adapters.sql.repositories.base import ChangeLog, _insert, _update_versioned
from customers_hub.adapters.sql.tables import (
    consent_events,
    customer_actions,
    customer_consents,
    customers,
    privacy_requests,
)
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.ports_privacy import RequestFilter
from customers_hub.application.queries import Page
from customers_hub.domain.audit import EntityType, Write
from customers_hub.domain.privacy import (
    OPEN_STATUSES,
    ConsentChannel,
    ConsentEntry,
    PrivacyRequest,
    PrivacyRequestStats,
)

__all__ = ["SqlPrivacyRepository", "sql_privacy_repository"]

_C = customer_consents
_E = consent_events
_R = privacy_requests
_OPEN: Final = sorted(s.value for s in OPEN_STATUSES)


# Columns and fields of the same name by one step (mappers.rows). A current consent row is
# read as its ``consent_events`` entry (its ``entry_id`` selected as ``id``).


def _consent(row: RowMapping) -> ConsentEntry:
    return from_row(ConsentEntry, _E, row)


def _request(row: RowMapping) -> PrivacyRequest:
    return from_row(PrivacyRequest, _R, row)


def _request_values(request: PrivacyRequest) -> dict[str, Any]:
    return row_values(request, _R)


class SqlPrivacyRepository:
    """The privacy port on one connection (the unit of work's)."""

    def __init__(self, connection: AsyncConnection, log: ChangeLog | None = None) -> None:
        self._conn = connection
        self._log = log if log is not None else ChangeLog()

    async def _customer(self, organization_id: str, customer_id: str, *, lock: bool) -> bool:
        query = select(customers.c.id).where(
            customers.c.organization_id == organization_id, customers.c.id == customer_id
        )
        if lock and self._conn.dialect.name == "postgresql":
            query = query.with_for_update()  # SQLite: the writer holds the database lock
        return (await self._conn.scalar(query)) is not None

    async def lock_customer(self, organization_id: str, customer_id: str) -> bool:
        """Lock the customer's row (PostgreSQL ``FOR UPDATE``); False when absent."""
        return await self._customer(organization_id, customer_id, lock=True)

    async def customer_exists(self, organization_id: str, customer_id: str) -> bool:
        """True when the organization holds the customer (soft-deleted ones count)."""
        return await self._customer(organization_id, customer_id, lock=False)

    # --- consents ------------------------------------------------------------------------------

    async def current_consents(
        self, organization_id: str, customer_id: str
    ) -> dict[ConsentChannel, ConsentEntry]:
        """The current rows of the customer (a primary-key range read)."""
        rows = await self._conn.execute(
            select(_C.c.entry_id.label("id"), *(c for c in _C.c if c.name != "entry_id")).where(
                _C.c.customer_id == customer_id, _C.c.organization_id == organization_id
            )
        )
        current = {entry.channel: entry for entry in map(_consent, rows.mappings())}
        # In the channels' declared order, whatever order the rows came in.
        return {channel: current[channel] for channel in ConsentChannel if channel in current}

    async def consent_history(
        self, organization_id: str, customer_id: str, limit: int
    ) -> list[ConsentEntry]:
        """Newest first: a backward range scan of ``ix_consent_events_customer_at``."""
        rows = await self._customer_newest(_E, "at", organization_id, customer_id, limit)
        return [_consent(r) for r in rows]

    async def append_consents(self, entries: Sequence[ConsentEntry]) -> None:
        """One INSERT of the entries and one upsert of the current rows."""
        if not entries:
            return
        rows = [row_values(entry, _E) for entry in entries]
        await self._conn.execute(_E.insert(), rows)
        keys = ("customer_id", "channel")
        current = [{("entry_id" if k == "id" else k): v for k, v in row.items()} for row in rows]
        stmt = _insert(self._conn, _C)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: stmt.excluded[name] for name in current[0] if name not in keys},
        )
        await self._conn.execute(stmt, current)
        for entry in entries:
            self._log.record(
                Write.INSERT,
                EntityType.CONSENT,
                entry.organization_id,
                entry.id,
                entry.customer_id,
                None,
                entry,
            )

    # --- requests ------------------------------------------------------------------------------

    async def add_request(self, request: PrivacyRequest) -> None:
        """Insert the request."""
        await self._conn.execute(_R.insert().values(_request_values(request)))
        self._log.record(
            Write.INSERT,
            EntityType.PRIVACY_REQUEST,
            request.organization_id,
            request.id,
            request.customer_id,
            None,
            request,
        )

    async def get_request(
        self, organization_id: str, request_id: str, *, for_update: bool = False
    ) -> PrivacyRequest | None:
        """The request of the organization, or None."""
        query = select(_R).where(_R.c.id == request_id, _R.c.organization_id == organization_id)
        if for_update and self._conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await self._conn.execute(query)).mappings().first()
        return _request(row) if row is not None else None

    async def save_request(self, request: PrivacyRequest, *, expected_version: int) -> None:
        """A versioned UPDATE; :class:`ConcurrentUpdate` when the version moved on."""
        before = await self.get_request(request.organization_id, request.id)
        values = _request_values(request)
        values["version"] = expected_version + 1
        await _update_versioned(
            self._conn,
            _R,
            values,
            kind="privacy_request",
            organization_id=request.organization_id,
            record_id=request.id,
            expected_version=expected_version,
            written_once=("id", "organization_id", "customer_id", "created_at", "created_by"),
        )
        self._log.record(
            Write.UPDATE,
            EntityType.PRIVACY_REQUEST,
            request.organization_id,
            request.id,
            request.customer_id,
            before,
            attrs.evolve(request, version=expected_version + 1),
        )

    async def _customer_newest(
        self, table: Table, newest: str, organization_id: str, customer_id: str, limit: int
    ) -> Sequence[RowMapping]:
        """The customer's ``limit`` newest rows of ``table`` by ``newest`` (then id): one
        backward range scan of the ``(customer_id, newest, id)`` index."""
        c = table.c
        rows = await self._conn.execute(
            select(table)
            .where(c.customer_id == customer_id, c.organization_id == organization_id)
            .order_by(c[newest].desc(), c.id.desc())
            .limit(literal_rows(limit))
        )
        return rows.mappings().all()

    @staticmethod
    def _where(organization_id: str, where: RequestFilter) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [_R.c.organization_id == organization_id]
        if where.statuses:
            conditions.append(_R.c.status.in_([s.value for s in where.statuses]))
        if where.types:
            conditions.append(_R.c.type.in_([t.value for t in where.types]))
        if where.customer_id is not None:
            conditions.append(_R.c.customer_id == where.customer_id)
        open_ = _R.c.status.in_(_OPEN)
        overdue = and_(open_, _R.c.due_at < where.now)
        soon = and_(open_, _R.c.due_at >= where.now, _R.c.due_at <= where.due_soon_until)
        for wanted, expr in ((where.overdue, overdue), (where.due_soon, soon)):
            if wanted is not None:
                conditions.append(expr if wanted else not_(expr))
        return conditions

    async def list_requests(
        self, organization_id: str, where: RequestFilter, *, page: int, limit: int
    ) -> Page[PrivacyRequest]:
        """Newest received first (``ix_privacy_requests_org_received``), with the total."""
        conditions = self._where(organization_id, where)
        query = select(_R).where(*conditions).order_by(_R.c.received_at.desc(), _R.c.id.desc())
        return await offset_page(
            self._conn, query, lambda r: _request(r._mapping), page=page, limit=limit
        )

    async def customer_requests(
        self, organization_id: str, customer_id: str, limit: int
    ) -> list[PrivacyRequest]:
        """Newest received first (``ix_privacy_requests_customer_received``)."""
        rows = await self._customer_newest(_R, "received_at", organization_id, customer_id, limit)
        return [_request(r) for r in rows]

    async def customer_action_ids(
        self, organization_id: str, customer_id: str, limit: int
    ) -> list[str]:
        """Oldest first, by ``ix_actions_org_customer``."""
        a = customer_actions.c
        rows = await self._conn.execute(
            select(a.id)
            .where(a.organization_id == organization_id, a.customer_id == customer_id)
            .order_by(a.created_at, a.id)
            .limit(literal_rows(limit))
        )
        return [str(i) for i in rows.scalars()]

    async def request_stats(
        self, organization_id: str, now: datetime, due_soon_until: datetime
    ) -> PrivacyRequestStats:
        """One aggregate over the open requests (``ix_privacy_requests_org_status_due``)."""
        row = (
            await self._conn.execute(
                select(
                    func.count(),
                    func.count().filter(_R.c.due_at < now),
                    func.count().filter(and_(_R.c.due_at >= now, _R.c.due_at <= due_soon_until)),
                ).where(_R.c.organization_id == organization_id, _R.c.status.in_(_OPEN))
            )
        ).one()
        return PrivacyRequestStats(open=row[0], overdue=row[1], due_soon=row[2])


def sql_privacy_repository(uow: UnitOfWork) -> SqlPrivacyRepository:
    """The :class:`~customers_hub.application.ports_privacy.PrivacyRepositoryFactory` of SQL
    units of work (joins the unit of work's transaction and change log)."""
    connection: AsyncConnection = getattr(uow, "connection")  # noqa: B009 - SQL units only
    log: ChangeLog | None = getattr(uow, "change_log", None)
    return SqlPrivacyRepository(connection, log)

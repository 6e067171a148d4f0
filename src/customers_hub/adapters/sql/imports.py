"""Import jobs, their report and the set-based writes of an import batch, in SQL.

:class:`SqlImportRepository` works on a unit of work's connection (so a batch's customers,
report lines, progress and the commit hooks' outbox and audit rows share one transaction), and
records what it writes in the unit of work's change log (one audit entry per created or
updated customer, appended by the audit hook with one multi-row INSERT).

Statements per batch, whatever its size (multi-row INSERT pages of one cached statement, see
:func:`_insert_many`): one ``UNION ALL`` lookup of the batch's duplicate keys (each branch an
index seek: the live-phone, WhatsApp, national id and e-mail indexes of revision 0003);
multi-row INSERTs of the customers, their stage history entries, their facets and the report
lines; for updates, one locking SELECT, one ``executemany`` UPDATE and the facets'
DELETE + INSERT; one UPDATE of the job (progress and heartbeat, guarded by the lease owner).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import attrs
from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    delete,
    func,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from customers_hub.adapters.sql import mappers, tables
from customers_hub.adapters.sql.dialect import literal_rows
from customers_hub.adapters.sql.mappers.rows import from_row, row_values
from customers_hub.adapters.sql.offset_pages import counted_page
from customers_hub.adapters.sql.pagination import check_page
from customers_hub.adapters.sql.repositories import ChangeLog, SqlCustomerRepository
from customers_hub.adapters.sql.repositories.base import _customer_integrity, _is_postgres
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.ports_imports import ExistingCustomer
from customers_hub.application.queries import Page, PageRequest
from customers_hub.domain.audit import EntityType, Write
from customers_hub.domain.imports import (
    ImportCounts,
    ImportJob,
    ImportStatus,
    RowError,
)
from customers_hub.domain.model import Customer

__all__ = ["SqlImportRepository", "sql_import_repository"]

_J = tables.import_jobs
_E = tables.import_errors
_C = tables.customers
_H = tables.stage_history
_F = tables.customer_facets
_EMP = tables.employees

_FROZEN_ON_UPDATE: Final = ("id", "organization_id", "created_at")


async def _insert_many(
    conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, object]]
) -> None:
    """Multi-row INSERTs of ``rows``: with ``RETURNING``, SQLAlchemy's "insertmanyvalues"
    sends ``INSERT … VALUES (…), (…), …`` pages (1,000 rows, and under SQLite's 32,766 bound
    parameters) of one compiled, cached statement — a ``.values([...])`` list would be
    compiled again for every batch, which costs more than the database's work."""
    if rows:
        first_key = next(iter(table.primary_key.columns))
        await conn.execute(table.insert().returning(first_key), list(rows))


# Columns and fields of the same name by one step (mappers.rows); the exceptions are the
# mapping (a JSON object: its integer keys are text) and the counts (a column each).


def _job_values(job: ImportJob) -> dict[str, object]:
    return row_values(
        job,
        _J,
        mapping={str(i): key for i, key in sorted(job.mapping.items())},
        **attrs.asdict(job.counts),
    )


def _job(row: RowMapping) -> ImportJob:
    counts = ImportCounts(**{f.name: row[f.name] for f in attrs.fields(ImportCounts)})
    mapping = {int(i): key for i, key in row["mapping"].items()}
    return from_row(ImportJob, _J, row, mapping=mapping, counts=counts)


class _ErrorBatches:
    """The report of a job in keyset batches of ``(row_number, seq)``."""

    def __init__(self, conn: AsyncConnection, organization_id: str, job_id: str, size: int):
        self._conn = conn
        self._where = (_E.c.organization_id == organization_id, _E.c.job_id == job_id)
        self._size = size
        self._after: tuple[int, int] | None = None
        self._done = False

    def __aiter__(self) -> _ErrorBatches:
        return self

    async def __anext__(self) -> list[RowError]:
        if self._done:
            raise StopAsyncIteration
        query = select(_E.c.row_number, _E.c.seq, _E.c.field, _E.c.message).where(*self._where)
        if self._after is not None:
            row, seq = self._after
            query = query.where(
                or_(_E.c.row_number > row, and_(_E.c.row_number == row, _E.c.seq > seq))
            )
        rows = (
            await self._conn.execute(
                query.order_by(_E.c.row_number, _E.c.seq).limit(literal_rows(self._size))
            )
        ).all()
        if len(rows) < self._size:
            self._done = True
        if not rows:
            raise StopAsyncIteration
        self._after = (rows[-1].row_number, rows[-1].seq)
        return [RowError(r.row_number, r.field, r.message) for r in rows]


class SqlImportRepository:
    """:class:`~customers_hub.application.ports_imports.ImportRepository` on one connection."""

    def __init__(self, conn: AsyncConnection, log: ChangeLog | None = None) -> None:
        self._conn = conn
        self._log = log if log is not None else ChangeLog()

    # --- jobs -------------------------------------------------------------------------------

    async def add_job(self, job: ImportJob) -> None:
        """Insert a new job."""
        await self._conn.execute(_J.insert().values(_job_values(job)))

    async def get_job(self, organization_id: str, job_id: str) -> ImportJob | None:
        """The job, or None when absent in this organization."""
        row = (
            (
                await self._conn.execute(
                    select(_J).where(_J.c.organization_id == organization_id, _J.c.id == job_id)
                )
            )
            .mappings()
            .first()
        )
        return _job(row) if row is not None else None

    async def claimable(self, now: datetime, limit: int) -> list[ImportJob]:
        """Queued jobs and running jobs whose lease expired, oldest first (index range scans
        of ``ix_import_jobs_status_created``)."""
        query = (
            select(_J)
            .where(
                or_(
                    _J.c.status == ImportStatus.QUEUED.value,
                    and_(
                        _J.c.status == ImportStatus.RUNNING.value,
                        or_(_J.c.lease_expires_at.is_(None), _J.c.lease_expires_at < now),
                    ),
                )
            )
            .order_by(_J.c.created_at, _J.c.id)
            .limit(literal_rows(limit))
        )
        return [_job(r) for r in (await self._conn.execute(query)).mappings()]

    async def claim(
        self, job: ImportJob, owner: str, now: datetime, lease_until: datetime
    ) -> ImportJob | None:
        """Take ``job`` if its status, lease and attempts are still those read."""
        guard = [
            _J.c.id == job.id,
            _J.c.status == job.status.value,
            _J.c.attempts == job.attempts,
        ]
        guard.append(
            _J.c.lease_owner.is_(None)
            if job.lease_owner is None
            else _J.c.lease_owner == job.lease_owner
        )
        result = await self._conn.execute(
            update(_J)
            .where(*guard)
            .values(
                status=ImportStatus.RUNNING.value,
                lease_owner=owner,
                lease_expires_at=lease_until,
                attempts=job.attempts + 1,
                started_at=func.coalesce(_J.c.started_at, now),
            )
        )
        if result.rowcount != 1:
            return None
        return await self.get_job(job.organization_id, job.id)

    async def save_progress(
        self,
        job: ImportJob,
        owner: str,
        *,
        status: ImportStatus,
        lease_until: datetime | None,
        finished_at: datetime | None = None,
        error: str | None = None,
    ) -> bool:
        """Counters, ``next_row``, status and lease, if ``owner`` still holds the lease."""
        counts = job.counts
        result = await self._conn.execute(
            update(_J)
            .where(_J.c.id == job.id, _J.c.lease_owner == owner)
            .values(
                status=status.value,
                processed=counts.processed,
                created=counts.created,
                updated=counts.updated,
                skipped=counts.skipped,
                failed=counts.failed,
                next_row=job.next_row,
                lease_owner=owner if lease_until is not None else None,
                lease_expires_at=lease_until,
                finished_at=finished_at,
                error=error,
            )
        )
        return result.rowcount == 1

    async def fail_job(self, job: ImportJob, error: str, now: datetime) -> None:
        """Mark ``job`` failed (and release its lease)."""
        await self._conn.execute(
            update(_J)
            .where(_J.c.id == job.id)
            .values(
                status=ImportStatus.FAILED.value,
                error=error[:500],
                lease_owner=None,
                lease_expires_at=None,
                finished_at=now,
            )
        )

    async def restart_job(self, job: ImportJob) -> None:
        """Counters, report and ``next_row`` back to the start."""
        await self._conn.execute(delete(_E).where(_E.c.job_id == job.id))
        await self._conn.execute(
            update(_J)
            .where(_J.c.id == job.id)
            .values(processed=0, created=0, updated=0, skipped=0, failed=0, next_row=0)
        )

    # --- the report -------------------------------------------------------------------------

    async def add_errors(self, job: ImportJob, errors: Sequence[RowError]) -> None:
        """Append report lines (numbered per row in the given order)."""
        seqs: dict[int, int] = {}
        rows: list[dict[str, object]] = []
        for error in errors:
            seq = seqs.get(error.row, 0) + 1
            seqs[error.row] = seq
            rows.append(
                {
                    "job_id": job.id,
                    "row_number": error.row,
                    "seq": seq,
                    "organization_id": job.organization_id,
                    "field": error.field[:100],
                    "message": error.message[:500],
                }
            )
        await _insert_many(self._conn, _E, rows)

    async def errors_page(
        self, organization_id: str, job_id: str, page: PageRequest
    ) -> Page[RowError]:
        """One page of the report by row then order (offset pages: the primary key's range)."""
        check_page(page)
        where = (_E.c.organization_id == organization_id, _E.c.job_id == job_id)
        offset = (page.page - 1) * page.limit
        rows = (
            await self._conn.execute(
                select(_E.c.row_number, _E.c.field, _E.c.message)
                .where(*where)
                .order_by(_E.c.row_number, _E.c.seq)
                .limit(literal_rows(page.limit))
                .offset(literal_rows(offset))
            )
        ).all()
        total = int(
            (
                await self._conn.execute(select(func.count()).select_from(_E).where(*where))
            ).scalar_one()
        )
        items = [RowError(r.row_number, r.field, r.message) for r in rows]
        return counted_page(items, page, total)

    def iter_errors(self, organization_id: str, job_id: str, batch: int) -> _ErrorBatches:
        """The whole report in keyset batches of ``batch`` lines."""
        return _ErrorBatches(self._conn, organization_id, job_id, batch)

    # --- the batch's customers --------------------------------------------------------------

    async def find_existing(
        self,
        organization_id: str,
        phones: Sequence[str],
        national_ids: Sequence[str],
        emails: Sequence[str],
    ) -> list[ExistingCustomer]:
        """Live customers with one of the keys: one ``UNION ALL`` whose every branch is an
        index seek of one key's partial index (``= ANY`` of the batch's values), joined to the
        assignee by its primary key for the manager; duplicates of the union are merged here."""
        c = _C.c
        lookups: list[ColumnElement[bool]] = []
        if phones:
            lookups += [c.phone.in_(phones), c.whatsapp.in_(phones)]
        if national_ids:
            lookups.append(c.national_id.in_(national_ids))
        if emails:
            lookups.append(c.email_key.in_(emails))
        if not lookups:
            return []
        assignee = and_(
            _EMP.c.organization_id == c.organization_id, _EMP.c.id == c.assigned_employee_id
        )
        columns = (
            c.id,
            c.phone,
            c.whatsapp,
            c.national_id,
            c.email_key,
            c.assigned_employee_id,
            _EMP.c.manager_id,
        )
        branches = [
            select(*columns)
            .select_from(_C.outerjoin(_EMP, assignee))
            .where(c.organization_id == organization_id, c.deleted_at.is_(None), lookup)
            for lookup in lookups
        ]
        found: dict[str, ExistingCustomer] = {}
        for r in (await self._conn.execute(union_all(*branches))).all():
            found.setdefault(
                r.id,
                ExistingCustomer(
                    id=r.id,
                    phone=r.phone,
                    whatsapp=r.whatsapp,
                    national_id=r.national_id,
                    email_key=r.email_key,
                    assigned_employee_id=r.assigned_employee_id,
                    assignee_manager_id=r.manager_id,
                ),
            )
        return list(found.values())

    async def insert_customers(self, customers: Sequence[Customer]) -> None:
        """Multi-row INSERTs of the customers, their history entries and facets."""
        if not customers:
            return
        history = [
            mappers.history_values(c.organization_id, c.id, seq, entry)
            for c in customers
            for seq, entry in enumerate(c.stage_history, start=1)
        ]
        facets = [row for c in customers for row in mappers.facet_rows(c)]
        try:
            await _insert_many(self._conn, _C, [mappers.customer_values(c) for c in customers])
            await _insert_many(self._conn, _H, history)
            await _insert_many(self._conn, _F, facets)
        except IntegrityError as error:
            raise _customer_integrity(error, customers[0].id) from error
        for customer in customers:
            self._log.record(
                Write.INSERT,
                EntityType.CUSTOMER,
                customer.organization_id,
                customer.id,
                customer.id,
                None,
                customer,
            )

    async def lock_customers(self, organization_id: str, ids: Sequence[str]) -> dict[str, Customer]:
        """The customers among ``ids``, locked (``FOR UPDATE`` on PostgreSQL; SQLite's unit of
        work holds the write lock already)."""
        if not ids:
            return {}
        if _is_postgres(self._conn):
            await self._conn.execute(
                select(literal(1))
                .select_from(_C)
                .where(_C.c.organization_id == organization_id, _C.c.id.in_(ids))
                .with_for_update()
            )
        return await SqlCustomerRepository(self._conn).get_many(organization_id, ids)

    async def update_customers(self, changes: Sequence[tuple[Customer, Customer]]) -> None:
        """One ``executemany`` UPDATE of the changed customers (versioned), then their facets
        (DELETE + multi-row INSERT). History and interests are not touched by an import."""
        if not changes:
            return
        rows: list[dict[str, Any]] = []
        for before, after in changes:
            values = mappers.customer_values(after)
            for key in _FROZEN_ON_UPDATE:
                values.pop(key)
            row = {f"v_{k}": v for k, v in values.items()}
            row.update(b_id=after.id, b_org=after.organization_id, b_version=before.version)
            rows.append(row)
        columns = [k.removeprefix("v_") for k in rows[0] if k.startswith("v_")]
        statement = (
            update(_C)
            .where(
                _C.c.id == bindparam("b_id"),
                _C.c.organization_id == bindparam("b_org"),
                _C.c.version == bindparam("b_version"),
            )
            .values({name: bindparam(f"v_{name}") for name in columns})
        )
        organization_id = changes[0][1].organization_id
        ids = [after.id for _, after in changes]
        try:
            await self._conn.execute(statement, rows)
            await self._conn.execute(
                delete(_F).where(_F.c.organization_id == organization_id, _F.c.customer_id.in_(ids))
            )
            facets = [row for _, after in changes for row in mappers.facet_rows(after)]
            await _insert_many(self._conn, _F, facets)
        except IntegrityError as error:
            raise _customer_integrity(error, ids[0]) from error
        for before, after in changes:
            self._log.record(
                Write.UPDATE,
                EntityType.CUSTOMER,
                after.organization_id,
                after.id,
                after.id,
                before,
                after,
            )


def sql_import_repository(uow: UnitOfWork) -> SqlImportRepository:
    """The :data:`~customers_hub.application.ports_imports.ImportRepositoryFactory` of SQL
    units of work: the repository on the unit's connection, logging into its change log."""
    connection: AsyncConnection = getattr(uow, "connection")  # noqa: B009 - SQL units only
    log: ChangeLog | None = getattr(uow, "change_log", None)
    return SqlImportRepository(connection, log)

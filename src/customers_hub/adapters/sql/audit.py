"""The audit trail in SQL: the commit hook that appends entries, and the log that reads them.

:class:`AuditCommitHook` is a :data:`~customers_hub.application.context.CommitHook`: just
before a write commits it turns the unit of work's change log (what each repository wrote,
before and after) and the exports among the events into entries
(:func:`customers_hub.domain.audit.entries_for`), stamps them with the write's author and
request id (:func:`customers_hub.application.write_context.current_write_context`) and appends
them with one INSERT, in the write's own transaction: an entry exists exactly when its write
committed. A write that changed nothing appends nothing.

:class:`SqlAuditLog` pages a customer's entries newest first by cursor (one backward range scan
of ``ix_audit_log_org_customer_at``) and masks a customer's personal values (the erasure of
issue 11). There is no other write path: the trail is append-only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from customers_hub.adapters.sql import tables
from customers_hub.adapters.sql.filters import SortSpec, ValueType
from customers_hub.adapters.sql.mappers.rows import from_row
from customers_hub.adapters.sql.pagination import Source, fetch
from customers_hub.adapters.sql.uow import SqlUnitOfWork
from customers_hub.application.ports import Clock, IdGenerator, UnitOfWork
from customers_hub.application.queries import Page, PageRequest, Sort
from customers_hub.application.write_context import current_write_context
from customers_hub.domain.audit import (
    AuditEntry,
    DraftEntry,
    EntityType,
    FieldChange,
    entries_for,
    jsonable,
    mask_changes,
)
from customers_hub.domain.events import (
    CustomersExported,
    CustomersImported,
    DomainEvent,
    PersonalDataExported,
)

__all__ = ["AuditCommitHook", "SqlAuditLog"]

_L = tables.audit_log
_SORT: Final = Sort("at", descending=True)
_SORT_SPEC: Final = SortSpec("at", _L.c.at, ValueType.DATETIME)
_ROWS_PER_INSERT: Final = 1000  # x 11 columns: within SQLite's 32766 bound parameters


def _described_entry(
    event: DomainEvent,
    entity_type: EntityType,
    entity_id: str,
    described: Mapping[str, object],
    *,
    customer_id: str | None = None,
) -> DraftEntry:
    """The entry of an event that changes no stored record (an export, an import): what it
    did, as the new values of ``described``."""
    return DraftEntry(
        organization_id=event.organization_id,
        action=event.name,
        entity_type=entity_type.value,
        entity_id=entity_id,
        customer_id=customer_id,
        changes=tuple(FieldChange(k, None, jsonable(v)) for k, v in described.items()),
    )


def _export_entry(event: CustomersExported) -> DraftEntry:
    """An export changes nothing; its entry says what left the system."""
    described: Mapping[str, object] = {
        "format": event.file_format,
        "rows": event.rows,
        "fields": list(event.fields),
        "filters": event.filters,
        "completed": event.completed,
    }
    return _described_entry(event, EntityType.EXPORT, event.user_id, described)


def _personal_data_entry(event: PersonalDataExported) -> DraftEntry:
    """An access export (rules §8) changes nothing; its entry, on the customer's timeline,
    says that everything held about the customer left the system."""
    return _described_entry(
        event,
        EntityType.EXPORT,
        event.customer_id,
        {"format": "json"},
        customer_id=event.customer_id,
    )


def _import_entry(event: CustomersImported) -> DraftEntry:
    """One entry per import job, when it ends (its customers have entries of their own)."""
    described: Mapping[str, object] = {"status": event.status, **event.totals}
    return _described_entry(event, EntityType.IMPORT, event.job_id, described)


class AuditCommitHook:
    """Appends the audit entries of a write in its own transaction (one INSERT).

    ``mask_personal_values`` (an organization-independent setting, off by default) stores
    personal values masked from the start instead of masking them at erasure.
    """

    def __init__(
        self, clock: Clock, ids: IdGenerator, *, mask_personal_values: bool = False
    ) -> None:
        self._clock = clock
        self._ids = ids
        self._mask = mask_personal_values

    def drafts(self, uow: SqlUnitOfWork, events: Sequence[DomainEvent]) -> list[DraftEntry]:
        """The entries of the write, not yet stamped."""
        drafts = entries_for(uow.change_log.changes)
        drafts += [_export_entry(e) for e in events if isinstance(e, CustomersExported)]
        drafts += [_personal_data_entry(e) for e in events if isinstance(e, PersonalDataExported)]
        drafts += [_import_entry(e) for e in events if isinstance(e, CustomersImported) and e.final]
        return drafts

    async def __call__(self, uow: UnitOfWork, events: Sequence[DomainEvent]) -> None:
        """Append the entries of ``uow``'s writes (a :data:`CommitHook`)."""
        if not isinstance(uow, SqlUnitOfWork):
            raise TypeError("the SQL audit trail needs the SQL unit of work")
        drafts = self.drafts(uow, events)
        if not drafts:
            return
        author = current_write_context()
        at = self._clock.now()
        rows = [
            {
                "id": self._ids.new_id("aud"),
                "organization_id": d.organization_id,
                "at": at,
                "actor_id": author.actor_id,
                "actor_name": author.actor_name,
                "action": d.action,
                "entity_type": d.entity_type,
                "entity_id": d.entity_id,
                "customer_id": d.customer_id,
                "changes": [
                    c.to_json() for c in (mask_changes(d.changes) if self._mask else d.changes)
                ],
                "request_id": author.request_id,
            }
            for d in drafts
        ]
        # One multi-row INSERT for a write's entries (a bulk write's items too); beyond
        # _ROWS_PER_INSERT rows, one per chunk, under SQLite's limit of bound parameters.
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            chunk = rows[start : start + _ROWS_PER_INSERT]
            await uow.connection.execute(_L.insert().values(chunk))


def _entry(row: RowMapping) -> AuditEntry:
    # Columns and fields of the same name by one step; the changes are stored in JSON form.
    changes = tuple(FieldChange.from_json(c) for c in row["changes"])
    return from_row(AuditEntry, _L, row, changes=changes)


class SqlAuditLog:
    """Reads a customer's timeline and masks a customer's entries."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @staticmethod
    def timeline_source(organization_id: str, customer_id: str) -> Source:
        """What a customer's timeline reads (exposed for ``EXPLAIN`` in the tests)."""
        return Source(
            table=_L,
            from_=_L,
            where=(_L.c.organization_id == organization_id, _L.c.customer_id == customer_id),
        )

    async def customer_page(
        self, organization_id: str, customer_id: str, page: PageRequest
    ) -> Page[AuditEntry]:
        """One page of the customer's entries (its own, its relations' and its actions'),
        newest first; keyset pages (``page.cursor``, ``""`` for the first page)."""
        source = self.timeline_source(organization_id, customer_id)
        async with self._engine.connect() as conn:
            fetched = await fetch(conn, source, _SORT_SPEC, _SORT, page)
        return fetched.with_items([_entry(r) for r in fetched.items])

    async def mask_customer(
        self, organization_id: str, customer_id: str, *, connection: AsyncConnection | None = None
    ) -> int:
        """Rewrite the personal values of the customer's entries to the mask; returns how many
        entries changed (0 the second time). Runs in ``connection``'s transaction when given
        (the erasure's own), else in a transaction of its own."""
        if connection is not None:
            return await self._mask(connection, organization_id, customer_id)
        async with self._engine.begin() as conn:
            return await self._mask(conn, organization_id, customer_id)

    @staticmethod
    async def _mask(conn: AsyncConnection, organization_id: str, customer_id: str) -> int:
        rows = await conn.execute(
            select(_L.c.id, _L.c.changes).where(
                _L.c.organization_id == organization_id, _L.c.customer_id == customer_id
            )
        )
        params: list[dict[str, Any]] = []
        for row in rows:
            stored = tuple(FieldChange.from_json(c) for c in row.changes)
            masked = mask_changes(stored)
            if masked != stored:
                params.append({"b_id": row.id, "b_changes": [c.to_json() for c in masked]})
        if params:
            await conn.execute(
                update(_L)
                .where(_L.c.organization_id == organization_id, _L.c.id == bindparam("b_id"))
                .values(changes=bindparam("b_changes", type_=_L.c.changes.type)),
                params,
            )
        return len(params)

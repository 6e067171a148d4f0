"""Shared helpers of the SQL repositories, and the change log of a unit of work."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

import attrs
from sqlalchemy import (
    Insert,
    Table,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from customers_hub.application.errors import ConcurrentUpdate
from customers_hub.domain.audit import AuditSubject, Change, EntityType, FieldChange, Write
from customers_hub.domain.errors import Duplicate

# SQLite compares NUMERIC through doubles: widen the catalog's SQL pre-filter by a halala so a
# price exactly on a bound is never dropped (the domain applies the exact bound afterwards).
_PREFILTER_SLACK: Final = Decimal("0.01")


# --- shared helpers --------------------------------------------------------------------------


def _is_postgres(conn: AsyncConnection) -> bool:
    return conn.dialect.name == "postgresql"


def _insert(conn: AsyncConnection, table: Table) -> Any:
    """A dialect ``INSERT`` that knows ``ON CONFLICT`` (PostgreSQL and SQLite alike)."""
    if _is_postgres(conn):
        return postgresql.insert(table)
    return sqlite.insert(table)


async def _upsert(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[Mapping[str, object]],
    keys: Sequence[str],
    *,
    keep: Iterable[str] = (),
) -> None:
    """Insert ``rows`` or update them on a conflict of ``keys`` (one executemany).

    Columns named in ``keep`` (``created_at``) are written on insert only.
    """
    if not rows:
        return
    stmt = _insert(conn, table)
    fixed = set(keys) | set(keep)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: stmt.excluded[name] for name in rows[0] if name not in fixed},
    )
    await conn.execute(stmt, list(rows))


async def _insert_missing(
    conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, object]]
) -> None:
    """Insert ``rows`` whose id is not stored yet (one executemany; other conflicts raise)."""
    if not rows:
        return
    stmt: Insert = _insert(conn, table).on_conflict_do_nothing(index_elements=["id"])
    await conn.execute(stmt, list(rows))


def _integrity_text(error: IntegrityError) -> str:
    """What names the violated constraint: its name on PostgreSQL, the message on SQLite.

    The SQLite message names the table and columns only; PostgreSQL's message also quotes the
    row's values, so the constraint name is used there to never match on data.
    """
    diag = getattr(error.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    return str(name if name else error.orig).lower()


async def _update_versioned(
    conn: AsyncConnection,
    table: Table,
    values: Mapping[str, object],
    *,
    kind: str,
    organization_id: str,
    record_id: str,
    expected_version: int,
    written_once: Iterable[str] = ("id", "organization_id", "created_at"),
) -> None:
    """UPDATE the organization's row ``record_id`` from ``values`` (but the ``written_once``
    columns) if its version is still ``expected_version``; :class:`ConcurrentUpdate` of ``kind``
    when it moved on (or the row is gone)."""
    fixed = set(written_once)
    result = await conn.execute(
        update(table)
        .where(
            table.c.organization_id == organization_id,
            table.c.id == record_id,
            table.c.version == expected_version,
        )
        .values({name: value for name, value in values.items() if name not in fixed})
    )
    if result.rowcount != 1:
        raise ConcurrentUpdate(kind, record_id)


def _customer_integrity(error: IntegrityError, customer_id: str) -> Exception:
    """The domain error an integrity error of a customer write means."""
    text = _integrity_text(error)
    if "phone" in text:
        return Duplicate("A customer with this phone already exists", field="phone")
    if "property_id" in text or "uq_property_interests" in text:
        return Duplicate("This property is already linked to the customer", field="propertyId")
    if "stage_history" in text:
        # Another writer appended the same history position first.
        return ConcurrentUpdate("customer", customer_id)
    if "customers.id" in text or "pk_customers" in text:
        return Duplicate("A customer with this id already exists", field="id")
    return error


class ChangeLog:
    """The writes of one unit of work, in order (what the audit trail reads at commit)."""

    def __init__(self) -> None:
        self.changes: list[Change] = []

    def record(
        self,
        write: Write,
        kind: EntityType,
        organization_id: str,
        entity_id: str,
        customer_id: str | None,
        before: AuditSubject | None,
        after: AuditSubject | None,
    ) -> None:
        """Append one write."""
        self.changes.append(
            Change(write, kind, organization_id, entity_id, customer_id, before, after)
        )

    def annotate(self, kind: EntityType, context: Mapping[str, tuple[FieldChange, ...]]) -> None:
        """Add ``context[entity_id]`` to the entry of each such entity already written (once,
        on its first write: one pass over the log)."""
        pending = dict(context)
        for i, change in enumerate(self.changes):
            if change.entity_type is kind and change.entity_id in pending:
                extra = pending.pop(change.entity_id)
                self.changes[i] = attrs.evolve(change, context=change.context + extra)

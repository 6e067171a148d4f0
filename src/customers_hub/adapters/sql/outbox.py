"""The transactional outbox in SQL: the commit hook that writes it, and what its readers need.

**Writing.** :class:`SqlOutboxWriter` is a
:data:`~customers_hub.application.context.CommitHook`: just before a write commits, it inserts
the write's events (one multi-row ``INSERT``) on the unit of work's own connection, so the
events are durable exactly when the write is.

**Positions are visible in order.** ``position`` comes from the table's identity, assigned at
insert time; two PostgreSQL transactions could commit in the other order, and a reader that
already moved past the later position would skip the earlier one forever. The hook therefore
takes a transaction-scoped advisory lock (:data:`OUTBOX_LOCK_KEY`) before inserting: writers
that produced events commit one after another from that point (the lock is held only for the
insert and the commit itself), so a position is visible only after every smaller one is. SQLite
serializes writers anyway (``BEGIN IMMEDIATE``).

**Reading.** :func:`read_after` (the stream of ``Hub.events``), :func:`claim_cursor` and
:func:`advance_cursor` (a consumer's last position, locked ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL while one relay advances it), :func:`prune` (bounded deletes of old relayed rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from datetime import datetime
from typing import Any, Final

import attrs
from sqlalchemy import Row, Select, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from customers_hub.adapters.event_wire import (
    invalidation_for,
    jsonable,
    to_outbound,
    wire_timestamp,
)
from customers_hub.adapters.sql.dialect import literal_rows
from customers_hub.adapters.sql.tables import outbox, outbox_cursors
from customers_hub.application.outbox import OutboxRecord
from customers_hub.application.ports import IdGenerator, UnitOfWork
from customers_hub.domain.events import DomainEvent

__all__ = [
    "LAST_WRITTEN",
    "OUTBOX_LOCK_KEY",
    "RelayRow",
    "SqlOutboxWriter",
    "advance_cursor",
    "claim_cursor",
    "cursor_positions",
    "event_payload",
    "event_row",
    "max_position",
    "occurred_after",
    "prune",
    "prune_cursors",
    "read_after",
    "read_routed_after",
]

OUTBOX_LOCK_KEY: Final = 0x0C0B0A0D0E0F
"""The advisory lock key that orders the outbox writers on PostgreSQL (any constant no other
code of the database uses)."""

LAST_WRITTEN: ContextVar[int | None] = ContextVar("outbox_last_written", default=None)
"""The newest outbox position the current task's last write inserted (read after its commit
by the publisher, to wait until the relay has published it)."""

_COMMON_KEYS: Final = frozenset({"organizationId", "occurredAt", "employeeIds"})
"""Keys every event has; the payload names them once, outside ``data``."""


def event_payload(event: DomainEvent, event_id: str) -> dict[str, Any]:
    """``{id, event, organizationId, timestamp, data}``: the WebSocket event's ``data`` when
    the event has a real-time form, else the event's own fields (camelCase)."""
    outbound = to_outbound(event)
    if outbound is not None:
        data = dict(outbound.data)
    else:
        data = {key: value for key, value in jsonable(event).items() if key not in _COMMON_KEYS}
    return {
        "id": event_id,
        "event": event.name,
        "organizationId": event.organization_id,
        "timestamp": wire_timestamp(event.occurred_at),
        "data": data,
    }


def event_row(event: DomainEvent, event_id: str) -> dict[str, Any]:
    """The ``outbox`` row of ``event`` (without its position)."""
    outbound = to_outbound(event)
    return {
        "event_id": event_id,
        "organization_id": event.organization_id,
        "event": event.name,
        "payload": event_payload(event, event_id),
        "routing": {
            "message": outbound.to_message() if outbound is not None else None,
            "tags": sorted(invalidation_for(event).tags),
        },
        "occurred_at": event.occurred_at,
    }


class SqlOutboxWriter:
    """The outbox commit hook: the transaction's events in one set-based ``INSERT``."""

    def __init__(self, ids: IdGenerator) -> None:
        self.ids = ids

    async def __call__(self, uow: UnitOfWork, events: Sequence[DomainEvent]) -> None:
        """Insert ``events`` on ``uow``'s connection (nothing when there are none)."""
        if not events:
            return
        connection: AsyncConnection = getattr(uow, "connection")  # noqa: B009 - SQL units only
        if connection.dialect.name == "postgresql":
            await connection.execute(
                select(func.pg_advisory_xact_lock(OUTBOX_LOCK_KEY))  # see the module docstring
            )
        rows = [event_row(e, self.ids.new_id("evt")) for e in events]
        await connection.execute(insert(outbox), rows)
        # The newest position is this transaction's own: writers are serialized from the lock
        # (or SQLite's write lock) to the commit.
        LAST_WRITTEN.set(await max_position(connection))


def _record(row: Row[Any]) -> OutboxRecord:
    return OutboxRecord(
        position=row.position,
        event_id=row.event_id,
        organization_id=row.organization_id,
        event=row.event,
        payload=row.payload,
        occurred_at=row.occurred_at,
    )


async def read_after(
    connection: AsyncConnection,
    position: int,
    *,
    limit: int = 500,
    organization_id: str | None = None,
) -> list[OutboxRecord]:
    """Up to ``limit`` events after ``position``, in order (of one organization, if given)."""
    query = select(outbox).where(outbox.c.position > position)
    if organization_id is not None:
        query = query.where(outbox.c.organization_id == organization_id)
    rows = await connection.execute(query.order_by(outbox.c.position).limit(literal_rows(limit)))
    return [_record(row) for row in rows]


@attrs.frozen
class RelayRow:
    """An outbox row with what the relay routes: the bus message and the cache tags."""

    record: OutboxRecord
    message: Mapping[str, Any] | None
    tags: tuple[str, ...]


async def read_routed_after(
    connection: AsyncConnection, position: int, *, limit: int
) -> list[RelayRow]:
    """:func:`read_after` with each row's routing."""
    rows = await connection.execute(
        select(outbox)
        .where(outbox.c.position > position)
        .order_by(outbox.c.position)
        .limit(literal_rows(limit))
    )
    return [
        RelayRow(_record(row), row.routing.get("message"), tuple(row.routing.get("tags", ())))
        for row in rows
    ]


def occurred_after(position: int) -> Select[Any]:
    """When the first event after ``position`` occurred (a scalar query)."""
    return (
        select(outbox.c.occurred_at)
        .where(outbox.c.position > position)
        .order_by(outbox.c.position)
        .limit(literal_rows(1))
    )


async def max_position(connection: AsyncConnection) -> int:
    """The newest position (0 for an empty outbox)."""
    value = await connection.scalar(select(func.coalesce(func.max(outbox.c.position), 0)))
    return int(value or 0)


async def cursor_positions(connection: AsyncConnection, names: Sequence[str]) -> dict[str, int]:
    """The stored positions of the cursors ``names`` (absent ones are left out)."""
    rows = await connection.execute(
        select(outbox_cursors.c.name, outbox_cursors.c.position).where(
            outbox_cursors.c.name.in_(names)
        )
    )
    return {row.name: int(row.position) for row in rows}


async def claim_cursor(connection: AsyncConnection, name: str, now: datetime) -> int | None:
    """Lock the cursor ``name`` for this transaction and return its position; ``None`` when
    another transaction holds it (PostgreSQL, ``SKIP LOCKED``). A missing cursor is created at
    the newest position: a new consumer starts with what happens from now on."""
    query = select(outbox_cursors.c.position).where(outbox_cursors.c.name == name)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    row = (await connection.execute(query)).first()
    if row is None:
        values = {"name": name, "position": await max_position(connection), "updated_at": now}
        if connection.dialect.name == "postgresql":
            await connection.execute(
                pg_insert(outbox_cursors).values(values).on_conflict_do_nothing()
            )
        else:
            await connection.execute(
                sqlite_insert(outbox_cursors).values(values).on_conflict_do_nothing()
            )
        row = (await connection.execute(query)).first()
        if row is None:
            return None
    return int(row.position)


async def advance_cursor(
    connection: AsyncConnection, name: str, position: int, now: datetime
) -> None:
    """Store ``position`` as the cursor's (claimed with :func:`claim_cursor` first)."""
    await connection.execute(
        update(outbox_cursors)
        .where(outbox_cursors.c.name == name)
        .values(position=position, updated_at=now)
    )


async def prune(
    connection: AsyncConnection,
    *,
    older_than: datetime,
    up_to_position: int,
    limit: int = 1000,
) -> int:
    """Delete at most ``limit`` events that occurred before ``older_than`` and are at or before
    ``up_to_position`` (already relayed); the number deleted."""
    oldest = (
        select(outbox.c.position)
        .where(outbox.c.position <= up_to_position, outbox.c.occurred_at < older_than)
        .order_by(outbox.c.position)
        .limit(literal_rows(limit))
    )
    result = await connection.execute(delete(outbox).where(outbox.c.position.in_(oldest)))
    return int(result.rowcount or 0)


async def prune_cursors(connection: AsyncConnection, prefix: str, older_than: datetime) -> int:
    """Forget cursors named ``prefix…`` not advanced since ``older_than`` (the in-process event
    buses of processes that are gone)."""
    result = await connection.execute(
        delete(outbox_cursors).where(
            outbox_cursors.c.name.startswith(prefix, autoescape=True),
            outbox_cursors.c.updated_at < older_than,
        )
    )
    return int(result.rowcount or 0)

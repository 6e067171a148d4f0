"""The erasure of a customer in SQL (rules §8): set-based UPDATEs in the erasure's own
transaction, driven by :mod:`customers_hub.domain.erasure`'s tables.

:class:`SqlErasureStore` runs on the unit of work's connection, after the use case saved the
erased customer row through the customer repository (which recomputes its search columns —
``name_search``, ``phone_digits``, the duplicate keys — from the erased values):

======================================  =========================================================
what                                    statements (whatever the customer holds)
======================================  =========================================================
free text of each relation              one ``UPDATE … WHERE organization_id, customer_id`` per
(:data:`RELATION_FIELDS`)               relation table the schema has (action notes: by their
                                        actions' ids, a subquery); each by its
                                        ``(organization_id, customer_id, …)`` index
actions' ``metadata``                   one SELECT of the customer's actions, one executemany
                                        UPDATE of those whose metadata held other keys
audit trail                             one SELECT of the customer's entries by
                                        ``ix_audit_log_org_customer_at``, one executemany
                                        UPDATE: personal fields masked
                                        (:func:`~customers_hub.domain.audit.mask_changes`), and
                                        the customer's values redacted wherever else they
                                        appear (an action's ``metadata``)
outbox and webhook deliveries           one SELECT each of the organization's rows whose JSON
                                        names the customer or one of its actions, one
                                        executemany UPDATE masking their personal keys
stored idempotent answers               one DELETE of the organization's stored answers naming
                                        the customer (a replay would disclose erased data)
documents' storage keys                 one SELECT (the files go after the commit)
======================================  =========================================================

The outbox, deliveries and idempotency keys have no index by customer: those reads scan the
organization's rows of them, which pruning (relayed events, finished deliveries) and the
24-hour key lifetime keep bounded; an erasure is a rare, admin-only request.

**Freed space.** PostgreSQL keeps the old row versions as dead tuples until vacuum; a dump reads
live rows only. SQLite connections run with ``PRAGMA secure_delete=ON``
(:mod:`~customers_hub.adapters.sql.engine`), so freed cells and pages are zeroed, and
:meth:`SqlErasure.reclaim_space` checkpoints and truncates the write-ahead log after the commit,
so no older page image of the customer stays in the ``-wal`` file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from sqlalchemy import ColumnElement, Table, Text, bindparam, cast, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from customers_hub.adapters.sql import tables
from customers_hub.adapters.sql.filters import like_escape
from customers_hub.adapters.sql.mappers import action_search_text
from customers_hub.application.ports import UnitOfWork
from customers_hub.domain.audit import FieldChange, mask_changes
from customers_hub.domain.erasure import RELATION_FIELDS, erased_metadata, redact_json, scrub_json

__all__ = ["SqlErasure", "SqlErasureStore"]

_ESCAPE: Final = "\\"
_A = tables.customer_actions
_ACTION_TEXTS: Final = RELATION_FIELDS["customer_actions"]


def _derived(name: str) -> dict[str, object]:
    """Columns computed from the erased ones (an action's search text)."""
    if name != _A.name:
        return {}
    title = _ACTION_TEXTS["title"]
    return {
        "search_text": action_search_text(str(_ACTION_TEXTS["customer_name"]), str(title), None),
        "version": _A.c.version + 1,  # a concurrent action write re-reads (ConcurrentUpdate)
    }


def _mentions(column: Any, ids: Sequence[str]) -> ColumnElement[bool]:
    """``column``'s JSON text names one of ``ids``."""
    text = cast(column, Text)
    return or_(*(text.like(f"%{like_escape(i)}%", escape=_ESCAPE) for i in ids))


class SqlErasureStore:
    """The erasure's statements on one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def erase_relations(
        self, organization_id: str, customer_id: str, values: Sequence[str]
    ) -> None:
        """Clear the free text of every relation of the customer, mask its audit values and the
        events that name it (``values``: the customer's identifying texts, redacted wherever
        they appear in those); all in the connection's transaction."""
        action_ids = await self._erase_action_metadata(organization_id, customer_id)
        for name, erased in RELATION_FIELDS.items():
            table = tables.metadata.tables.get(name)
            if table is None:
                continue  # a relation this schema does not have (yet)
            await self._conn.execute(
                update(table)
                .where(*self._of_customer(table, organization_id, customer_id))
                .values({**erased, **_derived(name)})
            )
        await self._mask_audit(organization_id, customer_id, values)
        mentioned = [customer_id, *action_ids]
        for table, key in ((tables.outbox, "position"), (tables.webhook_deliveries, "id")):
            await self._mask_events(table, key, organization_id, mentioned, values)
        keys = tables.idempotency_keys
        await self._conn.execute(
            delete(keys).where(
                keys.c.organization_id == organization_id,
                _mentions(keys.c.response_body, [customer_id]),
            )
        )
        # A merge record keeps the values the merge filled in (to undo it): the merges of an
        # erased person can no longer be undone, and their records go (rules §8 over §10).
        merges = tables.customer_merges
        await self._conn.execute(
            delete(merges).where(
                merges.c.organization_id == organization_id,
                or_(
                    merges.c.survivor_id == customer_id,
                    _mentions(merges.c.source_ids, [customer_id]),
                ),
            )
        )

    async def storage_keys(self, organization_id: str, customer_id: str) -> list[str]:
        """The storage keys of the customer's documents."""
        d = tables.documents
        rows = await self._conn.execute(
            select(d.c.storage_key).where(
                d.c.organization_id == organization_id, d.c.customer_id == customer_id
            )
        )
        return [row[0] for row in rows]

    @staticmethod
    def _of_customer(
        table: Table, organization_id: str, customer_id: str
    ) -> tuple[ColumnElement[bool], ...]:
        if "customer_id" in table.c:
            return (table.c.organization_id == organization_id, table.c.customer_id == customer_id)
        # Action notes hang off the customer's actions.
        actions = select(_A.c.id).where(
            _A.c.organization_id == organization_id, _A.c.customer_id == customer_id
        )
        return (table.c.organization_id == organization_id, table.c.action_id.in_(actions))

    async def _erase_action_metadata(self, organization_id: str, customer_id: str) -> list[str]:
        return await self._rewrite_json(
            _A,
            "metadata",
            organization_id,
            customer_id,
            # Empty metadata has nothing to erase (and stays as it is).
            lambda metadata: erased_metadata(metadata) if metadata else metadata,
        )

    async def _mask_audit(
        self, organization_id: str, customer_id: str, values: Sequence[str]
    ) -> None:
        def masked(changes: Any) -> Any:
            masked = mask_changes([FieldChange.from_json(c) for c in changes])
            return redact_json([c.to_json() for c in masked], values)

        await self._rewrite_json(tables.audit_log, "changes", organization_id, customer_id, masked)

    async def _rewrite_json(
        self,
        table: Table,
        column: str,
        organization_id: str,
        customer_id: str,
        rewrite: Callable[[Any], Any],
    ) -> list[str]:
        """Set ``column`` of the customer's rows in ``table`` to ``rewrite(value)`` where that
        changes it (one batched UPDATE); the ids of all the customer's rows."""
        c = table.c
        rows = (
            await self._conn.execute(
                select(c.id, c[column]).where(
                    c.organization_id == organization_id, c.customer_id == customer_id
                )
            )
        ).all()
        changed = [
            {"b_id": row.id, f"b_{column}": new}
            for row in rows
            if (new := rewrite(row[1])) != row[1]
        ]
        if changed:
            await self._conn.execute(
                update(table)
                .where(c.organization_id == organization_id, c.id == bindparam("b_id"))
                .values({column: bindparam(f"b_{column}", type_=c[column].type)}),
                changed,
            )
        return [row.id for row in rows]

    async def _mask_events(
        self,
        table: Table,
        key: str,
        organization_id: str,
        mentioned: Sequence[str],
        values: Sequence[str],
    ) -> None:
        """Scrub ``table``'s JSON columns in the organization's rows that name one of
        ``mentioned`` (:func:`~customers_hub.domain.erasure.scrub_json`)."""
        json_columns = [c for c in ("payload", "routing") if c in table.c]
        rows = (
            await self._conn.execute(
                select(table.c[key], *(table.c[c] for c in json_columns)).where(
                    table.c.organization_id == organization_id,
                    or_(*(_mentions(table.c[c], mentioned) for c in json_columns)),
                )
            )
        ).all()
        params: list[dict[str, Any]] = []
        for row in rows:
            stored = row._mapping
            masked = {f"b_{c}": scrub_json(stored[c], values) for c in json_columns}
            if any(masked[f"b_{c}"] != stored[c] for c in json_columns):
                params.append({"b_key": stored[key], **masked})
        if params:
            await self._conn.execute(
                update(table)
                .where(table.c[key] == bindparam("b_key"))
                .values({c: bindparam(f"b_{c}", type_=table.c[c].type) for c in json_columns}),
                params,
            )


class SqlErasure:
    """:class:`~customers_hub.application.ports_privacy.ErasurePort` on SQLAlchemy."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def on(self, uow: UnitOfWork) -> SqlErasureStore:
        """The store on ``uow``'s transaction (SQL units of work only)."""
        connection: AsyncConnection = getattr(uow, "connection")  # noqa: B009 - SQL units only
        return SqlErasureStore(connection)

    async def reclaim_space(self) -> None:
        """After the commit: on SQLite, write the log back and truncate it (no older page image
        of the erased rows stays on disk); nothing on PostgreSQL (dead tuples are not data a
        dump or a query reads, and autovacuum reclaims them)."""
        if self._engine.dialect.name != "sqlite":
            return
        async with self._engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

"""The action repository: actions and their notes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final

import attrs
from sqlalchemy import (
    bindparam,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from customers_hub.adapters.sql import mappers, tables
from customers_hub.adapters.sql.dialect import literal_rows
from customers_hub.adapters.sql.repositories.base import (
    ChangeLog,
    _insert_missing,
    _is_postgres,
    _update_versioned,
)
from customers_hub.application.errors import ConcurrentUpdate
from customers_hub.domain.audit import EntityType, Write
from customers_hub.domain.enums import ActionStatus
from customers_hub.domain.errors import NotFound
from customers_hub.domain.model import (
    ActionNote,
    CustomerAction,
)

# --- actions ---------------------------------------------------------------------------------

_A = tables.customer_actions
_N = tables.action_notes
_OPEN_STATUSES: Final = (ActionStatus.PENDING, ActionStatus.IN_PROGRESS, ActionStatus.SNOOZED)


class SqlActionRepository:
    """Inbox actions and their notes.

    Statements per call: ``get`` 2 (1 when absent), ``get_many`` 2, ``add_many`` 1–2 (one
    executemany per table), ``save`` 1–2, ``save_many`` 2–3 for any number of actions (a version
    read, locking on PostgreSQL; one executemany UPDATE; one executemany of new notes),
    ``add_note`` 1, ``snoozed_due`` 2, ``open_for_customer`` 2, ``set_customer_name`` 1–2.
    """

    def __init__(self, conn: AsyncConnection, log: ChangeLog | None = None) -> None:
        self._conn = conn
        self._loaded: dict[str, CustomerAction] = {}
        self._log = log if log is not None else ChangeLog()

    def _log_action(
        self, write: Write, before: CustomerAction | None, after: CustomerAction
    ) -> None:
        """Record a written action and the notes it gained (notes of an action whose stored
        state is unknown are not compared: they were inserted only when missing)."""
        org = after.organization_id
        self._log.record(write, EntityType.ACTION, org, after.id, after.customer_id, before, after)
        if before is None and write is Write.UPDATE:
            return
        known = {n.id for n in before.notes} if before is not None else set()
        for note in after.notes:
            if note.id not in known:
                self._log_note(after.customer_id, org, note)

    def _log_note(self, customer_id: str | None, organization_id: str, note: ActionNote) -> None:
        self._log.record(
            Write.INSERT, EntityType.ACTION_NOTE, organization_id, note.id, customer_id, None, note
        )

    async def _with_notes(
        self, rows: Sequence[Any], organization_id: str | None
    ) -> dict[str, CustomerAction]:
        """The actions of ``rows`` with their notes (one statement for all of them)."""
        if not rows:
            return {}
        query = select(_N).where(_N.c.action_id.in_([r["id"] for r in rows]))
        if organization_id is not None:
            query = query.where(_N.c.organization_id == organization_id)
        notes: dict[str, list[Any]] = defaultdict(list)
        for n in (
            await self._conn.execute(query.order_by(_N.c.action_id, _N.c.created_at, _N.c.id))
        ).mappings():
            notes[n["action_id"]].append(n)
        result = {r["id"]: mappers.action_from_row(r, notes[r["id"]]) for r in rows}
        self._loaded.update(result)
        return result

    async def get(self, organization_id: str, action_id: str) -> CustomerAction | None:
        """The action with its notes, or None."""
        return (await self.get_many(organization_id, [action_id])).get(action_id)

    async def get_many(self, organization_id: str, ids: Sequence[str]) -> dict[str, CustomerAction]:
        """The actions among ``ids`` of the organization, with notes, by id (2 statements)."""
        if not ids:
            return {}
        rows = (
            (
                await self._conn.execute(
                    select(_A).where(
                        _A.c.organization_id == organization_id,
                        _A.c.id.in_(list(dict.fromkeys(ids))),
                    )
                )
            )
            .mappings()
            .all()
        )
        return await self._with_notes(rows, organization_id)

    async def add_many(self, actions: Sequence[CustomerAction]) -> None:
        """Insert new actions and their notes: one executemany per table."""
        if not actions:
            return
        await self._conn.execute(_A.insert(), [mappers.action_values(a) for a in actions])
        notes = [mappers.note_values(n, a.organization_id) for a in actions for n in a.notes]
        if notes:
            await self._conn.execute(_N.insert(), notes)
        for action in actions:
            self._log_action(Write.INSERT, None, action)
        self._loaded.update({a.id: a for a in actions})

    def _new_note_rows(self, actions: Iterable[CustomerAction]) -> tuple[list[Any], list[Any]]:
        """(notes known to be new, notes of actions whose stored notes are unknown)."""
        new: list[Any] = []
        unknown: list[Any] = []
        for action in actions:
            before = self._loaded.get(action.id)
            if before is None:
                unknown += [mappers.note_values(n, action.organization_id) for n in action.notes]
                continue
            old = {n.id for n in before.notes}
            new += [
                mappers.note_values(n, action.organization_id)
                for n in action.notes
                if n.id not in old
            ]
        return new, unknown

    async def _write_notes(self, actions: Iterable[CustomerAction]) -> None:
        new, unknown = self._new_note_rows(actions)
        if new:
            await self._conn.execute(_N.insert(), new)
        await _insert_missing(self._conn, _N, unknown)

    async def save(self, action: CustomerAction, *, expected_version: int) -> None:
        """Write a changed action and its new notes; ``ConcurrentUpdate`` if the version moved."""
        await _update_versioned(
            self._conn,
            _A,
            mappers.action_values(action),
            kind="action",
            organization_id=action.organization_id,
            record_id=action.id,
            expected_version=expected_version,
        )
        await self._write_notes([action])
        self._log_action(Write.UPDATE, self._snapshot(action.id, expected_version), action)
        self._loaded[action.id] = action

    def _snapshot(self, action_id: str, version: int) -> CustomerAction | None:
        """The loaded action as stored at ``version``, or None when that is not known."""
        before = self._loaded.get(action_id)
        return before if before is not None and before.version == version else None

    async def save_many(self, changes: Sequence[tuple[CustomerAction, int]]) -> set[str]:
        """Write changed actions set-based; returns the ids whose expected version had moved.

        One SELECT reads the stored versions (``FOR UPDATE`` on PostgreSQL, so they cannot move
        before the UPDATE), one executemany UPDATE writes the actions still at their expected
        version — with that version in its ``WHERE`` clause — and one executemany inserts the
        new notes. An id that does not exist in the action's organization counts as moved.
        """
        if not changes:
            return set()
        ids = list(dict.fromkeys(a.id for a, _ in changes))
        query = select(_A.c.id, _A.c.organization_id, _A.c.version).where(_A.c.id.in_(ids))
        if _is_postgres(self._conn):
            query = query.with_for_update()
        stored = {
            r.id: (r.organization_id, r.version) for r in (await self._conn.execute(query)).all()
        }
        moved: set[str] = set()
        writable: list[tuple[CustomerAction, int]] = []
        for action, expected in changes:
            if stored.get(action.id) != (action.organization_id, expected):
                moved.add(action.id)
            else:
                writable.append((action, expected))
                # A second change of the same action in one call expects the first's result.
                stored[action.id] = (action.organization_id, action.version)
        if writable:
            params = []
            for action, expected in writable:
                values = mappers.action_values(action)
                params.append(
                    {
                        **{k: v for k, v in values.items() if k not in ("id", "organization_id")},
                        "b_id": action.id,
                        "b_org": action.organization_id,
                        "b_expected": expected,
                    }
                )
            result = await self._conn.execute(
                update(_A).where(
                    _A.c.id == bindparam("b_id"),
                    _A.c.organization_id == bindparam("b_org"),
                    _A.c.version == bindparam("b_expected"),
                ),
                params,
            )
            if (
                self._conn.dialect.supports_sane_multi_rowcount
                and result.rowcount >= 0
                and result.rowcount != len(params)
            ):  # pragma: no cover - the rows are locked (PostgreSQL) or the database is (SQLite)
                raise ConcurrentUpdate("action", ",".join(a.id for a, _ in writable))
            await self._write_notes(a for a, _ in writable)
            for action, expected in writable:
                self._log_action(Write.UPDATE, self._snapshot(action.id, expected), action)
                self._loaded[action.id] = action
        return moved

    async def add_note(self, note: ActionNote) -> None:
        """Append a note to its action (the organization is the action's, in the same statement).

        Raises :class:`NotFound` when the action does not exist.
        """
        source = select(
            literal(note.id),
            _A.c.organization_id,
            literal(note.action_id),
            literal(note.content),
            literal(note.created_by),
            literal(note.created_by_id),
            literal(note.created_at, tables.UtcDateTime()),
        ).where(_A.c.id == note.action_id)
        result = await self._conn.execute(
            _N.insert()
            .from_select(
                [
                    "id",
                    "organization_id",
                    "action_id",
                    "content",
                    "created_by",
                    "created_by_id",
                    "created_at",
                ],
                source,
            )
            # rowcount of INSERT … SELECT is not reported by every driver (psycopg: -1).
            .returning(_N.c.id)
        )
        if result.first() is None:
            raise NotFound("action", note.action_id)
        before = self._loaded.get(note.action_id)
        if before is not None:
            self._loaded[note.action_id] = _with_note(before, note)
            self._log_note(before.customer_id, before.organization_id, note)

    async def snoozed_due(self, now: datetime, limit: int) -> list[CustomerAction]:
        """Snoozed actions of every organization whose ``snoozed_until`` has passed, oldest
        first (the wake-up job's scan; uses ``ix_actions_status_snoozed``)."""
        rows = (
            (
                await self._conn.execute(
                    select(_A)
                    .where(_A.c.status == ActionStatus.SNOOZED.value, _A.c.snoozed_until <= now)
                    .order_by(_A.c.snoozed_until, _A.c.id)
                    .limit(literal_rows(limit))
                )
            )
            .mappings()
            .all()
        )
        # Across organizations by design: notes are fetched by their actions' ids.
        found = await self._with_notes(rows, None)
        return [found[r["id"]] for r in rows]

    async def open_for_customer(
        self, organization_id: str, customer_id: str
    ) -> list[CustomerAction]:
        """The customer's pending, in-progress and snoozed actions with notes, oldest first
        (2 statements; ``ix_actions_org_customer``)."""
        rows = (
            (
                await self._conn.execute(
                    select(_A)
                    .where(
                        _A.c.organization_id == organization_id,
                        _A.c.customer_id == customer_id,
                        _A.c.status.in_([s.value for s in _OPEN_STATUSES]),
                    )
                    .order_by(_A.c.created_at, _A.c.id)
                )
            )
            .mappings()
            .all()
        )
        found = await self._with_notes(rows, organization_id)
        return [found[r["id"]] for r in rows]

    async def set_customer_name(self, organization_id: str, customer_id: str, name: str) -> None:
        """Rename the customer on its actions (name and search text); bumps their version.

        ``search_text`` normalizes name, title and description together in Python, so this is
        one SELECT of the actions that still carry another name (locking them on PostgreSQL)
        and one executemany UPDATE. The version bump makes a concurrent save of one of these
        actions, which read the old name, fail instead of writing the old name back.
        """
        query = select(_A.c.id, _A.c.title, _A.c.description).where(
            _A.c.organization_id == organization_id,
            _A.c.customer_id == customer_id,
            _A.c.customer_name != name,
        )
        if _is_postgres(self._conn):
            query = query.with_for_update()
        rows = (await self._conn.execute(query)).all()
        if not rows:
            return
        await self._conn.execute(
            update(_A)
            .where(_A.c.organization_id == organization_id, _A.c.id == bindparam("b_id"))
            .values(
                customer_name=name,
                search_text=bindparam("b_search"),
                version=_A.c.version + 1,
            ),
            [
                {
                    "b_id": r.id,
                    "b_search": mappers.action_search_text(name, r.title, r.description),
                }
                for r in rows
            ],
        )
        for r in rows:
            self._loaded.pop(r.id, None)


def _with_note(action: CustomerAction, note: ActionNote) -> CustomerAction:
    return attrs.evolve(action, notes=(*action.notes, note))

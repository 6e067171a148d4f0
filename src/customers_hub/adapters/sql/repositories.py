"""SQL repositories (SQLAlchemy Core on one ``AsyncConnection`` shared by a unit of work).

Rules every method follows:

* every statement filters by ``organization_id`` (the one exception is
  :meth:`SqlActionRepository.snoozed_due`, the cross-organization wake-up scan the port defines);
* relations are loaded set-based — one statement per table, whatever the number of rows;
* writes of an aggregate check its ``version`` in the ``WHERE`` clause: a version that moved
  raises :class:`~customers_hub.application.errors.ConcurrentUpdate` and writes nothing;
* repositories never commit: the unit of work does.

Each repository remembers the aggregates it loaded in this transaction, so ``save`` writes only
what changed: the new stage-history entries (history is append-only), new or changed property
interests, the facets when tags or preferences changed, and new action notes. A ``save`` of an
aggregate this repository did not load falls back to idempotent inserts (``ON CONFLICT (id) DO
NOTHING`` / ``DO UPDATE``), so it is still correct, only less economical.

Every write is also recorded in the unit of work's change log (a list of
:class:`~customers_hub.domain.audit.Change`: the entity before — the loaded snapshot — and
after), which the audit trail turns into entries at commit. Recording costs no statement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

import attrs
from sqlalchemy import (
    ColumnElement,
    Insert,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    func,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from customers_hub.adapters.sql import mappers, tables
from customers_hub.application.errors import ConcurrentUpdate
from customers_hub.domain.audit import AuditSubject, Change, EntityType, Write
from customers_hub.domain.enums import ActionStatus, PropertyInterestStatus, PropertyStatus
from customers_hub.domain.errors import Duplicate, NotFound
from customers_hub.domain.matching import BUDGET_TOLERANCE
from customers_hub.domain.model import (
    ActionNote,
    Appointment,
    Customer,
    CustomerAction,
    Document,
    Employee,
    Interaction,
    Property,
    PropertyInterest,
    Reminder,
)
from customers_hub.domain.settings import OrganizationSettings, OrganizationSettingsRecord

__all__ = [
    "ChangeLog",
    "SqlActionRepository",
    "SqlCustomerRepository",
    "SqlEmployeeRepository",
    "SqlOrganizationSettingsRepository",
    "SqlPropertyCatalog",
    "SqlRelationRepository",
]

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


# --- customers -------------------------------------------------------------------------------

_C = tables.customers
_H = tables.stage_history
_I = tables.property_interests
_F = tables.customer_facets


class SqlCustomerRepository:
    """Customers with their stage history, property interests and facets.

    Statements per call: ``get`` 3 (1 when absent), ``get_many`` 3 for any number of ids,
    ``add`` 1–4 (customer, history, interests, facets), ``save`` 1–5 (the versioned UPDATE, then
    only what changed: new history, interests, facets delete + insert), ``delete`` 1 (the rest
    cascades), ``phone_in_use`` 1.
    """

    def __init__(self, conn: AsyncConnection, log: ChangeLog | None = None) -> None:
        self._conn = conn
        self._loaded: dict[str, Customer] = {}
        self._log = log if log is not None else ChangeLog()

    async def _load(
        self, organization_id: str, ids: Sequence[str], *, lock: bool = False
    ) -> dict[str, Customer]:
        if not ids:
            return {}
        query = select(_C).where(_C.c.organization_id == organization_id, _C.c.id.in_(ids))
        if lock and _is_postgres(self._conn):
            query = query.with_for_update()
        rows = (await self._conn.execute(query)).mappings().all()
        if not rows:
            return {}
        found = [r["id"] for r in rows]
        history: dict[str, list[Any]] = defaultdict(list)
        for h in (
            await self._conn.execute(
                select(_H)
                .where(_H.c.organization_id == organization_id, _H.c.customer_id.in_(found))
                .order_by(_H.c.customer_id, _H.c.seq)
            )
        ).mappings():
            history[h["customer_id"]].append(h)
        interests: dict[str, list[Any]] = defaultdict(list)
        for i in (
            await self._conn.execute(
                select(_I)
                .where(_I.c.organization_id == organization_id, _I.c.customer_id.in_(found))
                .order_by(_I.c.customer_id, _I.c.added_at, _I.c.id)
            )
        ).mappings():
            interests[i["customer_id"]].append(i)
        result = {
            r["id"]: mappers.customer_from_row(r, history[r["id"]], interests[r["id"]])
            for r in rows
        }
        self._loaded.update(result)
        return result

    async def get(self, organization_id: str, customer_id: str) -> Customer | None:
        """The customer (deleted ones included), or None when absent in this organization."""
        return (await self._load(organization_id, [customer_id])).get(customer_id)

    async def get_many(self, organization_id: str, ids: Sequence[str]) -> dict[str, Customer]:
        """The customers among ``ids`` that exist in the organization, by id (3 statements)."""
        return await self._load(organization_id, list(dict.fromkeys(ids)))

    async def get_for_update(self, organization_id: str, customer_id: str) -> Customer | None:
        """Like :meth:`get`, with ``SELECT … FOR UPDATE`` on PostgreSQL.

        On SQLite the unit of work already holds the database's write lock (``BEGIN
        IMMEDIATE``), so there is nothing more to lock.
        """
        return (await self._load(organization_id, [customer_id], lock=True)).get(customer_id)

    async def add(self, customer: Customer) -> None:
        """Insert a new customer with its history, interests and facets."""
        org, cid = customer.organization_id, customer.id
        try:
            await self._conn.execute(_C.insert().values(mappers.customer_values(customer)))
            if customer.stage_history:
                await self._conn.execute(
                    _H.insert(),
                    [
                        mappers.history_values(org, cid, seq, entry)
                        for seq, entry in enumerate(customer.stage_history, start=1)
                    ],
                )
            if customer.property_interests:
                await self._conn.execute(
                    _I.insert(),
                    [mappers.interest_values(org, cid, i) for i in customer.property_interests],
                )
            facets = mappers.facet_rows(customer)
            if facets:
                await self._conn.execute(_F.insert(), facets)
        except IntegrityError as error:
            raise _customer_integrity(error, cid) from error
        self._loaded[cid] = customer
        self._log.record(Write.INSERT, EntityType.CUSTOMER, org, cid, cid, None, customer)
        for interest in customer.property_interests:
            self._log_interest(customer, None, interest)

    def _log_interest(
        self, customer: Customer, old: PropertyInterest | None, new: PropertyInterest | None
    ) -> None:
        write = Write.INSERT if old is None else Write.UPDATE if new is not None else Write.DELETE
        interest = new if new is not None else old
        assert interest is not None
        self._log.record(
            write,
            EntityType.PROPERTY_INTEREST,
            customer.organization_id,
            interest.id,
            customer.id,
            old,
            new,
        )

    async def save(self, customer: Customer, *, expected_version: int) -> None:
        """Write a changed customer; ``ConcurrentUpdate`` when its version moved.

        The customer row is updated first, with the expected version in the ``WHERE`` clause: a
        writer that lost the race stops there, before touching history, interests or facets.
        """
        org, cid = customer.organization_id, customer.id
        before = self._loaded.get(cid)
        if before is not None and before.version != expected_version:
            before = None  # a snapshot of another version says nothing about what is stored
        if before is not None:
            known = before.stage_history
            if customer.stage_history[: len(known)] != known:
                raise ValueError("stage history is append-only: stored entries cannot change")
        values = mappers.customer_values(customer)
        for key in ("id", "organization_id", "created_at"):
            values.pop(key)
        try:
            result = await self._conn.execute(
                update(_C)
                .where(
                    _C.c.id == cid,
                    _C.c.organization_id == org,
                    _C.c.version == expected_version,
                )
                .values(values)
            )
            if result.rowcount == 0:
                raise ConcurrentUpdate("customer", cid)
            await self._save_history(customer, before)
            await self._save_interests(customer, before)
            await self._save_facets(customer, before)
        except IntegrityError as error:
            raise _customer_integrity(error, cid) from error
        self._loaded[cid] = customer
        self._log.record(Write.UPDATE, EntityType.CUSTOMER, org, cid, cid, before, customer)

    async def _save_history(self, customer: Customer, before: Customer | None) -> None:
        org, cid = customer.organization_id, customer.id
        rows = [
            mappers.history_values(org, cid, seq, entry)
            for seq, entry in enumerate(customer.stage_history, start=1)
        ]
        if before is None:
            # Unknown stored state: insert what is missing; a taken position still raises.
            await _insert_missing(self._conn, _H, rows)
            return
        known = len(before.stage_history)  # a prefix of the new history (checked in save)
        if rows[known:]:
            await self._conn.execute(_H.insert(), rows[known:])

    async def _save_interests(self, customer: Customer, before: Customer | None) -> None:
        org, cid = customer.organization_id, customer.id
        old = {i.id: i for i in before.property_interests} if before else {}
        changed = [i for i in customer.property_interests if old.get(i.id) != i]
        await _upsert(
            self._conn, _I, [mappers.interest_values(org, cid, i) for i in changed], ["id"]
        )
        gone = set(old) - {i.id for i in customer.property_interests}
        if before is not None:  # otherwise what was stored is unknown: nothing to compare
            for interest in changed:
                self._log_interest(customer, old.get(interest.id), interest)
            for interest_id in sorted(gone):
                self._log_interest(customer, old[interest_id], None)
        if gone:
            await self._conn.execute(
                delete(_I).where(_I.c.organization_id == org, _I.c.id.in_(gone))
            )

    async def _save_facets(self, customer: Customer, before: Customer | None) -> None:
        if (
            before is not None
            and before.tags == customer.tags
            and before.preferences == customer.preferences
        ):
            return
        await self._conn.execute(
            delete(_F).where(
                _F.c.organization_id == customer.organization_id,
                _F.c.customer_id == customer.id,
            )
        )
        facets = mappers.facet_rows(customer)
        if facets:
            await self._conn.execute(_F.insert(), facets)

    async def delete(self, organization_id: str, customer_id: str) -> None:
        """Remove the customer; its history, interests, facets, relations and actions cascade."""
        await self._conn.execute(
            delete(_C).where(_C.c.organization_id == organization_id, _C.c.id == customer_id)
        )
        before = self._loaded.pop(customer_id, None)
        self._log.record(
            Write.DELETE,
            EntityType.CUSTOMER,
            organization_id,
            customer_id,
            customer_id,
            before,
            None,
        )

    async def phone_in_use(
        self, organization_id: str, phone: str, *, excluding_id: str | None = None
    ) -> bool:
        """True when a live (not soft-deleted) customer of the organization has this phone."""
        query = select(literal(1)).where(
            _C.c.organization_id == organization_id,
            _C.c.phone == phone,
            _C.c.deleted_at.is_(None),
        )
        if excluding_id is not None:
            query = query.where(_C.c.id != excluding_id)
        return (await self._conn.execute(query.limit(1))).first() is not None


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
        values = mappers.action_values(action)
        for key in ("id", "organization_id", "created_at"):
            values.pop(key)
        result = await self._conn.execute(
            update(_A)
            .where(
                _A.c.id == action.id,
                _A.c.organization_id == action.organization_id,
                _A.c.version == expected_version,
            )
            .values(values)
        )
        if result.rowcount == 0:
            raise ConcurrentUpdate("action", action.id)
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
                    .limit(limit)
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


# --- interactions, appointments, reminders, documents ----------------------------------------

_INT = tables.interactions
_APP = tables.appointments
_REM = tables.reminders
_DOC = tables.documents


class SqlRelationRepository:
    """Interactions, appointments, reminders and documents; 1 statement per call (and per kind
    of ``list_for_customer``)."""

    def __init__(
        self,
        conn: AsyncConnection,
        tz: ZoneInfo = mappers.DEFAULT_TIME_ZONE,
        log: ChangeLog | None = None,
    ) -> None:
        self._conn = conn
        self._tz = tz
        self._log = log if log is not None else ChangeLog()
        # What get_* read in this transaction (the ``before`` of a later save or delete).
        self._loaded: dict[str, Appointment | Reminder | Document] = {}

    def _record(
        self,
        write: Write,
        kind: EntityType,
        organization_id: str,
        before: Appointment | Reminder | Document | None,
        after: Interaction | Appointment | Reminder | Document | None,
    ) -> None:
        subject = after if after is not None else before
        assert subject is not None
        self._log.record(
            write, kind, organization_id, subject.id, subject.customer_id, before, after
        )

    def _remember(
        self, found: Appointment | Reminder | Document | None
    ) -> Appointment | Reminder | Document | None:
        if found is not None:
            self._loaded[found.id] = found
        return found

    def _before(self, record_id: str, kind: type[Appointment | Reminder]) -> Any:
        before = self._loaded.get(record_id)
        return before if isinstance(before, kind) else None

    async def add_interaction(self, organization_id: str, interaction: Interaction) -> None:
        """Insert an interaction."""
        await self._conn.execute(
            _INT.insert().values(mappers.interaction_values(organization_id, interaction))
        )
        self._record(Write.INSERT, EntityType.INTERACTION, organization_id, None, interaction)

    async def add_appointment(self, organization_id: str, appointment: Appointment) -> None:
        """Insert an appointment (local date and time in the organization's time zone)."""
        await self._conn.execute(
            _APP.insert().values(mappers.appointment_values(organization_id, appointment, self._tz))
        )
        self._record(Write.INSERT, EntityType.APPOINTMENT, organization_id, None, appointment)

    async def get_appointment(
        self, organization_id: str, customer_id: str, appointment_id: str
    ) -> Appointment | None:
        """The customer's appointment, or None."""
        row = await self._one(_APP, organization_id, customer_id, appointment_id)
        found = mappers.appointment_from_row(row) if row is not None else None
        self._remember(found)
        return found

    async def save_appointment(self, organization_id: str, appointment: Appointment) -> None:
        """Update an appointment."""
        values = mappers.appointment_values(organization_id, appointment, self._tz)
        await self._update(_APP, organization_id, appointment.id, values)
        before = self._before(appointment.id, Appointment)
        self._record(Write.UPDATE, EntityType.APPOINTMENT, organization_id, before, appointment)
        self._loaded[appointment.id] = appointment

    async def add_reminder(self, organization_id: str, reminder: Reminder) -> None:
        """Insert a reminder."""
        await self._conn.execute(
            _REM.insert().values(mappers.reminder_values(organization_id, reminder))
        )
        self._record(Write.INSERT, EntityType.REMINDER, organization_id, None, reminder)

    async def get_reminder(
        self, organization_id: str, customer_id: str, reminder_id: str
    ) -> Reminder | None:
        """The customer's reminder, or None."""
        row = await self._one(_REM, organization_id, customer_id, reminder_id)
        found = mappers.reminder_from_row(row) if row is not None else None
        self._remember(found)
        return found

    async def save_reminder(self, organization_id: str, reminder: Reminder) -> None:
        """Update a reminder."""
        values = mappers.reminder_values(organization_id, reminder)
        await self._update(_REM, organization_id, reminder.id, values)
        before = self._before(reminder.id, Reminder)
        self._record(Write.UPDATE, EntityType.REMINDER, organization_id, before, reminder)
        self._loaded[reminder.id] = reminder

    async def add_document(self, organization_id: str, document: Document) -> None:
        """Insert a document's record."""
        try:
            await self._conn.execute(
                _DOC.insert().values(mappers.document_values(organization_id, document))
            )
        except IntegrityError as error:
            if "storage_key" in _integrity_text(error):
                raise Duplicate("storage key already used", field="storageKey") from error
            raise
        self._record(Write.INSERT, EntityType.DOCUMENT, organization_id, None, document)

    async def get_document(
        self, organization_id: str, customer_id: str, document_id: str
    ) -> Document | None:
        """The customer's document record, or None."""
        row = await self._one(_DOC, organization_id, customer_id, document_id)
        found = mappers.document_from_row(row) if row is not None else None
        self._remember(found)
        return found

    async def delete_document(self, organization_id: str, document_id: str) -> None:
        """Remove a document's record."""
        await self._conn.execute(
            delete(_DOC).where(_DOC.c.organization_id == organization_id, _DOC.c.id == document_id)
        )
        before = self._loaded.pop(document_id, None)
        if isinstance(before, Document):  # read first by every caller: it names the customer
            self._record(Write.DELETE, EntityType.DOCUMENT, organization_id, before, None)

    async def list_for_customer(
        self, organization_id: str, customer_id: str, kinds: frozenset[str], limit: int
    ) -> dict[str, list[Interaction] | list[Appointment] | list[Reminder] | list[Document]]:
        """The newest ``limit`` rows of each kind in ``kinds``, one query per kind."""
        result: dict[
            str, list[Interaction] | list[Appointment] | list[Reminder] | list[Document]
        ] = {}
        unknown = kinds - set(_KINDS)
        if unknown:
            raise ValueError(f"unknown relation kinds {sorted(unknown)}")
        for kind in sorted(kinds):
            table, newest = _KINDS[kind]
            rows = (
                (
                    await self._conn.execute(
                        select(table)
                        .where(
                            table.c.organization_id == organization_id,
                            table.c.customer_id == customer_id,
                        )
                        .order_by(table.c[newest].desc(), table.c.id.desc())
                        .limit(limit)
                    )
                )
                .mappings()
                .all()
            )
            if kind == "interactions":
                result[kind] = [mappers.interaction_from_row(r) for r in rows]
            elif kind == "appointments":
                result[kind] = [mappers.appointment_from_row(r) for r in rows]
            elif kind == "reminders":
                result[kind] = [mappers.reminder_from_row(r) for r in rows]
            else:
                result[kind] = [mappers.document_from_row(r) for r in rows]
        return result

    async def recent_with_sentiment(
        self, organization_id: str, customer_id: str, limit: int
    ) -> list[Interaction]:
        """The newest ``limit`` interactions carrying a sentiment, newest first (1 statement, on
        the ``(customer_id, date)`` index)."""
        rows = await self._conn.execute(
            select(_INT)
            .where(
                _INT.c.organization_id == organization_id,
                _INT.c.customer_id == customer_id,
                _INT.c.sentiment.is_not(None),
            )
            .order_by(_INT.c.date.desc(), _INT.c.id.desc())
            .limit(max(limit, 0))
        )
        return [mappers.interaction_from_row(r) for r in rows.mappings()]

    async def _one(
        self, table: Table, organization_id: str, customer_id: str, record_id: str
    ) -> Any:
        return (
            (
                await self._conn.execute(
                    select(table).where(
                        table.c.organization_id == organization_id,
                        table.c.customer_id == customer_id,
                        table.c.id == record_id,
                    )
                )
            )
            .mappings()
            .first()
        )

    async def _update(
        self, table: Table, organization_id: str, record_id: str, values: dict[str, object]
    ) -> None:
        for key in ("id", "organization_id", "customer_id"):
            values.pop(key)
        result = await self._conn.execute(
            update(table)
            .where(table.c.organization_id == organization_id, table.c.id == record_id)
            .values(values)
        )
        if result.rowcount == 0:
            raise NotFound(table.name.rstrip("s"), record_id)


_KINDS: Final[dict[str, tuple[Table, str]]] = {
    "interactions": (_INT, "date"),
    "appointments": (_APP, "datetime"),
    "reminders": (_REM, "datetime"),
    "documents": (_DOC, "uploaded_at"),
}


# --- employees -------------------------------------------------------------------------------

_E = tables.employees


class SqlEmployeeRepository:
    """Employees of an organization; 1 statement per call."""

    def __init__(self, conn: AsyncConnection, log: ChangeLog | None = None) -> None:
        self._conn = conn
        self._log = log if log is not None else ChangeLog()
        self._loaded: dict[str, Employee] = {}

    async def get(self, organization_id: str, employee_id: str) -> Employee | None:
        """The employee, or None when absent in this organization."""
        return (await self.get_many(organization_id, [employee_id])).get(employee_id)

    async def get_many(self, organization_id: str, ids: Sequence[str]) -> dict[str, Employee]:
        """The employees among ``ids`` that exist in the organization, by id."""
        if not ids:
            return {}
        rows = await self._conn.execute(
            select(_E).where(_E.c.organization_id == organization_id, _E.c.id.in_(set(ids)))
        )
        found = {r["id"]: mappers.employee_from_row(r) for r in rows.mappings()}
        self._loaded.update(found)
        return found

    async def save(self, employee: Employee) -> None:
        """Insert or update an employee (``created_at`` is kept on update)."""
        await _upsert(
            self._conn,
            _E,
            [mappers.employee_values(employee)],
            ["organization_id", "id"],
            keep=["created_at"],
        )
        # An employee not read first is a new one (the use cases read before they update).
        before = self._loaded.get(employee.id)
        write = Write.UPDATE if before is not None else Write.INSERT
        self._log.record(
            write,
            EntityType.EMPLOYEE,
            employee.organization_id,
            employee.id,
            None,
            before,
            employee,
        )
        self._loaded[employee.id] = employee

    async def team_member_ids(self, organization_id: str, manager_id: str) -> set[str]:
        """Ids of the employees whose ``manager_id`` is ``manager_id``."""
        rows = await self._conn.execute(
            select(_E.c.id).where(
                _E.c.organization_id == organization_id, _E.c.manager_id == manager_id
            )
        )
        return set(rows.scalars())


# --- the property catalog --------------------------------------------------------------------

_P = tables.properties


class SqlPropertyCatalog:
    """The ``properties`` table as a :class:`~customers_hub.application.ports.PropertyCatalog`.

    ``candidates`` pre-filters in SQL with bounds no looser than
    :func:`customers_hub.domain.matching.score_property`'s (organization, available, preferred
    types, the price band with its 10 % tolerance, bedrooms and area where both sides are known,
    rejected properties) and leaves the place comparison, which normalizes text, to the domain.
    Cheapest first, then by id, so the same catalog always gives the same candidates.
    """

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    def candidates_query(self, customer: Customer, limit: int) -> Select[Any]:
        """The SQL of :meth:`candidates` (exposed for tests and ``EXPLAIN``)."""
        prefs = customer.preferences
        conditions: list[ColumnElement[bool]] = [
            _P.c.organization_id == customer.organization_id,
            _P.c.status == PropertyStatus.AVAILABLE.value,
        ]
        if prefs.property_type:
            conditions.append(_P.c.type.in_([t.value for t in prefs.property_type]))
        if prefs.budget_max is not None:
            high = prefs.budget_max * (1 + BUDGET_TOLERANCE) + _PREFILTER_SLACK
            conditions.append(_P.c.price <= high)
        if prefs.budget_min is not None:
            low = prefs.budget_min * (1 - BUDGET_TOLERANCE) - _PREFILTER_SLACK
            conditions.append(_P.c.price >= low)
        if prefs.bedrooms is not None:
            conditions.append(_P.c.bedrooms.is_(None) | (_P.c.bedrooms >= prefs.bedrooms))
        if prefs.min_area is not None:
            conditions.append(
                _P.c.area.is_(None) | (_P.c.area >= prefs.min_area - _PREFILTER_SLACK)
            )
        rejected = sorted(
            i.property_id
            for i in customer.property_interests
            if i.status is PropertyInterestStatus.REJECTED
        )
        if rejected:
            conditions.append(_P.c.id.not_in(rejected))
        return (
            select(_P)
            .where(and_(true(), *conditions))
            .order_by(_P.c.price, _P.c.id)
            .limit(max(limit, 0))
        )

    async def candidates(self, customer: Customer, limit: int) -> list[Property]:
        """Available properties of the customer's organization worth scoring (1 statement)."""
        rows = await self._conn.execute(self.candidates_query(customer, limit))
        return [mappers.property_from_row(r) for r in rows.mappings()]

    async def get(self, organization_id: str, property_id: str) -> Property | None:
        """The organization's property (any status), or None (1 statement on the unique
        ``(organization_id, id)`` index; another organization's row is never read)."""
        rows = await self._conn.execute(
            select(_P).where(_P.c.organization_id == organization_id, _P.c.id == property_id)
        )
        row = rows.mappings().first()
        return mappers.property_from_row(row) if row is not None else None

    async def add(self, prop: Property) -> None:
        """Insert or update a property (1 statement)."""
        await _upsert(self._conn, _P, [mappers.property_values(prop)], ["organization_id", "id"])

    async def count(self, organization_id: str) -> int:
        """How many properties the organization's catalog holds (any status)."""
        total = await self._conn.scalar(
            select(func.count()).select_from(_P).where(_P.c.organization_id == organization_id)
        )
        return int(total or 0)


# --- organization settings -------------------------------------------------------------------

_S = tables.organization_settings


class SqlOrganizationSettingsRepository:
    """One row per organization that stored its settings; 1 statement per call."""

    def __init__(self, conn: AsyncConnection, log: ChangeLog | None = None) -> None:
        self._conn = conn
        self._log = log if log is not None else ChangeLog()
        self._loaded: dict[str, OrganizationSettings] = {}

    async def get(self, organization_id: str) -> OrganizationSettingsRecord | None:
        """The stored settings (by primary key), or None."""
        rows = await self._conn.execute(select(_S).where(_S.c.organization_id == organization_id))
        row = rows.mappings().first()
        found = mappers.settings_from_row(row) if row is not None else None
        if found is not None:
            self._loaded[organization_id] = found.settings
        return found

    async def save(self, record: OrganizationSettingsRecord, *, expected_version: int) -> None:
        """Insert (``expected_version`` 0; ``ON CONFLICT DO NOTHING``) or update the row of
        ``expected_version``; ``ConcurrentUpdate`` when no row was written."""
        values = mappers.settings_values(record)
        if expected_version == 0:
            # RETURNING says whether the row was inserted (psycopg reports no rowcount for an
            # INSERT … ON CONFLICT DO NOTHING); a row already there is another request's.
            stmt = (
                _insert(self._conn, _S)
                .on_conflict_do_nothing(index_elements=["organization_id"])
                .returning(_S.c.organization_id)
            )
            written = (await self._conn.execute(stmt, values)).first() is not None
        else:
            result = await self._conn.execute(
                update(_S)
                .where(
                    _S.c.organization_id == record.organization_id,
                    _S.c.version == expected_version,
                )
                .values({k: v for k, v in values.items() if k != "organization_id"})
            )
            written = result.rowcount == 1
        if not written:
            raise ConcurrentUpdate("organization_settings", record.organization_id)
        org = record.organization_id
        # The first stored settings replace defaults no row holds: they are listed as set.
        before = self._loaded.get(org) if expected_version else None
        self._log.record(
            Write.INSERT if expected_version == 0 else Write.UPDATE,
            EntityType.ORGANIZATION_SETTINGS,
            org,
            org,
            None,
            before,
            record.settings,
        )
        self._loaded[org] = record.settings

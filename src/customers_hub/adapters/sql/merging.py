"""Customer merges in SQL (rules §10; the rules are :mod:`customers_hub.domain.merging`).

Everything runs on the unit of work's connection, inside the merge's (or unmerge's) one
transaction. Statements of a merge, whatever the number of rows moved:

* ``lock`` — one ``SELECT … FOR UPDATE`` of the survivor and sources (PostgreSQL; SQLite's
  unit of work holds the database's write lock already);
* per relation table (interactions, appointments, reminders, documents, actions) one SELECT of
  the sources' rows, to fingerprint them and know each row's source, and one set-based
  ``UPDATE … SET customer_id = :survivor WHERE organization_id = :org AND customer_id IN
  (:sources)`` — both seek ``(organization_id, customer_id, …)`` indexes; action notes follow
  their actions;
* property interests: the same for the ids the domain chose (:func:`movable_interests`);
* stage history: one SELECT and two UPDATEs that renumber the survivor's history with the
  moved entries in it (negative positions first: ``UNIQUE (customer_id, seq)`` is checked row
  by row on both databases, so a direct renumbering could collide with itself);
* ``counters`` — three aggregate queries for any number of customers.

An unmerge reads the moved rows back (one SELECT per table, by primary key, in chunks), then
moves them with one UPDATE per table and source (at most :data:`~customers_hub.domain.merging
.MAX_SOURCES`), and renumbers the survivor's remaining history the same way.

A row's fingerprint is a hash of its columns but those the merge or a later rename of the
survivor writes (``customer_id``, the history position and mark, an action's denormalized
customer name and version): an unmerge refuses a row whose fingerprint moved.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Table, and_, case, func, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from customers_hub.adapters.sql import tables as t
from customers_hub.adapters.sql.dialect import literal_rows
from customers_hub.adapters.sql.mappers.rows import from_row, row_values
from customers_hub.adapters.sql.uow import SqlUnitOfWork
from customers_hub.application.ports import UnitOfWork
from customers_hub.domain.enums import InteractionDirection, InteractionType, Sentiment
from customers_hub.domain.merging import (
    FieldFill,
    HistoryOrigin,
    MergeRecord,
    RelationCounters,
    UnmergeConflictItem,
)

__all__ = ["SqlMergeStore", "sql_merge_store"]

_WHOLE_TABLES: Final[tuple[Table, ...]] = (
    t.interactions,
    t.appointments,
    t.reminders,
    t.documents,
    t.customer_actions,
)
"""Tables whose every row of a source moves to the survivor."""

_HISTORY: Final = t.stage_history
_INTERESTS: Final = t.property_interests
_MERGES: Final = t.customer_merges

# What the merge itself writes, or a later rename of the survivor rewrites on its actions
# (``ActionRepository.set_customer_name``): not part of a row's content.
_NOT_FINGERPRINTED: Final[Mapping[str, frozenset[str]]] = {
    _HISTORY.name: frozenset({"customer_id", "seq", "merged_from"}),
    t.customer_actions.name: frozenset({"customer_id", "customer_name", "search_text", "version"}),
}
_DEFAULT_IGNORED: Final = frozenset({"customer_id"})
_CHUNK: Final = 5_000  # ids per IN list: well within SQLite's 32766 bound parameters
_TABLES: Final[Mapping[str, Table]] = {
    table.name: table for table in (*_WHOLE_TABLES, _INTERESTS, _HISTORY)
}


def _canonical(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def fingerprint(table: Table, row: RowMapping | Mapping[str, Any]) -> str:
    """A hash of ``row``'s content (its columns but those a merge or a rename writes)."""
    ignored = _NOT_FINGERPRINTED.get(table.name, _DEFAULT_IGNORED)
    content = {k: _canonical(v) for k, v in row.items() if k not in ignored}
    encoded = json.dumps(content, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()[:32]


def _chunks(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


class SqlMergeStore:
    """:class:`~customers_hub.application.ports_merging.MergeStore` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def lock(self, organization_id: str, customer_ids: Sequence[str]) -> None:
        """``SELECT … FOR UPDATE`` of the customers (PostgreSQL), in id order (no deadlock
        between two merges of overlapping customers)."""
        if self._conn.dialect.name != "postgresql" or not customer_ids:
            return
        c = t.customers.c
        await self._conn.execute(
            select(c.id)
            .where(c.organization_id == organization_id, c.id.in_(sorted(customer_ids)))
            .order_by(c.id)
            .with_for_update()
        )

    async def _move_rows(
        self,
        table: Table,
        organization_id: str,
        survivor_id: str,
        source_ids: Sequence[str],
        ids: Sequence[str] | None = None,
    ) -> dict[str, tuple[str, str]]:
        c = table.c
        where = [c.organization_id == organization_id, c.customer_id.in_(source_ids)]
        if ids is not None:
            where.append(c.id.in_(ids))
        rows = (await self._conn.execute(select(table).where(*where))).mappings().all()
        if rows:
            await self._conn.execute(update(table).where(*where).values(customer_id=survivor_id))
        return {r["id"]: (r["customer_id"], fingerprint(table, r)) for r in rows}

    async def move(
        self,
        organization_id: str,
        survivor_id: str,
        source_ids: Sequence[str],
        *,
        interest_ids: Sequence[str],
        history: Sequence[tuple[str, str | None]],
    ) -> dict[str, dict[str, tuple[str, str]]]:
        """Move the sources' rows to the survivor (see the module docs); what moved."""
        moved: dict[str, dict[str, tuple[str, str]]] = {}
        for table in _WHOLE_TABLES:
            moved[table.name] = await self._move_rows(
                table, organization_id, survivor_id, source_ids
            )
        moved[_INTERESTS.name] = (
            await self._move_rows(
                _INTERESTS, organization_id, survivor_id, source_ids, list(interest_ids)
            )
            if interest_ids
            else {}
        )
        h = _HISTORY.c
        rows = (
            (
                await self._conn.execute(
                    select(_HISTORY).where(
                        h.organization_id == organization_id, h.customer_id.in_(source_ids)
                    )
                )
            )
            .mappings()
            .all()
        )
        moved[_HISTORY.name] = {r["id"]: (r["customer_id"], fingerprint(_HISTORY, r)) for r in rows}
        marks = dict(history)
        await self._renumber(
            organization_id,
            survivor_id,
            [entry_id for entry_id, _ in history],
            owners=[survivor_id, *source_ids],
            marks={i: m for i, m in marks.items() if m is not None},
        )
        return moved

    async def _renumber(
        self,
        organization_id: str,
        customer_id: str,
        order: Sequence[str],
        *,
        owners: Sequence[str],
        marks: Mapping[str, str | None],
    ) -> None:
        """Give the entries ``order`` (now of ``owners``) to ``customer_id`` at positions
        1…n in that order, writing ``merged_from`` from ``marks`` for the ids it names.
        Two statements: negative positions first, then their opposites."""
        if not order:
            return
        h = _HISTORY.c
        values: dict[str, Any] = {
            "customer_id": customer_id,
            "seq": -case({entry_id: n for n, entry_id in enumerate(order, start=1)}, value=h.id),
        }
        if marks:
            values["merged_from"] = case(dict(marks), value=h.id, else_=h.merged_from)
        await self._conn.execute(
            update(_HISTORY)
            .where(
                h.organization_id == organization_id,
                h.customer_id.in_(owners),
                h.id.in_(order),
            )
            .values(values)
        )
        await self._conn.execute(
            update(_HISTORY)
            .where(
                h.organization_id == organization_id,
                h.customer_id == customer_id,
                h.seq < 0,
            )
            .values(seq=-h.seq)
        )

    async def counters(
        self, organization_id: str, customer_ids: Sequence[str]
    ) -> dict[str, RelationCounters]:
        """Interaction counts, last contact, next follow-up and appointment counts per
        customer (three grouped queries on ``(organization_id, customer_id, …)`` indexes)."""
        ids = list(dict.fromkeys(customer_ids))
        if not ids:
            return {}
        i = t.interactions
        positive = case(
            (
                and_(
                    i.c.direction == InteractionDirection.INBOUND.value,
                    i.c.sentiment == Sentiment.POSITIVE.value,
                ),
                1,
            ),
            else_=0,
        )
        in_org = (i.c.organization_id == organization_id, i.c.customer_id.in_(ids))
        totals = await self._conn.execute(
            select(
                i.c.customer_id,
                func.count().label("total"),
                func.sum(positive).label("positive"),
                func.max(i.c.date).label("last"),
                func.min(i.c.follow_up_date).label("follow_up"),
            )
            .where(*in_org)
            .group_by(i.c.customer_id)
        )
        latest = i.alias("latest")
        newest = (
            select(func.max(latest.c.date))
            .where(
                latest.c.organization_id == organization_id,
                latest.c.customer_id == i.c.customer_id,
            )
            .scalar_subquery()
        )
        last_types = await self._conn.execute(
            select(i.c.customer_id, i.c.type, i.c.id)
            .where(*in_org, i.c.date == newest)
            .order_by(i.c.customer_id, i.c.id)
        )
        # Ties on the newest date: the greatest id, as a stable choice.
        types = {row.customer_id: InteractionType(row.type) for row in last_types}
        a = t.appointments
        appointments = await self._conn.execute(
            select(a.c.customer_id, func.count().label("total"))
            .where(a.c.organization_id == organization_id, a.c.customer_id.in_(ids))
            .group_by(a.c.customer_id)
        )
        scheduled = {row.customer_id: int(row.total) for row in appointments}
        found: dict[str, RelationCounters] = {
            cid: RelationCounters(total_appointments=scheduled.get(cid, 0)) for cid in ids
        }
        for row in totals:
            follow_up = row.follow_up
            found[row.customer_id] = RelationCounters(
                total_interactions=int(row.total),
                positive_inbound_interactions=int(row.positive or 0),
                last_contact_at=row.last,
                last_contact_type=types.get(row.customer_id),
                next_follow_up_date=follow_up.date() if follow_up is not None else None,
                total_appointments=scheduled.get(row.customer_id, 0),
            )
        return found

    async def conflicts(self, record: MergeRecord) -> list[UnmergeConflictItem]:
        """Moved rows that are gone, belong to another customer now, or changed."""
        found: list[UnmergeConflictItem] = []
        for name, rows in record.moved.items():
            table = _TABLES[name]
            ids = sorted(rows)
            current: dict[str, RowMapping] = {}
            for chunk in _chunks(ids):
                result = await self._conn.execute(
                    select(table).where(
                        table.c.organization_id == record.organization_id, table.c.id.in_(chunk)
                    )
                )
                current.update({r["id"]: r for r in result.mappings()})
            for row_id in ids:
                row = current.get(row_id)
                what = f"{name}.{row_id}"
                if row is None:
                    found.append(UnmergeConflictItem(what, "was deleted"))
                elif row["customer_id"] != record.survivor_id:
                    found.append(UnmergeConflictItem(what, "was moved to another customer"))
                elif fingerprint(table, row) != rows[row_id][1]:
                    found.append(UnmergeConflictItem(what, "was changed"))
        return found

    async def move_back(self, record: MergeRecord, survivor_history: Sequence[str]) -> None:
        """Give each moved row back to its source; history entries to their positions."""
        org, survivor = record.organization_id, record.survivor_id
        for name, rows in record.moved.items():
            if name == _HISTORY.name or not rows:
                continue
            table = _TABLES[name]
            by_source: dict[str, list[str]] = {}
            for row_id, (source_id, _) in rows.items():
                by_source.setdefault(source_id, []).append(row_id)
            for source_id, ids in by_source.items():
                for chunk in _chunks(sorted(ids)):
                    await self._conn.execute(
                        update(table)
                        .where(
                            table.c.organization_id == org,
                            table.c.customer_id == survivor,
                            table.c.id.in_(chunk),
                        )
                        .values(customer_id=source_id)
                    )
        if record.history:
            h = _HISTORY.c
            origins = record.history
            # The sources have no history rows left: their former positions are free.
            await self._conn.execute(
                update(_HISTORY)
                .where(
                    h.organization_id == org,
                    h.customer_id == survivor,
                    h.id.in_(sorted(origins)),
                )
                .values(
                    customer_id=case({i: o.source_id for i, o in origins.items()}, value=h.id),
                    seq=case({i: o.position for i, o in origins.items()}, value=h.id),
                    merged_from=case({i: o.merged_from for i, o in origins.items()}, value=h.id),
                )
            )
        await self._renumber(org, survivor, survivor_history, owners=[survivor], marks={})

    async def add(self, record: MergeRecord) -> None:
        """Insert ``record``."""
        await self._conn.execute(_MERGES.insert().values(_record_values(record)))

    async def get(self, organization_id: str, merge_id: str) -> MergeRecord | None:
        """The organization's merge ``merge_id``, or None."""
        row = (
            (
                await self._conn.execute(
                    select(_MERGES).where(
                        _MERGES.c.organization_id == organization_id, _MERGES.c.id == merge_id
                    )
                )
            )
            .mappings()
            .first()
        )
        return _record(row) if row is not None else None

    async def latest(self, organization_id: str, survivor_id: str) -> MergeRecord | None:
        """The survivor's newest merge not undone (a backward seek of its index)."""
        m = _MERGES.c
        row = (
            (
                await self._conn.execute(
                    select(_MERGES)
                    .where(
                        m.organization_id == organization_id,
                        m.survivor_id == survivor_id,
                        m.unmerged_at.is_(None),
                    )
                    .order_by(m.merged_at.desc(), m.id.desc())
                    .limit(literal_rows(1))
                )
            )
            .mappings()
            .first()
        )
        return _record(row) if row is not None else None

    async def mark_unmerged(
        self, organization_id: str, merge_id: str, at: datetime, by: str
    ) -> None:
        """Stamp the merge as undone."""
        await self._conn.execute(
            update(_MERGES)
            .where(_MERGES.c.organization_id == organization_id, _MERGES.c.id == merge_id)
            .values(unmerged_at=at, unmerged_by=by)
        )


# Columns and fields of the same name by one step (mappers.rows); the exceptions are the JSON
# columns whose values are small records of their own (kept as lists and objects).


def _record_values(record: MergeRecord) -> dict[str, object]:
    return row_values(
        record,
        _MERGES,
        moved={
            name: {row_id: list(pair) for row_id, pair in rows.items()}
            for name, rows in record.moved.items()
        },
        history={
            entry_id: [o.source_id, o.position, o.merged_from]
            for entry_id, o in record.history.items()
        },
        fields={
            name: {"source": fill.source_id, "value": fill.value}
            for name, fill in record.fields.items()
        },
    )


def _record(row: RowMapping) -> MergeRecord:
    return from_row(
        MergeRecord,
        _MERGES,
        row,
        moved={
            name: {row_id: (str(pair[0]), str(pair[1])) for row_id, pair in rows.items()}
            for name, rows in row["moved"].items()
        },
        history={
            entry_id: HistoryOrigin(str(o[0]), int(o[1]), o[2])
            for entry_id, o in row["history"].items()
        },
        fields={
            name: FieldFill(str(fill["source"]), fill["value"])
            for name, fill in row["fields"].items()
        },
    )


def sql_merge_store(uow: UnitOfWork) -> SqlMergeStore:
    """The :data:`~customers_hub.application.ports_merging.MergeStoreFactory` of SQL units."""
    if not isinstance(uow, SqlUnitOfWork):
        raise TypeError("the SQL merge store needs the SQL unit of work")
    return SqlMergeStore(uow.connection)

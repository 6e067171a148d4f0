"""The customer repository: the customer row, its history, interests and facets."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    delete,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from customers_hub.adapters.sql import mappers, tables
from customers_hub.adapters.sql.dialect import literal_rows
from customers_hub.adapters.sql.repositories.base import (
    ChangeLog,
    _customer_integrity,
    _insert_missing,
    _is_postgres,
    _upsert,
)
from customers_hub.application.errors import ConcurrentUpdate
from customers_hub.domain.audit import EntityType, Write
from customers_hub.domain.model import (
    Customer,
    PropertyInterest,
)

# --- customers -------------------------------------------------------------------------------

_C = tables.customers
_H = tables.stage_history
_I = tables.property_interests
_F = tables.customer_facets


_KEY_COLUMNS = ("id", "organization_id", "created_at")
"""Never rewritten by ``save``: the row's identity and birth."""

_ALWAYS_WRITTEN = ("version", "updated_at")
"""Written by every ``save`` even when equal: the version moves on every write."""


def _changed_values(before: Customer | None, after: Customer) -> dict[str, object]:
    """The ``SET`` of ``save``: the columns whose value differs from ``before``'s row (and
    :data:`_ALWAYS_WRITTEN`), or every column but the key when the stored row is unknown."""
    values = mappers.customer_values(after)
    for key in _KEY_COLUMNS:
        values.pop(key)
    if before is None:
        return values
    # ``before`` is the snapshot of the stored version (checked by ``save``): its mapped values
    # are the row as stored, derived columns included.
    stored = mappers.customer_values(before)
    return {
        column: value
        for column, value in values.items()
        if column in _ALWAYS_WRITTEN or column not in stored or not _same(stored[column], value)
    }


def _same(stored: object, value: object) -> bool:
    # ``==`` alone calls 1 and True, or Decimal("1.0") and Decimal("1.00"), equal; a JSON or
    # numeric value that changed only so is still written.
    return type(stored) is type(value) and stored == value and repr(stored) == repr(value)


class SqlCustomerRepository:
    """Customers with their stage history, property interests and facets.

    Statements per call: ``get`` 3 (1 when absent), ``get_many`` 3 for any number of ids,
    ``add`` 1–4 (customer, history, interests, facets), ``save`` 1–5 (the versioned UPDATE, then
    only what changed: new history, interests, facets delete + insert), ``delete`` 1 (the rest
    cascades), ``phone_in_use`` 1.

    The repository remembers each customer it loaded or wrote in this unit of work (by id, with
    its version): ``save`` of that version sets only the columns whose value changed, plus
    ``version`` and ``updated_at``; without a snapshot of the expected version it sets them all.
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
        values = _changed_values(before, customer)
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
        return (await self._conn.execute(query.limit(literal_rows(1)))).first() is not None

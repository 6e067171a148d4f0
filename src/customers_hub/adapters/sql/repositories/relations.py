"""The relation repository: interactions, appointments, reminders and documents."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Table,
    delete,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from customers_hub.adapters.sql import mappers, tables
from customers_hub.adapters.sql.dialect import literal_rows
from customers_hub.adapters.sql.repositories.base import (
    ChangeLog,
    _integrity_text,
)
from customers_hub.domain.audit import EntityType, Write
from customers_hub.domain.errors import Duplicate, NotFound
from customers_hub.domain.model import (
    Appointment,
    Document,
    Interaction,
    Reminder,
)

# --- interactions, appointments, reminders, documents ----------------------------------------

_INT = tables.interactions
_APP = tables.appointments
_REM = tables.reminders
_DOC = tables.documents

_Loaded = TypeVar("_Loaded", Appointment, Reminder, Document)


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

    async def _get(
        self,
        table: Table,
        from_row: Callable[[Any], _Loaded],
        organization_id: str,
        customer_id: str,
        record_id: str,
    ) -> _Loaded | None:
        """The customer's row of ``table``, remembered as the ``before`` of a later write."""
        row = await self._one(table, organization_id, customer_id, record_id)
        if row is None:
            return None
        found = from_row(row)
        self._loaded[found.id] = found
        return found

    async def _add(
        self,
        table: Table,
        kind: EntityType,
        organization_id: str,
        values: dict[str, object],
        record: Interaction | Appointment | Reminder | Document,
    ) -> None:
        """Insert ``record``'s row from ``values`` and log the insert."""
        await self._conn.execute(table.insert().values(values))
        self._record(Write.INSERT, kind, organization_id, None, record)

    async def _save(
        self,
        table: Table,
        kind: EntityType,
        organization_id: str,
        values: dict[str, object],
        record: Appointment | Reminder,
    ) -> None:
        """Update ``record``'s row from ``values`` and log the change against what was read."""
        await self._update(table, organization_id, record.id, values)
        before = self._loaded.get(record.id)
        same_kind = before if isinstance(before, type(record)) else None
        self._record(Write.UPDATE, kind, organization_id, same_kind, record)
        self._loaded[record.id] = record

    async def add_interaction(self, organization_id: str, interaction: Interaction) -> None:
        """Insert an interaction."""
        values = mappers.interaction_values(organization_id, interaction)
        await self._add(_INT, EntityType.INTERACTION, organization_id, values, interaction)

    async def add_appointment(self, organization_id: str, appointment: Appointment) -> None:
        """Insert an appointment (local date and time in the organization's time zone)."""
        values = mappers.appointment_values(organization_id, appointment, self._tz)
        await self._add(_APP, EntityType.APPOINTMENT, organization_id, values, appointment)

    async def get_appointment(
        self, organization_id: str, customer_id: str, appointment_id: str
    ) -> Appointment | None:
        """The customer's appointment, or None."""
        return await self._get(
            _APP, mappers.appointment_from_row, organization_id, customer_id, appointment_id
        )

    async def save_appointment(self, organization_id: str, appointment: Appointment) -> None:
        """Update an appointment."""
        values = mappers.appointment_values(organization_id, appointment, self._tz)
        await self._save(_APP, EntityType.APPOINTMENT, organization_id, values, appointment)

    async def add_reminder(self, organization_id: str, reminder: Reminder) -> None:
        """Insert a reminder."""
        values = mappers.reminder_values(organization_id, reminder)
        await self._add(_REM, EntityType.REMINDER, organization_id, values, reminder)

    async def get_reminder(
        self, organization_id: str, customer_id: str, reminder_id: str
    ) -> Reminder | None:
        """The customer's reminder, or None."""
        return await self._get(
            _REM, mappers.reminder_from_row, organization_id, customer_id, reminder_id
        )

    async def save_reminder(self, organization_id: str, reminder: Reminder) -> None:
        """Update a reminder."""
        values = mappers.reminder_values(organization_id, reminder)
        await self._save(_REM, EntityType.REMINDER, organization_id, values, reminder)

    async def add_document(self, organization_id: str, document: Document) -> None:
        """Insert a document's record."""
        values = mappers.document_values(organization_id, document)
        try:
            await self._add(_DOC, EntityType.DOCUMENT, organization_id, values, document)
        except IntegrityError as error:
            if "storage_key" in _integrity_text(error):
                raise Duplicate("storage key already used", field="storageKey") from error
            raise

    async def get_document(
        self, organization_id: str, customer_id: str, document_id: str
    ) -> Document | None:
        """The customer's document record, or None."""
        return await self._get(
            _DOC, mappers.document_from_row, organization_id, customer_id, document_id
        )

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
            table, newest, from_row = _KINDS[kind]
            rows = (
                (
                    await self._conn.execute(
                        select(table)
                        .where(
                            table.c.organization_id == organization_id,
                            table.c.customer_id == customer_id,
                        )
                        .order_by(table.c[newest].desc(), table.c.id.desc())
                        .limit(literal_rows(limit))
                    )
                )
                .mappings()
                .all()
            )
            result[kind] = [from_row(r) for r in rows]
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
            .limit(literal_rows(max(limit, 0)))
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


_KINDS: Final[dict[str, tuple[Table, str, Callable[[Any], Any]]]] = {
    # kind: (table, the column "newest" orders by, the row mapper)
    "interactions": (_INT, "date", mappers.interaction_from_row),
    "appointments": (_APP, "datetime", mappers.appointment_from_row),
    "reminders": (_REM, "datetime", mappers.reminder_from_row),
    "documents": (_DOC, "uploaded_at", mappers.document_from_row),
}

"""Interaction, appointment, reminder and document rows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import RowMapping

from customers_hub.adapters.sql import tables
from customers_hub.adapters.sql.mappers.base import DEFAULT_TIME_ZONE
from customers_hub.adapters.sql.mappers.rows import from_row, row_values
from customers_hub.domain.model import (
    Appointment,
    Document,
    Interaction,
    Reminder,
)

# --- interactions, appointments, reminders, documents ----------------------------------------
# Columns and fields of the same name by one step (:mod:`.rows`); the exceptions are the owner's
# organization, the instant stored as ``datetime`` (``at`` in the domain) and an appointment's
# local date and time.


def interaction_values(organization_id: str, interaction: Interaction) -> dict[str, object]:
    """An ``interactions`` row."""
    return row_values(interaction, tables.interactions, organization_id=organization_id)


def interaction_from_row(row: RowMapping | Mapping[str, Any]) -> Interaction:
    """The interaction of an ``interactions`` row."""
    return from_row(Interaction, tables.interactions, row)


def appointment_values(
    organization_id: str, appointment: Appointment, tz: ZoneInfo = DEFAULT_TIME_ZONE
) -> dict[str, object]:
    """An ``appointments`` row; ``date``/``time`` are the instant's local date and time in ``tz``.

    ``datetime`` (UTC) is the truth; the local columns serve filters by the organization's
    calendar day.
    """
    local = appointment.at.astimezone(tz)
    return row_values(
        appointment,
        tables.appointments,
        organization_id=organization_id,
        date=local.date(),
        time=time(local.hour, local.minute, local.second, local.microsecond),
        datetime=appointment.at,
    )


def appointment_from_row(row: RowMapping | Mapping[str, Any]) -> Appointment:
    """The appointment of an ``appointments`` row (the instant comes from ``datetime``)."""
    return from_row(Appointment, tables.appointments, row, at=row["datetime"])


def reminder_values(organization_id: str, reminder: Reminder) -> dict[str, object]:
    """A ``reminders`` row."""
    return row_values(
        reminder, tables.reminders, organization_id=organization_id, datetime=reminder.at
    )


def reminder_from_row(row: RowMapping | Mapping[str, Any]) -> Reminder:
    """The reminder of a ``reminders`` row."""
    return from_row(Reminder, tables.reminders, row, at=row["datetime"])


def document_values(organization_id: str, document: Document) -> dict[str, object]:
    """A ``documents`` row (the bytes live in document storage under ``storage_key``)."""
    return row_values(document, tables.documents, organization_id=organization_id)


def document_from_row(row: RowMapping | Mapping[str, Any]) -> Document:
    """The document of a ``documents`` row."""
    return from_row(Document, tables.documents, row)

"""Interaction, appointment, reminder and document rows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import RowMapping

from customers_hub.adapters.sql.mappers.base import (
    DEFAULT_TIME_ZONE,
    _enum,
    _tuple_of_str,
    _value,
)
from customers_hub.domain.enums import (
    AppointmentStatus,
    AppointmentType,
    DocumentType,
    InteractionDirection,
    InteractionType,
    Priority,
    ReminderStatus,
    ReminderType,
    Sentiment,
)
from customers_hub.domain.model import (
    Appointment,
    Document,
    Interaction,
    Reminder,
)

# --- interactions, appointments, reminders, documents ----------------------------------------


def interaction_values(organization_id: str, interaction: Interaction) -> dict[str, object]:
    """An ``interactions`` row."""
    return {
        "id": interaction.id,
        "organization_id": organization_id,
        "customer_id": interaction.customer_id,
        "type": interaction.type.value,
        "direction": _value(interaction.direction),
        "date": interaction.date,
        "duration": interaction.duration,
        "notes": interaction.notes,
        "outcome": interaction.outcome,
        "agent_name": interaction.agent_name,
        "agent_id": interaction.agent_id,
        "sentiment": _value(interaction.sentiment),
        "follow_up_required": interaction.follow_up_required,
        "follow_up_date": interaction.follow_up_date,
    }


def interaction_from_row(row: RowMapping | Mapping[str, Any]) -> Interaction:
    """The interaction of an ``interactions`` row."""
    return Interaction(
        id=row["id"],
        customer_id=row["customer_id"],
        type=InteractionType(row["type"]),
        date=row["date"],
        notes=row["notes"],
        agent_id=row["agent_id"],
        agent_name=row["agent_name"],
        direction=_enum(InteractionDirection, row["direction"]),
        duration=row["duration"],
        outcome=row["outcome"],
        sentiment=_enum(Sentiment, row["sentiment"]),
        follow_up_required=bool(row["follow_up_required"]),
        follow_up_date=row["follow_up_date"],
    )


def appointment_values(
    organization_id: str, appointment: Appointment, tz: ZoneInfo = DEFAULT_TIME_ZONE
) -> dict[str, object]:
    """An ``appointments`` row; ``date``/``time`` are the instant's local date and time in ``tz``.

    ``datetime`` (UTC) is the truth; the local columns serve filters by the organization's
    calendar day.
    """
    local = appointment.at.astimezone(tz)
    return {
        "id": appointment.id,
        "organization_id": organization_id,
        "customer_id": appointment.customer_id,
        "title": appointment.title,
        "title_en": appointment.title_en,
        "type": appointment.type.value,
        "date": local.date(),
        "time": time(local.hour, local.minute, local.second, local.microsecond),
        "datetime": appointment.at,
        "duration": appointment.duration,
        "location": appointment.location,
        "property_id": appointment.property_id,
        "property_title": appointment.property_title,
        "status": appointment.status.value,
        "priority": appointment.priority.value,
        "notes": appointment.notes,
        "agent_name": appointment.agent_name,
        "agent_id": appointment.agent_id,
        "reminder_sent": appointment.reminder_sent,
        "outcome": appointment.outcome,
        "created_at": appointment.created_at,
        "updated_at": appointment.updated_at,
    }


def appointment_from_row(row: RowMapping | Mapping[str, Any]) -> Appointment:
    """The appointment of an ``appointments`` row (the instant comes from ``datetime``)."""
    return Appointment(
        id=row["id"],
        customer_id=row["customer_id"],
        title=row["title"],
        type=AppointmentType(row["type"]),
        at=row["datetime"],
        duration=int(row["duration"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        status=AppointmentStatus(row["status"]),
        priority=Priority(row["priority"]),
        title_en=row["title_en"],
        location=row["location"],
        property_id=row["property_id"],
        property_title=row["property_title"],
        notes=row["notes"],
        agent_id=row["agent_id"],
        agent_name=row["agent_name"],
        reminder_sent=bool(row["reminder_sent"]),
        outcome=row["outcome"],
    )


def reminder_values(organization_id: str, reminder: Reminder) -> dict[str, object]:
    """A ``reminders`` row."""
    return {
        "id": reminder.id,
        "organization_id": organization_id,
        "customer_id": reminder.customer_id,
        "title": reminder.title,
        "title_en": reminder.title_en,
        "description": reminder.description,
        "datetime": reminder.at,
        "priority": reminder.priority.value,
        "status": reminder.status.value,
        "type": reminder.type.value,
        "related_to": reminder.related_to,
        "created_by": reminder.created_by,
        "created_by_id": reminder.created_by_id,
        "completed_at": reminder.completed_at,
    }


def reminder_from_row(row: RowMapping | Mapping[str, Any]) -> Reminder:
    """The reminder of a ``reminders`` row."""
    return Reminder(
        id=row["id"],
        customer_id=row["customer_id"],
        title=row["title"],
        type=ReminderType(row["type"]),
        at=row["datetime"],
        created_by=row["created_by"],
        created_by_id=row["created_by_id"],
        priority=Priority(row["priority"]),
        status=ReminderStatus(row["status"]),
        title_en=row["title_en"],
        description=row["description"],
        related_to=row["related_to"],
        completed_at=row["completed_at"],
    )


def document_values(organization_id: str, document: Document) -> dict[str, object]:
    """A ``documents`` row (the bytes live in document storage under ``storage_key``)."""
    return {
        "id": document.id,
        "organization_id": organization_id,
        "customer_id": document.customer_id,
        "name": document.name,
        "type": document.type.value,
        "storage_key": document.storage_key,
        "file_size": document.file_size,
        "mime_type": document.mime_type,
        "uploaded_by": document.uploaded_by,
        "uploaded_by_id": document.uploaded_by_id,
        "uploaded_at": document.uploaded_at,
        "description": document.description,
        "tags": list(document.tags),
    }


def document_from_row(row: RowMapping | Mapping[str, Any]) -> Document:
    """The document of a ``documents`` row."""
    return Document(
        id=row["id"],
        customer_id=row["customer_id"],
        name=row["name"],
        type=DocumentType(row["type"]),
        storage_key=row["storage_key"],
        file_size=int(row["file_size"]),
        mime_type=row["mime_type"],
        uploaded_by=row["uploaded_by"],
        uploaded_by_id=row["uploaded_by_id"],
        uploaded_at=row["uploaded_at"],
        description=row["description"],
        tags=_tuple_of_str(row["tags"]),
    )

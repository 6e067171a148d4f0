"""Interactions, appointments, reminders and documents on the wire."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

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
from customers_hub.entrypoints.http.wire.base import (
    API_PREFIX,
    Wire,
    opt,
    opt_utc,
    utc,
)

# ---------------------------------------------------------------------------------------------
# Relations (responses)


class InteractionOut(Wire, kw_only=True):
    """A logged interaction."""

    id: str
    customer_id: str
    type: InteractionType
    direction: InteractionDirection | UnsetType = UNSET
    date: datetime
    duration: int | UnsetType = UNSET
    notes: str
    outcome: str | UnsetType = UNSET
    agent_name: str
    agent_id: str
    sentiment: Sentiment | UnsetType = UNSET
    follow_up_required: bool
    follow_up_date: datetime | UnsetType = UNSET


def interaction_to_wire(interaction: Interaction) -> InteractionOut:
    """The wire form of an interaction."""
    return InteractionOut(
        id=interaction.id,
        customer_id=interaction.customer_id,
        type=interaction.type,
        direction=opt(interaction.direction),
        date=utc(interaction.date),
        duration=opt(interaction.duration),
        notes=interaction.notes,
        outcome=opt(interaction.outcome),
        agent_name=interaction.agent_name,
        agent_id=interaction.agent_id,
        sentiment=opt(interaction.sentiment),
        follow_up_required=interaction.follow_up_required,
        follow_up_date=opt_utc(interaction.follow_up_date),
    )


class AppointmentOut(Wire, kw_only=True):
    """An appointment: ``datetime`` is the UTC instant; ``date``/``time`` its local day and
    clock time in the organization's time zone."""

    id: str
    customer_id: str
    title: str
    title_en: str | UnsetType = UNSET
    type: AppointmentType
    day: str = msgspec.field(name="date")
    clock: str = msgspec.field(name="time")
    at: datetime = msgspec.field(name="datetime")
    duration: int
    location: str | UnsetType = UNSET
    property_id: str | UnsetType = UNSET
    property_title: str | UnsetType = UNSET
    status: AppointmentStatus
    priority: Priority
    notes: str | UnsetType = UNSET
    agent_name: str | UnsetType = UNSET
    agent_id: str | UnsetType = UNSET
    reminder_sent: bool
    outcome: str | UnsetType = UNSET
    created_at: datetime
    updated_at: datetime


def appointment_to_wire(appointment: Appointment, tz: Any = UTC) -> AppointmentOut:
    """The wire form of an appointment; ``tz`` is the organization's time zone."""
    local = appointment.at.astimezone(tz)
    return AppointmentOut(
        id=appointment.id,
        customer_id=appointment.customer_id,
        title=appointment.title,
        title_en=opt(appointment.title_en),
        type=appointment.type,
        day=local.date().isoformat(),
        clock=local.strftime("%H:%M"),
        at=utc(appointment.at),
        duration=appointment.duration,
        location=opt(appointment.location),
        property_id=opt(appointment.property_id),
        property_title=opt(appointment.property_title),
        status=appointment.status,
        priority=appointment.priority,
        notes=opt(appointment.notes),
        agent_name=opt(appointment.agent_name),
        agent_id=opt(appointment.agent_id),
        reminder_sent=appointment.reminder_sent,
        outcome=opt(appointment.outcome),
        created_at=utc(appointment.created_at),
        updated_at=utc(appointment.updated_at),
    )


class ReminderOut(Wire, kw_only=True):
    """A reminder about the customer."""

    id: str
    customer_id: str
    title: str
    title_en: str | UnsetType = UNSET
    description: str | UnsetType = UNSET
    at: datetime = msgspec.field(name="datetime")
    priority: Priority
    status: ReminderStatus
    type: ReminderType
    related_to: str | UnsetType = UNSET
    created_by: str
    created_by_id: str
    completed_at: datetime | UnsetType = UNSET


def reminder_to_wire(reminder: Reminder) -> ReminderOut:
    """The wire form of a reminder."""
    return ReminderOut(
        id=reminder.id,
        customer_id=reminder.customer_id,
        title=reminder.title,
        title_en=opt(reminder.title_en),
        description=opt(reminder.description),
        at=utc(reminder.at),
        priority=reminder.priority,
        status=reminder.status,
        type=reminder.type,
        related_to=opt(reminder.related_to),
        created_by=reminder.created_by,
        created_by_id=reminder.created_by_id,
        completed_at=opt_utc(reminder.completed_at),
    )


def document_url(document: Document) -> str:
    """Where the document's bytes are downloaded (an authorized endpoint of this API)."""
    return f"{API_PREFIX}/customers/{document.customer_id}/documents/{document.id}"


class DocumentOut(Wire, kw_only=True):
    """A stored document; ``fileUrl`` is the authorized download endpoint (relative URL)."""

    id: str
    customer_id: str
    name: str
    type: DocumentType
    file_url: str
    file_size: int
    mime_type: str
    uploaded_by: str
    uploaded_by_id: str
    uploaded_at: datetime
    description: str | UnsetType = UNSET
    tags: list[str]


def document_to_wire(document: Document) -> DocumentOut:
    """The wire form of a document (never its storage key)."""
    return DocumentOut(
        id=document.id,
        customer_id=document.customer_id,
        name=document.name,
        type=document.type,
        file_url=document_url(document),
        file_size=document.file_size,
        mime_type=document.mime_type,
        uploaded_by=document.uploaded_by,
        uploaded_by_id=document.uploaded_by_id,
        uploaded_at=utc(document.uploaded_at),
        description=opt(document.description),
        tags=list(document.tags),
    )

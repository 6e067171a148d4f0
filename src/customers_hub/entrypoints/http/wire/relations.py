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
)
from customers_hub.entrypoints.http.wire.convert import to_wire

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
    return to_wire(interaction, InteractionOut)


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
    """The wire form of an appointment; ``tz`` is the organization's time zone (its local
    ``date`` and ``time``)."""
    local = appointment.at.astimezone(tz)
    return to_wire(
        appointment,
        AppointmentOut,
        day=local.date().isoformat(),
        clock=local.strftime("%H:%M"),
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
    return to_wire(reminder, ReminderOut)


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
    """The wire form of a document (never its storage key: the Struct has none)."""
    return to_wire(document, DocumentOut, file_url=document_url(document))

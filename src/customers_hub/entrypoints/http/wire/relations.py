"""Interactions, appointments, reminders and documents on the wire."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import msgspec

from customers_hub.domain.model import (
    Appointment,
    Document,
    Interaction,
    Reminder,
)
from customers_hub.entrypoints.http.wire.base import (
    API_PREFIX,
)
from customers_hub.entrypoints.http.wire.convert import out_of, to_wire

# ---------------------------------------------------------------------------------------------
# Relations (responses)


_InteractionFields: Any = out_of(Interaction)


class InteractionOut(_InteractionFields):  # type: ignore[misc]  # fields made from the entity
    """A logged interaction."""


def interaction_to_wire(interaction: Interaction) -> InteractionOut:
    """The wire form of an interaction."""
    return to_wire(interaction, InteractionOut)


_AppointmentFields: Any = out_of(
    Appointment,
    names={"at": "datetime"},
    extra=(
        ("day", str, msgspec.field(name="date")),
        ("clock", str, msgspec.field(name="time")),
    ),
)


class AppointmentOut(_AppointmentFields):  # type: ignore[misc]  # fields made from the entity
    """An appointment: ``datetime`` is the UTC instant; ``date``/``time`` its local day and
    clock time in the organization's time zone."""


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


_ReminderFields: Any = out_of(Reminder, names={"at": "datetime"})


class ReminderOut(_ReminderFields):  # type: ignore[misc]  # fields made from the entity
    """A reminder about the customer."""


def reminder_to_wire(reminder: Reminder) -> ReminderOut:
    """The wire form of a reminder."""
    return to_wire(reminder, ReminderOut)


def document_url(document: Document) -> str:
    """Where the document's bytes are downloaded (an authorized endpoint of this API)."""
    return f"{API_PREFIX}/customers/{document.customer_id}/documents/{document.id}"


_DocumentFields: Any = out_of(
    Document, skip=("storage_key",), extra=(("file_url", str, msgspec.field()),)
)


class DocumentOut(_DocumentFields):  # type: ignore[misc]  # fields made from the entity
    """A stored document; ``fileUrl`` is the authorized download endpoint (relative URL). Its
    storage key is never on the wire."""


def document_to_wire(document: Document) -> DocumentOut:
    """The wire form of a document (never its storage key: the Struct has none)."""
    return to_wire(document, DocumentOut, file_url=document_url(document))

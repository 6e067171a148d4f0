"""A customer's relations: endpoints 24–28 and their sub-resource updates
(``/api/v1/customers/{customerId}/…``).

* ``POST …/properties`` (201), ``PATCH …/properties/{interestId}`` (status);
* ``POST …/interactions`` (201);
* ``POST …/appointments`` (201), ``PATCH …/appointments/{appointmentId}``;
* ``POST …/reminders`` (201), ``POST …/reminders/{reminderId}/complete``;
* ``POST …/documents`` (multipart, 201), ``GET …/documents/{documentId}`` (the bytes),
  ``DELETE …/documents/{documentId}``: :mod:`.documents`.

Decisions where the contracts are silent (for ``docs/``):

* **Uploads** are ``multipart/form-data`` with ``file``, ``name`` (default: the uploaded file's
  base name — a display name only, never a path), ``type`` (a document type), ``description``
  and ``tags`` (repeated fields, a JSON array string or a comma-separated string). The file's
  type is decided by its **content** (magic bytes), never by the client's ``Content-Type`` or
  file name: PDF ``%PDF-``, JPEG ``FF D8 FF``, PNG ``89 50 4E 47 0D 0A 1A 0A``, WebP
  ``RIFF….WEBP``, HEIC ``ftyp{heic,heix,heim,heis,hevc,hevx,mif1,msf1}`` at offset 4, DOCX a
  ZIP holding ``word/document.xml``; anything else is 415. Larger than the configured limit
  (``CUSTOMERS_HUB_MAX_DOCUMENT_BYTES``, 20 MiB by default) is 413 — announced bodies over the
  limit are refused before they are read.
* **Downloads** need read access to the customer; they answer the stored bytes with the
  detected type, ``Content-Disposition: attachment`` (an ASCII fallback name of the document id,
  the real name as ``filename*``) and ``X-Content-Type-Options: nosniff``.
* Appointment ``time`` is ``HH:MM`` (or ``HH:MM:SS``) in the organization's time zone, with
  ``date``; sent beside ``datetime`` (with a zone) they must name the same moment, read in the
  organization's zone or in the datetime's own offset, else 400 on ``date``/``time``.
* Scheduling or moving an appointment over another one of the same employee is 409
  ``APPOINTMENT_CONFLICT`` unless the body says ``allowConflict: true`` (``docs/appointments.md``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import msgspec
from litestar import Response, patch, post
from msgspec import UNSET, UnsetType

from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases import relations as use_cases
from customers_hub.application.use_cases import reminders, scheduling
from customers_hub.domain.enums import (
    AppointmentStatus,
    PropertyInterestStatus,
)
from customers_hub.domain.errors import FieldError, ValidationFailed
from customers_hub.domain.model import Actor
from customers_hub.entrypoints.http.envelope import Envelope, ok
from customers_hub.entrypoints.http.errors import error_responses
from customers_hub.entrypoints.http.route_params import CUSTOMER_ID
from customers_hub.entrypoints.http.strict import StrictController
from customers_hub.entrypoints.http.wire import (
    AppointmentOut,
    InteractionOut,
    PropertyInterestOut,
    ReminderOut,
    Wire,
    WireIn,
    appointment_to_wire,
    interaction_to_wire,
    property_interest_to_wire,
    reminder_to_wire,
)
from customers_hub.entrypoints.http.wire.commands import body_of, to_command

__all__ = [
    "CUSTOMER_ID",
    "ROUTES",
    "RelationsController",
]

# ---------------------------------------------------------------------------------------------
# Wire: bodies and data


# The bodies that take a command's fields are made from it (wire.commands.body_of); a missing
# required field defaults to "" or None so that the use case names it with every other one.
_ON_CUSTOMER = "customer_id"  # the path carries it


_InterestBody: Any = body_of(
    use_cases.AddPropertyInterest, skip=(_ON_CUSTOMER,), defaults={"property_id": ""}
)
_InteractionBody: Any = body_of(use_cases.LogInteraction, skip=(_ON_CUSTOMER,))
_ReminderBody: Any = body_of(
    reminders.AddReminder,
    skip=(_ON_CUSTOMER,),
    defaults={"title": "", "at": None},
    names={"at": "datetime"},
)


class PropertyInterestIn(_InterestBody):  # type: ignore[misc]  # fields made from the command
    """``POST /customers/{id}/properties``: the fields of :class:`AddPropertyInterest`."""

    echoes = PropertyInterestOut  # its read-only keys are checked and ignored


class PropertyInterestStatusIn(WireIn, kw_only=True):
    """``PATCH /customers/{id}/properties/{interestId}``."""

    status: PropertyInterestStatus


class PropertyInterestData(Wire, kw_only=True):
    """``data`` of a property interest response."""

    property: PropertyInterestOut


class InteractionIn(_InteractionBody):  # type: ignore[misc]  # fields made from the command
    """``POST /customers/{id}/interactions``: the fields of :class:`LogInteraction` (the caller
    is the agent; ``date`` defaults to now)."""

    echoes = InteractionOut  # its read-only keys are checked and ignored


class InteractionData(Wire, kw_only=True):
    """``data`` of an interaction response."""

    interaction: InteractionOut


# The local day and clock time are read as the document writes them ("HH:MM", parsed in the
# organization's zone by the handler); a new appointment is always scheduled.
_AppointmentBody: Any = body_of(
    scheduling.ScheduleAppointment,
    skip=(_ON_CUSTOMER, "date", "time"),
    defaults={"title": ""},
    names={"at": "datetime"},
    extra=(
        ("status", Literal["scheduled"] | None, None),
        ("day", dt.date | None, msgspec.field(default=None, name="date")),
        ("clock", str | None, msgspec.field(default=None, name="time")),
    ),
)


class AppointmentIn(_AppointmentBody):  # type: ignore[misc]  # fields made from the command
    """``POST /customers/{id}/appointments``: the fields of :class:`ScheduleAppointment`;
    ``datetime``, or ``date`` + ``time`` (local)."""

    echoes = AppointmentOut  # its read-only keys are checked and ignored


class AppointmentPatchIn(WireIn, kw_only=True):
    """``PATCH /customers/{id}/appointments/{appointmentId}``: status, outcome, notes, or a new
    time (a reschedule)."""

    echoes = AppointmentOut  # its read-only keys are checked and ignored

    status: AppointmentStatus | UnsetType = UNSET
    outcome: str | UnsetType | None = UNSET
    notes: str | UnsetType | None = UNSET
    at: dt.datetime | None = msgspec.field(default=None, name="datetime")
    day: dt.date | None = msgspec.field(default=None, name="date")
    clock: str | None = msgspec.field(default=None, name="time")
    allow_conflict: bool = False  # move over another appointment of the employee (no 409)


class AppointmentData(Wire, kw_only=True):
    """``data`` of an appointment response."""

    appointment: AppointmentOut


class ReminderIn(_ReminderBody):  # type: ignore[misc]  # fields made from the command
    """``POST /customers/{id}/reminders``: the fields of :class:`AddReminder` (``at`` is the
    document's ``datetime``)."""

    echoes = ReminderOut  # its read-only keys are checked and ignored


class ReminderData(Wire, kw_only=True):
    """``data`` of a reminder response."""

    reminder: ReminderOut


# ---------------------------------------------------------------------------------------------
# Parsing helpers


def _clock(field: str, raw: str | None) -> dt.time | None:
    if raw is None or not raw.strip():
        return None
    try:
        return dt.time.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationFailed.single(field, "must be a time like 14:30") from None


def _moment_errors(
    at: dt.datetime | None, day: dt.date | None, clock: dt.time | None, tz: dt.tzinfo
) -> list[FieldError]:
    """``date``/``time`` sent with ``datetime`` must name the same moment: read in the
    organization's zone (the local day and clock) or in the datetime's own offset (the API
    document's example writes ``"date": "2024-01-28", "time": "11:00"`` beside
    ``"2024-01-28T11:00:00Z"``). Anything else is refused, never rewritten."""
    if at is None or at.tzinfo is None:
        return []
    readings = [at, at.astimezone(tz)]
    errors: list[FieldError] = []
    if day is not None and all(r.date() != day for r in readings):
        errors.append(FieldError("date", "contradicts datetime"))
    if clock is not None and all(
        (r.hour, r.minute, r.second) != (clock.hour, clock.minute, clock.second) for r in readings
    ):
        errors.append(FieldError("time", "contradicts datetime"))
    if day is not None and clock is not None and not errors:
        # Both must come from the same reading (not the local day with the UTC clock).
        both = any(
            r.date() == day and (r.hour, r.minute) == (clock.hour, clock.minute) for r in readings
        )
        if not both:
            errors.append(FieldError("time", "contradicts datetime"))
    return errors


def _when(data: AppointmentIn | AppointmentPatchIn, tz: dt.tzinfo) -> dt.time | None:
    """The appointment's local clock time, checked against ``datetime`` (400 on both)."""
    errors: list[FieldError] = []
    clock: dt.time | None = None
    try:
        clock = _clock("time", data.clock)
    except ValidationFailed as bad:
        errors.extend(bad.errors)
    errors.extend(_moment_errors(data.at, data.day, clock, tz))
    if errors:
        raise ValidationFailed(errors)
    return clock


# ---------------------------------------------------------------------------------------------
# Controllers


class RelationsController(StrictController):
    """``/api/v1/customers/{customerId}/…`` (JSON endpoints)."""

    path = "/customers/{customer_id:str}"
    tags = ("Relations",)

    @post(
        "/properties",
        operation_id="addPropertyInterest",
        summary="Add a property interest",
        responses=error_responses(403, 404, 409),
    )
    async def add_property_interest(
        self, deps: Dependencies, actor: Actor, customer_id: CUSTOMER_ID, data: PropertyInterestIn
    ) -> Response[Envelope[PropertyInterestData]]:
        """Add a property to the customer's interests (409 on the same property twice)."""
        command = to_command(data, use_cases.AddPropertyInterest, customer_id=customer_id)
        interest = await use_cases.add_property_interest(deps, actor, command)
        return ok(
            PropertyInterestData(property=property_interest_to_wire(interest)),
            message="Property interest added successfully",
        )

    @patch(
        "/properties/{interest_id:str}",
        operation_id="updatePropertyInterestStatus",
        summary="Change a property interest's status",
        responses=error_responses(403, 404, 422),
    )
    async def update_property_interest(
        self,
        deps: Dependencies,
        actor: Actor,
        customer_id: CUSTOMER_ID,
        interest_id: str,
        data: PropertyInterestStatusIn,
    ) -> Response[Envelope[PropertyInterestData]]:
        """Move an interest to another status (``viewed`` counts a property view)."""
        command = to_command(
            data,
            use_cases.UpdatePropertyInterestStatus,
            customer_id=customer_id,
            interest_id=interest_id,
        )
        interest = await use_cases.update_property_interest_status(deps, actor, command)
        return ok(PropertyInterestData(property=property_interest_to_wire(interest)))

    @post(
        "/interactions",
        operation_id="logInteraction",
        summary="Log an interaction",
        responses=error_responses(403, 404),
    )
    async def log_interaction(
        self, deps: Dependencies, actor: Actor, customer_id: CUSTOMER_ID, data: InteractionIn
    ) -> Response[Envelope[InteractionData]]:
        """Log a contact; a required follow-up creates a ``follow_up`` action."""
        command = to_command(data, use_cases.LogInteraction, customer_id=customer_id)
        interaction = await use_cases.log_interaction(deps, actor, command)
        return ok(
            InteractionData(interaction=interaction_to_wire(interaction)),
            message="Interaction logged successfully",
        )

    @post(
        "/appointments",
        operation_id="scheduleAppointment",
        summary="Schedule an appointment",
        responses=error_responses(403, 404, 409, 422),
    )
    async def schedule_appointment(
        self, deps: Dependencies, actor: Actor, customer_id: CUSTOMER_ID, data: AppointmentIn
    ) -> Response[Envelope[AppointmentData]]:
        """Schedule an appointment in the future (a ``site_visit`` creates an action)."""
        tz = await deps.zone_of(actor.organization_id)
        command = to_command(
            data,
            scheduling.ScheduleAppointment,
            customer_id=customer_id,
            date=data.day,
            time=_when(data, tz),
        )
        appointment = await scheduling.schedule_appointment(deps, actor, command)
        return ok(
            AppointmentData(appointment=appointment_to_wire(appointment, tz)),
            message="Appointment scheduled successfully",
        )

    @patch(
        "/appointments/{appointment_id:str}",
        operation_id="updateAppointment",
        summary="Update or reschedule an appointment",
        responses=error_responses(403, 404, 409, 422),
    )
    async def update_appointment(
        self,
        deps: Dependencies,
        actor: Actor,
        customer_id: CUSTOMER_ID,
        appointment_id: str,
        data: AppointmentPatchIn,
    ) -> Response[Envelope[AppointmentData]]:
        """Change the status, outcome or notes, or move the appointment."""
        tz = await deps.zone_of(actor.organization_id)
        command = to_command(
            data,
            scheduling.UpdateAppointment,
            customer_id=customer_id,
            appointment_id=appointment_id,
            date=data.day,
            time=_when(data, tz),
        )
        appointment = await scheduling.update_appointment(deps, actor, command)
        return ok(AppointmentData(appointment=appointment_to_wire(appointment, tz)))

    @post(
        "/reminders",
        operation_id="addReminder",
        summary="Create a reminder",
        responses=error_responses(403, 404),
    )
    async def add_reminder(
        self, deps: Dependencies, actor: Actor, customer_id: CUSTOMER_ID, data: ReminderIn
    ) -> Response[Envelope[ReminderData]]:
        """Create a reminder due in the future."""
        errors: list[FieldError] = []
        if data.at is None:
            errors.append(FieldError("datetime", "is required"))
        if not data.title.strip():
            errors.append(FieldError("title", "is required"))
        if errors:
            raise ValidationFailed(errors)
        assert data.at is not None  # checked above
        command = to_command(data, reminders.AddReminder, customer_id=customer_id)
        reminder = await reminders.add_reminder(deps, actor, command)
        return ok(
            ReminderData(reminder=reminder_to_wire(reminder)),
            message="Reminder created successfully",
        )

    @post(
        "/reminders/{reminder_id:str}/complete",
        operation_id="completeReminder",
        summary="Complete a reminder",
        status_code=200,
        responses=error_responses(403, 404, 422),
    )
    async def complete_reminder(
        self, deps: Dependencies, actor: Actor, customer_id: CUSTOMER_ID, reminder_id: str
    ) -> Response[Envelope[ReminderData]]:
        """Mark a reminder completed (again: no change; a cancelled one: 422)."""
        command = reminders.CompleteReminder(customer_id=customer_id, reminder_id=reminder_id)
        reminder = await reminders.complete_reminder(deps, actor, command)
        return ok(ReminderData(reminder=reminder_to_wire(reminder)))


ROUTES: list[Any] = [RelationsController]
"""Mounted under ``/api/v1`` with the JSON body limit."""

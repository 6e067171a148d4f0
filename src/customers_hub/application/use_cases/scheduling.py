"""Scheduling a customer's appointments and changing them (API document, endpoint 12).

``datetime`` wins over ``date`` + ``time`` (read in the organization's zone); a move is a
reschedule; final statuses no longer change; a booking that overlaps another appointment of
the employee is a 409 unless ``allowConflict`` (:mod:`.appointments`). Each write takes one
command naming the customer (a
:class:`~customers_hub.application.use_cases.relations.RelationCommand`) and, for a change, the
appointment. The decisions are in :mod:`.relations`."""

from __future__ import annotations

import datetime as dt

from attrs import evolve, frozen

from customers_hub.application.context import Dependencies
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.use_cases.appointments import (
    ensure_free,
    follow_site_visit,
    takes_new_time,
)
from customers_hub.application.use_cases.customers import (
    NOTES_MAX_LENGTH,
    load_customer,
)
from customers_hub.application.use_cases.relations import (
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    RelationCommand,
    aware_field,
    check_minutes,
    check_scheduled,
    clean_field,
    relation_changed,
)
from customers_hub.application.write_context import transaction_as
from customers_hub.domain import customers as aggregate
from customers_hub.domain.access import Operation
from customers_hub.domain.appointments import DEFAULT_DURATION_MINUTES
from customers_hub.domain.enums import (
    AppointmentStatus,
    AppointmentType,
    Priority,
)
from customers_hub.domain.errors import (
    AssignmentRejected,
    BusinessRuleViolation,
    NotFound,
)
from customers_hub.domain.events import DomainEvent
from customers_hub.domain.model import (
    Actor,
    Appointment,
)
from customers_hub.domain.unset import UNSET, Unset
from customers_hub.domain.validation import (
    ID_MAX_LENGTH,
    Errors,
)

__all__ = [
    "ScheduleAppointment",
    "UpdateAppointment",
    "schedule_appointment",
    "update_appointment",
]


def _when(
    errors: Errors,
    tz: dt.tzinfo,
    at: dt.datetime | None,
    day: dt.date | None,
    clock_time: dt.time | None,
) -> dt.datetime | None:
    """The UTC instant of ``datetime``, else of ``date`` + ``time`` in the organization's zone."""
    if at is not None:
        return aware_field(errors, "datetime", at)
    if day is None and clock_time is None:
        return None
    if day is None:
        errors.add("date", "is required with time")
        return None
    if clock_time is None:
        errors.add("time", "is required with date")
        return None
    local = dt.datetime.combine(day, clock_time.replace(tzinfo=None))
    return local.replace(tzinfo=tz).astimezone(dt.UTC)


_FINAL_APPOINTMENT_STATUSES = frozenset(
    {AppointmentStatus.COMPLETED, AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW}
)
_RESCHEDULE_STATUSES = frozenset(
    {AppointmentStatus.RESCHEDULED, AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED}
)


# ---------------------------------------------------------------------------------------------
# Appointments


@frozen(kw_only=True)
class ScheduleAppointment(RelationCommand):
    """Schedule an appointment: ``at`` (aware) or ``date`` + ``time`` in the organization's zone."""

    title: str
    type: AppointmentType
    at: dt.datetime | None = None
    date: dt.date | None = None
    time: dt.time | None = None
    duration: int = DEFAULT_DURATION_MINUTES
    priority: Priority = Priority.MEDIUM
    title_en: str | None = None
    location: str | None = None
    property_id: str | None = None
    property_title: str | None = None
    notes: str | None = None
    agent_id: str | None = None
    allow_conflict: bool = False  # book even over another appointment of the employee


async def schedule_appointment(
    deps: Dependencies, actor: Actor, command: ScheduleAppointment
) -> Appointment:
    """Schedule an appointment in the future; a ``site_visit`` creates a system action."""
    now = deps.clock.now()
    errors = Errors()
    title = clean_field(errors, "title", command.title, max_length=TITLE_MAX_LENGTH, required=True)
    title_en = clean_field(errors, "titleEn", command.title_en, max_length=TITLE_MAX_LENGTH)
    location = clean_field(errors, "location", command.location, max_length=TEXT_MAX_LENGTH)
    property_id = clean_field(errors, "propertyId", command.property_id, max_length=ID_MAX_LENGTH)
    property_title = clean_field(
        errors, "propertyTitle", command.property_title, max_length=TEXT_MAX_LENGTH
    )
    notes = clean_field(errors, "notes", command.notes, max_length=NOTES_MAX_LENGTH, multiline=True)
    check_minutes(errors, "duration", command.duration, minimum=1)
    at = _when(
        errors, await deps.zone_of(actor.organization_id), command.at, command.date, command.time
    )
    if at is None:
        if not (errors.has("datetime") or errors.has("date") or errors.has("time")):
            errors.add("datetime", "is required (or date and time)")
    elif at <= now:
        errors.add("datetime", "must be in the future")
    else:
        check_scheduled(errors, "datetime", at, now)
    agent_id = clean_field(errors, "agentId", command.agent_id, max_length=ID_MAX_LENGTH) or (
        actor.user_id
    )

    async def work(uow: UnitOfWork) -> tuple[Appointment, list[DomainEvent]]:
        now = deps.clock.now()
        loaded = await load_customer(uow, actor, command.customer_id, Operation.UPDATE_CUSTOMER)
        errors.raise_if_any()
        assert title is not None  # checked above
        assert at is not None
        agent_name = actor.display_name
        if agent_id != actor.user_id:
            agent = await uow.employees.get(actor.organization_id, agent_id)
            if agent is None or not agent.is_active:
                raise AssignmentRejected(
                    "agent is not an active employee of this organization", {"field": "agentId"}
                )
            agent_name = agent.name
        customer = loaded.customer
        appointment = Appointment(
            id=deps.ids.new_id("apt"),
            customer_id=customer.id,
            title=title,
            type=command.type,
            at=at,
            duration=command.duration,
            created_at=now,
            updated_at=now,
            priority=command.priority,
            title_en=title_en,
            location=location,
            property_id=property_id,
            property_title=property_title,
            notes=notes,
            agent_id=agent_id,
            agent_name=agent_name,
        )
        await ensure_free(uow, actor, appointment, allow_conflict=command.allow_conflict)
        updated, events = aggregate.schedule_appointment(customer, appointment, now=now)
        await uow.customers.save(updated, expected_version=customer.version)
        await uow.relations.add_appointment(actor.organization_id, appointment)
        return appointment, await loaded.follow_on_events(uow, deps, updated, events, now)

    return await transaction_as(deps, actor, work)


@frozen(kw_only=True)
class UpdateAppointment(RelationCommand):
    """Change the customer's appointment ``appointment_id``: its status, outcome or notes, or
    reschedule it (:data:`UNSET` = not sent; a new ``at``, or ``date`` + ``time``, is a
    reschedule)."""

    appointment_id: str
    status: AppointmentStatus | Unset = UNSET
    outcome: str | Unset | None = UNSET
    notes: str | Unset | None = UNSET
    at: dt.datetime | None = None
    date: dt.date | None = None
    time: dt.time | None = None
    allow_conflict: bool = False  # move even over another appointment of the employee


async def update_appointment(
    deps: Dependencies, actor: Actor, command: UpdateAppointment
) -> Appointment:
    """Update an appointment (rules in the module docs); nothing new, nothing written."""
    customer_id, appointment_id = command.customer_id, command.appointment_id
    now = deps.clock.now()
    errors = Errors()
    new_at = _when(
        errors, await deps.zone_of(actor.organization_id), command.at, command.date, command.time
    )
    if new_at is not None and new_at <= now:
        errors.add("datetime", "must be in the future")
    else:
        check_scheduled(errors, "datetime", new_at, now)
    status = command.status
    if new_at is not None and status is not UNSET and status not in _RESCHEDULE_STATUSES:
        errors.add("status", "a rescheduled appointment cannot also be closed")
    when_failed = errors.has("datetime") or errors.has("date") or errors.has("time")
    if new_at is None and status is AppointmentStatus.RESCHEDULED and not when_failed:
        errors.add("datetime", "is required to reschedule")
    outcome = command.outcome
    if isinstance(outcome, str):
        outcome = clean_field(
            errors, "outcome", outcome, max_length=NOTES_MAX_LENGTH, multiline=True
        )
    notes = command.notes
    if isinstance(notes, str):
        notes = clean_field(errors, "notes", notes, max_length=NOTES_MAX_LENGTH, multiline=True)

    async def work(uow: UnitOfWork) -> tuple[Appointment, list[DomainEvent]]:
        now = deps.clock.now()
        loaded = await load_customer(uow, actor, customer_id, Operation.UPDATE_CUSTOMER)
        current = await uow.relations.get_appointment(
            actor.organization_id, customer_id, appointment_id
        )
        if current is None:
            raise NotFound("appointment", appointment_id)
        errors.raise_if_any()
        wanted = current.status
        if new_at is not None:
            wanted = AppointmentStatus.RESCHEDULED if status is UNSET else status
        elif status is not UNSET:
            wanted = status
        changed = evolve(
            current,
            status=wanted,
            at=new_at if new_at is not None else current.at,
            reminder_sent=False if new_at is not None else current.reminder_sent,
            outcome=current.outcome if outcome is UNSET else outcome,
            notes=current.notes if notes is UNSET else notes,
        )
        if changed == current:
            return current, []
        if current.status in _FINAL_APPOINTMENT_STATUSES and (
            changed.status is not current.status or changed.at != current.at
        ):
            raise BusinessRuleViolation(
                f"A {current.status.value} appointment can no longer be changed",
                {"field": "status", "fromStatus": current.status.value},
            )
        if takes_new_time(current, changed):
            await ensure_free(uow, actor, changed, allow_conflict=command.allow_conflict)
        changed = evolve(changed, updated_at=now)
        await uow.relations.save_appointment(actor.organization_id, changed)
        followed = await follow_site_visit(uow, actor, current, changed, now)
        prefix = f"appointments.{appointment_id}"
        changes: dict[str, object] = {}
        if changed.status is not current.status:
            changes[f"{prefix}.status"] = changed.status.value
        if changed.at != current.at:
            changes[f"{prefix}.datetime"] = changed.at
        if changed.outcome != current.outcome:
            changes[f"{prefix}.outcome"] = changed.outcome
        if changed.notes != current.notes:
            changes[f"{prefix}.notes"] = changed.notes
        events = relation_changed(loaded.customer, changes, now, employee=changed.agent_id)
        return changed, [*events, *followed]

    return await transaction_as(deps, actor, work)


# ---------------------------------------------------------------------------------------------
# Reminders

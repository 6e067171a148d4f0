"""Appointments that do not collide, and employee calendars (rules §10; issue 12, Deliver 5).

Used by :func:`~customers_hub.application.use_cases.scheduling.schedule_appointment` and
:func:`~customers_hub.application.use_cases.scheduling.update_appointment`, inside their
transaction, and by ``GET /employees/{id}/calendar``.

Decisions where the contracts are silent (``docs/appointments.md``):

* **When the check runs.** Scheduling, and moving an appointment (a new date/time), when the
  result holds the employee's time (:data:`~customers_hub.domain.appointments.BLOCKING_STATUSES`).
  Changing only the status, outcome or notes never conflicts: the slot was held already.
  ``allowConflict: true`` skips the check (and the lock) for that one request; the appointment
  it books is an ordinary one that later bookings conflict with.
* **Order.** Role, customer (404), scope (403), input (400), the other rules (422), then the
  conflict (409): a request refused for another reason never reveals the calendar.
* **Concurrency.** The employee is held (:meth:`AppointmentBook.hold`) before the check and
  until the commit, so two requests booking the same slot of one employee cannot both pass
  the check; the second waits, then sees the first one's appointment.
* **What a 409 names.** Every appointment in the way, earliest first: its ``id``,
  ``datetime`` and ``duration`` always (they are the employee's time, which the caller is
  booking), its ``customerId`` only when the caller may read that customer (rules §4,
  ``customers.read`` scope). Another organization's appointments are never read at all.
* **Appointments of soft-deleted customers** hold no time: they cannot be seen or changed any
  more, so they would block a slot forever.
* **Site visits.** Moving a ``site_visit`` appointment moves the due date of its open system
  ``site_visit`` action (the action whose ``metadata.appointmentId`` names it) to the new
  time; cancelling it dismisses that action with a reason. Completing it, or a no-show, leaves
  the action to the agent. A closed action is left as it is.
* **Calendar.** ``from``/``to`` take a date (a whole local day of the organization) or a
  datetime (without an offset: the organization's zone); ``from`` defaults to the start of
  today, ``to`` to 7 days after ``from``. The range is ``[from, to)`` (a date ``to`` includes its
  day), at most :data:`~customers_hub.domain.appointments.MAX_CALENDAR_DAYS` days, and ``to``
  must come after ``from`` — otherwise 422 naming ``to``. Slots are the blocking appointments
  overlapping the range (one starting before ``from`` that runs into it too), at most
  :data:`MAX_CALENDAR_SLOTS`; ``truncated`` says when there were more. Who may read whose
  calendar follows ``customers.read``: an admin every employee's, a manager their own and their
  direct reports', an agent (or viewer) their own; a slot's customer, title, type and location
  are shown only when the caller may read that customer, its time always.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Final

from attrs import frozen

from customers_hub.application.context import Dependencies
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.ports_appointments import BookedAppointment
from customers_hub.application.use_cases.catalog import aware_utc, local_day_start
from customers_hub.application.use_cases.settings import organization_zone
from customers_hub.domain import inbox
from customers_hub.domain.access import (
    Operation,
    RecordScope,
    ScopeFilter,
    enforce,
    scope_filter,
)
from customers_hub.domain.appointments import (
    MAX_CALENDAR_DAYS,
    AppointmentConflict,
    ConflictingAppointment,
    Interval,
    blocks,
    conflicts_of,
    interval_of,
)
from customers_hub.domain.enums import ActionType, AppointmentStatus, AppointmentType
from customers_hub.domain.errors import BusinessRuleViolation, NotFound
from customers_hub.domain.events import DomainEvent
from customers_hub.domain.model import Actor, Appointment

__all__ = [
    "DEFAULT_CALENDAR_DAYS",
    "MAX_CALENDAR_SLOTS",
    "SITE_VISIT_CANCELLED_REASON",
    "CalendarSlot",
    "EmployeeCalendar",
    "calendar_range",
    "employee_calendar",
    "ensure_free",
    "follow_site_visit",
    "takes_new_time",
]

DEFAULT_CALENDAR_DAYS: Final = 7
"""How far a calendar reads without ``to``."""

MAX_CALENDAR_SLOTS: Final = 1000
"""The most slots one calendar response lists."""

SITE_VISIT_CANCELLED_REASON: Final = "أُلغي موعد المعاينة"
"""The dismiss reason of a site visit's action when the visit is cancelled."""


def _visible_to(scope: ScopeFilter, organization_id: str, booked: BookedAppointment) -> bool:
    """May the caller of ``scope`` read the customer of ``booked``?"""
    assignee, manager = booked.customer_assignee_id, booked.customer_assignee_manager_id
    record = RecordScope(
        organization_id,
        frozenset({assignee}) if assignee else frozenset(),
        frozenset({manager}) if manager else frozenset(),
    )
    return scope.admits(record)


def takes_new_time(before: Appointment | None, after: Appointment) -> bool:
    """Does storing ``after`` (over ``before``) take time of its employee it did not hold?"""
    if not blocks(after):
        return False
    if before is None or not blocks(before):
        return True
    return (
        after.at != before.at
        or after.duration != before.duration
        or (after.agent_id != before.agent_id)
    )


async def ensure_free(
    uow: UnitOfWork, actor: Actor, appointment: Appointment, *, allow_conflict: bool
) -> None:
    """Raise :class:`AppointmentConflict` when ``appointment`` (as it is about to be stored)
    overlaps another blocking appointment of its employee; hold the employee until the commit
    so that no concurrent booking slips in between the check and the write."""
    if allow_conflict or not blocks(appointment) or appointment.agent_id is None:
        return
    organization_id = actor.organization_id
    await uow.appointments.hold(organization_id, appointment.agent_id)
    span = interval_of(appointment.at, appointment.duration)
    booked = await uow.appointments.booked(
        organization_id, appointment.agent_id, span.start, span.end
    )
    by_id = {b.appointment.id: b for b in booked}
    found = conflicts_of(appointment, (b.appointment for b in booked))
    if not found:
        return
    scope = scope_filter(actor, Operation.READ_CUSTOMERS)
    raise AppointmentConflict(
        appointment.agent_id,
        [
            ConflictingAppointment(
                id=other.id,
                at=other.at,
                duration=other.duration,
                customer_id=(
                    other.customer_id
                    if _visible_to(scope, organization_id, by_id[other.id])
                    else None
                ),
            )
            for other in found
        ],
    )


async def follow_site_visit(
    uow: UnitOfWork, actor: Actor, before: Appointment, after: Appointment, now: datetime
) -> list[DomainEvent]:
    """Keep a site visit's system action in step with its appointment: moved with it, dismissed
    when it is cancelled. Returns the actions' events (none for other appointments)."""
    if after.type is not AppointmentType.SITE_VISIT:
        return []
    cancelled = (
        after.status is AppointmentStatus.CANCELLED
        and before.status is not AppointmentStatus.CANCELLED
    )
    moved = after.at != before.at and blocks(after)
    if not (cancelled or moved):
        return []
    open_actions = await uow.actions.open_for_customer(actor.organization_id, after.customer_id)
    events: list[DomainEvent] = []
    for action in open_actions:
        if (
            action.type is not ActionType.SITE_VISIT
            or action.metadata.get("appointmentId") != after.id
        ):
            continue
        if cancelled:
            changed, produced = inbox.dismiss(
                action, actor=actor, now=now, reason=SITE_VISIT_CANCELLED_REASON
            )
        else:
            changed, produced = inbox.update_action(action, now=now, due_date=after.at)
        if produced:
            await uow.actions.save(changed, expected_version=action.version)
            events.extend(produced)
    return events


# ---------------------------------------------------------------------------------------------
# Employee calendars


@frozen
class CalendarSlot:
    """One busy slot: the appointment, its interval, and whether the caller may read its
    customer (else only its time is shown)."""

    appointment: Appointment
    interval: Interval
    visible: bool


@frozen
class EmployeeCalendar:
    """An employee's busy slots over ``[start, end)``."""

    employee_id: str
    start: datetime
    end: datetime
    slots: tuple[CalendarSlot, ...]
    truncated: bool


def calendar_range(
    start: datetime | date | None, end: datetime | date | None, tz: tzinfo, now: datetime
) -> Interval:
    """The instants ``from``/``to`` name (rules in the module docs); 422 naming ``to`` when the
    range is empty, reversed or longer than :data:`MAX_CALENDAR_DAYS` days."""
    if isinstance(start, datetime):
        first = aware_utc(start, tz)
    else:
        first = local_day_start(start or now.astimezone(tz).date(), tz)
    if isinstance(end, datetime):
        last = aware_utc(end, tz)
    elif isinstance(end, date):
        last = local_day_start(end + timedelta(days=1), tz)
    else:
        last = first + timedelta(days=DEFAULT_CALENDAR_DAYS)
    if last <= first:
        raise BusinessRuleViolation("to must be after from", {"field": "to"})
    if last - first > timedelta(days=MAX_CALENDAR_DAYS):
        raise BusinessRuleViolation(
            f"A calendar covers at most {MAX_CALENDAR_DAYS} days",
            {"field": "to", "maxDays": MAX_CALENDAR_DAYS},
        )
    return Interval(first, last)


def _slots(
    booked: Sequence[BookedAppointment], window: Interval, scope: ScopeFilter
) -> list[CalendarSlot]:
    slots: list[CalendarSlot] = []
    for entry in booked:
        span = interval_of(entry.appointment.at, entry.appointment.duration)
        if span.overlaps(window):
            visible = _visible_to(scope, scope.organization_id, entry)
            slots.append(CalendarSlot(entry.appointment, span, visible))
    return slots


async def employee_calendar(
    deps: Dependencies,
    actor: Actor,
    employee_id: str,
    *,
    start: datetime | date | None = None,
    end: datetime | date | None = None,
) -> EmployeeCalendar:
    """The busy slots of an employee in the caller's scope (module docs)."""
    enforce(actor, Operation.READ_CUSTOMERS, resource_type="employee", resource_id=employee_id)
    organization_id = actor.organization_id
    tz = await organization_zone(deps, organization_id)
    async with deps.uow(read_only=True) as uow:
        employee = await uow.employees.get(organization_id, employee_id)
        if employee is None:
            raise NotFound("employee", employee_id)
        enforce(
            actor,
            Operation.READ_CUSTOMERS,
            RecordScope.of(organization_id, [employee]),
            resource_type="employee",
            resource_id=employee_id,
        )
        window = calendar_range(start, end, tz, deps.clock.now())
        booked = await uow.appointments.booked(
            organization_id, employee_id, window.start, window.end, limit=MAX_CALENDAR_SLOTS + 1
        )
    scope = scope_filter(actor, Operation.READ_CUSTOMERS)
    # Rows come by start time: the first MAX_CALENDAR_SLOTS hold every slot starting before
    # the next one's start, so what is listed has no holes.
    slots = _slots(booked[:MAX_CALENDAR_SLOTS], window, scope)
    return EmployeeCalendar(
        employee_id=employee.id,
        start=window.start,
        end=window.end,
        slots=tuple(slots),
        truncated=len(booked) > MAX_CALENDAR_SLOTS,
    )

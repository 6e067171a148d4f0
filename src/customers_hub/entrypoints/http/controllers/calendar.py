"""An employee's calendar (issue 12, Deliver 5; rules §10): ``GET /api/v1/employees/{id}/calendar``.

Lists the employee's busy slots — appointments in ``scheduled``, ``confirmed`` or ``rescheduled``
of live customers — overlapping ``[from, to)``:

* ``from``/``to``: a date (``YYYY-MM-DD``, a whole local day of the organization) or an ISO-8601
  datetime (without an offset: the organization's zone); a malformed value is a 400 naming it.
  ``from`` defaults to the start of today, ``to`` to 7 days later; ``to`` not after ``from``, or
  more than 62 days after it, is a 422 naming ``to``.
* Each slot has ``id``, ``datetime``, ``endsAt``, ``duration`` and ``status`` — the employee's
  time, shown to whoever may read the calendar — and ``appointment`` (the whole appointment,
  as ``POST …/appointments`` answers it) only when the caller may read the appointment's
  customer. At most 1000 slots, earliest first; ``truncated`` says there were more (read on
  from the last slot's ``datetime``).
* Who may read whose calendar: the ``customers.read`` scope — an admin anyone's, a manager
  their own and their direct reports', an agent or a viewer their own (403 otherwise);
  another organization's employee, or an unknown id, is a 404.
* ``calendar=hijri`` adds the Hijri twins of every date (``datetimeHijri``, ``endsAtHijri``,
  ``rangeStartHijri``…) as on every read. Not cached: a booking shows at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Response, get
from litestar.params import Parameter

from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases.appointments import (
    CalendarSlot,
    EmployeeCalendar,
    employee_calendar,
)
from customers_hub.domain.enums import AppointmentStatus
from customers_hub.domain.model import Actor
from customers_hub.entrypoints.http.envelope import Envelope, ok
from customers_hub.entrypoints.http.errors import error_responses
from customers_hub.entrypoints.http.route_params import EMPLOYEE_ID, NO_STORE
from customers_hub.entrypoints.http.strict import StrictController
from customers_hub.entrypoints.http.wire import (
    UNSET,
    AppointmentOut,
    UnsetType,
    Wire,
    appointment_to_wire,
    utc,
)
from customers_hub.entrypoints.http.wire.convert import to_wire
from customers_hub.entrypoints.http.wire.params import parse_window

__all__ = [
    "ROUTES",
    "CalendarController",
    "CalendarSlotOut",
    "EmployeeCalendarData",
    "calendar_to_wire",
]


class CalendarSlotOut(Wire, kw_only=True):
    """One busy slot: the employee's time, and the appointment when its customer is readable."""

    id: str
    at: datetime = msgspec.field(name="datetime")
    ends_at: datetime
    duration: int
    status: AppointmentStatus
    appointment: AppointmentOut | UnsetType = UNSET


class EmployeeCalendarData(Wire, kw_only=True):
    """``data`` of ``GET /employees/{id}/calendar``."""

    employee_id: str
    range_start: datetime
    range_end: datetime
    slots: list[CalendarSlotOut]
    truncated: bool


def _slot_to_wire(slot: CalendarSlot, tz: Any) -> CalendarSlotOut:
    appointment = slot.appointment
    return CalendarSlotOut(
        id=appointment.id,
        at=utc(slot.interval.start),
        ends_at=utc(slot.interval.end),
        duration=appointment.duration,
        status=appointment.status,
        appointment=appointment_to_wire(appointment, tz) if slot.visible else UNSET,
    )


def calendar_to_wire(calendar: EmployeeCalendar, tz: Any) -> EmployeeCalendarData:
    """The wire form of ``calendar``; ``tz`` is the organization's time zone (the appointments'
    local ``date`` and ``time``)."""
    return to_wire(
        calendar,
        EmployeeCalendarData,
        range_start=utc(calendar.start),
        range_end=utc(calendar.end),
        slots=[_slot_to_wire(slot, tz) for slot in calendar.slots],
    )


_BOUND = "Date or datetime (a date: a whole local day)"


class CalendarController(StrictController):
    """``/api/v1/employees/{id}/calendar``."""

    path = "/employees"
    tags = ("Employees",)

    @get(
        "/{employee_id:str}/calendar",
        operation_id="getEmployeeCalendar",
        summary="An employee's busy slots (scheduled appointments)",
        responses=error_responses(403, 404, 422),
    )
    async def calendar(
        self,
        deps: Dependencies,
        actor: Actor,
        employee_id: EMPLOYEE_ID,
        range_from: Annotated[
            str | None, Parameter(query="from", description=f"{_BOUND}; default: today")
        ] = None,
        range_to: Annotated[
            str | None,
            Parameter(
                query="to", description=f"{_BOUND} (a date: inclusive); default: from + 7 days"
            ),
        ] = None,
    ) -> Response[Envelope[EmployeeCalendarData]]:
        """The employee's scheduled appointments overlapping ``[from, to)`` (at most 62 days)."""
        bounds = parse_window(("from", range_from), ("to", range_to))
        calendar = await employee_calendar(
            deps, actor, employee_id, start=bounds["from"], end=bounds["to"]
        )
        tz = await deps.zone_of(actor.organization_id)
        return ok(calendar_to_wire(calendar, tz), headers=NO_STORE)


ROUTES: list[Any] = [CalendarController]
"""Mounted under ``/api/v1``."""

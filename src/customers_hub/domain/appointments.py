"""Appointments that do not collide (rules §10, last bullet), as pure values and functions.

* An appointment occupies ``[at, at + duration)``; the duration defaults to
  :data:`DEFAULT_DURATION_MINUTES` and is at most :data:`MAX_DURATION_MINUTES`.
* Two appointments **conflict** when they are different appointments of the same employee
  (``agent_id``), both *blocking*, and their intervals overlap. Touching ends (one ends at 16:00,
  the other starts at 16:00) do not overlap.
* *Blocking* statuses are :data:`BLOCKING_STATUSES`: ``scheduled``, ``confirmed`` and
  ``rescheduled`` (a rescheduled appointment is still going to happen, at its new time).
  ``cancelled`` and ``completed`` never conflict (§10), nor does ``no_show`` (final, like them).
  An appointment without an employee conflicts with nothing.
* Because no appointment lasts longer than :data:`MAX_DURATION_MINUTES`, every appointment that
  can overlap ``[start, end)`` starts in ``(start - LOOK_BACK, end)``: the bound that turns the
  overlap query into one index range seek.

:class:`AppointmentConflict` is the refusal (409 ``APPOINTMENT_CONFLICT``); what it names of the
other appointments is the caller's to decide (:class:`ConflictingAppointment`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Final

from attrs import frozen

from customers_hub.domain.enums import AppointmentStatus
from customers_hub.domain.errors import DomainError
from customers_hub.domain.model import Appointment

__all__ = [
    "BLOCKING_STATUSES",
    "DEFAULT_DURATION_MINUTES",
    "LOOK_BACK",
    "MAX_CALENDAR_DAYS",
    "MAX_DURATION_MINUTES",
    "AppointmentConflict",
    "ConflictingAppointment",
    "Interval",
    "blocks",
    "conflict",
    "conflicts_of",
    "interval_of",
]

DEFAULT_DURATION_MINUTES: Final = 60
"""The duration of an appointment that does not say (rules §10)."""

MAX_DURATION_MINUTES: Final = 24 * 60
"""The longest appointment (and interaction), in minutes."""

LOOK_BACK: Final = timedelta(minutes=MAX_DURATION_MINUTES)
"""How long before an interval an appointment overlapping it may start."""

MAX_CALENDAR_DAYS: Final = 62
"""The longest range an employee's calendar is read over."""

BLOCKING_STATUSES: Final = frozenset(
    {AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED, AppointmentStatus.RESCHEDULED}
)
"""Statuses whose appointments hold their employee's time."""


@frozen
class Interval:
    """A half-open span of time ``[start, end)``."""

    start: datetime
    end: datetime

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"an interval ends after it starts: {self.start} .. {self.end}")

    def overlaps(self, other: Interval) -> bool:
        """True when the two share an instant (touching ends share none)."""
        return self.start < other.end and other.start < self.end


def interval_of(at: datetime, duration: int | None) -> Interval:
    """The time an appointment at ``at`` lasting ``duration`` minutes (default 60) occupies."""
    minutes = DEFAULT_DURATION_MINUTES if duration is None else duration
    return Interval(at, at + timedelta(minutes=minutes))


def blocks(appointment: Appointment) -> bool:
    """Does ``appointment`` hold its employee's time?"""
    return appointment.agent_id is not None and appointment.status in BLOCKING_STATUSES


def conflict(first: Appointment, second: Appointment) -> bool:
    """The rule of §10: two blocking appointments of one employee whose intervals overlap."""
    return (
        first.id != second.id
        and first.agent_id == second.agent_id
        and blocks(first)
        and blocks(second)
        and interval_of(first.at, first.duration).overlaps(interval_of(second.at, second.duration))
    )


def conflicts_of(candidate: Appointment, others: Iterable[Appointment]) -> list[Appointment]:
    """The appointments of ``others`` that ``candidate`` conflicts with, earliest first."""
    found = [other for other in others if conflict(candidate, other)]
    return sorted(found, key=lambda a: (a.at, a.id))


@frozen
class ConflictingAppointment:
    """What a refusal names of an appointment in the way: its id and time always, its customer
    only when the caller may read that customer."""

    id: str
    at: datetime
    duration: int
    customer_id: str | None = None


class AppointmentConflict(DomainError):
    """The employee is already booked then (409 ``APPOINTMENT_CONFLICT``); ``allowConflict``
    books anyway."""

    code = "APPOINTMENT_CONFLICT"

    def __init__(self, agent_id: str, conflicts: Sequence[ConflictingAppointment]) -> None:
        self.agent_id = agent_id
        self.conflicts = tuple(conflicts)
        self.message = (
            "The employee already has an appointment at that time; "
            "send allowConflict: true to book it anyway"
        )
        super().__init__(self.message)

    @property
    def details(self) -> dict[str, object]:
        """The error's ``details``: the field, the employee and each appointment in the way."""
        return {
            "field": "datetime",
            "agentId": self.agent_id,
            "conflicts": [
                {
                    "id": c.id,
                    **({"customerId": c.customer_id} if c.customer_id is not None else {}),
                    "datetime": c.at,
                    "duration": c.duration,
                }
                for c in self.conflicts
            ],
        }

"""The port of an employee's booked time (rules §10, appointments): what the conflict check and
the employee calendar read, on the unit of work's own transaction (``uow.appointments``)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from attrs import frozen

from customers_hub.domain.model import Appointment

__all__ = ["AppointmentBook", "BookedAppointment"]


@frozen
class BookedAppointment:
    """A blocking appointment with what decides who may read its customer: the customer's
    assigned employee and that employee's manager (``None`` when unassigned or unknown)."""

    appointment: Appointment
    customer_assignee_id: str | None = None
    customer_assignee_manager_id: str | None = None


class AppointmentBook(Protocol):
    """Blocking appointments of one employee, by time."""

    async def hold(self, organization_id: str, agent_id: str) -> None:
        """Serialize the bookings of one employee until this transaction ends: a second
        transaction holding the same employee waits here (PostgreSQL: a transaction-scoped
        advisory lock; SQLite: its writers are serialized already)."""
        ...

    async def booked(
        self,
        organization_id: str,
        agent_id: str,
        start: datetime,
        end: datetime,
        *,
        limit: int | None = None,
    ) -> list[BookedAppointment]:
        """The employee's appointments in a blocking status, of live customers, that start in
        ``(start - LOOK_BACK, end)`` — every one that may overlap ``[start, end)``, and some that
        end before ``start`` (the caller applies the overlap rule) — by time then id, at most
        ``limit``."""
        ...

"""The in-memory :class:`~customers_hub.application.ports_appointments.AppointmentBook`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from customers_hub.application.ports_appointments import BookedAppointment
from customers_hub.domain.appointments import BLOCKING_STATUSES, LOOK_BACK

if TYPE_CHECKING:
    from customers_hub.testing.fakes.store import InMemoryStore

__all__ = ["FakeAppointmentBook"]


class FakeAppointmentBook:
    """Blocking appointments over a working copy of the store; ``hold`` records who was held
    (a fake unit of work is alone on its copy, so there is nothing to wait for)."""

    def __init__(self, work: InMemoryStore) -> None:
        self._work = work
        self.held: list[tuple[str, str]] = []

    async def hold(self, organization_id: str, agent_id: str) -> None:
        """Record the hold."""
        self.held.append((organization_id, agent_id))

    async def booked(
        self,
        organization_id: str,
        agent_id: str,
        start: datetime,
        end: datetime,
        *,
        limit: int | None = None,
    ) -> list[BookedAppointment]:
        """What the SQL adapter selects, by scanning the copy."""
        found: list[BookedAppointment] = []
        for appointment in self._work.appointments.values():
            customer = self._work.customers.get(appointment.customer_id)
            if (
                customer is None
                or customer.organization_id != organization_id
                or customer.is_deleted
                or appointment.agent_id != agent_id
                or appointment.status not in BLOCKING_STATUSES
                or not start - LOOK_BACK < appointment.at < end
            ):
                continue
            assignee_id = customer.assigned_employee_id
            assignee = (
                self._work.employees.get((organization_id, assignee_id)) if assignee_id else None
            )
            found.append(
                BookedAppointment(
                    appointment,
                    customer_assignee_id=assignee_id,
                    customer_assignee_manager_id=assignee.manager_id if assignee else None,
                )
            )
        found.sort(key=lambda b: (b.appointment.at, b.appointment.id))
        return found if limit is None else found[:limit]

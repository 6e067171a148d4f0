"""An employee's booked time in SQL (rules §10; the rule is
:mod:`customers_hub.domain.appointments`).

* :meth:`SqlAppointmentBook.booked` — one statement: an index range seek of
  ``ix_appointments_org_agent_datetime`` (``organization_id, agent_id, datetime``, partial on the
  blocking statuses; revision 0014) over ``(start - LOOK_BACK, end)``, each row joined to its
  customer by primary key (live customers only) and to the customer's assignee by
  ``ix_employees_org_id`` (for the caller's scope). The statuses are written inline, as the
  index's predicate states them: a bound list could not prove it. The look-back is bounded by
  the longest appointment (24 h), so the rows read are one employee's appointments of at most
  a day before the range plus the range itself, whatever the size of the table. The exact
  overlap test is the domain's, in Python, on those few rows.
* :meth:`SqlAppointmentBook.hold` — PostgreSQL: ``pg_advisory_xact_lock`` on a key of the
  (organization, employee) pair, released with the transaction: two transactions booking the
  same employee run their check-then-insert one after the other, and the second (read committed:
  each statement reads what was committed before it began) sees the first one's appointment.
  Keys of the two-integer form live apart from the one-integer keys used elsewhere (the
  outbox, the migrations); a hash collision between two employees only makes them wait for each
  other. SQLite: nothing to do, a writing unit of work holds the database's write lock from its
  ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Final

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from customers_hub.adapters.sql import mappers, tables
from customers_hub.adapters.sql.dialect import literal_rows
from customers_hub.application.ports_appointments import BookedAppointment
from customers_hub.domain.appointments import BLOCKING_STATUSES, LOOK_BACK

__all__ = ["APPOINTMENT_LOCK_CLASS", "SqlAppointmentBook", "employee_lock_key"]

APPOINTMENT_LOCK_CLASS: Final = 0x41505054  # "APPT"
"""The first key of the advisory locks of employees' calendars (PostgreSQL)."""

_A = tables.appointments
_C = tables.customers
_E = tables.employees
_BLOCKING: Final = sorted(s.value for s in BLOCKING_STATUSES)


def employee_lock_key(organization_id: str, agent_id: str) -> int:
    """The second key (a signed 32-bit integer) of an employee's advisory lock."""
    digest = hashlib.blake2b(f"{organization_id}\x00{agent_id}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


class SqlAppointmentBook:
    """:class:`~customers_hub.application.ports_appointments.AppointmentBook` on the unit of
    work's connection (one statement per call)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def hold(self, organization_id: str, agent_id: str) -> None:
        """Wait for, then hold until the transaction ends, the employee's booking lock."""
        if self._conn.dialect.name != "postgresql":
            return  # SQLite: BEGIN IMMEDIATE already serializes every writer
        key = employee_lock_key(organization_id, agent_id)
        await self._conn.execute(select(func.pg_advisory_xact_lock(APPOINTMENT_LOCK_CLASS, key)))

    async def booked(
        self,
        organization_id: str,
        agent_id: str,
        start: datetime,
        end: datetime,
        *,
        limit: int | None = None,
    ) -> list[BookedAppointment]:
        """Blocking appointments of live customers starting in ``(start - LOOK_BACK, end)``."""
        query = (
            select(
                _A,
                _C.c.assigned_employee_id.label("customer_assignee_id"),
                _E.c.manager_id.label("customer_assignee_manager_id"),
            )
            .join(_C, _C.c.id == _A.c.customer_id)
            .outerjoin(
                _E,
                (_E.c.organization_id == _A.c.organization_id)
                & (_E.c.id == _C.c.assigned_employee_id),
            )
            .where(
                _A.c.organization_id == organization_id,
                _A.c.agent_id == agent_id,
                _A.c.datetime > start - LOOK_BACK,
                _A.c.datetime < end,
                _A.c.status.in_(bindparam("blocking", _BLOCKING, literal_execute=True)),
                _C.c.organization_id == organization_id,
                _C.c.deleted_at.is_(None),
            )
            .order_by(_A.c.datetime, _A.c.id)
        )
        if limit is not None:
            query = query.limit(literal_rows(limit))
        rows = (await self._conn.execute(query)).mappings().all()
        return [
            BookedAppointment(
                appointment=mappers.appointment_from_row(row),
                customer_assignee_id=row["customer_assignee_id"],
                customer_assignee_manager_id=row["customer_assignee_manager_id"],
            )
            for row in rows
        ]

"""Employee reads: the employees of an organization, and their workloads.

============================  ===========================================================
request                       statements
============================  ===========================================================
employees list                one
employee workloads            one GROUP BY per measure (four,
                              :func:`.action_statistics.employee_workloads`)
============================  ===========================================================
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.sql import action_statistics
from customers_hub.adapters.sql import tables as t
from customers_hub.adapters.sql.mappers import employee_from_row
from customers_hub.application.queries import EmployeeWorkload, StatsWindow
from customers_hub.domain.enums import Role
from customers_hub.domain.errors import ValidationFailed
from customers_hub.domain.model import Employee

__all__ = ["SqlEmployeeQueries"]


class SqlEmployeeQueries:
    """:class:`~customers_hub.application.ports.EmployeeQueries` over SQLAlchemy Core."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def list(
        self, organization_id: str, *, role: str | None, is_active: bool | None
    ) -> list[Employee]:
        """Employees of the organization by name, filtered by role and activity."""
        e = t.employees.c
        stmt = select(t.employees).where(e.organization_id == organization_id)
        if role is not None:
            try:
                stmt = stmt.where(e.role == Role(role).value)
            except ValueError:
                allowed = ", ".join(r.value for r in Role)
                raise ValidationFailed.single("role", f"must be one of {allowed}") from None
        if is_active is not None:
            stmt = stmt.where(e.is_active.is_(is_active))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt.order_by(e.name, e.id))).mappings()
            return [employee_from_row(row) for row in rows]

    async def workloads(
        self, organization_id: str, ids: Sequence[str], window: StatsWindow
    ) -> dict[str, EmployeeWorkload]:
        """Workloads of ``ids`` (:func:`action_statistics.employee_workloads`)."""
        return await action_statistics.employee_workloads(
            self._engine, organization_id, ids, window
        )

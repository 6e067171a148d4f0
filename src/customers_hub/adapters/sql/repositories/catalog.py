"""Employees, the property catalog and organization settings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    func,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from customers_hub.adapters.sql import mappers, tables
from customers_hub.adapters.sql.dialect import literal_rows
from customers_hub.adapters.sql.repositories.base import (
    _PREFILTER_SLACK,
    ChangeLog,
    _insert,
    _upsert,
)
from customers_hub.application.errors import ConcurrentUpdate
from customers_hub.domain.audit import EntityType, Write
from customers_hub.domain.enums import PropertyInterestStatus, PropertyStatus
from customers_hub.domain.matching import BUDGET_TOLERANCE
from customers_hub.domain.model import (
    Customer,
    Employee,
    Property,
)
from customers_hub.domain.settings import OrganizationSettings, OrganizationSettingsRecord

# --- employees -------------------------------------------------------------------------------

_E = tables.employees


class SqlEmployeeRepository:
    """Employees of an organization; 1 statement per call."""

    def __init__(self, conn: AsyncConnection, log: ChangeLog | None = None) -> None:
        self._conn = conn
        self._log = log if log is not None else ChangeLog()
        self._loaded: dict[str, Employee] = {}

    async def get(self, organization_id: str, employee_id: str) -> Employee | None:
        """The employee, or None when absent in this organization."""
        return (await self.get_many(organization_id, [employee_id])).get(employee_id)

    async def get_many(self, organization_id: str, ids: Sequence[str]) -> dict[str, Employee]:
        """The employees among ``ids`` that exist in the organization, by id."""
        if not ids:
            return {}
        rows = await self._conn.execute(
            select(_E).where(_E.c.organization_id == organization_id, _E.c.id.in_(set(ids)))
        )
        found = {r["id"]: mappers.employee_from_row(r) for r in rows.mappings()}
        self._loaded.update(found)
        return found

    async def save(self, employee: Employee) -> None:
        """Insert or update an employee (``created_at`` is kept on update)."""
        await _upsert(
            self._conn,
            _E,
            [mappers.employee_values(employee)],
            ["organization_id", "id"],
            keep=["created_at"],
        )
        # An employee not read first is a new one (the use cases read before they update).
        before = self._loaded.get(employee.id)
        write = Write.UPDATE if before is not None else Write.INSERT
        self._log.record(
            write,
            EntityType.EMPLOYEE,
            employee.organization_id,
            employee.id,
            None,
            before,
            employee,
        )
        self._loaded[employee.id] = employee

    async def team_member_ids(self, organization_id: str, manager_id: str) -> set[str]:
        """Ids of the employees whose ``manager_id`` is ``manager_id``."""
        rows = await self._conn.execute(
            select(_E.c.id).where(
                _E.c.organization_id == organization_id, _E.c.manager_id == manager_id
            )
        )
        return set(rows.scalars())


# --- the property catalog --------------------------------------------------------------------

_P = tables.properties


class SqlPropertyCatalog:
    """The ``properties`` table as a :class:`~customers_hub.application.ports.PropertyCatalog`.

    ``candidates`` pre-filters in SQL with bounds no looser than
    :func:`customers_hub.domain.matching.score_property`'s (organization, available, preferred
    types, the price band with its 10 % tolerance, bedrooms and area where both sides are known,
    rejected properties) and leaves the place comparison, which normalizes text, to the domain.
    Cheapest first, then by id, so the same catalog always gives the same candidates.
    """

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    def candidates_query(self, customer: Customer, limit: int) -> Select[Any]:
        """The SQL of :meth:`candidates` (exposed for tests and ``EXPLAIN``)."""
        prefs = customer.preferences
        conditions: list[ColumnElement[bool]] = [
            _P.c.organization_id == customer.organization_id,
            _P.c.status == PropertyStatus.AVAILABLE.value,
        ]
        if prefs.property_type:
            conditions.append(_P.c.type.in_([t.value for t in prefs.property_type]))
        if prefs.budget_max is not None:
            high = prefs.budget_max * (1 + BUDGET_TOLERANCE) + _PREFILTER_SLACK
            conditions.append(_P.c.price <= high)
        if prefs.budget_min is not None:
            low = prefs.budget_min * (1 - BUDGET_TOLERANCE) - _PREFILTER_SLACK
            conditions.append(_P.c.price >= low)
        if prefs.bedrooms is not None:
            conditions.append(_P.c.bedrooms.is_(None) | (_P.c.bedrooms >= prefs.bedrooms))
        if prefs.min_area is not None:
            conditions.append(
                _P.c.area.is_(None) | (_P.c.area >= prefs.min_area - _PREFILTER_SLACK)
            )
        rejected = sorted(
            i.property_id
            for i in customer.property_interests
            if i.status is PropertyInterestStatus.REJECTED
        )
        if rejected:
            conditions.append(_P.c.id.not_in(rejected))
        return (
            select(_P)
            .where(and_(true(), *conditions))
            .order_by(_P.c.price, _P.c.id)
            .limit(literal_rows(max(limit, 0)))
        )

    async def candidates(self, customer: Customer, limit: int) -> list[Property]:
        """Available properties of the customer's organization worth scoring (1 statement)."""
        rows = await self._conn.execute(self.candidates_query(customer, limit))
        return [mappers.property_from_row(r) for r in rows.mappings()]

    async def get(self, organization_id: str, property_id: str) -> Property | None:
        """The organization's property (any status), or None (1 statement on the unique
        ``(organization_id, id)`` index; another organization's row is never read)."""
        rows = await self._conn.execute(
            select(_P).where(_P.c.organization_id == organization_id, _P.c.id == property_id)
        )
        row = rows.mappings().first()
        return mappers.property_from_row(row) if row is not None else None

    async def add(self, prop: Property) -> None:
        """Insert or update a property (1 statement)."""
        await _upsert(self._conn, _P, [mappers.property_values(prop)], ["organization_id", "id"])

    async def count(self, organization_id: str) -> int:
        """How many properties the organization's catalog holds (any status)."""
        total = await self._conn.scalar(
            select(func.count()).select_from(_P).where(_P.c.organization_id == organization_id)
        )
        return int(total or 0)


# --- organization settings -------------------------------------------------------------------

_S = tables.organization_settings


class SqlOrganizationSettingsRepository:
    """One row per organization that stored its settings; 1 statement per call."""

    def __init__(self, conn: AsyncConnection, log: ChangeLog | None = None) -> None:
        self._conn = conn
        self._log = log if log is not None else ChangeLog()
        self._loaded: dict[str, OrganizationSettings] = {}

    async def get(self, organization_id: str) -> OrganizationSettingsRecord | None:
        """The stored settings (by primary key), or None."""
        rows = await self._conn.execute(select(_S).where(_S.c.organization_id == organization_id))
        row = rows.mappings().first()
        found = mappers.settings_from_row(row) if row is not None else None
        if found is not None:
            self._loaded[organization_id] = found.settings
        return found

    async def save(self, record: OrganizationSettingsRecord, *, expected_version: int) -> None:
        """Insert (``expected_version`` 0; ``ON CONFLICT DO NOTHING``) or update the row of
        ``expected_version``; ``ConcurrentUpdate`` when no row was written."""
        values = mappers.settings_values(record)
        if expected_version == 0:
            # RETURNING says whether the row was inserted (psycopg reports no rowcount for an
            # INSERT … ON CONFLICT DO NOTHING); a row already there is another request's.
            stmt = (
                _insert(self._conn, _S)
                .on_conflict_do_nothing(index_elements=["organization_id"])
                .returning(_S.c.organization_id)
            )
            written = (await self._conn.execute(stmt, values)).first() is not None
        else:
            result = await self._conn.execute(
                update(_S)
                .where(
                    _S.c.organization_id == record.organization_id,
                    _S.c.version == expected_version,
                )
                .values({k: v for k, v in values.items() if k != "organization_id"})
            )
            written = result.rowcount == 1
        if not written:
            raise ConcurrentUpdate("organization_settings", record.organization_id)
        org = record.organization_id
        # The first stored settings replace defaults no row holds: they are listed as set.
        before = self._loaded.get(org) if expected_version else None
        self._log.record(
            Write.INSERT if expected_version == 0 else Write.UPDATE,
            EntityType.ORGANIZATION_SETTINGS,
            org,
            org,
            None,
            before,
            record.settings,
        )
        self._loaded[org] = record.settings

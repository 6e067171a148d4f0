"""Employee, property catalog and organization settings rows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import RowMapping

from customers_hub.adapters.sql import tables
from customers_hub.adapters.sql.mappers.base import (
    from_json,
    to_json,
)
from customers_hub.adapters.sql.mappers.rows import from_row, row_values
from customers_hub.domain.model import (
    Employee,
    FalLicence,
    Property,
)
from customers_hub.domain.settings import OrganizationSettings, OrganizationSettingsRecord

# --- employees -------------------------------------------------------------------------------


def employee_values(employee: Employee, now: datetime | None = None) -> dict[str, object]:
    """An ``employees`` row; ``created_at``/``updated_at`` are bookkeeping set to ``now``.

    The entity carries no timestamps: an upsert must leave ``created_at`` of an existing row
    alone (the repository excludes it from the UPDATE part). The FAL licence is two columns.
    """
    stamp = now or datetime.now(UTC)
    fal = employee.fal_licence
    return row_values(
        employee,
        tables.employees,
        fal_number=fal.number if fal else None,
        fal_expires_on=fal.expires_on if fal else None,
        created_at=stamp,
        updated_at=stamp,
    )


def employee_from_row(row: RowMapping | Mapping[str, Any]) -> Employee:
    """The employee of an ``employees`` row."""
    number, expires = row["fal_number"], row["fal_expires_on"]
    licence = FalLicence(number, expires) if number is not None and expires else None
    return from_row(Employee, tables.employees, row, fal_licence=licence)


# --- the property catalog --------------------------------------------------------------------


def property_values(prop: Property) -> dict[str, object]:
    """A ``properties`` row."""
    return row_values(prop, tables.properties)


def property_from_row(row: RowMapping | Mapping[str, Any]) -> Property:
    """The property of a ``properties`` row."""
    return from_row(Property, tables.properties, row)


# --- organization settings -------------------------------------------------------------------


def settings_values(record: OrganizationSettingsRecord) -> dict[str, object]:
    """An ``organization_settings`` row: the settings value as one JSON object."""
    if record.updated_at is None or record.updated_by is None:
        raise ValueError("stored settings need updated_at and updated_by")
    return {
        "organization_id": record.organization_id,
        "settings": to_json(record.settings, OrganizationSettings),
        "version": record.version,
        "updated_at": record.updated_at,
        "updated_by": record.updated_by,
    }


def settings_from_row(row: RowMapping | Mapping[str, Any]) -> OrganizationSettingsRecord:
    """The settings of an ``organization_settings`` row (a key the JSON lacks: its default)."""
    return OrganizationSettingsRecord(
        organization_id=row["organization_id"],
        settings=from_json(row["settings"], OrganizationSettings),
        version=int(row["version"]),
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
    )

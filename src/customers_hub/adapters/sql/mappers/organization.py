"""Employee, property catalog and organization settings rows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import RowMapping

from customers_hub.adapters.sql.mappers.base import (
    _decimal,
    from_json,
    to_json,
)
from customers_hub.domain.enums import (
    PropertyStatus,
    PropertyType,
    Role,
)
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
    alone (the repository excludes it from the UPDATE part).
    """
    stamp = now or datetime.now(UTC)
    fal = employee.fal_licence
    return {
        "organization_id": employee.organization_id,
        "id": employee.id,
        "name": employee.name,
        "name_en": employee.name_en,
        "email": employee.email,
        "phone": employee.phone,
        "role": employee.role.value,
        "title": employee.title,
        "avatar": employee.avatar,
        "manager_id": employee.manager_id,
        "is_active": employee.is_active,
        "fal_number": fal.number if fal else None,
        "fal_expires_on": fal.expires_on if fal else None,
        "created_at": stamp,
        "updated_at": stamp,
    }


def employee_from_row(row: RowMapping | Mapping[str, Any]) -> Employee:
    """The employee of an ``employees`` row."""
    number, expires = row["fal_number"], row["fal_expires_on"]
    return Employee(
        id=row["id"],
        organization_id=row["organization_id"],
        name=row["name"],
        role=Role(row["role"]),
        is_active=bool(row["is_active"]),
        name_en=row["name_en"],
        email=row["email"],
        phone=row["phone"],
        title=row["title"],
        avatar=row["avatar"],
        manager_id=row["manager_id"],
        fal_licence=FalLicence(number, expires) if number is not None and expires else None,
    )


# --- the property catalog --------------------------------------------------------------------


def property_values(prop: Property) -> dict[str, object]:
    """A ``properties`` row."""
    return {
        "organization_id": prop.organization_id,
        "id": prop.id,
        "title": prop.title,
        "title_en": prop.title_en,
        "type": prop.type.value,
        "city": prop.city,
        "district": prop.district,
        "price": prop.price,
        "bedrooms": prop.bedrooms,
        "area": prop.area,
        "off_plan": prop.off_plan,
        "status": prop.status.value,
    }


def property_from_row(row: RowMapping | Mapping[str, Any]) -> Property:
    """The property of a ``properties`` row."""
    return Property(
        id=row["id"],
        organization_id=row["organization_id"],
        title=row["title"],
        type=PropertyType(row["type"]),
        city=row["city"],
        price=_decimal(row["price"]) or Decimal(0),
        status=PropertyStatus(row["status"]),
        title_en=row["title_en"],
        district=row["district"],
        bedrooms=row["bedrooms"],
        area=_decimal(row["area"]),
        off_plan=bool(row["off_plan"]),
    )


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

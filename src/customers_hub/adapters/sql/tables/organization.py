"""An organization's property catalog and settings."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    text,
)

from customers_hub.adapters.sql.tables.base import (
    Json,
    Money,
    UtcDateTime,
    id_column,
    metadata,
    org_column,
)

properties = Table(
    "properties",
    metadata,
    org_column(),
    id_column(nullable=False),
    Column("title", String(500), nullable=False),
    Column("title_en", String(500)),
    Column("type", String(50), nullable=False),
    Column("city", String(100), nullable=False),
    Column("district", String(100)),
    Column("price", Money, nullable=False),
    Column("bedrooms", Integer),
    Column("area", Numeric(12, 2)),
    Column("off_plan", Boolean, nullable=False, server_default=text("false")),
    Column("status", String(20), nullable=False),
    Index("ix_properties_org_id", "organization_id", "id", unique=True),
    Index("ix_properties_org_match", "organization_id", "status", "type", "price"),
)

organization_settings = Table(
    "organization_settings",
    metadata,
    Column("organization_id", String(50), primary_key=True),
    # The settings value as one JSON object (camelCase keys, ``mappers.json_converter``): a new
    # setting needs no migration, and a key an older row lacks reads as its default.
    Column("settings", Json, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String(255), nullable=False),
)

"""Employees, customers, their facets and their stage history."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from customers_hub.adapters.sql.tables.base import (
    Json,
    Money,
    UtcDateTime,
    customer_table,
    id_column,
    metadata,
    org_column,
    org_table,
    parent_column,
    partial_index,
    timestamp_columns,
    version_column,
)

employees = Table(
    "employees",
    metadata,
    org_column(),
    id_column(nullable=False),
    Column("name", String(255), nullable=False),
    Column("name_en", String(255)),
    Column("email", String(255)),
    Column("phone", String(20)),
    Column("role", String(20), nullable=False),
    Column("title", String(100)),
    Column("avatar", Text),
    Column("manager_id", String(50)),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    Column("fal_number", String(50)),
    Column("fal_expires_on", Date),
    *timestamp_columns(),
    # Employee ids come from the identity provider: unique within an organization only.
    Index("ix_employees_org_id", "organization_id", "id", unique=True),
    Index("ix_employees_org_manager", "organization_id", "manager_id"),
    Index("ix_employees_org_role_active", "organization_id", "role", "is_active"),
)

customers = org_table(
    "customers",
    Column("name", String(255), nullable=False),
    Column("name_en", String(255)),
    Column("name_search", Text, nullable=False),
    Column("phone", String(20), nullable=False),
    Column("phone_digits", String(20), nullable=False),
    Column("whatsapp", String(20)),
    Column("email", String(255)),
    Column("national_id", String(20)),
    Column("nationality", String(50)),
    Column("employer", String(200)),
    Column("gender", String(10)),
    Column("date_of_birth", Date),
    Column("source", String(50), nullable=False),
    Column("source_details", Json),
    Column("stage", String(50), nullable=False),
    Column("preferences", Json, nullable=False),
    Column("budget_min", Money),
    Column("budget_max", Money),
    Column("lead_score", Integer, nullable=False, server_default=text("0")),
    Column("ai_insights", Json),
    Column("priority", String(20), nullable=False),
    Column("priority_rank", SmallInteger, nullable=False),
    Column("customer_type", String(50)),
    Column("tags", Json, nullable=False),
    Column("assigned_employee_id", String(50)),
    Column("total_deal_value", Money),
    Column("expected_revenue", Money),
    Column("paid_amount", Money),
    Column("city", String(100)),
    Column("district", String(100)),
    Column("region", String(100)),
    Column("address", Text),
    Column("latitude", Numeric(10, 8)),
    Column("longitude", Numeric(11, 8)),
    Column("notes", Text),
    Column("ksa_compliance", Json),
    *timestamp_columns(),
    Column("last_contact_at", UtcDateTime),
    Column("last_contact_type", String(50)),
    Column("next_follow_up_date", Date),
    Column("total_interactions", Integer, nullable=False, server_default=text("0")),
    Column("positive_inbound_interactions", Integer, nullable=False, server_default=text("0")),
    Column("total_appointments", Integer, nullable=False, server_default=text("0")),
    Column("total_property_views", Integer, nullable=False, server_default=text("0")),
    Column("response_rate", Integer),
    Column("avg_response_time", Float),
    Column("deleted_at", UtcDateTime),
    version_column(),
    # Duplicate detection keys (rules §10, domain.duplicates): compared by indexed equality.
    Column("name_key", Text),
    Column("name_en_key", Text),
    Column("city_key", Text),
    Column("email_key", Text),
    # Erasure (rules §8, migration 0010): when; until when a restricted one is kept.
    Column("erased_at", UtcDateTime),
    Column("restricted_until", UtcDateTime),
    # Merge (rules §10, migration 0011): the survivor a merged (soft-deleted) source went into.
    Column("merged_into", String(50)),
    # One live customer per phone and organization; a soft-deleted one frees the phone, and so
    # does an erased one (its phone is empty: any number of erased customers have none).
    partial_index(
        "uq_customers_org_phone_live",
        "organization_id",
        "phone",
        unique=True,
        where="deleted_at IS NULL AND erased_at IS NULL",
    ),
    # Every documented filter and sort, led by the organization; each sort key is followed by
    # id, so a cursor is one row-value range ``(key, id) < (?, ?)`` of its index (keyset).
    Index("ix_customers_org_stage", "organization_id", "stage"),
    Index("ix_customers_org_source", "organization_id", "source"),
    Index("ix_customers_org_priority", "organization_id", "priority_rank", "id"),
    Index("ix_customers_org_assigned", "organization_id", "assigned_employee_id"),
    Index("ix_customers_org_city", "organization_id", "city"),
    Index("ix_customers_org_region", "organization_id", "region"),
    Index("ix_customers_org_score", "organization_id", "lead_score", "id"),
    Index("ix_customers_org_created", "organization_id", "created_at", "id"),
    Index("ix_customers_org_updated", "organization_id", "updated_at", "id"),
    Index("ix_customers_org_contact", "organization_id", "last_contact_at", "id"),
    Index("ix_customers_org_deal", "organization_id", "total_deal_value", "id"),
    Index("ix_customers_org_name", "organization_id", "name", "id"),
    Index("ix_customers_org_budget", "organization_id", "budget_min", "budget_max"),
    Index("ix_customers_org_phone_digits", "organization_id", "phone_digits"),
    # Search's exact and prefix tier: a range seek on the normalized name (migration 0015).
    Index("ix_customers_org_name_search", "organization_id", "name_search", "id"),
    Index("ix_customers_org_deleted", "organization_id", "deleted_at"),
    # Duplicate candidates among live customers: one equality lookup per key (see 0003).
    *(
        partial_index(name, "organization_id", *columns, where="deleted_at IS NULL")
        for name, columns in (
            ("ix_customers_org_whatsapp_live", ("whatsapp",)),
            ("ix_customers_org_national_id_live", ("national_id",)),
            ("ix_customers_org_email_key_live", ("email_key",)),
            ("ix_customers_org_name_key_live", ("name_key", "city_key")),
            ("ix_customers_org_name_en_key_live", ("name_en_key", "city_key")),
        )
    ),
)

customer_facets = Table(
    "customer_facets",
    metadata,
    parent_column("customer_id", "customers", primary_key=True),
    Column("kind", String(20), primary_key=True),  # tag | property_type | area | city
    Column("value", String(255), primary_key=True),  # normalized (search_text) for text kinds
    org_column(),
    Index("ix_customer_facets_lookup", "organization_id", "kind", "value", "customer_id"),
)

stage_history = customer_table(
    "stage_history",
    Column("seq", Integer, nullable=False),  # position in the customer's history
    Column("from_stage", String(50)),
    Column("to_stage", String(50), nullable=False),
    Column("changed_by", String(255), nullable=False),
    Column("changed_by_id", String(50), nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    Column("reason", String(500)),
    Column("notes", Text),
    Column("auto_generated", Boolean, nullable=False, server_default=text("false")),
    # Merge (migration 0011): the source customer an entry moved from; NULL for its own.
    Column("merged_from", String(50)),
    # Two writers appending the same position cannot both succeed: no double history entry.
    UniqueConstraint("customer_id", "seq"),
    # A page's histories, read within the organization (without it SQLite's planner, which
    # has no statistics, would walk the organization's whole history by changed_at).
    Index("ix_stage_history_org_customer", "organization_id", "customer_id", "seq"),
    Index("ix_stage_history_org_changed", "organization_id", "changed_at"),
    Index("ix_stage_history_org_to", "organization_id", "to_stage", "changed_at"),
)

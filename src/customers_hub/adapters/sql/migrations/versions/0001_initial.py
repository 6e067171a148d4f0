"""The initial schema: every table and index of ``customers_hub.adapters.sql.tables``.

On PostgreSQL also the ``pg_trgm`` extension and trigram GIN indexes on the normalized search
columns, so substring search (``LIKE '%…%'``) on names, phone digits and action text stays
indexed at a million rows. SQLite has no such index type; it scans those columns.

Written out in full (not ``metadata.create_all``) so later changes of ``tables.py`` never change
what this revision does.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from customers_hub.adapters.sql.migrations import ddl

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_TRIGRAM_INDEXES = (
    ("ix_customers_name_search_trgm", "customers", "name_search"),
    ("ix_customers_phone_digits_trgm", "customers", "phone_digits"),
    ("ix_customer_actions_search_text_trgm", "customer_actions", "search_text"),
)

# PostgreSQL-only indexes the metadata cannot express on both dialects: a trigram index on the
# lower-cased email (the email arm of search) and DESC NULLS LAST twins of the nullable sort
# keys, so "newest contact first, never-contacted last" pages are index scans at a million rows.
_POSTGRES_EXPRESSION_INDEXES = (
    (
        "ix_customers_email_trgm",
        "customers",
        "CREATE INDEX ix_customers_email_trgm ON customers USING gin (lower(email) gin_trgm_ops)",
    ),
    (
        "ix_customers_org_contact_desc",
        "customers",
        "CREATE INDEX ix_customers_org_contact_desc ON customers "
        "(organization_id, last_contact_at DESC NULLS LAST, id DESC)",
    ),
    (
        "ix_customers_org_deal_desc",
        "customers",
        "CREATE INDEX ix_customers_org_deal_desc ON customers "
        "(organization_id, total_deal_value DESC NULLS LAST, id DESC)",
    ),
    (
        "ix_actions_org_due_desc",
        "customer_actions",
        "CREATE INDEX ix_actions_org_due_desc ON customer_actions "
        "(organization_id, due_date DESC NULLS LAST, id DESC)",
    ),
)


def upgrade() -> None:
    """Create every table and index."""
    op.create_table(
        "customers",
        ddl.id_column(),
        ddl.org_column(),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("name_en", sa.String(length=255), nullable=True),
        sa.Column("name_search", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("phone_digits", sa.String(length=20), nullable=False),
        sa.Column("whatsapp", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("national_id", sa.String(length=20), nullable=True),
        sa.Column("nationality", sa.String(length=50), nullable=True),
        sa.Column("gender", sa.String(length=10), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("source_details", ddl.JSON, nullable=True),
        sa.Column("stage", sa.String(length=50), nullable=False),
        sa.Column("preferences", ddl.JSON, nullable=False),
        sa.Column("budget_min", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("budget_max", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("lead_score", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("ai_insights", ddl.JSON, nullable=True),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("priority_rank", sa.SmallInteger(), nullable=False),
        sa.Column("customer_type", sa.String(length=50), nullable=True),
        sa.Column("tags", ddl.JSON, nullable=False),
        ddl.id_column("assigned_employee_id", nullable=True),
        sa.Column("total_deal_value", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("expected_revenue", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("paid_amount", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("district", sa.String(length=100), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("latitude", sa.Numeric(precision=10, scale=8), nullable=True),
        sa.Column("longitude", sa.Numeric(precision=11, scale=8), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("ksa_compliance", ddl.JSON, nullable=True),
        *ddl.timestamp_columns(),
        sa.Column("last_contact_at", ddl.UTC, nullable=True),
        sa.Column("last_contact_type", sa.String(length=50), nullable=True),
        sa.Column("next_follow_up_date", sa.Date(), nullable=True),
        sa.Column("total_interactions", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "positive_inbound_interactions",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("total_appointments", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "total_property_views", sa.Integer(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("response_rate", sa.Integer(), nullable=True),
        sa.Column("avg_response_time", sa.Float(), nullable=True),
        sa.Column("deleted_at", ddl.UTC, nullable=True),
        ddl.version_column(),
        ddl.primary_key("customers"),
    )
    ddl.create_indexes(
        "customers",
        [
            ("ix_customers_org_assigned", ["organization_id", "assigned_employee_id"]),
            ("ix_customers_org_budget", ["organization_id", "budget_min", "budget_max"]),
            ("ix_customers_org_city", ["organization_id", "city"]),
            ("ix_customers_org_contact", ["organization_id", "last_contact_at", "id"]),
            ("ix_customers_org_created", ["organization_id", "created_at", "id"]),
            ("ix_customers_org_deal", ["organization_id", "total_deal_value", "id"]),
            ("ix_customers_org_deleted", ["organization_id", "deleted_at"]),
            ("ix_customers_org_name", ["organization_id", "name", "id"]),
            ("ix_customers_org_phone_digits", ["organization_id", "phone_digits"]),
            ("ix_customers_org_priority", ["organization_id", "priority_rank"]),
            ("ix_customers_org_region", ["organization_id", "region"]),
            ("ix_customers_org_score", ["organization_id", "lead_score", "id"]),
            ("ix_customers_org_source", ["organization_id", "source"]),
            ("ix_customers_org_stage", ["organization_id", "stage"]),
        ],
    )
    op.create_index(
        "uq_customers_org_phone_live",
        "customers",
        ["organization_id", "phone"],
        unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )

    op.create_table(
        "employees",
        ddl.org_column(),
        ddl.id_column(),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("name_en", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=True),
        sa.Column("avatar", sa.Text(), nullable=True),
        ddl.id_column("manager_id", nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("fal_number", sa.String(length=50), nullable=True),
        sa.Column("fal_expires_on", sa.Date(), nullable=True),
        *ddl.timestamp_columns(),
    )
    op.create_index("ix_employees_org_id", "employees", ["organization_id", "id"], unique=True)
    ddl.create_indexes(
        "employees",
        [
            ("ix_employees_org_manager", ["organization_id", "manager_id"]),
            ("ix_employees_org_role_active", ["organization_id", "role", "is_active"]),
        ],
    )

    op.create_table(
        "properties",
        ddl.org_column(),
        ddl.id_column(),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("title_en", sa.String(length=500), nullable=True),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("district", sa.String(length=100), nullable=True),
        sa.Column("price", sa.Numeric(precision=15, scale=2), nullable=False),
        sa.Column("bedrooms", sa.Integer(), nullable=True),
        sa.Column("area", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("off_plan", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
    )
    op.create_index("ix_properties_org_id", "properties", ["organization_id", "id"], unique=True)
    ddl.create_indexes(
        "properties",
        [
            ("ix_properties_org_match", ["organization_id", "status", "type", "price"]),
        ],
    )

    ddl.create_customer_table(
        "appointments",
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("title_en", sa.String(length=500), nullable=True),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("time", sa.Time(), nullable=False),
        sa.Column("datetime", ddl.UTC, nullable=False),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=500), nullable=True),
        ddl.id_column("property_id", nullable=True),
        sa.Column("property_title", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=50), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("agent_name", sa.String(length=255), nullable=True),
        ddl.id_column("agent_id", nullable=True),
        sa.Column("reminder_sent", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        *ddl.timestamp_columns(),
    )
    ddl.create_indexes(
        "appointments",
        [
            ("ix_appointments_customer_datetime", ["customer_id", "datetime"]),
            ("ix_appointments_org_agent", ["organization_id", "agent_id"]),
            ("ix_appointments_org_datetime", ["organization_id", "datetime"]),
            ("ix_appointments_org_status", ["organization_id", "status"]),
        ],
    )

    ddl.create_customer_table(
        "customer_actions",
        sa.Column("customer_name", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("priority_rank", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("due_date", ddl.UTC, nullable=True),
        sa.Column("snoozed_until", ddl.UTC, nullable=True),
        sa.Column("assigned_to", sa.String(length=50), nullable=True),
        sa.Column("assigned_to_name", sa.String(length=255), nullable=True),
        *ddl.timestamp_columns(),
        sa.Column("completed_at", ddl.UTC, nullable=True),
        sa.Column("completed_by", sa.String(length=50), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("dismiss_reason", sa.Text(), nullable=True),
        sa.Column("metadata", ddl.JSON, nullable=False),
        ddl.version_column(),
    )
    ddl.create_indexes(
        "customer_actions",
        [
            ("ix_actions_org_assigned_status", ["organization_id", "assigned_to", "status"]),
            ("ix_actions_org_created", ["organization_id", "created_at", "id"]),
            ("ix_actions_org_customer", ["organization_id", "customer_id"]),
            ("ix_actions_org_due", ["organization_id", "due_date", "id"]),
            ("ix_actions_org_priority", ["organization_id", "priority_rank", "id"]),
            (
                "ix_actions_org_status_priority_due",
                ["organization_id", "status", "priority_rank", "due_date"],
            ),
            ("ix_actions_org_type", ["organization_id", "type"]),
            ("ix_actions_status_snoozed", ["status", "snoozed_until"]),
        ],
    )

    op.create_table(
        "customer_facets",
        ddl.id_column("customer_id"),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        ddl.org_column(),
        ddl.cascade_fk("customer_facets", "customer_id", "customers"),
        ddl.primary_key("customer_facets", "customer_id", "kind", "value"),
    )
    ddl.create_indexes(
        "customer_facets",
        [
            ("ix_customer_facets_lookup", ["organization_id", "kind", "value", "customer_id"]),
        ],
    )

    ddl.create_customer_table(
        "documents",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("uploaded_by", sa.String(length=255), nullable=False),
        ddl.id_column("uploaded_by_id"),
        sa.Column("uploaded_at", ddl.UTC, nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", ddl.JSON, nullable=False),
        unique=["storage_key"],
    )
    ddl.create_indexes(
        "documents",
        [
            ("ix_documents_customer_uploaded", ["customer_id", "uploaded_at"]),
        ],
    )

    ddl.create_customer_table(
        "interactions",
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("direction", sa.String(length=20), nullable=True),
        sa.Column("date", ddl.UTC, nullable=False),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=500), nullable=True),
        sa.Column("agent_name", sa.String(length=255), nullable=False),
        ddl.id_column("agent_id"),
        sa.Column("sentiment", sa.String(length=20), nullable=True),
        sa.Column(
            "follow_up_required", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("follow_up_date", ddl.UTC, nullable=True),
    )
    ddl.create_indexes(
        "interactions",
        [
            ("ix_interactions_customer_date", ["customer_id", "date"]),
            ("ix_interactions_org_agent", ["organization_id", "agent_id"]),
            ("ix_interactions_org_type", ["organization_id", "type"]),
        ],
    )

    ddl.create_customer_table(
        "property_interests",
        ddl.id_column("property_id"),
        sa.Column("property_title", sa.String(length=500), nullable=True),
        sa.Column("property_title_en", sa.String(length=500), nullable=True),
        sa.Column("property_image", sa.Text(), nullable=True),
        sa.Column("property_price", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("property_type", sa.String(length=50), nullable=True),
        sa.Column("property_location", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=50), nullable=False),
        sa.Column("added_at", ddl.UTC, nullable=False),
        sa.Column("viewed_at", ddl.UTC, nullable=True),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        unique=["customer_id", "property_id"],
    )
    ddl.create_indexes(
        "property_interests",
        [
            ("ix_property_interests_org_property", ["organization_id", "property_id"]),
            ("ix_property_interests_org_status", ["organization_id", "status"]),
        ],
    )

    ddl.create_customer_table(
        "reminders",
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("title_en", sa.String(length=500), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("datetime", ddl.UTC, nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("related_to", sa.String(length=50), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        ddl.id_column("created_by_id"),
        sa.Column("completed_at", ddl.UTC, nullable=True),
    )
    ddl.create_indexes(
        "reminders",
        [
            ("ix_reminders_customer_datetime", ["customer_id", "datetime"]),
            ("ix_reminders_org_created_by", ["organization_id", "created_by_id"]),
            ("ix_reminders_org_status_datetime", ["organization_id", "status", "datetime"]),
        ],
    )

    ddl.create_customer_table(
        "stage_history",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("from_stage", sa.String(length=50), nullable=True),
        sa.Column("to_stage", sa.String(length=50), nullable=False),
        sa.Column("changed_by", sa.String(length=255), nullable=False),
        ddl.id_column("changed_by_id"),
        sa.Column("changed_at", ddl.UTC, nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("auto_generated", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        unique=["customer_id", "seq"],
    )
    ddl.create_indexes(
        "stage_history",
        [
            ("ix_stage_history_org_changed", ["organization_id", "changed_at"]),
            ("ix_stage_history_org_to", ["organization_id", "to_stage", "changed_at"]),
        ],
    )

    op.create_table(
        "action_notes",
        ddl.id_column(),
        ddl.org_column(),
        ddl.id_column("action_id"),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        ddl.id_column("created_by_id"),
        sa.Column("created_at", ddl.UTC, nullable=False),
        ddl.cascade_fk("action_notes", "action_id", "customer_actions"),
        ddl.primary_key("action_notes"),
    )
    ddl.create_indexes(
        "action_notes",
        [
            ("ix_action_notes_action_created", ["action_id", "created_at"]),
        ],
    )

    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table, column in _TRIGRAM_INDEXES:
            op.create_index(
                name,
                table,
                [column],
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
            )
        for _name, _table, statement in _POSTGRES_EXPRESSION_INDEXES:
            op.execute(statement)


def downgrade() -> None:
    """Drop everything :func:`upgrade` created (the extension stays: others may use it)."""
    if op.get_bind().dialect.name == "postgresql":
        for name, table, _column in _TRIGRAM_INDEXES:
            op.drop_index(name, table_name=table)
        for name, table, _statement in _POSTGRES_EXPRESSION_INDEXES:
            op.drop_index(name, table_name=table)
    op.drop_table("action_notes")
    op.drop_table("stage_history")
    op.drop_table("reminders")
    op.drop_table("property_interests")
    op.drop_table("interactions")
    op.drop_table("documents")
    op.drop_table("customer_facets")
    op.drop_table("customer_actions")
    op.drop_table("appointments")
    op.drop_table("properties")
    op.drop_table("employees")
    op.drop_table("customers")

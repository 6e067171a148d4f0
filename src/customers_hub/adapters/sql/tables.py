"""The SQL schema (SQLAlchemy Core): the API document's tables plus what a multi-tenant,
million-row service needs.

Additions to the document's schema, and why:
- ``organization_id`` on every table, leading every index: each query is one organization's.
- ``version`` on customers and actions: optimistic concurrency (no lost update).
- ``name_search`` / ``phone_digits`` / ``search_text``: normalized search columns (rules §6),
  written by the adapter from :mod:`customers_hub.domain.search_text`.
- ``priority_rank``: sorting by priority uses urgent > high > medium > low, never the alphabet.
- ``budget_min`` / ``budget_max`` copied out of ``preferences``: range filters use an index.
- ``customer_facets``: one row per tag, preferred property type, area and city, so "has any of"
  filters are indexed lookups on SQLite and PostgreSQL alike (no JSON operators per dialect).
- ``employees``, ``action_notes``, ``documents`` and ``properties`` (the catalog).
- ``organization_settings``: one row per organization that changed its settings (rules §9).
- Live phones are unique per organization (a partial unique index), not globally.
- Every foreign key is served by an index whose leading columns are the key's (a cascading
  delete of a customer or an action looks its children up by that index, not by a scan);
  ``tests/integration/test_sql_indexes.py`` reads the migrated catalog and fails on any other.

Timestamps are stored as UTC and always read back timezone-aware (:class:`UtcDateTime`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

Json = JSON().with_variant(JSONB(), "postgresql")
Money = Numeric(15, 2, asdecimal=True)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database (SQLite keeps no time zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes; store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        # SQLite stores text: drop the zone so comparisons stay lexicographic and uniform.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Always aware UTC."""
        if value is None:
            return None
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _id(name: str = "id", **kwargs: Any) -> Column[str]:
    return Column(name, String(50), **kwargs)


def _org() -> Column[str]:
    return Column("organization_id", String(50), nullable=False)


employees = Table(
    "employees",
    metadata,
    _org(),
    _id(nullable=False),
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
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # Employee ids come from the identity provider: unique within an organization only.
    Index("ix_employees_org_id", "organization_id", "id", unique=True),
    Index("ix_employees_org_manager", "organization_id", "manager_id"),
    Index("ix_employees_org_role_active", "organization_id", "role", "is_active"),
)

customers = Table(
    "customers",
    metadata,
    _id(primary_key=True),
    _org(),
    Column("name", String(255), nullable=False),
    Column("name_en", String(255)),
    Column("name_search", Text, nullable=False),
    Column("phone", String(20), nullable=False),
    Column("phone_digits", String(20), nullable=False),
    Column("whatsapp", String(20)),
    Column("email", String(255)),
    Column("national_id", String(20)),
    Column("nationality", String(50)),
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
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
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
    Column("version", Integer, nullable=False, server_default=text("1")),
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
    Index(
        "uq_customers_org_phone_live",
        "organization_id",
        "phone",
        unique=True,
        sqlite_where=text("deleted_at IS NULL AND erased_at IS NULL"),
        postgresql_where=text("deleted_at IS NULL AND erased_at IS NULL"),
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
        Index(
            name,
            "organization_id",
            *columns,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        )
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
    Column(
        "customer_id",
        String(50),
        ForeignKey("customers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("kind", String(20), primary_key=True),  # tag | property_type | area | city
    Column("value", String(255), primary_key=True),  # normalized (search_text) for text kinds
    _org(),
    Index("ix_customer_facets_lookup", "organization_id", "kind", "value", "customer_id"),
)

stage_history = Table(
    "stage_history",
    metadata,
    _id(primary_key=True),
    _org(),
    Column(
        "customer_id", String(50), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
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

property_interests = Table(
    "property_interests",
    metadata,
    _id(primary_key=True),
    _org(),
    Column(
        "customer_id", String(50), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    Column("property_id", String(50), nullable=False),
    Column("property_title", String(500)),
    Column("property_title_en", String(500)),
    Column("property_image", Text),
    Column("property_price", Money),
    Column("property_type", String(50)),
    Column("property_location", String(255)),
    Column("status", String(50), nullable=False),
    Column("added_at", UtcDateTime, nullable=False),
    Column("viewed_at", UtcDateTime),
    Column("feedback", Text),
    Column("rating", Integer),
    Column("notes", Text),
    UniqueConstraint("customer_id", "property_id"),
    Index("ix_property_interests_org_customer", "organization_id", "customer_id", "added_at", "id"),
    Index("ix_property_interests_org_property", "organization_id", "property_id"),
    Index("ix_property_interests_org_status", "organization_id", "status"),
)

interactions = Table(
    "interactions",
    metadata,
    _id(primary_key=True),
    _org(),
    Column(
        "customer_id", String(50), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    Column("type", String(50), nullable=False),
    Column("direction", String(20)),
    Column("date", UtcDateTime, nullable=False),
    Column("duration", Integer),
    Column("notes", Text, nullable=False),
    Column("outcome", String(500)),
    Column("agent_name", String(255), nullable=False),
    Column("agent_id", String(50), nullable=False),
    Column("sentiment", String(20)),
    Column("follow_up_required", Boolean, nullable=False, server_default=text("false")),
    Column("follow_up_date", UtcDateTime),
    Index("ix_interactions_customer_date", "customer_id", "date"),
    # A customer's newest rows, read within the organization in index order (0005): without
    # it SQLite searched by customer_id and sorted, or walked the organization by date.
    Index("ix_interactions_org_customer_date", "organization_id", "customer_id", "date", "id"),
    Index("ix_interactions_org_agent", "organization_id", "agent_id"),
    Index("ix_interactions_org_type", "organization_id", "type"),
)

appointments = Table(
    "appointments",
    metadata,
    _id(primary_key=True),
    _org(),
    Column(
        "customer_id", String(50), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    Column("title", String(500), nullable=False),
    Column("title_en", String(500)),
    Column("type", String(50), nullable=False),
    Column("date", Date, nullable=False),  # local date in the organization's time zone
    Column("time", Time, nullable=False),  # local time in the organization's time zone
    Column("datetime", UtcDateTime, nullable=False),
    Column("duration", Integer, nullable=False),
    Column("location", String(500)),
    Column("property_id", String(50)),
    Column("property_title", String(500)),
    Column("status", String(50), nullable=False),
    Column("priority", String(20), nullable=False),
    Column("notes", Text),
    Column("agent_name", String(255)),
    Column("agent_id", String(50)),
    Column("reminder_sent", Boolean, nullable=False, server_default=text("false")),
    Column("outcome", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_appointments_customer_datetime", "customer_id", "datetime"),
    # A customer's newest rows, read within the organization in index order (0005): without
    # it SQLite searched by customer_id and sorted, or walked the organization by date.
    Index(
        "ix_appointments_org_customer_datetime",
        "organization_id",
        "customer_id",
        "datetime",
        "id",
    ),
    Index("ix_appointments_org_datetime", "organization_id", "datetime"),
    Index("ix_appointments_org_status", "organization_id", "status"),
    # (organization_id, agent_id): see ix_appointments_org_agent_datetime (0014) at the end.
)

reminders = Table(
    "reminders",
    metadata,
    _id(primary_key=True),
    _org(),
    Column(
        "customer_id", String(50), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    Column("title", String(500), nullable=False),
    Column("title_en", String(500)),
    Column("description", Text),
    Column("datetime", UtcDateTime, nullable=False),
    Column("priority", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("type", String(50), nullable=False),
    Column("related_to", String(50)),
    Column("created_by", String(255), nullable=False),
    Column("created_by_id", String(50), nullable=False),
    Column("completed_at", UtcDateTime),
    Index("ix_reminders_customer_datetime", "customer_id", "datetime"),
    # A customer's newest rows, read within the organization in index order (0005): without
    # it SQLite searched by customer_id and sorted, or walked the organization by date.
    Index("ix_reminders_org_customer_datetime", "organization_id", "customer_id", "datetime", "id"),
    Index("ix_reminders_org_status_datetime", "organization_id", "status", "datetime"),
    Index("ix_reminders_org_created_by", "organization_id", "created_by_id"),
)

documents = Table(
    "documents",
    metadata,
    _id(primary_key=True),
    _org(),
    Column(
        "customer_id", String(50), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    Column("name", String(255), nullable=False),
    Column("type", String(50), nullable=False),
    Column("storage_key", String(255), nullable=False, unique=True),
    Column("file_size", Integer, nullable=False),
    Column("mime_type", String(100), nullable=False),
    Column("uploaded_by", String(255), nullable=False),
    Column("uploaded_by_id", String(50), nullable=False),
    Column("uploaded_at", UtcDateTime, nullable=False),
    Column("description", Text),
    Column("tags", Json, nullable=False),
    Index("ix_documents_customer_uploaded", "customer_id", "uploaded_at"),
    # A customer's newest rows, read within the organization in index order (0005): without
    # it SQLite searched by customer_id and sorted, or walked the organization by date.
    Index(
        "ix_documents_org_customer_uploaded",
        "organization_id",
        "customer_id",
        "uploaded_at",
        "id",
    ),
)

customer_actions = Table(
    "customer_actions",
    metadata,
    _id(primary_key=True),
    _org(),
    Column(
        "customer_id", String(50), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    Column("customer_name", String(255), nullable=False),
    Column("type", String(50), nullable=False),
    Column("title", String(500), nullable=False),
    Column("description", Text),
    Column("search_text", Text, nullable=False),  # normalized customer name + title + description
    Column("priority", String(20), nullable=False),
    Column("priority_rank", SmallInteger, nullable=False),
    Column("status", String(20), nullable=False),
    Column("source", String(50), nullable=False),
    Column("due_date", UtcDateTime),
    Column("snoozed_until", UtcDateTime),
    Column("assigned_to", String(50)),
    Column("assigned_to_name", String(255)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime),
    Column("completed_by", String(50)),
    Column("outcome", Text),
    Column("dismiss_reason", Text),
    Column("metadata", Json, nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    # A customer's actions, oldest first, in index order (0005 added created_at, id).
    Index("ix_actions_org_customer", "organization_id", "customer_id", "created_at", "id"),
    # The foreign key's own index: deleting a customer finds its actions (ON DELETE CASCADE).
    Index("ix_actions_customer", "customer_id"),
    Index(
        "ix_actions_org_status_priority_due",
        "organization_id",
        "status",
        "priority_rank",
        "due_date",
    ),
    Index("ix_actions_org_type", "organization_id", "type"),
    Index("ix_actions_org_assigned_status", "organization_id", "assigned_to", "status"),
    Index("ix_actions_org_due", "organization_id", "due_date", "id"),
    Index("ix_actions_org_created", "organization_id", "created_at", "id"),
    Index("ix_actions_org_updated", "organization_id", "updated_at", "id"),
    Index("ix_actions_org_priority", "organization_id", "priority_rank", "id"),
    # The wake-up job scans snoozed actions by time across organizations.
    Index("ix_actions_status_snoozed", "status", "snoozed_until"),
)

action_notes = Table(
    "action_notes",
    metadata,
    _id(primary_key=True),
    _org(),
    Column(
        "action_id",
        String(50),
        ForeignKey("customer_actions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("content", Text, nullable=False),
    Column("created_by", String(255), nullable=False),
    Column("created_by_id", String(50), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_action_notes_action_created", "action_id", "created_at", "id"),
)

properties = Table(
    "properties",
    metadata,
    _org(),
    _id(nullable=False),
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

# --- idempotency keys (migration 0006) ---

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    # Keys are per organization and user: another caller's key never meets this one.
    Column("organization_id", String(50), primary_key=True),
    Column("user_id", String(255), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),  # sha256 of the request
    # in_progress -> committed (by the write's own transaction) -> completed (response stored)
    Column("status", String(20), nullable=False),
    Column("claim_token", String(32), nullable=False),  # who holds the claim
    Column("locked_until", UtcDateTime, nullable=False),  # the claim's lease
    Column("response_status", Integer),
    Column("response_headers", Json),
    Column("response_body", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index("ix_idempotency_keys_expires_at", "expires_at"),  # the sweep
)

# --- outbox and webhooks (migration 0007) ---

# Positions: an ever-increasing BIGINT on PostgreSQL; on SQLite only an INTEGER primary key is
# the rowid that autoincrements.
Position = BigInteger().with_variant(Integer(), "sqlite")

outbox = Table(
    "outbox",
    metadata,
    # Written by the outbox commit hook in the write's own transaction; read in position order
    # by the relay and by ``Hub.events`` (adapters/sql/outbox.py).
    Column("position", Position, primary_key=True, autoincrement=True),
    Column("event_id", String(50), nullable=False),
    Column("organization_id", String(50), nullable=False),
    Column("event", String(100), nullable=False),
    # ``{id, event, organizationId, timestamp, data}``: what a webhook receives.
    Column("payload", Json, nullable=False),
    # ``{"message": OutboundEvent.to_message() or null, "tags": [cache tags]}``: what the
    # relay publishes on the event bus and invalidates in the cache.
    Column("routing", Json, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
)

outbox_cursors = Table(
    "outbox_cursors",
    metadata,
    # One row per consumer of the outbox (``webhooks``, each event bus): the last position it
    # handled. Locked FOR UPDATE SKIP LOCKED while a relay advances it, so one relay at a time.
    Column("name", String(200), primary_key=True),
    Column("position", Position, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(50), primary_key=True),
    Column("organization_id", String(50), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("events", Json, nullable=False),
    Column("description", String(2000)),
    Column("secret", String(100), nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("disabled_reason", String(500)),
    Column("failing_since", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("created_by", String(255), nullable=False),
    Index("ix_webhooks_org_created", "organization_id", "created_at", "id"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(50), primary_key=True),
    Column(
        "webhook_id",
        String(50),
        ForeignKey("webhooks.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("organization_id", String(50), nullable=False),
    Column("position", Position, nullable=False),
    Column("event_id", String(50), nullable=False),
    Column("event", String(100), nullable=False),
    # A copy of the outbox payload: the outbox row may be pruned before the last retry.
    Column("payload", Json, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_response_code", Integer),
    Column("last_error", String(500)),
    # Due time of the next attempt; while an instance sends it, the end of its lease.
    Column("next_attempt_at", UtcDateTime),
    Column("leased_until", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime),
    Index("ix_webhook_deliveries_hook_position", "webhook_id", "position"),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
)


# --- audit trail (migration 0008) ---

audit_log = Table(
    "audit_log",
    metadata,
    # Append-only: written by the audit commit hook, rewritten only to mask personal values.
    _id(primary_key=True),  # time-sortable: orders the entries of one instant
    _org(),
    Column("at", UtcDateTime, nullable=False),
    Column("actor_id", String(50), nullable=False),
    Column("actor_name", String(255), nullable=False),
    Column("action", String(64), nullable=False),
    Column("entity_type", String(32), nullable=False),
    Column("entity_id", String(50), nullable=False),
    # The customer whose timeline shows the entry (NULL for employees, settings, exports).
    Column("customer_id", String(50)),
    Column("changes", Json, nullable=False),
    Column("request_id", String(128)),
    # A customer's timeline, newest first: one backward range scan of this index.
    Index("ix_audit_log_org_customer_at", "organization_id", "customer_id", "at", "id"),
)


# --- privacy (migration 0009) ---

customer_consents = Table(
    "customer_consents",
    metadata,
    # The current consent per customer and channel (rules §8): the last entry of
    # ``consent_events``, kept in the same transaction, so ``consent=`` is one index seek.
    Column(
        "customer_id",
        String(50),
        ForeignKey("customers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("channel", String(20), primary_key=True),
    _org(),
    Column("entry_id", String(50), nullable=False),  # the consent_events row it copies
    Column("granted", Boolean, nullable=False),
    Column("source", String(100), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor_id", String(50), nullable=False),
    Column("notes", Text),
    # ``consent=<channel>``: an EXISTS semi-join per candidate customer, by this index.
    Index(
        "ix_customer_consents_org_channel_granted",
        "organization_id",
        "channel",
        "granted",
        "customer_id",
    ),
)

consent_events = Table(
    "consent_events",
    metadata,
    # Append-only history of consent changes; erasure clears ``notes`` only.
    _id(primary_key=True),  # time-sortable: orders the entries of one instant
    _org(),
    Column(
        "customer_id", String(50), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    Column("channel", String(20), nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("source", String(100), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor_id", String(50), nullable=False),
    Column("notes", Text),
    # A customer's history, newest first: one backward range scan (also the foreign key's).
    Index("ix_consent_events_customer_at", "customer_id", "at", "id"),
)

privacy_requests = Table(
    "privacy_requests",
    metadata,
    _id(primary_key=True),
    _org(),
    Column(
        "customer_id", String(50), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    Column("type", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("original_due_at", UtcDateTime, nullable=False),
    Column("extended_at", UtcDateTime),
    Column("extension_reason", Text),
    Column("reason", Text),  # why it was rejected (or completed), given with the status
    Column("notes", Text),
    Column("closed_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("created_by", String(50), nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    # The list, newest received first (keyset on (received_at, id)).
    Index("ix_privacy_requests_org_received", "organization_id", "received_at", "id"),
    # Open requests by due time: overdue, due soon and the stats are range scans.
    Index("ix_privacy_requests_org_status_due", "organization_id", "status", "due_at"),
    # A customer's requests (also the foreign key's index).
    Index("ix_privacy_requests_customer_received", "customer_id", "received_at", "id"),
)


# --- imports (issue 12: customer import jobs and their per-row report) ------------------------

import_jobs = Table(
    "import_jobs",
    metadata,
    _id(primary_key=True),
    _org(),
    Column("created_by_id", String(50), nullable=False),
    Column("created_by_name", String(255), nullable=False),
    Column("created_by_role", String(20), nullable=False),
    Column("status", String(20), nullable=False),  # queued | running | completed | failed
    Column("file_name", String(255), nullable=False),
    Column("file_format", String(10), nullable=False),
    Column("file_key", String(100), nullable=False),  # the upload in the document storage
    Column("headers", Json, nullable=False),
    Column("mapping", Json, nullable=False),  # {"<column index>": "<field key>"}
    Column("dry_run", Boolean, nullable=False),
    Column("on_duplicate", String(10), nullable=False),
    Column("create_actions", Boolean, nullable=False),
    Column("total_rows", Integer, nullable=False),
    Column("processed", Integer, nullable=False),
    Column("created", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("skipped", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    # First data row (0-based) not committed yet: where a resumed job starts.
    Column("next_row", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("error", String(500)),
    # The runner's heartbeat: a running job whose lease expired lost its runner.
    Column("lease_owner", String(100)),
    Column("lease_expires_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime),
    Column("finished_at", UtcDateTime),
    # Jobs to run or take over: a range scan of the unfinished ones, oldest first.
    Index("ix_import_jobs_status_created", "status", "created_at"),
    Index("ix_import_jobs_org_created", "organization_id", "created_at", "id"),
)

import_errors = Table(
    "import_errors",
    metadata,
    Column(
        "job_id", String(50), ForeignKey("import_jobs.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("row_number", Integer, primary_key=True),
    Column("seq", SmallInteger, primary_key=True),  # the row's errors in order
    _org(),
    Column("field", String(100), nullable=False),
    Column("message", String(500), nullable=False),
)


# --- assignment rules (migration 0012) ---

assignment_rules = Table(
    "assignment_rules",
    metadata,
    _id(primary_key=True),
    _org(),
    Column("name", String(255), nullable=False),
    Column("strategy", String(20), nullable=False),
    # ``{sources, cities, propertyTypes}``: read with the rule, never queried inside.
    Column("match", Json, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    # The round-robin pointer: moved under the row's lock in the creating transaction.
    Column("last_employee_id", String(50)),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("created_by", String(50), nullable=False),
    # Every new customer reads the active rules in checking order: one range of this index.
    Index(
        "ix_assignment_rules_org_active_order",
        "organization_id",
        "active",
        "priority",
        "created_at",
        "id",
    ),
    # The list, in checking order.
    Index("ix_assignment_rules_org_order", "organization_id", "priority", "created_at", "id"),
)

assignment_rule_employees = Table(
    "assignment_rule_employees",
    metadata,
    # A rule's employees in round-robin order (its primary key serves the foreign key).
    Column(
        "rule_id",
        String(50),
        ForeignKey("assignment_rules.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", SmallInteger, primary_key=True),
    _org(),
    Column("employee_id", String(50), nullable=False),
    Index("ix_assignment_rule_employees_org_employee", "organization_id", "employee_id"),
)

# Load balancing counts each employee's live customers in new_lead … negotiation: one grouped
# range per employee of this index (index-only on PostgreSQL).
Index(
    "ix_customers_org_assigned_stage_live",
    customers.c.organization_id,
    customers.c.assigned_employee_id,
    customers.c.stage,
    sqlite_where=text("deleted_at IS NULL"),
    postgresql_where=text("deleted_at IS NULL"),
)


# --- merges (migration 0011) ---

customer_merges = Table(
    "customer_merges",
    metadata,
    # One merge of ``source_ids`` into ``survivor_id`` (rules §10) and what it moved, so an
    # unmerge within 30 days undoes exactly that (adapters/sql/merging.py).
    _id(primary_key=True),
    _org(),
    Column("survivor_id", String(50), nullable=False),
    Column("source_ids", Json, nullable=False),
    # ``{table: {row id: fingerprint}}``: the rows moved and their content after the move.
    Column("moved", Json, nullable=False),
    # ``{stage entry id: [source id, position]}``: where each moved history entry came from.
    Column("history", Json, nullable=False),
    # ``{field: {"source": id, "value": JSON}}``: the survivor's empty fields the merge filled.
    Column("fields", Json, nullable=False),
    Column("property_views", Integer, nullable=False),
    Column("merged_at", UtcDateTime, nullable=False),
    Column("merged_by", String(50), nullable=False),
    Column("unmerged_at", UtcDateTime),
    Column("unmerged_by", String(50)),
    # A survivor's merges, newest first (the default of unmerge): one backward range scan.
    Index("ix_customer_merges_org_survivor_at", "organization_id", "survivor_id", "merged_at"),
)


# --- appointment conflicts (migration 0014) ---

BLOCKING_APPOINTMENTS = "status IN ('confirmed', 'rescheduled', 'scheduled')"
"""The appointments that hold their employee's time (``domain.appointments.BLOCKING_STATUSES``;
a test keeps the two equal). A query must state it literally to use the index below."""

# An employee's appointments that hold time, by time (rules §10): the overlap check and the
# employee calendar are one range seek of it. Partial: closed appointments (most of them, over
# the years) are never in it. It replaced ix_appointments_org_agent (unused by any query).
Index(
    "ix_appointments_org_agent_datetime",
    appointments.c.organization_id,
    appointments.c.agent_id,
    appointments.c.datetime,
    sqlite_where=text(BLOCKING_APPOINTMENTS),
    postgresql_where=text(BLOCKING_APPOINTMENTS),
)

"""PDPL consents, their history and data-subject requests (migration 0009)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    String,
    Table,
    Text,
)

from customers_hub.adapters.sql.tables.base import (
    UtcDateTime,
    customer_table,
    metadata,
    org_column,
    parent_column,
    timestamp_columns,
    version_column,
)

# --- privacy (migration 0009) ---

customer_consents = Table(
    "customer_consents",
    metadata,
    # The current consent per customer and channel (rules §8): the last entry of
    # ``consent_events``, kept in the same transaction, so ``consent=`` is one index seek.
    parent_column("customer_id", "customers", primary_key=True),
    Column("channel", String(20), primary_key=True),
    org_column(),
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

consent_events = customer_table(
    "consent_events",
    # Append-only history of consent changes; erasure clears ``notes`` only. Its time-sortable
    # ``id`` orders the entries of one instant.
    Column("channel", String(20), nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("source", String(100), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor_id", String(50), nullable=False),
    Column("notes", Text),
    # A customer's history, newest first: one backward range scan (also the foreign key's).
    Index("ix_consent_events_customer_at", "customer_id", "at", "id"),
)

privacy_requests = customer_table(
    "privacy_requests",
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
    *timestamp_columns(),
    Column("created_by", String(50), nullable=False),
    version_column(),
    # The list, newest received first (keyset on (received_at, id)).
    Index("ix_privacy_requests_org_received", "organization_id", "received_at", "id"),
    # Open requests by due time: overdue, due soon and the stats are range scans.
    Index("ix_privacy_requests_org_status_due", "organization_id", "status", "due_at"),
    # A customer's requests (also the foreign key's index).
    Index("ix_privacy_requests_customer_received", "customer_id", "received_at", "id"),
)

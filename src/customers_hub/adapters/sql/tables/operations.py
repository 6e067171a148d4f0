"""Idempotency keys, the outbox and its cursors, webhooks and their deliveries, the audit log."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from customers_hub.adapters.sql.tables.base import (
    Json,
    UtcDateTime,
    metadata,
    org_column,
    org_table,
    parent_column,
    timestamp_columns,
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
    org_column(),
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

webhooks = org_table(
    "webhooks",
    Column("url", String(2048), nullable=False),
    Column("events", Json, nullable=False),
    Column("description", String(2000)),
    Column("secret", String(100), nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("disabled_reason", String(500)),
    Column("failing_since", UtcDateTime),
    *timestamp_columns(),
    Column("created_by", String(255), nullable=False),
    Index("ix_webhooks_org_created", "organization_id", "created_at", "id"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(50), primary_key=True),
    parent_column("webhook_id", "webhooks"),
    org_column(),
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
    *timestamp_columns(),
    Column("delivered_at", UtcDateTime),
    Index("ix_webhook_deliveries_hook_position", "webhook_id", "position"),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
)


# --- audit trail (migration 0008) ---

audit_log = org_table(
    "audit_log",
    # Append-only: written by the audit commit hook, rewritten only to mask personal values.
    # Its time-sortable ``id`` orders the entries of one instant.
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

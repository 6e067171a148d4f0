"""The transactional outbox, webhooks and their deliveries.

- ``outbox``: one row per committed domain event, written in the write's own transaction
  (``position`` BIGINT identity, ``event_id``, ``organization_id``, ``event``, ``payload`` — the
  webhook body —, ``routing`` — the event bus message and the cache tags —, ``occurred_at``).
- ``outbox_cursors``: the last position each consumer (``webhooks``, each event bus) handled.
- ``webhooks``: an organization's subscriptions (url, events, secret, active or disabled).
- ``webhook_deliveries``: one event for one hook, its status, attempts and next attempt.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from customers_hub.adapters.sql.migrations import ddl

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create ``outbox``, ``outbox_cursors``, ``webhooks`` and ``webhook_deliveries``."""
    op.create_table(
        "outbox",
        sa.Column("position", _POSITION, autoincrement=True, nullable=False),
        ddl.id_column("event_id"),
        ddl.org_column(),
        sa.Column("event", sa.String(length=100), nullable=False),
        sa.Column("payload", ddl.JSON, nullable=False),
        sa.Column("routing", ddl.JSON, nullable=False),
        sa.Column("occurred_at", ddl.UTC, nullable=False),
        ddl.primary_key("outbox", "position"),
    )
    op.create_table(
        "outbox_cursors",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", _POSITION, nullable=False),
        sa.Column("updated_at", ddl.UTC, nullable=False),
        ddl.primary_key("outbox_cursors", "name"),
    )
    op.create_table(
        "webhooks",
        ddl.id_column(),
        ddl.org_column(),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("events", ddl.JSON, nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=True),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=500), nullable=True),
        sa.Column("failing_since", ddl.UTC, nullable=True),
        *ddl.timestamp_columns(),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        ddl.primary_key("webhooks"),
    )
    op.create_index("ix_webhooks_org_created", "webhooks", ["organization_id", "created_at", "id"])
    op.create_table(
        "webhook_deliveries",
        ddl.id_column(),
        ddl.id_column("webhook_id"),
        ddl.org_column(),
        sa.Column("position", _POSITION, nullable=False),
        ddl.id_column("event_id"),
        sa.Column("event", sa.String(length=100), nullable=False),
        sa.Column("payload", ddl.JSON, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_response_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("next_attempt_at", ddl.UTC, nullable=True),
        sa.Column("leased_until", ddl.UTC, nullable=True),
        *ddl.timestamp_columns(),
        sa.Column("delivered_at", ddl.UTC, nullable=True),
        ddl.cascade_fk("webhook_deliveries", "webhook_id", "webhooks"),
        ddl.primary_key("webhook_deliveries"),
    )
    op.create_index(
        "ix_webhook_deliveries_hook_position", "webhook_deliveries", ["webhook_id", "position"]
    )
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"]
    )


def downgrade() -> None:
    """Drop the four tables."""
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
    op.drop_table("outbox_cursors")
    op.drop_table("outbox")

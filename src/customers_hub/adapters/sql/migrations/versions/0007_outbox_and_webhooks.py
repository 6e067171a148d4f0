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
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What tables.UtcDateTime, tables.Json and tables.Position are in DDL.
_UTC = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create ``outbox``, ``outbox_cursors``, ``webhooks`` and ``webhook_deliveries``."""
    op.create_table(
        "outbox",
        sa.Column("position", _POSITION, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=50), nullable=False),
        sa.Column("organization_id", sa.String(length=50), nullable=False),
        sa.Column("event", sa.String(length=100), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
        sa.Column("routing", _JSON, nullable=False),
        sa.Column("occurred_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_outbox")),
    )
    op.create_table(
        "outbox_cursors",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", _POSITION, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_outbox_cursors")),
    )
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(length=50), nullable=False),
        sa.Column("organization_id", sa.String(length=50), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("events", _JSON, nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=True),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=500), nullable=True),
        sa.Column("failing_since", _UTC, nullable=True),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_index("ix_webhooks_org_created", "webhooks", ["organization_id", "created_at", "id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(length=50), nullable=False),
        sa.Column("webhook_id", sa.String(length=50), nullable=False),
        sa.Column("organization_id", sa.String(length=50), nullable=False),
        sa.Column("position", _POSITION, nullable=False),
        sa.Column("event_id", sa.String(length=50), nullable=False),
        sa.Column("event", sa.String(length=100), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_response_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("next_attempt_at", _UTC, nullable=True),
        sa.Column("leased_until", _UTC, nullable=True),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.Column("delivered_at", _UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name=op.f("fk_webhook_deliveries_webhook_id_webhooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
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

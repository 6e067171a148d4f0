"""Idempotency keys: the first response of a keyed write, per organization, user and key.

- ``idempotency_keys``: primary key ``(organization_id, user_id, key)``; ``fingerprint`` (sha256
  of the request), ``status`` (``in_progress`` → ``committed`` in the write's own transaction →
  ``completed`` once the response is stored), ``claim_token`` and ``locked_until`` (the claim and
  its lease), the stored ``response_status``, ``response_headers`` (JSON) and ``response_body``,
  ``created_at`` and ``expires_at`` (24 hours later; indexed for the sweep).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from customers_hub.adapters.sql.migrations import ddl

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``idempotency_keys`` and its sweep index."""
    op.create_table(
        "idempotency_keys",
        ddl.org_column(),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("claim_token", sa.String(length=32), nullable=False),
        sa.Column("locked_until", ddl.UTC, nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_headers", ddl.JSON, nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("created_at", ddl.UTC, nullable=False),
        sa.Column("expires_at", ddl.UTC, nullable=False),
        ddl.primary_key("idempotency_keys", "organization_id", "user_id", "key"),
    )
    op.create_index(
        op.f("ix_idempotency_keys_expires_at"), "idempotency_keys", ["expires_at"], unique=False
    )


def downgrade() -> None:
    """Drop ``idempotency_keys``."""
    op.drop_index(op.f("ix_idempotency_keys_expires_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")

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
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What tables.UtcDateTime and tables.Json are in DDL.
_UTC = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    """Create ``idempotency_keys`` and its sweep index."""
    op.create_table(
        "idempotency_keys",
        sa.Column("organization_id", sa.String(length=50), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("claim_token", sa.String(length=32), nullable=False),
        sa.Column("locked_until", _UTC, nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_headers", _JSON, nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("expires_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "user_id", "key", name=op.f("pk_idempotency_keys")
        ),
    )
    op.create_index(
        op.f("ix_idempotency_keys_expires_at"), "idempotency_keys", ["expires_at"], unique=False
    )


def downgrade() -> None:
    """Drop ``idempotency_keys``."""
    op.drop_index(op.f("ix_idempotency_keys_expires_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")

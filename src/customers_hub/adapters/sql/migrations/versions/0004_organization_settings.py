"""Organization settings (rules §9): one row per organization that stored its settings.

- ``organization_settings``: ``organization_id`` (primary key), ``settings`` (one JSON object
  with camelCase keys — ``timeZone``, ``requireFalLicence``, ``currency``, ``retentionYears`` —
  written by the SQL adapter's cattrs converter, so a new setting needs no migration),
  ``version`` (optimistic concurrency), ``updated_at``, ``updated_by``.
- No row is created for existing organizations: an organization without a row has the
  defaults, with the deployment's configured time zone.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from customers_hub.adapters.sql.migrations import ddl

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``organization_settings``."""
    op.create_table(
        "organization_settings",
        ddl.org_column(),
        sa.Column("settings", ddl.JSON, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", ddl.UTC, nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=False),
        ddl.primary_key("organization_settings", "organization_id"),
    )


def downgrade() -> None:
    """Drop ``organization_settings``."""
    op.drop_table("organization_settings")

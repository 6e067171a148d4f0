"""The audit trail: who changed what, appended in each write's transaction (issue 10).

- ``audit_log``: one row per entity a write changed (and per export): ``id`` (time-sortable),
  ``organization_id``, ``at``, ``actor_id``, ``actor_name``, ``action``, ``entity_type``,
  ``entity_id``, ``customer_id`` (the timeline it belongs to; NULL for employees, settings and
  exports), ``changes`` (a JSON list of ``{field, from, to}``), ``request_id``.
- ``ix_audit_log_org_customer_at`` ``(organization_id, customer_id, at, id)``: a customer's
  timeline, newest first, is one backward range scan.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from customers_hub.adapters.sql.migrations import ddl

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``audit_log`` and its timeline index."""
    op.create_table(
        "audit_log",
        ddl.id_column(),
        ddl.org_column(),
        sa.Column("at", ddl.UTC, nullable=False),
        ddl.id_column("actor_id"),
        sa.Column("actor_name", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        ddl.id_column("entity_id"),
        ddl.id_column("customer_id", nullable=True),
        sa.Column("changes", ddl.JSON, nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        ddl.primary_key("audit_log"),
    )
    op.create_index(
        "ix_audit_log_org_customer_at",
        "audit_log",
        ["organization_id", "customer_id", "at", "id"],
    )


def downgrade() -> None:
    """Drop ``audit_log``."""
    op.drop_index("ix_audit_log_org_customer_at", table_name="audit_log")
    op.drop_table("audit_log")

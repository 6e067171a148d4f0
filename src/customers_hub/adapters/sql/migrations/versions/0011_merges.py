"""Customer merges and unmerges (issue 12, rules §10).

- ``customers.merged_into``: the survivor a merged source went into (the source is soft-deleted
  too, so it leaves lists, search and duplicates through their ``deleted_at IS NULL``).
- ``stage_history.merged_from``: the source a moved history entry came from (NULL for a
  customer's own entries).
- ``customer_merges``: one row per merge with what it moved (row ids and their fingerprints per
  table, the moved history entries' former positions, the survivor's filled fields) so an
  unmerge within 30 days undoes exactly that; ``ix_customer_merges_org_survivor_at
  (organization_id, survivor_id, merged_at)`` finds a survivor's newest merge by one seek.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from customers_hub.adapters.sql.migrations import ddl

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the merge columns and create ``customer_merges``."""
    op.add_column("customers", sa.Column("merged_into", sa.String(length=50), nullable=True))
    op.add_column("stage_history", sa.Column("merged_from", sa.String(length=50), nullable=True))
    op.create_table(
        "customer_merges",
        ddl.id_column(),
        ddl.org_column(),
        ddl.id_column("survivor_id"),
        sa.Column("source_ids", ddl.JSON, nullable=False),
        sa.Column("moved", ddl.JSON, nullable=False),
        sa.Column("history", ddl.JSON, nullable=False),
        sa.Column("fields", ddl.JSON, nullable=False),
        sa.Column("property_views", sa.Integer(), nullable=False),
        sa.Column("merged_at", ddl.UTC, nullable=False),
        sa.Column("merged_by", sa.String(length=50), nullable=False),
        sa.Column("unmerged_at", ddl.UTC, nullable=True),
        sa.Column("unmerged_by", sa.String(length=50), nullable=True),
        ddl.primary_key("customer_merges"),
    )
    op.create_index(
        "ix_customer_merges_org_survivor_at",
        "customer_merges",
        ["organization_id", "survivor_id", "merged_at"],
    )


def downgrade() -> None:
    """Drop ``customer_merges`` and the merge columns."""
    op.drop_index("ix_customer_merges_org_survivor_at", table_name="customer_merges")
    op.drop_table("customer_merges")
    op.drop_column("stage_history", "merged_from")
    op.drop_column("customers", "merged_into")

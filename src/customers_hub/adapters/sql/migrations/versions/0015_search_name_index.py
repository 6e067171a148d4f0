"""Bounded search (issue 9, Deliver 4): the exact and prefix tier seeks the normalized name.

- ``ix_customers_org_name_search`` ``(organization_id, name_search, id)``: a search reads the
  first ``limit`` customers whose normalized name starts with the text as one range scan,
  whatever the number of customers that merely contain it.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the name-prefix index."""
    op.create_index(
        "ix_customers_org_name_search", "customers", ["organization_id", "name_search", "id"]
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_customers_org_name_search", table_name="customers")

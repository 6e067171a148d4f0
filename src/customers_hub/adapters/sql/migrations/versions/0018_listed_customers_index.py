"""The list's count reads an index only (issue 9, Deliver 5).

- ``ix_customers_org_assigned_listed`` ``(organization_id, assigned_employee_id)`` over the
  customers a list shows (live and not restricted by an erasure): the capped count of an
  unfiltered list page (``SELECT count(*) FROM (SELECT 1 … LIMIT cap+1)``), and of an agent's
  or a team's, is an index-only range of at most ``cap+1`` entries. Without it the
  ``restricted_until IS NULL`` condition, in no index, sent that count to the heap — a parallel
  sequential scan at a million customers (≈100 ms per list request, 10× the whole floor).
- ``ANALYZE customers`` on PostgreSQL, so that the planner's estimate of the listed customers
  (the total a list reports above the count's cap) is right at once.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LISTED = sa.text("deleted_at IS NULL AND restricted_until IS NULL")


def upgrade() -> None:
    """Create the index of listed customers."""
    op.create_index(
        "ix_customers_org_assigned_listed",
        "customers",
        ["organization_id", "assigned_employee_id"],
        sqlite_where=_LISTED,
        postgresql_where=_LISTED,
    )
    if op.get_bind().dialect.name == "postgresql":
        # A column added by a migration (restricted_until, 0010) has no statistics until the
        # next auto-analyze, which a table with few writes may not get: the planner then takes
        # "IS NULL" for 0.5 % of the rows, and the list's estimated total above the count's cap
        # came out 10,001 for a million customers. Sampling costs seconds at a million rows.
        op.execute("ANALYZE customers")


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_customers_org_assigned_listed", table_name="customers")

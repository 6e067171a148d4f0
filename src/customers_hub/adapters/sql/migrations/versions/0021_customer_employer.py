"""The customer's employer (``customers.employer``), written by clients (issue 13).

Saudi lenders and REDF support read the employer (government, semi-government or private
sector, and which bank receives the salary) before a financing offer, so agents record it
with the customer. A nullable column: adding it rewrites no row on either database.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``customers.employer``."""
    op.add_column("customers", sa.Column("employer", sa.String(length=200), nullable=True))


def downgrade() -> None:
    """Drop ``customers.employer``."""
    op.drop_column("customers", "employer")

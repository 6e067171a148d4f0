"""Erasure marks on customers (issue 11, rules §8).

- ``customers.erased_at``: when the customer's personal data was erased (NULL: never).
- ``customers.restricted_until``: for an erased customer kept for its contract (an EJAR
  contract, a sale that reached ``closing``), the end of the organization's retention period;
  NULL otherwise. Lists, search, duplicates and exports leave such customers out.
- ``uq_customers_org_phone_live`` leaves erased customers out too: an erased customer's phone
  is empty, and any number of them may be. Rebuilding the partial unique index is one pass over
  the organization-leading index; both columns are NULL on every existing row, so nothing is
  back-filled.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from customers_hub.adapters.sql.migrations import ddl

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PHONE_INDEX = "uq_customers_org_phone_live"
_LIVE = "deleted_at IS NULL"
_LIVE_NOT_ERASED = "deleted_at IS NULL AND erased_at IS NULL"


def _phone_index(where: str) -> None:
    op.drop_index(_PHONE_INDEX, table_name="customers")
    op.create_index(
        _PHONE_INDEX,
        "customers",
        ["organization_id", "phone"],
        unique=True,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    """Add the two columns; free the phone of erased customers in the unique index."""
    op.add_column("customers", sa.Column("erased_at", ddl.UTC, nullable=True))
    op.add_column("customers", sa.Column("restricted_until", ddl.UTC, nullable=True))
    _phone_index(_LIVE_NOT_ERASED)


def downgrade() -> None:
    """Drop the columns and restore the index of 0001 (fails while two live erased customers
    of one organization exist: their empty phones would collide)."""
    _phone_index(_LIVE)
    op.drop_column("customers", "restricted_until")
    op.drop_column("customers", "erased_at")

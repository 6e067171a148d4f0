"""Every foreign key served by an index; every sort key of a list followed by ``id``.

- ``customer_actions.customer_id`` (``ON DELETE CASCADE`` from ``customers``) led no index:
  only ``(organization_id, customer_id)`` existed, so deleting one customer scanned every
  action of every organization (measured at two million actions: 55–355 ms per customer, and a
  30,000-customer delete did not finish in 10 minutes). ``ix_actions_customer`` is its index.
  Every other foreign key already leads an index, a unique constraint or the primary key.
- Cursors seek with a row value, ``(key, id) < (:value, :id)``, which needs an index on
  ``(organization_id, key, id)`` for every sort: ``updatedAt`` of customers and of actions had
  none, and the customers' priority index lacked the ``id``.
- A page's stage histories and property interests are read within the organization
  (``organization_id = ? AND customer_id IN (…)``): ``(organization_id, customer_id, …)``
  indexes serve that on both databases. Without them SQLite's planner (no statistics) read the
  organization's whole history through ``(organization_id, changed_at)`` (300 ms a page at
  60,000 customers).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW_INDEXES = (
    ("ix_actions_customer", "customer_actions", ["customer_id"]),
    ("ix_customers_org_updated", "customers", ["organization_id", "updated_at", "id"]),
    ("ix_actions_org_updated", "customer_actions", ["organization_id", "updated_at", "id"]),
    (
        "ix_stage_history_org_customer",
        "stage_history",
        ["organization_id", "customer_id", "seq"],
    ),
    (
        "ix_property_interests_org_customer",
        "property_interests",
        ["organization_id", "customer_id", "added_at"],
    ),
)


def upgrade() -> None:
    """Create the foreign key's index and the missing sort indexes."""
    for name, table, columns in _NEW_INDEXES:
        op.create_index(name, table, columns, unique=False)
    op.drop_index("ix_customers_org_priority", table_name="customers")
    op.create_index(
        "ix_customers_org_priority",
        "customers",
        ["organization_id", "priority_rank", "id"],
        unique=False,
    )


def downgrade() -> None:
    """Back to revision 0001's indexes."""
    op.drop_index("ix_customers_org_priority", table_name="customers")
    op.create_index(
        "ix_customers_org_priority", "customers", ["organization_id", "priority_rank"], unique=False
    )
    for name, table, _columns in reversed(_NEW_INDEXES):
        op.drop_index(name, table_name=table)

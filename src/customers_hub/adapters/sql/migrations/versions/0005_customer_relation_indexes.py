"""A customer's relations, actions and notes read through an index in the query's order.

Every per-customer read filters ``organization_id = ? AND customer_id = ?`` and orders by the
newest (or oldest) rows, then ``id``. The indexes led by ``customer_id`` alone (the foreign
keys') do not start with the organization and lack the ``id`` tie-breaker, so SQLite's planner
(no statistics) either searched by ``customer_id`` and sorted, or — for appointments and open
actions — walked the whole organization through ``(organization_id, datetime)`` /
``(organization_id, created_at, id)``. ``(organization_id, customer_id, <order key>, id)``
serves each read as one index range in the order asked, on SQLite and PostgreSQL:

- new: interactions ``(…, date, id)``, appointments and reminders ``(…, datetime, id)``,
  documents ``(…, uploaded_at, id)``;
- extended: ``ix_actions_org_customer`` with ``created_at, id``,
  ``ix_property_interests_org_customer`` and ``ix_action_notes_action_created`` with ``id``.

The foreign keys' own ``(customer_id, …)`` indexes stay: a cascading delete uses them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW_INDEXES = (
    ("ix_interactions_org_customer_date", "interactions", "date"),
    ("ix_appointments_org_customer_datetime", "appointments", "datetime"),
    ("ix_reminders_org_customer_datetime", "reminders", "datetime"),
    ("ix_documents_org_customer_uploaded", "documents", "uploaded_at"),
)

# name, table, columns before, columns after
_CHANGED_INDEXES = (
    (
        "ix_actions_org_customer",
        "customer_actions",
        ["organization_id", "customer_id"],
        ["organization_id", "customer_id", "created_at", "id"],
    ),
    (
        "ix_property_interests_org_customer",
        "property_interests",
        ["organization_id", "customer_id", "added_at"],
        ["organization_id", "customer_id", "added_at", "id"],
    ),
    (
        "ix_action_notes_action_created",
        "action_notes",
        ["action_id", "created_at"],
        ["action_id", "created_at", "id"],
    ),
)


def upgrade() -> None:
    """Create the customer-led indexes; extend three existing ones to the query's order."""
    for name, table, key in _NEW_INDEXES:
        op.create_index(name, table, ["organization_id", "customer_id", key, "id"], unique=False)
    for name, table, _before, after in _CHANGED_INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, after, unique=False)


def downgrade() -> None:
    """Back to revision 0004's indexes."""
    for name, table, before, _after in reversed(_CHANGED_INDEXES):
        op.drop_index(name, table_name=table)
        op.create_index(name, table, before, unique=False)
    for name, table, _key in reversed(_NEW_INDEXES):
        op.drop_index(name, table_name=table)

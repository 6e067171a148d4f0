"""Consents and data-subject requests (issue 11, rules §8).

- ``customer_consents``: the current consent per customer and channel (PK ``(customer_id,
  channel)``), kept in the same transaction as its history; ``ix_customer_consents_org_channel
  _granted (organization_id, channel, granted, customer_id)`` serves the list filter
  ``consent=<channel>`` as an index-only EXISTS per customer.
- ``consent_events``: the append-only history, ``ix_consent_events_customer_at (customer_id, at,
  id)`` (a customer's history newest first; also the foreign key's index).
- ``privacy_requests``: requests with their clock (``received_at``, ``due_at``,
  ``original_due_at``, the one extension), indexed by ``(organization_id, received_at, id)``
  (the list), ``(organization_id, status, due_at)`` (overdue, due soon, statistics) and
  ``(customer_id, received_at, id)`` (a customer's requests; the foreign key's index).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What tables.UtcDateTime is in DDL.
_UTC = sa.DateTime(timezone=True)


def _customer_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["customer_id"],
        ["customers.id"],
        name=op.f(f"fk_{table}_customer_id_customers"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    """Create ``customer_consents``, ``consent_events`` and ``privacy_requests``."""
    op.create_table(
        "customer_consents",
        sa.Column("customer_id", sa.String(length=50), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("organization_id", sa.String(length=50), nullable=False),
        sa.Column("entry_id", sa.String(length=50), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("actor_id", sa.String(length=50), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        _customer_fk("customer_consents"),
        sa.PrimaryKeyConstraint("customer_id", "channel", name=op.f("pk_customer_consents")),
    )
    op.create_index(
        "ix_customer_consents_org_channel_granted",
        "customer_consents",
        ["organization_id", "channel", "granted", "customer_id"],
    )
    op.create_table(
        "consent_events",
        sa.Column("id", sa.String(length=50), nullable=False),
        sa.Column("organization_id", sa.String(length=50), nullable=False),
        sa.Column("customer_id", sa.String(length=50), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("actor_id", sa.String(length=50), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        _customer_fk("consent_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
    )
    op.create_index("ix_consent_events_customer_at", "consent_events", ["customer_id", "at", "id"])
    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.String(length=50), nullable=False),
        sa.Column("organization_id", sa.String(length=50), nullable=False),
        sa.Column("customer_id", sa.String(length=50), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("received_at", _UTC, nullable=False),
        sa.Column("due_at", _UTC, nullable=False),
        sa.Column("original_due_at", _UTC, nullable=False),
        sa.Column("extended_at", _UTC, nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("closed_at", _UTC, nullable=True),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.Column("created_by", sa.String(length=50), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        _customer_fk("privacy_requests"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_requests")),
    )
    op.create_index(
        "ix_privacy_requests_org_received",
        "privacy_requests",
        ["organization_id", "received_at", "id"],
    )
    op.create_index(
        "ix_privacy_requests_org_status_due",
        "privacy_requests",
        ["organization_id", "status", "due_at"],
    )
    op.create_index(
        "ix_privacy_requests_customer_received",
        "privacy_requests",
        ["customer_id", "received_at", "id"],
    )


def downgrade() -> None:
    """Drop the three tables (their indexes go with them)."""
    op.drop_table("privacy_requests")
    op.drop_table("consent_events")
    op.drop_table("customer_consents")

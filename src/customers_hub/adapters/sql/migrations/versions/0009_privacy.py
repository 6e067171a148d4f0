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
from typing import Any

import sqlalchemy as sa
from alembic import op

from customers_hub.adapters.sql.migrations import ddl

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _consent_columns() -> tuple[sa.Column[Any], ...]:
    """What a consent and each entry of its history record: given or not, how, when, by whom."""
    return (
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("at", ddl.UTC, nullable=False),
        ddl.id_column("actor_id"),
        sa.Column("notes", sa.Text(), nullable=True),
    )


def upgrade() -> None:
    """Create ``customer_consents``, ``consent_events`` and ``privacy_requests``."""
    op.create_table(
        "customer_consents",
        ddl.id_column("customer_id"),
        sa.Column("channel", sa.String(length=20), nullable=False),
        ddl.org_column(),
        ddl.id_column("entry_id"),
        *_consent_columns(),
        ddl.cascade_fk("customer_consents", "customer_id", "customers"),
        ddl.primary_key("customer_consents", "customer_id", "channel"),
    )
    op.create_index(
        "ix_customer_consents_org_channel_granted",
        "customer_consents",
        ["organization_id", "channel", "granted", "customer_id"],
    )
    ddl.create_customer_table(
        "consent_events",
        sa.Column("channel", sa.String(length=20), nullable=False),
        *_consent_columns(),
    )
    op.create_index("ix_consent_events_customer_at", "consent_events", ["customer_id", "at", "id"])
    ddl.create_customer_table(
        "privacy_requests",
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("received_at", ddl.UTC, nullable=False),
        sa.Column("due_at", ddl.UTC, nullable=False),
        sa.Column("original_due_at", ddl.UTC, nullable=False),
        sa.Column("extended_at", ddl.UTC, nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("closed_at", ddl.UTC, nullable=True),
        *ddl.timestamp_columns(),
        sa.Column("created_by", sa.String(length=50), nullable=False),
        ddl.version_column(),
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

"""Duplicate detection keys (rules §10): the compared forms of name, English name, city and
e-mail stored next to each customer, and one index per key among live customers, so candidates
are found by indexed equality instead of comparing an organization's customers pairwise.

- ``name_key``, ``name_en_key``, ``city_key``: the §6 normalization of ``name``, ``name_en`` and
  ``city`` (:func:`customers_hub.domain.duplicates.name_key`); ``email_key``: the trimmed,
  case-folded e-mail. The SQL adapter writes them on every insert and update
  (``mappers.customer_values``); existing rows are filled here, in batches of
  :data:`_BATCH` by id, with the domain's functions as they are at this revision.
- Partial indexes (``WHERE deleted_at IS NULL``) led by the organization on ``whatsapp``,
  ``national_id``, ``email_key``, ``(name_key, city_key)`` and ``(name_en_key, city_key)``;
  the phone already has ``uq_customers_org_phone_live``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from customers_hub.domain.duplicates import email_key, name_key

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5_000
_COLUMNS = ("name_key", "name_en_key", "city_key", "email_key")
_INDEXES = (
    ("ix_customers_org_whatsapp_live", ["organization_id", "whatsapp"]),
    ("ix_customers_org_national_id_live", ["organization_id", "national_id"]),
    ("ix_customers_org_email_key_live", ["organization_id", "email_key"]),
    ("ix_customers_org_name_key_live", ["organization_id", "name_key", "city_key"]),
    ("ix_customers_org_name_en_key_live", ["organization_id", "name_en_key", "city_key"]),
)
_LIVE = sa.text("deleted_at IS NULL")


def _backfill() -> None:
    """Compute the keys of every existing customer, ``_BATCH`` rows at a time (by id)."""
    conn = op.get_bind()
    customers = sa.table(
        "customers",
        sa.column("id", sa.String),
        sa.column("name", sa.String),
        sa.column("name_en", sa.String),
        sa.column("city", sa.String),
        sa.column("email", sa.String),
        *(sa.column(name, sa.Text) for name in _COLUMNS),
    )
    c = customers.c
    update = (
        sa.update(customers)
        .where(c.id == sa.bindparam("row_id"))
        .values({name: sa.bindparam(f"new_{name}") for name in _COLUMNS})
    )
    last = ""
    while True:
        rows = conn.execute(
            sa.select(c.id, c.name, c.name_en, c.city, c.email)
            .where(c.id > last)
            .order_by(c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        conn.execute(
            update,
            [
                {
                    "row_id": row.id,
                    "new_name_key": name_key(row.name),
                    "new_name_en_key": name_key(row.name_en),
                    "new_city_key": name_key(row.city),
                    "new_email_key": email_key(row.email),
                }
                for row in rows
            ],
        )
        last = rows[-1].id


def upgrade() -> None:
    """Add the key columns, fill them, then index them."""
    for name in _COLUMNS:
        op.add_column("customers", sa.Column(name, sa.Text(), nullable=True))
    _backfill()
    for name, columns in _INDEXES:
        op.create_index(
            name,
            "customers",
            columns,
            unique=False,
            sqlite_where=_LIVE,
            postgresql_where=_LIVE,
        )


def downgrade() -> None:
    """Drop the indexes and the key columns."""
    for name, _columns in reversed(_INDEXES):
        op.drop_index(name, table_name="customers")
    for name in reversed(_COLUMNS):
        op.drop_column("customers", name)

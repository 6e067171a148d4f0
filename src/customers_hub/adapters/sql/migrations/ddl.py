"""What many revisions write alike, as DDL: the column types of ``tables`` (``UtcDateTime``,
``Json``), the id, organization, version and timestamp columns, the cascading reference and the
named primary key, the table of rows that belong to one customer, and the dropping of the
counters' triggers with their functions.

Part of the frozen history: the revisions produce their DDL through these, so nothing here may
ever change what it produces (a type, a name, a nullability, an order). A later schema change
writes its own DDL in its own revision, or adds a new name here; it never edits one that a
revision uses. Keep this module small and free of imports from the rest of the package: a
revision must build the same schema whatever ``tables.py`` becomes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import SchemaItem

__all__ = [
    "JSON",
    "UTC",
    "cascade_fk",
    "create_customer_table",
    "create_indexes",
    "drop_triggers",
    "id_column",
    "org_column",
    "primary_key",
    "timestamp_columns",
    "version_column",
]

UTC = sa.DateTime(timezone=True)
"""What ``tables.UtcDateTime`` is in DDL."""
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
"""What ``tables.Json`` is in DDL."""


def id_column(name: str = "id", *, nullable: bool = False) -> sa.Column[Any]:
    """An id column (``String(50)``), required unless ``nullable``."""
    return sa.Column(name, sa.String(length=50), nullable=nullable)


def org_column() -> sa.Column[Any]:
    """The owning organization's id (required)."""
    return id_column("organization_id")


def version_column() -> sa.Column[Any]:
    """The row's version for optimistic concurrency (required, 1 by default)."""
    return sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)


def timestamp_columns() -> tuple[sa.Column[Any], sa.Column[Any]]:
    """``created_at`` and ``updated_at``, both required."""
    return (
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
    )


def cascade_fk(table: str, column: str, parent: str) -> sa.ForeignKeyConstraint:
    """``table.column`` references ``parent.id``; the row goes with its parent (``ON DELETE
    CASCADE``). Named as the metadata's naming convention names it."""
    return sa.ForeignKeyConstraint(
        [column],
        [f"{parent}.id"],
        name=op.f(f"fk_{table}_{column}_{parent}"),
        ondelete="CASCADE",
    )


def primary_key(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    """The primary key of ``table`` on ``columns`` (``id`` when none is given), named
    ``pk_<table>``."""
    return sa.PrimaryKeyConstraint(*(columns or ("id",)), name=op.f(f"pk_{table}"))


def create_customer_table(name: str, *columns: SchemaItem, unique: Sequence[str] = ()) -> None:
    """Create a table of rows that belong to one customer (``tables.customer_table``): its
    ``id``, ``organization_id`` and ``customer_id`` first, then ``columns``; then the reference
    to the customer (cascading), the primary key on ``id`` and, given ``unique``, a unique
    constraint on those columns."""
    constraints: list[SchemaItem] = [
        cascade_fk(name, "customer_id", "customers"),
        primary_key(name),
    ]
    if unique:
        uq_name = op.f(f"uq_{name}_{'_'.join(unique)}")
        constraints.append(sa.UniqueConstraint(*unique, name=uq_name))
    op.create_table(
        name, id_column(), org_column(), id_column("customer_id"), *columns, *constraints
    )


def create_indexes(table: str, indexes: Iterable[tuple[str, list[str]]]) -> None:
    """Create the plain (not unique, not partial) indexes ``(name, columns)`` of ``table``, in
    that order."""
    for name, columns in indexes:
        op.create_index(name, table, columns, unique=False)


def drop_triggers(prefix: str, triggers: Mapping[str, str]) -> None:
    """Drop each trigger ``<prefix>_<name>`` of ``triggers`` (``name -> table``) and, on
    PostgreSQL, its function ``<prefix>_<name>()`` right after it."""
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, table in triggers.items():
        op.execute(f"DROP TRIGGER IF EXISTS {prefix}_{name}" + (f" ON {table}" if postgres else ""))
        if postgres:
            op.execute(f"DROP FUNCTION IF EXISTS {prefix}_{name}()")

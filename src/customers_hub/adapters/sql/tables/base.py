"""The shared parts of the SQL schema: the one ``metadata`` (and its naming convention), the
column types every table uses (:class:`UtcDateTime`, ``Json``, ``Money``) and the id columns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.schema import SchemaItem
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

Json = JSON().with_variant(JSONB(), "postgresql")
Money = Numeric(15, 2, asdecimal=True)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database (SQLite keeps no time zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes; store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        # SQLite stores text: drop the zone so comparisons stay lexicographic and uniform.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Always aware UTC."""
        if value is None:
            return None
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def id_column(name: str = "id", **kwargs: Any) -> Column[str]:
    """An id column (``String(50)``)."""
    return Column(name, String(50), **kwargs)


def org_column() -> Column[str]:
    """The owning organization's id (required): every query of a tenant's rows names it."""
    return Column("organization_id", String(50), nullable=False)


def parent_column(name: str, parent: str, *, primary_key: bool = False) -> Column[str]:
    """A required reference to ``parent``'s id; the row goes with its parent (``ON DELETE
    CASCADE``). ``customer_id`` of a customer's relations is ``parent_column("customer_id",
    "customers")``."""
    return Column(
        name,
        String(50),
        ForeignKey(f"{parent}.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
    )


def version_column() -> Column[int]:
    """The row's version for optimistic concurrency (``UPDATE … WHERE version = :seen``)."""
    return Column("version", Integer, nullable=False, server_default=text("1"))


def timestamp_columns() -> tuple[Column[datetime], Column[datetime]]:
    """``created_at`` and ``updated_at``, both required (aware UTC)."""
    return (
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
    )


def org_table(name: str, *items: SchemaItem) -> Table:
    """A table of one organization's rows: its own ``id`` and ``organization_id`` come first,
    then ``items``."""
    return Table(name, metadata, id_column(primary_key=True), org_column(), *items)


def customer_table(name: str, *items: SchemaItem) -> Table:
    """A table of rows that belong to one customer: its own ``id``, ``organization_id`` and
    ``customer_id`` (the rows go with the customer) come first, then ``items``."""
    return org_table(name, parent_column("customer_id", "customers"), *items)


def partial_index(
    name: str, *columns: str | Column[Any], where: str, unique: bool = False
) -> Index:
    """An index of the rows that satisfy ``where`` only, the same predicate on SQLite and
    PostgreSQL: a query must state ``where`` literally (or imply it) to use the index."""
    return Index(
        name,
        *columns,
        unique=unique,
        sqlite_where=text(where),
        postgresql_where=text(where),
    )


def customer_rows_indexes(by_customer: str, by_org: str, column: str) -> tuple[Index, Index]:
    """The two indexes of a customer's rows ordered by ``column``: ``by_customer`` on
    ``(customer_id, column)`` (the foreign key's) and ``by_org`` on ``(organization_id,
    customer_id, column, id)``. A customer's newest rows are read within the organization in
    ``by_org``'s order (0005): without it SQLite searched by customer_id and sorted, or walked
    the organization by date."""
    return (
        Index(by_customer, "customer_id", column),
        Index(by_org, "organization_id", "customer_id", column, "id"),
    )

"""The customers of a list query, read out in keyset batches for an export.

:class:`SqlCustomerExportSource` compiles a
:class:`~customers_hub.application.queries.CustomerListQuery` exactly as the list does (scope,
live customers, the compiled conditions, the free-text search, the sort field with ``id`` as
tie-breaker, NULLs last in both directions) and reads it ``batch_size`` rows at a time, each
batch on a connection of its own, starting after the previous batch's last row:

* a NOT NULL sort field — ``(field, id) < (last field, last id)`` (``>`` ascending), one seek of
  the ``(organization_id, field, id)`` index per batch;
* a nullable one (``lastContactAt``, ``dealValue``) in two passes: the rows with a value, by
  that same row value, then the NULL rows by ``id`` alone.

So an export of a million customers holds one batch in memory at a time and every batch costs
the same. No transaction spans the export: a customer changed while it runs may appear in the
state of the moment its batch was read (or, if its sort key moved, once more or not at all —
the price of not holding a snapshot open for minutes). Stage history and property interests
are not loaded (no exported column needs them).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.sql import tables as t
from customers_hub.adapters.sql.dialect import literal_rows
from customers_hub.adapters.sql.filters import (
    CUSTOMER_SORTS,
    customer_conditions,
    customer_scope,
    customer_search,
    sort_spec,
)
from customers_hub.adapters.sql.mappers import customer_from_row
from customers_hub.adapters.sql.read_scope import listed
from customers_hub.application.queries import CustomerListQuery
from customers_hub.domain.model import Customer

__all__ = ["SqlCustomerExportSource"]


def _bound(column: Any, value: object) -> Any:
    """``value`` bound with ``column``'s type (UTC datetimes keep their conversion)."""
    return literal(value, type_=column.type)


class SqlCustomerExportSource:
    """:class:`~customers_hub.application.ports_operations.CustomerExportSource` over
    SQLAlchemy Core."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def batches(
        self, query: CustomerListQuery, batch_size: int
    ) -> AsyncIterator[Sequence[Customer]]:
        """The customers of ``query`` in its order, ``batch_size`` at a time (keyset)."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        c = t.customers.c
        spec = sort_spec(CUSTOMER_SORTS, query.sort.field)
        where: list[ColumnElement[bool]] = [
            customer_scope(query.scope),
            c.deleted_at.is_not(None) if query.deleted else c.deleted_at.is_(None),
            listed(),  # restricted customers (rules §8) never leave in a file
            *customer_conditions(query.conditions),
        ]
        if query.search is not None:
            matched = customer_search(query.search)
            if matched is not None:
                where.append(matched)
        descending = query.sort.descending
        field, id_col = spec.column, c.id
        if spec.nullable:
            passes: list[tuple[ColumnElement[bool] | None, tuple[Any, ...]]] = [
                (field.is_not(None), (field, id_col)),
                (field.is_(None), (id_col,)),
            ]
        else:
            passes = [(None, (field, id_col))]
        for only, keys in passes:
            async for batch in self._pass(where, only, keys, descending, batch_size):
                yield batch

    async def _pass(
        self,
        where: Sequence[ColumnElement[bool]],
        only: ColumnElement[bool] | None,
        keys: tuple[Any, ...],
        descending: bool,
        batch_size: int,
    ) -> AsyncIterator[Sequence[Customer]]:
        """One ordered run over ``keys`` (the last one is ``id``), seeking past each batch."""
        order = [k.desc() if descending else k.asc() for k in keys]
        conditions = [*where] if only is None else [*where, only]
        last: tuple[object, ...] | None = None
        while True:
            stmt = select(t.customers).where(*conditions)
            if last is not None:
                left = tuple_(*keys) if len(keys) > 1 else keys[0]
                right = (
                    tuple_(*(_bound(k, v) for k, v in zip(keys, last, strict=True)))
                    if len(keys) > 1
                    else _bound(keys[0], last[0])
                )
                stmt = stmt.where(left < right if descending else left > right)
            stmt = stmt.order_by(*order).limit(literal_rows(batch_size))
            async with self._engine.connect() as conn:
                rows = list((await conn.execute(stmt)).mappings())
            if not rows:
                return
            yield [customer_from_row(row, (), ()) for row in rows]
            if len(rows) < batch_size:
                return
            final = rows[-1]
            last = tuple(final[k.name] for k in keys)

"""The generated row reader of :func:`~customers_hub.adapters.sql.mappers.rows.from_row` gives
exactly what the plain per-column converter gives (its reference), on SQLite and PostgreSQL.

``from_row`` reads a row through a function generated once per (class, table) that skips the
conversion of a value already of the field's type and looks enum members up directly. The
reference below is the definition those shortcuts must keep: every column that names a field,
through the row converter's own hook for the field's type, a NULL for a field that takes none
left to its default. Results are compared with their types and reprs, so ``Decimal("1.0")`` vs
``Decimal("1.00")``, a naive vs an aware datetime, or a ``str`` subclass vs ``str`` all differ.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine
from test_sql_repositories import drawn, fresh_customer

from customers_hub.adapters.sql import mappers, tables
from customers_hub.adapters.sql.mappers.rows import _row_converter, _takes_none, from_row
from customers_hub.adapters.sql.uow import SqlUnitOfWorkFactory
from customers_hub.domain.model import Customer, PropertyInterest, StageChange
from customers_hub.testing.identity import outcome, typed
from customers_hub.testing.strategies import customers

_GIVEN = {"stage_history": (), "property_interests": ()}


def reference_from_row(
    cls: type[Any], table: Table, row: Mapping[str, Any], /, **given: Any
) -> Any:
    """``from_row`` as plainly defined: each column through the converter, no shortcuts."""
    fields = attrs.fields_dict(attrs.resolve_types(cls))
    values: dict[str, Any] = {}
    for column in table.columns:
        field = fields.get(column.name)
        if field is None or column.name in given:
            continue
        raw = row[column.name]
        if raw is None:
            if _takes_none(field.type):
                values[column.name] = None
            continue
        values[column.name] = _row_converter.structure(raw, field.type)
    return cls(**values, **given)


class _Text(str):
    """A ``str`` subclass: not exactly ``str``, so the reader must convert it as before."""


class _Member(enum.Enum):
    ONE = "1"


def _variants(value: object) -> st.SearchStrategy[object]:
    """``value`` as the driver returns it, or in another type a driver might return, or junk."""
    options: list[object] = [value, "¿junk?", _Member.ONE, [value]]
    if value is not None and not isinstance(value, list | dict):
        options += [str(value), _Text(str(value))]
    if isinstance(value, bool):
        options.append(int(value))
    elif isinstance(value, int):
        options += [float(value), bool(value), Decimal(value)]
    elif isinstance(value, Decimal):
        options += [float(value), int(value), value.normalize()]
    elif isinstance(value, enum.Enum):
        options.append(value.value)
    return st.sampled_from(options)


@st.composite
def drifted_rows(draw: st.DrawFn) -> dict[str, object]:
    """A ``customers`` row of a drawn customer, a few columns in another type (or junk).

    Few, so that one junk column does not make every row raise and hide the others."""
    row = mappers.customer_values(draw(customers()))
    drifted = draw(st.sets(st.sampled_from(sorted(row)), max_size=3))
    return {
        name: draw(_variants(value)) if name in drifted else value for name, value in row.items()
    }


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(drifted_rows())
def test_any_row_reads_as_the_reference_reads_it(row: dict[str, object]) -> None:
    assert outcome(from_row, Customer, tables.customers, row, **_GIVEN) == outcome(
        reference_from_row, Customer, tables.customers, row, **_GIVEN
    )


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(customers())
def test_a_written_row_reads_back_as_the_customer(customer: Customer) -> None:
    row = mappers.customer_values(customer)
    expected = attrs.evolve(customer, **_GIVEN)
    assert typed(from_row(Customer, tables.customers, row, **_GIVEN)) == typed(expected)


async def test_rows_of_the_database_read_as_the_reference_reads_them(
    engine: AsyncEngine, org_id: str
) -> None:
    items = [fresh_customer(c, org_id) for c in drawn(customers(organization_id=org_id), 25)]
    async with SqlUnitOfWorkFactory(engine)() as uow:
        for c in items:
            await uow.customers.add(c)
        await uow.commit()
    checked = 0
    async with engine.connect() as conn:
        for cls, table, given in (
            (Customer, tables.customers, _GIVEN),
            (StageChange, tables.stage_history, {}),
            (PropertyInterest, tables.property_interests, {}),
        ):
            query = select(table).where(table.c.organization_id == org_id)
            for row in (await conn.execute(query)).mappings():
                new = outcome(from_row, cls, table, row, **given)
                assert new[0] == "ok", new
                assert new == outcome(reference_from_row, cls, table, row, **given)
                checked += 1
    # Every customer row and every history and interest row of them was compared.
    assert checked == sum(1 + len(c.stage_history) + len(c.property_interests) for c in items)

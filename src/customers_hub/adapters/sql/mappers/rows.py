"""One generic step between a table's rows and an entity (attrs) by their shared names.

A column and the entity's field of the same name are one value: :func:`row_values` writes it,
:func:`from_row` reads it back, typed by the field (an enum from its value, a ``Decimal``
exactly, a tuple from a JSON list, a nested entity from its JSON column through
:data:`~.base.json_converter`). A NULL in a column whose field does not take ``None`` gives the
field's default (``source_details`` → ``{}``, ``preferences`` → ``Preferences()``). The few
columns that are not a field of the same name (derived columns, the owner's keys, a position)
are the caller's keyword arguments, so a mapper spells only its exceptions.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Hashable, Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple, TypeVar, cast

import attrs
from cattrs import Converter
from sqlalchemy import RowMapping, Table

from customers_hub.adapters.sql.mappers.base import json_converter, to_json

E = TypeVar("E")


def _make_row_converter() -> Converter:
    conv = Converter()
    # The driver already returns datetimes and dates (UtcDateTime makes them aware).
    conv.register_structure_hook(datetime, lambda value, _: value)
    conv.register_structure_hook(date, lambda value, _: value)
    conv.register_structure_hook(
        Decimal, lambda value, _: value if isinstance(value, Decimal) else Decimal(str(value))
    )
    # A nested entity is a JSON column: camelCase keys, Decimal as text (base.json_converter).
    conv.register_structure_hook_factory(
        attrs.has, lambda cls: lambda value, _: json_converter.structure(value, cls)
    )
    return conv


_row_converter = _make_row_converter()


class _Column(NamedTuple):
    """How one column is read into its field."""

    name: str
    read: Callable[[Any], Any]
    optional: bool  # the field takes None


def _takes_none(hint: Any) -> bool:
    if hint is None or hint is type(None):
        return True
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and type(
        None
    ) in typing.get_args(hint)


def _reader(hint: Any) -> Callable[[Any], Any]:
    hook = _row_converter.get_structure_hook(hint)
    return lambda value: hook(value, hint)


@cache
def _columns(cls: Any, table: Table) -> tuple[_Column, ...]:
    fields = {f.name: f for f in attrs.fields(attrs.resolve_types(cls))}
    plan = []
    for column in table.columns:
        field = fields.get(column.name)
        if field is None:
            continue
        plan.append(_Column(column.name, _reader(field.type), _takes_none(field.type)))
    return tuple(plan)


def from_row(cls: type[E], table: Table, row: RowMapping | Mapping[str, Any], /, **given: Any) -> E:
    """The ``cls`` of a ``table`` row: every column that names a field of ``cls``, read as that
    field's type; ``given`` holds the fields no column of the same name carries."""
    values: dict[str, Any] = {}
    for column in _columns(cast(Hashable, cls), table):
        if column.name in given:
            continue
        raw = row[column.name]
        if raw is None:
            if column.optional:
                values[column.name] = None
            continue  # NULL for a field that takes none: its default
        values[column.name] = column.read(raw)
    return cls(**values, **given)


def _column_value(value: object) -> object:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [_column_value(item) for item in value]
    if isinstance(value, dict):
        return dict(value)
    if attrs.has(type(value)):
        return to_json(value)
    return value


@cache
def _field_columns(cls: Any, table: Table) -> tuple[str, ...]:
    names = {f.name for f in attrs.fields(cls)}
    return tuple(c.name for c in table.columns if c.name in names)


def row_values(entity: object, table: Table, /, **derived: object) -> dict[str, object]:
    """Column values of ``table`` for ``entity``: every column that names a field of it, in
    column form (enums their value, tuples lists, nested entities JSON), then ``derived``
    (the columns no field of the same name holds, or that a field holds differently)."""
    values = {
        name: _column_value(getattr(entity, name))
        for name in _field_columns(cast(Hashable, type(entity)), table)
        if name not in derived
    }
    values.update(derived)
    return values

"""One generic step between a table's rows and an entity (attrs) by their shared names.

A column and the entity's field of the same name are one value: :func:`row_values` writes it,
:func:`from_row` reads it back, typed by the field (an enum from its value, a ``Decimal``
exactly, a tuple from a JSON list, a nested entity from its JSON column through
:data:`~.base.json_converter`). A NULL in a column whose field does not take ``None`` gives the
field's default (``source_details`` → ``{}``, ``preferences`` → ``Preferences()``). The few
columns that are not a field of the same name (derived columns, the owner's keys, a position)
are the caller's keyword arguments, so a mapper spells only its exceptions.

Reading is on every list page (57 columns × 20 rows), so what each column needs is decided
once per (class, table, given names) and compiled into one straight-line reader: a value the
driver already returns as exactly the field's type (``str``, ``int``, ``datetime``, …) is kept
as it is, an enum member is looked up by its value, a nested entity is read by its compiled
JSON reader (:mod:`.json_reader`), anything else goes through the converter's hook, prebound.
The results are the converter's own (``tests/integration/test_row_reader.py``
compares them, types and reprs included, with the plain per-column definition).
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
from customers_hub.adapters.sql.mappers.json_reader import entity_reader

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


# Field types whose row hook is ``cls(value)`` or the identity: a value the driver already
# returns as exactly that type is the field's value as it is, so the read is skipped.
_AS_IS: frozenset[type] = frozenset({str, int, bool, float, Decimal, datetime, date})


class _Column(NamedTuple):
    """How one column is read into its field, decided once per (class, table)."""

    name: str
    as_is: type | None  # a raw value of exactly this type is the field's value unchanged
    members: Mapping[str, Any] | None  # an enum field: its member of a raw str value
    read: Callable[[Any], Any]  # any other (non-NULL) raw value → the field's value
    optional: bool  # the field takes None


def _takes_none(hint: Any) -> bool:
    if hint is None or hint is type(None):
        return True
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and type(
        None
    ) in typing.get_args(hint)


def _not_none(hint: Any) -> Any:
    """The type a non-NULL value of ``hint`` is read as: ``X`` of ``X | None``; cattrs' optional
    hook does the same for a value that is not None."""
    if _takes_none(hint):
        others = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(others) == 1:
            return others[0]
    return hint


def _plan(hint: Any) -> tuple[type | None, Callable[[Any], Any]]:
    """``(as_is, read)`` of a field typed ``hint``: the same results as the converter's hook,
    with its dispatch done here once instead of per value."""
    inner = _not_none(hint)
    if isinstance(inner, type) and attrs.has(inner):
        # A nested entity is a JSON column: the row converter's attrs hook (json_converter),
        # compiled for the values JSON decodes to (json_reader).
        return None, entity_reader(inner)
    hook = _row_converter.get_structure_hook(inner)
    as_is = inner if inner in _AS_IS else None
    if hook is Converter._structure_call:
        return as_is, inner  # the hook is ``inner(value)`` (str, int, bool, an enum, …)
    return as_is, lambda value: hook(value, inner)


def _members(read: Callable[[Any], Any]) -> Mapping[str, Any] | None:
    """An enum's members by value when all values are ``str``: ``Enum(value)`` looks a value up
    in this same map first, so a hit is the member it returns (without its two calls)."""
    if isinstance(read, enum.EnumMeta):
        members: Mapping[Any, Any] = read._value2member_map_
        if all(type(value) is str for value in members):
            return members
    return None


@cache
def _columns(cls: Any, table: Table) -> tuple[_Column, ...]:
    fields = {f.name: f for f in attrs.fields(attrs.resolve_types(cls))}
    plan = []
    for column in table.columns:
        field = fields.get(column.name)
        if field is None:
            continue
        as_is, read = _plan(field.type)
        plan.append(_Column(column.name, as_is, _members(read), read, _takes_none(field.type)))
    return tuple(plan)


_Reader = Callable[[RowMapping | Mapping[str, Any]], dict[str, Any]]


@cache
def _row_reader(cls: Any, table: Table, given: frozenset[str]) -> _Reader:
    """The field values of a ``table`` row for ``cls`` (the columns in ``given`` left out), as
    one generated function of straight-line code: the plan's loop, unrolled once per
    (class, table, given names) — a page of rows calls it once a row, with no per-column
    dispatch left."""
    namespace: dict[str, Any] = {}
    lines = ["def read(row):", "    values = {}"]
    for i, column in enumerate(_columns(cls, table)):
        if column.name in given:
            continue
        namespace[f"as_is_{i}"], namespace[f"read_{i}"] = column.as_is, column.read
        namespace[f"members_{i}"] = column.members
        key = repr(column.name)
        value = f"read_{i}(raw)"
        if column.as_is is not None:
            value = f"raw if type(raw) is as_is_{i} else {value}"
        elif column.members is not None:
            value = f"members_{i}[raw] if type(raw) is str and raw in members_{i} else {value}"
        lines.append(f"    raw = row[{key}]")
        if column.optional:
            lines.append(f"    values[{key}] = None if raw is None else {value}")
        else:  # NULL for a field that takes none: left out, so the field's default
            lines.append(f"    if raw is not None: values[{key}] = {value}")
    lines.append("    return values")
    exec(compile("\n".join(lines), f"<row reader {cls.__name__} {table.name}>", "exec"), namespace)
    return cast(_Reader, namespace["read"])


def from_row(cls: type[E], table: Table, row: RowMapping | Mapping[str, Any], /, **given: Any) -> E:
    """The ``cls`` of a ``table`` row: every column that names a field of ``cls``, read as that
    field's type; ``given`` holds the fields no column of the same name carries."""
    values = _row_reader(cast(Hashable, cls), table, frozenset(given))(row)
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

"""One converter per direction between domain objects (attrs) and wire Structs (msgspec).

Out: :func:`to_wire` fills a response Struct from a domain object by the fields both name the
same, with ``msgspec.convert`` (which checks every value against the Struct's type), so a field
is declared on the entity and on the Struct, never copied by hand. The wire conventions are
applied once, here: an absent optional value (``None`` where the Struct's default is
:data:`~msgspec.UNSET`) is omitted, money and other ``Decimal`` quantities are JSON numbers
(:func:`~.base.money`: whole amounts as integers), datetimes are UTC, tuples are lists, and a
nested entity becomes the Struct its field names. The few values that are not a same-named
attribute (the embedded assignee, an appointment's local date and time, a document's URL) are
passed as keyword arguments.

In: :func:`from_wire` turns a request Struct (or a part of one) into a domain object by the
same names: ``msgspec.convert`` with ``from_attributes``, which builds attrs classes, nested
ones and tuples included.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any, Final, NamedTuple, TypeVar

import attrs
import msgspec
from msgspec import UNSET

from customers_hub.entrypoints.http.wire.base import money

S = TypeVar("S", bound=msgspec.Struct)
D = TypeVar("D")

_MISSING: Final = object()


class _Slot(NamedTuple):
    """How one field of a response Struct is filled."""

    name: str  # the attribute (the same on the domain object)
    key: str  # the wire key (msgspec.convert reads a mapping by it)
    omit_none: bool  # the Struct omits the key (default UNSET) rather than writing null
    nested: type[msgspec.Struct] | None  # the Struct a nested entity (or each item) becomes


def _struct_inside(hint: Any) -> type[msgspec.Struct] | None:
    """The Struct type inside ``hint`` (``X | UnsetType``, ``list[X]``, ``X | None``), if any."""
    if isinstance(hint, type) and issubclass(hint, msgspec.Struct):
        return hint
    if typing.get_origin(hint) in (typing.Union, types.UnionType, list, tuple):
        for arg in typing.get_args(hint):
            found = _struct_inside(arg)
            if found is not None:
                return found
    return None


@cache
def _plan(struct: type[msgspec.Struct]) -> tuple[_Slot, ...]:
    hints = typing.get_type_hints(struct)
    return tuple(
        _Slot(
            name=f.name,
            key=f.encode_name,
            omit_none=f.default is UNSET,
            nested=_struct_inside(hints[f.name]),
        )
        for f in msgspec.structs.fields(struct)
    )


# What a value of each type needs on the wire, decided once per type (a page of customers
# holds thousands of values; isinstance against ABCs and attrs.has per value were most of the
# conversion's time).
_AS_IS, _DATETIME, _SEQUENCE, _ENTITY, _MAPPING, _DECIMAL = range(6)
_KINDS: dict[type, int] = {}


def _kind(kind_of: type) -> int:
    kind = _KINDS.get(kind_of)
    if kind is None:
        if issubclass(kind_of, datetime):
            kind = _DATETIME
        elif issubclass(kind_of, tuple | list):
            kind = _SEQUENCE
        elif attrs.has(kind_of):
            kind = _ENTITY
        elif issubclass(kind_of, Mapping):
            kind = _MAPPING
        elif issubclass(kind_of, Decimal):
            kind = _DECIMAL
        else:
            kind = _AS_IS
        _KINDS[kind_of] = kind
    return kind


def _wire_value(value: Any, nested: type[msgspec.Struct] | None) -> Any:
    kind = _kind(type(value))
    if kind in (_AS_IS, _DECIMAL):
        return value
    if kind == _DATETIME:
        return value.astimezone(UTC)
    if kind == _SEQUENCE:
        return [_wire_value(item, nested) for item in value]
    if kind == _ENTITY:
        return to_wire(value, nested) if nested is not None else value
    return dict(value)  # a mapping


def to_wire(source: object, struct: type[S], /, **special: Any) -> S:
    """The ``struct`` of ``source`` (a domain object): each Struct field from the same-named
    attribute, the wire conventions applied; ``special`` gives the values that are not a
    same-named attribute (by attribute name, already in wire form).

    A value of the wrong type is a ``msgspec.ValidationError`` (a programming error: the entity
    and the Struct disagree), never silently sent.
    """
    data: dict[str, Any] = {}
    numbers: dict[str, Any] = {}
    for slot in _plan(struct):
        if slot.name in special:
            if special[slot.name] is not UNSET:  # UNSET: the key is omitted
                data[slot.key] = special[slot.name]
            continue
        value: Any = getattr(source, slot.name, _MISSING)
        if value is _MISSING or (value is None and slot.omit_none):
            continue
        kind = _KINDS.get(type(value))
        if kind is None:
            kind = _kind(type(value))
        if kind == _AS_IS:
            data[slot.key] = value
        elif kind == _DECIMAL:
            # Checked as a float, written as money() (an integral amount stays an integer).
            numbers[slot.name] = money(value)
            data[slot.key] = float(value)
        else:
            data[slot.key] = _wire_value(value, slot.nested)
    out = msgspec.convert(data, struct)
    return msgspec.structs.replace(out, **numbers) if numbers else out


def from_wire(source: msgspec.Struct, as_type: type[D], /) -> D:
    """The ``as_type`` (an attrs class, nested ones included) of a request Struct by the same
    field names."""
    return msgspec.convert(source, as_type, from_attributes=True)

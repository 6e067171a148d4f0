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

import functools
import operator
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any, Final, NamedTuple, TypeVar

import attrs
import msgspec
from msgspec import UNSET, UnsetType

from customers_hub.domain.fields import resolved_fields, without_none
from customers_hub.domain.unset import Unset as DomainUnset
from customers_hub.entrypoints.http.wire.base import Wire, money

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


def _fill(slot: _Slot, value: Any, data: dict[str, Any], numbers: dict[str, Any]) -> None:
    """``value`` (present, and not a None the Struct omits) of ``slot`` into ``data`` (by wire
    key, for ``msgspec.convert``) or, a ``Decimal``, also into ``numbers`` (by attribute)."""
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


def to_wire(source: object, struct: type[S], /, **special: Any) -> S:
    """The ``struct`` of ``source`` (a domain object): each Struct field from the same-named
    attribute, the wire conventions applied; ``special`` gives the values that are not a
    same-named attribute (by attribute name, already in wire form).

    A value of the wrong type is a ``msgspec.ValidationError`` (a programming error: the entity
    and the Struct disagree), never silently sent.
    """
    key = (struct, type(source), *special)
    filler = _FILLERS.get(key)
    if filler is None:
        filler = _FILLERS[key] = _filler(struct, type(source), frozenset(special))
    data, numbers = filler(source, special)
    out = msgspec.convert(data, struct)
    return msgspec.structs.replace(out, **numbers) if numbers else out


# ---------------------------------------------------------------------------------------------
# The compiled fill: what ``to_wire`` does, unrolled once per (Struct, source class, special
# names). A page of 20 customers makes ~800 ``to_wire`` calls; the loop over the plan, the
# ``special`` lookups and the kind dispatch per value were most of their time. Each field gets
# straight-line code: a value of exactly the type its attribute is declared with takes the one
# branch :func:`_fill` would take for that type; any other value goes through :func:`_fill`
# itself, so the ``data`` given to ``msgspec.convert`` is the same either way
# (``tests/unit/test_wire_compiled.py`` compares the bytes with the loop it replaced).

_Filler = Callable[[object, Mapping[str, Any]], tuple[dict[str, Any], dict[str, Any]]]
_FILLERS: dict[tuple[Any, ...], _Filler] = {}


def _declared(source_type: type) -> dict[str, Any]:
    """The attributes' declared types of an attrs class (empty for any other class)."""
    if not attrs.has(source_type):
        return {}
    try:
        fields = resolved_fields(source_type)
    except (NameError, TypeError):  # an annotation that does not resolve: no fast branches
        return {}
    return {f.name: f.type for f in fields}


def _exact(hint: Any) -> type | None:
    """The one class a (not None) value declared ``hint`` has: a plain class, or the origin of
    ``tuple[X, ...]`` and ``dict[K, V]``; None when the hint allows several."""
    hint = without_none(hint)
    origin = typing.get_origin(hint)
    if origin in (tuple, dict):
        return typing.cast(type, origin)
    return hint if isinstance(hint, type) and origin is None else None


def _item_code(hint: Any, nested: type[msgspec.Struct] | None, i: int, ns: dict[str, Any]) -> str:
    """What :func:`_wire_value` makes of an item ``x`` of ``tuple[hint, ...]``, with the branch
    of the item's declared class inlined."""
    ns[f"nested_{i}"] = nested
    generic = f"wire_value(x, nested_{i})"
    exact = _exact(hint)
    if exact is None or exact in (tuple, dict):
        return generic
    ns[f"item_{i}"] = exact
    kind = _kind(exact)
    if kind in (_AS_IS, _DECIMAL):
        fast = "x"
    elif kind == _DATETIME:
        fast = "x.astimezone(UTC)"
    elif kind == _ENTITY and nested is not None:
        fast = f"to_wire(x, nested_{i})"
    else:
        return generic
    return f"{fast} if type(x) is item_{i} else {generic}"


def _value_code(hint: Any, slot: _Slot, i: int, ns: dict[str, Any]) -> str | None:
    """The statement :func:`_fill` runs for a value ``v`` of exactly the declared class of
    ``slot``'s attribute (``hint``), or None when that class is not one of the common cases."""
    exact = _exact(hint)
    if exact is None:
        return None
    key, name = repr(slot.key), repr(slot.name)
    ns[f"nested_{i}"] = slot.nested
    if exact is tuple:
        args = typing.get_args(without_none(hint))
        if len(args) != 2 or args[1] is not Ellipsis:
            return None
        return f"data[{key}] = [{_item_code(args[0], slot.nested, i, ns)} for x in v]"
    if exact is dict:
        return f"data[{key}] = dict(v)"
    kind = _kind(exact)
    if kind == _AS_IS:
        return f"data[{key}] = v"
    if kind == _DATETIME:
        return f"data[{key}] = v.astimezone(UTC)"
    if kind == _DECIMAL:
        return f"numbers[{name}] = money(v); data[{key}] = float(v)"
    if kind == _ENTITY:
        return f"data[{key}] = " + ("v" if slot.nested is None else f"to_wire(v, nested_{i})")
    return None


def _filler(struct: type[msgspec.Struct], source_type: type, special: frozenset[str]) -> _Filler:
    declared = _declared(source_type)
    namespace: dict[str, Any] = {
        "UNSET": UNSET,
        "MISSING": _MISSING,
        "UTC": UTC,
        "money": money,
        "to_wire": to_wire,
        "wire_value": _wire_value,
    }
    lines = ["def fill(source, special):", "    data = {}", "    numbers = {}"]
    for i, slot in enumerate(_plan(struct)):
        key, name = repr(slot.key), repr(slot.name)
        if slot.name in special:
            lines += [f"    v = special[{name}]", f"    if v is not UNSET: data[{key}] = v"]
            continue
        namespace[f"fill_{i}"] = functools.partial(_fill, slot)
        lines.append(f"    v = getattr(source, {name}, MISSING)")
        absent = "v is MISSING or v is None" if slot.omit_none else "v is MISSING"
        lines.append(f"    if {absent}: pass")
        exact = _exact(declared.get(slot.name))
        code = _value_code(declared.get(slot.name), slot, i, namespace)
        if exact is not None and code is not None:
            namespace[f"type_{i}"] = exact
            lines.append(f"    elif type(v) is type_{i}: {code}")
        lines.append(f"    else: fill_{i}(v, data, numbers)")
    lines.append("    return data, numbers")
    title = f"<wire fill {struct.__name__} of {source_type.__name__}>"
    exec(compile("\n".join(lines), title, "exec"), namespace)
    return typing.cast(_Filler, namespace["fill"])


def from_wire(source: msgspec.Struct, as_type: type[D], /) -> D:
    """The ``as_type`` (an attrs class, nested ones included) of a request Struct by the same
    field names."""
    return msgspec.convert(source, as_type, from_attributes=True)


# ---------------------------------------------------------------------------------------------
# Struct declarations made from the records


def wire_type(
    hint: Any, nested: Mapping[type, type] = types.MappingProxyType({}), *, decimal: Any = Decimal
) -> Any:
    """The wire's type of a domain type: a tuple as a list, a record of ``nested`` as its
    Struct, the domain's ``Unset`` as msgspec's, a ``Decimal`` as ``decimal`` (within unions
    too)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [wire_type(arg, nested, decimal=decimal) for arg in typing.get_args(hint)]
        return functools.reduce(operator.or_, args)
    if hint is DomainUnset:
        return UnsetType
    if hint is Decimal:
        return decimal
    if typing.get_origin(hint) is tuple:
        item = wire_type(typing.get_args(hint)[0], nested, decimal=decimal)
        return list[item]  # type: ignore[valid-type]
    return nested.get(hint, hint) if isinstance(hint, type) else hint


def out_of(
    record: type[Any],
    /,
    *,
    nested: Mapping[type, type] = types.MappingProxyType({}),
    nulls: Iterable[str] = (),
    names: Mapping[str, str] = types.MappingProxyType({}),
    skip: Iterable[str] = (),
    extra: Iterable[tuple[str, Any, Any]] = (),
) -> type[Any]:
    """A response Struct with the fields of ``record``, to subclass: ``class StageChangeOut(
    out_of(StageChange, nulls=("from_stage",)))``, filled by :func:`to_wire`.

    The wire conventions: an optional value is omitted when absent (``UNSET``), except the
    ``nulls``, written as ``null``; a ``Decimal`` is a JSON number, a tuple a list, a record of
    ``nested`` its Struct; a field with another default (``False``, ``()``) is always written.
    ``names`` gives a field another JSON key, ``skip`` leaves fields out (never on the wire),
    ``extra`` adds (name, type, ``msgspec.field(...)``) the record does not have (the values
    :func:`to_wire` is given by keyword).
    """
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    written_null, skipped = set(nulls), set(skip)
    for attribute in resolved_fields(record):
        name = attribute.name
        if name in skipped:
            continue
        kind = wire_type(attribute.type, nested, decimal=float)
        optional = without_none(kind) is not kind
        renamed = {"name": names[name]} if name in names else {}
        if optional and name not in written_null:
            fields.append(
                (name, without_none(kind) | UnsetType, msgspec.field(default=UNSET, **renamed))
            )
        elif renamed:
            fields.append((name, kind, msgspec.field(**renamed)))
        else:
            fields.append((name, kind))
    fields.extend(extra)
    name = f"{record.__name__}Struct"
    return msgspec.defstruct(name, fields, bases=(Wire,), kw_only=True, module=record.__module__)

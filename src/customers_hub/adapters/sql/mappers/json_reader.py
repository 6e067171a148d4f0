"""The entities of JSON columns (``preferences``, ``ai_insights``, …), read by code compiled once
per class.

:data:`~.base.json_converter` (cattrs) reads them correctly but slowly for a list page: its
generated code runs a hook per value and rebuilds every list item by item. What a value of
exactly the decoded JSON type needs is known per field, so :func:`entity_reader` unrolls it
once per class: a ``str`` for a ``str`` field is kept, an ``int`` for an ``int`` field, an enum
member is looked up by its value, a list of such becomes a tuple, a nested entity is read by its
own reader. Anything else — another type, a missing required key, a value the entity refuses —
sends the whole object through the converter, so every result and every error is the
converter's own (``tests/unit/test_json_reader.py`` compares them).
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, cast

import attrs

from customers_hub.adapters.sql.mappers.base import json_converter
from customers_hub.domain.naming import camel_case

__all__ = ["entity_reader"]

_Reader = Callable[[Any], Any]

# Field types whose converter hook returns a value of exactly that type as it is.
_KEPT: frozenset[type] = frozenset({str, int, bool})
# Field types read from their JSON text by a constructor (the converter's hooks, base.py).
_FROM_TEXT: dict[type, Callable[[str], Any]] = {
    Decimal: Decimal,
    date: date.fromisoformat,
    datetime: datetime.fromisoformat,
}


def _optional(hint: Any) -> tuple[Any, bool]:
    """(``X``, True) for ``X | None``; (``hint``, False) otherwise."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        others = [arg for arg in args if arg is not type(None)]
        if len(others) == 1 and len(args) == 2:
            return others[0], True
    return hint, False


def _value_code(hint: Any, name: str, ns: dict[str, Any]) -> str | None:
    """An expression of the field's value for the JSON value ``v``, raising on anything it does
    not read as the converter would; None when the type is not one of the common cases."""
    if hint in _KEPT:
        ns[f"t_{name}"] = hint
        return f"v if type(v) is t_{name} else fail()"
    if hint in _FROM_TEXT:
        ns[f"t_{name}"] = _FROM_TEXT[hint]
        return f"t_{name}(v) if type(v) is str else fail()"
    if isinstance(hint, enum.EnumMeta):
        members = hint._value2member_map_
        if not all(type(value) is str for value in members):
            return None
        ns[f"m_{name}"] = members
        return f"m_{name}[v] if type(v) is str else fail()"
    if isinstance(hint, type) and attrs.has(hint):
        ns[f"r_{name}"] = _fast_reader(hint)
        return f"r_{name}(v)"
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        if len(args) != 2 or args[1] is not Ellipsis:
            return None
        item = _value_code(args[0], f"{name}_item", ns)
        if item is None:
            return None
        # The item's expression is written for ``v``: bound per item by a nested function.
        ns[f"i_{name}"] = eval(f"lambda v: {item}", ns)  # code made above, from types
        return f"tuple([i_{name}(x) for x in v]) if type(v) is list else fail()"
    return None


class _Slow(Exception):
    """A value the compiled code does not read as the converter would: use the converter."""


def _fail() -> Any:
    raise _Slow


@cache
def _fast_reader(cls: Any) -> _Reader:
    """The compiled reader of ``cls``: raises (anything) where the converter must decide."""
    namespace: dict[str, Any] = {"cls": cls, "fail": _fail}
    lines = ["def read(o):", "    if type(o) is not dict: fail()", "    kw = {}"]
    for field in attrs.fields(attrs.resolve_types(cls)):
        hint, optional = _optional(field.type)
        code = _value_code(hint, field.name, namespace)
        if code is None or not field.init or field.alias != field.name:
            return _unsupported(cls)
        key = repr(camel_case(field.name))  # the converter's rename
        value = f"None if v is None else {code}" if optional else code
        lines.append(f"    if {key} in o:")
        lines.append(f"        v = o[{key}]")
        lines.append(f"        kw[{field.name!r}] = {value}")
        if field.default is attrs.NOTHING:
            lines.append("    else: fail()")  # required: the converter reports it
    lines.append("    return cls(**kw)")
    exec(compile("\n".join(lines), f"<json reader {cls.__name__}>", "exec"), namespace)
    return cast(_Reader, namespace["read"])


def _unsupported(cls: type[Any]) -> _Reader:
    def read(_: Any) -> Any:
        raise _Slow(cls)

    return read


@cache
def entity_reader(cls: Any) -> _Reader:
    """The ``cls`` of a decoded JSON object, exactly as ``json_converter.structure`` reads it."""
    fast = _fast_reader(cls)
    hook = json_converter.get_structure_hook(cls)

    def read(value: Any) -> Any:
        try:
            return fast(value)
        except Exception:  # the converter decides, and raises its own error
            return hook(value, cls)

    return read

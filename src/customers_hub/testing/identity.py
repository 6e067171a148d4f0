"""Comparing two implementations for an identical result, types included: the oracle tests of a
faster path against the definition it replaces (the row reader, the JSON-column reader, the
compiled wire conversion)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import attrs
import msgspec

__all__ = ["outcome", "typed"]


def typed(value: object) -> object:
    """``value`` with the type (and repr) of every part — attrs instances and msgspec Structs
    field by field — so only an identical result is equal (``1`` is not ``True`` nor ``1.0``)."""
    if attrs.has(type(value)):
        fields = attrs.fields(cast("type[attrs.AttrsInstance]", type(value)))
        return (type(value), [(f.name, typed(getattr(value, f.name))) for f in fields])
    if isinstance(value, msgspec.Struct):
        return (type(value), [(f, typed(getattr(value, f))) for f in value.__struct_fields__])
    if isinstance(value, tuple | list):
        return (type(value), [typed(item) for item in value])
    if isinstance(value, dict):
        return (type(value), [(typed(k), typed(v)) for k, v in value.items()])
    return (type(value), repr(value))


def outcome(read: Callable[..., Any], *args: Any, **given: Any) -> object:
    """The typed result of ``read(*args, **given)``, or the type of what it raised (either
    implementation may raise: what it raises is part of the result)."""
    try:
        return ("ok", typed(read(*args, **given)))
    except Exception as exc:
        return ("raised", type(exc))

"""Request bodies from use-case commands and back: the fields are declared once, on the command.

:func:`body_of` makes a request Struct's fields from an attrs command (or record): the same
names and types as the wire takes them (a tuple as a list, a nested record as its body, the
domain's ``UNSET`` as msgspec's), so a field added to the command is in the body, its schema
and its strict decoding at once. :func:`to_command` fills the command from the body by the
field names both share; msgspec's ``UNSET`` ("not sent") becomes the domain's ``UNSET``; a
command field the body does not name keeps its default. Values that are not a same-named body
field (a parsed header, a checked or computed value, a rename) are passed as keyword
arguments, so each such case stays visible at the call site.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, cast

import attrs
import msgspec
from msgspec import UNSET, UnsetType

from customers_hub.domain.fields import resolved_fields
from customers_hub.domain.unset import UNSET as DOMAIN_UNSET
from customers_hub.entrypoints.http.wire.base import WireIn
from customers_hub.entrypoints.http.wire.convert import wire_type

C = TypeVar("C")

__all__ = ["body_of", "to_command"]


_PLANS: dict[tuple[type[msgspec.Struct], type[Any]], tuple[tuple[str, str], ...]] = {}


def _shared(struct: type[msgspec.Struct], command: type[Any]) -> tuple[tuple[str, str], ...]:
    """(body attribute, command init name) of the fields both name (computed once a pair)."""
    plan = _PLANS.get((struct, command))
    if plan is None:
        body_names = set(struct.__struct_fields__)
        plan = tuple(
            (f.name, f.alias) for f in attrs.fields(command) if f.init and f.name in body_names
        )
        _PLANS[(struct, command)] = plan
    return plan


def to_command(body: msgspec.Struct, command: type[C], /, **given: Any) -> C:
    """The ``command`` of ``body``: each command field from the same-named body field (``UNSET``
    as the domain's), ``given`` naming the rest by command field name."""
    values: dict[str, Any] = {}
    for name, init_name in _shared(type(body), command):
        if name not in given:
            value = getattr(body, name)
            values[init_name] = DOMAIN_UNSET if value is UNSET else value
    values.update(given)
    return cast(Callable[..., C], command)(**values)


def _field_options(default: Any) -> dict[str, Any]:
    """``msgspec.field`` options of an attrs default (none: the field is required)."""
    if default is attrs.NOTHING:
        return {}
    if default is DOMAIN_UNSET:
        return {"default": UNSET}
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return {"default_factory": default.factory}
    return {"default": default}


def body_of(
    record: type[Any],
    /,
    *,
    skip: Iterable[str] = (),
    nested: Mapping[type, type] = types.MappingProxyType({}),
    defaults: Mapping[str, Any] = types.MappingProxyType({}),
    names: Mapping[str, str] = types.MappingProxyType({}),
    optional: bool = False,
    extra: Iterable[tuple[str, Any, Any]] = (),
) -> type[Any]:
    """A request Struct (a :class:`WireIn`) with the fields of ``record`` but ``skip`` (the ids
    the path carries), to subclass: ``class ReminderIn(body_of(AddReminder, ...))``.

    ``defaults`` replaces a field's default (``""`` or ``None`` for a required field the use
    case reports with every other failing one: ``None`` makes the type optional); ``names``
    gives a field another JSON key; ``optional`` makes every key optional and nullable (absent
    = :data:`UNSET`), the shape of a partial update. ``extra`` adds (name, type, default) the
    command does not have (a value the handler parses into one it does).
    """
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    skipped = set(skip)
    for attribute in resolved_fields(record):
        if attribute.name in skipped:
            continue
        kind = wire_type(attribute.type, nested)
        default = defaults.get(attribute.name, attribute.default)
        if optional:
            kind, default = kind | UnsetType | None, UNSET
        elif default is None:
            kind = kind | None
        options = _field_options(default)
        if attribute.name in names:
            options["name"] = names[attribute.name]
        fields.append(
            (attribute.name, kind, msgspec.field(**options)) if options else (attribute.name, kind)
        )
    fields.extend(extra)
    name = f"{record.__name__}Body"
    return msgspec.defstruct(name, fields, bases=(WireIn,), kw_only=True, module=record.__module__)

"""What the read and write sides may do with an entity's field, declared on the field itself.

An entity marks a field with :func:`listed` (its ``attrs`` metadata); the application's field
catalog (``application.use_cases.catalog``) reads the marks and derives the field's API path
(camelCase), value kind (from the type), whether ``null`` is a value (an optional type) and its
operators, so a new filterable field is one line where it is declared. ``bounds`` are the
inclusive limits of a number (the test strategies draw within them).

A field clients write (one of ``model.CustomerFields``) without a rule of its own takes the rule
of its type; :func:`writable` gives that rule its numbers (a text's longest length, a whole
number's bounds), which the validation, the OpenAPI schema and the strategies all read.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any, Final

import attrs
from attrs import frozen

_KEY: Final = "customers_hub.listed"
_WRITE_KEY: Final = "customers_hub.writable"


@frozen
class Listed:
    """The read side's use of a field: a filter (always), a sort key, an identifier, an order."""

    sortable: bool = False
    identifier: bool = False  # an id: compared exactly, never by substring
    ordered: bool = False  # an enum whose members have an order (range operators)
    bounds: tuple[int, int] | None = None  # inclusive limits of a number


def listed(
    *,
    sortable: bool = False,
    identifier: bool = False,
    ordered: bool = False,
    bounds: tuple[int, int] | None = None,
) -> Mapping[str, Listed]:
    """The ``metadata`` of an attrs field the lists may filter on (and sort by, when
    ``sortable``): ``field(default=None, metadata=listed())``."""
    return {_KEY: Listed(sortable=sortable, identifier=identifier, ordered=ordered, bounds=bounds)}


def listed_fields(cls: type[Any]) -> Mapping[str, tuple[attrs.Attribute[Any], Listed]]:
    """The marked fields of ``cls`` in declaration order: name → (attribute, mark); types
    resolved."""
    return {a.name: (a, a.metadata[_KEY]) for a in resolved_fields(cls) if _KEY in a.metadata}


@frozen
class Writable:
    """The numbers of a written field's rule: a text's longest length (one line unless
    ``multiline``), a whole number's inclusive bounds; ``personal``: data about the person
    (rules §8), erased with the customer and masked in the audit trail."""

    max_length: int | None = None
    multiline: bool = False
    bounds: tuple[int, int] | None = None
    personal: bool = False


def writable(
    *,
    max_length: int | None = None,
    multiline: bool = False,
    bounds: tuple[int, int] | None = None,
    personal: bool = False,
) -> Mapping[str, Writable]:
    """The ``metadata`` of a field clients write whose rule its type and these numbers make:
    ``field(default=None, metadata={**listed(), **writable(max_length=100)})``."""
    mark = Writable(max_length=max_length, multiline=multiline, bounds=bounds, personal=personal)
    return {_WRITE_KEY: mark}


def personal_fields(cls: type[Any]) -> tuple[str, ...]:
    """The fields of ``cls`` marked ``writable(personal=True)``, in declaration order."""
    return tuple(
        a.name for a in attrs.fields(cls) if (mark := write_mark(a)) is not None and mark.personal
    )


def write_mark(attribute: attrs.Attribute[Any]) -> Writable | None:
    """The :func:`writable` mark of ``attribute``, if it has one."""
    mark: Writable | None = attribute.metadata.get(_WRITE_KEY)
    return mark


def without_none(hint: Any) -> Any:
    """``X`` of ``X | None`` (any other hint as it is)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0] if len(args) == 1 else hint
    return hint


def resolved_fields(cls: type[Any]) -> tuple[attrs.Attribute[Any], ...]:
    """The attrs fields of ``cls`` with their types resolved (``from __future__`` strings)."""
    return tuple(attrs.fields(attrs.resolve_types(cls)))

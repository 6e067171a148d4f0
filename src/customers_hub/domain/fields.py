"""What the read side may do with an entity's field, declared on the field itself.

An entity marks a field with :func:`listed` (its ``attrs`` metadata); the application's field
catalog (``application.use_cases.catalog``) reads the marks and derives the field's API path
(camelCase), value kind (from the type), whether ``null`` is a value (an optional type) and its
operators, so a new filterable field is one line where it is declared. ``bounds`` are the
inclusive limits of a number (the test strategies draw within them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs
from attrs import frozen

_KEY: Final = "customers_hub.listed"


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
    resolved = attrs.resolve_types(cls)
    return {a.name: (a, a.metadata[_KEY]) for a in attrs.fields(resolved) if _KEY in a.metadata}

"""Request bodies into use-case commands: one generic step instead of a field copier per handler.

:func:`to_command` fills an attrs command from a request Struct by the field names both share;
msgspec's ``UNSET`` ("not sent") becomes the domain's ``UNSET``; a command field the body does
not name keeps its default. Values that are not a same-named body field (a parsed header, a
checked or computed value, a rename) are passed as keyword arguments, so each such case stays
visible at the call site.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import attrs
import msgspec
from msgspec import UNSET

from customers_hub.domain.unset import UNSET as DOMAIN_UNSET

C = TypeVar("C")

__all__ = ["to_command"]


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

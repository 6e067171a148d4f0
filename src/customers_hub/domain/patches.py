"""Partial updates of a record, derived from the record's own fields.

A :class:`Patch` subclass names the attrs class it updates (``class CustomerPatch(Patch,
of=CustomerFields)``) and takes any of its fields as keywords: :data:`UNSET` (or leaving the
keyword out) means "not sent", ``None`` means "clear". The fields are not declared a second
time, so a field added to the record can be patched at once. Reading a field of the patch
gives its sent value or :data:`UNSET`; a name the record lacks is an error, as it would be on
the record.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self

import attrs

from customers_hub.domain.unset import UNSET


class Patch:
    """The sent fields of a partial update of :attr:`of` (immutable, compared by value)."""

    __slots__ = ("_sent",)
    of: ClassVar[type[Any]]
    field_names: ClassVar[tuple[str, ...]]
    _sent: Mapping[str, Any]

    def __init_subclass__(cls, *, of: type[Any], **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.of = of
        cls.field_names = tuple(a.name for a in attrs.fields(of))

    def __init__(self, **sent: Any) -> None:
        unknown = sorted(set(sent).difference(self.field_names))
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {', '.join(unknown)}")
        # Declaration order: validation reports errors in the record's field order.
        given = {
            name: sent[name] for name in self.field_names if sent.get(name, UNSET) is not UNSET
        }
        object.__setattr__(self, "_sent", given)

    def __getattr__(self, name: str) -> Any:
        if name in type(self).field_names:
            return self._sent.get(name, UNSET)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: object) -> None:
        raise attrs.exceptions.FrozenInstanceError

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Patch) and type(other) is type(self) and self._sent == other._sent

    def __hash__(self) -> int:
        # As an attrs record's: by value, a TypeError when a value is not hashable (a dict).
        return hash((type(self), tuple(self._sent.items())))

    def __reduce__(self) -> tuple[Callable[[], Self], tuple[()]]:
        # copy, deepcopy and pickle rebuild it by its constructor (__setattr__ refuses).
        return functools.partial(type(self), **self._sent), ()

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self._sent.items())
        return f"{type(self).__name__}({fields})"

    def given(self) -> dict[str, Any]:
        """The sent fields (attribute names) and their values, in the record's order."""
        return dict(self._sent)

    @property
    def is_empty(self) -> bool:
        """True when no field was sent."""
        return not self._sent

    def replace(self, **changes: Any) -> Self:
        """This patch with ``changes`` sent (or, given as :data:`UNSET`, withdrawn)."""
        return type(self)(**{**self._sent, **changes})

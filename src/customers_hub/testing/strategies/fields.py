"""Values of the fields an entity declares with numbers: bounds (``domain.fields.listed(bounds=
…)``) and the marks of written fields (``domain.fields.writable(max_length=…)``).

A bounded optional number or a written text needs no hand-written strategy: it is ``None`` or a
value within its declared limits, so a new one is generated as soon as it is declared.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from customers_hub.domain.fields import listed_fields, resolved_fields, without_none, write_mark

# Letters of both scripts the product serves; single words, so cleaning leaves them as they are.
_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهويABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def bounded_fields(entity: type[Any]) -> SearchStrategy[dict[str, Any]]:
    """The keyword arguments of ``entity``'s bounded fields: each ``None`` (when its type takes
    it) or an integer within its bounds."""
    parts: dict[str, SearchStrategy[int | None]] = {}
    for name, (attribute, mark) in listed_fields(entity).items():
        if mark.bounds is None:
            continue
        low, high = mark.bounds
        numbers: SearchStrategy[int | None] = st.integers(low, high)
        if attribute.default is None:
            numbers = st.none() | numbers
        parts[name] = numbers
    return st.fixed_dictionaries(parts)


def written_fields(entity: type[Any]) -> SearchStrategy[dict[str, Any]]:
    """The keyword arguments of ``entity``'s marked written fields (``writable(...)``) that
    have no strategy of their own: each ``None`` or a value its mark allows (a text within its
    length, a whole number within its bounds)."""
    parts: dict[str, SearchStrategy[Any]] = {}
    for attribute in resolved_fields(entity):
        mark, kind = write_mark(attribute), without_none(attribute.type)
        if mark is None:
            continue
        if kind is str and mark.max_length is not None:
            words = st.text(_LETTERS, min_size=1, max_size=min(mark.max_length, 30))
            parts[attribute.name] = st.none() | words
        elif kind is int and mark.bounds is not None:
            parts[attribute.name] = st.none() | st.integers(*mark.bounds)
    return st.fixed_dictionaries(parts)

"""Values of the fields an entity declares with bounds (``domain.fields.listed(bounds=…)``).

A bounded optional number needs no hand-written strategy: it is ``None`` or an integer within
its declared limits, so a new one is generated as soon as it is declared.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from customers_hub.domain.fields import listed_fields


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

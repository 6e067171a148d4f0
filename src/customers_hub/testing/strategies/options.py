"""Option values: a plain value or a strategy; the UNSET default."""

from __future__ import annotations

from enum import Enum
from typing import Final, TypeAlias, TypeVar

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

T = TypeVar("T")

OrStrategy: TypeAlias = T | SearchStrategy[T]
"""An option value: a plain value, or a strategy to draw it from."""


class _Unset(Enum):
    UNSET = "UNSET"


UNSET: Final = _Unset.UNSET
"""Default of every option: draw a realistic value."""


def _resolve(value: OrStrategy[T] | _Unset, default: SearchStrategy[T]) -> SearchStrategy[T]:
    if isinstance(value, _Unset):
        return default
    if isinstance(value, SearchStrategy):
        return value
    return st.just(value)

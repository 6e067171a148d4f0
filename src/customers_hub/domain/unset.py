"""``UNSET``: "not given" in partial updates, distinct from ``None`` which means "clear"."""

from __future__ import annotations

import enum
from typing import Final, Literal, TypeAlias


class _Unset(enum.Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset.UNSET
"""Marks a field of a partial update as not sent (``None`` there clears the value)."""

Unset: TypeAlias = Literal[_Unset.UNSET]
"""The type of :data:`UNSET`."""

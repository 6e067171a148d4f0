"""Placeholder: the actions controllers are written on top of the HTTP core."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
"""Route handlers / Controllers mounted under ``/api/v1``."""

"""How the ``customers-hub`` commands report a failure: one line per problem on stderr, prefixed
with the program's name, and the exit status (1: the database or the work failed, 2: bad
input). Shared by :mod:`.cli`, :mod:`.cli_export` and :mod:`.cli_import`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from customers_hub.domain.errors import ValidationFailed

__all__ = ["database_failure", "fail", "invalid_fields"]


def fail(message: str, code: int = 2) -> int:
    """Print ``message`` as the command's error; returns ``code``, the exit status."""
    print(f"customers-hub: {message}", file=sys.stderr)
    return code


def database_failure(error: Exception) -> int:
    """A database error (exit status 1), with the hint that PostgreSQL is migrated by hand."""
    return fail(
        f"database error: {error.__class__.__name__}: {error}. On PostgreSQL, run "
        "`customers-hub db upgrade` first.",
        1,
    )


def invalid_fields(bad: ValidationFailed) -> int:
    """Each failing field of ``bad`` on a line of its own (exit status 2)."""
    for error in bad.errors:
        fail(f"{error.field}: {error.message}")
    return 2

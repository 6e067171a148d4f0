"""Query parameters shared by the list endpoints and their parsing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Final

from litestar.params import Parameter

from customers_hub.application.queries import (
    MAX_LIMIT,
)
from customers_hub.domain.errors import FieldError, ValidationFailed
from customers_hub.domain.validation import (
    MONEY_MAX,
)

# ---------------------------------------------------------------------------------------------
# Query parameter helpers

PAGE_MAX: Final = 1_000_000
"""Largest ``page`` (offset mode): beyond it the offset means nothing and would overflow SQL."""
LEAD_SCORE_MIN: Final = 0
LEAD_SCORE_MAX: Final = 100

PAGE = Annotated[
    int, Parameter(ge=1, le=PAGE_MAX, description=f"Page number (offset mode), 1 to {PAGE_MAX}")
]
"""The ``page`` query parameter (400 naming it outside 1 … :data:`PAGE_MAX`)."""
LIMIT = Annotated[
    int, Parameter(ge=1, le=MAX_LIMIT, description=f"Items per page, 1 to {MAX_LIMIT}")
]
"""The ``limit`` query parameter (400 naming it outside 1 … ``MAX_LIMIT``)."""
FIELDS = Annotated[
    list[str] | None,
    Parameter(description="Keys to return (comma-separated and/or repeated); id is always kept"),
]
"""The ``fields`` query parameter of every endpoint returning a resource."""


def time_bound(query: str, description: str = "Date or datetime") -> Any:
    """The :func:`~litestar.params.Parameter` of a ``…From``/``…To`` query parameter named
    ``query`` (a ``str | None`` read by :func:`parse_time_bound`)."""
    return Parameter(query=query, description=description)


DATE_FROM = Annotated[str | None, time_bound("dateFrom")]
"""The start of a statistics window (read by :func:`parse_window`)."""
DATE_TO = Annotated[str | None, time_bound("dateTo", "Date or datetime (inclusive)")]
"""The end of a statistics window (read by :func:`parse_window`)."""


def amount_errors(*params: tuple[str, Decimal | None]) -> list[FieldError]:
    """Errors of money query parameters: finite, not negative, at most the largest amount."""
    errors: list[FieldError] = []
    for name, value in params:
        if value is None:
            continue
        if not value.is_finite() or value < 0 or value > MONEY_MAX:
            errors.append(FieldError(name, f"must be a number from 0 to {MONEY_MAX}"))
    return errors


def parse_time_bound(field: str, raw: str | None) -> datetime | date | None:
    """A ``…From``/``…To`` query value: ``YYYY-MM-DD`` (a local day) or an ISO-8601 datetime
    (``Z`` or an offset; without one, read in the organization's zone by the use case).

    400 on ``field`` otherwise.
    """
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed.single(
            field, "must be a date (YYYY-MM-DD) or an ISO-8601 datetime"
        ) from None


def parse_window(
    *bounds: tuple[str, str | None], errors: list[FieldError] | None = None
) -> dict[str, datetime | date | None]:
    """Each named ``(field, raw)`` bound by :func:`parse_time_bound`, keyed by its field.

    Every bad bound is reported at once: a 400 naming them, or, with ``errors``, appended there
    (the bound then None) for a caller that collects more errors first.
    """
    found: list[FieldError] = []
    parsed: dict[str, datetime | date | None] = {}
    for name, raw in bounds:
        try:
            parsed[name] = parse_time_bound(name, raw)
        except ValidationFailed as bad:
            found.extend(bad.errors)
            parsed[name] = None
    if errors is not None:
        errors.extend(found)
    elif found:
        raise ValidationFailed(found)
    return parsed


def split_values(values: Sequence[str] | None) -> list[str]:
    """A list query parameter sent repeated (``?tag=a&tag=b``) and/or comma-separated."""
    if not values:
        return []
    return [part.strip() for value in values for part in value.split(",") if part.strip()]

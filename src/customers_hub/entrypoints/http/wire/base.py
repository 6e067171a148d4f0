"""The wire bases (camelCase Structs, strict inputs), value helpers and pagination."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, Final, TypeVar

import msgspec
from msgspec import UNSET, UnsetType

from customers_hub.application.queries import (
    Page,
)

API_PREFIX: Final = "/api/v1"
"""Base path of every API route."""
READ_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
"""The HTTP methods that only read."""
QUERY_POSTS: Final = frozenset({f"{API_PREFIX}/customers/search", f"{API_PREFIX}/customers/query"})
"""The POSTs that only read (a customer query in the body): they take no idempotency key and
count as searches for the rate limits."""

T = TypeVar("T")


class Wire(msgspec.Struct, rename="camel", kw_only=True):
    """Base of every wire Struct: camelCase keys, keyword construction.

    Subclasses inherit the configuration.
    """


class WireIn(Wire, forbid_unknown_fields=True):
    """Base of every request body (and object nested in one): unknown keys are refused.

    ``echoes`` names the response Struct of the resource the body creates or changes: its keys
    that the body does not take (``id``, ``createdAt``, …) are read-only — a client echoing a
    record back may send them, each checked against the response's type (``"type": "zzz"`` is
    still a 400) and then ignored (:mod:`~.strict`, and ``readOnly`` in the OpenAPI document).
    """

    echoes: ClassVar[type[msgspec.Struct] | None] = None


# ---------------------------------------------------------------------------------------------
# Scalars


def opt(value: T | None) -> T | UnsetType:
    """``value``, or :data:`UNSET` (the key is omitted) when it is None."""
    return UNSET if value is None else value


def money(value: Decimal | None) -> float | UnsetType:
    """An amount as a JSON number (whole amounts as integers), omitted when None."""
    if value is None:
        return UNSET
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def number(value: Decimal | None) -> float | UnsetType:
    """A decimal quantity (area, coordinate) as a JSON number, omitted when None."""
    return money(value)


def utc(value: datetime) -> datetime:
    """``value`` in UTC (msgspec then renders it with ``Z``)."""
    return value.astimezone(UTC)


def opt_utc(value: datetime | None) -> datetime | UnsetType:
    """:func:`utc`, omitted when None."""
    return UNSET if value is None else utc(value)


# ---------------------------------------------------------------------------------------------
# Pagination


class Pagination(Wire, kw_only=True):
    """``pagination`` of a list.

    Offset mode: ``currentPage``, ``pageSize``, ``totalPages``, ``totalItems``, ``hasNextPage``,
    ``hasPreviousPage`` (and ``totalItemsIsEstimate: true`` when the count is an estimate).
    Cursor mode: ``nextCursor``, ``prevCursor`` (null at either end), ``hasNext``,
    ``hasPrevious``, ``limit``.
    """

    current_page: int | UnsetType = UNSET
    page_size: int | UnsetType = UNSET
    total_pages: int | UnsetType = UNSET
    total_items: int | UnsetType = UNSET
    total_items_is_estimate: bool | UnsetType = UNSET
    has_next_page: bool | UnsetType = UNSET
    has_previous_page: bool | UnsetType = UNSET
    next_cursor: str | UnsetType | None = UNSET
    prev_cursor: str | UnsetType | None = UNSET
    has_next: bool | UnsetType = UNSET
    has_previous: bool | UnsetType = UNSET
    limit: int | UnsetType = UNSET


def page_to_wire(page: Page[Any]) -> Pagination:
    """The ``pagination`` object of ``page`` (offset or cursor mode, as the page was read)."""
    if page.page is None:
        return Pagination(
            next_cursor=page.next_cursor,
            prev_cursor=page.prev_cursor,
            has_next=page.has_next,
            has_previous=page.has_previous,
            limit=page.limit,
        )
    total = page.total_items or 0
    total_pages = (total + page.limit - 1) // page.limit if page.limit else 0
    return Pagination(
        current_page=page.page,
        page_size=page.limit,
        total_pages=total_pages,
        total_items=total,
        total_items_is_estimate=True if page.total_is_estimate else UNSET,
        has_next_page=page.has_next if page.has_next else page.page < total_pages,
        has_previous_page=page.page > 1,
    )

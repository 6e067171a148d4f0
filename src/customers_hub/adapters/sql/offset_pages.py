"""One offset page of a repository's list, with its total (:func:`offset_page`).

The small lists of the organization's settings-like records (webhooks and their deliveries,
assignment rules, privacy requests) are read the same way: a count of the matching rows, then
the page's rows by ``LIMIT``/``OFFSET`` in the list's order. Both statements are the list query
itself, so the count can never disagree with the rows about what matches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Row, Select, func
from sqlalchemy.ext.asyncio import AsyncConnection

from customers_hub.adapters.sql.dialect import literal_rows
from customers_hub.application.queries import Page, PageRequest

__all__ = ["counted_page", "offset_page"]

T = TypeVar("T")


async def offset_page(
    conn: AsyncConnection,
    query: Select[Any],
    item: Callable[[Row[Any]], T],
    *,
    page: int,
    limit: int,
) -> Page[T]:
    """Page ``page`` (from 1) of ``limit`` rows of ``query`` (filtered and ordered), each made
    an item by ``item``, with ``total_items``: ``SELECT count(*)`` over the query's table and
    conditions, then the rows."""
    counted = query.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
    total = await conn.scalar(counted)
    rows = await conn.execute(
        query.limit(literal_rows(limit)).offset(literal_rows((page - 1) * limit))
    )
    return Page(items=[item(r) for r in rows], limit=limit, page=page, total_items=total or 0)


def counted_page(items: Sequence[T], page: PageRequest, total: int) -> Page[T]:
    """``items`` as offset page ``page`` of ``total`` rows, saying whether others precede or
    follow it."""
    offset = (page.page - 1) * page.limit
    return Page(
        items=items,
        limit=page.limit,
        page=page.page,
        total_items=total,
        has_next=offset + len(items) < total,
        has_previous=page.page > 1,
    )

"""Free-text search conditions and due-date buckets."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Final

from sqlalchemy import (
    ColumnElement,
    and_,
    func,
    or_,
)

from customers_hub.adapters.sql import tables as t
from customers_hub.adapters.sql.filters.conditions import (
    _contains,
    effective_status_in,
)
from customers_hub.domain.enums import (
    DueDateBucket,
)
from customers_hub.domain.inbox import OPEN_STATUSES, bucket_bounds
from customers_hub.domain.search_text import (
    normalize_search_text,
    phone_query_digits,
    to_ascii_digits,
)

# --- free text and due-date buckets ------------------------------------------------------------

_PHONE_LIKE: Final = re.compile(r"[\d\s+\-().]+")


def is_phone_like(text: str) -> bool:
    """True when ``text`` reads as a phone number (digits, spaces, ``+ - ( ) .``) with digits."""
    stripped = text.strip()
    return bool(_PHONE_LIKE.fullmatch(stripped)) and bool(phone_query_digits(stripped))


def customer_search(text: str) -> ColumnElement[bool] | None:
    """The customers list's ``search``: every normalized term in the name (Arabic or English,
    ``name_search``) or the email; a phone-like text matches the phone digits instead.

    None when the text normalizes to nothing (no condition).
    """
    norm = normalize_search_text(text)
    if not norm:
        return None
    c = t.customers.c
    terms = [
        or_(_contains(c.name_search, term), _contains(func.lower(c.email), term))
        for term in dict.fromkeys(norm.split())
    ]
    by_text = and_(*terms) if len(terms) > 1 else terms[0]
    if is_phone_like(to_ascii_digits(text)):
        return or_(by_text, _contains(c.phone_digits, phone_query_digits(text)))
    return by_text


def action_search(text: str) -> ColumnElement[bool] | None:
    """The actions list's ``search``: every normalized term in the action's ``search_text``
    (customer name, title and description)."""
    terms = list(dict.fromkeys(normalize_search_text(text).split()))
    if not terms:
        return None
    col = t.customer_actions.c.search_text
    parts = [_contains(col, term) for term in terms]
    return and_(*parts) if len(parts) > 1 else parts[0]


def due_bucket_condition(bucket: DueDateBucket, now: datetime, tz: tzinfo) -> ColumnElement[bool]:
    """Actions in a due-date bucket (:func:`customers_hub.domain.inbox.bucket_bounds`).

    ``overdue`` also needs an open effective status; ``no_date`` is ``due_date IS NULL``.
    """
    due = t.customer_actions.c.due_date
    if bucket is DueDateBucket.NO_DATE:
        return due.is_(None)
    start, end = bucket_bounds(bucket, now, tz)
    if bucket is DueDateBucket.OVERDUE:
        assert end is not None
        return and_(due < end, effective_status_in(OPEN_STATUSES, now))
    assert start is not None
    assert end is not None
    return and_(due >= start, due < end)

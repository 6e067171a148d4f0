"""What every read starts from: the live customers in a scope, and actions joined to them.

**Soft-deleted customers** are left out of every list, search, stat and option, and so are
the actions of such customers. ``CustomerListQuery.deleted=True`` lists only deleted customers
(the trash an admin restores from).

**Restricted customers** (erased, kept for their contract: rules §8) are left out of lists and
search too (:func:`listed`); statistics count them (``restricted=True``), so an erasure leaves
the numbers as they were.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, FromClause

from customers_hub.adapters.sql import tables as t
from customers_hub.adapters.sql.filters import customer_scope
from customers_hub.domain.access import ScopeFilter

__all__ = [
    "actions_from",
    "customer_where",
    "listed",
    "live",
]


def live(deleted: bool = False) -> ColumnElement[bool]:
    col = t.customers.c.deleted_at
    return col.is_not(None) if deleted else col.is_(None)


def listed(table: FromClause = t.customers) -> ColumnElement[bool]:
    """Not restricted by an erasure: what lists, search, duplicates and exports may show."""
    return table.c.restricted_until.is_(None)


def customer_where(
    scope: ScopeFilter,
    conditions: Sequence[ColumnElement[bool]],
    *,
    deleted: bool = False,
    restricted: bool = False,
) -> tuple[ColumnElement[bool], ...]:
    """Customers in ``scope``, live (or deleted), matching ``conditions``; restricted ones only
    when ``restricted`` (statistics)."""
    shown = () if restricted else (listed(),)
    return (customer_scope(scope), live(deleted), *shown, *conditions)


def actions_from() -> FromClause:
    a, c = t.customer_actions.c, t.customers.c
    return t.customer_actions.join(t.customers, c.id == a.customer_id)

"""What every read starts from: the live customers in a scope, and actions joined to them.

**Soft-deleted customers** are left out of every list, search, stat and option, and so are
the actions of such customers. ``CustomerListQuery.deleted=True`` lists only deleted customers
(the trash an admin restores from).
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
    "live",
]


def live(deleted: bool = False) -> ColumnElement[bool]:
    col = t.customers.c.deleted_at
    return col.is_not(None) if deleted else col.is_(None)


def customer_where(
    scope: ScopeFilter, conditions: Sequence[ColumnElement[bool]], *, deleted: bool = False
) -> tuple[ColumnElement[bool], ...]:
    return (customer_scope(scope), live(deleted), *conditions)


def actions_from() -> FromClause:
    a, c = t.customer_actions.c, t.customers.c
    return t.customer_actions.join(t.customers, c.id == a.customer_id)

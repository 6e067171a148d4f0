"""Sort orders and keyset (cursor) seeks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from attrs import frozen
from sqlalchemy import (
    ColumnElement,
    and_,
    literal,
    or_,
    tuple_,
)

from customers_hub.adapters.sql import tables as t
from customers_hub.adapters.sql.filters.fields import (
    _D,
    _DT,
    _I,
    _T,
    ValueType,
)
from customers_hub.domain.errors import ValidationFailed

# --- sorting and keyset ------------------------------------------------------------------------


@frozen(eq=False)
class SortSpec:
    """A sortable field: its SQL key, the type of its cursor value, and whether it can be NULL."""

    name: str
    column: Any
    value_type: ValueType
    nullable: bool = False


def _sorts(
    table: Any, entries: Iterable[tuple[str, str, ValueType, bool]]
) -> Mapping[str, SortSpec]:
    return MappingProxyType(
        {name: SortSpec(name, table.c[col], vt, nullable) for name, col, vt, nullable in entries}
    )


CUSTOMER_SORTS: Mapping[str, SortSpec] = _sorts(
    t.customers,
    [
        ("name", "name", _T, False),
        ("createdAt", "created_at", _DT, False),
        ("updatedAt", "updated_at", _DT, False),
        ("leadScore", "lead_score", _I, False),
        ("lastContactAt", "last_contact_at", _DT, True),
        ("dealValue", "total_deal_value", _D, True),
        ("totalDealValue", "total_deal_value", _D, True),
        ("priority", "priority_rank", _I, False),
    ],
)
"""Sort fields of the customers list (``dealValue`` = ``totalDealValue``; priority by rank)."""

ACTION_SORTS: Mapping[str, SortSpec] = _sorts(
    t.customer_actions,
    [
        ("createdAt", "created_at", _DT, False),
        ("updatedAt", "updated_at", _DT, False),
        ("dueDate", "due_date", _DT, True),
        ("priority", "priority_rank", _I, False),
    ],
)
"""Sort fields of the actions list (priority by rank)."""


def sort_spec(catalog: Mapping[str, SortSpec], name: str, *, field: str = "sortBy") -> SortSpec:
    """The sort field ``name`` of ``catalog``, or :class:`ValidationFailed` on ``field``."""
    spec = catalog.get(name)
    if spec is None:
        raise ValidationFailed.single(field, "must be one of " + ", ".join(catalog))
    return spec


def order_by(
    spec: SortSpec,
    id_column: Any,
    *,
    descending: bool,
    reverse: bool = False,
    column: Any = None,
) -> list[Any]:
    """ORDER BY terms: the field (NULLs always last), then ``id`` in the same direction.

    Both terms run the same way, so one index ``(organization_id, field, id)`` (scanned forwards
    or backwards) yields the order, and a cursor is one row-value range of that index.
    ``reverse`` flips the whole order (NULLs first) to read a previous page backwards.
    ``column`` replaces the field's column (the same field read from a subquery).
    """
    down = descending != reverse
    col = spec.column if column is None else column
    key = col.desc() if down else col.asc()
    if spec.nullable:
        key = key.nulls_first() if reverse else key.nulls_last()
    return [key, id_column.desc() if down else id_column.asc()]


def keyset_ranges(
    spec: SortSpec,
    id_column: Any,
    *,
    descending: bool,
    value: object,
    row_id: str,
    after: bool,
    inclusive: bool = False,
) -> list[ColumnElement[bool]]:
    """The rows strictly after (``after=True``) or before the position ``(value, row_id)`` in
    the order of :func:`order_by` (``inclusive`` also keeps the position's own row), as one or
    two conditions — each one contiguous range of that order, listed in the order a scan meets
    them, and each one an index seek on ``(organization_id, field, id)``:

    * a NOT NULL field: the row value ``(field, id) < (value, row_id)`` (``>`` the other way),
      which SQLite (3.15+) and PostgreSQL both turn into an index range start;
    * a nullable field (NULLs last in both directions) in the non-NULL region:
      ``field IS NOT NULL AND (field, id) < (value, row_id)``, then — reading on — every
      ``field IS NULL`` row;
    * in the NULL region: ``field IS NULL AND id < row_id`` (reading back towards the
      non-NULL rows: that, then every ``field IS NOT NULL`` row).

    ORed together (:func:`keyset_condition`) no index can seek the disjunction, so the list
    query runs each range as its own ordered, limited branch of a ``UNION ALL``.
    """
    col = spec.column
    # "forward" = further along means smaller values: compare with "<".
    forward = descending == after

    def beyond(left: Any, right: Any) -> ColumnElement[bool]:
        if forward:
            compared: ColumnElement[bool] = left <= right if inclusive else left < right
        else:
            compared = left >= right if inclusive else left > right
        return compared

    def rows_beyond() -> ColumnElement[bool]:
        return beyond(tuple_(col, id_column), tuple_(_bound(col, value), _bound(id_column, row_id)))

    if not spec.nullable:
        if value is None:
            raise ValueError(f"{spec.name} cannot be NULL")
        return [rows_beyond()]
    non_null, null = col.is_not(None), col.is_(None)
    if after:
        if value is None:
            return [and_(null, beyond(id_column, row_id))]
        return [and_(non_null, rows_beyond()), null]
    if value is None:
        return [and_(null, beyond(id_column, row_id)), non_null]
    return [and_(non_null, rows_beyond())]


def _bound(column: Any, value: object) -> Any:
    """``value`` as a parameter of ``column``'s type (UTC datetimes keep their conversion)."""
    return literal(value, type_=column.type)


def keyset_condition(
    spec: SortSpec,
    id_column: Any,
    *,
    descending: bool,
    value: object,
    row_id: str,
    after: bool,
    inclusive: bool = False,
) -> ColumnElement[bool]:
    """The ranges of :func:`keyset_ranges` as one condition (ORed when there are two)."""
    ranges = keyset_ranges(
        spec,
        id_column,
        descending=descending,
        value=value,
        row_id=row_id,
        after=after,
        inclusive=inclusive,
    )
    return or_(*ranges) if len(ranges) > 1 else ranges[0]

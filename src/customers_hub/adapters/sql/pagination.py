"""Pagination of the SQL lists: offset pages with their count, keyset pages behind cursors.

A list gives :func:`fetch` its :class:`Source` (columns, FROM, WHERE), the sort and the page
request, and turns the :class:`Fetched` rows into a :class:`Page`. A page reads ``limit+1`` rows
(the extra one says whether there is a next page).

**Counts** (``Page.total_items``): ``SELECT count(*) FROM (SELECT 1 … LIMIT cap+1)`` with
``cap = EXACT_COUNT_CAP``, so a count never reads more than ``cap+1`` index entries. Up to the cap
the total is exact. Above it, PostgreSQL answers with the planner's row estimate of the filtered
query (``EXPLAIN (FORMAT JSON)``, never below ``cap+1``) and ``total_is_estimate=True``; SQLite
(the embedded, small default) counts exactly. An offset page's statement carries the capped
count as a scalar subquery (one round trip for both); when the page itself shows where the set
ends (it is the last page) its total is the page's, and only a page past the end counts alone.
A :class:`Source` that knows its exact total cheaply (``Source.total``: the customers list
without filters sums its summary counters) is counted by that instead, exactly at any size.
An :class:`EstimateMemo` given to the count remembers the planner's estimate of a statement
with its parameters for a few seconds (it is an estimate anyway): a list asked again soon
sends no ``EXPLAIN``. Below the cap nothing is remembered: the capped count runs every time.

**Cursors** (keyset pagination, ``PageRequest.cursor is not None``): an opaque base64url JSON
holding the sort field and direction, the position's sort value and id, which way to read
(after/before) and whether the position itself is included. ``""`` asks for the first page.
``next_cursor`` reads after the page's last row, ``prev_cursor`` before its first row (a
previous page is read in reversed order and turned around). A cursor made for another sort is
a :class:`ValidationFailed` on ``cursor``. :func:`_cursor_ranges` gives the index seeks of a cursor.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, TypeVar

import attrs
from attrs import frozen
from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    func,
    literal_column,
    select,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from customers_hub.adapters.sql.dialect import Explain, literal_rows
from customers_hub.adapters.sql.filters import SortSpec, ValueType, keyset_ranges, order_by
from customers_hub.application.queries import EXACT_COUNT_CAP, MAX_LIMIT, Page, PageRequest, Sort
from customers_hub.domain.errors import ValidationFailed

__all__ = [
    "EstimateMemo",
    "Fetched",
    "Source",
    "check_limit",
    "check_page",
    "count_rows",
    "decode_cursor",
    "encode_cursor",
    "fetch",
]

T = TypeVar("T")


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed.single("limit", f"must be between 1 and {MAX_LIMIT}")


def check_page(page: PageRequest) -> None:
    check_limit(page.limit)
    if page.cursor is None and page.page < 1:
        raise ValidationFailed.single("page", "must be 1 or more")


# --- cursors -----------------------------------------------------------------------------------


@frozen
class _Position:
    """Where a cursor points: a row's sort value and id, and which way to read from it."""

    sort: str
    descending: bool
    value: object
    row_id: str
    after: bool
    inclusive: bool = False


def _cursor_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def encode_cursor(
    sort: str,
    descending: bool,
    value: object,
    row_id: str,
    *,
    after: bool,
    inclusive: bool = False,
) -> str:
    """An opaque cursor for the row ``(value, row_id)`` of a list sorted by ``sort``."""
    payload = {
        "s": sort,
        "o": "desc" if descending else "asc",
        "v": _cursor_value(value),
        "i": row_id,
        "d": "next" if after else "prev",
    }
    if inclusive:
        payload["x"] = True
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _bad_cursor(message: str = "is not a valid cursor") -> ValidationFailed:
    return ValidationFailed.single("cursor", message)


def _typed(spec: SortSpec, value: object) -> object:
    if value is None:
        if not spec.nullable:
            raise _bad_cursor()
        return None
    try:
        if spec.value_type is ValueType.DATETIME:
            parsed = datetime.fromisoformat(str(value))
            if parsed.tzinfo is None:
                raise _bad_cursor()
            return parsed
        if spec.value_type is ValueType.DECIMAL:
            return Decimal(str(value))
        if spec.value_type is ValueType.INT:
            if isinstance(value, bool) or not isinstance(value, int):
                raise _bad_cursor()
            return value
    except (ValueError, ArithmeticError):
        raise _bad_cursor() from None
    if not isinstance(value, str):
        raise _bad_cursor()
    return value


def decode_cursor(cursor: str, spec: SortSpec, sort: Sort) -> _Position:
    """The position of ``cursor``; :class:`ValidationFailed` on ``cursor`` when it is malformed
    or was made for another sort."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise _bad_cursor() from None
    if not isinstance(payload, dict) or not {"s", "o", "v", "i", "d"} <= payload.keys():
        raise _bad_cursor()
    if payload["s"] != sort.field or payload["o"] != ("desc" if sort.descending else "asc"):
        raise _bad_cursor("was made for another sort order")
    if payload["d"] not in ("next", "prev") or not isinstance(payload["i"], str):
        raise _bad_cursor()
    return _Position(
        sort=sort.field,
        descending=sort.descending,
        value=_typed(spec, payload["v"]),
        row_id=payload["i"],
        after=payload["d"] == "next",
        inclusive=payload.get("x") is True,
    )


# --- pages ------- --------------------------------------------------------------------------------


@frozen(eq=False)
class Source:
    """What a list reads: the columns, the FROM clause, and the WHERE conditions; and, when the
    caller has one, ``total``: a statement that counts those rows exactly and cheaply (a sum of
    summary counters), which an offset page then reads instead of the capped count.

    A source keeps the offset page statements it built (at most :data:`PAGES_KEPT`), so a
    source the caller keeps (the customers list without filters, one per scope) builds each
    page statement once: SQLAlchemy then finds its compiled form by the statement's memoized
    cache key instead of building and hashing the statement again."""

    table: Any
    from_: FromClause
    where: tuple[ColumnElement[bool], ...]
    total: Select[Any] | None = None
    _pages: dict[Hashable, Select[Any]] = attrs.field(factory=dict, init=False, repr=False)

    def select(self) -> Select[Any]:
        return select(self.table).select_from(self.from_).where(*self.where)

    def page_statement(self, key: Hashable, build: Callable[[], Select[Any]]) -> Select[Any]:
        """The statement ``build`` makes for ``key`` (built once per source and key)."""
        found = self._pages.get(key)
        if found is None:
            if len(self._pages) >= PAGES_KEPT:
                self._pages.clear()
            found = self._pages[key] = build()
        return found

    def ones(self) -> Select[Any]:
        return select(literal_column("1")).select_from(self.from_).where(*self.where)


Fetched = Page[RowMapping]
"""The rows of one page and what the :class:`Page` says about them (``with_items`` maps them)."""


def _frozen(value: object) -> object:
    """``value`` as a hashable key part (a list of ids its tuple)."""
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, set | frozenset):
        return frozenset(_frozen(item) for item in value)
    return value


PAGES_KEPT: Final = 32
"""How many offset page statements one :class:`Source` keeps (all forgotten when full)."""

ESTIMATE_TTL: Final = 10.0
"""Seconds an :class:`EstimateMemo` remembers an estimate by default."""


class EstimateMemo:
    """The planner's estimates of counts above the cap, remembered per (statement, parameters,
    cap) for ``ttl`` seconds, at most ``size`` of them (the oldest forgotten first).

    An estimate is the planner's guess from the table's statistics, which move only with
    ``ANALYZE`` and the table's growth: asking again a few seconds later costs a round trip and
    an ``EXPLAIN`` for the same kind of answer. The key is the statement's own SQLAlchemy cache
    key and its parameter values, so two organizations, scopes or filters never share one.
    """

    def __init__(
        self,
        ttl: float = ESTIMATE_TTL,
        size: int = 512,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl, self._size, self._clock = ttl, size, clock
        self._estimates: OrderedDict[Hashable, tuple[float, int]] = OrderedDict()

    @staticmethod
    def key(statement: Select[Any], cap: int) -> Hashable | None:
        """The memo's key of counting ``statement`` with ``cap``; None when it has none (a
        statement SQLAlchemy does not cache, or an unhashable parameter)."""
        cache_key = statement._generate_cache_key()
        if cache_key is None:
            return None
        params = tuple(_frozen(p.effective_value) for p in cache_key.bindparams)
        try:
            hash(params)
        except TypeError:
            return None
        return (cache_key.key, params, cap)

    def get(self, key: Hashable) -> int | None:
        """The estimate remembered under ``key``, None when none or expired."""
        found = self._estimates.get(key)
        if found is None:
            return None
        expires, estimate = found
        if self._clock() >= expires:
            del self._estimates[key]
            return None
        return estimate

    def put(self, key: Hashable, estimate: int) -> None:
        """Remember ``estimate`` under ``key`` for the memo's ``ttl``."""
        self._estimates[key] = (self._clock() + self._ttl, estimate)
        self._estimates.move_to_end(key)
        while len(self._estimates) > self._size:
            self._estimates.popitem(last=False)


_CAPPED_TOTAL = "_capped_total"
"""The label of the capped count an offset page's statement carries (see :func:`_fetch_offset`)."""


def _capped(source: Source, cap: int) -> Select[Any]:
    """``SELECT count(*) FROM (SELECT 1 … LIMIT cap+1)``: at most ``cap+1`` index entries."""
    return select(func.count()).select_from(source.ones().limit(literal_rows(cap + 1)).subquery())


async def count_rows(
    conn: AsyncConnection,
    source: Source,
    *,
    cap: int | None = None,
    capped_total: int | None = None,
    memo: EstimateMemo | None = None,
) -> tuple[int, bool]:
    """(rows of ``source``, is_estimate): a source's own ``total`` when it has one, exactly;
    else exact up to ``cap`` (default :data:`EXACT_COUNT_CAP`; reading at most ``cap+1``
    rows), then PostgreSQL's planner estimate (never below ``cap+1``; from ``memo`` when it
    remembers one); SQLite counts exactly. ``capped_total`` is the count the caller read with
    its page (the capped count, or the source's ``total``): then no count runs here."""
    if source.total is not None:
        if capped_total is None:
            capped_total = int((await conn.execute(source.total)).scalar_one())
        return capped_total, False
    if cap is None:
        cap = EXACT_COUNT_CAP  # read when called: tests lower the module's cap
    if capped_total is None:
        capped_total = int((await conn.execute(_capped(source, cap))).scalar_one())
    total = capped_total
    if total <= cap:
        return total, False
    if conn.dialect.name == "postgresql":
        return await _estimate(conn, source.ones(), cap, memo), True
    exact = select(func.count()).select_from(source.ones().subquery())
    return int((await conn.execute(exact)).scalar_one()), False


async def _estimate(
    conn: AsyncConnection, ones: Select[Any], cap: int, memo: EstimateMemo | None
) -> int:
    """The planner's row estimate of ``ones`` (never below ``cap+1``), remembered by ``memo``."""
    key = EstimateMemo.key(ones, cap) if memo is not None else None
    if memo is None or key is None:
        return await _explain(conn, ones, cap)
    remembered = memo.get(key)
    if remembered is None:
        remembered = await _explain(conn, ones, cap)
        memo.put(key, remembered)
    return remembered


async def _explain(conn: AsyncConnection, ones: Select[Any], cap: int) -> int:
    plan = (await conn.execute(Explain(ones))).scalar_one()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return max(int(plan[0]["Plan"]["Plan Rows"]), cap + 1)


async def fetch(
    conn: AsyncConnection,
    source: Source,
    spec: SortSpec,
    sort: Sort,
    page: PageRequest,
    *,
    memo: EstimateMemo | None = None,
) -> Fetched:
    """One page of ``source`` (offset or cursor, by ``page``); ``memo`` remembers the estimate
    of a count above the cap."""
    check_page(page)
    id_col = source.table.c.id
    if page.cursor is None:
        return await _fetch_offset(conn, source, spec, sort, page, id_col, memo)
    return await _fetch_keyset(conn, source, spec, sort, page, id_col)


async def _fetch_offset(
    conn: AsyncConnection,
    source: Source,
    spec: SortSpec,
    sort: Sort,
    page: PageRequest,
    id_col: Any,
    memo: EstimateMemo | None,
) -> Fetched:
    offset = (page.page - 1) * page.limit
    cap = EXACT_COUNT_CAP  # read when called: tests lower the module's cap
    # The capped count (or the source's exact total) rides along as an uncorrelated scalar
    # subquery (run once: an InitPlan on PostgreSQL), so page and count are one round trip;
    # its bounded cost is paid on a last page too, where the page alone says the total.

    def build() -> Select[Any]:
        counted = source.total if source.total is not None else _capped(source, cap)
        return (
            source.select()
            .add_columns(counted.scalar_subquery().label(_CAPPED_TOTAL))
            .order_by(*order_by(spec, id_col, descending=sort.descending))
            .limit(literal_rows(page.limit + 1))
            .offset(literal_rows(offset))
        )

    key = (spec.name, sort.descending, page.limit, offset, cap)
    stmt = source.page_statement(key, build)
    rows = list((await conn.execute(stmt)).mappings())
    has_next = len(rows) > page.limit
    rows = rows[: page.limit]
    if rows and not has_next:
        # The last page says where the set ends: no count needed.
        total, estimate = offset + len(rows), False
    elif not rows and page.page == 1:
        total, estimate = 0, False
    elif rows:
        capped_total = int(rows[0][_CAPPED_TOTAL])
        total, estimate = await count_rows(
            conn, source, cap=cap, capped_total=capped_total, memo=memo
        )
    else:  # past the end: no row carries the count
        total, estimate = await count_rows(conn, source, cap=cap, memo=memo)
    return Fetched(
        items=rows,
        limit=page.limit,
        page=page.page,
        total_items=total,
        total_is_estimate=estimate,
        has_next=has_next,
        has_previous=page.page > 1,
    )


def _cursor_ranges(
    spec: SortSpec, sort: Sort, position: _Position | None, id_col: Any
) -> list[ColumnElement[bool] | None]:
    """The conditions of the rows beyond ``position``, one per range of
    :func:`~customers_hub.adapters.sql.filters.keyset_ranges` in the order a scan meets them
    (``[None]``: from the start), each an index seek once ordered and limited.

    A nullable sort's cursor has two ranges (the non-NULL rows beyond it, then the NULLs).
    :func:`_fetch_keyset` reads the second only when the first comes back short, so a page deep
    in either region is one plain seek like the first page; only the page that crosses from one
    region into the other sends two. (A ``UNION ALL`` of both ranges cost every deep page a
    second branch to plan and run; an OR of the ranges would scan from the start of the index.)
    """
    if position is None:
        return [None]
    return list(
        keyset_ranges(
            spec,
            id_col,
            descending=sort.descending,
            value=position.value,
            row_id=position.row_id,
            after=position.after,
            inclusive=position.inclusive,
        )
    )


async def _fetch_keyset(
    conn: AsyncConnection,
    source: Source,
    spec: SortSpec,
    sort: Sort,
    page: PageRequest,
    id_col: Any,
) -> Fetched:
    assert page.cursor is not None
    position = decode_cursor(page.cursor, spec, sort) if page.cursor else None
    after = position.after if position is not None else True
    order = order_by(spec, id_col, descending=sort.descending, reverse=not after)
    wanted = page.limit + 1
    rows: list[RowMapping] = []
    for where in _cursor_ranges(spec, sort, position, id_col):
        base = source.select() if where is None else source.select().where(where)
        statement = base.order_by(*order).limit(literal_rows(wanted - len(rows)))
        rows += (await conn.execute(statement)).mappings()
        if len(rows) >= wanted:
            break
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    if not after:
        rows.reverse()
    if after:
        has_next, has_previous = more, position is not None
    else:
        has_next, has_previous = not position.inclusive if position else False, more

    def cursor(row: RowMapping, *, forward: bool) -> str:
        return encode_cursor(
            sort.field, sort.descending, row[spec.column.name], row["id"], after=forward
        )

    next_cursor = cursor(rows[-1], forward=True) if rows and has_next else None
    prev_cursor = cursor(rows[0], forward=False) if rows and has_previous else None
    if not rows and position is not None:
        # Nothing beyond the position: the way back includes the position's own row.
        turned = encode_cursor(
            sort.field,
            sort.descending,
            position.value,
            position.row_id,
            after=not after,
            inclusive=True,
        )
        if after:
            prev_cursor, has_previous = turned, True
        else:
            next_cursor, has_next = turned, True
    return Fetched(
        items=rows,
        limit=page.limit,
        next_cursor=next_cursor,
        prev_cursor=prev_cursor,
        has_next=has_next,
        has_previous=has_previous,
    )

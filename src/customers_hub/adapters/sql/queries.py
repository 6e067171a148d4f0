"""The SQL read side: lists, search, statistics and filter options, scoped in SQL.

Each service opens its own read connection per call (no unit of work: nothing is written).
Every request runs a fixed number of statements whatever the page size:

============================  ===========================================================
request                       statements
============================  ===========================================================
customers list, offset        page (limit+1 rows) · count (only when the page is not the
                              last one, or is empty past page 1) · stage history · interests
                              (the two relation queries are skipped on an empty page)
customers list, cursor        page (limit+1 rows) · stage history · interests
customers search              [pg_trgm check, once per service on PostgreSQL with fuzzy] ·
                              hits with ``count(*) OVER ()`` · stage history · interests
customers stats               totals+money+engagement+closings · stage×source×priority ·
                              lead-score histogram · [groupBy employee/city]
filter options                stage×source · property types · cities · employees
actions list                  page · count (as for customers); notes are not loaded
actions stats                 effective status×type×priority×source · due dates+timeline
employees list                one
employee workloads            one GROUP BY per measure (four)
============================  ===========================================================

**Counts** (``Page.total_items``): ``SELECT count(*) FROM (SELECT 1 … LIMIT cap+1)`` with
``cap = EXACT_COUNT_CAP``, so a count never reads more than ``cap+1`` index entries. Up to the cap
the total is exact. Above it, PostgreSQL answers with the planner's row estimate of the filtered
query (``EXPLAIN (FORMAT JSON)``, never below ``cap+1``) and ``total_is_estimate=True``; SQLite
(the embedded, small default) counts exactly. When the page itself shows where the set ends
(it is the last page) no count runs at all.

**Cursors** (keyset pagination, ``PageRequest.cursor is not None``): an opaque base64url JSON
holding the sort field and direction, the position's sort value and id, which way to read
(after/before) and whether the position itself is included. ``""`` asks for the first page.
``next_cursor`` reads after the page's last row, ``prev_cursor`` before its first row (a
previous page is read in reversed order and turned around). A cursor made for another sort is
a :class:`ValidationFailed` on ``cursor``.

**Effective status**: an action returned by the list whose snooze has passed comes back as
``pending`` with ``snoozed_until=None`` (what :func:`customers_hub.domain.inbox.wake_if_due`
will write); its ``version`` and ``updated_at`` are the stored ones.

**Soft-deleted customers** are left out of every list, search, stat and option, and so are
the actions of such customers. ``CustomerListQuery.deleted=True`` lists only deleted customers
(the trash an admin restores from).

Statistics definitions (where the API document gives only names):

* ``dateFrom``/``dateTo`` keep records whose ``created_at`` is within ``[dateFrom, dateTo]``.
* Customers — ``leadScores``: ``avg`` (1 decimal), ``median`` and the buckets ``above80``
  (80–100), ``60to80`` (60–79), ``40to60`` (40–59), ``below40`` (0–39). ``financial``:
  ``totalDealValue`` and ``totalExpectedRevenue`` are sums, ``avgDealSize`` the mean deal value
  of customers that have one. ``conversion``: ``conversionRate`` = percentage of the customers
  in ``closing`` or ``post_sale``; a customer's *close* is its first stage-history entry into
  ``closing`` (or ``post_sale``); ``avgDaysInPipeline`` = mean days from creation to close over
  closed customers; ``closedThisMonth``/``closedThisYear`` count closes in the organization's
  local calendar month/year. ``engagement``: ``activeCustomers`` had a contact in the last 30
  days, ``newThisMonth`` were created in the local month, ``avgInteractions`` is the mean of
  ``totalInteractions`` and ``avgResponseRate`` of ``responseRate`` (customers that have one).
  ``groupBy`` ``employee`` and ``city`` use the keys ``unassigned`` and ``unknown`` for none.
* Actions — ``total`` counts every action by effective status. ``byType``, ``byPriority``,
  ``bySource`` and ``dueDates`` count *open* actions (effective ``pending`` or ``in_progress``):
  the work still to do. ``thisWeek`` is today plus six days, ``thisMonth`` the local calendar
  month. ``avgCompletionTime`` is the mean hours from creation to completion of completed
  actions; ``avgResponseTime`` the mean hours from creation to the first response — the first
  note or the completion, whichever came first; ``completionRate`` =
  ``completed / (completed + dismissed + open) × 100`` (snoozed actions are left out).
* Employee workloads — ``assignedCustomers`` (live customers), ``pendingActions`` (open actions
  assigned to them), ``completedThisMonth`` (actions they completed — ``completed_by`` — in the
  local month) and ``avgResponseTime`` (as for actions, over actions assigned to them, created
  within the window).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, Final, TypeVar

import attrs
from attrs import frozen
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Float,
    FromClause,
    Numeric,
    Select,
    Table,
    and_,
    case,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    type_coerce,
    union_all,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.functions import FunctionElement

from customers_hub.adapters.sql import tables as t
from customers_hub.adapters.sql.filters import (
    ACTION_SORTS,
    CUSTOMER_SORTS,
    SortSpec,
    ValueType,
    action_conditions,
    action_scope,
    action_search,
    customer_conditions,
    customer_scope,
    customer_search,
    due_bucket_condition,
    effective_status_expr,
    effective_status_in,
    is_phone_like,
    keyset_ranges,
    like_escape,
    order_by,
    sort_spec,
)
from customers_hub.adapters.sql.mappers import (
    FACET_PROPERTY_TYPE,
    action_from_row,
    customer_from_row,
    employee_from_row,
)
from customers_hub.application.queries import (
    EXACT_COUNT_CAP,
    MAX_LIMIT,
    ActionListQuery,
    ActionStats,
    CustomerListQuery,
    CustomerStats,
    EmployeeOption,
    EmployeeWorkload,
    FilterOption,
    FilterOptions,
    Page,
    PageRequest,
    SearchHit,
    SearchQuery,
    SearchResult,
    Sort,
    StatsWindow,
)
from customers_hub.domain.access import Reach, ScopeFilter
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    CustomerSource,
    DueDateBucket,
    LabelledEnum,
    Priority,
    PropertyType,
    Role,
    Stage,
)
from customers_hub.domain.errors import ValidationFailed
from customers_hub.domain.inbox import (
    OPEN_STATUSES,
    bucket_bounds,
    effective_status,
    local_midnight,
    month_bounds,
)
from customers_hub.domain.model import Customer, CustomerAction, Employee
from customers_hub.domain.search_text import normalize_search_text, phone_query_digits

__all__ = [
    "ACTIVE_CONTACT_DAYS",
    "SqlActionQueries",
    "SqlCustomerQueries",
    "SqlEmployeeQueries",
    "decode_cursor",
    "encode_cursor",
]

T = TypeVar("T")

ACTIVE_CONTACT_DAYS: Final = 30
"""A customer contacted within this many days counts as active."""

_CLOSED_STAGES: Final = (Stage.CLOSING.value, Stage.POST_SALE.value)
_ESCAPE: Final = "\\"
_MONEY = Numeric(18, 2, asdecimal=True)
_CENT = Decimal("0.01")


# --- dialect helpers ---------------------------------------------------------------------------


class _Explain(Executable, ClauseElement):
    """``EXPLAIN (FORMAT JSON) <statement>`` (PostgreSQL), with the statement's parameters bound."""

    inherit_cache = False

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement


@compiles(_Explain, "postgresql")
def _compile_explain(element: _Explain, compiler: SQLCompiler, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)


class _Epoch(FunctionElement[float]):
    """Seconds since 1970 of a UTC timestamp column, on either database."""

    type = Float()
    name = "epoch"
    inherit_cache = True


@compiles(_Epoch, "postgresql")
def _epoch_pg(element: _Epoch, compiler: SQLCompiler, **kw: Any) -> str:
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})"


@compiles(_Epoch, "sqlite")
def _epoch_sqlite(element: _Epoch, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLAlchemy stores SQLite timestamps as ISO text in UTC; julianday() reads it.
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


def _hours_between(start: Any, end: Any) -> ColumnElement[float]:
    return (_Epoch(end) - _Epoch(start)) / 3600.0


def _year_bounds(now: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    year = now.astimezone(tz).year
    return local_midnight(date(year, 1, 1), tz), local_midnight(date(year + 1, 1, 1), tz)


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def _money(value: object) -> Decimal | None:
    if value is None:
        return None
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return number.quantize(_CENT)


def _window(created_at: Any, window: StatsWindow) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if window.date_from is not None:
        out.append(created_at >= window.date_from)
    if window.date_to is not None:
        out.append(created_at <= window.date_to)
    return out


def _in_range(col: Any, bounds: tuple[datetime | None, datetime | None]) -> ColumnElement[bool]:
    start, end = bounds
    parts: list[ColumnElement[bool]] = [col.is_not(None)]
    if start is not None:
        parts.append(col >= start)
    if end is not None:
        parts.append(col < end)
    return and_(*parts)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed.single("limit", f"must be between 1 and {MAX_LIMIT}")


def _check_page(page: PageRequest) -> None:
    _check_limit(page.limit)
    if page.cursor is None and page.page < 1:
        raise ValidationFailed.single("page", "must be 1 or more")


def _zeroes(enum: Iterable[LabelledEnum]) -> dict[str, int]:
    return {member.value: 0 for member in enum}


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


# --- pagination --------------------------------------------------------------------------------


@frozen
class _Source:
    """What a list reads: the columns, the FROM clause, and the WHERE conditions."""

    table: Any
    from_: FromClause
    where: tuple[ColumnElement[bool], ...]

    def select(self) -> Select[Any]:
        return select(self.table).select_from(self.from_).where(*self.where)

    def ones(self) -> Select[Any]:
        return select(literal_column("1")).select_from(self.from_).where(*self.where)


@frozen
class _Fetched:
    """The rows of one page and what the :class:`Page` says about them."""

    rows: list[RowMapping]
    limit: int
    page: int | None = None
    total_items: int | None = None
    total_is_estimate: bool = False
    next_cursor: str | None = None
    prev_cursor: str | None = None
    has_next: bool = False
    has_previous: bool = False

    def to_page(self, items: Sequence[T]) -> Page[T]:
        return Page(
            items=items,
            limit=self.limit,
            page=self.page,
            total_items=self.total_items,
            total_is_estimate=self.total_is_estimate,
            next_cursor=self.next_cursor,
            prev_cursor=self.prev_cursor,
            has_next=self.has_next,
            has_previous=self.has_previous,
        )


async def _count(conn: AsyncConnection, source: _Source) -> tuple[int, bool]:
    """(total, is_estimate): exact up to the cap, then a planner estimate on PostgreSQL."""
    capped = select(func.count()).select_from(source.ones().limit(EXACT_COUNT_CAP + 1).subquery())
    total = int((await conn.execute(capped)).scalar_one())
    if total <= EXACT_COUNT_CAP:
        return total, False
    if conn.dialect.name == "postgresql":
        plan = (await conn.execute(_Explain(source.ones()))).scalar_one()
        if isinstance(plan, str):
            plan = json.loads(plan)
        estimate = int(plan[0]["Plan"]["Plan Rows"])
        return max(estimate, EXACT_COUNT_CAP + 1), True
    exact = select(func.count()).select_from(source.ones().subquery())
    return int((await conn.execute(exact)).scalar_one()), False


async def _fetch(
    conn: AsyncConnection, source: _Source, spec: SortSpec, sort: Sort, page: PageRequest
) -> _Fetched:
    _check_page(page)
    id_col = source.table.c.id
    if page.cursor is None:
        return await _fetch_offset(conn, source, spec, sort, page, id_col)
    return await _fetch_keyset(conn, source, spec, sort, page, id_col)


async def _fetch_offset(
    conn: AsyncConnection,
    source: _Source,
    spec: SortSpec,
    sort: Sort,
    page: PageRequest,
    id_col: Any,
) -> _Fetched:
    offset = (page.page - 1) * page.limit
    stmt = (
        source.select()
        .order_by(*order_by(spec, id_col, descending=sort.descending))
        .limit(page.limit + 1)
        .offset(offset)
    )
    rows = list((await conn.execute(stmt)).mappings())
    has_next = len(rows) > page.limit
    rows = rows[: page.limit]
    if rows and not has_next:
        # The last page says where the set ends: no count needed.
        total, estimate = offset + len(rows), False
    elif not rows and page.page == 1:
        total, estimate = 0, False
    else:
        total, estimate = await _count(conn, source)
    return _Fetched(
        rows=rows,
        limit=page.limit,
        page=page.page,
        total_items=total,
        total_is_estimate=estimate,
        has_next=has_next,
        has_previous=page.page > 1,
    )


@functools.cache
def _columns_by_name(table: Table) -> Select[Any]:
    """``SELECT`` of ``table``'s columns by bare name and type, to read them from a subquery
    (built once: ``select_from`` copies it without coercing the columns again)."""
    return select(*(column(c.name, c.type) for c in table.c))


def _seek(
    source: _Source,
    spec: SortSpec,
    sort: Sort,
    position: _Position | None,
    id_col: Any,
    limit: int,
) -> Select[Any] | CompoundSelect[Any]:
    """The first ``limit`` rows beyond ``position`` (from the start without one), read in
    the cursor's direction.

    Each range of :func:`~customers_hub.adapters.sql.filters.keyset_ranges` is an index seek.
    A nullable sort's cursor has two ranges (the non-NULL rows beyond it, then the NULLs): each
    becomes an ordered, limited branch of a ``UNION ALL`` and the outer query keeps the first
    ``limit`` of at most ``2 × limit`` rows. PostgreSQL merges the branches in order (Merge
    Append: the second branch reads one row while the first fills the page); SQLite merges
    the two co-routines. An OR of the ranges instead would scan from the start of the index.
    """
    after = position.after if position is not None else True
    order = order_by(spec, id_col, descending=sort.descending, reverse=not after)
    if position is None:
        return source.select().order_by(*order).limit(limit)
    ranges = keyset_ranges(
        spec,
        id_col,
        descending=sort.descending,
        value=position.value,
        row_id=position.row_id,
        after=position.after,
        inclusive=position.inclusive,
    )
    if len(ranges) == 1:
        return source.select().where(ranges[0]).order_by(*order).limit(limit)
    # SQLite refuses ORDER BY/LIMIT on a UNION member itself: each branch reads a subquery.
    # Plain name-only columns (typed like the table's) keep the statement cheap to build:
    # proxying the table's columns through subqueries cost more than the query itself.
    shell = _columns_by_name(source.table)
    branches = [
        shell.select_from(
            source.select().where(r).order_by(*order).limit(limit).subquery(f"range{n}")
        )
        for n, r in enumerate(ranges)
    ]
    outer = order_by(
        spec,
        column(id_col.name),
        descending=sort.descending,
        reverse=not after,
        column=column(spec.column.name),
    )
    return union_all(*branches).order_by(*outer).limit(limit)


async def _fetch_keyset(
    conn: AsyncConnection,
    source: _Source,
    spec: SortSpec,
    sort: Sort,
    page: PageRequest,
    id_col: Any,
) -> _Fetched:
    assert page.cursor is not None
    position = decode_cursor(page.cursor, spec, sort) if page.cursor else None
    after = position.after if position is not None else True
    stmt = _seek(source, spec, sort, position, id_col, page.limit + 1)
    rows = list((await conn.execute(stmt)).mappings())
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
    return _Fetched(
        rows=rows,
        limit=page.limit,
        next_cursor=next_cursor,
        prev_cursor=prev_cursor,
        has_next=has_next,
        has_previous=has_previous,
    )


# --- customers ---------------------------------------------------------------------------------


async def _customers_of(
    conn: AsyncConnection, organization_id: str, rows: Sequence[RowMapping]
) -> list[Customer]:
    """Customers of ``rows`` (of ``organization_id``) with their history and interests: one
    query per relation, each confined to the organization as the repository's are."""
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    h, i = t.stage_history, t.property_interests
    history: dict[str, list[RowMapping]] = defaultdict(list)
    of_history = select(h).where(h.c.organization_id == organization_id, h.c.customer_id.in_(ids))
    for row in (await conn.execute(of_history)).mappings():
        history[row["customer_id"]].append(row)
    interests: dict[str, list[RowMapping]] = defaultdict(list)
    of_interests = select(i).where(i.c.organization_id == organization_id, i.c.customer_id.in_(ids))
    for row in (await conn.execute(of_interests)).mappings():
        interests[row["customer_id"]].append(row)
    return [customer_from_row(row, history[row["id"]], interests[row["id"]]) for row in rows]


def _live(deleted: bool = False) -> ColumnElement[bool]:
    col = t.customers.c.deleted_at
    return col.is_not(None) if deleted else col.is_(None)


def _customer_where(
    scope: ScopeFilter, conditions: Sequence[ColumnElement[bool]], *, deleted: bool = False
) -> tuple[ColumnElement[bool], ...]:
    return (customer_scope(scope), _live(deleted), *conditions)


@frozen
class _SearchExprs:
    """The SQL pieces of a free-text search: the match, the score and the per-field hits."""

    match: ColumnElement[bool]
    score: ColumnElement[float]
    hits: Mapping[str, ColumnElement[bool]]


def _like(expr: Any, pattern: str) -> ColumnElement[bool]:
    matched: ColumnElement[bool] = expr.like(pattern, escape=_ESCAPE)
    return matched


def _tiers(expr: Any, q: str, *, words: bool = True) -> dict[str, ColumnElement[bool]]:
    e = like_escape(q)
    out = {
        "exact": expr == q,
        "prefix": _like(expr, f"{e}%"),
        "contains": _like(expr, f"%{e}%"),
    }
    if words:
        out["word"] = _like(expr, f"% {e}%")
    return out


def _search_exprs(raw: str, similarity: bool) -> _SearchExprs:
    """Match and score of ``raw``.

    A customer matches when every normalized word is in ``name_search`` (the Arabic and the
    English name), or the text is in the email, or — for a phone-like text — its digits are in
    ``phone_digits``; with ``similarity`` (PostgreSQL with pg_trgm) also when the name has a
    similar word (the ``<%`` operator, threshold ``pg_trgm.word_similarity_threshold``, default
    0.6). Every arm but the email's can use the trigram indexes the migrations create.

    Score, best tier that holds over name, English name, email and phone: exact 1.0 > prefix 0.9
    > word prefix 0.8 > contains 0.7 > every word somewhere in the name 0.6 > fuzzy,
    ``0.5 × word_similarity``.
    """
    c = t.customers.c
    q = normalize_search_text(raw)
    terms = list(dict.fromkeys(q.split()))
    name = _tiers(c.name_search, q)
    name["exact"] = or_(name["exact"], c.name == raw.strip())
    name_en_col = func.lower(func.coalesce(c.name_en, ""))
    name_en = _tiers(name_en_col, q)
    # Exactly the expression of the PostgreSQL trigram index (lower(email)): a coalesce here
    # would turn the whole OR into a sequential scan (measured: 474 ms -> 3.5 ms at 1M rows).
    email = _tiers(func.lower(c.email), q, words=False)
    tiers = [name, name_en, email]
    phone_hit: ColumnElement[bool] | None = None
    if is_phone_like(raw):
        digits = phone_query_digits(raw)
        d = like_escape(digits)
        # Eight digits or more are a whole national number: matching the end is exact.
        whole = _like(c.phone_digits, f"%{d}") if len(digits) >= 8 else c.phone_digits == digits
        phone = {
            "exact": whole,
            "prefix": or_(_like(c.phone_digits, f"{d}%"), _like(c.phone_digits, f"966{d}%")),
            "contains": _like(c.phone_digits, f"%{d}%"),
        }
        tiers.append(phone)
        phone_hit = phone["contains"]
    all_terms = and_(*[_like(c.name_search, f"%{like_escape(w)}%") for w in terms])
    en_all = and_(*[_like(name_en_col, f"%{like_escape(w)}%") for w in terms])

    def any_of(tier: str) -> ColumnElement[bool]:
        return or_(*[fields[tier] for fields in tiers if tier in fields])

    whens: list[tuple[ColumnElement[bool], Any]] = [
        (any_of("exact"), 1.0),
        (any_of("prefix"), 0.9),
        (any_of("word"), 0.8),
        (any_of("contains"), 0.7),
        (all_terms, 0.6),
    ]
    # name_search holds the English name too, so all_terms covers nameEn matches.
    match_parts = [all_terms, email["contains"]]
    if phone_hit is not None:
        match_parts.append(phone_hit)
    name_hit = and_(all_terms, ~en_all)
    if similarity:
        fuzzy = literal(q).op("<%", is_comparison=True)(c.name_search)
        whens.append((fuzzy, func.word_similarity(q, c.name_search) * 0.5))
        match_parts.append(fuzzy)
        name_hit = or_(name_hit, and_(fuzzy, ~en_all))
    hits: dict[str, ColumnElement[bool]] = {
        "name": name_hit,
        "nameEn": en_all,
        "phone": phone_hit if phone_hit is not None else literal(False),
        "email": email["contains"],
    }
    score = case(*whens, else_=0.0)
    return _SearchExprs(or_(*match_parts), type_coerce(score, Float()), hits)


class SqlCustomerQueries:
    """:class:`~customers_hub.application.ports.CustomerQueries` over SQLAlchemy Core."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._trigrams: bool | None = None

    async def list(self, query: CustomerListQuery) -> Page[Customer]:
        """One page of customers in scope, with history and interests loaded set-based."""
        spec = sort_spec(CUSTOMER_SORTS, query.sort.field)
        conditions = customer_conditions(query.conditions)
        if query.search is not None:
            matched = customer_search(query.search)
            if matched is not None:
                conditions.append(matched)
        _check_page(query.page)
        source = _Source(
            t.customers,
            t.customers,
            _customer_where(query.scope, conditions, deleted=query.deleted),
        )
        async with self._engine.connect() as conn:
            fetched = await _fetch(conn, source, spec, query.sort, query.page)
            items = await _customers_of(conn, query.scope.organization_id, fetched.rows)
        return fetched.to_page(items)

    async def _has_trigrams(self, conn: AsyncConnection) -> bool:
        if conn.dialect.name != "postgresql":
            return False
        if self._trigrams is None:
            found = await conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"))
            self._trigrams = found.first() is not None
        return self._trigrams

    async def search(self, query: SearchQuery) -> SearchResult[Customer]:
        """Customers matching free text, best first (see :func:`_search_exprs` for the score)."""
        if not normalize_search_text(query.text):
            raise ValidationFailed.single("query", "must not be empty")
        _check_limit(query.limit)
        conditions = customer_conditions(query.conditions)
        c = t.customers.c
        async with self._engine.connect() as conn:
            exprs = _search_exprs(query.text, query.fuzzy and await self._has_trigrams(conn))
            hit_columns = [
                case((hit, 1), else_=0).label(f"_hit_{name}") for name, hit in exprs.hits.items()
            ]
            stmt = (
                select(
                    t.customers,
                    exprs.score.label("_score"),
                    *hit_columns,
                    func.count().over().label("_total"),
                )
                .where(*_customer_where(query.scope, conditions), exprs.match)
                .order_by(exprs.score.desc(), c.name_search.asc(), c.id.asc())
                .limit(query.limit)
            )
            rows = list((await conn.execute(stmt)).mappings())
            customers = await _customers_of(conn, query.scope.organization_id, rows)
        hits = [
            SearchHit(
                item=customer,
                score=round(float(row["_score"]), 3),
                matched_fields=tuple(name for name in exprs.hits if row[f"_hit_{name}"]),
            )
            for customer, row in zip(customers, rows, strict=True)
        ]
        return SearchResult(hits=hits, total=int(rows[0]["_total"]) if rows else 0)

    async def stats(
        self, scope: ScopeFilter, window: StatsWindow, group_by: str | None
    ) -> CustomerStats:
        """Customer aggregates in scope: three statements, four with groupBy employee/city."""
        if group_by not in (None, "stage", "source", "employee", "city"):
            raise ValidationFailed.single("groupBy", "must be one of stage, source, employee, city")
        c = t.customers.c
        where = (*_customer_where(scope, ()), *_window(c.created_at, window))
        month = month_bounds(window.now, window.tz)
        year = _year_bounds(window.now, window.tz)
        h = t.stage_history.c
        closes = (
            select(h.customer_id, func.min(h.changed_at).label("closed_at"))
            .where(h.organization_id == scope.organization_id, h.to_stage.in_(_CLOSED_STAGES))
            .group_by(h.customer_id)
            .subquery("closes")
        )
        closed_at = closes.c.closed_at
        main = (
            select(
                func.count().label("total"),
                type_coerce(func.sum(c.total_deal_value), _MONEY).label("deal_sum"),
                type_coerce(func.sum(c.expected_revenue), _MONEY).label("revenue_sum"),
                type_coerce(func.avg(c.total_deal_value), _MONEY).label("deal_avg"),
                _count_if(c.stage.in_(_CLOSED_STAGES)).label("converted"),
                _count_if(
                    c.last_contact_at >= window.now - timedelta(days=ACTIVE_CONTACT_DAYS)
                ).label("active"),
                _count_if(_in_range(c.created_at, month)).label("new_month"),
                type_coerce(func.avg(c.total_interactions), Float()).label("avg_interactions"),
                type_coerce(func.avg(c.response_rate), Float()).label("avg_response_rate"),
                type_coerce(
                    func.avg((_Epoch(closed_at) - _Epoch(c.created_at)) / 86400.0), Float()
                ).label("avg_days"),
                _count_if(_in_range(closed_at, month)).label("closed_month"),
                _count_if(_in_range(closed_at, year)).label("closed_year"),
            )
            .select_from(t.customers.outerjoin(closes, closes.c.customer_id == c.id))
            .where(*where)
        )
        grouped_stmt = (
            select(c.stage, c.source, c.priority, func.count().label("n"))
            .where(*where)
            .group_by(c.stage, c.source, c.priority)
        )
        scores_stmt = (
            select(c.lead_score, func.count().label("n")).where(*where).group_by(c.lead_score)
        )
        async with self._engine.connect() as conn:
            totals = (await conn.execute(main)).mappings().one()
            combos = list((await conn.execute(grouped_stmt)).mappings())
            histogram = [
                (int(r["lead_score"]), int(r["n"]))
                for r in (await conn.execute(scores_stmt)).mappings()
            ]
            grouped: dict[str, int] | None = None
            if group_by in ("employee", "city"):
                col, missing = (
                    (c.assigned_employee_id, "unassigned")
                    if group_by == "employee"
                    else (c.city, "unknown")
                )
                rows = await conn.execute(
                    select(col.label("key"), func.count().label("n")).where(*where).group_by(col)
                )
                grouped = {}
                for key, n in rows.tuples():
                    name = key if key is not None else missing
                    grouped[name] = grouped.get(name, 0) + int(n)
        by_stage, by_source, by_priority = (
            _zeroes(Stage),
            _zeroes(CustomerSource),
            _zeroes(Priority),
        )
        for row in combos:
            n = int(row["n"])
            by_stage[row["stage"]] = by_stage.get(row["stage"], 0) + n
            by_source[row["source"]] = by_source.get(row["source"], 0) + n
            by_priority[row["priority"]] = by_priority.get(row["priority"], 0) + n
        if group_by == "stage":
            grouped = dict(by_stage)
        elif group_by == "source":
            grouped = dict(by_source)
        total = int(totals["total"])
        return CustomerStats(
            total=total,
            by_stage=by_stage,
            by_source=by_source,
            by_priority={
                p.value: by_priority[p.value] for p in sorted(Priority, key=lambda p: -p.rank)
            },
            lead_scores=_lead_scores(histogram),
            financial={
                "totalDealValue": _money(totals["deal_sum"]) or Decimal("0.00"),
                "totalExpectedRevenue": _money(totals["revenue_sum"]) or Decimal("0.00"),
                "avgDealSize": _money(totals["deal_avg"]),
            },
            conversion={
                "conversionRate": _round(100.0 * int(totals["converted"]) / total)
                if total
                else None,
                "avgDaysInPipeline": _round(totals["avg_days"]),
                "closedThisMonth": int(totals["closed_month"]),
                "closedThisYear": int(totals["closed_year"]),
            },
            engagement={
                "activeCustomers": int(totals["active"]),
                "newThisMonth": int(totals["new_month"]),
                "avgInteractions": _round(totals["avg_interactions"]),
                "avgResponseRate": _round(totals["avg_response_rate"]),
            },
            grouped=grouped,
        )

    async def filter_options(self, scope: ScopeFilter) -> FilterOptions:
        """Stages, sources and property types (every member, 0 when none), cities and employees
        with counts over the live customers in scope: four GROUP BY statements."""
        c, f, e = t.customers.c, t.customer_facets.c, t.employees.c
        where = _customer_where(scope, ())
        stage_source = (
            select(c.stage, c.source, func.count().label("n"))
            .where(*where)
            .group_by(c.stage, c.source)
        )
        types = (
            select(f.value, func.count().label("n"))
            .select_from(t.customer_facets.join(t.customers, c.id == f.customer_id))
            .where(
                f.organization_id == scope.organization_id, f.kind == FACET_PROPERTY_TYPE, *where
            )
            .group_by(f.value)
        )
        cities = (
            select(c.city, func.count().label("n"))
            .where(*where, c.city.is_not(None))
            .group_by(c.city)
        )
        held = (
            select(c.assigned_employee_id.label("employee_id"), func.count().label("n"))
            .where(*where, c.assigned_employee_id.is_not(None))
            .group_by(c.assigned_employee_id)
            .subquery("held")
        )
        employees = (
            select(e.id, e.name, e.name_en, e.is_active, func.coalesce(held.c.n, 0).label("n"))
            .select_from(t.employees.outerjoin(held, held.c.employee_id == e.id))
            .where(e.organization_id == scope.organization_id, _employee_reach(scope))
            .where(or_(e.is_active.is_(True), held.c.n > 0))
            .order_by(e.name, e.id)
        )
        async with self._engine.connect() as conn:
            combos = list((await conn.execute(stage_source)).tuples())
            type_counts = {v: int(n) for v, n in (await conn.execute(types)).tuples()}
            city_rows = [(v, int(n)) for v, n in (await conn.execute(cities)).tuples()]
            employee_rows = list((await conn.execute(employees)).mappings())
        stage_counts, source_counts = _zeroes(Stage), _zeroes(CustomerSource)
        for stage, source, n in combos:
            stage_counts[stage] = stage_counts.get(stage, 0) + int(n)
            source_counts[source] = source_counts.get(source, 0) + int(n)
        city_rows.sort(key=lambda vn: (-vn[1], vn[0]))
        return FilterOptions(
            stages=_options(Stage, stage_counts),
            sources=_options(CustomerSource, source_counts),
            cities=tuple(FilterOption(value=v, count=n, label=v) for v, n in city_rows),
            property_types=_options(PropertyType, type_counts),
            employees=_employee_options(employee_rows),
        )


def _employee_options(rows: Sequence[RowMapping]) -> tuple[EmployeeOption, ...]:
    return tuple(
        EmployeeOption(id=r["id"], name=r["name"], count=int(r["n"]), name_en=r["name_en"])
        for r in rows
    )


def _employee_reach(scope: ScopeFilter) -> ColumnElement[bool]:
    """The employees a scope may pick from: everyone (ALL), the manager and direct reports
    (TEAM), oneself (OWN), nobody (NONE)."""
    e = t.employees.c
    if scope.kind is Reach.ALL:
        return literal(True)
    if scope.kind is Reach.TEAM:
        return or_(e.id == scope.employee_id, e.manager_id == scope.employee_id)
    if scope.kind is Reach.OWN:
        return e.id == scope.employee_id
    return literal(False)


def _options(enum: Iterable[LabelledEnum], counts: Mapping[str, int]) -> tuple[FilterOption, ...]:
    return tuple(
        FilterOption(
            value=m.value, count=counts.get(m.value, 0), label=m.label, label_en=m.label_en
        )
        for m in enum
    )


def _lead_scores(histogram: Sequence[tuple[int, int]]) -> dict[str, float | int | None]:
    """avg, median and buckets of a (score, count) histogram."""
    n = sum(count for _, count in histogram)
    buckets = {"above80": 0, "60to80": 0, "40to60": 0, "below40": 0}
    for score, count in histogram:
        key = (
            "above80"
            if score >= 80
            else "60to80"
            if score >= 60
            else "40to60"
            if score >= 40
            else "below40"
        )
        buckets[key] += count
    if n == 0:
        return {"avg": None, "median": None, **buckets}
    ordered = sorted(histogram)

    def nth(k: int) -> int:
        seen = 0
        for score, count in ordered:
            seen += count
            if seen > k:
                return score
        raise AssertionError("k out of range")

    middle = (nth((n - 1) // 2) + nth(n // 2)) / 2
    median: float | int = int(middle) if middle == int(middle) else middle
    avg = sum(score * count for score, count in histogram) / n
    return {"avg": round(avg, 1), "median": median, **buckets}


# --- actions -----------------------------------------------------------------------------------


def _actions_from() -> FromClause:
    a, c = t.customer_actions.c, t.customers.c
    return t.customer_actions.join(t.customers, c.id == a.customer_id)


def _responded_from(organization_id: str) -> tuple[FromClause, ColumnElement[Any]]:
    """Actions joined to their first note, and the instant of the first response (the first
    note or the completion, whichever came first)."""
    a, n = t.customer_actions.c, t.action_notes.c
    first = (
        select(n.action_id, func.min(n.created_at).label("first_note"))
        .where(n.organization_id == organization_id)
        .group_by(n.action_id)
        .subquery("first_notes")
    )
    note = first.c.first_note
    responded = case(
        (note.is_(None), a.completed_at),
        (a.completed_at.is_(None), note),
        (note < a.completed_at, note),
        else_=a.completed_at,
    )
    return _actions_from().outerjoin(first, first.c.action_id == a.id), responded


def _awake(action: CustomerAction, now: datetime) -> CustomerAction:
    """The action as reported at ``now``: a passed snooze reads as pending, without a date."""
    if action.status is ActionStatus.SNOOZED and effective_status(action, now) is not action.status:
        return attrs.evolve(action, status=ActionStatus.PENDING, snoozed_until=None)
    return action


_STATUS_KEYS: Final[Mapping[str, str]] = {
    ActionStatus.PENDING.value: "pending",
    ActionStatus.IN_PROGRESS.value: "inProgress",
    ActionStatus.COMPLETED.value: "completed",
    ActionStatus.DISMISSED.value: "dismissed",
    ActionStatus.SNOOZED.value: "snoozed",
}


class SqlActionQueries:
    """:class:`~customers_hub.application.ports.ActionQueries` over SQLAlchemy Core."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def list(self, query: ActionListQuery) -> Page[CustomerAction]:
        """One page of actions in scope (effective status applied; notes not loaded)."""
        spec = sort_spec(ACTION_SORTS, query.sort.field)
        conditions = action_conditions(query.conditions, now=query.now)
        if query.due_bucket is not None:
            conditions.append(due_bucket_condition(query.due_bucket, query.now, query.tz))
        if query.search is not None:
            matched = action_search(query.search)
            if matched is not None:
                conditions.append(matched)
        _check_page(query.page)
        source = _Source(
            t.customer_actions,
            _actions_from(),
            (action_scope(query.scope), _live(), *conditions),
        )
        async with self._engine.connect() as conn:
            fetched = await _fetch(conn, source, spec, query.sort, query.page)
        return fetched.to_page([_awake(action_from_row(row), query.now) for row in fetched.rows])

    async def stats(
        self, scope: ScopeFilter, window: StatsWindow, assigned_to: str | None
    ) -> ActionStats:
        """Action aggregates in scope: two statements."""
        a = t.customer_actions.c
        now = window.now
        where: list[ColumnElement[bool]] = [action_scope(scope), _live()]
        where += _window(a.created_at, window)
        if assigned_to is not None:
            where.append(a.assigned_to == assigned_to)
        # Group on a subquery's column: PostgreSQL cannot match a parameterized CASE in the
        # SELECT list with the same CASE in GROUP BY.
        inner = (
            select(
                effective_status_expr(now).label("status"),
                a.type.label("type"),
                a.priority.label("priority"),
                a.source.label("source"),
            )
            .select_from(_actions_from())
            .where(*where)
            .subquery("effective")
        )
        grouped = select(
            inner.c.status, inner.c.type, inner.c.priority, inner.c.source, func.count()
        ).group_by(inner.c.status, inner.c.type, inner.c.priority, inner.c.source)
        open_ = effective_status_in(OPEN_STATUSES, now)
        source, responded = _responded_from(scope.organization_id)
        completed = a.status == ActionStatus.COMPLETED.value
        timeline = (
            select(
                _count_if(and_(open_, a.due_date < now)).label("overdue"),
                _count_if(
                    and_(
                        open_,
                        _in_range(a.due_date, bucket_bounds(DueDateBucket.TODAY, now, window.tz)),
                    )
                ).label("today"),
                _count_if(
                    and_(
                        open_,
                        _in_range(a.due_date, bucket_bounds(DueDateBucket.WEEK, now, window.tz)),
                    )
                ).label("week"),
                _count_if(and_(open_, _in_range(a.due_date, month_bounds(now, window.tz)))).label(
                    "month"
                ),
                _count_if(and_(open_, a.due_date.is_(None))).label("no_date"),
                type_coerce(
                    func.avg(
                        case(
                            (
                                and_(completed, a.completed_at.is_not(None)),
                                _hours_between(a.created_at, a.completed_at),
                            )
                        )
                    ),
                    Float(),
                ).label("completion_hours"),
                type_coerce(func.avg(_hours_between(a.created_at, responded)), Float()).label(
                    "response_hours"
                ),
            )
            .select_from(source)
            .where(*where)
        )
        async with self._engine.connect() as conn:
            combos = list((await conn.execute(grouped)).tuples())
            times = (await conn.execute(timeline)).mappings().one()
        total = dict.fromkeys(_STATUS_KEYS.values(), 0)
        by_type, by_priority, by_source = (
            _zeroes(ActionType),
            {p.value: 0 for p in sorted(Priority, key=lambda p: -p.rank)},
            _zeroes(CustomerSource),
        )
        open_values = {s.value for s in OPEN_STATUSES}
        for status, type_, priority, source_, n in combos:
            total[_STATUS_KEYS[status]] += int(n)
            if status in open_values:
                by_type[type_] = by_type.get(type_, 0) + int(n)
                by_priority[priority] = by_priority.get(priority, 0) + int(n)
                by_source[source_] = by_source.get(source_, 0) + int(n)
        open_count = total["pending"] + total["inProgress"]
        denominator = total["completed"] + total["dismissed"] + open_count
        return ActionStats(
            total=total,
            by_type=by_type,
            by_priority=by_priority,
            by_source=by_source,
            due_dates={
                "overdue": int(times["overdue"]),
                "today": int(times["today"]),
                "thisWeek": int(times["week"]),
                "thisMonth": int(times["month"]),
                "noDueDate": int(times["no_date"]),
            },
            avg_completion_time=_round(times["completion_hours"], 2),
            avg_response_time=_round(times["response_hours"], 2),
            completion_rate=(
                _round(100.0 * total["completed"] / denominator) if denominator else None
            ),
        )


# --- employees ---------------------------------------------------------------------------------


class SqlEmployeeQueries:
    """:class:`~customers_hub.application.ports.EmployeeQueries` over SQLAlchemy Core."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def list(
        self, organization_id: str, *, role: str | None, is_active: bool | None
    ) -> list[Employee]:
        """Employees of the organization by name, filtered by role and activity."""
        e = t.employees.c
        stmt = select(t.employees).where(e.organization_id == organization_id)
        if role is not None:
            try:
                stmt = stmt.where(e.role == Role(role).value)
            except ValueError:
                allowed = ", ".join(r.value for r in Role)
                raise ValidationFailed.single("role", f"must be one of {allowed}") from None
        if is_active is not None:
            stmt = stmt.where(e.is_active.is_(is_active))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt.order_by(e.name, e.id))).mappings()
            return [employee_from_row(row) for row in rows]

    async def workloads(
        self, organization_id: str, ids: Sequence[str], window: StatsWindow
    ) -> dict[str, EmployeeWorkload]:
        """Workloads of ``ids`` (every id gets one; zeros when nothing is theirs): one GROUP BY
        statement per measure."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        a, c = t.customer_actions.c, t.customers.c
        live_action = (a.organization_id == organization_id, _live())
        assigned = (
            select(c.assigned_employee_id, func.count())
            .where(
                c.organization_id == organization_id,
                _live(),
                c.assigned_employee_id.in_(wanted),
            )
            .group_by(c.assigned_employee_id)
        )
        pending = (
            select(a.assigned_to, func.count())
            .select_from(_actions_from())
            .where(
                *live_action,
                a.assigned_to.in_(wanted),
                effective_status_in(OPEN_STATUSES, window.now),
            )
            .group_by(a.assigned_to)
        )
        completed = (
            select(a.completed_by, func.count())
            .select_from(_actions_from())
            .where(
                *live_action,
                a.completed_by.in_(wanted),
                a.status == ActionStatus.COMPLETED.value,
                _in_range(a.completed_at, month_bounds(window.now, window.tz)),
            )
            .group_by(a.completed_by)
        )
        source, responded = _responded_from(organization_id)
        response = (
            select(
                a.assigned_to,
                type_coerce(func.avg(_hours_between(a.created_at, responded)), Float()),
            )
            .select_from(source)
            .where(*live_action, a.assigned_to.in_(wanted), *_window(a.created_at, window))
            .group_by(a.assigned_to)
        )
        async with self._engine.connect() as conn:
            customers_held: dict[str, int] = dict((await conn.execute(assigned)).tuples().all())
            open_actions: dict[str, int] = dict((await conn.execute(pending)).tuples().all())
            done: dict[str, int] = dict((await conn.execute(completed)).tuples().all())
            hours: dict[str, float | None] = dict((await conn.execute(response)).tuples().all())
        return {
            employee_id: EmployeeWorkload(
                assigned_customers=int(customers_held.get(employee_id, 0)),
                pending_actions=int(open_actions.get(employee_id, 0)),
                completed_this_month=int(done.get(employee_id, 0)),
                avg_response_time=_round(hours.get(employee_id), 2),
            )
            for employee_id in wanted
        }

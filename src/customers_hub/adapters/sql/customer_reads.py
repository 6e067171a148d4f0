"""Customer reads: the customers list, free-text search, and the relations of a page.

Each service opens its own read connection per call (no unit of work: nothing is written; on
PostgreSQL in autocommit, so no BEGIN/ROLLBACK round trips). Every request runs a fixed number
of statements whatever the page size, on that one connection:

============================  ===========================================================
request                       statements
============================  ===========================================================
customers list, offset        page (limit+1 rows) carrying the capped count · [the planner's
                              estimate (PostgreSQL; unless remembered from the last
                              :data:`~.pagination.ESTIMATE_TTL` seconds) or an exact
                              count (SQLite) when the count reaches the cap] · stage
                              history, interests [and the page's assignees,
                              :meth:`~SqlCustomerQueries.list_with_assignees`] sent together
                              (one round trip on PostgreSQL, :mod:`.pipelined`) (relations
                              and assignees are skipped on an empty page; past the end the
                              count runs on its own)
customers list, cursor        page (limit+1 rows) · stage history, interests [, assignees]
                              together
customers search              [pg_trgm check, once per service on PostgreSQL with fuzzy] ·
                              hits with ``count(*) OVER ()`` · stage history, interests
                              together
============================  ===========================================================

What the benchmark's floor sends for a list (``benchmarks/floor.py``) is the same page, history,
interests and capped count; ``tests/integration/test_list_statements.py`` pins the statements.
Pages and counts are :mod:`~customers_hub.adapters.sql.pagination`'s; the statistics and filter
options of :class:`SqlCustomerQueries` are computed by
:mod:`~customers_hub.adapters.sql.statistics`. Soft-deleted customers are left out
(:mod:`~customers_hub.adapters.sql.read_scope`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Final

from attrs import frozen
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Float,
    Select,
    Table,
    and_,
    any_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    text,
    type_coerce,
    union,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from customers_hub.adapters.sql import counters, pipelined, statistics
from customers_hub.adapters.sql import tables as t
from customers_hub.adapters.sql.dialect import literal_rows
from customers_hub.adapters.sql.filters import (
    CUSTOMER_SORTS,
    customer_conditions,
    customer_search,
    is_phone_like,
    like,
    like_escape,
    sort_spec,
    text_literal,
)
from customers_hub.adapters.sql.mappers import customer_from_row, employee_from_row
from customers_hub.adapters.sql.pagination import (
    EstimateMemo,
    Source,
    check_limit,
    check_page,
    count_rows,
    fetch,
)
from customers_hub.adapters.sql.read_scope import customer_where
from customers_hub.application.queries import (
    CustomerListQuery,
    CustomerStats,
    FilterOptions,
    Page,
    SearchHit,
    SearchQuery,
    SearchResult,
    StatsWindow,
)
from customers_hub.domain.access import ScopeFilter
from customers_hub.domain.errors import ValidationFailed
from customers_hub.domain.model import Customer, Employee
from customers_hub.domain.search_text import normalize_search_text, phone_query_digits

__all__ = ["SqlCustomerQueries"]


async def _customers_of(
    conn: AsyncConnection,
    organization_id: str,
    rows: Sequence[RowMapping],
    *,
    assignees: bool = False,
) -> tuple[list[Customer], dict[str, Employee]]:
    """Customers of ``rows`` (of ``organization_id``) with their history and interests: one
    query per relation, each confined to the organization as the repository's are; with
    ``assignees``, also the rows' assignees that exist in the organization, by id (no query
    when nobody is assigned). The queries go together (:func:`pipelined.read_all`: one round
    trip on PostgreSQL)."""
    if not rows:
        return [], {}
    array = conn.dialect.name == "postgresql"
    ids = [row["id"] for row in rows]
    params = {"organization_id": organization_id, "ids": ids}
    of_history, of_interests = _RELATIONS[array]
    statements = [(of_history, params), (of_interests, params)]
    assigned = (
        [e for e in dict.fromkeys(row["assigned_employee_id"] for row in rows) if e]
        if assignees
        else []
    )
    if assigned:
        statements.append(
            (_ASSIGNEES[array], {"organization_id": organization_id, "ids": assigned})
        )
    read = await pipelined.read_all(conn, statements)
    history: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in read[0]:
        history[row["customer_id"]].append(row)
    interests: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in read[1]:
        interests[row["customer_id"]].append(row)
    customers = [customer_from_row(row, history[row["id"]], interests[row["id"]]) for row in rows]
    employees = {row["id"]: employee_from_row(row) for row in read[2]} if assigned else {}
    return customers, employees


def _of_page(table: Table, *, array: bool, key: str = "customer_id") -> Select[Any]:
    """The rows of ``table`` whose ``key`` is one of ``:ids``, of ``:organization_id``, built
    once.

    On PostgreSQL ``key = ANY(:ids)`` with one array parameter: the same SQL text for every
    page size (one compiled form, one server-side prepared statement), what the benchmark's
    floor sends. SQLite has no arrays: an expanding ``IN``.
    """
    column = table.c[key]
    ids = (
        any_(bindparam("ids", type_=ARRAY(column.type)))
        if array
        else bindparam("ids", expanding=True)
    )
    matched = column == ids if array else column.in_(ids)
    return select(table).where(table.c.organization_id == bindparam("organization_id"), matched)


_RELATIONS: Final = {
    array: (_of_page(t.stage_history, array=array), _of_page(t.property_interests, array=array))
    for array in (False, True)
}
"""(stage history, property interests) of a page's customers, by "is PostgreSQL"."""

_ASSIGNEES: Final = {array: _of_page(t.employees, array=array, key="id") for array in (False, True)}
"""The employees ``:ids`` of a page (its assignees), by "is PostgreSQL": like the relations, one
statement text whatever the number of assignees (an ``IN`` list of literals made each page's
text differ by its count of assignees, each one compiled and prepared on its own)."""


@frozen
class _SearchExprs:
    """The SQL pieces of a free-text search: the match, the score and the per-field hits."""

    match: ColumnElement[bool]
    score: ColumnElement[float]
    hits: Mapping[str, ColumnElement[bool]]


def _tiers(expr: Any, q: str, *, words: bool = True) -> dict[str, ColumnElement[bool]]:
    e = like_escape(q)
    out = {
        "exact": expr == q,
        "prefix": like(expr, f"{e}%"),
        "contains": like(expr, f"%{e}%"),
    }
    if words:
        out["word"] = like(expr, f"% {e}%")
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
        whole = like(c.phone_digits, f"%{d}") if len(digits) >= 8 else c.phone_digits == digits
        phone = {
            "exact": whole,
            "prefix": or_(like(c.phone_digits, f"{d}%"), like(c.phone_digits, f"966{d}%")),
            "contains": like(c.phone_digits, f"%{d}%"),
        }
        tiers.append(phone)
        phone_hit = phone["contains"]
    all_terms = and_(*[like(c.name_search, f"%{like_escape(w)}%") for w in terms])
    en_all = and_(*[like(name_en_col, f"%{like_escape(w)}%") for w in terms])

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


SEARCH_CANDIDATES: Final = 500
"""Matches one search scores at most besides its exact and prefix tiers: a common fragment
(a family name shared by a fifth of a million customers) costs what a rare one costs. Up to this
many matches the ranking and the total are exact; beyond, see :func:`_candidates`."""

_TOP: Final = "\U0010ffff"  # sorts after every character: the end of a prefix range


def _prefix(col: Any, text: str) -> ColumnElement[bool]:
    """``col`` starts with ``text``: a B-tree range an index seeks to, and the ``LIKE`` that
    keeps it exact in a collation that does not sort by code point."""
    return and_(
        col >= text_literal(text),
        col < text_literal(text + _TOP),
        like(col, f"{like_escape(text)}%"),
    )


def _candidates(
    query: SearchQuery, where: Sequence[ColumnElement[bool]], match: ColumnElement[bool]
) -> tuple[Any, Any]:
    """The customers a search scores, as (ids of the ranked tiers and the other matches, ids
    of the other matches alone) — two CTEs of one statement.

    Ranked tiers, each bounded: the first ``limit`` customers whose normalized name starts with
    the text (exact names included) and whose phone digits start with its digits — B-tree
    ranges on ``(organization_id, name_search, id)`` and ``(organization_id, phone_digits)`` —
    then at most :data:`SEARCH_CANDIDATES` + 1 other matches as the indexes find them (the one
    more says that matches were left out). When none were, the candidates are every match and
    ranking and total are exact; otherwise the page holds every exact and prefix match of the
    name and phone in order, then the best of the other matches found.
    """
    c = t.customers.c
    q = normalize_search_text(query.text)
    tops: list[Select[Any]] = [
        select(c.id)
        .where(*where, _prefix(c.name_search, q))
        .order_by(c.name_search, c.id)
        .limit(literal_rows(query.limit))
    ]
    if is_phone_like(query.text):
        digits = phone_query_digits(query.text)
        for start in dict.fromkeys((f"966{digits}", digits)):
            tops.append(
                select(c.id)
                .where(*where, _prefix(c.phone_digits, start))
                .order_by(c.phone_digits, c.id)
                .limit(literal_rows(query.limit))
            )
    others = (
        select(c.id).where(*where, match).limit(literal_rows(SEARCH_CANDIDATES + 1)).cte("others")
    )
    # Each tier a subquery: SQLite allows no LIMIT on a bare member of a compound select.
    members = [select(top.subquery().c.id) for top in tops]
    candidates = union(*members, select(others.c.id)).cte("candidates")
    return candidates, others


async def _scored(
    conn: AsyncConnection,
    query: SearchQuery,
    where: Sequence[ColumnElement[bool]],
    exprs: _SearchExprs,
) -> tuple[list[RowMapping], int, bool]:
    """(the page's rows best first, the number of candidates, whether matches were left out)."""
    c = t.customers.c
    candidates, others = _candidates(query, where, exprs.match)
    hit_columns = [
        case((hit, 1), else_=0).label(f"_hit_{name}") for name, hit in exprs.hits.items()
    ]
    stmt = (
        select(
            t.customers,
            exprs.score.label("_score"),
            *hit_columns,
            select(func.count()).select_from(candidates).scalar_subquery().label("_candidates"),
            select(func.count()).select_from(others).scalar_subquery().label("_others"),
        )
        .where(
            c.organization_id == query.scope.organization_id,
            c.id.in_(select(candidates.c.id)),
        )
        .order_by(exprs.score.desc(), c.name_search.asc(), c.id.asc())
        .limit(literal_rows(query.limit))
    )
    rows = list((await conn.execute(stmt)).mappings())
    if not rows:
        return [], 0, False
    truncated = int(rows[0]["_others"]) > SEARCH_CANDIDATES
    return rows, int(rows[0]["_candidates"]), truncated


@lru_cache(maxsize=1024)
def _plain_source(scope: ScopeFilter) -> Source:
    """The customers list of ``scope`` without filters: its total is exactly what the
    counters count (listed customers), and the source is kept per scope, so its page statements
    are built once (:meth:`Source.page_statement`)."""
    return Source(
        t.customers,
        t.customers,
        customer_where(scope, [], deleted=False),
        total=counters.listed_total(scope),
    )


class SqlCustomerQueries:
    """:class:`~customers_hub.application.ports.CustomerQueries` over SQLAlchemy Core."""

    def __init__(self, engine: AsyncEngine, *, estimates: EstimateMemo | None = None) -> None:
        self._engine = engine
        # Lists and searches read PostgreSQL in autocommit: under READ COMMITTED each statement
        # takes its own snapshot inside a transaction too, so the BEGIN and the ROLLBACK on
        # return would be two round trips that buy nothing. (SQLite's connections keep the
        # transaction handling the unit of work set up for them.)
        self._reads = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )
        self._trigrams: bool | None = None
        # A list's estimated total above the count's cap is remembered per statement and
        # parameters for ``pagination.ESTIMATE_TTL`` s: asked again, it sends no ``EXPLAIN``.
        self._estimates = EstimateMemo() if estimates is None else estimates

    async def list(self, query: CustomerListQuery) -> Page[Customer]:
        """One page of customers in scope, with history and interests loaded set-based."""
        async with self._reads.connect() as conn:
            page, _ = await self._page(conn, query)
            return page

    async def list_with_assignees(
        self, query: CustomerListQuery
    ) -> tuple[Page[Customer], dict[str, Employee]]:
        """:meth:`list` and the page's assignees (those that exist in the organization), by
        id: one more statement on the same connection, sent with the page's relations (one
        round trip on PostgreSQL), none when nobody is assigned."""
        async with self._reads.connect() as conn:
            return await self._page(conn, query, assignees=True)

    async def _page(
        self, conn: AsyncConnection, query: CustomerListQuery, *, assignees: bool = False
    ) -> tuple[Page[Customer], dict[str, Employee]]:
        spec = sort_spec(CUSTOMER_SORTS, query.sort.field)
        conditions = customer_conditions(query.conditions)
        if query.search is not None:
            matched = customer_search(query.search)
            if matched is not None:
                conditions.append(matched)
        check_page(query.page)
        if not conditions and not query.deleted:
            source = _plain_source(query.scope)
        else:
            source = Source(
                t.customers,
                t.customers,
                customer_where(query.scope, conditions, deleted=query.deleted),
            )
        fetched = await fetch(conn, source, spec, query.sort, query.page, memo=self._estimates)
        items, employees = await _customers_of(
            conn, query.scope.organization_id, fetched.items, assignees=assignees
        )
        return fetched.with_items(items), employees

    async def _has_trigrams(self, conn: AsyncConnection) -> bool:
        if conn.dialect.name != "postgresql":
            return False
        if self._trigrams is None:
            found = await conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"))
            self._trigrams = found.first() is not None
        return self._trigrams

    async def search(self, query: SearchQuery) -> SearchResult[Customer]:
        """Customers matching free text, best first (see :func:`_search_exprs` for the score),
        with bounded work whatever the number of matches (see :func:`_candidates`): one
        statement for the page and its total, plus the page's relations; a count beyond
        :data:`SEARCH_CANDIDATES` matches, and fuzzy matching when the exact tiers leave the
        page short, are one more each."""
        if not normalize_search_text(query.text):
            raise ValidationFailed.single("query", "must not be empty")
        check_limit(query.limit)
        conditions = customer_conditions(query.conditions)
        where = customer_where(query.scope, conditions)
        async with self._reads.connect() as conn:
            exprs = _search_exprs(query.text, similarity=False)
            rows, total, truncated = await _scored(conn, query, where, exprs)
            if len(rows) < query.limit and query.fuzzy and await self._has_trigrams(conn):
                # Fuzzy only when the exact tiers leave the page short (bounded work).
                exprs = _search_exprs(query.text, similarity=True)
                rows, total, truncated = await _scored(conn, query, where, exprs)
            estimate = False
            if truncated:
                source = Source(t.customers, t.customers, (*where, exprs.match))
                total, estimate = await count_rows(
                    conn, source, cap=SEARCH_CANDIDATES, memo=self._estimates
                )
            customers, _ = await _customers_of(conn, query.scope.organization_id, rows)
        hits = [
            SearchHit(
                item=customer,
                score=round(float(row["_score"]), 3),
                matched_fields=tuple(name for name in exprs.hits if row[f"_hit_{name}"]),
            )
            for customer, row in zip(customers, rows, strict=True)
        ]
        return SearchResult(hits=hits, total=total, total_is_estimate=estimate)

    async def stats(
        self, scope: ScopeFilter, window: StatsWindow, group_by: str | None
    ) -> CustomerStats:
        """Customer aggregates in scope (:func:`statistics.customer_stats`)."""
        return await statistics.customer_stats(self._engine, scope, window, group_by)

    async def filter_options(self, scope: ScopeFilter) -> FilterOptions:
        """Filter values with counts in scope (:func:`statistics.filter_options`)."""
        return await statistics.filter_options(self._engine, scope)

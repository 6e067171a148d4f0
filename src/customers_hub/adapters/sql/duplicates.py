"""Duplicate candidates by indexed equality (rules §10; the rule is
:mod:`customers_hub.domain.duplicates`).

The keys live in ``customers`` (revision 0003): ``phone`` and ``whatsapp`` (E.164),
``national_id``, ``email_key``, ``name_key`` / ``name_en_key`` with ``city_key``; each is the
second column of a partial index ``(organization_id, key…) WHERE deleted_at IS NULL``
(the phone's is the unique live-phone index).

* :meth:`SqlDuplicateQueries.candidates` — one ``UNION ALL`` of equality lookups, one branch per
  key of the customer (each an index seek), grouped by id with the best score, strongest first,
  limited.
* :meth:`SqlDuplicateQueries.pairs` — one ``UNION ALL`` of self-joins, one per key (national
  id; phone = WhatsApp; WhatsApp = WhatsApp; e-mail; name + city; English name + city), both
  sides live and in the caller's scope, each pair once (``first_id < second_id``), grouped by
  pair with the best score, ordered by score then ids, ``LIMIT``/``OFFSET`` with
  ``count(*) OVER ()`` for the total. The joins are equalities on indexed columns (hash or
  merge joins on PostgreSQL, index lookups on SQLite): nothing is compared pairwise outside
  the database, and customers without a key are never read by its branch.

Live phones are unique per organization, so phone = phone never pairs two live customers; the
phone branches compare a phone with a WhatsApp number and two WhatsApp numbers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.sql import tables as t
from customers_hub.adapters.sql.dialect import literal_rows
from customers_hub.adapters.sql.filters import team_member_ids
from customers_hub.adapters.sql.offset_pages import counted_page
from customers_hub.adapters.sql.pagination import check_page
from customers_hub.application.ports_operations import DuplicatePairRef
from customers_hub.application.queries import Page, PageRequest
from customers_hub.domain.access import Reach, ScopeFilter
from customers_hub.domain.duplicates import REASON_SCORES, DuplicateReason, duplicate_keys
from customers_hub.domain.model import Customer

__all__ = ["SqlDuplicateQueries"]

_NATIONAL_ID = REASON_SCORES[DuplicateReason.NATIONAL_ID]
_PHONE = REASON_SCORES[DuplicateReason.PHONE]
_EMAIL = REASON_SCORES[DuplicateReason.EMAIL]
_NAME = REASON_SCORES[DuplicateReason.NAME_AND_CITY]


def _in_scope(table: Any, scope: ScopeFilter) -> ColumnElement[bool]:
    """Live customers of ``table`` (the table or an alias) that ``scope`` admits."""
    c = table.c
    if scope.kind is Reach.NONE:
        return false()
    parts: list[ColumnElement[bool]] = [
        c.organization_id == scope.organization_id,
        c.deleted_at.is_(None),
        # An erased customer (rules §8) has no identity left to match, or a restricted one
        # that must not be shown.
        c.erased_at.is_(None),
    ]
    if scope.kind is not Reach.ALL:
        assert scope.employee_id is not None
        assignee = c.assigned_employee_id
        if scope.kind is Reach.OWN:
            parts.append(assignee == scope.employee_id)
        else:
            parts.append(
                or_(
                    assignee == scope.employee_id,
                    assignee.in_(team_member_ids(scope.organization_id, scope.employee_id)),
                )
            )
    return and_(*parts)


def _score(value: int) -> Any:
    return literal(value, type_=Integer())


class SqlDuplicateQueries:
    """:class:`~customers_hub.application.ports_operations.DuplicateQueries` over SQLAlchemy
    Core."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def candidates(self, customer: Customer, scope: ScopeFilter, limit: int) -> list[str]:
        """Ids of the live customers in ``scope`` sharing a key with ``customer``, strongest
        first (then by id), at most ``limit``."""
        if scope.organization_id != customer.organization_id:
            return []
        c = t.customers.c
        keys = duplicate_keys(customer)
        phones = sorted(keys.phones)
        lookups: list[tuple[ColumnElement[bool], int]] = [
            (c.phone.in_(phones), _PHONE),
            (c.whatsapp.in_(phones), _PHONE),
        ]
        if keys.national_id is not None:
            lookups.append((c.national_id == keys.national_id, _NATIONAL_ID))
        if keys.email is not None:
            lookups.append((c.email_key == keys.email, _EMAIL))
        if keys.city is not None:
            if keys.name is not None:
                lookups.append((and_(c.name_key == keys.name, c.city_key == keys.city), _NAME))
            if keys.name_en is not None:
                lookups.append(
                    (and_(c.name_en_key == keys.name_en, c.city_key == keys.city), _NAME)
                )
        common = (_in_scope(t.customers, scope), c.id != customer.id)
        branches = [
            select(c.id.label("id"), _score(score).label("score")).where(*common, lookup)
            for lookup, score in lookups
        ]
        found = union_all(*branches).subquery("found")
        best = func.max(found.c.score).label("best")
        stmt = (
            select(found.c.id, best)
            .group_by(found.c.id)
            .order_by(best.desc(), found.c.id)
            .limit(literal_rows(limit))
        )
        async with self._engine.connect() as conn:
            return [row[0] for row in (await conn.execute(stmt)).all()]

    def _pair_branches(self, scope: ScopeFilter) -> list[Select[Any]]:
        a, b = t.customers.alias("a"), t.customers.alias("b")
        both = (_in_scope(a, scope), _in_scope(b, scope))
        lo = case((a.c.id < b.c.id, a.c.id), else_=b.c.id)
        hi = case((a.c.id < b.c.id, b.c.id), else_=a.c.id)

        def ordered(on: ColumnElement[bool], score: int) -> Select[Any]:
            return (
                select(
                    a.c.id.label("first_id"),
                    b.c.id.label("second_id"),
                    _score(score).label("score"),
                )
                .select_from(a.join(b, and_(a.c.organization_id == b.c.organization_id, on)))
                .where(*both, a.c.id < b.c.id)
            )

        return [
            ordered(a.c.national_id == b.c.national_id, _NATIONAL_ID),
            # A phone and another's WhatsApp number: either may have the smaller id.
            select(lo.label("first_id"), hi.label("second_id"), _score(_PHONE).label("score"))
            .select_from(
                a.join(
                    b,
                    and_(a.c.organization_id == b.c.organization_id, a.c.phone == b.c.whatsapp),
                )
            )
            .where(*both, a.c.id != b.c.id),
            ordered(a.c.whatsapp == b.c.whatsapp, _PHONE),
            ordered(a.c.email_key == b.c.email_key, _EMAIL),
            ordered(and_(a.c.name_key == b.c.name_key, a.c.city_key == b.c.city_key), _NAME),
            ordered(and_(a.c.name_en_key == b.c.name_en_key, a.c.city_key == b.c.city_key), _NAME),
        ]

    async def pairs(self, scope: ScopeFilter, page: PageRequest) -> Page[DuplicatePairRef]:
        """Pairs in ``scope`` sharing a key, strongest first then by ids, one page (offset)."""
        check_page(page)
        found = union_all(*self._pair_branches(scope)).subquery("found")
        grouped = (
            select(
                found.c.first_id,
                found.c.second_id,
                func.max(found.c.score).label("score"),
            )
            .group_by(found.c.first_id, found.c.second_id)
            .subquery("pairs")
        )
        offset = (page.page - 1) * page.limit
        stmt = (
            select(
                grouped.c.first_id,
                grouped.c.second_id,
                grouped.c.score,
                func.count().over().label("total"),
            )
            .order_by(grouped.c.score.desc(), grouped.c.first_id, grouped.c.second_id)
            .limit(literal_rows(page.limit))
            .offset(literal_rows(offset))
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
            if rows:
                total = int(rows[0].total)
            elif page.page == 1:
                total = 0
            else:
                counted = select(func.count()).select_from(grouped)
                total = int((await conn.execute(counted)).scalar_one())
        items = [DuplicatePairRef(r.first_id, r.second_id, int(r.score)) for r in rows]
        return counted_page(items, page, total)

"""A kept :class:`~customers_hub.adapters.sql.pagination.Source` builds each page statement once:
the customers list without filters keeps one source per scope, so SQLAlchemy finds the page's
compiled form by the statement's memoized cache key instead of building and hashing it anew."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from customers_hub.adapters.sql import customer_reads, pagination
from customers_hub.adapters.sql import tables as t
from customers_hub.domain.access import Reach, ScopeFilter


def test_a_source_builds_each_page_statement_once() -> None:
    source = pagination.Source(t.customers, t.customers, ())
    built: list[Any] = []

    def build() -> Select[Any]:
        built.append(1)
        return select(t.customers.c.id)

    first = source.page_statement(("createdAt", True, 20, 0), build)
    assert source.page_statement(("createdAt", True, 20, 0), build) is first
    assert len(built) == 1
    other = source.page_statement(("createdAt", True, 20, 20), build)  # another page
    assert other is not first
    assert len(built) == 2


def test_a_source_keeps_a_bounded_number_of_statements() -> None:
    source = pagination.Source(t.customers, t.customers, ())
    for offset in range(pagination.PAGES_KEPT * 3):
        source.page_statement(("name", False, 20, offset), lambda: select(t.customers.c.id))
        assert len(source._pages) <= pagination.PAGES_KEPT


def test_the_list_without_filters_keeps_one_source_per_scope() -> None:
    team = ScopeFilter("org_a", Reach.TEAM, "mgr_1")
    kept = customer_reads._plain_source(team)
    assert customer_reads._plain_source(ScopeFilter("org_a", Reach.TEAM, "mgr_1")) is kept
    assert kept.total is not None  # counted by the counters
    for other in (
        ScopeFilter("org_b", Reach.TEAM, "mgr_1"),
        ScopeFilter("org_a", Reach.TEAM, "mgr_2"),
        ScopeFilter("org_a", Reach.ALL),
    ):
        assert customer_reads._plain_source(other) is not kept

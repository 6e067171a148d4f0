"""``pagination.EstimateMemo``: a count's estimate above the cap is remembered per statement and
parameters, for its ttl, and never shared by two organizations, scopes or filters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from customers_hub.adapters.sql import tables as t
from customers_hub.adapters.sql.filters import like
from customers_hub.adapters.sql.pagination import EstimateMemo, Source
from customers_hub.adapters.sql.read_scope import customer_where
from customers_hub.domain.access import Reach, ScopeFilter


def ones(
    organization_id: str, *, reach: Reach = Reach.ALL, employee: str | None = None
) -> Select[Any]:
    scope = ScopeFilter(organization_id, reach, employee)
    return Source(t.customers, t.customers, customer_where(scope, [])).ones()


def test_the_key_is_the_statement_with_its_parameters() -> None:
    key = EstimateMemo.key
    assert key(ones("org_a"), 10) == key(ones("org_a"), 10)
    different = [
        key(ones("org_b"), 10),
        key(ones("org_a"), 20),
        key(ones("org_a", reach=Reach.OWN, employee="agt_1"), 10),
        key(ones("org_a", reach=Reach.OWN, employee="agt_2"), 10),
        key(ones("org_a", reach=Reach.TEAM, employee="agt_1"), 10),
    ]
    keys = [key(ones("org_a"), 10), *different]
    assert None not in keys
    assert len(set(keys)) == len(keys)


def test_searches_sent_as_literals_do_not_share_an_estimate() -> None:
    """A LIKE pattern rendered into the SQL (``filters.like``) is still a parameter of the key."""
    name = t.customers.c.name_search
    first = select(t.customers.c.id).where(like(name, "%abc%"))
    second = select(t.customers.c.id).where(like(name, "%xyz%"))
    again = select(t.customers.c.id).where(like(name, "%abc%"))
    assert EstimateMemo.key(first, 10) != EstimateMemo.key(second, 10)
    assert EstimateMemo.key(first, 10) == EstimateMemo.key(again, 10)


def test_an_estimate_lives_for_the_ttl_and_the_oldest_goes_first() -> None:
    now = [100.0]
    memo = EstimateMemo(ttl=5.0, size=2, clock=lambda: now[0])
    assert memo.get("a") is None
    memo.put("a", 12_345)
    now[0] = 104.9
    assert memo.get("a") == 12_345
    now[0] = 105.0
    assert memo.get("a") is None  # expired: asked anew
    memo.put("a", 1)
    memo.put("b", 2)
    memo.put("c", 3)  # over the size: the oldest ("a") is forgotten
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (None, 2, 3)

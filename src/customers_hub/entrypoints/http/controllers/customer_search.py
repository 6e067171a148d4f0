"""Searching customers: the advanced query and the free-text search
(``POST /api/v1/customers/query``, ``POST /api/v1/customers/search``).

Both answer from the hub's cache of customer lists (:mod:`~customers_hub.entrypoints.http.
caching`); the decisions of the customer endpoints are in :mod:`.customers`.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, post

from customers_hub.application.context import Dependencies
from customers_hub.application.queries import DEFAULT_LIMIT
from customers_hub.application.use_cases import (
    reads,
)
from customers_hub.domain.model import Actor
from customers_hub.entrypoints.bootstrap import Hub
from customers_hub.entrypoints.http import caching
from customers_hub.entrypoints.http.cached_read import cached_read
from customers_hub.entrypoints.http.caching import (
    CachedBody,
)
from customers_hub.entrypoints.http.controllers.customers import (
    CustomerListData,
    customer_list_body,
)
from customers_hub.entrypoints.http.envelope import Envelope
from customers_hub.entrypoints.http.errors import error_responses
from customers_hub.entrypoints.http.strict import StrictController
from customers_hub.entrypoints.http.wire import (
    UNSET,
    CustomerOut,
    UnsetType,
    Wire,
    WireIn,
    customer_to_wire,
)
from customers_hub.entrypoints.http.wire.commands import to_command

__all__ = ["ROUTES", "CustomerSearchController"]


class SortIn(WireIn, kw_only=True):
    """``sort`` of the advanced query."""

    field: str | None = None
    order: str | None = None


class AdvancedQueryIn(WireIn, kw_only=True):
    """``POST /customers/query``: nested ``filters`` with operators, ``sort``, ``limit``,
    ``cursor`` (null = the first page)."""

    filters: dict[str, Any] | None = None
    sort: SortIn | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


class SearchIn(WireIn, kw_only=True):
    """``POST /customers/search``."""

    query: str = ""
    filters: dict[str, Any] | None = None
    fuzzy: bool = True
    limit: int = DEFAULT_LIMIT


class SearchHitOut(Wire, kw_only=True):
    """One search result."""

    customer: CustomerOut
    score: float
    matched_fields: list[str]


class SearchData(Wire, kw_only=True):
    """``data`` of a search."""

    results: list[SearchHitOut]
    total: int
    # Only when more matched than a search counts exactly (docs/http.md, "Search").
    total_is_estimate: bool | UnsetType = UNSET


class CustomerSearchController(StrictController):
    """``/api/v1/customers/query`` and ``/api/v1/customers/search``."""

    path = "/customers"
    tags = ("Customers",)

    @post(
        "/query",
        operation_id="queryCustomers",
        summary="Advanced customer query",
        status_code=200,
        responses=error_responses(403),
    )
    async def query_customers(
        self, deps: Dependencies, actor: Actor, hub: Hub, data: AdvancedQueryIn
    ) -> Response[Envelope[CustomerListData]]:
        """Nested filters with operators (eq, ne, in, nin, gt, gte, lt, lte, contains,
        startsWith), paged by cursor."""
        sort: dict[str, Any] | None = None
        if data.sort is not None:
            sort = {
                k: v
                for k, v in (("field", data.sort.field), ("order", data.sort.order))
                if v is not None
            }
        plan = reads.plan_query_customers(actor, to_command(data, reads.AdvancedQuery, sort=sort))

        async def load() -> CachedBody:
            return await customer_list_body(
                deps, actor, await reads.run_query_customers(deps, plan)
            )

        return await cached_read(hub.cache, plan, load)

    @post(
        "/search",
        operation_id="searchCustomers",
        summary="Search customers",
        status_code=200,
        responses=error_responses(403),
    )
    async def search_customers(
        self, deps: Dependencies, actor: Actor, hub: Hub, data: SearchIn
    ) -> Response[Envelope[SearchData]]:
        """Free text over name, English name, phone and email (Arabic-normalized, fuzzy)."""
        plan = reads.plan_search_customers(actor, to_command(data, reads.SearchParams))

        async def load() -> CachedBody:
            result = await reads.run_search_customers(deps, plan)
            tz = await deps.zone_of(actor.organization_id)
            hits = [
                SearchHitOut(
                    customer=customer_to_wire(hit.item, tz=tz),
                    score=round(hit.score, 4),
                    matched_fields=list(hit.matched_fields),
                )
                for hit in result.hits
            ]
            return caching.body_of(
                SearchData(
                    results=hits,
                    total=result.total,
                    total_is_estimate=True if result.total_is_estimate else UNSET,
                )
            )

        return await cached_read(hub.cache, plan, load)


ROUTES: list[Any] = [CustomerSearchController]

"""Customer statistics and filter options (``GET /api/v1/customers/stats``,
``GET /api/v1/customers/filters``), counted over the caller's customers.

Both are cached per scope with their own lifetimes and answer ``If-None-Match``; the privacy
request numbers are an admin's only (rules §8).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Response, get
from litestar.params import Parameter

from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases import (
    privacy,
    statistics_reads,
)
from customers_hub.domain.model import Actor
from customers_hub.entrypoints.bootstrap import Hub
from customers_hub.entrypoints.http import caching
from customers_hub.entrypoints.http.cached_read import cached_read
from customers_hub.entrypoints.http.caching import (
    IF_NONE_MATCH,
    NOT_MODIFIED,
    CachedBody,
)
from customers_hub.entrypoints.http.envelope import Envelope
from customers_hub.entrypoints.http.errors import error_responses
from customers_hub.entrypoints.http.strict import StrictController
from customers_hub.entrypoints.http.wire import (
    CustomerStatsOut,
    FilterOptionsOut,
    Wire,
    customer_stats_to_wire,
    filter_options_to_wire,
)
from customers_hub.entrypoints.http.wire.params import DATE_FROM, DATE_TO, parse_window
from customers_hub.entrypoints.http.wire.privacy import (
    request_stats_to_wire,
)

__all__ = ["ROUTES", "CustomerStatisticsController"]


class StatsData(Wire, kw_only=True):
    """``data`` of the customer statistics."""

    stats: CustomerStatsOut


class FiltersData(Wire, kw_only=True):
    """``data`` of the filter options."""

    filters: FilterOptionsOut


class CustomerStatisticsController(StrictController):
    """``/api/v1/customers/filters`` and ``/api/v1/customers/stats``."""

    path = "/customers"
    tags = ("Customers",)

    @get(
        "/filters",
        operation_id="getCustomerFilterOptions",
        summary="Filter options with counts",
        responses={**error_responses(403), **NOT_MODIFIED},
    )
    async def filter_options(
        self, deps: Dependencies, actor: Actor, hub: Hub, if_none_match: IF_NONE_MATCH = None
    ) -> Response[Envelope[FiltersData]]:
        """Stages, sources, cities, property types and employees, counted over the caller's
        customers."""
        plan = statistics_reads.plan_filter_options(actor)

        async def load() -> CachedBody:
            options = await statistics_reads.run_filter_options(deps, plan)
            return caching.body_of(FiltersData(filters=filter_options_to_wire(options)))

        return await cached_read(
            hub.cache,
            plan,
            load,
            ttl="filters:options",
            if_none_match=if_none_match,
        )

    @get(
        "/stats",
        operation_id="getCustomerStats",
        summary="Customer statistics",
        responses={**error_responses(403), **NOT_MODIFIED},
    )
    async def stats(
        self,
        deps: Dependencies,
        actor: Actor,
        hub: Hub,
        if_none_match: IF_NONE_MATCH = None,
        date_from: DATE_FROM = None,
        date_to: DATE_TO = None,
        group_by: Annotated[
            str | None, Parameter(query="groupBy", description="stage, source, employee, city")
        ] = None,
    ) -> Response[Envelope[StatsData]]:
        """Counts, lead scores, money, conversion and engagement over the caller's customers."""
        bounds = parse_window(("dateFrom", date_from), ("dateTo", date_to))
        plan = statistics_reads.plan_customer_stats(
            actor, date_from=bounds["dateFrom"], date_to=bounds["dateTo"], group_by=group_by
        )
        # The organization's day: a read, made only once the plan allowed the caller.
        plan = plan.on_day(await deps.today_of(plan.reader.organization_id))

        async def load() -> CachedBody:
            stats = await statistics_reads.run_customer_stats(deps, plan)
            out = customer_stats_to_wire(stats)
            if plan.with_privacy:  # privacy numbers are admins' (rules §8)
                numbers = await privacy.privacy_request_stats(deps, actor)
                out = msgspec.structs.replace(out, privacy_requests=request_stats_to_wire(numbers))
            return caching.body_of(StatsData(stats=out))

        return await cached_read(
            hub.cache,
            plan,
            load,
            ttl="customer:stats",
            if_none_match=if_none_match,
        )


ROUTES: list[Any] = [CustomerStatisticsController]

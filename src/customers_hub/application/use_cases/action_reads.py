"""Action reads: ``GET /customers/actions``, one page of the actions in the caller's scope.

The parameters (:class:`~.reads.ActionListParams`) are checked like the customer lists' (every
bad parameter in one 400) and become an :class:`ActionListQuery` with the caller's scope; the
query port applies it in SQL."""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Final

from customers_hub.application.context import Dependencies
from customers_hub.application.queries import (
    ActionListQuery,
    Condition,
    Op,
    Page,
    Sort,
)
from customers_hub.application.use_cases.catalog import (
    ACTION_CATALOG,
    parse_sort,
)
from customers_hub.application.use_cases.reads import (
    ActionListParams,
    ParameterChecks,
    require_read,
)
from customers_hub.domain.access import Operation, ScopeFilter
from customers_hub.domain.model import Actor, CustomerAction

__all__ = ["action_list_query", "list_actions"]


_ACTION_DEFAULT_SORT: Final = Sort("createdAt", descending=True)


def action_list_query(
    params: ActionListParams, scope: ScopeFilter, now: datetime, tz: tzinfo
) -> ActionListQuery:
    """The :class:`ActionListQuery` of ``params`` (every bad parameter in one error)."""
    checks = ParameterChecks()
    page = checks.paging(params.page, params.limit, params.cursor)
    search = checks.search("search", params.search)
    conditions: list[Condition] = []
    if params.customer_id is not None and params.customer_id.strip():
        conditions.append(Condition("customerId", Op.EQ, params.customer_id.strip()))
    conditions += [
        *checks.any_of("status", "status", params.status),
        *checks.any_of("type", "type", params.type),
        *checks.any_of("priority", "priority", params.priority),
        *checks.any_of("source", "source", params.source),
        *checks.any_text("assignedTo", "assignedTo", params.assigned_to),
        *checks.any_text("city", "city", params.city),
        *checks.any_text("state", "state", params.state),
        *checks.number_range(
            ("budgetMin", "budgetMax"),
            (params.budget_min, params.budget_max),
            ("budgetMin", "budgetMax"),
            minimum=Decimal(0),
        ),
        *checks.any_of("propertyType", "propertyType", params.property_type),
    ]
    sort = parse_sort(
        ACTION_CATALOG,
        params.sort_by,
        params.sort_order,
        default=_ACTION_DEFAULT_SORT,
        errors=checks.errors,
    )
    checks.raise_if_any()
    return ActionListQuery(
        scope=scope,
        now=now,
        tz=tz,
        conditions=tuple(conditions),
        due_bucket=params.due_date,
        search=search,
        sort=sort,
        page=page,
    )


async def list_actions(
    deps: Dependencies, actor: Actor, params: ActionListParams
) -> Page[CustomerAction]:
    """``GET /customers/actions``: one page of the actions in the caller's scope."""
    scope = require_read(actor, Operation.READ_ACTIONS)
    query = action_list_query(
        params, scope, deps.clock.now(), await deps.zone_of(actor.organization_id)
    )
    return await deps.action_queries.list(query)

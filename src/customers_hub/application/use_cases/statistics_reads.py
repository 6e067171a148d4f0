"""Statistics reads: customer and action statistics and the customers' filter options.

Each checks the caller's role and token first (403, not empty numbers) and hands the caller's
:class:`~customers_hub.domain.access.ScopeFilter` to the query port, which counts in SQL. A
window's ``dateTo`` is inclusive: a bare date runs to the end of that local day (see
:mod:`.reads` for the other decisions the API document leaves open)."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Final

from customers_hub.application.context import Dependencies
from customers_hub.application.queries import (
    ActionStats,
    CustomerStats,
    FilterOptions,
    StatsWindow,
)
from customers_hub.application.use_cases.reads import range_end, range_start, require_read
from customers_hub.domain import access
from customers_hub.domain.access import Operation, RecordScope
from customers_hub.domain.errors import FieldError, ValidationFailed
from customers_hub.domain.model import Actor

__all__ = ["CUSTOMER_STATS_GROUPS", "action_stats", "customer_stats", "filter_options"]


CUSTOMER_STATS_GROUPS: Final = frozenset({"stage", "source", "employee", "city"})
"""Allowed ``groupBy`` values of the customer statistics."""


def _stats_window(
    deps: Dependencies,
    tz: tzinfo,
    date_from: datetime | date | None,
    date_to: datetime | date | None,
) -> StatsWindow:
    start, end = range_start(date_from, tz), range_end(date_to, tz)
    if start is not None and end is not None and start > end:
        raise ValidationFailed.single("dateTo", "must not be before dateFrom")
    return StatsWindow(now=deps.clock.now(), tz=tz, date_from=start, date_to=end)


async def customer_stats(
    deps: Dependencies,
    actor: Actor,
    *,
    date_from: datetime | date | None = None,
    date_to: datetime | date | None = None,
    group_by: str | None = None,
) -> CustomerStats:
    """``GET /customers/stats`` over the customers in the caller's scope."""
    scope = require_read(actor, Operation.READ_CUSTOMER_STATS)
    errors: list[FieldError] = []
    if group_by is not None and group_by not in CUSTOMER_STATS_GROUPS:
        errors.append(
            FieldError("groupBy", f"must be one of {', '.join(sorted(CUSTOMER_STATS_GROUPS))}")
        )
    try:
        window = _stats_window(deps, await deps.zone_of(actor.organization_id), date_from, date_to)
    except ValidationFailed as bad:
        errors.extend(bad.errors)
    if errors:
        raise ValidationFailed(errors)
    return await deps.customer_queries.stats(scope, window, group_by)


async def filter_options(deps: Dependencies, actor: Actor) -> FilterOptions:
    """``GET /customers/filters``: the options with counts over the customers in scope."""
    scope = require_read(actor, Operation.READ_CUSTOMERS)
    return await deps.customer_queries.filter_options(scope)


async def action_stats(
    deps: Dependencies,
    actor: Actor,
    *,
    assigned_to: str | None = None,
    date_from: datetime | date | None = None,
    date_to: datetime | date | None = None,
) -> ActionStats:
    """``GET /customers/actions/stats`` over the actions in scope, optionally one employee's.

    Asking for an employee outside the caller's reach is 403 (an agent may ask only for self).
    """
    scope = require_read(actor, Operation.READ_ACTION_STATS)
    window = _stats_window(deps, await deps.zone_of(actor.organization_id), date_from, date_to)
    employee_id = assigned_to.strip() if assigned_to is not None else None
    if employee_id:
        async with deps.uow(read_only=True) as uow:
            employee = await uow.employees.get(actor.organization_id, employee_id)
        record = RecordScope.of(actor.organization_id, [employee or employee_id])
        access.enforce(
            actor,
            Operation.READ_ACTION_STATS,
            record,
            resource_type="employee",
            resource_id=employee_id,
        )
    return await deps.action_queries.stats(scope, window, employee_id or None)

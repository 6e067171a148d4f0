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
from customers_hub.application.read_plans import (
    ActionStatsPlan,
    CustomerStatsPlan,
    FilterOptionsPlan,
    reader_for,
    zone_decides,
)
from customers_hub.application.use_cases.reads import range_end, range_start
from customers_hub.domain import access
from customers_hub.domain.access import Operation, RecordScope
from customers_hub.domain.errors import FieldError, ValidationFailed
from customers_hub.domain.model import Actor

__all__ = [
    "CUSTOMER_STATS_GROUPS",
    "action_stats",
    "customer_stats",
    "filter_options",
    "plan_action_stats",
    "plan_customer_stats",
    "plan_filter_options",
    "run_action_stats",
    "run_customer_stats",
    "run_filter_options",
]


CUSTOMER_STATS_GROUPS: Final = frozenset({"stage", "source", "employee", "city"})
"""Allowed ``groupBy`` values of the customer statistics."""


def _stats_window(
    deps: Dependencies,
    tz: tzinfo,
    date_from: datetime | date | None,
    date_to: datetime | date | None,
) -> StatsWindow:
    _window_checked(tz, date_from, date_to)
    return StatsWindow(
        now=deps.clock.now(),
        tz=tz,
        date_from=range_start(date_from, tz),
        date_to=range_end(date_to, tz),
    )


def _window_checked(
    tz: tzinfo, date_from: datetime | date | None, date_to: datetime | date | None
) -> None:
    start, end = range_start(date_from, tz), range_end(date_to, tz)
    if start is not None and end is not None and start > end:
        raise ValidationFailed.single("dateTo", "must not be before dateFrom")


def _group_errors(group_by: str | None) -> list[FieldError]:
    if group_by is not None and group_by not in CUSTOMER_STATS_GROUPS:
        return [FieldError("groupBy", f"must be one of {', '.join(sorted(CUSTOMER_STATS_GROUPS))}")]
    return []


def plan_customer_stats(
    actor: Actor,
    *,
    date_from: datetime | date | None = None,
    date_to: datetime | date | None = None,
    group_by: str | None = None,
    today: date | None = None,
) -> CustomerStatsPlan:
    """``GET /customers/stats`` planned: 403, then 400 (``groupBy``; the window's order unless
    the zone decides it: :mod:`~customers_hub.application.read_plans`). ``today`` is the
    organization's day the numbers are of (the cache tells days apart by it)."""
    reader = reader_for(actor, Operation.READ_CUSTOMER_STATS)
    errors = _group_errors(group_by)
    # With both bounds the zone may decide their order: the run step reports all errors then.
    if errors and not zone_decides((date_from, date_to)):
        raise ValidationFailed(errors)
    return CustomerStatsPlan(reader, date_from, date_to, group_by, today)


async def run_customer_stats(deps: Dependencies, plan: CustomerStatsPlan) -> CustomerStats:
    """The numbers of a planned customer statistics."""
    errors = _group_errors(plan.group_by)
    try:
        tz = await deps.zone_of(plan.reader.organization_id)
        window = _stats_window(deps, tz, plan.date_from, plan.date_to)
    except ValidationFailed as bad:
        errors.extend(bad.errors)
    if errors:
        raise ValidationFailed(errors)
    return await deps.customer_queries.stats(plan.reader.scope, window, plan.group_by)


async def customer_stats(
    deps: Dependencies,
    actor: Actor,
    *,
    date_from: datetime | date | None = None,
    date_to: datetime | date | None = None,
    group_by: str | None = None,
) -> CustomerStats:
    """``GET /customers/stats`` over the customers in the caller's scope."""
    plan = plan_customer_stats(actor, date_from=date_from, date_to=date_to, group_by=group_by)
    return await run_customer_stats(deps, plan)


def plan_filter_options(actor: Actor) -> FilterOptionsPlan:
    """``GET /customers/filters`` planned: 403 unless the caller may read customers."""
    return FilterOptionsPlan(reader_for(actor, Operation.READ_CUSTOMERS))


async def run_filter_options(deps: Dependencies, plan: FilterOptionsPlan) -> FilterOptions:
    """The options of a planned read, counted over the reader's customers."""
    return await deps.customer_queries.filter_options(plan.reader.scope)


async def filter_options(deps: Dependencies, actor: Actor) -> FilterOptions:
    """``GET /customers/filters``: the options with counts over the customers in scope."""
    return await run_filter_options(deps, plan_filter_options(actor))


def plan_action_stats(
    actor: Actor,
    *,
    assigned_to: str | None = None,
    date_from: datetime | date | None = None,
    date_to: datetime | date | None = None,
    today: date | None = None,
) -> ActionStatsPlan:
    """``GET /customers/actions/stats`` planned: 403 unless the caller may read action
    statistics (whether ``assigned_to`` is in reach needs a read: the run step's)."""
    reader = reader_for(actor, Operation.READ_ACTION_STATS)
    employee_id = assigned_to.strip() if assigned_to is not None else None
    return ActionStatsPlan(reader, employee_id, date_from, date_to, today)


async def run_action_stats(deps: Dependencies, plan: ActionStatsPlan) -> ActionStats:
    """The numbers of planned action statistics; 403 when the employee asked for is outside
    the caller's reach."""
    org = plan.reader.organization_id
    window = _stats_window(deps, await deps.zone_of(org), plan.date_from, plan.date_to)
    employee_id = plan.assigned_to
    if employee_id:
        async with deps.uow(read_only=True) as uow:
            employee = await uow.employees.get(org, employee_id)
        record = RecordScope.of(org, [employee or employee_id])
        access.enforce(
            plan.reader.actor,
            Operation.READ_ACTION_STATS,
            record,
            resource_type="employee",
            resource_id=employee_id,
        )
    return await deps.action_queries.stats(plan.reader.scope, window, employee_id or None)


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
    plan = plan_action_stats(actor, assigned_to=assigned_to, date_from=date_from, date_to=date_to)
    return await run_action_stats(deps, plan)

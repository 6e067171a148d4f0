"""Action reads: the actions list (the inbox), its effective statuses.

============================  ===========================================================
request                       statements
============================  ===========================================================
actions list                  page · count (as for customers); notes are not loaded
============================  ===========================================================

**Effective status**: an action returned by the list whose snooze has passed comes back as
``pending`` with ``snoozed_until=None`` (what :func:`customers_hub.domain.inbox.wake_if_due`
will write); its ``version`` and ``updated_at`` are the stored ones. Action statistics are
:func:`~customers_hub.adapters.sql.action_statistics.action_stats`.
"""

from __future__ import annotations

from datetime import datetime

import attrs
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.sql import action_statistics
from customers_hub.adapters.sql import tables as t
from customers_hub.adapters.sql.filters import (
    ACTION_SORTS,
    action_conditions,
    action_scope,
    action_search,
    due_bucket_condition,
    sort_spec,
)
from customers_hub.adapters.sql.mappers import action_from_row
from customers_hub.adapters.sql.pagination import Source, check_page, fetch
from customers_hub.adapters.sql.read_scope import actions_from, live
from customers_hub.application.queries import ActionListQuery, ActionStats, Page, StatsWindow
from customers_hub.domain.access import ScopeFilter
from customers_hub.domain.enums import ActionStatus
from customers_hub.domain.inbox import effective_status
from customers_hub.domain.model import CustomerAction

__all__ = ["SqlActionQueries"]


def _awake(action: CustomerAction, now: datetime) -> CustomerAction:
    """The action as reported at ``now``: a passed snooze reads as pending, without a date."""
    if action.status is ActionStatus.SNOOZED and effective_status(action, now) is not action.status:
        return attrs.evolve(action, status=ActionStatus.PENDING, snoozed_until=None)
    return action


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
        check_page(query.page)
        source = Source(
            t.customer_actions,
            actions_from(),
            (action_scope(query.scope), live(), *conditions),
        )
        async with self._engine.connect() as conn:
            fetched = await fetch(conn, source, spec, query.sort, query.page)
        return fetched.with_items(
            [_awake(action_from_row(row), query.now) for row in fetched.items]
        )

    async def stats(
        self, scope: ScopeFilter, window: StatsWindow, assigned_to: str | None
    ) -> ActionStats:
        """Action aggregates in scope (:func:`action_statistics.action_stats`)."""
        return await action_statistics.action_stats(self._engine, scope, window, assigned_to)

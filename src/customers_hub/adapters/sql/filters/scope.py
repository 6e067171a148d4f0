"""The caller's scope as SQL: whose customers and actions a read may see."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    false,
    or_,
    select,
)

from customers_hub.adapters.sql import tables as t
from customers_hub.domain.access import Reach, ScopeFilter

# --- scope -------------------------------------------------------------------------------------


def team_member_ids(organization_id: str, manager_id: str) -> Any:
    """``SELECT id FROM employees`` of the manager's direct reports (a subquery)."""
    e = t.employees.c
    return select(e.id).where(e.organization_id == organization_id, e.manager_id == manager_id)


def within_reach(scope: ScopeFilter, assignee: ColumnElement[Any]) -> ColumnElement[bool]:
    """``assignee`` is within a TEAM or OWN scope's reach: the employee (OWN), or the manager
    and their direct reports (TEAM)."""
    assert scope.employee_id is not None
    if scope.kind is Reach.OWN:
        return assignee == scope.employee_id
    return or_(
        assignee == scope.employee_id,
        assignee.in_(team_member_ids(scope.organization_id, scope.employee_id)),
    )


def _admitted(
    scope: ScopeFilter, organization_id: ColumnElement[Any], *assignees: ColumnElement[Any]
) -> ColumnElement[bool]:
    """The rows of the scope's organization (NONE: no row; ALL: every row), and for TEAM/OWN
    those with one of ``assignees`` within reach."""
    if scope.kind is Reach.NONE:
        return false()
    org = organization_id == scope.organization_id
    if scope.kind is Reach.ALL:
        return org
    reached = [within_reach(scope, assignee) for assignee in assignees]
    return and_(org, or_(*reached) if len(reached) > 1 else reached[0])


def customer_scope(scope: ScopeFilter) -> ColumnElement[bool]:
    """The customers ``scope`` admits: the organization, then ALL / TEAM / OWN / NONE."""
    c = t.customers.c
    return _admitted(scope, c.organization_id, c.assigned_employee_id)


def action_scope(scope: ScopeFilter) -> ColumnElement[bool]:
    """The actions ``scope`` admits (the query joins ``customers`` on the action's customer).

    TEAM/OWN: the action's assignee *or* its customer's assignee is within reach.
    """
    a = t.customer_actions.c
    return _admitted(scope, a.organization_id, a.assigned_to, t.customers.c.assigned_employee_id)

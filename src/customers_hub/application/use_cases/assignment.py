"""Assignment rules (rules §10): managing them, and applying them to new customers.

Managing (``/api/v1/assignment-rules``): admins manage every rule of their organization; a sales
manager the rules whose employees are all in the team (the manager or a direct report: creating
or changing a rule to name someone else is 403, as is reading such a rule; the list shows only
the team's); agents and viewers get 403 before anything is read. Another organization's rule is
404. Checks in order: role (403), input (400, every failing field), the rule (404), its scope
(403), ``If-Match`` (412), the employees (422 ``VALIDATION_ERROR`` on ``employeeIds`` when one is
not an employee of the organization; 403 when one is out of the manager's team), the number of
rules (422 past :data:`~customers_hub.domain.assignment.RULES_PER_ORGANIZATION_MAX`). Every
change is audited (``assignmentRule.created|updated|deleted``) and moves ``version``; the
round-robin pointer is bookkeeping and moves nothing. A change or deletion takes one command
naming the rule and the ``If-Match`` version (:class:`RuleCommand`).

Applying (every new customer created without an assignee — the API and the embedding through
:func:`~customers_hub.application.use_cases.customers.create_customer`, imports in batches):

1. :func:`plan_assignments` before the customers are inserted: reads the active rules (one
   indexed read; nothing else happens when none is active or none fits), locks the fitting
   rules, reads their employees' states and, for ``load_balanced``, their loads, decides
   (:func:`customers_hub.domain.assignment.plan`) and moves the pointers — all in the caller's
   transaction, so a failed create moves nothing.
2. :func:`record_assignments` after the insert: names the rule in each customer's audit entry
   (``assignmentRuleId``, the actor being the creating user), inserts the admins' ``follow_up``
   action for each customer the fitting rule could give to nobody, and returns the events
   (``customer.assigned`` per assigned customer, ``action.created`` per follow-up).

:func:`assign_new_customers` is step 1 alone for a batch, returning the customers with
``assigned_employee_id`` set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import attrs
from attrs import evolve, field, frozen

from customers_hub.application.context import Dependencies
from customers_hub.application.errors import ConcurrentUpdate, PreconditionFailed
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.ports_assignment import AssignmentRuleRepository
from customers_hub.application.queries import Page
from customers_hub.application.write_context import transaction_as
from customers_hub.domain.access import UNKNOWN_ASSIGNEE_REASON
from customers_hub.domain.assignment import (
    ROLE_ONLY,
    RULES_PER_ORGANIZATION_MAX,
    AssignmentRule,
    Decision,
    RuleDraft,
    RuleMatch,
    Strategy,
    clean_draft,
    first_fitting,
    in_team,
    manage_refusal,
    plan,
    unassigned_follow_up,
)
from customers_hub.domain.enums import Role
from customers_hub.domain.errors import (
    AssignmentRejected,
    BusinessRuleViolation,
    NotFound,
    PermissionDenied,
)
from customers_hub.domain.events import CustomerAssigned, DomainEvent
from customers_hub.domain.model import Actor, Customer, Employee
from customers_hub.domain.unset import UNSET, Unset

__all__ = [
    "RULES_DEFAULT_LIMIT",
    "AssignmentPlan",
    "DeleteAssignmentRule",
    "RuleCommand",
    "RulePatch",
    "UpdateAssignmentRule",
    "assign_new_customers",
    "create_assignment_rule",
    "delete_assignment_rule",
    "get_assignment_rule",
    "list_assignment_rules",
    "plan_assignments",
    "record_assignments",
    "update_assignment_rule",
]

RULES_DEFAULT_LIMIT = 20
_RESOURCE = "assignment_rule"


# ---------------------------------------------------------------------------------------------
# Applying the rules


@frozen
class AssignmentPlan:
    """What :func:`plan_assignments` decided: the customers (assigned where a rule chose
    someone), the decisions, and the rules and employees they name."""

    customers: tuple[Customer, ...] = ()
    decisions: tuple[Decision, ...] = ()
    rules: Mapping[str, AssignmentRule] = field(factory=dict)
    employees: Mapping[str, Employee] = field(factory=dict)

    def routed(
        self, customer: Customer, assignee: Employee | None
    ) -> tuple[Customer, Employee | None]:
        """``customer`` as planned (with its rule-chosen assignee), or as given when no rule
        decided for it."""
        for planned in self.customers:
            if planned.id == customer.id and planned.assigned_employee_id is not None:
                return planned, self.employees.get(planned.assigned_employee_id)
        return customer, assignee


_NO_PLAN = AssignmentPlan()


def _rules(deps: Dependencies, uow: UnitOfWork) -> AssignmentRuleRepository:
    if deps.assignment_rules is None:
        raise RuntimeError("no assignment rules adapter is configured")
    return deps.assignment_rules(uow)


async def plan_assignments(
    deps: Dependencies, uow: UnitOfWork, organization_id: str, customers: Sequence[Customer]
) -> AssignmentPlan:
    """Decide who takes each of ``customers`` (new, unassigned, not yet inserted) and move the
    rules' pointers, in ``uow``'s transaction (see the module docs)."""
    if not customers or deps.assignment_rules is None:
        return _NO_PLAN
    repo = deps.assignment_rules(uow)
    heads = await repo.heads(organization_id)
    fitting = {h.id: h for c in customers if (h := first_fitting(heads, c)) is not None}
    if not fitting:
        return AssignmentPlan(customers=tuple(customers))
    rules = await repo.lock(organization_id, sorted(fitting))
    if {r.id: r.version for r in rules if r.active} != {h.id: h.version for h in fitting.values()}:
        # A rule changed between the read and the lock: decide again on fresh rows.
        raise ConcurrentUpdate(_RESOURCE, ",".join(sorted(fitting)))
    employee_ids = sorted({e for r in rules for e in r.employee_ids})
    employees = await uow.employees.get_many(organization_id, employee_ids)
    active = frozenset(e.id for e in employees.values() if e.is_active)
    balanced = sorted(
        {e for r in rules if r.strategy is Strategy.LOAD_BALANCED for e in r.employee_ids} & active
    )
    loads = await repo.loads(organization_id, balanced)
    decisions, pointers = plan(rules, customers, active, loads)
    await repo.advance(organization_id, pointers)
    chosen = {d.customer_id: d.employee_id for d in decisions if d.employee_id is not None}
    planned = tuple(
        evolve(c, assigned_employee_id=chosen[c.id]) if c.id in chosen else c for c in customers
    )
    return AssignmentPlan(
        customers=planned,
        decisions=tuple(decisions),
        rules={r.id: r for r in rules},
        employees=employees,
    )


async def record_assignments(
    deps: Dependencies, uow: UnitOfWork, plan: AssignmentPlan, *, now: datetime
) -> list[DomainEvent]:
    """After the planned customers were inserted: the audit context, the admins' follow-up
    actions of customers nobody could take, and the events (see the module docs)."""
    if not plan.decisions:
        return []
    organization_id = plan.customers[0].organization_id
    await _rules(deps, uow).note_decisions(
        organization_id, {d.customer_id: d.rule_id for d in plan.decisions}
    )
    by_id = {c.id: c for c in plan.customers}
    events: list[DomainEvent] = []
    follow_ups = []
    for decision in plan.decisions:
        customer = by_id[decision.customer_id]
        if decision.employee_id is not None:
            events.append(
                CustomerAssigned(
                    organization_id=organization_id,
                    occurred_at=now,
                    employee_ids=(decision.employee_id,),
                    customer_id=customer.id,
                    previous_employee=None,
                    new_employee=decision.employee_id,
                )
            )
            continue
        action, created = unassigned_follow_up(
            customer,
            plan.rules[decision.rule_id],
            action_id=deps.ids.new_id("action"),
            now=now,
        )
        follow_ups.append(action)
        events.append(created)
    if follow_ups:
        await uow.actions.add_many(follow_ups)
    return events


async def assign_new_customers(
    deps: Dependencies, uow: UnitOfWork, organization_id: str, customers: Sequence[Customer]
) -> list[Customer]:
    """The batch entry point for imports: ``customers`` (new, unassigned, not yet inserted)
    with ``assigned_employee_id`` set where a rule chose someone, the pointers moved in
    ``uow``'s transaction. For the audit's rule id, the admins' follow-up actions and the
    ``customer.assigned`` events use :func:`plan_assignments` and, after the insert,
    :func:`record_assignments` instead (as ``create_customer`` does)."""
    planned = await plan_assignments(deps, uow, organization_id, customers)
    return list(planned.customers) if planned.customers else list(customers)


# ---------------------------------------------------------------------------------------------
# Managing the rules


@frozen(kw_only=True)
class RulePatch:
    """``PATCH /assignment-rules/{id}``: ``UNSET`` keeps a value; ``match`` is replaced whole."""

    name: str | Unset = UNSET
    strategy: Strategy | Unset = UNSET
    employee_ids: tuple[str, ...] | Unset = UNSET
    match: RuleMatch | Unset = UNSET
    priority: int | Unset = UNSET
    active: bool | Unset = UNSET

    def given(self) -> dict[str, object]:
        """The sent fields by attribute name."""
        return {
            name: value
            for name in ("name", "strategy", "employee_ids", "match", "priority", "active")
            if (value := getattr(self, name)) is not UNSET
        }


@frozen(kw_only=True)
class RuleCommand:
    """A write on one existing rule: the rule's id and the ``If-Match`` version (``None``: any;
    another one is 412). Declared here only."""

    rule_id: str
    expected_version: int | None = None


@frozen(kw_only=True)
class UpdateAssignmentRule(RuleCommand):
    """``PATCH /assignment-rules/{id}``: the sent fields."""

    patch: RulePatch


@frozen(kw_only=True)
class DeleteAssignmentRule(RuleCommand):
    """``DELETE /assignment-rules/{id}``."""


def _check_role(actor: Actor) -> None:
    refusal = manage_refusal(actor)
    if refusal is not None:
        raise refusal


def _out_of_team(actor: Actor, what: str) -> PermissionDenied:
    return PermissionDenied(
        f"the assignment rule {what} employees outside your team",
        required_permission=ROLE_ONLY,
        current_role=actor.role.value,
    )


async def _existing(
    repo: AssignmentRuleRepository,
    uow: UnitOfWork,
    actor: Actor,
    rule_id: str,
    *,
    for_update: bool = False,
) -> AssignmentRule:
    """The rule (404 when absent or of another organization), in the actor's reach (403)."""
    rule = await repo.get(actor.organization_id, rule_id, for_update=for_update)
    if rule is None:
        raise NotFound(_RESOURCE, rule_id)
    if actor.role is not Role.ADMIN:
        employees = await uow.employees.get_many(actor.organization_id, rule.employee_ids)
        if not in_team(actor, rule.employee_ids, employees):
            raise _out_of_team(actor, "assigns to")
    return rule


async def _check_employees(uow: UnitOfWork, actor: Actor, employee_ids: Sequence[str]) -> None:
    """Each id is an employee of the organization (422 on ``employeeIds``) in reach (403)."""
    employees = await uow.employees.get_many(actor.organization_id, employee_ids)
    unknown = [e for e in employee_ids if e not in employees]
    if unknown:
        raise AssignmentRejected(
            f"{UNKNOWN_ASSIGNEE_REASON}: {', '.join(unknown)}",
            {"field": "employeeIds", "employeeIds": unknown},
        )
    if not in_team(actor, employee_ids, employees):
        raise _out_of_team(actor, "would assign to")


def _check_version(rule: AssignmentRule, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != rule.version:
        raise PreconditionFailed(
            _RESOURCE, rule.id, expected_version=expected_version, current_version=rule.version
        )


async def create_assignment_rule(
    deps: Dependencies, actor: Actor, draft: RuleDraft
) -> AssignmentRule:
    """A new rule of the actor's organization (admin; a manager for the team's employees)."""
    _check_role(actor)
    cleaned = clean_draft(draft)  # bad input never opens a write transaction

    async def work(uow: UnitOfWork) -> tuple[AssignmentRule, list[DomainEvent]]:
        repo = _rules(deps, uow)
        await _check_employees(uow, actor, cleaned.employee_ids)
        if await repo.count(actor.organization_id) >= RULES_PER_ORGANIZATION_MAX:
            raise BusinessRuleViolation(
                f"an organization has at most {RULES_PER_ORGANIZATION_MAX} assignment rules",
                {"limit": RULES_PER_ORGANIZATION_MAX},
            )
        now = deps.clock.now()
        rule = AssignmentRule(
            id=deps.ids.new_id("rule"),
            organization_id=actor.organization_id,
            created_at=now,
            updated_at=now,
            created_by=actor.user_id,
            **attrs.asdict(cleaned, recurse=False),
        )
        await repo.add(rule)
        return rule, []

    return await transaction_as(deps, actor, work)


async def list_assignment_rules(
    deps: Dependencies, actor: Actor, *, page: int = 1, limit: int = RULES_DEFAULT_LIMIT
) -> Page[AssignmentRule]:
    """The organization's rules in checking order (a manager: the team's)."""
    _check_role(actor)
    team_of = None if actor.role is Role.ADMIN else actor.user_id
    async with deps.uow(read_only=True) as uow:
        return await _rules(deps, uow).list(
            actor.organization_id, page=page, limit=limit, team_of=team_of
        )


async def get_assignment_rule(deps: Dependencies, actor: Actor, rule_id: str) -> AssignmentRule:
    """One rule (404 when absent or another organization's; 403 out of the manager's team)."""
    _check_role(actor)
    async with deps.uow(read_only=True) as uow:
        return await _existing(_rules(deps, uow), uow, actor, rule_id)


async def update_assignment_rule(
    deps: Dependencies, actor: Actor, command: UpdateAssignmentRule
) -> AssignmentRule:
    """Change the sent fields (``expected_version``: ``If-Match``); a patch that changes
    nothing writes nothing."""
    _check_role(actor)
    given = command.patch.given()

    def draft_of(rule: AssignmentRule) -> RuleDraft:
        # The draft's attributes are the rule's, by name; the sent ones replace them.
        current = {f.name: getattr(rule, f.name) for f in attrs.fields(RuleDraft)}
        return RuleDraft(**{**current, **given})

    async def work(uow: UnitOfWork) -> tuple[AssignmentRule, list[DomainEvent]]:
        repo = _rules(deps, uow)
        current = await _existing(repo, uow, actor, command.rule_id, for_update=True)
        _check_version(current, command.expected_version)
        cleaned = clean_draft(draft_of(current))
        if "employee_ids" in given:
            await _check_employees(uow, actor, cleaned.employee_ids)
        changed = evolve(current, **attrs.asdict(cleaned, recurse=False))
        if changed == current:
            return current, []
        changed = evolve(changed, version=current.version + 1, updated_at=deps.clock.now())
        await repo.save(changed, expected_version=current.version)
        return changed, []

    return await transaction_as(deps, actor, work)


async def delete_assignment_rule(
    deps: Dependencies, actor: Actor, command: DeleteAssignmentRule
) -> None:
    """Delete the rule (404 when there is none; ``expected_version``: ``If-Match``)."""
    _check_role(actor)

    async def work(uow: UnitOfWork) -> tuple[None, list[DomainEvent]]:
        repo = _rules(deps, uow)
        rule = await _existing(repo, uow, actor, command.rule_id, for_update=True)
        _check_version(rule, command.expected_version)
        await repo.delete(rule)
        return None, []

    await transaction_as(deps, actor, work)

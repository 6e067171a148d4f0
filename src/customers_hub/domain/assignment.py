"""Assignment rules (rules §10): which new customers a rule takes, and to whom it gives them.

Pure: the application loads the rules, the employees and their loads and passes them in.

* **Matching** (:func:`fits`, :func:`first_fitting`): rules are checked in :func:`rule_order`
  (``priority`` ascending, ties by creation); the first *active* rule whose ``match`` fits
  decides. A match has three criteria, each a list: ``sources``, ``cities``,
  ``propertyTypes``. An empty (absent) criterion fits everything; a given one fits when the
  customer's source is listed, its city is listed (compared in the §6 search form, so
  ``الرياض``/``الریاض`` or ``Riyadh``/``riyadh`` are one city), and one of its preferred property
  types is listed. A customer without a city (or without property types) does not fit a rule
  that names cities (property types).
* **Strategies** (:func:`pick`): ``round_robin`` takes the next *active* employee of the rule
  after the last one it chose (from the start of the list when it never chose or its last
  choice left the list); ``load_balanced`` takes the active employee with the fewest live
  customers in :data:`LOAD_STAGES` (``new_lead`` … ``negotiation``), ties in round-robin order.
* **Nobody left** (:func:`unassigned_follow_up`): a fitting rule without an active employee
  leaves the customer unassigned — the next rules are not tried: the first fitting rule
  decides — and the admins' inbox gets a ``follow_up`` action "assign customer …".
* **Batches** (:func:`plan`): a batch is decided in order, each choice moving the rule's pointer
  and the chosen employee's load, so a batch spreads exactly like the same creates one by one.
* **Who manages rules** (:func:`manage_refusal`, :func:`in_team`): admins every rule; a sales
  manager the rules whose employees are all in the team (the manager, or an employee whose
  ``managerId`` is the manager); others none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

import attrs
from attrs import frozen

from customers_hub.domain import access
from customers_hub.domain.enums import (
    ActionType,
    CustomerSource,
    PropertyType,
    Role,
    Stage,
)
from customers_hub.domain.errors import FieldError, PermissionDenied, ValidationFailed
from customers_hub.domain.events import ActionCreated
from customers_hub.domain.model import Actor, Customer, CustomerAction, Employee
from customers_hub.domain.search_text import normalize_search_text
from customers_hub.domain.system_actions import new_system_action
from customers_hub.domain.validation.texts import (
    CITY_MAX_LENGTH,
    ID_MAX_LENGTH,
    NAME_MAX_LENGTH,
    clean_text,
    clean_texts,
)

__all__ = [
    "ASSIGNMENT_DUE_AFTER",
    "DEFAULT_PRIORITY",
    "EMPLOYEES_MAX",
    "EMPLOYEES_MIN",
    "LOAD_STAGES",
    "MATCH_VALUES_MAX",
    "PRIORITY_MAX",
    "PRIORITY_MIN",
    "RULES_PER_ORGANIZATION_MAX",
    "AssignmentRule",
    "Decision",
    "RuleDraft",
    "RuleHead",
    "RuleMatch",
    "Strategy",
    "clean_draft",
    "first_fitting",
    "fits",
    "in_team",
    "manage_refusal",
    "pick",
    "plan",
    "round_robin_order",
    "rule_order",
    "unassigned_follow_up",
]

EMPLOYEES_MIN: Final = 1
EMPLOYEES_MAX: Final = 50
"""A rule spreads over 1 to 50 employees."""
MATCH_VALUES_MAX: Final = 50
"""At most this many values in each criterion of a match."""
PRIORITY_MIN: Final = 0
PRIORITY_MAX: Final = 1_000_000
DEFAULT_PRIORITY: Final = 100
RULES_PER_ORGANIZATION_MAX: Final = 100
"""An organization holds at most this many rules: every create reads its active ones."""
ASSIGNMENT_DUE_AFTER: Final = timedelta(hours=1)
"""The admins' "assign this customer" action is due this long after the customer came in."""

LOAD_STAGES: Final[tuple[Stage, ...]] = tuple(s for s in Stage if s.rank <= Stage.NEGOTIATION.rank)
"""The stages whose live customers count as an employee's load (``new_lead`` … ``negotiation``)."""


class Strategy(StrEnum):
    """How a rule chooses among its employees."""

    ROUND_ROBIN = "round_robin"
    LOAD_BALANCED = "load_balanced"


@frozen(kw_only=True)
class RuleMatch:
    """Which customers a rule takes; an empty criterion fits everything."""

    sources: tuple[CustomerSource, ...] = ()
    cities: tuple[str, ...] = ()
    property_types: tuple[PropertyType, ...] = ()


@frozen(kw_only=True)
class AssignmentRule:
    """A rule of one organization. ``last_employee_id`` is the round-robin pointer: the
    employee the rule chose last (bookkeeping, moved by every assignment, never by ``version``)."""

    id: str
    organization_id: str
    name: str
    strategy: Strategy
    employee_ids: tuple[str, ...]
    match: RuleMatch = RuleMatch()
    priority: int = DEFAULT_PRIORITY
    active: bool = True
    last_employee_id: str | None = None
    version: int = 1
    created_at: datetime
    updated_at: datetime
    created_by: str

    @property
    def head(self) -> RuleHead:
        """What matching needs of this rule."""
        return RuleHead(
            id=self.id,
            priority=self.priority,
            created_at=self.created_at,
            version=self.version,
            match=self.match,
        )


@frozen(kw_only=True)
class RuleHead:
    """An active rule as matching sees it (read for every new customer: no employees)."""

    id: str
    priority: int
    created_at: datetime
    version: int
    match: RuleMatch


@frozen(kw_only=True)
class RuleDraft:
    """The settable fields of a rule (create; a patch is applied onto the current ones)."""

    name: str
    strategy: Strategy
    employee_ids: tuple[str, ...]
    match: RuleMatch = RuleMatch()
    priority: int = DEFAULT_PRIORITY
    active: bool = True


@frozen
class Decision:
    """What the rules decided for one new customer: ``employee_id`` None means the fitting rule
    had no active employee left."""

    customer_id: str
    rule_id: str
    employee_id: str | None


# ---------------------------------------------------------------------------------------------
# Input


def _list_errors(field: str, values: Sequence[object], low: int, high: int) -> list[FieldError]:
    if not low <= len(values) <= high:
        return [FieldError(field, f"must list between {low} and {high} values")]
    return []


def _texts(
    field: str, values: Sequence[str], max_length: int, errors: list[FieldError]
) -> tuple[str, ...]:
    cleaned = clean_texts(field, values, max_length=max_length, errors=errors)
    return tuple(dict.fromkeys(cleaned))  # each value once, in the order given


def clean_draft(draft: RuleDraft) -> RuleDraft:
    """``draft`` with its texts cleaned and its lists without repeats, or
    :class:`ValidationFailed` naming every failing field (camelCase paths)."""
    errors: list[FieldError] = []
    name = ""
    try:
        name = clean_text("name", draft.name, max_length=NAME_MAX_LENGTH)
    except ValidationFailed as failed:
        errors.extend(failed.errors)
    else:
        if not name:
            errors.append(FieldError("name", "must not be blank"))
    employee_ids = _texts("employeeIds", draft.employee_ids, ID_MAX_LENGTH, errors)
    errors += _list_errors("employeeIds", draft.employee_ids, EMPLOYEES_MIN, EMPLOYEES_MAX)
    cities = _texts("match.cities", draft.match.cities, CITY_MAX_LENGTH, errors)
    for field, values in (
        ("match.sources", draft.match.sources),
        ("match.cities", draft.match.cities),
        ("match.propertyTypes", draft.match.property_types),
    ):
        errors += _list_errors(field, values, 0, MATCH_VALUES_MAX)
    if not PRIORITY_MIN <= draft.priority <= PRIORITY_MAX:
        errors.append(FieldError("priority", f"must be between {PRIORITY_MIN} and {PRIORITY_MAX}"))
    if errors:
        raise ValidationFailed(errors)
    match = RuleMatch(
        sources=tuple(dict.fromkeys(draft.match.sources)),
        cities=cities,
        property_types=tuple(dict.fromkeys(draft.match.property_types)),
    )
    return attrs.evolve(draft, name=name, employee_ids=employee_ids, match=match)


# ---------------------------------------------------------------------------------------------
# Matching


def rule_order(rule: RuleHead | AssignmentRule) -> tuple[int, datetime, str]:
    """Checking order: lower ``priority`` first, then the older rule (ids are time-ordered)."""
    return rule.priority, rule.created_at, rule.id


def _city_key(city: str) -> str:
    return normalize_search_text(city)


def fits(match: RuleMatch, customer: Customer) -> bool:
    """True when every given criterion of ``match`` fits ``customer`` (see the module docs)."""
    if match.sources and customer.source not in match.sources:
        return False
    cities = {_city_key(c) for c in match.cities}
    if cities and (not customer.city or _city_key(customer.city) not in cities):
        return False
    if match.property_types:
        wanted = set(match.property_types)
        if not any(t in wanted for t in customer.preferences.property_type):
            return False
    return True


def first_fitting(rules: Iterable[RuleHead], customer: Customer) -> RuleHead | None:
    """The rule that decides for ``customer``: the first of :func:`rule_order` that fits
    (``rules`` are the active ones)."""
    return next((r for r in sorted(rules, key=rule_order) if fits(r.match, customer)), None)


# ---------------------------------------------------------------------------------------------
# Strategies


def round_robin_order(employee_ids: Sequence[str], last: str | None) -> tuple[str, ...]:
    """The rule's employees starting after ``last`` (from the start when ``last`` is None or
    no longer one of them)."""
    if last is None or last not in employee_ids:
        return tuple(employee_ids)
    start = list(employee_ids).index(last) + 1
    return (*employee_ids[start:], *employee_ids[:start])


def pick(rule: AssignmentRule, active: frozenset[str], loads: Mapping[str, int]) -> str | None:
    """The employee ``rule`` gives its next customer to, among the ``active`` ones (None when
    none is active). ``loads`` counts each employee's live customers in :data:`LOAD_STAGES`
    (read only by ``load_balanced``)."""
    candidates = [
        e for e in round_robin_order(rule.employee_ids, rule.last_employee_id) if e in active
    ]
    if not candidates:
        return None
    if rule.strategy is Strategy.LOAD_BALANCED:
        # min() keeps the first of equal loads: ties go in round-robin order.
        return min(candidates, key=lambda e: loads.get(e, 0))
    return candidates[0]


def plan(
    rules: Sequence[AssignmentRule],
    customers: Sequence[Customer],
    active: frozenset[str],
    loads: Mapping[str, int],
) -> tuple[list[Decision], dict[str, str]]:
    """Decide for ``customers`` in order with the active ``rules``: the decisions (customers no
    rule fits have none) and each used rule's new pointer (rule id → employee chosen last)."""
    current = {r.id: r for r in rules if r.active}
    heads = [r.head for r in current.values()]
    counts = dict(loads)
    decisions: list[Decision] = []
    pointers: dict[str, str] = {}
    for customer in customers:
        head = first_fitting(heads, customer)
        if head is None:
            continue
        rule = current[head.id]
        chosen = pick(rule, active, counts)
        decisions.append(Decision(customer.id, rule.id, chosen))
        if chosen is not None:
            current[rule.id] = attrs.evolve(rule, last_employee_id=chosen)
            pointers[rule.id] = chosen
            counts[chosen] = counts.get(chosen, 0) + 1
    return decisions, pointers


# ---------------------------------------------------------------------------------------------
# Nobody left


def unassigned_follow_up(
    customer: Customer, rule: AssignmentRule, *, action_id: str, now: datetime
) -> tuple[CustomerAction, ActionCreated]:
    """The admins' ``follow_up`` action for a customer that ``rule`` could give to nobody (no
    assignee: the admins' inbox), with its ``action.created`` event."""
    return new_system_action(
        customer,
        action_id=action_id,
        action_type=ActionType.FOLLOW_UP,
        title=f"تعيين العميل {customer.name} لموظف",
        description=(
            f"لا يوجد موظف نشط في قاعدة التوزيع «{rule.name}»؛ عيّن العميل يدوياً أو فعّل موظفاً."
        ),
        due_date=now + ASSIGNMENT_DUE_AFTER,
        trigger="customer.created",
        details={"reason": "no_active_employee", "assignmentRuleId": rule.id},
        assignee_name=None,
        now=now,
        assign=False,
    )


# ---------------------------------------------------------------------------------------------
# Who manages rules

ROLE_ONLY: Final = access.ROLE_ONLY
"""``requiredPermission`` of a refusal: rules are decided by the role alone (like settings)."""


def manage_refusal(actor: Actor) -> PermissionDenied | None:
    """Why ``actor``'s role may not manage rules at all (agents, viewers), or None."""
    if actor.role in (Role.ADMIN, Role.SALES_MANAGER):
        return None
    return access.role_refusal(actor, "manage assignment rules")


def in_team(actor: Actor, employee_ids: Iterable[str], employees: Mapping[str, Employee]) -> bool:
    """True when ``actor`` reaches every one of ``employee_ids`` (``employees`` maps the known
    ones): an admin always; a sales manager when each is the manager or reports to the manager."""
    if actor.role is Role.ADMIN:
        return True
    if actor.role is not Role.SALES_MANAGER:
        return False
    for employee_id in employee_ids:
        employee = employees.get(employee_id)
        if employee_id != actor.user_id and (
            employee is None or employee.manager_id != actor.user_id
        ):
            return False
    return True

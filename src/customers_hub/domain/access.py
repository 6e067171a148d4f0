"""Who may do what (rules §4): the access policy as data plus pure decisions.

A request is allowed only if

1. the record belongs to the caller's organization — otherwise it is :class:`Hidden` and must be
   answered exactly like a record that does not exist (404), *before* anything else is checked, so
   existence never leaks across organizations;
2. the caller's role allows the operation (:data:`POLICY` gives a :class:`Reach` per role);
3. the token's ``permissions`` claim holds the operation's permission, when it has one: the
   permissions are the API document's five, so operations outside them (employees) are decided
   by the role alone;
4. the record is inside the caller's reach: ``admin`` — the whole organization; ``sales_manager`` —
   records assigned to the manager or to an employee whose ``managerId`` is the manager;
   ``sales_agent`` and ``viewer`` — records assigned to themselves.

Failures 2–4 are :class:`Forbidden` (403 ``PERMISSION_DENIED`` with ``requiredPermission`` and
``currentRole``). Nothing here loads data: callers describe a record with a :class:`RecordScope`,
and the read side turns :func:`scope_filter` into SQL. The JWT ``userId`` is the employee id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType

from attrs import frozen

from customers_hub.domain.enums import Permission, Role
from customers_hub.domain.errors import AssignmentRejected, NotFound, PermissionDenied
from customers_hub.domain.model import Actor, Customer, CustomerAction, Employee

__all__ = [
    "MAX_AGENT_BULK_IDS",
    "ORGANIZATION_ACCESS",
    "POLICY",
    "READ_OPERATIONS",
    "ROLE_ONLY",
    "UNKNOWN_ASSIGNEE_REASON",
    "AccessDecision",
    "Allowed",
    "AssignmentDecision",
    "Forbidden",
    "Hidden",
    "InvalidAssignee",
    "Operation",
    "PolicyRule",
    "Reach",
    "RecordScope",
    "ScopeFilter",
    "check_organization_header",
    "creation_assignee_id",
    "decide",
    "decide_assign",
    "decide_bulk",
    "decide_bulk_item",
    "decide_create_customer",
    "default_permissions",
    "enforce",
    "enforce_decision",
    "failure_reason",
    "require_admin_role",
    "role_refusal",
    "scope_filter",
]


class Operation(StrEnum):
    """One operation of the §4 table; rows that bundle several things are split."""

    READ_CUSTOMERS = "read_customers"
    """Get/list/search customers, filter options, and read their relations."""
    READ_ACTIONS = "read_actions"
    """Get/list actions."""
    READ_CUSTOMER_STATS = "read_customer_stats"
    """Customer statistics."""
    READ_ACTION_STATS = "read_action_stats"
    """Action statistics."""
    CREATE_CUSTOMER = "create_customer"
    """Create a customer (see :func:`decide_create_customer` for the assignee)."""
    UPDATE_CUSTOMER = "update_customer"
    """Update a customer, its stage, and its relations (property interests, interactions,
    appointments, reminders, documents)."""
    SOFT_DELETE_CUSTOMER = "soft_delete_customer"
    """Soft-delete a customer."""
    PERMANENT_DELETE_CUSTOMER = "permanent_delete_customer"
    """Delete a customer for good."""
    RESTORE_CUSTOMER = "restore_customer"
    """Undo a soft delete."""
    ASSIGN_CUSTOMER = "assign_customer"
    """Assign or reassign a customer (see :func:`decide_assign`)."""
    ASSIGN_ACTION = "assign_action"
    """Assign or reassign an action, alone or in bulk (see :func:`decide_assign`)."""
    WRITE_ACTION = "write_action"
    """Create, update, complete, dismiss or snooze an action."""
    ADD_ACTION_NOTE = "add_action_note"
    """Add a note to an action (same scope as :attr:`WRITE_ACTION`)."""
    BULK_ACTIONS = "bulk_actions"
    """A bulk request on actions, as a whole (see :func:`decide_bulk`)."""
    READ_EMPLOYEES = "read_employees"
    """List employees (the assignment pickers)."""
    MANAGE_EMPLOYEES = "manage_employees"
    """Create or update employees."""
    READ_SETTINGS = "read_settings"
    """Read the organization's settings (rules §9: every member)."""
    MANAGE_SETTINGS = "manage_settings"
    """Change the organization's settings (rules §9: admins)."""


class Reach(StrEnum):
    """How far a role reaches for one operation; ordered NONE < OWN < TEAM < ALL."""

    NONE = "none"
    OWN = "own"
    TEAM = "team"
    ALL = "all"


@frozen
class PolicyRule:
    """One row of the policy: the token permission required and each role's reach.

    ``permission`` is None where the API document's five permissions name nothing for the
    operation (employees): the role decides alone, so a token shaped like the document's example
    is never refused for a claim it cannot carry.
    """

    permission: Permission | None
    admin: Reach
    sales_manager: Reach
    sales_agent: Reach
    viewer: Reach

    def reach_for(self, role: Role) -> Reach:
        """The reach of ``role`` for this operation."""
        return {
            Role.ADMIN: self.admin,
            Role.SALES_MANAGER: self.sales_manager,
            Role.SALES_AGENT: self.sales_agent,
            Role.VIEWER: self.viewer,
        }[role]


_A, _T, _O, _N = Reach.ALL, Reach.TEAM, Reach.OWN, Reach.NONE
_P, _Rule = Permission, PolicyRule

# fmt: off
POLICY: Mapping[Operation, PolicyRule] = MappingProxyType({
    # Reach per role, in order: admin, sales_manager, sales_agent, viewer.
    # For CREATE_CUSTOMER the reach applies to the new customer's assignee; employees are
    # organization-wide, so every role lists them (assignment pickers).
    Operation.READ_CUSTOMERS:            _Rule(_P.CUSTOMERS_READ,   _A, _T, _O, _O),
    Operation.READ_ACTIONS:              _Rule(_P.ACTIONS_READ,     _A, _T, _O, _O),
    Operation.READ_CUSTOMER_STATS:       _Rule(_P.CUSTOMERS_READ,   _A, _T, _O, _O),
    Operation.READ_ACTION_STATS:         _Rule(_P.ACTIONS_READ,     _A, _T, _O, _O),
    Operation.CREATE_CUSTOMER:           _Rule(_P.CUSTOMERS_WRITE,  _A, _T, _O, _N),
    Operation.UPDATE_CUSTOMER:           _Rule(_P.CUSTOMERS_WRITE,  _A, _T, _O, _N),
    Operation.SOFT_DELETE_CUSTOMER:      _Rule(_P.CUSTOMERS_DELETE, _A, _T, _N, _N),
    Operation.PERMANENT_DELETE_CUSTOMER: _Rule(_P.CUSTOMERS_DELETE, _A, _N, _N, _N),
    Operation.RESTORE_CUSTOMER:          _Rule(_P.CUSTOMERS_DELETE, _A, _N, _N, _N),
    Operation.ASSIGN_CUSTOMER:           _Rule(_P.CUSTOMERS_WRITE,  _A, _T, _N, _N),
    Operation.ASSIGN_ACTION:             _Rule(_P.ACTIONS_WRITE,    _A, _T, _N, _N),
    Operation.WRITE_ACTION:              _Rule(_P.ACTIONS_WRITE,    _A, _T, _O, _N),
    Operation.ADD_ACTION_NOTE:           _Rule(_P.ACTIONS_WRITE,    _A, _T, _O, _N),
    Operation.BULK_ACTIONS:              _Rule(_P.ACTIONS_WRITE,    _A, _T, _O, _N),
    Operation.READ_EMPLOYEES:            _Rule(None,                _A, _A, _A, _A),
    Operation.MANAGE_EMPLOYEES:          _Rule(None,                _A, _N, _N, _N),
    # Organization settings (rules §9): every member reads, admins write; role alone.
    Operation.READ_SETTINGS:             _Rule(None,                _A, _A, _A, _A),
    Operation.MANAGE_SETTINGS:           _Rule(None,                _A, _N, _N, _N),
})
"""The §4 table as data: operation → required permission and each role's reach."""
# fmt: on

# What a refusal says the role may not do.
_DESCRIPTIONS: Mapping[Operation, str] = MappingProxyType(
    {
        Operation.READ_CUSTOMERS: "read customers",
        Operation.READ_ACTIONS: "read actions",
        Operation.READ_CUSTOMER_STATS: "read customer statistics",
        Operation.READ_ACTION_STATS: "read action statistics",
        Operation.CREATE_CUSTOMER: "create customers",
        Operation.UPDATE_CUSTOMER: "update customers",
        Operation.SOFT_DELETE_CUSTOMER: "delete customers",
        Operation.PERMANENT_DELETE_CUSTOMER: "permanently delete customers",
        Operation.RESTORE_CUSTOMER: "restore customers",
        Operation.ASSIGN_CUSTOMER: "assign customers",
        Operation.ASSIGN_ACTION: "assign actions",
        Operation.WRITE_ACTION: "change actions",
        Operation.ADD_ACTION_NOTE: "add notes to actions",
        Operation.BULK_ACTIONS: "run bulk action operations",
        Operation.READ_EMPLOYEES: "list employees",
        Operation.MANAGE_EMPLOYEES: "manage employees",
        Operation.READ_SETTINGS: "read the organization's settings",
        Operation.MANAGE_SETTINGS: "change the organization's settings",
    }
)

READ_OPERATIONS: frozenset[Operation] = frozenset(
    {
        Operation.READ_CUSTOMERS,
        Operation.READ_ACTIONS,
        Operation.READ_CUSTOMER_STATS,
        Operation.READ_ACTION_STATS,
        Operation.READ_EMPLOYEES,
    }
)
"""Operations of the read side, for which :func:`scope_filter` is meant."""

MAX_AGENT_BULK_IDS = 25
"""At most this many ids in one bulk request of a ``sales_agent``."""

# Roles whose bulk requests are capped; the others have no policy cap (validation may add one).
_BULK_ID_LIMITS: Mapping[Role, int] = MappingProxyType({Role.SALES_AGENT: MAX_AGENT_BULK_IDS})
_BULK_OPERATIONS: frozenset[Operation] = frozenset({Operation.BULK_ACTIONS})
_ASSIGN_OPERATIONS: frozenset[Operation] = frozenset(
    {Operation.ASSIGN_CUSTOMER, Operation.ASSIGN_ACTION}
)

UNKNOWN_ASSIGNEE_REASON = "assignee is not an employee of this organization"
"""The reason for an unknown assignee id — and, identically, for another organization's employee."""

ORGANIZATION_ACCESS = "organization.access"
"""``requiredPermission`` reported when ``X-Organization-ID`` differs from the token's."""


def default_permissions(role: Role) -> frozenset[Permission]:
    """Every permission ``role`` can use at all under :data:`POLICY` (a permission of an
    operation whose reach for the role is not ``none``): what a token of the role usually
    carries — the demo's and ``customers-hub token``'s tokens, the strategies' actors."""
    return frozenset(
        rule.permission
        for rule in POLICY.values()
        if rule.permission is not None and rule.reach_for(role) != Reach.NONE
    )


# ---------------------------------------------------------------------------------------------
# Records and decisions


@frozen
class RecordScope:
    """What the policy needs to know about a record, without loading anything else.

    ``assignee_ids`` — for a customer its assigned employee; for an action the action's assignee
    *and* its customer's assignee (either puts it in scope). ``assignee_manager_ids`` — the
    ``managerId`` of each of those assignees. An unassigned record has both empty.
    """

    organization_id: str
    assignee_ids: frozenset[str] = frozenset()
    assignee_manager_ids: frozenset[str] = frozenset()

    @classmethod
    def of(cls, organization_id: str, assignees: Iterable[Employee | str | None]) -> RecordScope:
        """A record of ``organization_id`` assigned to ``assignees``.

        An employee counts with its manager; a bare id (an employee that is not known) counts
        alone; ``None`` is skipped. A manager is only counted for an employee of the same
        organization, so inconsistent data never widens a scope.
        """
        ids: set[str] = set()
        managers: set[str] = set()
        for assignee in assignees:
            if assignee is None:
                continue
            if isinstance(assignee, str):
                ids.add(assignee)
                continue
            ids.add(assignee.id)
            if assignee.manager_id is not None and assignee.organization_id == organization_id:
                managers.add(assignee.manager_id)
        return cls(organization_id, frozenset(ids), frozenset(managers))

    @classmethod
    def for_customer(cls, customer: Customer, assignee: Employee | None) -> RecordScope:
        """The scope of ``customer``; ``assignee`` is its assigned employee when known."""
        if assignee is not None and assignee.id != customer.assigned_employee_id:
            raise ValueError(
                f"employee {assignee.id!r} is not the assignee of customer {customer.id!r}"
            )
        return cls.of(customer.organization_id, [assignee or customer.assigned_employee_id])

    @classmethod
    def for_action(
        cls,
        action: CustomerAction,
        customer_assignee_id: str | None,
        employees: Mapping[str, Employee],
    ) -> RecordScope:
        """The scope of ``action``: its assignee and its customer's assignee.

        ``employees`` maps ids to employees (at least those two, when known) to find managers.
        """
        ids = (action.assigned_to, customer_assignee_id)
        return cls.of(
            action.organization_id,
            [employees.get(i, i) if i is not None else None for i in ids],
        )

    @classmethod
    def for_employee(cls, employee: Employee) -> RecordScope:
        """The scope of an employee record (only its organization matters: employees are
        organization-wide)."""
        return cls.of(employee.organization_id, [employee])


@frozen
class Allowed:
    """The request may go on."""


@frozen
class Forbidden:
    """Same organization, but the role, the token or the scope refuses (403).

    Maps to ``PERMISSION_DENIED`` with ``details.requiredPermission`` and ``details.currentRole``.
    """

    reason: str
    required_permission: str
    current_role: str


@frozen
class Hidden:
    """The record belongs to another organization: answer exactly as if it did not exist (404)."""


@frozen
class InvalidAssignee:
    """The assignee is unknown, of another organization, or inactive: 422 ``VALIDATION_ERROR``."""

    reason: str


AccessDecision = Allowed | Forbidden | Hidden
"""What :func:`decide` answers."""

AssignmentDecision = Allowed | Forbidden | Hidden | InvalidAssignee
"""What the decisions that involve an assignee answer."""

_ALLOWED = Allowed()
_HIDDEN = Hidden()


# ---------------------------------------------------------------------------------------------
# The core decision


def _in_reach(reach: Reach, user_id: str, record: RecordScope) -> bool:
    # The organization is checked before this is ever called.
    if reach is Reach.ALL:
        return True
    if reach is Reach.TEAM:
        # Assigned to the manager, or to someone whose managerId is the manager (direct reports).
        return user_id in record.assignee_ids or user_id in record.assignee_manager_ids
    if reach is Reach.OWN:
        return user_id in record.assignee_ids
    return False


_OUT_OF_REACH = {
    Reach.TEAM: "is not assigned to you or to your team",
    Reach.OWN: "is not assigned to you",
}


ROLE_ONLY = "role"
"""``requiredPermission`` reported for an operation that the role alone decides (employees)."""


def role_refusal(actor: Actor, doing: str) -> PermissionDenied:
    """The 403 for an operation that ``actor``'s role may not do (``doing``, in words), decided
    by the role alone."""
    return PermissionDenied(
        f"role {actor.role.value} may not {doing}",
        required_permission=ROLE_ONLY,
        current_role=actor.role.value,
    )


def require_admin_role(actor: Actor, doing: str) -> None:
    """:func:`role_refusal` unless ``actor`` is an admin (whatever the record)."""
    if actor.role is not Role.ADMIN:
        raise role_refusal(actor, doing)


def required_permission(rule: PolicyRule) -> str:
    """What a refusal of ``rule`` names as ``requiredPermission``."""
    return ROLE_ONLY if rule.permission is None else rule.permission.value


def _forbidden(actor: Actor, rule: PolicyRule, reason: str) -> Forbidden:
    return Forbidden(reason, required_permission(rule), actor.role.value)


def _role_and_token(actor: Actor, operation: Operation) -> Forbidden | None:
    """Steps 2 and 3: the role allows the operation and the token holds its permission."""
    rule = POLICY[operation]
    if rule.reach_for(actor.role) is Reach.NONE:
        return _forbidden(
            actor, rule, f"role {actor.role.value} may not {_DESCRIPTIONS[operation]}"
        )
    if rule.permission is not None and rule.permission not in actor.permissions:
        return _forbidden(actor, rule, f"missing permission {rule.permission.value}")
    return None


def decide(actor: Actor, operation: Operation, record: RecordScope | None = None) -> AccessDecision:
    """May ``actor`` perform ``operation`` on ``record``?

    Without a record only the role and the token are checked (a list, or a pre-check before
    loading). Another organization's record is :class:`Hidden` before anything else.
    """
    if record is not None and record.organization_id != actor.organization_id:
        return _HIDDEN
    refused = _role_and_token(actor, operation)
    if refused is not None:
        return refused
    rule = POLICY[operation]
    reach = rule.reach_for(actor.role)
    if record is not None and not _in_reach(reach, actor.user_id, record):
        return _forbidden(actor, rule, f"the record {_OUT_OF_REACH[reach]}")
    return _ALLOWED


def enforce_decision(
    decision: AssignmentDecision,
    *,
    resource_type: str,
    resource_id: str,
    assignee_field: str = "assignedTo",
) -> None:
    """Raise the domain error of a refusal; return quietly when ``decision`` is :class:`Allowed`.

    :class:`Hidden` → :class:`NotFound` of (``resource_type``, ``resource_id``);
    :class:`Forbidden` → :class:`PermissionDenied`; :class:`InvalidAssignee` →
    :class:`AssignmentRejected` naming ``assignee_field``.
    """
    if isinstance(decision, Hidden):
        raise NotFound(resource_type, resource_id)
    if isinstance(decision, Forbidden):
        raise PermissionDenied(
            decision.reason,
            required_permission=decision.required_permission,
            current_role=decision.current_role,
        )
    if isinstance(decision, InvalidAssignee):
        raise AssignmentRejected(decision.reason, {"field": assignee_field})


def enforce(
    actor: Actor,
    operation: Operation,
    record: RecordScope | None = None,
    *,
    resource_type: str,
    resource_id: str,
) -> None:
    """:func:`decide`, raising :class:`NotFound` or :class:`PermissionDenied` on a refusal."""
    enforce_decision(
        decide(actor, operation, record), resource_type=resource_type, resource_id=resource_id
    )


def failure_reason(decision: AssignmentDecision, *, resource_type: str) -> str | None:
    """The reason a bulk item goes to ``failed``, or ``None`` when allowed.

    A hidden item reads exactly like an id that does not exist.
    """
    if isinstance(decision, Allowed):
        return None
    if isinstance(decision, Hidden):
        return f"{resource_type.capitalize()} not found"
    return decision.reason


# ---------------------------------------------------------------------------------------------
# Assignees: creation and (re)assignment


def _check_assignee(
    actor: Actor, operation: Operation, assignee: Employee | None
) -> Forbidden | InvalidAssignee | None:
    """The assignee is an employee of the organization, in the actor's reach, and active.

    An unknown id and another organization's employee give the same answer (existence never
    leaks); reach comes before activity, so an employee out of reach is 403 whatever its state.
    """
    if assignee is None or assignee.organization_id != actor.organization_id:
        return InvalidAssignee(UNKNOWN_ASSIGNEE_REASON)
    rule = POLICY[operation]
    reach = rule.reach_for(actor.role)
    if not _in_reach(reach, actor.user_id, RecordScope.for_employee(assignee)):
        return _forbidden(actor, rule, f"the assignee {_OUT_OF_REACH[reach]}")
    if not assignee.is_active:
        return InvalidAssignee("assignee is not an active employee")
    return None


def creation_assignee_id(actor: Actor, requested_id: str | None) -> str | None:
    """Who a new customer is assigned to when the request names ``requested_id`` (maybe nobody).

    Nobody named: a ``sales_agent`` or ``sales_manager`` gets the customer themselves (otherwise
    it would leave their scope at once); an ``admin``'s customer stays unassigned for later
    distribution.
    """
    if requested_id is not None:
        return requested_id
    if actor.role in (Role.SALES_AGENT, Role.SALES_MANAGER):
        return actor.user_id
    return None


def decide_create_customer(actor: Actor, assignee: Employee | None) -> AssignmentDecision:
    """May ``actor`` create a customer assigned to ``assignee``?

    ``assignee`` is the loaded employee of :func:`creation_assignee_id`, or ``None`` when the
    customer stays unassigned. ``admin`` — any active employee of the organization;
    ``sales_manager`` — self or a direct report; ``sales_agent`` — only self; ``viewer`` — never.
    A requested id that names no employee must be answered with :data:`UNKNOWN_ASSIGNEE_REASON`
    (the caller has no :class:`Employee` to pass).
    """
    refused = _role_and_token(actor, Operation.CREATE_CUSTOMER)
    if refused is not None:
        return refused
    if assignee is None:
        return _ALLOWED
    refused_assignee = _check_assignee(actor, Operation.CREATE_CUSTOMER, assignee)
    return _ALLOWED if refused_assignee is None else refused_assignee


def decide_assign(
    actor: Actor,
    record: RecordScope,
    target: Employee | None,
    *,
    operation: Operation = Operation.ASSIGN_CUSTOMER,
) -> AssignmentDecision:
    """May ``actor`` (re)assign ``record`` to ``target``?

    ``target`` is ``None`` when the requested id names no employee. ``operation`` is
    :attr:`Operation.ASSIGN_CUSTOMER` or :attr:`Operation.ASSIGN_ACTION`. ``admin`` — any active
    employee of the organization; ``sales_manager`` — a record of the team to the manager or a
    direct report; others — never. Order: record of another organization → :class:`Hidden`;
    role, token, record scope → :class:`Forbidden`; unknown or foreign target →
    :class:`InvalidAssignee`; target out of reach → :class:`Forbidden`; inactive target →
    :class:`InvalidAssignee`.
    """
    if operation not in _ASSIGN_OPERATIONS:
        raise ValueError(f"{operation} is not an assignment operation")
    decision = decide(actor, operation, record)
    if not isinstance(decision, Allowed):
        return decision
    refused_target = _check_assignee(actor, operation, target)
    return _ALLOWED if refused_target is None else refused_target


# ---------------------------------------------------------------------------------------------
# Bulk requests


def decide_bulk(
    actor: Actor, operation: Operation, ids_count: int, *, reassigns: bool
) -> AccessDecision:
    """May ``actor`` send this bulk request at all (before the per-item decisions)?

    ``operation`` is :attr:`Operation.BULK_ACTIONS`. ``admin`` and ``sales_manager`` — yes;
    ``sales_agent`` — at most :data:`MAX_AGENT_BULK_IDS` ids and no reassignment; ``viewer`` —
    no. Each item is then decided with :func:`decide_bulk_item`.
    """
    if operation not in _BULK_OPERATIONS:
        raise ValueError(f"{operation} is not a bulk operation")
    if ids_count < 0:
        raise ValueError("ids_count must not be negative")
    refused = _role_and_token(actor, operation)
    if refused is not None:
        return refused
    limit = _BULK_ID_LIMITS.get(actor.role)
    if limit is not None and ids_count > limit:
        return _forbidden(
            actor,
            POLICY[operation],
            f"role {actor.role.value} may send at most {limit} ids in one bulk request",
        )
    if reassigns:
        # Reassignment in bulk needs what a single reassignment needs.
        refused = _role_and_token(actor, Operation.ASSIGN_ACTION)
        if refused is not None:
            return refused
    return _ALLOWED


def decide_bulk_item(
    actor: Actor,
    record: RecordScope,
    *,
    reassigns: bool = False,
    target: Employee | None = None,
) -> AssignmentDecision:
    """May ``actor`` touch this one action of a bulk request (and reassign it to ``target``)?

    Anything but :class:`Allowed` sends the item to ``failed`` with :func:`failure_reason`.
    """
    decision = decide(actor, Operation.WRITE_ACTION, record)
    if not isinstance(decision, Allowed) or not reassigns:
        return decision
    return decide_assign(actor, record, target, operation=Operation.ASSIGN_ACTION)


# ---------------------------------------------------------------------------------------------
# Read side


@frozen
class ScopeFilter:
    """Which records of one organization an actor may list, for a query to apply in SQL.

    Always restrict to ``organization_id``, then by ``kind``:

    - ``ALL`` — no further restriction;
    - ``TEAM`` — ``employee_id`` is the manager: customers with ``assigned_employee_id = m`` or
      whose assigned employee has ``manager_id = m``; actions where the action's assignee or the
      customer's assignee is ``m`` or has ``manager_id = m``;
    - ``OWN`` — ``employee_id`` is the caller: customers with ``assigned_employee_id = u``;
      actions with ``assigned_to = u`` or whose customer has ``assigned_employee_id = u``;
    - ``NONE`` — nothing at all (the role or the token lacks the operation; call
      :func:`enforce` first to answer 403 instead of an empty list).
    """

    organization_id: str
    kind: Reach
    employee_id: str | None = None

    def __attrs_post_init__(self) -> None:
        # TEAM and OWN are relative to someone; ALL and NONE to no one.
        if (self.employee_id is None) == (self.kind in (Reach.TEAM, Reach.OWN)):
            raise ValueError(f"a {self.kind} filter needs an employee_id exactly when TEAM or OWN")

    def admits(self, record: RecordScope) -> bool:
        """True when the record passes this filter; agrees with :func:`decide`."""
        if record.organization_id != self.organization_id:
            return False
        if self.employee_id is None:
            return self.kind is Reach.ALL
        return _in_reach(self.kind, self.employee_id, record)


def scope_filter(actor: Actor, operation: Operation) -> ScopeFilter:
    """The filter of the records ``actor`` may see for ``operation`` (fails closed: ``NONE``)."""
    if _role_and_token(actor, operation) is not None:
        return ScopeFilter(actor.organization_id, Reach.NONE)
    reach = POLICY[operation].reach_for(actor.role)
    if reach is Reach.ALL:
        return ScopeFilter(actor.organization_id, Reach.ALL)
    return ScopeFilter(actor.organization_id, reach, actor.user_id)


# ---------------------------------------------------------------------------------------------
# Organization header


def check_organization_header(actor: Actor, header_value: str | None) -> None:
    """Raise :class:`PermissionDenied` when ``X-Organization-ID`` is sent and is not the token's.

    A header sent empty counts as sent (and differs).
    """
    if header_value is not None and header_value != actor.organization_id:
        raise PermissionDenied(
            "X-Organization-ID does not match the token's organization",
            required_permission=ORGANIZATION_ACCESS,
            current_role=actor.role.value,
        )

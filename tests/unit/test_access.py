"""The access policy (rules §4): table-driven cells, refusals, and properties of the decisions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customers_hub.domain.access import (
    MAX_AGENT_BULK_IDS,
    ORGANIZATION_ACCESS,
    POLICY,
    READ_OPERATIONS,
    UNKNOWN_ASSIGNEE_REASON,
    Allowed,
    Forbidden,
    Hidden,
    InvalidAssignee,
    Operation,
    Reach,
    RecordScope,
    ScopeFilter,
    check_organization_header,
    creation_assignee_id,
    decide,
    decide_assign,
    decide_bulk,
    decide_bulk_item,
    decide_create_customer,
    enforce,
    enforce_decision,
    failure_reason,
    scope_filter,
)
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    CustomerSource,
    Permission,
    Priority,
    Role,
    Stage,
)
from customers_hub.domain.errors import AssignmentRejected, NotFound, PermissionDenied
from customers_hub.domain.model import Actor, Customer, CustomerAction, Employee

ORG = "org_a"
OTHER_ORG = "org_b"
ALL_PERMISSIONS = frozenset(Permission)
ROLES = (Role.ADMIN, Role.SALES_MANAGER, Role.SALES_AGENT, Role.VIEWER)

# The §4 table transcribed by hand (independently of POLICY): permission, then admin, manager,
# agent, viewer. "yes" in the rules is "all" here.
SECTION_4: dict[Operation, tuple[Permission | None, str, str, str, str]] = {
    Operation.READ_CUSTOMERS: (Permission.CUSTOMERS_READ, "all", "team", "own", "own"),
    Operation.READ_ACTIONS: (Permission.ACTIONS_READ, "all", "team", "own", "own"),
    Operation.READ_CUSTOMER_STATS: (Permission.CUSTOMERS_READ, "all", "team", "own", "own"),
    Operation.READ_ACTION_STATS: (Permission.ACTIONS_READ, "all", "team", "own", "own"),
    Operation.CREATE_CUSTOMER: (Permission.CUSTOMERS_WRITE, "all", "team", "own", "no"),
    Operation.UPDATE_CUSTOMER: (Permission.CUSTOMERS_WRITE, "all", "team", "own", "no"),
    Operation.SOFT_DELETE_CUSTOMER: (Permission.CUSTOMERS_DELETE, "all", "team", "no", "no"),
    Operation.PERMANENT_DELETE_CUSTOMER: (Permission.CUSTOMERS_DELETE, "all", "no", "no", "no"),
    Operation.RESTORE_CUSTOMER: (Permission.CUSTOMERS_DELETE, "all", "no", "no", "no"),
    Operation.ASSIGN_CUSTOMER: (Permission.CUSTOMERS_WRITE, "all", "team", "no", "no"),
    Operation.ASSIGN_ACTION: (Permission.ACTIONS_WRITE, "all", "team", "no", "no"),
    Operation.WRITE_ACTION: (Permission.ACTIONS_WRITE, "all", "team", "own", "no"),
    Operation.ADD_ACTION_NOTE: (Permission.ACTIONS_WRITE, "all", "team", "own", "no"),
    Operation.BULK_ACTIONS: (Permission.ACTIONS_WRITE, "all", "team", "own", "no"),
    # Employees: no permission of the document's five; the role decides alone.
    Operation.READ_EMPLOYEES: (None, "all", "all", "all", "all"),
    Operation.MANAGE_EMPLOYEES: (None, "all", "no", "no", "no"),
    # Organization settings (rules §9): every member reads, admins write; the role decides.
    Operation.READ_SETTINGS: (None, "all", "all", "all", "all"),
    Operation.MANAGE_SETTINGS: (None, "all", "no", "no", "no"),
}


def named_permission(operation: Operation) -> str:
    """What a refusal of ``operation`` names as ``requiredPermission`` per the table."""
    permission = SECTION_4[operation][0]
    return "role" if permission is None else permission.value


CELLS = [
    pytest.param(op, role, reach, id=f"{op}-{role}-{reach}")
    for op, (_, *reaches) in SECTION_4.items()
    for role, reach in zip(ROLES, reaches, strict=True)
]

# Which kind of record each reach admits, for an actor `u` (same organization).
RECORD_KINDS = ("own", "report", "stranger", "unassigned")
ADMITTED_KINDS = {
    "all": {"own", "report", "stranger", "unassigned"},
    "team": {"own", "report"},
    "own": {"own"},
    "no": set(),
}


# --- small local factories -----------------------------------------------------------------


def actor(
    role: Role,
    user_id: str = "u",
    permissions: frozenset[Permission] = ALL_PERMISSIONS,
    organization_id: str = ORG,
) -> Actor:
    return Actor(user_id, organization_id, role, permissions)


def employee(
    id: str,
    *,
    manager_id: str | None = None,
    organization_id: str = ORG,
    role: Role = Role.SALES_AGENT,
    is_active: bool = True,
) -> Employee:
    return Employee(
        id, organization_id, f"name {id}", role, is_active=is_active, manager_id=manager_id
    )


def record_of_kind(kind: str, user_id: str = "u", organization_id: str = ORG) -> RecordScope:
    """A record related to `user_id` as `kind` says."""
    assignees = {
        "own": [employee(user_id, manager_id="boss", organization_id=organization_id)],
        "report": [employee("rep", manager_id=user_id, organization_id=organization_id)],
        "stranger": [employee("stranger", manager_id="boss", organization_id=organization_id)],
        "unassigned": [],
    }[kind]
    return RecordScope.of(organization_id, assignees)


NOW = datetime(2024, 1, 22, 12, tzinfo=UTC)


def customer(assigned_employee_id: str | None, organization_id: str = ORG) -> Customer:
    return Customer(
        id="cust_1",
        organization_id=organization_id,
        name="أحمد",
        phone="+966501234567",
        source=CustomerSource.MANUAL,
        stage=Stage.NEW_LEAD,
        created_at=NOW,
        updated_at=NOW,
        assigned_employee_id=assigned_employee_id,
    )


def customer_action(assigned_to: str | None, organization_id: str = ORG) -> CustomerAction:
    return CustomerAction(
        id="act_1",
        organization_id=organization_id,
        customer_id="cust_1",
        customer_name="أحمد",
        type=ActionType.FOLLOW_UP,
        title="متابعة",
        priority=Priority.MEDIUM,
        status=ActionStatus.PENDING,
        source=CustomerSource.MANUAL,
        created_at=NOW,
        updated_at=NOW,
        assigned_to=assigned_to,
    )


# --- the table, cell by cell ------------------------------------------------------------------


def test_the_test_table_covers_every_operation() -> None:
    assert set(SECTION_4) == set(Operation)


@pytest.mark.parametrize(("operation", "role", "reach"), CELLS)
def test_policy_cell(operation: Operation, role: Role, reach: str) -> None:
    caller = actor(role)
    for kind in RECORD_KINDS:
        decision = decide(caller, operation, record_of_kind(kind))
        if kind in ADMITTED_KINDS[reach]:
            assert decision == Allowed(), kind
        else:
            assert isinstance(decision, Forbidden), kind
            assert decision.current_role == role.value
            assert decision.required_permission == named_permission(operation)
        # The same record in another organization never answers anything but Hidden.
        foreign = record_of_kind(kind, organization_id=OTHER_ORG)
        assert decide(caller, operation, foreign) == Hidden(), kind
    # Without a record, only the role (and the token) decide.
    assert isinstance(decide(caller, operation), Allowed) == (reach != "no")


@pytest.mark.parametrize(("operation", "role", "reach"), CELLS)
def test_policy_data_matches_the_rules(operation: Operation, role: Role, reach: str) -> None:
    rule = POLICY[operation]
    assert rule.permission == SECTION_4[operation][0]
    expected = {"all": Reach.ALL, "team": Reach.TEAM, "own": Reach.OWN, "no": Reach.NONE}[reach]
    assert rule.reach_for(role) is expected


@pytest.mark.parametrize(
    ("operation", "role", "reach"),
    [c for c in CELLS if c.values[2] != "no" and SECTION_4[c.values[0]][0] is not None],
)
def test_missing_permission_is_forbidden_naming_it(
    operation: Operation, role: Role, reach: str
) -> None:
    required = SECTION_4[operation][0]
    assert required is not None
    caller = actor(role, permissions=ALL_PERMISSIONS - {required})
    for decision in (decide(caller, operation), decide(caller, operation, record_of_kind("own"))):
        assert isinstance(decision, Forbidden)
        assert decision.required_permission == required.value
        assert decision.current_role == role.value
        assert required.value in decision.reason
    with pytest.raises(PermissionDenied) as raised:
        enforce(caller, operation, resource_type="customer", resource_id="cust_1")
    assert raised.value.required_permission == required.value
    assert raised.value.current_role == role.value


@pytest.mark.parametrize("role", list(Role))
def test_employees_need_no_permission_beyond_the_documents_five(role: Role) -> None:
    # A token with no permission at all still lists employees; managing them is the admin's.
    bare = actor(role, permissions=frozenset())
    assert decide(bare, Operation.READ_EMPLOYEES) == Allowed()
    managing = decide(bare, Operation.MANAGE_EMPLOYEES)
    if role is Role.ADMIN:
        assert managing == Allowed()
    else:
        assert isinstance(managing, Forbidden)
        assert managing.required_permission == "role"


def test_a_role_lacking_the_operation_is_forbidden_even_with_the_permission() -> None:
    # The sample agent token of the API document holds customers.delete.
    decision = decide(
        actor(Role.SALES_AGENT), Operation.SOFT_DELETE_CUSTOMER, record_of_kind("own")
    )
    assert decision == Forbidden(
        "role sales_agent may not delete customers", "customers.delete", "sales_agent"
    )


def test_another_organization_is_hidden_before_role_and_permissions() -> None:
    nobody = actor(Role.VIEWER, permissions=frozenset())
    foreign = record_of_kind("own", organization_id=OTHER_ORG)
    assert decide(nobody, Operation.PERMANENT_DELETE_CUSTOMER, foreign) == Hidden()
    with pytest.raises(NotFound) as raised:
        enforce(
            nobody, Operation.READ_CUSTOMERS, foreign, resource_type="customer", resource_id="c9"
        )
    assert (raised.value.resource_type, raised.value.resource_id) == ("customer", "c9")


def test_enforce_returns_quietly_when_allowed() -> None:
    enforce(
        actor(Role.SALES_AGENT),
        Operation.UPDATE_CUSTOMER,
        record_of_kind("own"),
        resource_type="customer",
        resource_id="cust_1",
    )


def test_team_scope_is_direct_reports_only() -> None:
    manager = actor(Role.SALES_MANAGER, user_id="m")
    # Assigned to someone whose manager reports to m: not m's team.
    grand_report = RecordScope.of(ORG, [employee("g", manager_id="rep")])
    assert isinstance(decide(manager, Operation.READ_CUSTOMERS, grand_report), Forbidden)


def test_an_agent_gets_nothing_from_people_reporting_to_them() -> None:
    agent = actor(Role.SALES_AGENT, user_id="a")
    reports_to_agent = RecordScope.of(ORG, [employee("x", manager_id="a")])
    assert isinstance(decide(agent, Operation.READ_CUSTOMERS, reports_to_agent), Forbidden)


# --- record scopes --------------------------------------------------------------------------


def test_customer_scope_carries_assignee_and_manager() -> None:
    rep = employee("rep", manager_id="m")
    scope = RecordScope.for_customer(customer("rep"), rep)
    assert scope == RecordScope(ORG, frozenset({"rep"}), frozenset({"m"}))
    assert RecordScope.for_customer(customer("ghost"), None) == RecordScope(
        ORG, frozenset({"ghost"})
    )
    assert RecordScope.for_customer(customer(None), None) == RecordScope(ORG)


def test_customer_scope_refuses_an_assignee_that_is_not_the_customers() -> None:
    with pytest.raises(ValueError, match="not the assignee"):
        RecordScope.for_customer(customer("rep"), employee("other"))


def test_a_foreign_employee_never_brings_a_manager_into_scope() -> None:
    foreign_rep = employee("rep", manager_id="m", organization_id=OTHER_ORG)
    assert RecordScope.of(ORG, [foreign_rep]).assignee_manager_ids == frozenset()


def test_action_scope_is_the_action_assignee_and_the_customer_assignee() -> None:
    employees = {"a1": employee("a1", manager_id="m1"), "a2": employee("a2", manager_id="m2")}
    scope = RecordScope.for_action(customer_action("a1"), "a2", employees)
    assert scope == RecordScope(ORG, frozenset({"a1", "a2"}), frozenset({"m1", "m2"}))
    # Either assignee is enough for an agent; either manager is enough for a manager.
    for user_id, role in (
        ("a1", Role.SALES_AGENT),
        ("a2", Role.VIEWER),
        ("m2", Role.SALES_MANAGER),
    ):
        assert decide(actor(role, user_id), Operation.READ_ACTIONS, scope) == Allowed()
    assert isinstance(
        decide(actor(Role.SALES_AGENT, "a3"), Operation.READ_ACTIONS, scope), Forbidden
    )


def test_action_scope_with_unknown_employees_and_no_assignee() -> None:
    scope = RecordScope.for_action(customer_action(None), "ghost", {})
    assert scope == RecordScope(ORG, frozenset({"ghost"}))
    assert RecordScope.for_action(customer_action(None), None, {}) == RecordScope(ORG)


# --- creation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "assignee", "expected"),
    [
        (Role.ADMIN, employee("anyone", manager_id="x"), "allowed"),
        (Role.ADMIN, None, "allowed"),
        (Role.SALES_MANAGER, employee("u"), "allowed"),
        (Role.SALES_MANAGER, employee("rep", manager_id="u"), "allowed"),
        (Role.SALES_MANAGER, employee("stranger", manager_id="x"), "forbidden"),
        (Role.SALES_AGENT, employee("u", manager_id="m"), "allowed"),
        (Role.SALES_AGENT, None, "allowed"),
        (Role.SALES_AGENT, employee("colleague", manager_id="m"), "forbidden"),
        (Role.VIEWER, employee("u"), "forbidden"),
        (Role.VIEWER, None, "forbidden"),
    ],
)
def test_create_customer(role: Role, assignee: Employee | None, expected: str) -> None:
    decision = decide_create_customer(actor(role), assignee)
    if expected == "allowed":
        assert decision == Allowed()
    else:
        assert isinstance(decision, Forbidden)
        assert decision.required_permission == "customers.write"
        assert decision.current_role == role.value


def test_create_customer_needs_customers_write() -> None:
    caller = actor(Role.ADMIN, permissions=ALL_PERMISSIONS - {Permission.CUSTOMERS_WRITE})
    decision = decide_create_customer(caller, None)
    assert isinstance(decision, Forbidden)
    assert decision.required_permission == "customers.write"


def test_create_customer_with_an_invalid_assignee() -> None:
    admin = actor(Role.ADMIN)
    foreign = decide_create_customer(admin, employee("x", organization_id=OTHER_ORG))
    assert foreign == InvalidAssignee(UNKNOWN_ASSIGNEE_REASON)
    inactive = decide_create_customer(admin, employee("x", is_active=False))
    assert isinstance(inactive, InvalidAssignee)
    assert inactive != foreign


def test_who_a_new_customer_goes_to() -> None:
    assert creation_assignee_id(actor(Role.SALES_AGENT), None) == "u"
    assert creation_assignee_id(actor(Role.SALES_MANAGER), None) == "u"
    assert creation_assignee_id(actor(Role.ADMIN), None) is None
    assert creation_assignee_id(actor(Role.SALES_AGENT), "other") == "other"


# --- assignment -------------------------------------------------------------------------------


def test_admin_assigns_to_any_active_employee() -> None:
    admin = actor(Role.ADMIN)
    stranger = record_of_kind("stranger")
    assert decide_assign(admin, stranger, employee("anyone", manager_id="x")) == Allowed()
    assert decide_assign(admin, record_of_kind("unassigned"), employee("z")) == Allowed()


def test_manager_assigns_within_the_team_only() -> None:
    manager = actor(Role.SALES_MANAGER, user_id="m")
    in_team = RecordScope.of(ORG, [employee("r1", manager_id="m")])
    out_of_team = RecordScope.of(ORG, [employee("s", manager_id="x")])
    assert decide_assign(manager, in_team, employee("r2", manager_id="m")) == Allowed()
    assert decide_assign(manager, in_team, employee("m")) == Allowed()
    to_stranger = decide_assign(manager, in_team, employee("s", manager_id="x"))
    assert isinstance(to_stranger, Forbidden)
    assert "assignee" in to_stranger.reason
    from_stranger = decide_assign(manager, out_of_team, employee("r2", manager_id="m"))
    assert isinstance(from_stranger, Forbidden)
    assert "record" in from_stranger.reason


@pytest.mark.parametrize("role", [Role.SALES_AGENT, Role.VIEWER])
@pytest.mark.parametrize("operation", [Operation.ASSIGN_CUSTOMER, Operation.ASSIGN_ACTION])
def test_agents_and_viewers_never_assign(role: Role, operation: Operation) -> None:
    decision = decide_assign(actor(role), record_of_kind("own"), employee("u"), operation=operation)
    assert isinstance(decision, Forbidden)
    assert decision.required_permission == named_permission(operation)


def test_assigning_to_a_foreign_employee_looks_like_an_unknown_one() -> None:
    admin = actor(Role.ADMIN)
    record = record_of_kind("stranger")
    foreign = decide_assign(admin, record, employee("x", organization_id=OTHER_ORG))
    unknown = decide_assign(admin, record, None)
    assert foreign == unknown == InvalidAssignee(UNKNOWN_ASSIGNEE_REASON)
    with pytest.raises(AssignmentRejected) as raised:
        enforce_decision(
            foreign, resource_type="customer", resource_id="c", assignee_field="employeeId"
        )
    assert raised.value.code == "VALIDATION_ERROR"
    assert raised.value.details == {"field": "employeeId"}


def test_assigning_to_an_inactive_employee_is_invalid() -> None:
    decision = decide_assign(
        actor(Role.ADMIN), record_of_kind("own"), employee("x", is_active=False)
    )
    assert decision == InvalidAssignee("assignee is not an active employee")


def test_a_manager_gets_403_not_422_for_an_inactive_employee_outside_the_team() -> None:
    manager = actor(Role.SALES_MANAGER, user_id="m")
    decision = decide_assign(
        manager, record_of_kind("own", "m"), employee("s", manager_id="x", is_active=False)
    )
    assert isinstance(decision, Forbidden)


def test_a_foreign_record_is_hidden_whatever_the_target() -> None:
    foreign = record_of_kind("own", organization_id=OTHER_ORG)
    assert decide_assign(actor(Role.VIEWER), foreign, None) == Hidden()


def test_assign_refuses_a_non_assignment_operation() -> None:
    with pytest.raises(ValueError, match="not an assignment"):
        decide_assign(
            actor(Role.ADMIN), record_of_kind("own"), None, operation=Operation.WRITE_ACTION
        )


# --- bulk -------------------------------------------------------------------------------------


def test_agent_bulk_limit() -> None:
    agent = actor(Role.SALES_AGENT)
    assert MAX_AGENT_BULK_IDS == 25
    assert decide_bulk(agent, Operation.BULK_ACTIONS, 25, reassigns=False) == Allowed()
    over = decide_bulk(agent, Operation.BULK_ACTIONS, 26, reassigns=False)
    assert isinstance(over, Forbidden)
    assert over.required_permission == "actions.write"
    assert over.current_role == "sales_agent"
    assert "25" in over.reason


def test_agent_bulk_reassignment_is_forbidden() -> None:
    decision = decide_bulk(actor(Role.SALES_AGENT), Operation.BULK_ACTIONS, 2, reassigns=True)
    assert isinstance(decision, Forbidden)
    assert decision.current_role == "sales_agent"


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SALES_MANAGER])
def test_admin_and_manager_bulk_without_limit(role: Role) -> None:
    for reassigns in (False, True):
        assert (
            decide_bulk(actor(role), Operation.BULK_ACTIONS, 500, reassigns=reassigns) == Allowed()
        )


def test_viewer_never_bulks() -> None:
    decision = decide_bulk(actor(Role.VIEWER), Operation.BULK_ACTIONS, 1, reassigns=False)
    assert isinstance(decision, Forbidden)
    assert decision.current_role == "viewer"


def test_bulk_needs_actions_write() -> None:
    caller = actor(Role.ADMIN, permissions=frozenset({Permission.ACTIONS_READ}))
    decision = decide_bulk(caller, Operation.BULK_ACTIONS, 1, reassigns=False)
    assert isinstance(decision, Forbidden)
    assert decision.required_permission == "actions.write"


def test_bulk_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="not a bulk"):
        decide_bulk(actor(Role.ADMIN), Operation.WRITE_ACTION, 1, reassigns=False)
    with pytest.raises(ValueError, match="negative"):
        decide_bulk(actor(Role.ADMIN), Operation.BULK_ACTIONS, -1, reassigns=False)


def test_agent_bulk_items_are_own_actions_only() -> None:
    agent = actor(Role.SALES_AGENT)
    assert decide_bulk_item(agent, record_of_kind("own")) == Allowed()
    other = decide_bulk_item(agent, record_of_kind("stranger"))
    assert failure_reason(other, resource_type="action") == "the record is not assigned to you"


def test_manager_bulk_reassign_per_item() -> None:
    manager = actor(Role.SALES_MANAGER, user_id="m")
    team_item = RecordScope.of(ORG, [employee("r1", manager_id="m")])
    stranger_item = RecordScope.of(ORG, [employee("s", manager_id="x")])
    teammate = employee("r2", manager_id="m")
    outsider = employee("o", manager_id="x")
    assert decide_bulk_item(manager, team_item, reassigns=True, target=teammate) == Allowed()
    assert isinstance(
        decide_bulk_item(manager, stranger_item, reassigns=True, target=teammate), Forbidden
    )
    to_outsider = decide_bulk_item(manager, team_item, reassigns=True, target=outsider)
    assert isinstance(to_outsider, Forbidden)
    assert to_outsider.required_permission == "actions.write"


def test_a_foreign_bulk_item_fails_like_a_missing_one() -> None:
    decision = decide_bulk_item(actor(Role.ADMIN), record_of_kind("own", organization_id=OTHER_ORG))
    assert decision == Hidden()
    assert failure_reason(decision, resource_type="action") == "Action not found"
    assert failure_reason(Allowed(), resource_type="action") is None


# --- read side --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "kind", "employee_id"),
    [
        (Role.ADMIN, Reach.ALL, None),
        (Role.SALES_MANAGER, Reach.TEAM, "u"),
        (Role.SALES_AGENT, Reach.OWN, "u"),
        (Role.VIEWER, Reach.OWN, "u"),
    ],
)
def test_scope_filter_per_role(role: Role, kind: Reach, employee_id: str | None) -> None:
    for operation in READ_OPERATIONS - {Operation.READ_EMPLOYEES}:
        assert scope_filter(actor(role), operation) == ScopeFilter(ORG, kind, employee_id)
    assert scope_filter(actor(role), Operation.READ_EMPLOYEES) == ScopeFilter(ORG, Reach.ALL)


def test_scope_filter_fails_closed_without_the_permission() -> None:
    caller = actor(Role.ADMIN, permissions=frozenset({Permission.ACTIONS_READ}))
    assert scope_filter(caller, Operation.READ_CUSTOMERS) == ScopeFilter(ORG, Reach.NONE)
    assert not ScopeFilter(ORG, Reach.NONE).admits(record_of_kind("own"))


def test_scope_filter_shape_is_checked() -> None:
    with pytest.raises(ValueError, match="employee_id"):
        ScopeFilter(ORG, Reach.TEAM)
    with pytest.raises(ValueError, match="employee_id"):
        ScopeFilter(ORG, Reach.ALL, "u")


# --- organization header --------------------------------------------------------------------


def test_organization_header() -> None:
    caller = actor(Role.SALES_AGENT)
    check_organization_header(caller, None)
    check_organization_header(caller, ORG)
    for sent in (OTHER_ORG, "", ORG.upper()):
        with pytest.raises(PermissionDenied) as raised:
            check_organization_header(caller, sent)
        assert raised.value.current_role == "sales_agent"
        assert raised.value.required_permission == ORGANIZATION_ACCESS


# --- properties -------------------------------------------------------------------------------

# Small pools so that ids collide often (the actor is an assignee, a manager, …).
user_ids = st.sampled_from(["u1", "u2", "u3", "m1", "m2"])
org_ids = st.sampled_from(["org_a", "org_b", "org_c"])
operations = st.sampled_from(list(Operation))
actors = st.builds(
    Actor,
    user_id=user_ids,
    organization_id=org_ids,
    role=st.sampled_from(ROLES),
    permissions=st.frozensets(st.sampled_from(list(Permission))),
)
employees = st.builds(
    Employee,
    id=user_ids,
    organization_id=org_ids,
    name=st.just("موظف"),
    role=st.sampled_from(ROLES),
    is_active=st.booleans(),
    manager_id=st.none() | user_ids,
)


@st.composite
def records(draw: st.DrawFn, organization_id: st.SearchStrategy[str] = org_ids) -> RecordScope:
    return RecordScope(
        draw(organization_id),
        draw(st.frozensets(user_ids, max_size=3)),
        draw(st.frozensets(user_ids, max_size=3)),
    )


@st.composite
def foreign_cases(draw: st.DrawFn) -> tuple[Actor, RecordScope]:
    caller = draw(actors)
    record = draw(records(org_ids.filter(lambda org: org != caller.organization_id)))
    return caller, record


@given(foreign_cases(), operations, st.none() | employees, st.booleans())
def test_another_organization_is_always_hidden(
    case: tuple[Actor, RecordScope], operation: Operation, target: Employee | None, reassigns: bool
) -> None:
    caller, record = case
    assert decide(caller, operation, record) == Hidden()
    assert decide_bulk_item(caller, record, reassigns=reassigns, target=target) == Hidden()
    for assign in (Operation.ASSIGN_CUSTOMER, Operation.ASSIGN_ACTION):
        assert decide_assign(caller, record, target, operation=assign) == Hidden()
    assert not scope_filter(caller, operation).admits(record)
    with pytest.raises(NotFound):
        enforce(caller, operation, record, resource_type="customer", resource_id="x")


@given(actors, operations, records())
def test_scope_filter_agrees_with_decide(
    caller: Actor, operation: Operation, record: RecordScope
) -> None:
    # Stated for the read side; it holds for every operation.
    admitted = scope_filter(caller, operation).admits(record)
    assert admitted == isinstance(decide(caller, operation, record), Allowed)


@given(actors, operations, records())
def test_every_refusal_names_the_rules_permission_and_the_callers_role(
    caller: Actor, operation: Operation, record: RecordScope
) -> None:
    decision = decide(caller, operation, record)
    if isinstance(decision, Forbidden):
        assert decision.required_permission == named_permission(operation)
        assert decision.current_role == caller.role.value


@given(actors, operations, records(), st.frozensets(st.sampled_from(list(Permission))))
def test_more_permissions_never_take_access_away(
    caller: Actor, operation: Operation, record: RecordScope, extra: frozenset[Permission]
) -> None:
    richer = Actor(caller.user_id, caller.organization_id, caller.role, caller.permissions | extra)
    if decide(caller, operation, record) == Allowed():
        assert decide(richer, operation, record) == Allowed()


@given(user_ids, operations, records(st.just(ORG)), employees, st.integers(0, 1000), st.booleans())
def test_an_admin_with_every_permission_is_never_forbidden_in_their_organization(
    user_id: str,
    operation: Operation,
    record: RecordScope,
    target: Employee,
    ids_count: int,
    reassigns: bool,
) -> None:
    admin = actor(Role.ADMIN, user_id=user_id)
    assert decide(admin, operation, record) == Allowed()
    assert not isinstance(decide_create_customer(admin, target), Forbidden)
    assert not isinstance(decide_assign(admin, record, target), Forbidden)
    assert not isinstance(
        decide_bulk_item(admin, record, reassigns=reassigns, target=target), Forbidden
    )
    assert decide_bulk(admin, Operation.BULK_ACTIONS, ids_count, reassigns=reassigns) == Allowed()
    assert scope_filter(admin, operation) == ScopeFilter(ORG, Reach.ALL)


@given(actors, employees, st.sampled_from([Operation.ASSIGN_CUSTOMER, Operation.ASSIGN_ACTION]))
def test_a_foreign_target_answers_like_an_unknown_one(
    caller: Actor, target: Employee, operation: Operation
) -> None:
    record = RecordScope(caller.organization_id, frozenset({caller.user_id}))
    foreign = Employee(
        target.id,
        caller.organization_id + "_other",
        target.name,
        target.role,
        is_active=target.is_active,
        manager_id=target.manager_id,
    )
    assert decide_assign(caller, record, foreign, operation=operation) == decide_assign(
        caller, record, None, operation=operation
    )

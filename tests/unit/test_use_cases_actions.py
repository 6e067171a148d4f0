"""Use cases of the inbox (create, get, update, complete, dismiss, snooze, start, reopen, notes,
the snooze wake-up job) on the in-memory fakes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest

from customers_hub.application.context import Dependencies
from customers_hub.application.errors import PreconditionFailed
from customers_hub.application.use_cases.actions import (
    AddActionNote,
    CompleteAction,
    CreateAction,
    DismissAction,
    ReopenAction,
    SnoozeAction,
    StartAction,
    UpdateAction,
    add_action_note,
    complete_action,
    create_action,
    dismiss_action,
    get_action,
    reopen_action,
    snooze_action,
    start_action,
    update_action,
    wake_due_snoozes,
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
from customers_hub.domain.errors import (
    AssignmentRejected,
    InvalidActionTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from customers_hub.domain.events import ActionCreated, ActionNoteAdded, ActionUpdated, DomainEvent
from customers_hub.domain.model import ActionNote, Actor, Customer, CustomerAction, Employee
from customers_hub.testing.fakes import (
    DEFAULT_NOW,
    FixedClock,
    InMemoryStore,
    RecordingPublisher,
    build_fake_dependencies,
)
from customers_hub.testing.strategies import actor_for

NOW = DEFAULT_NOW
ORG, OTHER_ORG = "org_1", "org_2"


# --- the world: one organization with a team, plus a stranger --------------------------------


def _employee(emp_id: str, role: Role, *, manager: str | None = None, org: str = ORG) -> Employee:
    return Employee(
        id=emp_id, organization_id=org, name=f"name of {emp_id}", role=role, manager_id=manager
    )


ADMIN = _employee("emp_admin", Role.ADMIN)
MANAGER = _employee("emp_mgr", Role.SALES_MANAGER)
AGENT = _employee("emp_a1", Role.SALES_AGENT, manager="emp_mgr")
TEAMMATE = _employee("emp_a2", Role.SALES_AGENT, manager="emp_mgr")
OUTSIDER = _employee("emp_a3", Role.SALES_AGENT, manager="emp_mgr2")
VIEWER = _employee("emp_v", Role.VIEWER, manager="emp_mgr")
RETIRED = attrs.evolve(_employee("emp_old", Role.SALES_AGENT, manager="emp_mgr"), is_active=False)
FOREIGNER = _employee("emp_x", Role.ADMIN, org=OTHER_ORG)
EMPLOYEES = (ADMIN, MANAGER, AGENT, TEAMMATE, OUTSIDER, VIEWER, RETIRED, FOREIGNER)


def _customer(cust_id: str, assignee: str | None, *, org: str = ORG) -> Customer:
    return Customer(
        id=cust_id,
        organization_id=org,
        name=f"عميل {cust_id}",
        phone="+966500000000",
        source=CustomerSource.WHATSAPP,
        stage=Stage.QUALIFIED,
        created_at=NOW - timedelta(days=10),
        updated_at=NOW - timedelta(days=10),
        assigned_employee_id=assignee,
    )


def _action(
    action_id: str, customer: Customer, assignee: str | None, **changes: Any
) -> CustomerAction:
    action = CustomerAction(
        id=action_id,
        organization_id=customer.organization_id,
        customer_id=customer.id,
        customer_name=customer.name,
        type=ActionType.FOLLOW_UP,
        title="متابعة",
        priority=Priority.MEDIUM,
        status=ActionStatus.PENDING,
        source=CustomerSource.MANUAL,
        created_at=NOW - timedelta(days=1),
        updated_at=NOW - timedelta(days=1),
        assigned_to=assignee,
        assigned_to_name=f"name of {assignee}" if assignee else None,
    )
    return attrs.evolve(action, **changes)


MINE = _customer("cust_mine", AGENT.id)  # the agent's customer
TEAMS = _customer("cust_team", TEAMMATE.id)  # a teammate's customer
THEIRS = _customer("cust_theirs", OUTSIDER.id)  # outside the manager's team
VIEWERS = _customer("cust_viewer", VIEWER.id)
UNASSIGNED = _customer("cust_free", None)
RETIREDS = _customer("cust_retired", RETIRED.id)
FOREIGN = _customer("cust_foreign", FOREIGNER.id, org=OTHER_ORG)
CUSTOMERS = (MINE, TEAMS, THEIRS, VIEWERS, UNASSIGNED, RETIREDS, FOREIGN)

A_MINE = _action("action_mine", MINE, AGENT.id)
A_TEAM = _action("action_team", TEAMS, TEAMMATE.id)
A_THEIRS = _action("action_theirs", THEIRS, OUTSIDER.id)
A_VIEWER = _action("action_viewer", VIEWERS, VIEWER.id)
A_FREE_ON_MINE = _action("action_free", MINE, None)
A_DONE = _action(
    "action_done",
    MINE,
    AGENT.id,
    status=ActionStatus.COMPLETED,
    completed_at=NOW - timedelta(hours=1),
    completed_by=AGENT.id,
)
A_FOREIGN = _action("action_foreign", FOREIGN, FOREIGNER.id)
ACTIONS = (A_MINE, A_TEAM, A_THEIRS, A_VIEWER, A_FREE_ON_MINE, A_DONE, A_FOREIGN)


@pytest.fixture
def world() -> tuple[Dependencies, InMemoryStore, RecordingPublisher]:
    store = InMemoryStore()
    for employee in EMPLOYEES:
        store.put_employee(employee)
    for customer in CUSTOMERS:
        store.put_customer(customer)
    for action in ACTIONS:
        store.put_action(action)
    publisher = RecordingPublisher()
    deps, _, _, _ = build_fake_dependencies(store=store, publisher=publisher)
    return deps, store, publisher


World = tuple[Dependencies, InMemoryStore, RecordingPublisher]

AS_ADMIN, AS_MANAGER, AS_AGENT, AS_VIEWER = (
    actor_for(ADMIN),
    actor_for(MANAGER),
    actor_for(AGENT),
    actor_for(VIEWER),
)
AS_FOREIGNER = actor_for(FOREIGNER)


def _snapshot(store: InMemoryStore) -> InMemoryStore:
    return store.copy()


# --- create ----------------------------------------------------------------------------------


async def test_create_action_with_defaults_is_stored_and_announced_after_commit(
    world: World,
) -> None:
    deps, store, publisher = world
    seen_at_publish: list[bool] = []
    publisher.on_publish = lambda batch: seen_at_publish.append(
        all(getattr(e, "action_id", None) in store.actions for e in batch)
    )

    created = await create_action(
        deps,
        AS_AGENT,
        CreateAction(
            customer_id=MINE.id,
            type=ActionType.CALLBACK_REQUEST,
            title="  اتصل بالعميل  ",
            description="   ",
            metadata={"preferredContactTime": "evening", "autoGenerated": True},
        ),
    )

    assert store.actions[created.id] == created
    assert created.customer_name == MINE.name
    assert created.title == "اتصل بالعميل"
    assert created.description is None
    assert (created.status, created.priority, created.source) == (
        ActionStatus.PENDING,
        Priority.MEDIUM,
        CustomerSource.MANUAL,
    )
    # No assignee given: the customer's (active) assignee.
    assert (created.assigned_to, created.assigned_to_name) == (AGENT.id, AGENT.name)
    assert created.metadata == {"preferredContactTime": "evening"}
    assert (created.created_at, created.updated_at, created.version) == (NOW, NOW, 1)
    [event] = publisher.events
    assert isinstance(event, ActionCreated)
    assert (event.action_id, event.customer_id, event.assigned_to) == (
        created.id,
        MINE.id,
        AGENT.id,
    )
    assert event.auto_generated is False
    assert seen_at_publish == [True]


async def test_create_action_keeps_given_fields_and_source(world: World) -> None:
    deps, store, _ = world
    due = NOW + timedelta(days=2)
    created = await create_action(
        deps,
        AS_MANAGER,
        CreateAction(
            customer_id=TEAMS.id,
            type=ActionType.SITE_VISIT,
            title="معاينة",
            description=" فيلا في النرجس ",
            priority=Priority.URGENT,
            due_date=due,
            assigned_to=MANAGER.id,
            source=CustomerSource.WHATSAPP,
        ),
    )
    stored = store.actions[created.id]
    assert (stored.priority, stored.due_date, stored.source) == (
        Priority.URGENT,
        due,
        CustomerSource.WHATSAPP,
    )
    assert stored.description == "فيلا في النرجس"
    assert (stored.assigned_to, stored.assigned_to_name) == (MANAGER.id, MANAGER.name)


async def test_manager_may_assign_a_new_action_to_a_team_member(world: World) -> None:
    deps, store, _ = world
    created = await create_action(
        deps,
        AS_MANAGER,
        CreateAction(
            customer_id=MINE.id, type=ActionType.FOLLOW_UP, title="t", assigned_to=TEAMMATE.id
        ),
    )
    assert store.actions[created.id].assigned_to == TEAMMATE.id


async def test_new_action_of_a_customer_whose_assignee_left_starts_unassigned(
    world: World,
) -> None:
    deps, store, _ = world
    created = await create_action(
        deps, AS_ADMIN, CreateAction(customer_id=RETIREDS.id, type=ActionType.FOLLOW_UP, title="t")
    )
    assert store.actions[created.id].assigned_to is None


@pytest.mark.parametrize(
    ("actor", "customer_id", "assigned_to", "error"),
    [
        pytest.param(AS_AGENT, FOREIGN.id, None, NotFound, id="other-organization"),
        pytest.param(AS_FOREIGNER, MINE.id, None, NotFound, id="foreign-caller"),
        pytest.param(AS_AGENT, "cust_missing", None, NotFound, id="missing"),
        pytest.param(AS_AGENT, THEIRS.id, None, PermissionDenied, id="out-of-scope"),
        pytest.param(AS_MANAGER, THEIRS.id, None, PermissionDenied, id="manager-out-of-team"),
        pytest.param(AS_VIEWER, VIEWERS.id, None, PermissionDenied, id="viewer"),
        pytest.param(AS_AGENT, MINE.id, TEAMMATE.id, PermissionDenied, id="agent-assigns-other"),
        pytest.param(AS_MANAGER, MINE.id, OUTSIDER.id, PermissionDenied, id="manager-non-team"),
        pytest.param(AS_ADMIN, MINE.id, "emp_nobody", AssignmentRejected, id="unknown-assignee"),
        pytest.param(AS_ADMIN, MINE.id, RETIRED.id, AssignmentRejected, id="inactive-assignee"),
        pytest.param(AS_ADMIN, MINE.id, FOREIGNER.id, AssignmentRejected, id="foreign-assignee"),
    ],
)
async def test_create_action_refusals_change_nothing(
    world: World, actor: Actor, customer_id: str, assigned_to: str | None, error: type[Exception]
) -> None:
    deps, store, publisher = world
    before = _snapshot(store)
    command = CreateAction(
        customer_id=customer_id, type=ActionType.FOLLOW_UP, title="t", assigned_to=assigned_to
    )
    with pytest.raises(error) as raised:
        await create_action(deps, actor, command)
    if isinstance(raised.value, AssignmentRejected):
        assert raised.value.details == {"field": "assignedTo"}
    assert store == before
    assert publisher.events == []


async def test_create_action_on_a_soft_deleted_customer_is_not_found(world: World) -> None:
    deps, store, publisher = world
    store.put_customer(attrs.evolve(MINE, deleted_at=NOW - timedelta(hours=1)))
    before = _snapshot(store)
    with pytest.raises(NotFound):
        await create_action(
            deps, AS_AGENT, CreateAction(customer_id=MINE.id, type=ActionType.FOLLOW_UP, title="t")
        )
    assert store == before
    assert publisher.events == []


async def test_create_action_bad_input_names_every_field(world: World) -> None:
    deps, store, publisher = world
    before = _snapshot(store)
    with pytest.raises(ValidationFailed) as raised:
        await create_action(
            deps,
            AS_AGENT,
            CreateAction(
                customer_id=MINE.id,
                type=ActionType.FOLLOW_UP,
                title="   ",
                due_date=datetime(2025, 2, 1, 10, 0),  # no time zone
            ),
        )
    assert {e.field for e in raised.value.errors} == {"title", "dueDate"}
    assert store == before
    assert publisher.events == []


async def test_create_action_without_a_customer_is_bad_input(world: World) -> None:
    deps, store, publisher = world
    before = _snapshot(store)
    with pytest.raises(ValidationFailed) as raised:
        await create_action(
            deps, AS_AGENT, CreateAction(customer_id=" ", type=ActionType.FOLLOW_UP, title="")
        )
    assert {e.field for e in raised.value.errors} == {"customerId", "title"}
    assert store == before
    assert publisher.events == []


async def test_create_action_title_too_long(world: World) -> None:
    deps, store, _ = world
    before = _snapshot(store)
    with pytest.raises(ValidationFailed) as raised:
        await create_action(
            deps,
            AS_AGENT,
            CreateAction(customer_id=MINE.id, type=ActionType.FOLLOW_UP, title="x" * 501),
        )
    assert [e.field for e in raised.value.errors] == ["title"]
    assert store == before


# --- get -------------------------------------------------------------------------------------


async def test_get_action_returns_notes_customer_and_assignee(world: World) -> None:
    deps, store, _ = world
    note = ActionNote(
        id="note_1",
        action_id=A_MINE.id,
        content="أرسلت العروض",
        created_by=AGENT.name,
        created_by_id=AGENT.id,
        created_at=NOW,
    )
    store.put_action(attrs.evolve(A_MINE, notes=(note,)))
    details = await get_action(deps, AS_AGENT, A_MINE.id)
    assert details.action.notes == (note,)
    assert details.customer == MINE
    assert details.assignee == AGENT


@pytest.mark.parametrize(
    ("actor", "action_id"),
    [
        pytest.param(AS_MANAGER, A_TEAM.id, id="manager-team"),
        pytest.param(AS_ADMIN, A_THEIRS.id, id="admin-anything"),
        pytest.param(AS_VIEWER, A_VIEWER.id, id="viewer-own"),
        # Unassigned, but on the agent's customer: in scope.
        pytest.param(AS_AGENT, A_FREE_ON_MINE.id, id="agent-customer-side"),
    ],
)
async def test_get_action_in_scope(world: World, actor: Actor, action_id: str) -> None:
    deps, _, _ = world
    assert (await get_action(deps, actor, action_id)).action.id == action_id


@pytest.mark.parametrize(
    ("actor", "action_id", "error"),
    [
        pytest.param(AS_AGENT, A_FOREIGN.id, NotFound, id="other-organization"),
        pytest.param(AS_AGENT, "action_missing", NotFound, id="missing"),
        pytest.param(AS_AGENT, A_TEAM.id, PermissionDenied, id="agent-out-of-scope"),
        pytest.param(AS_MANAGER, A_THEIRS.id, PermissionDenied, id="manager-out-of-team"),
        pytest.param(AS_VIEWER, A_MINE.id, PermissionDenied, id="viewer-not-own"),
    ],
)
async def test_get_action_refusals(
    world: World, actor: Actor, action_id: str, error: type[Exception]
) -> None:
    deps, _, _ = world
    with pytest.raises(error):
        await get_action(deps, actor, action_id)


async def test_get_action_reports_a_passed_snooze_as_pending_without_writing(
    world: World,
) -> None:
    deps, store, publisher = world
    snoozed = store.put_action(
        attrs.evolve(A_MINE, status=ActionStatus.SNOOZED, snoozed_until=NOW - timedelta(minutes=1))
    )
    before = _snapshot(store)
    details = await get_action(deps, AS_AGENT, A_MINE.id)
    assert (details.action.status, details.action.snoozed_until) == (ActionStatus.PENDING, None)
    assert details.action.version == snoozed.version
    assert store == before
    assert publisher.events == []


async def test_get_action_without_the_permission_is_denied(world: World) -> None:
    deps, _, _ = world
    no_read = actor_for(AGENT, permissions=frozenset({Permission.CUSTOMERS_READ}))
    with pytest.raises(PermissionDenied) as raised:
        await get_action(deps, no_read, A_MINE.id)
    assert raised.value.required_permission == Permission.ACTIONS_READ.value


# --- update ----------------------------------------------------------------------------------


async def test_update_action_changes_fields_appends_the_note_and_emits_events(
    world: World,
) -> None:
    deps, store, publisher = world
    due = NOW + timedelta(hours=5)
    updated = await update_action(
        deps,
        AS_AGENT,
        UpdateAction(
            action_id=A_MINE.id,
            priority=Priority.URGENT,
            due_date=due,
            status=ActionStatus.IN_PROGRESS,
            notes=" العميل طلب الاتصال قبل نهاية اليوم ",
            expected_version=A_MINE.version,
        ),
    )
    stored = store.actions[A_MINE.id]
    assert stored == updated
    assert (stored.priority, stored.due_date, stored.status) == (
        Priority.URGENT,
        due,
        ActionStatus.IN_PROGRESS,
    )
    [note] = stored.notes
    assert (note.content, note.created_by_id, note.created_by) == (
        "العميل طلب الاتصال قبل نهاية اليوم",
        AGENT.id,
        AGENT.name,
    )
    assert stored.version == A_MINE.version + 1  # one request, one new version (one ETag step)
    assert [type(e) for e in publisher.events] == [ActionUpdated, ActionNoteAdded]
    first = publisher.events[0]
    assert isinstance(first, ActionUpdated)
    assert first.changes == {
        "status": ActionStatus.IN_PROGRESS,
        "priority": Priority.URGENT,
        "dueDate": due,
    }


async def test_update_action_with_nothing_new_writes_nothing(world: World) -> None:
    deps, store, publisher = world
    before = _snapshot(store)
    result = await update_action(
        deps, AS_AGENT, UpdateAction(action_id=A_MINE.id, priority=A_MINE.priority, notes="   ")
    )
    assert result == A_MINE
    assert store == before
    assert publisher.events == []


async def test_update_action_with_a_stale_version_is_a_failed_precondition(
    world: World,
) -> None:
    deps, store, publisher = world
    before = _snapshot(store)
    with pytest.raises(PreconditionFailed) as raised:
        await update_action(
            deps,
            AS_AGENT,
            UpdateAction(
                action_id=A_MINE.id, priority=Priority.HIGH, expected_version=A_MINE.version + 1
            ),
        )
    assert raised.value.current_version == A_MINE.version
    assert store == before
    assert publisher.events == []


async def test_update_of_a_terminal_action_is_refused_but_a_note_alone_is_added(
    world: World,
) -> None:
    deps, store, publisher = world
    before = _snapshot(store)
    with pytest.raises(InvalidActionTransition):
        await update_action(
            deps,
            AS_AGENT,
            UpdateAction(action_id=A_DONE.id, priority=Priority.HIGH, notes="ملاحظة"),
        )
    assert store == before
    assert publisher.events == []

    await update_action(deps, AS_AGENT, UpdateAction(action_id=A_DONE.id, notes="ملاحظة"))
    stored = store.actions[A_DONE.id]
    assert [n.content for n in stored.notes] == ["ملاحظة"]
    assert stored.status is ActionStatus.COMPLETED
    assert publisher.names() == ["action.note_added"]


@pytest.mark.parametrize(
    ("command", "fields"),
    [
        pytest.param(UpdateAction(action_id=A_MINE.id, title="  "), {"title"}, id="blank-title"),
        pytest.param(
            UpdateAction(action_id=A_MINE.id, title="", status=ActionStatus.COMPLETED),
            {"title", "status"},
            id="title-and-status",
        ),
        pytest.param(
            UpdateAction(action_id=A_MINE.id, due_date=datetime(2025, 2, 1)),
            {"dueDate"},
            id="naive-due-date",
        ),
        pytest.param(
            UpdateAction(action_id=A_MINE.id, notes="x" * 10_001), {"notes"}, id="note-too-long"
        ),
    ],
)
async def test_update_action_bad_input_changes_nothing(
    world: World, command: UpdateAction, fields: set[str]
) -> None:
    deps, store, publisher = world
    before = _snapshot(store)
    with pytest.raises(ValidationFailed) as raised:
        await update_action(deps, AS_AGENT, command)
    assert {e.field for e in raised.value.errors} == fields
    assert store == before
    assert publisher.events == []


async def test_manager_reassigns_within_the_team(world: World) -> None:
    deps, store, publisher = world
    await update_action(
        deps, AS_MANAGER, UpdateAction(action_id=A_MINE.id, assigned_to=TEAMMATE.id)
    )
    stored = store.actions[A_MINE.id]
    assert (stored.assigned_to, stored.assigned_to_name) == (TEAMMATE.id, TEAMMATE.name)
    [event] = publisher.events
    assert isinstance(event, ActionUpdated)
    assert event.changes["assignedTo"] == TEAMMATE.id
    assert set(event.employee_ids) == {AGENT.id, TEAMMATE.id}


async def test_manager_may_clear_the_assignee(world: World) -> None:
    deps, store, _ = world
    await update_action(deps, AS_MANAGER, UpdateAction(action_id=A_TEAM.id, assigned_to=None))
    assert store.actions[A_TEAM.id].assigned_to is None
    assert store.actions[A_TEAM.id].assigned_to_name is None


async def test_agent_may_claim_an_unassigned_action_on_their_customer(world: World) -> None:
    deps, store, _ = world
    await update_action(
        deps, AS_AGENT, UpdateAction(action_id=A_FREE_ON_MINE.id, assigned_to=AGENT.id)
    )
    assert store.actions[A_FREE_ON_MINE.id].assigned_to == AGENT.id


@pytest.mark.parametrize(
    ("actor", "command", "error"),
    [
        pytest.param(
            AS_AGENT,
            UpdateAction(action_id=A_MINE.id, assigned_to=TEAMMATE.id),
            PermissionDenied,
            id="agent-reassigns",
        ),
        pytest.param(
            AS_AGENT,
            UpdateAction(action_id=A_MINE.id, assigned_to=None),
            PermissionDenied,
            id="agent-clears",
        ),
        pytest.param(
            AS_MANAGER,
            UpdateAction(action_id=A_MINE.id, assigned_to=OUTSIDER.id),
            PermissionDenied,
            id="manager-outside-team",
        ),
        pytest.param(
            AS_ADMIN,
            UpdateAction(action_id=A_MINE.id, assigned_to=RETIRED.id),
            AssignmentRejected,
            id="inactive",
        ),
        pytest.param(
            AS_ADMIN,
            UpdateAction(action_id=A_MINE.id, assigned_to="emp_nobody"),
            AssignmentRejected,
            id="unknown",
        ),
        pytest.param(
            AS_AGENT,
            UpdateAction(action_id=A_FOREIGN.id, priority=Priority.HIGH),
            NotFound,
            id="other-organization",
        ),
        pytest.param(
            AS_AGENT,
            UpdateAction(action_id=A_TEAM.id, priority=Priority.HIGH),
            PermissionDenied,
            id="out-of-scope",
        ),
        pytest.param(
            AS_VIEWER,
            UpdateAction(action_id=A_VIEWER.id, priority=Priority.HIGH),
            PermissionDenied,
            id="viewer",
        ),
    ],
)
async def test_update_action_refusals_change_nothing(
    world: World, actor: Actor, command: UpdateAction, error: type[Exception]
) -> None:
    deps, store, publisher = world
    before = _snapshot(store)
    with pytest.raises(error):
        await update_action(deps, actor, command)
    assert store == before
    assert publisher.events == []


# --- complete, dismiss, snooze, start, reopen ------------------------------------------------


async def test_complete_action_records_who_when_outcome_and_note(world: World) -> None:
    deps, store, publisher = world
    done = await complete_action(
        deps,
        AS_AGENT,
        CompleteAction(
            action_id=A_MINE.id, outcome=" تم الإرسال ", notes="جدولة معاينة", expected_version=1
        ),
    )
    stored = store.actions[A_MINE.id]
    assert stored == done
    assert (stored.status, stored.completed_at, stored.completed_by, stored.outcome) == (
        ActionStatus.COMPLETED,
        NOW,
        AGENT.id,
        "تم الإرسال",
    )
    assert [n.content for n in stored.notes] == ["جدولة معاينة"]
    assert publisher.names() == ["action.updated", "action.note_added"]


async def test_completing_a_completed_action_is_refused_and_changes_nothing(
    world: World,
) -> None:
    deps, store, publisher = world
    before = _snapshot(store)
    with pytest.raises(InvalidActionTransition) as raised:
        await complete_action(deps, AS_AGENT, CompleteAction(action_id=A_DONE.id, notes="مرة أخرى"))
    assert raised.value.details == {"fromStatus": "completed", "toStatus": "completed"}
    assert store == before
    assert publisher.events == []


@pytest.mark.parametrize(
    ("actor", "action_id", "error"),
    [
        pytest.param(AS_AGENT, A_FOREIGN.id, NotFound, id="other-organization"),
        pytest.param(AS_FOREIGNER, A_MINE.id, NotFound, id="foreign-caller"),
        pytest.param(AS_AGENT, A_THEIRS.id, PermissionDenied, id="out-of-scope"),
        pytest.param(AS_VIEWER, A_VIEWER.id, PermissionDenied, id="viewer"),
    ],
)
async def test_complete_action_access_refusals(
    world: World, actor: Actor, action_id: str, error: type[Exception]
) -> None:
    deps, store, publisher = world
    before = _snapshot(store)
    with pytest.raises(error):
        await complete_action(deps, actor, CompleteAction(action_id=action_id))
    assert store == before
    assert publisher.events == []


async def test_complete_action_with_a_stale_version_changes_nothing(world: World) -> None:
    deps, store, publisher = world
    before = _snapshot(store)
    with pytest.raises(PreconditionFailed):
        await complete_action(
            deps, AS_AGENT, CompleteAction(action_id=A_MINE.id, expected_version=7)
        )
    assert store == before
    assert publisher.events == []


async def test_complete_action_is_retried_after_a_concurrent_commit(world: World) -> None:
    deps, store, publisher = world
    store.fail_next_commits(1)
    await complete_action(deps, AS_AGENT, CompleteAction(action_id=A_MINE.id))
    assert store.actions[A_MINE.id].status is ActionStatus.COMPLETED
    assert publisher.names() == ["action.updated"]  # the failed attempt published nothing


async def test_dismiss_action_keeps_the_reason(world: World) -> None:
    deps, store, publisher = world
    await dismiss_action(deps, AS_MANAGER, DismissAction(action_id=A_TEAM.id, reason=" غير مهتم "))
    stored = store.actions[A_TEAM.id]
    assert (stored.status, stored.dismiss_reason) == (ActionStatus.DISMISSED, "غير مهتم")
    assert publisher.names() == ["action.updated"]


@pytest.mark.parametrize("reason", [None, "", "   "])
async def test_dismiss_without_a_reason_is_bad_input(world: World, reason: str | None) -> None:
    deps, store, publisher = world
    before = _snapshot(store)
    with pytest.raises(ValidationFailed) as raised:
        await dismiss_action(deps, AS_AGENT, DismissAction(action_id=A_MINE.id, reason=reason))
    assert [e.field for e in raised.value.errors] == ["reason"]
    assert store == before
    assert publisher.events == []


async def test_dismiss_out_of_scope_is_denied(world: World) -> None:
    deps, store, _ = world
    before = _snapshot(store)
    with pytest.raises(PermissionDenied):
        await dismiss_action(deps, AS_AGENT, DismissAction(action_id=A_THEIRS.id, reason="r"))
    assert store == before


async def test_snooze_action_sets_the_wake_up_time_and_note(world: World) -> None:
    deps, store, publisher = world
    until = NOW + timedelta(days=3)
    result = await snooze_action(
        deps, AS_AGENT, SnoozeAction(action_id=A_MINE.id, snoozed_until=until, notes="مسافر")
    )
    stored = store.actions[A_MINE.id]
    assert result == stored
    assert (stored.status, stored.snoozed_until) == (ActionStatus.SNOOZED, until)
    assert [n.content for n in stored.notes] == ["مسافر"]
    assert publisher.names() == ["action.updated", "action.note_added"]


@pytest.mark.parametrize(
    "until",
    [
        pytest.param(NOW - timedelta(minutes=1), id="past"),
        pytest.param(NOW, id="now"),
        pytest.param(NOW + timedelta(days=366), id="over-a-year"),
        pytest.param(datetime(2025, 2, 1), id="naive"),
    ],
)
async def test_snooze_out_of_bounds_is_bad_input(world: World, until: datetime) -> None:
    deps, store, publisher = world
    before = _snapshot(store)
    with pytest.raises(ValidationFailed) as raised:
        await snooze_action(deps, AS_AGENT, SnoozeAction(action_id=A_MINE.id, snoozed_until=until))
    assert [e.field for e in raised.value.errors] == ["snoozedUntil"]
    assert store == before
    assert publisher.events == []


async def test_snooze_of_a_terminal_action_is_refused(world: World) -> None:
    deps, store, _ = world
    before = _snapshot(store)
    with pytest.raises(InvalidActionTransition):
        await snooze_action(
            deps, AS_AGENT, SnoozeAction(action_id=A_DONE.id, snoozed_until=NOW + timedelta(days=1))
        )
    assert store == before


async def test_start_then_reopen(world: World) -> None:
    deps, store, publisher = world
    started = await start_action(
        deps, AS_AGENT, StartAction(action_id=A_MINE.id, expected_version=1)
    )
    assert started.status is ActionStatus.IN_PROGRESS
    reopened = await reopen_action(
        deps, AS_AGENT, ReopenAction(action_id=A_MINE.id, expected_version=started.version)
    )
    assert reopened.status is ActionStatus.PENDING
    assert store.actions[A_MINE.id] == reopened
    assert publisher.names() == ["action.updated", "action.updated"]


async def test_reopen_of_a_pending_action_is_refused(world: World) -> None:
    deps, store, publisher = world
    before = _snapshot(store)
    with pytest.raises(InvalidActionTransition):
        await reopen_action(deps, AS_AGENT, ReopenAction(action_id=A_MINE.id))
    assert store == before
    assert publisher.events == []


@pytest.mark.parametrize(
    ("actor", "action_id", "error"),
    [
        pytest.param(AS_AGENT, A_FOREIGN.id, NotFound, id="other-organization"),
        pytest.param(AS_AGENT, A_TEAM.id, PermissionDenied, id="out-of-scope"),
        pytest.param(AS_VIEWER, A_VIEWER.id, PermissionDenied, id="viewer"),
        pytest.param(AS_AGENT, A_DONE.id, InvalidActionTransition, id="terminal"),
    ],
)
async def test_start_action_refusals(
    world: World, actor: Actor, action_id: str, error: type[Exception]
) -> None:
    deps, store, publisher = world
    before = _snapshot(store)
    with pytest.raises(error):
        await start_action(deps, actor, StartAction(action_id=action_id))
    assert store == before
    assert publisher.events == []


# --- notes -----------------------------------------------------------------------------------


async def test_a_note_can_be_added_to_a_terminal_action(world: World) -> None:
    deps, store, publisher = world
    note = await add_action_note(
        deps, AS_AGENT, AddActionNote(action_id=A_DONE.id, content="  العميل طلب معلومات إضافية ")
    )
    stored = store.actions[A_DONE.id]
    assert stored.notes == (note,)
    assert (note.content, note.action_id, note.created_by_id, note.created_at) == (
        "العميل طلب معلومات إضافية",
        A_DONE.id,
        AGENT.id,
        NOW,
    )
    assert stored.status is ActionStatus.COMPLETED
    [event] = publisher.events
    assert isinstance(event, ActionNoteAdded)
    assert event.note_id == note.id


@pytest.mark.parametrize(
    ("actor", "action_id", "content", "error"),
    [
        pytest.param(AS_AGENT, A_MINE.id, "   ", ValidationFailed, id="blank"),
        pytest.param(AS_AGENT, A_MINE.id, "x" * 10_001, ValidationFailed, id="too-long"),
        pytest.param(AS_AGENT, A_FOREIGN.id, "n", NotFound, id="other-organization"),
        pytest.param(AS_AGENT, A_THEIRS.id, "n", PermissionDenied, id="out-of-scope"),
        pytest.param(AS_VIEWER, A_VIEWER.id, "n", PermissionDenied, id="viewer"),
    ],
)
async def test_add_action_note_refusals(
    world: World, actor: Actor, action_id: str, content: str, error: type[Exception]
) -> None:
    deps, store, publisher = world
    before = _snapshot(store)
    with pytest.raises(error) as raised:
        await add_action_note(deps, actor, AddActionNote(action_id=action_id, content=content))
    if isinstance(raised.value, ValidationFailed):
        assert [e.field for e in raised.value.errors] == ["content"]
    assert store == before
    assert publisher.events == []


async def test_a_note_with_a_stale_expected_version_changes_nothing(world: World) -> None:
    # HTTP sends none (a note never conflicts); an embedding caller's version is honoured.
    deps, store, publisher = world
    before = _snapshot(store)
    stale = AddActionNote(action_id=A_MINE.id, content="n", expected_version=A_MINE.version + 1)
    with pytest.raises(PreconditionFailed):
        await add_action_note(deps, AS_AGENT, stale)
    assert store == before
    assert publisher.events == []
    current = attrs.evolve(stale, expected_version=A_MINE.version)
    assert (await add_action_note(deps, AS_AGENT, current)).content == "n"


# --- the wake-up job -------------------------------------------------------------------------


async def test_wake_due_snoozes_wakes_passed_snoozes_of_every_organization(
    world: World,
) -> None:
    deps, store, publisher = world
    passed = NOW - timedelta(seconds=30)
    store.put_action(attrs.evolve(A_MINE, status=ActionStatus.SNOOZED, snoozed_until=passed))
    store.put_action(attrs.evolve(A_FOREIGN, status=ActionStatus.SNOOZED, snoozed_until=passed))
    later = store.put_action(
        attrs.evolve(A_TEAM, status=ActionStatus.SNOOZED, snoozed_until=NOW + timedelta(hours=1))
    )
    woken_before_publish: list[bool] = []
    publisher.on_publish = lambda batch: woken_before_publish.append(
        store.actions[A_MINE.id].status is ActionStatus.PENDING
    )

    assert await wake_due_snoozes(deps) == 2

    for action_id in (A_MINE.id, A_FOREIGN.id):
        stored = store.actions[action_id]
        assert (stored.status, stored.snoozed_until) == (ActionStatus.PENDING, None)
        assert stored.version == 2
    assert store.actions[A_TEAM.id] == later
    assert publisher.names() == ["action.updated", "action.updated"]
    assert {e.organization_id for e in publisher.events} == {ORG, OTHER_ORG}
    assert woken_before_publish == [True]
    # Nothing left to wake.
    assert await wake_due_snoozes(deps) == 0
    assert len(publisher.events) == 2


async def test_wake_due_snoozes_respects_its_limit(world: World) -> None:
    deps, store, publisher = world
    for index, action in enumerate((A_MINE, A_TEAM, A_THEIRS)):
        store.put_action(
            attrs.evolve(
                action,
                status=ActionStatus.SNOOZED,
                snoozed_until=NOW - timedelta(minutes=10 - index),
            )
        )
    assert await wake_due_snoozes(deps, limit=2) == 2
    statuses = [store.actions[a.id].status for a in (A_MINE, A_TEAM, A_THEIRS)]
    assert statuses == [ActionStatus.PENDING, ActionStatus.PENDING, ActionStatus.SNOOZED]
    assert len(publisher.events) == 2
    with pytest.raises(ValueError, match="limit"):
        await wake_due_snoozes(deps, limit=0)


async def test_wake_up_makes_a_later_read_agree(world: World) -> None:
    deps, store, _ = world
    store.put_action(
        attrs.evolve(A_MINE, status=ActionStatus.SNOOZED, snoozed_until=NOW + timedelta(minutes=1))
    )
    assert await wake_due_snoozes(deps) == 0
    assert isinstance(deps.clock, FixedClock)
    deps.clock.advance(timedelta(minutes=2))
    assert (await get_action(deps, AS_AGENT, A_MINE.id)).action.status is ActionStatus.PENDING
    assert await wake_due_snoozes(deps) == 1
    assert store.actions[A_MINE.id].status is ActionStatus.PENDING


def _events_of(publisher: RecordingPublisher, kind: type[DomainEvent]) -> list[DomainEvent]:
    return [e for e in publisher.events if isinstance(e, kind)]


async def test_every_write_publishes_once_after_its_commit(world: World) -> None:
    deps, store, publisher = world
    commits_at_publish: list[int] = []
    publisher.on_publish = lambda batch: commits_at_publish.append(store.commits)
    await start_action(deps, AS_AGENT, StartAction(action_id=A_MINE.id))
    await add_action_note(deps, AS_AGENT, AddActionNote(action_id=A_MINE.id, content="n"))
    assert commits_at_publish == [1, 2]
    assert len(_events_of(publisher, ActionUpdated)) == 1
    assert len(_events_of(publisher, ActionNoteAdded)) == 1

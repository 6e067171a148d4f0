"""Bulk operations on actions (endpoints 19–23) on the in-memory fakes: per-item answers, the
request-level limits, set-based writes, events after commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest

from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases.bulk import (
    CONFLICT_REASON,
    MAX_BULK_IDS,
    NOT_FOUND_REASON,
    ActionUpdates,
    BulkAssign,
    BulkComplete,
    BulkDismiss,
    BulkFailure,
    BulkSnooze,
    BulkUpdate,
    bulk_assign,
    bulk_complete,
    bulk_dismiss,
    bulk_snooze,
    bulk_update,
)
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    CustomerSource,
    Priority,
    Role,
    Stage,
)
from customers_hub.domain.errors import AssignmentRejected, PermissionDenied, ValidationFailed
from customers_hub.domain.events import ActionNoteAdded, ActionUpdated
from customers_hub.domain.model import Customer, CustomerAction, Employee
from customers_hub.testing.fakes import (
    DEFAULT_NOW,
    FakeActionRepository,
    InMemoryStore,
    RecordingPublisher,
    build_fake_dependencies,
)
from customers_hub.testing.strategies import actor_for

NOW = DEFAULT_NOW
ORG, OTHER_ORG = "org_1", "org_2"


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


def _customer(cust_id: str, assignee: str | None, *, org: str = ORG) -> Customer:
    return Customer(
        id=cust_id,
        organization_id=org,
        name=f"عميل {cust_id}",
        phone="+966500000000",
        source=CustomerSource.INQUIRY,
        stage=Stage.NEW_LEAD,
        created_at=NOW - timedelta(days=10),
        updated_at=NOW - timedelta(days=10),
        assigned_employee_id=assignee,
    )


MINE = _customer("cust_mine", AGENT.id)
TEAMS = _customer("cust_team", TEAMMATE.id)
THEIRS = _customer("cust_theirs", OUTSIDER.id)
FOREIGN = _customer("cust_foreign", FOREIGNER.id, org=OTHER_ORG)


def _action(
    action_id: str, customer: Customer, assignee: str | None, **changes: Any
) -> CustomerAction:
    action = CustomerAction(
        id=action_id,
        organization_id=customer.organization_id,
        customer_id=customer.id,
        customer_name=customer.name,
        type=ActionType.NEW_INQUIRY,
        title="استفسار",
        priority=Priority.MEDIUM,
        status=ActionStatus.PENDING,
        source=CustomerSource.INQUIRY,
        created_at=NOW - timedelta(days=1),
        updated_at=NOW - timedelta(days=1),
        assigned_to=assignee,
        assigned_to_name=f"name of {assignee}" if assignee else None,
    )
    return attrs.evolve(action, **changes)


M1 = _action("action_m1", MINE, AGENT.id)
M2 = _action("action_m2", MINE, AGENT.id, status=ActionStatus.IN_PROGRESS)
M_DONE = _action("action_mdone", MINE, AGENT.id, status=ActionStatus.DISMISSED, dismiss_reason="r")
M_WOKEN = _action(
    "action_mwoken",
    MINE,
    AGENT.id,
    status=ActionStatus.SNOOZED,
    snoozed_until=NOW - timedelta(hours=1),
)
T1 = _action("action_t1", TEAMS, TEAMMATE.id)
O1 = _action("action_o1", THEIRS, OUTSIDER.id)
F1 = _action("action_f1", FOREIGN, FOREIGNER.id)
ALL_ACTIONS = (M1, M2, M_DONE, M_WOKEN, T1, O1, F1)

AS_ADMIN, AS_MANAGER, AS_AGENT, AS_VIEWER = (
    actor_for(ADMIN),
    actor_for(MANAGER),
    actor_for(AGENT),
    actor_for(VIEWER),
)

World = tuple[Dependencies, InMemoryStore, RecordingPublisher]


@pytest.fixture
def world() -> World:
    store = InMemoryStore()
    for employee in (ADMIN, MANAGER, AGENT, TEAMMATE, OUTSIDER, VIEWER, RETIRED, FOREIGNER):
        store.put_employee(employee)
    for customer in (MINE, TEAMS, THEIRS, FOREIGN):
        store.put_customer(customer)
    for action in ALL_ACTIONS:
        store.put_action(action)
    publisher = RecordingPublisher()
    deps, _, _, _ = build_fake_dependencies(store=store, publisher=publisher)
    return deps, store, publisher


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts the action-repository calls a use case makes (not the fake's internal ones)."""
    counted: dict[str, int] = {}
    depth = [0]
    for name in ("get", "get_many", "save", "save_many"):
        original = getattr(FakeActionRepository, name)

        async def spy(*args: Any, _name: str = name, _original: Any = original, **kw: Any) -> Any:
            if depth[0] == 0:
                counted[_name] = counted.get(_name, 0) + 1
            depth[0] += 1
            try:
                return await _original(*args, **kw)
            finally:
                depth[0] -= 1

        monkeypatch.setattr(FakeActionRepository, name, spy)
    return counted


# --- per-item answers ------------------------------------------------------------------------


async def test_bulk_complete_answers_per_item_and_writes_once(
    world: World, calls: dict[str, int]
) -> None:
    deps, store, publisher = world
    committed_at_publish: list[bool] = []
    publisher.on_publish = lambda batch: committed_at_publish.append(
        store.actions[M1.id].status is ActionStatus.COMPLETED
    )
    ids = [M1.id, T1.id, F1.id, M_DONE.id, "action_missing", M2.id, M1.id, M_WOKEN.id]

    result = await bulk_complete(deps, AS_AGENT, BulkComplete(action_ids=ids, notes="تمت المعالجة"))

    assert result.requested_ids == (
        M1.id, T1.id, F1.id, M_DONE.id, "action_missing", M2.id, M_WOKEN.id,
    )  # fmt: skip
    assert result.succeeded_ids == (M1.id, M2.id, M_WOKEN.id)
    assert result.count == 3
    assert result.failed == (
        BulkFailure(T1.id, "the record is not assigned to you", "PERMISSION_DENIED"),
        BulkFailure(F1.id, NOT_FOUND_REASON, "RESOURCE_NOT_FOUND"),
        BulkFailure(
            M_DONE.id,
            "An action cannot go from dismissed to completed",
            "INVALID_ACTION_TRANSITION",
        ),
        BulkFailure("action_missing", NOT_FOUND_REASON, "RESOURCE_NOT_FOUND"),
    )
    assert result.statuses() == [
        (M1.id, "success"),
        (T1.id, "failed"),
        (F1.id, "failed"),
        (M_DONE.id, "failed"),
        ("action_missing", "failed"),
        (M2.id, "success"),
        (M_WOKEN.id, "success"),
    ]
    for action_id in result.succeeded_ids:
        stored = store.actions[action_id]
        assert (stored.status, stored.completed_by, stored.completed_at) == (
            ActionStatus.COMPLETED,
            AGENT.id,
            NOW,
        )
        assert [n.content for n in stored.notes] == ["تمت المعالجة"]
    note_ids = [store.actions[i].notes[0].id for i in result.succeeded_ids]
    assert len(set(note_ids)) == 3  # each action its own note
    for untouched in (T1, F1, M_DONE, O1):
        assert store.actions[untouched.id] == untouched
    assert [type(e) for e in publisher.events] == [ActionUpdated, ActionNoteAdded] * 3
    assert committed_at_publish == [True]
    # Set-based: one read of the actions, one write, no per-row save.
    assert calls == {"get_many": 1, "save_many": 1}


async def test_manager_bulk_assigns_within_the_team(world: World) -> None:
    deps, store, publisher = world
    result = await bulk_assign(
        deps, AS_MANAGER, BulkAssign(action_ids=[M1.id, T1.id, O1.id], assigned_to=TEAMMATE.id)
    )
    assert result.succeeded_ids == (M1.id, T1.id)
    assert result.failed == (
        BulkFailure(
            O1.id, "the record is not assigned to you or to your team", "PERMISSION_DENIED"
        ),
    )
    assert result.assignee == TEAMMATE
    assert (store.actions[M1.id].assigned_to, store.actions[M1.id].assigned_to_name) == (
        TEAMMATE.id,
        TEAMMATE.name,
    )
    assert store.actions[T1.id] == T1  # already the teammate's: success without a write
    assert store.actions[O1.id] == O1
    assert publisher.names() == ["action.updated"]


async def test_bulk_assign_to_someone_outside_the_team_fails_every_item(world: World) -> None:
    deps, store, publisher = world
    before = store.copy()
    result = await bulk_assign(
        deps, AS_MANAGER, BulkAssign(action_ids=[M1.id, T1.id], assigned_to=OUTSIDER.id)
    )
    assert result.succeeded_ids == ()
    assert {f.code for f in result.failed} == {"PERMISSION_DENIED"}
    assert store == before
    assert publisher.events == []


async def test_bulk_assign_of_a_terminal_action_fails_that_item(world: World) -> None:
    deps, store, _ = world
    result = await bulk_assign(
        deps, AS_ADMIN, BulkAssign(action_ids=[M_DONE.id, O1.id], assigned_to=TEAMMATE.id)
    )
    assert result.succeeded_ids == (O1.id,)
    assert [f.code for f in result.failed] == ["INVALID_ACTION_TRANSITION"]
    assert store.actions[M_DONE.id] == M_DONE


async def test_bulk_dismiss_keeps_the_reason(world: World) -> None:
    deps, store, _ = world
    result = await bulk_dismiss(
        deps, AS_ADMIN, BulkDismiss(action_ids=[M1.id, O1.id], reason=" العملاء غير مستجيبين ")
    )
    assert result.succeeded_ids == (M1.id, O1.id)
    for action_id in result.succeeded_ids:
        assert store.actions[action_id].dismiss_reason == "العملاء غير مستجيبين"
        assert store.actions[action_id].status is ActionStatus.DISMISSED


async def test_bulk_snooze_snoozes_open_actions(world: World) -> None:
    deps, store, _ = world
    until = NOW + timedelta(days=2)
    result = await bulk_snooze(
        deps,
        AS_AGENT,
        BulkSnooze(action_ids=[M1.id, M_WOKEN.id, M_DONE.id], snoozed_until=until),
    )
    assert result.succeeded_ids == (M1.id, M_WOKEN.id)
    assert [f.id for f in result.failed] == [M_DONE.id]
    for action_id in result.succeeded_ids:
        stored = store.actions[action_id]
        assert (stored.status, stored.snoozed_until) == (ActionStatus.SNOOZED, until)


async def test_bulk_update_sets_fields_and_reports_refused_items(world: World) -> None:
    deps, store, publisher = world
    due = NOW + timedelta(days=1)
    result = await bulk_update(
        deps,
        AS_MANAGER,
        BulkUpdate(
            action_ids=[M1.id, T1.id, M_DONE.id],
            updates=ActionUpdates(
                priority=Priority.HIGH, due_date=due, status=ActionStatus.IN_PROGRESS
            ),
        ),
    )
    assert result.succeeded_ids == (M1.id, T1.id)
    assert [(f.id, f.code) for f in result.failed] == [(M_DONE.id, "INVALID_ACTION_TRANSITION")]
    for action_id in result.succeeded_ids:
        stored = store.actions[action_id]
        assert (stored.priority, stored.due_date, stored.status) == (
            Priority.HIGH,
            due,
            ActionStatus.IN_PROGRESS,
        )
    assert result.assignee is None
    assert publisher.names() == ["action.updated", "action.updated"]


async def test_bulk_update_may_reassign(world: World) -> None:
    deps, store, _ = world
    result = await bulk_update(
        deps,
        AS_ADMIN,
        BulkUpdate(action_ids=[O1.id], updates=ActionUpdates(assigned_to=MANAGER.id)),
    )
    assert result.succeeded_ids == (O1.id,)
    assert result.assignee == MANAGER
    assert store.actions[O1.id].assigned_to_name == MANAGER.name


async def test_a_version_conflict_at_the_write_fails_only_that_item(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    deps, store, publisher = world
    original = FakeActionRepository.save_many

    async def racing_save_many(
        self: FakeActionRepository, changes: Sequence[tuple[CustomerAction, int]]
    ) -> set[str]:
        # Another request wrote M2 between our read and our write.
        kept = [c for c in changes if c[0].id != M2.id]
        return await original(self, kept) | {M2.id}

    monkeypatch.setattr(FakeActionRepository, "save_many", racing_save_many)
    result = await bulk_complete(deps, AS_AGENT, BulkComplete(action_ids=[M1.id, M2.id]))
    assert result.succeeded_ids == (M1.id,)
    assert result.failed == (BulkFailure(M2.id, CONFLICT_REASON, "CONCURRENT_UPDATE"),)
    assert store.actions[M1.id].status is ActionStatus.COMPLETED
    assert store.actions[M2.id] == M2
    assert [getattr(e, "action_id", None) for e in publisher.events] == [M1.id]


# --- request-level refusals ------------------------------------------------------------------


def _many(count: int) -> list[str]:
    return [M1.id, *(f"action_missing_{i}" for i in range(count - 1))]


async def test_an_agent_may_send_at_most_25_ids(world: World) -> None:
    deps, store, publisher = world
    before = store.copy()
    with pytest.raises(PermissionDenied) as raised:
        await bulk_complete(deps, AS_AGENT, BulkComplete(action_ids=_many(26)))
    assert "25" in raised.value.message
    assert store == before
    assert publisher.events == []

    result = await bulk_complete(deps, AS_AGENT, BulkComplete(action_ids=_many(25)))
    assert result.succeeded_ids == (M1.id,)
    assert len(result.failed) == 24


async def test_repeated_ids_count_once(world: World) -> None:
    deps, _, _ = world
    result = await bulk_complete(deps, AS_AGENT, BulkComplete(action_ids=_many(25) + _many(25)))
    assert len(result.requested_ids) == 25


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda d: bulk_assign(d, AS_AGENT, BulkAssign(action_ids=[M1.id],
                                                                   assigned_to=AGENT.id)),
                     id="agent-bulk-assign"),
        pytest.param(
            lambda d: bulk_update(
                d, AS_AGENT,
                BulkUpdate(action_ids=[M1.id], updates=ActionUpdates(assigned_to=AGENT.id)),
            ),
            id="agent-bulk-update-reassigns",
        ),
        pytest.param(lambda d: bulk_complete(d, AS_VIEWER, BulkComplete(action_ids=[M1.id])),
                     id="viewer"),
        pytest.param(lambda d: bulk_complete(d, AS_VIEWER, BulkComplete(action_ids=[])),
                     id="viewer-even-with-bad-input"),
        pytest.param(lambda d: bulk_assign(d, AS_VIEWER, BulkAssign(action_ids=[M1.id],
                                                                    assigned_to=" ")),
                     id="viewer-assign-blank"),
    ],
)  # fmt: skip
async def test_bulk_requests_the_caller_may_not_send(world: World, call: Any) -> None:
    deps, store, publisher = world
    before = store.copy()
    with pytest.raises(PermissionDenied):
        await call(deps)
    assert store == before
    assert publisher.events == []


@pytest.mark.parametrize(
    ("ids", "fields"),
    [
        pytest.param([], ["actionIds"], id="empty"),
        pytest.param([M1.id, "  ", 7], ["actionIds[1]", "actionIds[2]"], id="blank-and-non-string"),
        pytest.param([f"action_{i}" for i in range(MAX_BULK_IDS + 1)], ["actionIds"], id="501"),
    ],
)
async def test_bad_action_ids(world: World, ids: list[Any], fields: list[str]) -> None:
    deps, store, publisher = world
    before = store.copy()
    with pytest.raises(ValidationFailed) as raised:
        await bulk_complete(deps, AS_ADMIN, BulkComplete(action_ids=ids))
    assert [e.field for e in raised.value.errors] == fields
    assert store == before
    assert publisher.events == []


async def test_500_distinct_ids_are_accepted(world: World) -> None:
    deps, _, _ = world
    ids = [M1.id, *(f"action_{i}" for i in range(MAX_BULK_IDS - 1))]
    result = await bulk_complete(deps, AS_ADMIN, BulkComplete(action_ids=ids))
    assert result.succeeded_ids == (M1.id,)


@pytest.mark.parametrize(
    ("call", "fields"),
    [
        pytest.param(
            lambda d: bulk_dismiss(d, AS_ADMIN, BulkDismiss(action_ids=[M1.id], reason="  ")),
            ["reason"],
            id="dismiss-blank-reason",
        ),
        pytest.param(
            lambda d: bulk_dismiss(d, AS_ADMIN, BulkDismiss(action_ids=[M1.id], reason=None)),
            ["reason"],
            id="dismiss-no-reason",
        ),
        pytest.param(
            lambda d: bulk_snooze(
                d, AS_ADMIN, BulkSnooze(action_ids=[M1.id], snoozed_until=NOW - timedelta(hours=1))
            ),
            ["snoozedUntil"],
            id="snooze-in-the-past",
        ),
        pytest.param(
            lambda d: bulk_snooze(
                d, AS_ADMIN, BulkSnooze(action_ids=[M1.id], snoozed_until=NOW + timedelta(days=400))
            ),
            ["snoozedUntil"],
            id="snooze-too-far",
        ),
        pytest.param(
            lambda d: bulk_update(
                d, AS_ADMIN, BulkUpdate(action_ids=[M1.id], updates=ActionUpdates())
            ),
            ["updates"],
            id="update-nothing",
        ),
        pytest.param(
            lambda d: bulk_update(
                d,
                AS_ADMIN,
                BulkUpdate(
                    action_ids=[M1.id],
                    updates=ActionUpdates(
                        status=ActionStatus.COMPLETED,
                        due_date=datetime(2025, 2, 1),
                        assigned_to=None,
                    ),
                ),
            ),
            ["updates.status", "updates.dueDate", "updates.assignedTo"],
            id="update-bad-fields",
        ),
        pytest.param(
            lambda d: bulk_assign(d, AS_ADMIN, BulkAssign(action_ids=[M1.id], assigned_to=" ")),
            ["assignedTo"],
            id="assign-blank",
        ),
        pytest.param(
            lambda d: bulk_complete(
                d, AS_ADMIN, BulkComplete(action_ids=[M1.id], notes="x" * 10_001)
            ),
            ["notes"],
            id="complete-notes-too-long",
        ),
    ],
)  # fmt: skip
async def test_bad_operation_input_changes_nothing(
    world: World, call: Any, fields: list[str]
) -> None:
    deps, store, publisher = world
    before = store.copy()
    with pytest.raises(ValidationFailed) as raised:
        await call(deps)
    assert [e.field for e in raised.value.errors] == fields
    assert store == before
    assert publisher.events == []


@pytest.mark.parametrize(
    ("target", "field"),
    [
        pytest.param("emp_nobody", "assignedTo", id="unknown"),
        pytest.param(RETIRED.id, "assignedTo", id="inactive"),
        pytest.param(FOREIGNER.id, "assignedTo", id="other-organization"),
    ],
)
async def test_bulk_assign_to_a_non_assignable_employee_is_rejected(
    world: World, target: str, field: str
) -> None:
    deps, store, publisher = world
    before = store.copy()
    with pytest.raises(AssignmentRejected) as raised:
        await bulk_assign(deps, AS_ADMIN, BulkAssign(action_ids=[M1.id, O1.id], assigned_to=target))
    assert raised.value.details == {"field": field}
    assert store == before
    assert publisher.events == []


async def test_bulk_update_with_an_unknown_assignee_names_the_nested_field(world: World) -> None:
    deps, store, _ = world
    before = store.copy()
    with pytest.raises(AssignmentRejected) as raised:
        await bulk_update(
            deps,
            AS_ADMIN,
            BulkUpdate(action_ids=[M1.id], updates=ActionUpdates(assigned_to="emp_nobody")),
        )
    assert raised.value.details == {"field": "updates.assignedTo"}
    assert store == before


async def test_another_organizations_caller_sees_only_missing_ids(world: World) -> None:
    deps, store, publisher = world
    before = store.copy()
    result = await bulk_complete(
        deps, actor_for(FOREIGNER), BulkComplete(action_ids=[M1.id, F1.id])
    )
    assert result.succeeded_ids == (F1.id,)
    assert result.failed == (BulkFailure(M1.id, NOT_FOUND_REASON, "RESOURCE_NOT_FOUND"),)
    assert store.actions[M1.id] == before.actions[M1.id]
    assert [getattr(e, "organization_id", None) for e in publisher.events] == [OTHER_ORG]

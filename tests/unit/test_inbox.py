"""The action state machine and the inbox rules (rules §2)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from customers_hub.domain import inbox
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    CustomerSource,
    DueDateBucket,
    Priority,
    Role,
)
from customers_hub.domain.errors import InvalidActionTransition, ValidationFailed
from customers_hub.domain.events import ActionNoteAdded, ActionUpdated, DomainEvent
from customers_hub.domain.inbox import (
    ALLOWED_TRANSITIONS,
    bucket_bounds,
    complete,
    dismiss,
    effective_status,
    in_bucket,
    is_overdue,
    month_bounds,
    priority_sort_key,
    reopen,
    snooze,
    start,
    update_action,
    wake_if_due,
)
from customers_hub.domain.model import ActionNote, Actor, CustomerAction

NOW = datetime(2024, 1, 22, 12, 0, tzinfo=UTC)
RIYADH = ZoneInfo("Asia/Riyadh")
P, IP, C, D, S = (
    ActionStatus.PENDING,
    ActionStatus.IN_PROGRESS,
    ActionStatus.COMPLETED,
    ActionStatus.DISMISSED,
    ActionStatus.SNOOZED,
)
ACTOR = Actor(user_id="emp_002", organization_id="org_001", role=Role.SALES_AGENT, name="فاطمة")
Result = tuple[CustomerAction, list[DomainEvent]]


# --- factories -----------------------------------------------------------------------------------


def make_action(status: ActionStatus = P, **overrides: object) -> CustomerAction:
    fields: dict[str, object] = {
        "id": "action_001",
        "organization_id": "org_001",
        "customer_id": "cust_001",
        "customer_name": "محمد الفهد",
        "type": ActionType.FOLLOW_UP,
        "title": "متابعة بعد إرسال العروض",
        "priority": Priority.HIGH,
        "status": status,
        "source": CustomerSource.INQUIRY,
        "created_at": NOW - timedelta(days=2),
        "updated_at": NOW - timedelta(days=1),
        "due_date": NOW + timedelta(days=1),
        "assigned_to": "emp_001",
        "assigned_to_name": "أحمد السعيد",
        "version": 4,
    }
    if status is S:
        fields["snoozed_until"] = NOW + timedelta(days=3)
    if status is C:
        fields |= {"completed_at": NOW - timedelta(hours=1), "completed_by": "emp_001"}
    if status is D:
        fields["dismiss_reason"] = "العميل لم يعد مهتماً"
    fields |= overrides
    return CustomerAction(**fields)  # type: ignore[arg-type]


def make_note(n: int = 1, content: str = "تم الاتصال بالعميل") -> ActionNote:
    return ActionNote(
        id=f"note_{n}",
        action_id="action_001",
        content=content,
        created_by="فاطمة",
        created_by_id="emp_002",
        created_at=NOW,
    )


# The operation that asks for each target status.
OPERATIONS: dict[ActionStatus, Callable[[CustomerAction, datetime], Result]] = {
    P: lambda a, now: reopen(a, actor=ACTOR, now=now),
    IP: lambda a, now: start(a, actor=ACTOR, now=now),
    C: lambda a, now: complete(a, actor=ACTOR, now=now, outcome="تم"),
    D: lambda a, now: dismiss(a, actor=ACTOR, now=now, reason="مكرر"),
    S: lambda a, now: snooze(a, actor=ACTOR, now=now, until=now + timedelta(days=5)),
}


# --- the status matrix ---------------------------------------------------------------------------

#              to:  pending in_prog completed dismissed snoozed
MATRIX: dict[ActionStatus, tuple[bool, bool, bool, bool, bool]] = {
    P: (False, True, True, True, True),
    IP: (True, False, True, True, True),
    S: (True, True, True, True, True),
    C: (False, False, False, False, False),
    D: (False, False, False, False, False),
}
TARGETS = (P, IP, C, D, S)
CELLS = [
    pytest.param(f, t, MATRIX[f][TARGETS.index(t)], id=f"{f.value}->{t.value}")
    for f, t in itertools.product(TARGETS, TARGETS)
]


def test_allowed_transitions_is_the_matrix() -> None:
    assert len(CELLS) == 25
    assert set(ALLOWED_TRANSITIONS) == set(ActionStatus)
    for f, allowed in MATRIX.items():
        assert ALLOWED_TRANSITIONS[f] == {t for t, ok in zip(TARGETS, allowed, strict=True) if ok}


@pytest.mark.parametrize(("from_status", "to_status", "allowed"), CELLS)
def test_status_matrix_cell(
    from_status: ActionStatus, to_status: ActionStatus, allowed: bool
) -> None:
    action = make_action(from_status)
    snapshot = attrs.evolve(action)
    if not allowed:
        with pytest.raises(InvalidActionTransition) as refused:
            OPERATIONS[to_status](action, NOW)
        assert refused.value.code == "INVALID_ACTION_TRANSITION"
        assert refused.value.details == {
            "fromStatus": from_status.value,
            "toStatus": to_status.value,
        }
        assert action == snapshot
        return
    moved, events = OPERATIONS[to_status](action, NOW)
    assert moved.status is to_status
    assert moved.updated_at == NOW
    assert moved.version == action.version + 1
    assert (moved.snoozed_until is not None) is (to_status is S)
    [event] = events
    assert isinstance(event, ActionUpdated)
    assert event.status is to_status
    assert event.action_id == "action_001"
    assert event.employee_ids == ("emp_001",)
    if from_status is not to_status:
        assert event.changes["status"] is to_status
    else:  # snoozed -> snoozed: only the date moves
        assert "status" not in event.changes
        assert event.changes["snoozedUntil"] == NOW + timedelta(days=5)


# --- terminal statuses absorb --------------------------------------------------------------------

terminal_actions = st.builds(
    make_action,
    status=st.sampled_from([C, D]),
    due_date=st.sampled_from([NOW - timedelta(days=1), NOW + timedelta(days=2)]),
    snoozed_until=st.none(),
)
later = st.integers(min_value=0, max_value=400 * 24 * 3600).map(
    lambda s: NOW + timedelta(seconds=s)
)
field_updates = st.sampled_from(
    [
        {"title": "عنوان جديد"},
        {"priority": Priority.URGENT},
        {"due_date": NOW + timedelta(days=9)},
        {"due_date": None},
        {"assigned_to": "emp_009", "assigned_to_name": "سارة"},
        {"description": "وصف"},
        {"status": P},
        {"status": IP},
    ]
)


@settings(max_examples=150, deadline=None)
@given(action=terminal_actions, now=later, target=st.sampled_from(TARGETS), update=field_updates)
def test_terminal_actions_absorb(
    action: CustomerAction, now: datetime, target: ActionStatus, update: dict[str, object]
) -> None:
    snapshot = attrs.evolve(action)
    with pytest.raises(InvalidActionTransition):
        OPERATIONS[target](action, now)
    with pytest.raises(InvalidActionTransition):
        update_action(action, now=now, **update)  # type: ignore[arg-type]
    assert action == snapshot

    noted, events = inbox.add_note(action, make_note(), now=now)
    assert noted.notes == (*action.notes, make_note())
    assert (
        attrs.evolve(noted, notes=action.notes, updated_at=action.updated_at, version=4) == action
    )
    assert [type(e) for e in events] == [ActionNoteAdded]


def test_update_of_terminal_action_with_its_own_values_is_no_change() -> None:
    action = make_action(C)
    assert update_action(action, now=NOW, title=action.title, status=C) == (action, [])


# --- snooze: wake-up and bounds ------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    snooze_for=st.integers(min_value=1, max_value=365 * 24 * 3600),
    probe=st.integers(min_value=-(10**7), max_value=10**7),
)
def test_snooze_wakes_exactly_at_snoozed_until(snooze_for: int, probe: int) -> None:
    until = NOW + timedelta(seconds=snooze_for)
    snoozed, _ = snooze(make_action(P), actor=ACTOR, now=NOW, until=until)
    at = until + timedelta(seconds=probe)

    asleep = at < until
    assert effective_status(snoozed, at) is (S if asleep else P)
    woken, events = wake_if_due(snoozed, at)
    if asleep:
        assert woken is snoozed
        assert events == []
        return
    assert woken.status is P
    assert woken.snoozed_until is None
    assert woken.version == snoozed.version + 1
    assert woken.updated_at == at
    assert events == [
        ActionUpdated(
            organization_id="org_001",
            occurred_at=at,
            employee_ids=("emp_001",),
            action_id="action_001",
            customer_id="cust_001",
            changes={"status": P, "snoozedUntil": None},
            status=P,
        )
    ]


def test_snooze_boundary_to_the_microsecond() -> None:
    until = NOW + timedelta(hours=2)
    action = make_action(S, snoozed_until=until)
    assert effective_status(action, until - timedelta(microseconds=1)) is S
    assert effective_status(action, until) is P


@pytest.mark.parametrize(
    ("until", "ok"),
    [
        pytest.param(NOW, False, id="now"),
        pytest.param(NOW - timedelta(hours=1), False, id="past"),
        pytest.param(NOW + timedelta(seconds=1), True, id="one-second-ahead"),
        pytest.param(NOW + timedelta(days=365), True, id="exactly-one-year"),
        pytest.param(NOW + timedelta(days=365, seconds=1), False, id="one-year-and-a-second"),
        pytest.param(datetime(2024, 2, 1, 9, 0), False, id="naive"),
    ],
)
def test_snooze_bounds(until: datetime, ok: bool) -> None:
    action = make_action(P)
    if ok:
        snoozed, _ = snooze(action, actor=ACTOR, now=NOW, until=until)
        assert snoozed.snoozed_until == until
        assert snoozed.status is S
    else:
        with pytest.raises(ValidationFailed) as bad:
            snooze(action, actor=ACTOR, now=NOW, until=until)
        assert [e.field for e in bad.value.errors] == ["snoozedUntil"]
        assert bad.value.code == "VALIDATION_ERROR"


def test_passed_snooze_counts_as_pending_for_transitions() -> None:
    action = make_action(S, snoozed_until=NOW - timedelta(minutes=1))
    with pytest.raises(InvalidActionTransition) as refused:
        reopen(action, actor=ACTOR, now=NOW)
    assert refused.value.details == {"fromStatus": "pending", "toStatus": "pending"}

    started, [event] = start(action, actor=ACTOR, now=NOW)
    assert started.status is IP
    assert started.snoozed_until is None
    assert isinstance(event, ActionUpdated)
    assert event.changes == {"status": IP, "snoozedUntil": None}


def test_snoozing_again_moves_the_date_or_writes_nothing() -> None:
    action = make_action(S, snoozed_until=NOW + timedelta(days=3))
    assert snooze(action, actor=ACTOR, now=NOW, until=NOW + timedelta(days=3)) == (action, [])
    later_until = NOW + timedelta(days=10)
    moved, [event] = snooze(action, actor=ACTOR, now=NOW, until=later_until)
    assert moved.snoozed_until == later_until
    assert isinstance(event, ActionUpdated)
    assert event.changes == {"snoozedUntil": later_until}


def test_snooze_with_note() -> None:
    until = NOW + timedelta(days=3)
    snoozed, events = snooze(
        make_action(IP), actor=ACTOR, now=NOW, until=until, notes="العميل في سفر", note_id="n1"
    )
    assert snoozed.notes[-1].content == "العميل في سفر"
    assert [type(e) for e in events] == [ActionUpdated, ActionNoteAdded]


# --- complete and dismiss ------------------------------------------------------------------------


def test_complete_records_who_when_and_outcome() -> None:
    action = make_action(IP)
    done, events = complete(
        action,
        actor=ACTOR,
        now=NOW,
        outcome=" العميل مهتم بعقارين ",
        notes="جدولة معاينة يوم الخميس",
        note_id="note_7",
    )
    assert done.status is C
    assert done.completed_at == NOW
    assert done.completed_by == "emp_002"
    assert done.outcome == "العميل مهتم بعقارين"
    assert done.notes == (
        ActionNote(
            id="note_7",
            action_id="action_001",
            content="جدولة معاينة يوم الخميس",
            created_by="فاطمة",
            created_by_id="emp_002",
            created_at=NOW,
        ),
    )
    updated, noted = events
    assert isinstance(updated, ActionUpdated)
    assert updated.changes == {
        "status": C,
        "completedAt": NOW,
        "completedBy": "emp_002",
        "outcome": "العميل مهتم بعقارين",
    }
    assert isinstance(noted, ActionNoteAdded)
    assert noted.note_id == "note_7"


def test_complete_without_outcome_or_notes() -> None:
    done, events = complete(make_action(P), actor=ACTOR, now=NOW, notes="  ")
    assert done.outcome is None
    assert done.notes == ()
    assert [type(e) for e in events] == [ActionUpdated]


def test_notes_without_note_id_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="note_id"):
        complete(make_action(P), actor=ACTOR, now=NOW, notes="ملاحظة")


@pytest.mark.parametrize("reason", [None, "", "   \n"], ids=["none", "empty", "blank"])
def test_dismiss_requires_a_reason(reason: str | None) -> None:
    with pytest.raises(ValidationFailed) as bad:
        dismiss(make_action(P), actor=ACTOR, now=NOW, reason=reason)
    assert [e.field for e in bad.value.errors] == ["reason"]


def test_dismiss_keeps_the_reason() -> None:
    dismissed, [event] = dismiss(
        make_action(P), actor=ACTOR, now=NOW, reason=" العميل لم يعد مهتماً "
    )
    assert dismissed.status is D
    assert dismissed.dismiss_reason == "العميل لم يعد مهتماً"
    assert isinstance(event, ActionUpdated)
    assert event.changes == {"status": D, "dismissReason": "العميل لم يعد مهتماً"}


def test_bad_input_is_reported_before_a_forbidden_transition() -> None:
    with pytest.raises(ValidationFailed):
        dismiss(make_action(C), actor=ACTOR, now=NOW, reason="")


# --- overdue -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "due", "snoozed_until", "overdue"),
    [
        pytest.param(P, NOW - timedelta(seconds=1), None, True, id="pending-past-due"),
        pytest.param(IP, NOW - timedelta(days=3), None, True, id="in-progress-past-due"),
        pytest.param(P, NOW, None, False, id="due-exactly-now"),
        pytest.param(P, NOW + timedelta(hours=1), None, False, id="due-later"),
        pytest.param(P, None, None, False, id="no-due-date"),
        pytest.param(C, NOW - timedelta(days=1), None, False, id="completed"),
        pytest.param(D, NOW - timedelta(days=1), None, False, id="dismissed"),
        pytest.param(S, NOW - timedelta(days=1), NOW + timedelta(days=1), False, id="snoozed"),
        pytest.param(S, NOW - timedelta(days=1), NOW - timedelta(hours=1), True, id="woken"),
    ],
)
def test_overdue(
    status: ActionStatus, due: datetime | None, snoozed_until: datetime | None, overdue: bool
) -> None:
    action = make_action(status, due_date=due, snoozed_until=snoozed_until)
    assert is_overdue(action, NOW) is overdue
    assert in_bucket(action, DueDateBucket.OVERDUE, NOW, RIYADH) is overdue


# --- due-date buckets in Asia/Riyadh -------------------------------------------------------------


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


AFTER_LOCAL_MIDNIGHT = utc("2024-01-22T21:30:00")  # already 2024-01-23 00:30 in Riyadh
BEFORE_LOCAL_MIDNIGHT = utc("2024-01-22T20:59:59")  # still 2024-01-22 23:59:59 in Riyadh


@pytest.mark.parametrize(
    ("bucket", "now", "bounds"),
    [
        pytest.param(
            DueDateBucket.TODAY,
            AFTER_LOCAL_MIDNIGHT,
            (utc("2024-01-22T21:00:00"), utc("2024-01-23T21:00:00")),
            id="today-after-local-midnight",
        ),
        pytest.param(
            DueDateBucket.TODAY,
            BEFORE_LOCAL_MIDNIGHT,
            (utc("2024-01-21T21:00:00"), utc("2024-01-22T21:00:00")),
            id="today-before-local-midnight",
        ),
        pytest.param(
            DueDateBucket.WEEK,
            AFTER_LOCAL_MIDNIGHT,
            (utc("2024-01-22T21:00:00"), utc("2024-01-29T21:00:00")),
            id="week",
        ),
        pytest.param(
            DueDateBucket.OVERDUE, AFTER_LOCAL_MIDNIGHT, (None, AFTER_LOCAL_MIDNIGHT), id="overdue"
        ),
        pytest.param(DueDateBucket.NO_DATE, AFTER_LOCAL_MIDNIGHT, (None, None), id="no-date"),
    ],
)
def test_bucket_bounds(
    bucket: DueDateBucket, now: datetime, bounds: tuple[datetime | None, datetime | None]
) -> None:
    got = bucket_bounds(bucket, now, RIYADH)
    assert got == bounds
    for end in got:
        assert end is None or end.utcoffset() == timedelta(0)


def test_bucket_bounds_follow_the_given_time_zone() -> None:
    assert bucket_bounds(DueDateBucket.TODAY, AFTER_LOCAL_MIDNIGHT, UTC) == (
        utc("2024-01-22T00:00:00"),
        utc("2024-01-23T00:00:00"),
    )
    assert bucket_bounds(DueDateBucket.TODAY, AFTER_LOCAL_MIDNIGHT) == bucket_bounds(
        DueDateBucket.TODAY, AFTER_LOCAL_MIDNIGHT, RIYADH
    )


@pytest.mark.parametrize(
    ("due", "today", "week"),
    [
        pytest.param(utc("2024-01-22T20:59:59"), False, False, id="yesterday-local"),
        pytest.param(utc("2024-01-22T21:00:00"), True, True, id="local-midnight"),
        pytest.param(utc("2024-01-23T20:59:59"), True, True, id="end-of-local-day"),
        pytest.param(utc("2024-01-23T21:00:00"), False, True, id="tomorrow-local"),
        pytest.param(utc("2024-01-29T20:59:59"), False, True, id="end-of-week"),
        pytest.param(utc("2024-01-29T21:00:00"), False, False, id="after-week"),
        pytest.param(None, False, False, id="no-date"),
    ],
)
def test_in_bucket_around_local_midnight(due: datetime | None, today: bool, week: bool) -> None:
    action = make_action(P, due_date=due)
    assert in_bucket(action, DueDateBucket.TODAY, AFTER_LOCAL_MIDNIGHT, RIYADH) is today
    assert in_bucket(action, DueDateBucket.WEEK, AFTER_LOCAL_MIDNIGHT, RIYADH) is week
    assert in_bucket(action, DueDateBucket.NO_DATE, AFTER_LOCAL_MIDNIGHT, RIYADH) is (due is None)


instants = st.integers(min_value=0, max_value=3 * 365 * 24 * 3600).map(
    lambda s: utc("2023-06-01T00:00:00") + timedelta(seconds=s)
)


@settings(max_examples=200, deadline=None)
@given(now=instants, due=instants)
def test_today_means_the_same_local_calendar_day(now: datetime, due: datetime) -> None:
    action = make_action(P, due_date=due)
    same_day = due.astimezone(RIYADH).date() == now.astimezone(RIYADH).date()
    assert in_bucket(action, DueDateBucket.TODAY, now, RIYADH) is same_day
    start_, end = month_bounds(now, RIYADH)
    in_month = (due.astimezone(RIYADH).year, due.astimezone(RIYADH).month) == (
        now.astimezone(RIYADH).year,
        now.astimezone(RIYADH).month,
    )
    assert (start_ <= due < end) is in_month


@pytest.mark.parametrize(
    ("now", "bounds"),
    [
        pytest.param(
            utc("2024-01-31T21:30:00"),
            (utc("2024-01-31T21:00:00"), utc("2024-02-29T21:00:00")),
            id="local-february-of-a-leap-year",
        ),
        pytest.param(
            utc("2024-12-31T20:00:00"),
            (utc("2024-11-30T21:00:00"), utc("2024-12-31T21:00:00")),
            id="local-december",
        ),
    ],
)
def test_month_bounds(now: datetime, bounds: tuple[datetime, datetime]) -> None:
    assert month_bounds(now, RIYADH) == bounds


# --- priority order ------------------------------------------------------------------------------


def test_priority_sort_order_is_not_the_alphabet() -> None:
    shuffled = list(Priority)
    random.Random(7).shuffle(shuffled)
    expected = [Priority.URGENT, Priority.HIGH, Priority.MEDIUM, Priority.LOW]
    assert sorted(shuffled, key=priority_sort_key, reverse=True) == expected
    assert list(inbox.PRIORITY_ORDER) == expected
    assert sorted(p.value for p in Priority) != [p.value for p in expected]


# --- update_action and add_note ------------------------------------------------------------------


def test_update_reports_only_changed_fields() -> None:
    action = make_action(P)
    due = NOW + timedelta(hours=4)
    updated, [event] = update_action(
        action, now=NOW, priority=Priority.URGENT, due_date=due, title=action.title
    )
    assert updated.priority is Priority.URGENT
    assert updated.due_date == due
    assert updated.version == action.version + 1
    assert updated.updated_at == NOW
    assert isinstance(event, ActionUpdated)
    assert event.changes == {"priority": Priority.URGENT, "dueDate": due}
    assert event.status is P


def test_update_reassignment_notifies_both_employees() -> None:
    _, [event] = update_action(
        make_action(P), now=NOW, assigned_to="emp_003", assigned_to_name="خالد"
    )
    assert event.employee_ids == ("emp_003", "emp_001")


def test_update_with_nothing_new_is_no_change() -> None:
    action = make_action(IP)
    assert update_action(action, now=NOW) == (action, [])
    assert update_action(action, now=NOW, priority=action.priority, status=IP) == (action, [])


def test_update_status_goes_through_the_machine() -> None:
    started, [event] = update_action(make_action(P), now=NOW, status=IP)
    assert started.status is IP
    assert isinstance(event, ActionUpdated)
    assert event.changes == {"status": IP}

    unsnoozed, _ = update_action(make_action(S), now=NOW, status=P)
    assert unsnoozed.status is P
    assert unsnoozed.snoozed_until is None

    with pytest.raises(InvalidActionTransition) as refused:
        update_action(make_action(D), now=NOW, status=P)
    assert refused.value.details == {"fromStatus": "dismissed", "toStatus": "pending"}


@pytest.mark.parametrize("status", [C, D, S])
def test_update_cannot_set_statuses_that_need_their_own_operation(status: ActionStatus) -> None:
    with pytest.raises(ValidationFailed) as bad:
        update_action(make_action(P), now=NOW, status=status)
    assert [e.field for e in bad.value.errors] == ["status"]


def test_update_validates_every_field_at_once() -> None:
    with pytest.raises(ValidationFailed) as bad:
        update_action(
            make_action(P),
            now=NOW,
            title="   ",
            due_date=datetime(2024, 2, 1),
            status=C,
        )
    assert [e.field for e in bad.value.errors] == ["title", "dueDate", "status"]


def test_update_of_a_woken_action_materializes_the_wake_up() -> None:
    action = make_action(S, snoozed_until=NOW - timedelta(hours=1))
    updated, [event] = update_action(action, now=NOW, priority=Priority.LOW)
    assert updated.status is P
    assert updated.snoozed_until is None
    assert isinstance(event, ActionUpdated)
    assert event.changes == {"status": P, "snoozedUntil": None, "priority": Priority.LOW}


def test_add_note() -> None:
    action = make_action(IP)
    noted, events = inbox.add_note(action, make_note(), now=NOW)
    assert noted.notes == (make_note(),)
    assert noted.version == action.version + 1
    assert events == [
        ActionNoteAdded(
            organization_id="org_001",
            occurred_at=NOW,
            employee_ids=("emp_001",),
            action_id="action_001",
            note_id="note_1",
        )
    ]


def test_add_note_refuses_blank_content_and_foreign_notes() -> None:
    with pytest.raises(ValidationFailed) as bad:
        inbox.add_note(make_action(P), make_note(content="  "), now=NOW)
    assert [e.field for e in bad.value.errors] == ["content"]
    with pytest.raises(ValueError, match="belongs to action"):
        inbox.add_note(make_action(P), attrs.evolve(make_note(), action_id="other"), now=NOW)


# --- the machine against a plain model -----------------------------------------------------------


class ActionMachine(RuleBasedStateMachine):
    """Random operations on one action at an advancing clock, checked against a plain model."""

    def __init__(self) -> None:
        super().__init__()
        self.now = NOW
        self.action = make_action(P, due_date=None)
        # The model: status as stored, wake-up time, number of accepted writes and notes.
        self.status: ActionStatus = P
        self.until: datetime | None = None
        self.writes = self.notes = 0

    def model_status(self) -> ActionStatus:
        if self.status is S and self.until is not None and self.until <= self.now:
            return P
        return self.status

    def apply(self, target: ActionStatus) -> None:
        current = self.model_status()
        allowed = current in (P, IP, S) and (target is not current or target is S)
        try:
            self.action, events = OPERATIONS[target](self.action, self.now)
        except InvalidActionTransition:
            assert not allowed
            return
        assert allowed
        if target is S and current is S and self.until == self.now + timedelta(days=5):
            assert events == []  # snoozed again to the same date: nothing to write
            return
        assert len(events) == 1
        self.status, self.writes = target, self.writes + 1
        self.until = self.now + timedelta(days=5) if target is S else None

    @rule(to_status=st.sampled_from(TARGETS))
    def transition(self, to_status: ActionStatus) -> None:
        self.apply(to_status)

    @rule(hours=st.integers(min_value=0, max_value=24 * 8))
    def wait(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    @precondition(lambda self: self.status is S)
    @rule()
    def wake(self) -> None:
        self.action, events = wake_if_due(self.action, self.now)
        if self.model_status() is P:
            self.status, self.until, self.writes = P, None, self.writes + 1
            assert len(events) == 1
        else:
            assert events == []

    @rule()
    def note(self) -> None:
        self.notes += 1
        self.action, _ = inbox.add_note(self.action, make_note(self.notes), now=self.now)
        self.writes += 1

    @invariant()
    def agrees_with_the_model(self) -> None:
        assert effective_status(self.action, self.now) is self.model_status()
        assert self.action.version == 4 + self.writes
        assert len(self.action.notes) == self.notes
        assert (self.action.completed_at is not None) is (self.status is C)
        assert (self.action.dismiss_reason is not None) is (self.status is D)


ActionMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestActionMachine = ActionMachine.TestCase

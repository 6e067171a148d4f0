"""Appointments that do not collide (rules §10) and employee calendars: the overlap rule as a
table, the calendar range as a table, and the use cases on the in-memory fakes — a refused
booking writes and publishes nothing."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

import pytest
from attrs import evolve, frozen
from hypothesis import given
from hypothesis import strategies as st

from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases import appointments as calendar_module
from customers_hub.application.use_cases.appointments import (
    SITE_VISIT_CANCELLED_REASON,
    calendar_range,
    employee_calendar,
    takes_new_time,
)
from customers_hub.application.use_cases.customer_deletion import DeleteCustomer, delete_customer
from customers_hub.application.use_cases.customers import CreateCustomer, create_customer
from customers_hub.application.use_cases.scheduling import (
    ScheduleAppointment,
    UpdateAppointment,
    schedule_appointment,
    update_appointment,
)
from customers_hub.domain.appointments import (
    LOOK_BACK,
    MAX_DURATION_MINUTES,
    AppointmentConflict,
    ConflictingAppointment,
    Interval,
    blocks,
    conflict,
    conflicts_of,
    interval_of,
)
from customers_hub.domain.enums import ActionStatus, ActionType, AppointmentStatus, AppointmentType
from customers_hub.domain.errors import BusinessRuleViolation, NotFound, PermissionDenied
from customers_hub.domain.model import Actor, Appointment, Customer, Employee
from customers_hub.domain.validation import CustomerDraft
from customers_hub.testing import actor_for
from customers_hub.testing.fakes import (
    FakeUnitOfWorkFactory,
    FixedClock,
    InMemoryStore,
    RecordingPublisher,
    Staff,
    build_fake_dependencies,
    seed_staff,
)
from customers_hub.testing.fakes.appointments import FakeAppointmentBook

ORG, OTHER_ORG = "org_a", "org_b"
E = TypeVar("E", bound=BaseException)
T0 = datetime(2025, 3, 2, 13, 0, tzinfo=UTC)  # 16:00 in Riyadh
S, C, R = AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED, AppointmentStatus.RESCHEDULED


# ---------------------------------------------------------------------------------------------
# The rule as a table


def booking(
    start_minutes: int,
    duration: int = 60,
    *,
    status: AppointmentStatus = S,
    agent: str | None = "emp_agent",
    id: str | None = None,
) -> Appointment:
    """An appointment ``start_minutes`` after :data:`T0`."""
    at = T0 + timedelta(minutes=start_minutes)
    return Appointment(
        id=id or f"apt_{start_minutes}_{duration}_{status.value}_{agent}",
        customer_id="cust_1",
        title="x",
        type=AppointmentType.MEETING,
        at=at,
        duration=duration,
        created_at=T0,
        updated_at=T0,
        status=status,
        agent_id=agent,
    )


# (first, second, conflict?, why)
CONFLICT_TABLE: list[tuple[Appointment, Appointment, bool, str]] = [
    (booking(0), booking(30), True, "the second starts inside the first"),
    (booking(30), booking(0), True, "symmetric"),
    (booking(0, 120), booking(30, 30), True, "contained"),
    (booking(0), booking(0, id="apt_twin"), True, "the same slot twice"),
    (booking(0), booking(60), False, "touching ends: 16:00-17:00 and 17:00-18:00"),
    (booking(60), booking(0), False, "touching ends, the other way"),
    (booking(0), booking(59), True, "one minute of overlap"),
    (booking(0), booking(-59), True, "one minute of overlap before"),
    (booking(0), booking(-60), False, "ends as the first starts"),
    (booking(0), booking(120), False, "apart"),
    (booking(0), booking(30, agent="emp_other"), False, "another employee"),
    (booking(0, agent=None), booking(30, agent=None), False, "no employee holds no time"),
    (booking(0), booking(30, status=C), True, "confirmed holds its time"),
    (booking(0, status=R), booking(30), True, "rescheduled holds its (new) time"),
    *[
        (booking(0), booking(30, status=status), False, f"{status.value} never conflicts")
        for status in (
            AppointmentStatus.CANCELLED,
            AppointmentStatus.COMPLETED,
            AppointmentStatus.NO_SHOW,
        )
    ],
    (booking(0, status=AppointmentStatus.CANCELLED), booking(30), False, "either side"),
    (booking(-MAX_DURATION_MINUTES + 1, MAX_DURATION_MINUTES), booking(0), True, "a day long"),
]


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [(a, b, c) for a, b, c, _ in CONFLICT_TABLE],
    ids=[why for *_, why in CONFLICT_TABLE],
)
def test_the_overlap_rule(first: Appointment, second: Appointment, expected: bool) -> None:
    assert conflict(first, second) is expected
    assert conflict(second, first) is expected


def test_an_appointment_never_conflicts_with_itself() -> None:
    one = booking(0)
    assert not conflict(one, one)
    assert conflicts_of(one, [one, booking(30), booking(-30)]) == [booking(-30), booking(30)]


def test_blocking_statuses() -> None:
    assert {s for s in AppointmentStatus if blocks(booking(0, status=s))} == {S, C, R}
    assert not blocks(booking(0, agent=None))


def test_intervals() -> None:
    assert interval_of(T0, None) == Interval(T0, T0 + timedelta(hours=1))  # the default
    assert interval_of(T0, 90).end == T0 + timedelta(minutes=90)
    with pytest.raises(ValueError, match="ends after it starts"):
        Interval(T0, T0)


@given(
    start=st.integers(-3 * 24 * 60, 3 * 24 * 60),
    duration=st.integers(1, MAX_DURATION_MINUTES),
    window=st.integers(1, 24 * 60),
)
def test_the_look_back_finds_every_overlap(start: int, duration: int, window: int) -> None:
    """Whatever overlaps ``[T0, T0 + window)`` starts after ``T0 - LOOK_BACK``: the bound the
    overlap query seeks from loses nothing."""
    span = interval_of(T0 + timedelta(minutes=start), duration)
    if span.overlaps(Interval(T0, T0 + timedelta(minutes=window))):
        assert span.start > T0 - LOOK_BACK


def test_what_a_conflict_names() -> None:
    refusal = AppointmentConflict(
        "emp_agent",
        [
            ConflictingAppointment("apt_1", T0, 60, customer_id="cust_1"),
            ConflictingAppointment("apt_2", T0, 30),
        ],
    )
    assert refusal.code == "APPOINTMENT_CONFLICT"
    assert refusal.details == {
        "field": "datetime",
        "agentId": "emp_agent",
        "conflicts": [
            {"id": "apt_1", "customerId": "cust_1", "datetime": T0, "duration": 60},
            {"id": "apt_2", "datetime": T0, "duration": 30},
        ],
    }


def test_what_takes_new_time() -> None:
    one = booking(0)
    assert takes_new_time(None, one)
    assert not takes_new_time(one, evolve(one, status=C))  # held already
    assert not takes_new_time(one, evolve(one, notes="x"))
    assert takes_new_time(one, evolve(one, at=T0 + timedelta(hours=1), status=R))
    assert takes_new_time(one, evolve(one, duration=90))
    assert not takes_new_time(one, evolve(one, status=AppointmentStatus.CANCELLED))


# ---------------------------------------------------------------------------------------------
# The calendar range as a table

NOW = datetime(2025, 3, 2, 10, 30, tzinfo=UTC)
DAY = timedelta(days=1)
D = date(2025, 3, 2)
MIDNIGHT = datetime(2025, 3, 2, tzinfo=UTC)

RANGE_TABLE: list[tuple[Any, Any, tuple[datetime, datetime] | str, str]] = [
    (None, None, (MIDNIGHT, MIDNIGHT + 7 * DAY), "defaults: today and 7 days"),
    (D, None, (MIDNIGHT, MIDNIGHT + 7 * DAY), "a date: its whole local day on"),
    (D, D, (MIDNIGHT, MIDNIGHT + DAY), "a date to: inclusive"),
    (NOW, NOW + DAY, (NOW, NOW + DAY), "datetimes as given"),
    (NOW.replace(tzinfo=None), None, (NOW, NOW + 7 * DAY), "no offset: the organization's zone"),
    (D, D + 61 * DAY, (MIDNIGHT, MIDNIGHT + 62 * DAY), "62 days is the most"),
    (D, D + 62 * DAY, "to", "63 days is too many"),
    (NOW, NOW, "to", "empty"),
    (NOW, NOW - DAY, "to", "reversed"),
    (D, D - DAY, "to", "a date before"),
]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [(a, b, c) for a, b, c, _ in RANGE_TABLE],
    ids=[why for *_, why in RANGE_TABLE],
)
def test_the_calendar_range(
    start: Any, end: Any, expected: tuple[datetime, datetime] | str
) -> None:
    if isinstance(expected, str):
        with pytest.raises(BusinessRuleViolation) as refused:
            calendar_range(start, end, UTC, NOW)
        assert refused.value.details["field"] == expected
    else:
        assert calendar_range(start, end, UTC, NOW) == Interval(*expected)


def test_a_calendar_day_is_the_organization_day() -> None:
    window = calendar_range(D, D, ZoneInfo("Asia/Riyadh"), NOW)
    assert window == Interval(MIDNIGHT - timedelta(hours=3), MIDNIGHT + timedelta(hours=21))


# ---------------------------------------------------------------------------------------------
# The use cases on the fakes


@frozen
class Env:
    deps: Dependencies
    store: InMemoryStore
    publisher: RecordingPublisher
    clock: FixedClock
    staff: Staff
    other: Staff

    def actor(self, employee: Employee) -> Actor:
        return actor_for(employee)

    @property
    def now(self) -> datetime:
        return self.clock.now()

    @property
    def agent(self) -> Actor:
        return actor_for(self.staff.agent)

    def last_book(self) -> FakeAppointmentBook:
        """The appointment book of the newest unit of work."""
        factory = cast(FakeUnitOfWorkFactory, self.deps.uow)
        return cast(FakeAppointmentBook, factory.created[-1].appointments)


@pytest.fixture
def env() -> Env:
    deps, store, publisher, clock = build_fake_dependencies()
    staff = seed_staff(store, ORG)
    other = seed_staff(store, OTHER_ORG, prefix="b")
    return Env(deps, store, publisher, clock, staff, other)


_phones = iter(range(10_000_000, 99_999_999))


async def seed(env: Env, assignee: Employee | None = None) -> Customer:
    staff = env.other if assignee is not None and assignee.organization_id != ORG else env.staff
    who = assignee or staff.agent
    customer = (
        await create_customer(
            env.deps,
            env.actor(staff.admin),
            CreateCustomer(
                CustomerDraft(
                    name="محمد", phone=f"+9665{next(_phones):08d}", assigned_employee_id=who.id
                )
            ),
        )
    ).customer
    env.publisher.clear()
    return customer


async def refused(env: Env, error: type[E], call: Awaitable[object]) -> E:
    before = env.store.copy()
    published = len(env.publisher.events)
    with pytest.raises(error) as caught:
        await call
    assert env.store == before
    assert len(env.publisher.events) == published
    return caught.value


def at(hours: float) -> datetime:
    """``hours`` after the fakes' clock (2025-01-15 09:00 UTC)."""
    return datetime(2025, 1, 16, 9, 0, tzinfo=UTC) + timedelta(hours=hours)


def book(
    env: Env,
    customer: Customer,
    when: datetime,
    *,
    by: Actor | None = None,
    duration: int = 60,
    kind: AppointmentType = AppointmentType.MEETING,
    agent_id: str | None = None,
    allow: bool = False,
) -> Awaitable[Appointment]:
    return schedule_appointment(
        env.deps,
        by or env.agent,
        ScheduleAppointment(
            customer_id=customer.id,
            title="معاينة",
            type=kind,
            at=when,
            duration=duration,
            agent_id=agent_id,
            allow_conflict=allow,
        ),
    )


def move(
    env: Env,
    appointment: Appointment,
    when: datetime,
    *,
    allow: bool = False,
    by: Actor | None = None,
) -> Awaitable[Appointment]:
    return update_appointment(
        env.deps,
        by or env.agent,
        UpdateAppointment(
            customer_id=appointment.customer_id,
            appointment_id=appointment.id,
            at=when,
            allow_conflict=allow,
        ),
    )


async def test_a_second_booking_of_the_same_slot_is_refused_naming_the_first(env: Env) -> None:
    first_customer, second_customer = await seed(env), await seed(env)
    first = await book(env, first_customer, at(0))
    error = await refused(env, AppointmentConflict, book(env, second_customer, at(0.5)))
    assert error.agent_id == env.staff.agent.id
    assert error.conflicts == (
        ConflictingAppointment(first.id, first.at, 60, customer_id=first_customer.id),
    )
    # The check held the employee before reading (the SQL adapter's lock).
    assert env.last_book().held == [(ORG, env.staff.agent.id)]


async def test_allow_conflict_books_anyway_and_the_booking_then_holds_its_time(env: Env) -> None:
    customer = await seed(env)
    first = await book(env, customer, at(0))
    second = await book(env, customer, at(0), allow=True)
    assert second.at == first.at
    assert env.last_book().held == []  # no check, no lock
    error = await refused(env, AppointmentConflict, book(env, customer, at(0.25)))
    assert [c.id for c in error.conflicts] == sorted([first.id, second.id])


async def test_what_does_not_conflict(env: Env) -> None:
    customer = await seed(env)
    await book(env, customer, at(0))
    await book(env, customer, at(1))  # touching ends
    await book(env, customer, at(-1), duration=60)  # touching the start
    await book(env, customer, at(0), agent_id=env.staff.outsider.id)  # another employee
    assert len(env.store.appointments) == 4


@pytest.mark.parametrize(
    "status", [AppointmentStatus.CANCELLED, AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW]
)
async def test_closed_appointments_free_their_time(env: Env, status: AppointmentStatus) -> None:
    customer = await seed(env)
    first = await book(env, customer, at(0))
    await update_appointment(
        env.deps,
        env.agent,
        UpdateAppointment(customer_id=customer.id, appointment_id=first.id, status=status),
    )
    again = await book(env, customer, at(0))
    assert again.status is AppointmentStatus.SCHEDULED


async def test_a_soft_deleted_customer_holds_no_time(env: Env) -> None:
    gone, customer = await seed(env), await seed(env)
    await book(env, gone, at(0))
    await delete_customer(env.deps, env.actor(env.staff.admin), DeleteCustomer(gone.id))
    await book(env, customer, at(0))


async def test_another_organization_never_conflicts(env: Env) -> None:
    theirs = await seed(env, env.other.agent)
    # The same employee id in another organization is another employee.
    await book(env, theirs, at(0), by=env.actor(env.other.agent))
    mine = await seed(env)
    await book(env, mine, at(0), by=env.actor(env.staff.admin), agent_id=env.staff.agent.id)


async def test_a_customer_outside_the_callers_scope_is_named_by_id_and_time_only(
    env: Env,
) -> None:
    # The admin booked the agent for a customer of the outsider: the agent cannot read it.
    outsiders = await seed(env, env.staff.outsider)
    hidden = await book(
        env, outsiders, at(0), by=env.actor(env.staff.admin), agent_id=env.staff.agent.id
    )
    mine = await seed(env)
    error = await refused(env, AppointmentConflict, book(env, mine, at(0)))
    assert error.conflicts == (ConflictingAppointment(hidden.id, hidden.at, 60),)
    assert "customerId" not in error.details["conflicts"][0]  # type: ignore[index]
    # The admin reads every customer: named in full.
    error = await refused(
        env,
        AppointmentConflict,
        book(env, mine, at(0), by=env.actor(env.staff.admin), agent_id=env.staff.agent.id),
    )
    assert error.conflicts[0].customer_id == outsiders.id


async def test_moving_into_another_appointment_is_refused_unless_allowed(env: Env) -> None:
    customer = await seed(env)
    first = await book(env, customer, at(0))
    second = await book(env, customer, at(3))
    await refused(env, AppointmentConflict, move(env, second, at(0.5)))
    # Moving within its own old slot conflicts with nothing but others.
    moved = await move(env, second, at(3.5))
    assert moved.at == at(3.5)
    forced = await move(env, moved, at(0.5), allow=True)
    assert forced.at == at(0.5)
    # Changing only the status of an overlapping pair never conflicts: its time was held.
    confirmed = await update_appointment(
        env.deps,
        env.agent,
        UpdateAppointment(customer_id=customer.id, appointment_id=forced.id, status=C),
    )
    assert confirmed.status is C
    assert env.store.appointments[first.id].at == at(0)


async def site_visit(env: Env) -> tuple[Customer, Appointment]:
    customer = await seed(env)
    visit = await book(env, customer, at(0), kind=AppointmentType.SITE_VISIT)
    env.publisher.clear()
    return customer, visit


def visit_action(env: Env, customer: Customer) -> Any:
    (action,) = [a for a in env.store.actions_of(customer.id) if a.type is ActionType.SITE_VISIT]
    return action


async def test_moving_a_site_visit_moves_its_action(env: Env) -> None:
    customer, visit = await site_visit(env)
    before = visit_action(env, customer)
    await move(env, visit, at(5))
    action = visit_action(env, customer)
    assert action.due_date == at(5)
    assert action.version == before.version + 1
    assert env.publisher.names() == ["customer.updated", "action.updated"]


async def test_cancelling_a_site_visit_dismisses_its_action(env: Env) -> None:
    customer, visit = await site_visit(env)
    await update_appointment(
        env.deps,
        env.agent,
        UpdateAppointment(
            customer_id=customer.id, appointment_id=visit.id, status=AppointmentStatus.CANCELLED
        ),
    )
    action = visit_action(env, customer)
    assert action.status is ActionStatus.DISMISSED
    assert action.dismiss_reason == SITE_VISIT_CANCELLED_REASON
    assert env.publisher.names() == ["customer.updated", "action.updated"]


@pytest.mark.parametrize("status", [AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW, C])
async def test_other_changes_leave_the_site_visit_action(
    env: Env, status: AppointmentStatus
) -> None:
    customer, visit = await site_visit(env)
    before = visit_action(env, customer)
    await update_appointment(
        env.deps,
        env.agent,
        UpdateAppointment(customer_id=customer.id, appointment_id=visit.id, status=status),
    )
    assert visit_action(env, customer) == before


async def test_a_closed_site_visit_action_is_left_alone(env: Env) -> None:
    customer, visit = await site_visit(env)
    action = visit_action(env, customer)
    env.store.actions[action.id] = evolve(action, status=ActionStatus.COMPLETED)
    moved = await move(env, visit, at(5))
    assert moved.at == at(5)
    assert visit_action(env, customer).due_date == at(0)


async def test_a_refused_move_leaves_the_site_visit_action(env: Env) -> None:
    customer, visit = await site_visit(env)
    await book(env, customer, at(5))
    await refused(env, AppointmentConflict, move(env, visit, at(5)))
    assert visit_action(env, customer).due_date == at(0)


# ---------------------------------------------------------------------------------------------
# Employee calendars


async def test_the_calendar_lists_busy_slots_in_the_range(env: Env) -> None:
    customer = await seed(env)
    early = await book(env, customer, at(-2), duration=90)  # runs into the range
    inside = await book(env, customer, at(0))
    await book(env, customer, at(1), agent_id=env.staff.outsider.id)  # another employee
    cancelled = await book(env, customer, at(2))
    await update_appointment(
        env.deps,
        env.agent,
        UpdateAppointment(
            customer_id=customer.id, appointment_id=cancelled.id, status=AppointmentStatus.CANCELLED
        ),
    )
    await book(env, customer, at(30))  # after the range
    calendar = await employee_calendar(
        env.deps, env.agent, env.staff.agent.id, start=at(-1), end=at(24)
    )
    assert [s.appointment.id for s in calendar.slots] == [early.id, inside.id]
    assert calendar.slots[0].interval == Interval(at(-2), at(-0.5))
    assert all(s.visible for s in calendar.slots)
    assert not calendar.truncated
    assert (calendar.start, calendar.end) == (at(-1), at(24))


async def test_a_truncated_calendar_says_so(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calendar_module, "MAX_CALENDAR_SLOTS", 2)
    customer = await seed(env)
    booked = [await book(env, customer, at(hour)) for hour in range(3)]
    calendar = await employee_calendar(
        env.deps, env.agent, env.staff.agent.id, start=at(-1), end=at(24)
    )
    assert [s.appointment.id for s in calendar.slots] == [b.id for b in booked[:2]]
    assert calendar.truncated


async def test_who_may_read_whose_calendar(env: Env) -> None:
    staff = env.staff
    allowed = [
        (staff.admin, staff.agent),
        (staff.admin, staff.outsider),
        (staff.manager, staff.manager),
        (staff.manager, staff.agent),  # a direct report
        (staff.agent, staff.agent),
        (staff.viewer, staff.viewer),
    ]
    for reader, owner in allowed:
        calendar = await employee_calendar(env.deps, env.actor(reader), owner.id)
        assert calendar.employee_id == owner.id
    forbidden = [
        (staff.manager, staff.outsider),  # not in the team
        (staff.agent, staff.manager),
        (staff.agent, staff.outsider),
        (staff.viewer, staff.agent),
    ]
    for reader, owner in forbidden:
        with pytest.raises(PermissionDenied):
            await employee_calendar(env.deps, env.actor(reader), owner.id)
    for missing in (env.other.agent.id, "emp_nobody"):
        with pytest.raises(NotFound) as not_found:
            await employee_calendar(env.deps, env.actor(staff.admin), missing)
        assert not_found.value.resource_type == "employee"


async def test_access_is_decided_before_the_range(env: Env) -> None:
    with pytest.raises(NotFound):
        await employee_calendar(
            env.deps, env.actor(env.staff.admin), env.other.agent.id, start=at(1), end=at(0)
        )
    with pytest.raises(PermissionDenied):
        await employee_calendar(env.deps, env.agent, env.staff.outsider.id, start=at(1), end=at(0))
    with pytest.raises(BusinessRuleViolation):
        await employee_calendar(env.deps, env.agent, env.staff.agent.id, start=at(1), end=at(0))


async def test_a_slot_of_a_customer_outside_the_scope_shows_its_time_only(env: Env) -> None:
    outsiders = await seed(env, env.staff.outsider)
    hidden = await book(
        env, outsiders, at(0), by=env.actor(env.staff.admin), agent_id=env.staff.agent.id
    )
    mine = await seed(env)
    shown = await book(env, mine, at(2))
    as_agent = await employee_calendar(
        env.deps, env.agent, env.staff.agent.id, start=at(-1), end=at(5)
    )
    assert [(s.appointment.id, s.visible) for s in as_agent.slots] == [
        (hidden.id, False),
        (shown.id, True),
    ]
    as_manager = await employee_calendar(
        env.deps, env.actor(env.staff.manager), env.staff.agent.id, start=at(-1), end=at(5)
    )
    assert [s.visible for s in as_manager.slots] == [False, True]
    as_admin = await employee_calendar(
        env.deps, env.actor(env.staff.admin), env.staff.agent.id, start=at(-1), end=at(5)
    )
    assert [s.visible for s in as_admin.slots] == [True, True]

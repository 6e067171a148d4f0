"""Relation use cases (interests, interactions, appointments, reminders, documents) on the fakes:
success paths, rule failures, access failures and bad input — a failure changes nothing and
publishes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar, cast

import pytest
from attrs import evolve, frozen

from customers_hub.application.context import MAX_ATTEMPTS, Dependencies, HubSettings
from customers_hub.application.errors import (
    ConcurrentUpdate,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from customers_hub.application.use_cases.customer_deletion import DeleteCustomer, delete_customer
from customers_hub.application.use_cases.customers import CreateCustomer, create_customer
from customers_hub.application.use_cases.documents import (
    DeleteDocument,
    UploadDocument,
    delete_document,
    get_document_content,
    upload_document,
)
from customers_hub.application.use_cases.relations import (
    AddPropertyInterest,
    LogInteraction,
    UpdatePropertyInterestStatus,
    add_property_interest,
    log_interaction,
    update_property_interest_status,
)
from customers_hub.application.use_cases.reminders import (
    AddReminder,
    CompleteReminder,
    add_reminder,
    complete_reminder,
)
from customers_hub.application.use_cases.scheduling import (
    ScheduleAppointment,
    UpdateAppointment,
    schedule_appointment,
    update_appointment,
)
from customers_hub.domain.enums import (
    ActionType,
    AppointmentStatus,
    AppointmentType,
    DocumentType,
    InteractionDirection,
    InteractionType,
    PropertyInterestStatus,
    PropertyStatus,
    PropertyType,
    ReminderStatus,
    Sentiment,
)
from customers_hub.domain.errors import (
    AssignmentRejected,
    BusinessRuleViolation,
    Duplicate,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from customers_hub.domain.model import Actor, Customer, Employee, Preferences, Property
from customers_hub.domain.validation import CustomerDraft
from customers_hub.testing import actor_for
from customers_hub.testing.fakes import (
    FixedClock,
    InMemoryDocumentStorage,
    InMemoryStore,
    RecordingPublisher,
    Staff,
    build_fake_dependencies,
    seed_staff,
)

ORG, OTHER_ORG = "org_a", "org_b"
E = TypeVar("E", bound=BaseException)
PDF = "application/pdf"
MAX_BYTES = 64


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
    def storage(self) -> InMemoryDocumentStorage:
        return cast(InMemoryDocumentStorage, self.deps.storage)


@pytest.fixture
def env() -> Env:
    deps, store, publisher, clock = build_fake_dependencies(
        settings=HubSettings(max_document_bytes=MAX_BYTES)
    )
    staff = seed_staff(store, ORG)
    other = seed_staff(store, OTHER_ORG, prefix="b")
    return Env(deps, store, publisher, clock, staff, other)


_phones = iter(range(10_000_000, 99_999_999))


async def seed(env: Env, *, assignee: Employee | None = None, **draft: Any) -> Customer:
    """A customer created through the use case, assigned to ``assignee`` (default: the agent)."""
    staff = env.staff if assignee is None or assignee.organization_id == ORG else env.other
    who = assignee if assignee is not None else staff.agent
    customer = (
        await create_customer(
            env.deps,
            env.actor(staff.admin),
            CreateCustomer(
                CustomerDraft(
                    name="محمد",
                    phone=f"+9665{next(_phones):08d}",
                    assigned_employee_id=who.id,
                    **draft,
                )
            ),
        )
    ).customer
    env.publisher.clear()
    return customer


async def refused(env: Env, error: type[E], call: Awaitable[object]) -> E:
    """Await ``call`` expecting ``error``; nothing may have changed or been published."""
    before = env.store.copy()
    published = len(env.publisher.events)
    with pytest.raises(error) as caught:
        await call
    assert env.store == before
    assert len(env.publisher.events) == published
    return caught.value


def fields_of(error: ValidationFailed) -> set[str]:
    return {e.field for e in error.errors}


async def check_access(env: Env, call: Any, *args: Any) -> None:
    """The common access failures of a relation write: ``call(deps, actor, customer_id, *args)``.

    Another organization's customer and a missing id → 404; out of scope and viewer → 403; a
    soft-deleted customer → 404.
    """
    mine = await seed(env)
    foreign = await seed(env, assignee=env.other.agent)
    admin = env.actor(env.staff.admin)
    await refused(env, NotFound, call(env.deps, admin, foreign.id, *args))
    await refused(env, NotFound, call(env.deps, admin, "cust_missing", *args))
    await refused(
        env, PermissionDenied, call(env.deps, env.actor(env.staff.outsider), mine.id, *args)
    )
    await refused(
        env, PermissionDenied, call(env.deps, env.actor(env.staff.viewer), mine.id, *args)
    )
    gone = await seed(env)
    await delete_customer(env.deps, admin, DeleteCustomer(gone.id))
    env.publisher.clear()
    await refused(env, NotFound, call(env.deps, admin, gone.id, *args))


async def check_command_access(env: Env, call: Any, command_for: Callable[[str], object]) -> None:
    """:func:`check_access` of a write taking one command, ``call(deps, actor, command)``:
    ``command_for(customer_id)`` is its command naming each customer tried."""
    await check_access(
        env,
        lambda deps, actor, customer_id: call(deps, actor, command_for(customer_id)),
    )


# ---------------------------------------------------------------------------------------------
# Property interests


async def test_adding_a_property_interest(env: Env) -> None:
    customer = await seed(env)
    interest = await add_property_interest(
        env.deps,
        env.actor(env.staff.agent),
        AddPropertyInterest(
            customer_id=customer.id,
            property_id="prop_villa_023",
            property_title=" فيلا راقية ",
            property_price=Decimal(2_800_000),
            property_type=PropertyType.VILLA,
            status=PropertyInterestStatus.VIEWED,
            rating=5,
        ),
    )
    stored = env.store.customers[customer.id]
    assert stored.property_interests == (interest,)
    assert interest.property_title == "فيلا راقية"
    assert interest.viewed_at == env.now
    assert stored.total_property_views == 1
    assert stored.version == customer.version + 1
    assert env.publisher.names()[0] == "customer.property_added"


async def test_the_same_property_twice_is_a_duplicate(env: Env) -> None:
    customer = await seed(env)
    agent = env.actor(env.staff.agent)
    await add_property_interest(
        env.deps, agent, AddPropertyInterest(customer_id=customer.id, property_id="p1")
    )
    error = await refused(
        env,
        Duplicate,
        add_property_interest(
            env.deps, agent, AddPropertyInterest(customer_id=customer.id, property_id="p1")
        ),
    )
    assert error.field == "propertyId"


async def test_property_interest_bad_input(env: Env) -> None:
    customer = await seed(env)
    error = await refused(
        env,
        ValidationFailed,
        add_property_interest(
            env.deps,
            env.actor(env.staff.agent),
            AddPropertyInterest(
                customer_id=customer.id, property_id=" ", rating=9, property_price=Decimal("-1")
            ),
        ),
    )
    assert fields_of(error) == {"propertyId", "rating", "propertyPrice"}


async def test_property_interest_access(env: Env) -> None:
    await check_command_access(
        env, add_property_interest, lambda c: AddPropertyInterest(customer_id=c, property_id="p1")
    )


async def test_a_rejected_property_leaves_the_matches(env: Env) -> None:
    env.store.put_property(
        Property(
            id="prop_1",
            organization_id=ORG,
            title="شقة",
            type=PropertyType.APARTMENT,
            city="جدة",
            price=Decimal(900_000),
        )
    )
    customer = await seed(
        env,
        preferences=Preferences(property_type=(PropertyType.APARTMENT,), preferred_cities=("جدة",)),
    )
    assert customer.ai_insights is not None
    assert customer.ai_insights.property_matches == ("prop_1",)
    agent = env.actor(env.staff.agent)
    interest = await add_property_interest(
        env.deps, agent, AddPropertyInterest(customer_id=customer.id, property_id="prop_1")
    )
    changed = await update_property_interest_status(
        env.deps,
        agent,
        UpdatePropertyInterestStatus(
            customer_id=customer.id, interest_id=interest.id, status=PropertyInterestStatus.REJECTED
        ),
    )
    assert changed.status is PropertyInterestStatus.REJECTED
    stored = env.store.customers[customer.id]
    assert stored.ai_insights is not None
    assert stored.ai_insights.property_matches == ()


async def test_updating_an_interest_status(env: Env) -> None:
    customer = await seed(env)
    agent = env.actor(env.staff.agent)
    interest = await add_property_interest(
        env.deps, agent, AddPropertyInterest(customer_id=customer.id, property_id="p1")
    )
    env.publisher.clear()
    viewed = await update_property_interest_status(
        env.deps,
        agent,
        UpdatePropertyInterestStatus(
            customer_id=customer.id, interest_id=interest.id, status=PropertyInterestStatus.VIEWED
        ),
    )
    assert viewed.viewed_at == env.now
    assert env.store.customers[customer.id].property_interests == (viewed,)
    assert env.publisher.names()[0] == "customer.updated"
    env.publisher.clear()
    before = env.store.copy()
    again = await update_property_interest_status(
        env.deps,
        agent,
        UpdatePropertyInterestStatus(
            customer_id=customer.id, interest_id=interest.id, status=PropertyInterestStatus.VIEWED
        ),
    )
    assert again == viewed
    assert env.store == before
    assert env.publisher.events == []
    await refused(
        env,
        NotFound,
        update_property_interest_status(
            env.deps,
            agent,
            UpdatePropertyInterestStatus(
                customer_id=customer.id,
                interest_id="pi_missing",
                status=PropertyInterestStatus.VIEWED,
            ),
        ),
    )


async def test_interest_status_access(env: Env) -> None:
    await check_command_access(
        env,
        update_property_interest_status,
        lambda c: UpdatePropertyInterestStatus(
            customer_id=c, interest_id="pi_1", status=PropertyInterestStatus.VIEWED
        ),
    )


# ---------------------------------------------------------------------------------------------
# Interactions


async def test_logging_an_interaction_with_a_follow_up(env: Env) -> None:
    customer = await seed(env)
    follow_up = env.now + timedelta(days=2)
    interaction = await log_interaction(
        env.deps,
        env.actor(env.staff.manager),
        LogInteraction(
            customer_id=customer.id,
            type=InteractionType.CALL,
            direction=InteractionDirection.OUTBOUND,
            duration=15,
            notes="مكالمة متابعة",
            sentiment=Sentiment.POSITIVE,
            follow_up_required=True,
            follow_up_date=follow_up,
        ),
    )
    assert env.store.interactions[interaction.id] == interaction
    assert interaction.agent_id == env.staff.manager.id
    assert interaction.agent_name == env.staff.manager.name
    assert interaction.date == env.now
    stored = env.store.customers[customer.id]
    assert stored.total_interactions == 1
    assert stored.last_contact_at == env.now
    (action,) = env.store.actions_of(customer.id)
    assert action.type is ActionType.FOLLOW_UP
    assert action.due_date == follow_up
    assert action.assigned_to == env.staff.agent.id
    assert env.publisher.names()[:2] == ["customer.interaction_logged", "action.created"]


async def test_an_interaction_without_follow_up_creates_no_action(env: Env) -> None:
    customer = await seed(env)
    await log_interaction(
        env.deps,
        env.actor(env.staff.agent),
        LogInteraction(customer_id=customer.id, type=InteractionType.WHATSAPP, notes="رد"),
    )
    assert env.store.actions_of(customer.id) == []


async def test_interaction_bad_input_names_every_field(env: Env) -> None:
    customer = await seed(env)
    error = await refused(
        env,
        ValidationFailed,
        log_interaction(
            env.deps,
            env.actor(env.staff.agent),
            LogInteraction(
                customer_id=customer.id,
                type=InteractionType.CALL,
                date=env.now + timedelta(days=1),
                duration=-3,
                follow_up_required=True,
            ),
        ),
    )
    assert fields_of(error) == {"date", "duration", "followUpDate"}
    error = await refused(
        env,
        ValidationFailed,
        log_interaction(
            env.deps,
            env.actor(env.staff.agent),
            LogInteraction(
                customer_id=customer.id,
                type=InteractionType.CALL,
                follow_up_required=True,
                follow_up_date=env.now - timedelta(hours=1),
            ),
        ),
    )
    assert fields_of(error) == {"followUpDate"}


async def test_interaction_access(env: Env) -> None:
    await check_command_access(
        env, log_interaction, lambda c: LogInteraction(customer_id=c, type=InteractionType.CALL)
    )


async def test_an_interaction_retried_after_a_conflict_is_logged_once(env: Env) -> None:
    customer = await seed(env)
    env.store.fail_next_commits(1)
    await log_interaction(
        env.deps,
        env.actor(env.staff.agent),
        LogInteraction(
            customer_id=customer.id,
            type=InteractionType.CALL,
            follow_up_required=True,
            follow_up_date=env.now + timedelta(days=1),
        ),
    )
    assert len(env.store.interactions) == 1
    assert len(env.store.actions_of(customer.id)) == 1
    assert env.store.customers[customer.id].total_interactions == 1


async def test_a_failed_interaction_leaves_no_follow_up_action(env: Env) -> None:
    customer = await seed(env)
    env.store.fail_next_commits(MAX_ATTEMPTS)
    await refused(
        env,
        ConcurrentUpdate,
        log_interaction(
            env.deps,
            env.actor(env.staff.agent),
            LogInteraction(
                customer_id=customer.id,
                type=InteractionType.CALL,
                follow_up_required=True,
                follow_up_date=env.now + timedelta(days=1),
            ),
        ),
    )
    assert env.store.actions == {}


# ---------------------------------------------------------------------------------------------
# Appointments


async def test_scheduling_a_site_visit_creates_its_action(env: Env) -> None:
    customer = await seed(env)
    at = env.now + timedelta(days=3)
    appointment = await schedule_appointment(
        env.deps,
        env.actor(env.staff.agent),
        ScheduleAppointment(
            customer_id=customer.id,
            title="معاينة فيلا الياسمين",
            type=AppointmentType.SITE_VISIT,
            at=at,
        ),
    )
    assert env.store.appointments[appointment.id] == appointment
    assert appointment.agent_id == env.staff.agent.id
    assert appointment.status is AppointmentStatus.SCHEDULED
    assert env.store.customers[customer.id].total_appointments == 1
    (action,) = env.store.actions_of(customer.id)
    assert action.type is ActionType.SITE_VISIT
    assert action.due_date == at
    assert action.metadata["appointmentId"] == appointment.id
    assert env.publisher.names()[:2] == ["customer.appointment_scheduled", "action.created"]


async def test_date_and_time_are_read_in_the_organization_time_zone(env: Env) -> None:
    customer = await seed(env)
    appointment = await schedule_appointment(
        env.deps,
        env.actor(env.staff.agent),
        ScheduleAppointment(
            customer_id=customer.id,
            title="اجتماع",
            type=AppointmentType.MEETING,
            date=date(2025, 1, 20),
            time=time(11, 0),
            agent_id="emp_outsider",
        ),
    )
    # 11:00 in Riyadh (UTC+3) is 08:00 UTC.
    assert appointment.at == datetime(2025, 1, 20, 8, 0, tzinfo=UTC)
    assert appointment.agent_name == env.staff.outsider.name
    assert env.store.actions_of(customer.id) == []  # a meeting makes no system action


async def test_appointment_bad_input(env: Env) -> None:
    customer = await seed(env)
    agent = env.actor(env.staff.agent)
    error = await refused(
        env,
        ValidationFailed,
        schedule_appointment(
            env.deps,
            agent,
            ScheduleAppointment(
                customer_id=customer.id,
                title=" ",
                type=AppointmentType.CALL,
                duration=0,
                at=env.now - timedelta(minutes=1),
            ),
        ),
    )
    assert fields_of(error) == {"title", "duration", "datetime"}
    error = await refused(
        env,
        ValidationFailed,
        schedule_appointment(
            env.deps,
            agent,
            ScheduleAppointment(
                customer_id=customer.id, title="x", type=AppointmentType.CALL, date=date(2030, 1, 1)
            ),
        ),
    )
    assert fields_of(error) == {"time"}
    error = await refused(
        env,
        ValidationFailed,
        schedule_appointment(
            env.deps,
            agent,
            ScheduleAppointment(customer_id=customer.id, title="x", type=AppointmentType.CALL),
        ),
    )
    assert fields_of(error) == {"datetime"}


@pytest.mark.parametrize("agent_id", ["emp_nobody", "emp_inactive", "b_agent"])
async def test_an_appointment_agent_must_be_an_active_employee(env: Env, agent_id: str) -> None:
    customer = await seed(env)
    error = await refused(
        env,
        AssignmentRejected,
        schedule_appointment(
            env.deps,
            env.actor(env.staff.agent),
            ScheduleAppointment(
                customer_id=customer.id,
                title="x",
                type=AppointmentType.CALL,
                at=env.now + timedelta(days=1),
                agent_id=agent_id,
            ),
        ),
    )
    assert error.details == {"field": "agentId"}


async def test_appointment_access(env: Env) -> None:
    await check_command_access(
        env,
        schedule_appointment,
        lambda c: ScheduleAppointment(
            customer_id=c, title="x", type=AppointmentType.CALL, at=env.now + timedelta(days=1)
        ),
    )


async def scheduled(env: Env, customer: Customer) -> str:
    appointment = await schedule_appointment(
        env.deps,
        env.actor(env.staff.agent),
        ScheduleAppointment(
            customer_id=customer.id,
            title="x",
            type=AppointmentType.MEETING,
            at=env.now + timedelta(days=1),
        ),
    )
    env.publisher.clear()
    return appointment.id


async def test_rescheduling_an_appointment(env: Env) -> None:
    customer = await seed(env)
    appointment_id = await scheduled(env, customer)
    env.store.appointments[appointment_id] = evolve(
        env.store.appointments[appointment_id], reminder_sent=True
    )
    new_at = env.now + timedelta(days=5)
    changed = await update_appointment(
        env.deps,
        env.actor(env.staff.agent),
        UpdateAppointment(customer_id=customer.id, appointment_id=appointment_id, at=new_at),
    )
    assert changed.at == new_at
    assert changed.status is AppointmentStatus.RESCHEDULED
    assert not changed.reminder_sent
    assert env.store.appointments[appointment_id] == changed
    (event,) = env.publisher.events
    assert event.name == "customer.updated"
    assert set(event.changes) == {  # type: ignore[attr-defined]
        f"appointments.{appointment_id}.status",
        f"appointments.{appointment_id}.datetime",
    }


async def test_a_completed_appointment_keeps_its_status_but_takes_an_outcome(env: Env) -> None:
    customer = await seed(env)
    appointment_id = await scheduled(env, customer)
    agent = env.actor(env.staff.agent)
    done = await update_appointment(
        env.deps,
        agent,
        UpdateAppointment(
            customer_id=customer.id,
            appointment_id=appointment_id,
            status=AppointmentStatus.COMPLETED,
        ),
    )
    assert done.status is AppointmentStatus.COMPLETED
    await refused(
        env,
        BusinessRuleViolation,
        update_appointment(
            env.deps,
            agent,
            UpdateAppointment(
                customer_id=customer.id,
                appointment_id=appointment_id,
                at=env.now + timedelta(days=2),
            ),
        ),
    )
    await refused(
        env,
        BusinessRuleViolation,
        update_appointment(
            env.deps,
            agent,
            UpdateAppointment(
                customer_id=customer.id,
                appointment_id=appointment_id,
                status=AppointmentStatus.CANCELLED,
            ),
        ),
    )
    with_outcome = await update_appointment(
        env.deps,
        agent,
        UpdateAppointment(
            customer_id=customer.id, appointment_id=appointment_id, outcome="العميل مهتم"
        ),
    )
    assert with_outcome.outcome == "العميل مهتم"
    assert with_outcome.status is AppointmentStatus.COMPLETED


async def test_appointment_update_bad_input(env: Env) -> None:
    customer = await seed(env)
    appointment_id = await scheduled(env, customer)
    agent = env.actor(env.staff.agent)
    error = await refused(
        env,
        ValidationFailed,
        update_appointment(
            env.deps,
            agent,
            UpdateAppointment(
                customer_id=customer.id,
                appointment_id=appointment_id,
                status=AppointmentStatus.RESCHEDULED,
            ),
        ),
    )
    assert fields_of(error) == {"datetime"}
    error = await refused(
        env,
        ValidationFailed,
        update_appointment(
            env.deps,
            agent,
            UpdateAppointment(
                customer_id=customer.id,
                appointment_id=appointment_id,
                at=env.now - timedelta(days=1),
                status=AppointmentStatus.NO_SHOW,
                outcome="x" * 5000,
            ),
        ),
    )
    assert fields_of(error) == {"datetime", "status", "outcome"}


async def test_appointment_update_not_found_and_access(env: Env) -> None:
    customer = await seed(env)
    appointment_id = await scheduled(env, customer)
    other_customer = await seed(env)
    agent = env.actor(env.staff.agent)

    def command(customer_id: str, appointment_id: str = appointment_id) -> UpdateAppointment:
        return UpdateAppointment(
            customer_id=customer_id,
            appointment_id=appointment_id,
            status=AppointmentStatus.CONFIRMED,
        )

    await refused(
        env, NotFound, update_appointment(env.deps, agent, command(customer.id, "apt_missing"))
    )
    # An appointment of another customer is not this customer's.
    await refused(env, NotFound, update_appointment(env.deps, agent, command(other_customer.id)))
    await check_command_access(env, update_appointment, command)


async def test_an_appointment_update_changing_nothing_writes_nothing(env: Env) -> None:
    customer = await seed(env)
    appointment_id = await scheduled(env, customer)
    before = env.store.copy()
    same = await update_appointment(
        env.deps,
        env.actor(env.staff.agent),
        UpdateAppointment(
            customer_id=customer.id,
            appointment_id=appointment_id,
            status=AppointmentStatus.SCHEDULED,
        ),
    )
    assert same == env.store.appointments[appointment_id]
    assert env.store == before
    assert env.publisher.events == []


# ---------------------------------------------------------------------------------------------
# Reminders


async def test_adding_and_completing_a_reminder(env: Env) -> None:
    customer = await seed(env)
    agent = env.actor(env.staff.agent)
    reminder = await add_reminder(
        env.deps,
        agent,
        AddReminder(
            customer_id=customer.id, title="متابعة بعد المعاينة", at=env.now + timedelta(hours=6)
        ),
    )
    assert env.store.reminders[reminder.id] == reminder
    assert reminder.created_by_id == env.staff.agent.id
    assert reminder.status is ReminderStatus.PENDING
    assert env.publisher.names() == ["customer.reminder_created"]
    env.clock.advance(timedelta(hours=1))
    done = await complete_reminder(
        env.deps, agent, CompleteReminder(customer_id=customer.id, reminder_id=reminder.id)
    )
    assert done.status is ReminderStatus.COMPLETED
    assert done.completed_at == env.now
    assert env.store.reminders[reminder.id] == done
    assert env.publisher.names()[-1] == "customer.updated"
    before, published = env.store.copy(), len(env.publisher.events)
    assert (
        await complete_reminder(
            env.deps, agent, CompleteReminder(customer_id=customer.id, reminder_id=reminder.id)
        )
        == done
    )
    assert env.store == before
    assert len(env.publisher.events) == published


async def test_reminder_bad_input(env: Env) -> None:
    customer = await seed(env)
    error = await refused(
        env,
        ValidationFailed,
        add_reminder(
            env.deps,
            env.actor(env.staff.agent),
            AddReminder(customer_id=customer.id, title="", at=env.now - timedelta(hours=1)),
        ),
    )
    assert fields_of(error) == {"title", "datetime"}


async def test_reminder_access(env: Env) -> None:
    await check_command_access(
        env,
        add_reminder,
        lambda c: AddReminder(customer_id=c, title="x", at=env.now + timedelta(days=1)),
    )


async def test_completing_a_cancelled_or_missing_reminder_fails(env: Env) -> None:
    customer = await seed(env)
    agent = env.actor(env.staff.agent)
    reminder = await add_reminder(
        env.deps,
        agent,
        AddReminder(customer_id=customer.id, title="x", at=env.now + timedelta(days=1)),
    )
    env.store.reminders[reminder.id] = evolve(reminder, status=ReminderStatus.CANCELLED)
    env.publisher.clear()
    await refused(
        env,
        BusinessRuleViolation,
        complete_reminder(
            env.deps, agent, CompleteReminder(customer_id=customer.id, reminder_id=reminder.id)
        ),
    )
    await refused(
        env,
        NotFound,
        complete_reminder(
            env.deps, agent, CompleteReminder(customer_id=customer.id, reminder_id="rem_missing")
        ),
    )
    await check_command_access(
        env, complete_reminder, lambda c: CompleteReminder(customer_id=c, reminder_id=reminder.id)
    )


# ---------------------------------------------------------------------------------------------
# Documents


def upload(customer_id: str, **kw: Any) -> UploadDocument:
    values: dict[str, Any] = {
        "customer_id": customer_id,
        "name": "صورة الهوية",
        "type": DocumentType.ID_COPY,
        "content": b"%PDF-1.7 id",
        "mime_type": PDF,
        "tags": ("Identity", "kyc", "kyc"),
    }
    values.update(kw)
    return UploadDocument(**values)


async def test_uploading_reading_and_deleting_a_document(env: Env) -> None:
    customer = await seed(env)
    agent = env.actor(env.staff.agent)
    document = await upload_document(env.deps, agent, upload(customer.id))
    assert document.storage_key == f"{document.id}.pdf"
    assert document.id.startswith("doc_")
    assert document.file_size == len(b"%PDF-1.7 id")
    assert document.tags == ("identity", "kyc")
    assert env.store.documents[document.id] == document
    assert env.store.blobs == {document.storage_key: b"%PDF-1.7 id"}
    assert env.publisher.names() == ["customer.document_uploaded"]

    content = await get_document_content(env.deps, agent, customer.id, document.id)
    assert content.content == b"%PDF-1.7 id"
    assert content.document == document

    await delete_document(
        env.deps, agent, DeleteDocument(customer_id=customer.id, document_id=document.id)
    )
    assert env.store.documents == {}
    assert env.store.blobs == {}
    assert env.publisher.names()[-1] == "customer.updated"
    await refused(env, NotFound, get_document_content(env.deps, agent, customer.id, document.id))


async def test_a_too_large_file_is_refused(env: Env) -> None:
    customer = await seed(env)
    error = await refused(
        env,
        PayloadTooLarge,
        upload_document(
            env.deps,
            env.actor(env.staff.agent),
            upload(customer.id, content=b"x" * (MAX_BYTES + 1)),
        ),
    )
    assert error.limit == MAX_BYTES


@pytest.mark.parametrize("mime_type", ["text/html", "application/zip", ""])
async def test_an_unsupported_type_is_refused(env: Env, mime_type: str) -> None:
    customer = await seed(env)
    await refused(
        env,
        UnsupportedMediaType,
        upload_document(
            env.deps, env.actor(env.staff.agent), upload(customer.id, mime_type=mime_type)
        ),
    )


@pytest.mark.parametrize(
    ("mime_type", "extension"),
    [
        ("image/jpeg", ".jpg"),
        ("image/png", ".png"),
        ("image/webp", ".webp"),
        ("image/heic", ".heic"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
        ("Application/PDF; charset=binary", ".pdf"),
    ],
)
async def test_every_accepted_type_gets_its_extension(
    env: Env, mime_type: str, extension: str
) -> None:
    customer = await seed(env)
    document = await upload_document(
        env.deps, env.actor(env.staff.agent), upload(customer.id, mime_type=mime_type)
    )
    assert document.storage_key.endswith(extension)


async def test_document_bad_input(env: Env) -> None:
    customer = await seed(env)
    error = await refused(
        env,
        ValidationFailed,
        upload_document(
            env.deps, env.actor(env.staff.agent), upload(customer.id, name=" ", content=b"")
        ),
    )
    assert fields_of(error) == {"name", "file"}


async def test_document_upload_access(env: Env) -> None:
    await check_command_access(env, upload_document, upload)
    assert env.store.blobs == {}


async def test_bytes_are_removed_when_the_transaction_fails(env: Env) -> None:
    customer = await seed(env)
    env.store.fail_next_commits(MAX_ATTEMPTS)
    await refused(
        env,
        ConcurrentUpdate,
        upload_document(env.deps, env.actor(env.staff.agent), upload(customer.id)),
    )
    assert env.store.blobs == {}
    assert env.store.documents == {}


async def test_a_storage_failure_leaves_no_record(env: Env) -> None:
    customer = await seed(env)
    env.storage.fail_puts = 1
    await refused(
        env,
        OSError,
        upload_document(env.deps, env.actor(env.staff.agent), upload(customer.id)),
    )


async def test_a_retried_upload_keeps_only_the_final_bytes(env: Env) -> None:
    customer = await seed(env)
    env.store.fail_next_commits(1)
    document = await upload_document(env.deps, env.actor(env.staff.agent), upload(customer.id))
    assert list(env.store.blobs) == [document.storage_key]
    assert list(env.store.documents) == [document.id]
    assert len(env.publisher.batches) == 1


async def test_reading_a_document_needs_read_access(env: Env) -> None:
    customer = await seed(env)
    foreign = await seed(env, assignee=env.other.agent)
    document = await upload_document(env.deps, env.actor(env.staff.agent), upload(customer.id))
    env.publisher.clear()
    await refused(
        env,
        PermissionDenied,
        get_document_content(env.deps, env.actor(env.staff.outsider), customer.id, document.id),
    )
    stranger = env.actor(env.other.admin)
    await refused(env, NotFound, get_document_content(env.deps, stranger, customer.id, document.id))
    # The document is not the foreign customer's.
    await refused(env, NotFound, get_document_content(env.deps, stranger, foreign.id, document.id))
    # Missing bytes read as a missing document.
    env.store.blobs.clear()
    await refused(
        env,
        NotFound,
        get_document_content(env.deps, env.actor(env.staff.admin), customer.id, document.id),
    )


async def test_deleting_a_document_failures(env: Env) -> None:
    customer = await seed(env)
    document = await upload_document(env.deps, env.actor(env.staff.agent), upload(customer.id))
    env.publisher.clear()
    await refused(
        env,
        NotFound,
        delete_document(
            env.deps,
            env.actor(env.staff.agent),
            DeleteDocument(customer_id=customer.id, document_id="doc_missing"),
        ),
    )
    await refused(
        env,
        PermissionDenied,
        delete_document(
            env.deps,
            env.actor(env.staff.viewer),
            DeleteDocument(customer_id=customer.id, document_id=document.id),
        ),
    )
    await check_command_access(
        env, delete_document, lambda c: DeleteDocument(customer_id=c, document_id=document.id)
    )
    assert env.store.blobs == {document.storage_key: b"%PDF-1.7 id"}


# ---------------------------------------------------------------------------------------------
# Property interests from the catalog, and the sentiment score


def catalog_villa(org: str, **overrides: Any) -> Property:
    data: dict[str, Any] = {
        "id": "prop_villa_023",
        "organization_id": org,
        "title": "فيلا راقية في حي الياسمين",
        "title_en": "Upscale Villa in Al-Yasmin",
        "type": PropertyType.VILLA,
        "city": "الرياض",
        "district": "حي الياسمين",
        "price": Decimal(2_800_000),
    }
    data.update(overrides)
    return Property(**data)


async def test_a_catalog_property_gives_the_interest_its_title_price_type_and_location(
    env: Env,
) -> None:
    env.store.put_property(catalog_villa(ORG))
    customer = await seed(env)
    interest = await add_property_interest(
        env.deps,
        env.actor(env.staff.agent),
        AddPropertyInterest(
            customer_id=customer.id,
            property_id="prop_villa_023",
            # A stale client copy: the catalog wins for what it knows.
            property_title="عنوان قديم",
            property_price=Decimal(1),
            property_type=PropertyType.LAND,
            property_location="مكان آخر",
            property_image="https://example.com/villa.jpg",
            notes="مهتم جداً",
        ),
    )
    assert interest.property_title == "فيلا راقية في حي الياسمين"
    assert interest.property_title_en == "Upscale Villa in Al-Yasmin"
    assert interest.property_price == Decimal(2_800_000)
    assert interest.property_type is PropertyType.VILLA
    assert interest.property_location == "الرياض - حي الياسمين"
    # What the catalog does not hold is the request's.
    assert interest.property_image == "https://example.com/villa.jpg"
    assert interest.notes == "مهتم جداً"
    assert env.store.customers[customer.id].property_interests == (interest,)


async def test_catalog_gaps_are_filled_from_the_request(env: Env) -> None:
    env.store.put_property(
        catalog_villa(ORG, title_en=None, district=None, status=PropertyStatus.SOLD)
    )
    customer = await seed(env)
    interest = await add_property_interest(
        env.deps,
        env.actor(env.staff.agent),
        AddPropertyInterest(
            customer_id=customer.id, property_id="prop_villa_023", property_title_en="Villa"
        ),
    )
    # A sold property is still known; without a district the location is the city.
    assert interest.property_title == "فيلا راقية في حي الياسمين"
    assert interest.property_title_en == "Villa"
    assert interest.property_location == "الرياض"
    assert interest.property_price == Decimal(2_800_000)


async def test_an_unknown_property_keeps_what_the_request_sent(env: Env) -> None:
    customer = await seed(env)
    interest = await add_property_interest(
        env.deps,
        env.actor(env.staff.agent),
        AddPropertyInterest(
            customer_id=customer.id,
            property_id="prop_external_1",
            property_title="شقة في جدة",
            property_price=Decimal(900_000),
            property_type=PropertyType.APARTMENT,
            property_location="جدة - حي الزهراء",
        ),
    )
    assert (
        interest.property_title,
        interest.property_title_en,
        interest.property_price,
        interest.property_type,
        interest.property_location,
    ) == ("شقة في جدة", None, Decimal(900_000), PropertyType.APARTMENT, "جدة - حي الزهراء")


async def test_another_organizations_property_is_unknown(env: Env) -> None:
    env.store.put_property(catalog_villa(OTHER_ORG))
    customer = await seed(env)
    agent = env.actor(env.staff.agent)
    bare = await add_property_interest(
        env.deps, agent, AddPropertyInterest(customer_id=customer.id, property_id="prop_villa_023")
    )
    # Nothing of the other catalog leaks: no title, price, type or location at all.
    assert (
        bare.property_title,
        bare.property_title_en,
        bare.property_price,
        bare.property_type,
        bare.property_location,
    ) == (None, None, None, None, None)
    other = await seed(env)
    sent = await add_property_interest(
        env.deps,
        agent,
        AddPropertyInterest(
            customer_id=other.id,
            property_id="prop_villa_023",
            property_title="فيلا",
            property_price=Decimal(5),
        ),
    )
    assert (sent.property_title, sent.property_price) == ("فيلا", Decimal(5))


async def test_request_fields_are_validated_even_for_a_catalog_property(env: Env) -> None:
    env.store.put_property(catalog_villa(ORG))
    customer = await seed(env)
    error = await refused(
        env,
        ValidationFailed,
        add_property_interest(
            env.deps,
            env.actor(env.staff.agent),
            AddPropertyInterest(
                customer_id=customer.id,
                property_id="prop_villa_023",
                property_title="x" * 501,
                property_price=Decimal(-1),
            ),
        ),
    )
    assert fields_of(error) == {"propertyTitle", "propertyPrice"}


def sentiment_of(env: Env, customer_id: str) -> int | None:
    insights = env.store.customers[customer_id].ai_insights
    assert insights is not None
    return insights.sentiment_score


async def test_logging_interactions_computes_the_sentiment_score(env: Env) -> None:
    customer = await seed(env)
    agent = env.actor(env.staff.agent)

    async def log(sentiment: Sentiment | None, days_ago: int = 0) -> None:
        await log_interaction(
            env.deps,
            agent,
            LogInteraction(
                customer_id=customer.id,
                type=InteractionType.CALL,
                sentiment=sentiment,
                date=env.now - timedelta(days=days_ago),
            ),
        )

    assert sentiment_of(env, customer.id) is None
    await log(None)
    assert sentiment_of(env, customer.id) is None  # no sentiment recorded yet
    await log(Sentiment.NEGATIVE, days_ago=14)
    assert sentiment_of(env, customer.id) == 0
    await log(Sentiment.POSITIVE)  # newest: the negative, two weeks older, counts half
    assert sentiment_of(env, customer.id) == 67
    await log(None)
    assert sentiment_of(env, customer.id) == 67
    # Another customer's interactions never enter the score.
    stranger = await seed(env)
    await log_interaction(
        env.deps,
        agent,
        LogInteraction(
            customer_id=stranger.id, type=InteractionType.CALL, sentiment=Sentiment.NEGATIVE
        ),
    )
    assert sentiment_of(env, stranger.id) == 0
    assert sentiment_of(env, customer.id) == 67


async def test_the_sentiment_score_survives_other_score_refreshes(env: Env) -> None:
    customer = await seed(env)
    agent = env.actor(env.staff.agent)
    await log_interaction(
        env.deps,
        agent,
        LogInteraction(
            customer_id=customer.id, type=InteractionType.WHATSAPP, sentiment=Sentiment.POSITIVE
        ),
    )
    await add_property_interest(
        env.deps, agent, AddPropertyInterest(customer_id=customer.id, property_id="p")
    )
    assert sentiment_of(env, customer.id) == 100

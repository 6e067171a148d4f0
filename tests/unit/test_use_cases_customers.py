"""Customer use cases on the in-memory fakes: success paths, rule failures, access failures and
bad input — every failure leaves the store as it was and publishes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from attrs import evolve, frozen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers_hub.application.context import MAX_ATTEMPTS, Dependencies
from customers_hub.application.errors import ConcurrentUpdate, PreconditionFailed
from customers_hub.application.use_cases.customer_assignment import AssignCustomer, assign_customer
from customers_hub.application.use_cases.customer_deletion import (
    DeleteCustomer,
    RestoreCustomer,
    delete_customer,
    restore_customer,
)
from customers_hub.application.use_cases.customer_stage import ChangeStage, change_stage
from customers_hub.application.use_cases.customers import (
    PROPERTY_MATCH_DUE_AFTER,
    CreateCustomer,
    UpdateCustomer,
    create_customer,
    get_customer,
    update_customer,
)
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    CustomerSource,
    DocumentType,
    InteractionType,
    Permission,
    PropertyInterestStatus,
    PropertyType,
    Stage,
)
from customers_hub.domain.errors import (
    AssignmentRejected,
    Duplicate,
    InvalidStageTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from customers_hub.domain.lifecycle import StageChangeRequest
from customers_hub.domain.model import (
    Actor,
    Customer,
    CustomerAction,
    Document,
    Employee,
    Interaction,
    Preferences,
    Property,
    PropertyInterest,
)
from customers_hub.domain.validation import CustomerDraft, CustomerPatch, PreferencesPatch
from customers_hub.testing import actor_for, actors
from customers_hub.testing.fakes import (
    FixedClock,
    InMemoryStore,
    RecordingPublisher,
    Staff,
    build_fake_dependencies,
    seed_staff,
)

ORG, OTHER_ORG = "org_a", "org_b"
E = TypeVar("E", bound=BaseException)


@frozen
class Env:
    deps: Dependencies
    store: InMemoryStore
    publisher: RecordingPublisher
    clock: FixedClock
    staff: Staff
    other: Staff

    def actor(self, employee: Employee, **kw: Any) -> Actor:
        return actor_for(employee, **kw)


@pytest.fixture
def env() -> Env:
    deps, store, publisher, clock = build_fake_dependencies()
    staff = seed_staff(store, ORG)
    other = seed_staff(store, OTHER_ORG, prefix="b")
    return Env(deps, store, publisher, clock, staff, other)


_phones = iter(range(10_000_000, 99_999_999))


def new_phone() -> str:
    return f"+9665{next(_phones):08d}"


async def seed(
    env: Env,
    *,
    assignee: Employee | None = None,
    source: CustomerSource = CustomerSource.MANUAL,
    **draft: Any,
) -> Customer:
    """A customer created through the use case (by the organization's admin), events cleared."""
    staff = env.staff if assignee is None or assignee.organization_id == ORG else env.other
    who = assignee if assignee is not None else staff.agent
    draft.setdefault("phone", new_phone())
    customer = (
        await create_customer(
            env.deps,
            env.actor(staff.admin),
            CreateCustomer(
                CustomerDraft(
                    name="محمد الفهد", source=source, assigned_employee_id=who.id, **draft
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


def field_names(error: ValidationFailed) -> set[str]:
    return {e.field for e in error.errors}


def add_property(env: Env, pid: str, *, price: int = 1_000_000, org: str = ORG) -> Property:
    return env.store.put_property(
        Property(
            id=pid,
            organization_id=org,
            title=f"شقة {pid}",
            type=PropertyType.APARTMENT,
            city="جدة",
            price=Decimal(price),
            bedrooms=3,
        )
    )


JEDDAH_APARTMENT = Preferences(
    property_type=(PropertyType.APARTMENT,),
    budget_min=Decimal(800_000),
    budget_max=Decimal(1_200_000),
    preferred_cities=("جدة",),
)


# ---------------------------------------------------------------------------------------------
# create_customer


async def test_an_agent_creates_a_customer_assigned_to_themselves(env: Env) -> None:
    agent = env.staff.agent
    draft = CustomerDraft(name="  عبدالله الشمري ", phone="0551234567")
    customer = (await create_customer(env.deps, env.actor(agent), CreateCustomer(draft))).customer

    assert env.store.customers[customer.id] == customer
    assert customer.organization_id == ORG
    assert customer.name == "عبدالله الشمري"
    assert customer.phone == "+966551234567"
    assert customer.assigned_employee_id == agent.id
    assert customer.stage is Stage.NEW_LEAD
    assert [h.to_stage for h in customer.stage_history] == [Stage.NEW_LEAD]
    assert customer.stage_history[0].auto_generated
    assert customer.ai_insights is not None
    assert customer.created_at == env.clock.now()
    assert env.publisher.names() == ["customer.created"]
    assert env.store.actions_of(customer.id) == []


@pytest.mark.parametrize(
    ("source", "action_type"),
    [
        (CustomerSource.INQUIRY, ActionType.NEW_INQUIRY),
        (CustomerSource.WHATSAPP, ActionType.WHATSAPP_INCOMING),
    ],
)
async def test_an_inquiry_or_whatsapp_lead_gets_its_system_action(
    env: Env, source: CustomerSource, action_type: ActionType
) -> None:
    seen_at_publish: list[int] = []
    env.publisher.on_publish = lambda batch: seen_at_publish.append(len(env.store.actions))
    customer = (
        await create_customer(
            env.deps,
            env.actor(env.staff.manager),
            CreateCustomer(
                CustomerDraft(
                    name="ليلى", phone=new_phone(), source=source, assigned_employee_id="emp_agent"
                )
            ),
        )
    ).customer
    (action,) = env.store.actions_of(customer.id)
    assert action.type is action_type
    assert action.assigned_to == env.staff.agent.id
    assert action.assigned_to_name == env.staff.agent.name
    assert action.due_date == env.clock.now() + timedelta(hours=24)
    assert action.metadata["autoGenerated"] is True
    # One batch, after the commit: the action was already stored when it was published.
    assert env.publisher.names() == ["customer.created", "action.created"]
    assert seen_at_publish == [1]


async def test_creation_matches_the_catalog_and_creates_a_property_match_action(env: Env) -> None:
    add_property(env, "prop_b", price=1_100_000)
    add_property(env, "prop_a", price=900_000)
    add_property(env, "prop_far", price=5_000_000)  # over budget
    add_property(env, "prop_other_org", org=OTHER_ORG)
    customer = (
        await create_customer(
            env.deps,
            env.actor(env.staff.agent),
            CreateCustomer(
                CustomerDraft(name="سعد", phone=new_phone(), preferences=JEDDAH_APARTMENT)
            ),
        )
    ).customer
    assert customer.ai_insights is not None
    assert set(customer.ai_insights.property_matches) == {"prop_a", "prop_b"}
    (action,) = env.store.actions_of(customer.id)
    assert action.type is ActionType.PROPERTY_MATCH
    assert set(action.metadata["propertyIds"]) == {"prop_a", "prop_b"}  # type: ignore[call-overload]
    assert action.due_date == env.clock.now() + PROPERTY_MATCH_DUE_AFTER
    assert action.assigned_to == env.staff.agent.id
    assert env.publisher.names() == ["customer.created", "action.created"]


async def test_no_match_no_property_match_action(env: Env) -> None:
    add_property(env, "prop_far", price=5_000_000)
    customer = await seed(env, preferences=JEDDAH_APARTMENT)
    assert customer.ai_insights is not None
    assert customer.ai_insights.property_matches == ()
    assert env.store.actions_of(customer.id) == []


async def test_an_admins_customer_stays_unassigned_unless_named(env: Env) -> None:
    admin = env.actor(env.staff.admin)
    loose = (
        await create_customer(
            env.deps, admin, CreateCustomer(CustomerDraft(name="أ", phone=new_phone()))
        )
    ).customer
    named = (
        await create_customer(
            env.deps,
            admin,
            CreateCustomer(
                CustomerDraft(name="ب", phone=new_phone(), assigned_employee_id="emp_outsider")
            ),
        )
    ).customer
    assert loose.assigned_employee_id is None
    assert named.assigned_employee_id == "emp_outsider"


@pytest.mark.parametrize(
    ("creator", "assignee"),
    [("manager", "emp_outsider"), ("agent", "emp_manager"), ("agent", "emp_outsider")],
)
async def test_creating_for_someone_out_of_reach_is_forbidden(
    env: Env, creator: str, assignee: str
) -> None:
    actor = env.actor(getattr(env.staff, creator))
    draft = CustomerDraft(name="أ", phone=new_phone(), assigned_employee_id=assignee)
    error = await refused(
        env, PermissionDenied, create_customer(env.deps, actor, CreateCustomer(draft))
    )
    assert error.current_role == actor.role.value
    assert error.required_permission == "customers.write"


async def test_a_viewer_cannot_create(env: Env) -> None:
    draft = CustomerDraft(name="أ", phone=new_phone())
    await refused(
        env,
        PermissionDenied,
        create_customer(env.deps, env.actor(env.staff.viewer), CreateCustomer(draft)),
    )


async def test_a_token_without_customers_write_cannot_create(env: Env) -> None:
    actor = env.actor(env.staff.admin, permissions=frozenset({Permission.CUSTOMERS_READ}))
    draft = CustomerDraft(name="أ", phone=new_phone())
    await refused(env, PermissionDenied, create_customer(env.deps, actor, CreateCustomer(draft)))


@pytest.mark.parametrize("assignee", ["emp_nobody", "b_agent", "emp_inactive"])
async def test_the_assignee_must_be_an_active_employee_of_the_organization(
    env: Env, assignee: str
) -> None:
    draft = CustomerDraft(name="أ", phone=new_phone(), assigned_employee_id=assignee)
    error = await refused(
        env,
        AssignmentRejected,
        create_customer(env.deps, env.actor(env.staff.admin), CreateCustomer(draft)),
    )
    assert error.details == {"field": "assignedEmployeeId"}


async def test_a_live_phone_is_unique_in_the_organization(env: Env) -> None:
    existing = await seed(env)
    draft = CustomerDraft(name="أ", phone=existing.phone.replace("+966", "0"))
    error = await refused(
        env,
        Duplicate,
        create_customer(env.deps, env.actor(env.staff.agent), CreateCustomer(draft)),
    )
    assert error.field == "phone"
    # The same phone in another organization is another customer.
    other = (
        await create_customer(
            env.deps,
            env.actor(env.other.agent),
            CreateCustomer(CustomerDraft(name="أ", phone=existing.phone)),
        )
    ).customer
    assert other.phone == existing.phone


async def test_bad_input_names_every_failing_field(env: Env) -> None:
    draft = CustomerDraft(
        name=" ",
        phone="12345",
        email="not-an-email",
        preferences=Preferences(budget_min=Decimal(-5)),
    )
    error = await refused(
        env,
        ValidationFailed,
        create_customer(env.deps, env.actor(env.staff.agent), CreateCustomer(draft)),
    )
    assert field_names(error) == {"name", "phone", "email", "preferences.budgetMin"}


async def test_create_survives_a_concurrent_update_and_writes_once(env: Env) -> None:
    env.store.fail_next_commits(1)
    customer = (
        await create_customer(
            env.deps,
            env.actor(env.staff.agent),
            CreateCustomer(
                CustomerDraft(name="أ", phone=new_phone(), source=CustomerSource.INQUIRY)
            ),
        )
    ).customer
    assert list(env.store.customers) == [customer.id]
    assert len(env.store.actions_of(customer.id)) == 1
    assert len(env.publisher.batches) == 1
    assert env.publisher.names() == ["customer.created", "action.created"]


async def test_a_create_that_keeps_conflicting_leaves_no_customer_and_no_action(env: Env) -> None:
    env.store.fail_next_commits(MAX_ATTEMPTS)
    draft = CustomerDraft(name="أ", phone=new_phone(), source=CustomerSource.INQUIRY)
    await refused(
        env,
        ConcurrentUpdate,
        create_customer(env.deps, env.actor(env.staff.agent), CreateCustomer(draft)),
    )
    assert env.store.customers == {}
    assert env.store.actions == {}


# ---------------------------------------------------------------------------------------------
# get_customer


async def test_get_returns_the_customer_and_the_requested_relations(env: Env) -> None:
    customer = await seed(env)
    now = env.clock.now()
    for n in range(3):
        env.store.interactions[f"int_{n}"] = Interaction(
            id=f"int_{n}",
            customer_id=customer.id,
            type=InteractionType.CALL,
            date=now - timedelta(days=n),
            notes="",
            agent_id="emp_agent",
            agent_name="أحمد",
        )
    env.store.documents["doc_1"] = Document(
        id="doc_1",
        customer_id=customer.id,
        name="هوية",
        type=DocumentType.ID_COPY,
        storage_key="doc_1.pdf",
        file_size=1,
        mime_type="application/pdf",
        uploaded_by="أحمد",
        uploaded_by_id="emp_agent",
        uploaded_at=now,
    )
    before = env.store.copy()
    details = await get_customer(
        env.deps,
        env.actor(env.staff.agent),
        customer.id,
        include=frozenset({"interactions", "stageHistory"}),
    )
    assert details.customer == customer
    assert details.included == {"interactions", "stageHistory"}
    assert [i.id for i in details.interactions] == ["int_0", "int_1", "int_2"]
    assert details.stage_history == customer.stage_history
    assert details.documents == ()  # not asked for
    assert env.store == before
    assert env.publisher.events == []


@pytest.mark.parametrize("reader", ["admin", "manager", "agent", "viewer"])
async def test_readers_in_scope_get_the_customer(env: Env, reader: str) -> None:
    customer = await seed(env, assignee=env.staff.viewer if reader == "viewer" else None)
    details = await get_customer(env.deps, env.actor(getattr(env.staff, reader)), customer.id)
    assert details.customer.id == customer.id


async def test_get_refuses_what_the_caller_may_not_see(env: Env) -> None:
    customer = await seed(env)
    other = await seed(env, assignee=env.other.agent)
    admin = env.actor(env.staff.admin)
    await refused(env, NotFound, get_customer(env.deps, admin, other.id))
    await refused(env, NotFound, get_customer(env.deps, admin, "cust_missing"))
    for who in (env.staff.outsider, env.staff.viewer):
        await refused(env, PermissionDenied, get_customer(env.deps, env.actor(who), customer.id))


async def test_get_refuses_an_unknown_include(env: Env) -> None:
    customer = await seed(env)
    error = await refused(
        env,
        ValidationFailed,
        get_customer(
            env.deps, env.actor(env.staff.agent), customer.id, include=frozenset({"secrets"})
        ),
    )
    assert field_names(error) == {"include"}


async def test_a_deleted_customer_is_found_only_by_an_admin_asking_for_it(env: Env) -> None:
    customer = await seed(env)
    await delete_customer(env.deps, env.actor(env.staff.admin), DeleteCustomer(customer.id))
    await refused(env, NotFound, get_customer(env.deps, env.actor(env.staff.admin), customer.id))
    await refused(
        env,
        NotFound,
        get_customer(env.deps, env.actor(env.staff.manager), customer.id, include_deleted=True),
    )
    details = await get_customer(
        env.deps, env.actor(env.staff.admin), customer.id, include_deleted=True
    )
    assert details.customer.is_deleted


# ---------------------------------------------------------------------------------------------
# update_customer


async def test_update_changes_fields_and_keeps_action_names_in_step(env: Env) -> None:
    customer = await seed(env, source=CustomerSource.INQUIRY)
    env.clock.advance(timedelta(hours=1))
    updated = (
        await update_customer(
            env.deps,
            env.actor(env.staff.agent),
            UpdateCustomer(
                customer.id, CustomerPatch(name="محمد الفهد الجديد", notes="جاهز للشراء")
            ),
        )
    ).customer
    assert updated.version == customer.version + 1
    assert updated.updated_at == env.clock.now()
    assert env.store.customers[customer.id] == updated
    (action,) = env.store.actions_of(customer.id)
    assert action.customer_name == "محمد الفهد الجديد"
    assert env.publisher.names()[0] == "customer.updated"
    assert set(env.publisher.names()) <= {"customer.updated", "customer.score_changed"}


async def test_an_update_that_moves_the_score_publishes_score_changed(env: Env) -> None:
    customer = await seed(env)
    updated = (
        await update_customer(
            env.deps,
            env.actor(env.staff.agent),
            UpdateCustomer(
                customer.id,
                CustomerPatch(
                    preferences=PreferencesPatch(
                        budget_min=Decimal(1_000_000), budget_max=Decimal(2_000_000)
                    )
                ),
            ),
        )
    ).customer
    assert updated.lead_score != customer.lead_score
    assert env.publisher.names() == ["customer.updated", "customer.score_changed"]


async def test_changed_preferences_rematch_and_only_new_matches_make_an_action(env: Env) -> None:
    add_property(env, "prop_a", price=900_000)
    customer = await seed(env, preferences=JEDDAH_APARTMENT)
    assert [a.type for a in env.store.actions_of(customer.id)] == [ActionType.PROPERTY_MATCH]
    add_property(env, "prop_b", price=1_500_000)
    updated = (
        await update_customer(
            env.deps,
            env.actor(env.staff.agent),
            UpdateCustomer(
                customer.id,
                CustomerPatch(preferences=PreferencesPatch(budget_max=Decimal(1_600_000))),
            ),
        )
    ).customer
    assert updated.ai_insights is not None
    assert set(updated.ai_insights.property_matches) == {"prop_a", "prop_b"}
    actions = env.store.actions_of(customer.id)
    assert len(actions) == 2
    assert actions[-1].metadata["propertyIds"] == ["prop_b"]
    assert "action.created" in env.publisher.names()


async def test_an_update_changing_nothing_writes_nothing(env: Env) -> None:
    customer = await seed(env)
    before = env.store.copy()
    same = (
        await update_customer(
            env.deps,
            env.actor(env.staff.agent),
            UpdateCustomer(customer.id, CustomerPatch(name=customer.name)),
        )
    ).customer
    assert same == customer
    assert env.store == before
    assert env.publisher.events == []


async def test_if_match_with_an_old_version_is_a_failed_precondition(env: Env) -> None:
    customer = await seed(env)
    error = await refused(
        env,
        PreconditionFailed,
        update_customer(
            env.deps,
            env.actor(env.staff.agent),
            UpdateCustomer(
                customer.id, CustomerPatch(notes="x"), expected_version=customer.version + 5
            ),
        ),
    )
    assert error.current_version == customer.version
    updated = (
        await update_customer(
            env.deps,
            env.actor(env.staff.agent),
            UpdateCustomer(
                customer.id, CustomerPatch(notes="x"), expected_version=customer.version
            ),
        )
    ).customer
    assert updated.notes == "x"


async def test_update_to_a_phone_in_use_is_a_duplicate(env: Env) -> None:
    first = await seed(env)
    second = await seed(env)
    error = await refused(
        env,
        Duplicate,
        update_customer(
            env.deps,
            env.actor(env.staff.agent),
            UpdateCustomer(second.id, CustomerPatch(phone=first.phone)),
        ),
    )
    assert error.field == "phone"


async def test_update_bad_input_names_every_failing_field(env: Env) -> None:
    customer = await seed(env)
    error = await refused(
        env,
        ValidationFailed,
        update_customer(
            env.deps,
            env.actor(env.staff.agent),
            UpdateCustomer(
                customer.id,
                CustomerPatch(
                    email="bad",
                    name=None,
                    assigned_employee_id="emp_outsider",
                    preferences=PreferencesPatch(budget_min=Decimal(0)),
                ),
            ),
        ),
    )
    assert field_names(error) == {"email", "name", "assignedEmployeeId", "preferences.budgetMin"}


async def test_update_access_failures(env: Env) -> None:
    customer = await seed(env)
    foreign = await seed(env, assignee=env.other.agent)
    patch = CustomerPatch(notes="x")
    await refused(
        env,
        NotFound,
        update_customer(env.deps, env.actor(env.staff.admin), UpdateCustomer(foreign.id, patch)),
    )
    await refused(
        env,
        PermissionDenied,
        update_customer(
            env.deps, env.actor(env.staff.outsider), UpdateCustomer(customer.id, patch)
        ),
    )
    await refused(
        env,
        PermissionDenied,
        update_customer(env.deps, env.actor(env.staff.viewer), UpdateCustomer(customer.id, patch)),
    )


async def test_update_of_a_deleted_customer_is_not_found(env: Env) -> None:
    customer = await seed(env)
    await delete_customer(env.deps, env.actor(env.staff.admin), DeleteCustomer(customer.id))
    env.publisher.clear()
    await refused(
        env,
        NotFound,
        update_customer(
            env.deps,
            env.actor(env.staff.admin),
            UpdateCustomer(customer.id, CustomerPatch(notes="x")),
        ),
    )


async def test_update_retries_after_a_concurrent_update(env: Env) -> None:
    customer = await seed(env)
    env.store.fail_next_commits(1)
    updated = (
        await update_customer(
            env.deps,
            env.actor(env.staff.agent),
            UpdateCustomer(customer.id, CustomerPatch(notes="x")),
        )
    ).customer
    assert updated.version == customer.version + 1
    assert env.store.customers[customer.id].notes == "x"
    assert len(env.publisher.batches) == 1


# ---------------------------------------------------------------------------------------------
# change_stage


def put_negotiating(env: Env, customer: Customer) -> Customer:
    """The customer at negotiation with an interest and a deal value (guards of contract_prep)."""
    interest = PropertyInterest(
        id="pi_1",
        property_id="prop_1",
        status=PropertyInterestStatus.SHORTLISTED,
        added_at=env.clock.now(),
    )
    return env.store.put_customer(
        evolve(
            customer,
            stage=Stage.NEGOTIATION,
            property_interests=(interest,),
            total_deal_value=Decimal(1_000_000),
        )
    )


async def test_a_stage_change_appends_history_and_publishes(env: Env) -> None:
    customer = await seed(env)
    moved = (
        await change_stage(
            env.deps,
            env.actor(env.staff.agent),
            ChangeStage(customer.id, StageChangeRequest(Stage.QUALIFIED, notes="مؤهل")),
        )
    ).customer
    assert moved.stage is Stage.QUALIFIED
    assert len(moved.stage_history) == 2
    entry = moved.stage_history[-1]
    assert (entry.from_stage, entry.to_stage) == (Stage.NEW_LEAD, Stage.QUALIFIED)
    assert entry.changed_by_id == env.staff.agent.id
    assert entry.changed_by == env.staff.agent.name
    assert env.store.customers[customer.id] == moved
    assert env.publisher.names()[0] == "customer.stage_changed"


async def test_entering_contract_prep_creates_the_document_action_in_the_same_commit(
    env: Env,
) -> None:
    customer = put_negotiating(env, await seed(env))
    moved = (
        await change_stage(
            env.deps,
            env.actor(env.staff.manager),
            ChangeStage(
                customer.id,
                StageChangeRequest(Stage.CONTRACT_PREP),
                expected_version=customer.version,
            ),
        )
    ).customer
    (action,) = env.store.actions_of(customer.id)
    assert action.type is ActionType.DOCUMENT_REQUIRED
    assert action.assigned_to == env.staff.agent.id
    assert action.due_date == env.clock.now() + timedelta(days=3)
    assert moved.stage is Stage.CONTRACT_PREP
    assert env.publisher.names()[:2] == ["customer.stage_changed", "action.created"]


async def test_a_stage_change_that_keeps_conflicting_leaves_no_action(env: Env) -> None:
    customer = put_negotiating(env, await seed(env))
    env.store.fail_next_commits(MAX_ATTEMPTS)
    await refused(
        env,
        ConcurrentUpdate,
        change_stage(
            env.deps,
            env.actor(env.staff.agent),
            ChangeStage(customer.id, StageChangeRequest(Stage.CONTRACT_PREP)),
        ),
    )
    assert env.store.actions_of(customer.id) == []


@pytest.mark.parametrize(
    "request_",
    [
        StageChangeRequest(Stage.NEW_LEAD),  # same stage
        StageChangeRequest(Stage.SITE_VISIT),  # a skip without a reason
        StageChangeRequest(Stage.SITE_VISIT, reason="قفز"),  # guard: no property interest
        StageChangeRequest(Stage.POST_SALE, reason="x"),  # only from closing
    ],
)
async def test_refused_stage_changes_change_nothing(env: Env, request_: StageChangeRequest) -> None:
    customer = await seed(env)
    await refused(
        env,
        InvalidStageTransition,
        change_stage(env.deps, env.actor(env.staff.agent), ChangeStage(customer.id, request_)),
    )


async def test_stage_change_access_and_precondition_failures(env: Env) -> None:
    customer = await seed(env)
    foreign = await seed(env, assignee=env.other.agent)
    command = ChangeStage(customer.id, StageChangeRequest(Stage.QUALIFIED))
    await refused(
        env,
        NotFound,
        change_stage(env.deps, env.actor(env.staff.admin), evolve(command, customer_id=foreign.id)),
    )
    await refused(
        env,
        PermissionDenied,
        change_stage(env.deps, env.actor(env.staff.outsider), command),
    )
    await refused(
        env,
        PermissionDenied,
        change_stage(env.deps, env.actor(env.staff.viewer), command),
    )
    await refused(
        env,
        PreconditionFailed,
        change_stage(
            env.deps,
            env.actor(env.staff.agent),
            evolve(command, expected_version=customer.version - 1),
        ),
    )


async def test_reopening_post_sale_needs_an_admin(env: Env) -> None:
    negotiating = put_negotiating(env, await seed(env))
    customer = env.store.put_customer(evolve(negotiating, stage=Stage.POST_SALE))
    command = ChangeStage(customer.id, StageChangeRequest(Stage.NEGOTIATION, reason="عاد العميل"))
    await refused(
        env,
        PermissionDenied,
        change_stage(env.deps, env.actor(env.staff.manager), command),
    )
    reopened = (await change_stage(env.deps, env.actor(env.staff.admin), command)).customer
    assert reopened.stage is Stage.NEGOTIATION


# ---------------------------------------------------------------------------------------------
# delete_customer and restore_customer


async def test_a_manager_soft_deletes_a_team_customer(env: Env) -> None:
    customer = await seed(env)
    env.clock.advance(timedelta(minutes=5))
    deletion = await delete_customer(
        env.deps, env.actor(env.staff.manager), DeleteCustomer(customer.id)
    )
    stored = env.store.customers[customer.id]
    assert stored.deleted_at == env.clock.now() == deletion.deleted_at
    assert not deletion.permanent
    assert env.publisher.names() == ["customer.deleted"]
    await refused(
        env,
        NotFound,
        delete_customer(env.deps, env.actor(env.staff.manager), DeleteCustomer(customer.id)),
    )


async def test_soft_delete_access_failures(env: Env) -> None:
    customer = await seed(env)
    foreign = await seed(env, assignee=env.other.agent)
    await refused(
        env,
        NotFound,
        delete_customer(env.deps, env.actor(env.staff.admin), DeleteCustomer(foreign.id)),
    )
    for who in (env.staff.agent, env.staff.viewer):
        await refused(
            env,
            PermissionDenied,
            delete_customer(env.deps, env.actor(who), DeleteCustomer(customer.id)),
        )
    outside = await seed(env, assignee=env.staff.outsider)
    await refused(
        env,
        PermissionDenied,
        delete_customer(env.deps, env.actor(env.staff.manager), DeleteCustomer(outside.id)),
    )
    await refused(
        env,
        NotFound,
        delete_customer(env.deps, env.actor(env.staff.admin), DeleteCustomer("cust_missing")),
    )


async def test_a_permanent_delete_removes_rows_and_document_bytes(env: Env) -> None:
    customer = await seed(env, source=CustomerSource.INQUIRY)
    env.store.documents["doc_1"] = Document(
        id="doc_1",
        customer_id=customer.id,
        name="عقد",
        type=DocumentType.CONTRACT,
        storage_key="doc_1.pdf",
        file_size=3,
        mime_type="application/pdf",
        uploaded_by="أحمد",
        uploaded_by_id="emp_agent",
        uploaded_at=env.clock.now(),
    )
    env.store.blobs["doc_1.pdf"] = b"pdf"
    env.store.blobs["unrelated.pdf"] = b"keep"
    await delete_customer(
        env.deps, env.actor(env.staff.admin), DeleteCustomer(customer.id)
    )  # soft first
    deletion = await delete_customer(
        env.deps, env.actor(env.staff.admin), DeleteCustomer(customer.id, permanent=True)
    )
    assert deletion.permanent
    assert customer.id not in env.store.customers
    assert env.store.actions_of(customer.id) == []
    assert env.store.documents == {}
    assert env.store.blobs == {"unrelated.pdf": b"keep"}
    assert env.publisher.names() == ["customer.deleted", "customer.deleted"]


async def test_only_an_admin_deletes_permanently(env: Env) -> None:
    customer = await seed(env)
    foreign = await seed(env, assignee=env.other.agent)
    await refused(
        env,
        PermissionDenied,
        delete_customer(
            env.deps, env.actor(env.staff.manager), DeleteCustomer(customer.id, permanent=True)
        ),
    )
    await refused(
        env,
        NotFound,
        delete_customer(
            env.deps, env.actor(env.staff.admin), DeleteCustomer(foreign.id, permanent=True)
        ),
    )


async def test_an_admin_restores_a_deleted_customer(env: Env) -> None:
    customer = await seed(env)
    await delete_customer(env.deps, env.actor(env.staff.manager), DeleteCustomer(customer.id))
    env.publisher.clear()
    restored = (
        await restore_customer(env.deps, env.actor(env.staff.admin), RestoreCustomer(customer.id))
    ).customer
    assert not restored.is_deleted
    assert env.store.customers[customer.id] == restored
    assert env.publisher.names() == ["customer.restored"]


async def test_restore_failures(env: Env) -> None:
    live = await seed(env)
    await refused(
        env,
        Duplicate,
        restore_customer(env.deps, env.actor(env.staff.admin), RestoreCustomer(live.id)),
    )
    gone = await seed(env)
    await delete_customer(env.deps, env.actor(env.staff.admin), DeleteCustomer(gone.id))
    env.publisher.clear()
    await refused(
        env,
        PermissionDenied,
        restore_customer(env.deps, env.actor(env.staff.manager), RestoreCustomer(gone.id)),
    )
    foreign = await seed(env, assignee=env.other.agent)
    await refused(
        env,
        NotFound,
        restore_customer(env.deps, env.actor(env.staff.admin), RestoreCustomer(foreign.id)),
    )
    # Another live customer took the phone meanwhile.
    await seed(env, phone=gone.phone)
    error = await refused(
        env,
        Duplicate,
        restore_customer(env.deps, env.actor(env.staff.admin), RestoreCustomer(gone.id)),
    )
    assert error.field == "phone"


# ---------------------------------------------------------------------------------------------
# assign_customer


def person_action(customer: Customer, *, assigned_to: str | None) -> CustomerAction:
    now = customer.created_at
    return CustomerAction(
        id=f"action_manual_{assigned_to}",
        organization_id=customer.organization_id,
        customer_id=customer.id,
        customer_name=customer.name,
        type=ActionType.CALLBACK_REQUEST,
        title="اتصل",
        priority=customer.priority,
        status=ActionStatus.PENDING,
        source=customer.source,
        created_at=now,
        updated_at=now,
        assigned_to=assigned_to,
    )


async def test_assigning_moves_the_open_system_actions_of_the_previous_assignee(
    env: Env,
) -> None:
    customer = await seed(env, source=CustomerSource.INQUIRY)
    (system,) = env.store.actions_of(customer.id)
    manual = env.store.put_action(person_action(customer, assigned_to="emp_agent"))
    done = env.store.put_action(evolve(system, id="action_done", status=ActionStatus.COMPLETED))
    assigned = (
        await assign_customer(
            env.deps,
            env.actor(env.staff.admin),
            AssignCustomer(customer.id, "emp_outsider", notes="تخصص في جدة"),
        )
    ).customer
    assert assigned.assigned_employee_id == "emp_outsider"
    moved = env.store.actions[system.id]
    assert moved.assigned_to == "emp_outsider"
    assert moved.assigned_to_name == env.staff.outsider.name
    assert moved.version == system.version + 1
    assert [n.content for n in moved.notes] == ["تخصص في جدة"]
    assert env.store.actions[manual.id] == manual
    assert env.store.actions[done.id] == done
    assert env.publisher.names() == ["customer.assigned", "action.updated", "action.note_added"]


async def test_a_manager_assigns_within_the_team_only(env: Env) -> None:
    customer = await seed(env)
    manager = env.actor(env.staff.manager)
    await refused(
        env,
        PermissionDenied,
        assign_customer(env.deps, manager, AssignCustomer(customer.id, "emp_outsider")),
    )
    assigned = (
        await assign_customer(env.deps, manager, AssignCustomer(customer.id, "emp_manager"))
    ).customer
    assert assigned.assigned_employee_id == "emp_manager"


async def test_assign_access_failures(env: Env) -> None:
    customer = await seed(env)
    foreign = await seed(env, assignee=env.other.agent)
    command = AssignCustomer(customer.id, "emp_agent")
    await refused(
        env,
        NotFound,
        assign_customer(
            env.deps, env.actor(env.staff.admin), evolve(command, customer_id=foreign.id)
        ),
    )
    for who in (env.staff.agent, env.staff.viewer):
        await refused(env, PermissionDenied, assign_customer(env.deps, env.actor(who), command))


@pytest.mark.parametrize("target", ["emp_nobody", "b_agent", "emp_inactive"])
async def test_assigning_to_an_invalid_employee_is_rejected(env: Env, target: str) -> None:
    customer = await seed(env)
    error = await refused(
        env,
        AssignmentRejected,
        assign_customer(env.deps, env.actor(env.staff.admin), AssignCustomer(customer.id, target)),
    )
    assert error.details == {"field": "employeeId"}


async def test_assign_bad_input(env: Env) -> None:
    customer = await seed(env)
    error = await refused(
        env,
        ValidationFailed,
        assign_customer(
            env.deps,
            env.actor(env.staff.admin),
            AssignCustomer(customer.id, " ", notes="x" * 5000),
        ),
    )
    assert field_names(error) == {"employeeId", "notes"}


async def test_assigning_to_the_current_assignee_changes_nothing(env: Env) -> None:
    customer = await seed(env)
    before = env.store.copy()
    same = (
        await assign_customer(
            env.deps, env.actor(env.staff.admin), AssignCustomer(customer.id, "emp_agent")
        )
    ).customer
    assert same == customer
    assert env.store == before
    assert env.publisher.events == []


# ---------------------------------------------------------------------------------------------
# Isolation, for any caller of another organization


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stranger=actors(
        organization_id=OTHER_ORG,
        permissions=st.frozensets(st.sampled_from(Permission)),
    )
)
def test_another_organizations_customer_looks_exactly_like_a_missing_one(stranger: Actor) -> None:
    """Whatever the role and token of a caller of another organization, every customer
    operation answers a foreign id exactly as it answers an id that does not exist, and
    changes nothing."""

    async def scenario() -> None:
        deps, store, publisher, _ = build_fake_dependencies()
        staff = seed_staff(store, ORG)
        seed_staff(store, OTHER_ORG, prefix="b")
        customer = (
            await create_customer(
                deps,
                actor_for(staff.admin),
                CreateCustomer(
                    CustomerDraft(name="أ", phone="0551234567", assigned_employee_id="emp_agent")
                ),
            )
        ).customer
        publisher.clear()
        before = store.copy()
        calls: dict[str, Callable[[str], Awaitable[object]]] = {
            "get": lambda cid: get_customer(deps, stranger, cid),
            "update": lambda cid: update_customer(
                deps, stranger, UpdateCustomer(cid, CustomerPatch(notes="x"))
            ),
            "stage": lambda cid: change_stage(
                deps, stranger, ChangeStage(cid, StageChangeRequest(Stage.QUALIFIED))
            ),
            "delete": lambda cid: delete_customer(deps, stranger, DeleteCustomer(cid)),
            "purge": lambda cid: delete_customer(
                deps, stranger, DeleteCustomer(cid, permanent=True)
            ),
            "restore": lambda cid: restore_customer(deps, stranger, RestoreCustomer(cid)),
            "assign": lambda cid: assign_customer(deps, stranger, AssignCustomer(cid, "b_agent")),
        }
        for name, call in calls.items():
            outcomes = []
            for cid in (customer.id, "cust_missing"):
                try:
                    await call(cid)
                except (NotFound, PermissionDenied) as error:
                    outcomes.append(type(error))
                else:  # pragma: no cover - a failure of the test
                    pytest.fail(f"{name} on {cid} succeeded for a stranger")
            assert outcomes[0] is outcomes[1], name
        assert store == before
        assert publisher.events == []

    asyncio.run(scenario())

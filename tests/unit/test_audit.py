"""The audit trail's pure parts: field differences, JSON values, action names, the personal-field
classification and masking, and the write context the use cases bind."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest

from customers_hub.application.ports import UnitOfWork
from customers_hub.application.use_cases.customer_stage import ChangeStage, change_stage
from customers_hub.application.use_cases.customers import CreateCustomer, create_customer
from customers_hub.application.write_context import (
    WriteContext,
    acting_as,
    bind_request_id,
    current_write_context,
    reset_request_id,
)
from customers_hub.domain.audit import (
    MASK,
    Change,
    EntityType,
    FieldChange,
    Write,
    diff,
    entries_for,
    is_personal,
    jsonable,
    mask_changes,
)
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    CustomerSource,
    InteractionType,
    Priority,
    PropertyType,
    Role,
    Stage,
)
from customers_hub.domain.events import DomainEvent
from customers_hub.domain.lifecycle import StageChangeRequest
from customers_hub.domain.model import (
    SYSTEM_ACTOR_ID,
    Actor,
    Customer,
    CustomerAction,
    Interaction,
    Preferences,
)
from customers_hub.domain.validation import CustomerDraft
from customers_hub.testing import actor_for
from customers_hub.testing.fakes import build_fake_dependencies, seed_staff

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def customer(**changes: Any) -> Customer:
    base = Customer(
        id="cust_1",
        organization_id="org_a",
        name="محمد الفهد",
        phone="+966551234567",
        source=CustomerSource.MANUAL,
        stage=Stage.NEW_LEAD,
        created_at=NOW,
        updated_at=NOW,
    )
    return attrs.evolve(base, **changes)


def action(**changes: Any) -> CustomerAction:
    base = CustomerAction(
        id="act_1",
        organization_id="org_a",
        customer_id="cust_1",
        customer_name="محمد الفهد",
        type=ActionType.CALLBACK_REQUEST,
        title="اتصال",
        priority=Priority.MEDIUM,
        status=ActionStatus.PENDING,
        source=CustomerSource.MANUAL,
        created_at=NOW,
        updated_at=NOW,
    )
    return attrs.evolve(base, **changes)


def change(write: Write, before: Any, after: Any, kind: EntityType) -> Change:
    subject = after if after is not None else before
    entity_id = subject.id
    customer_id = getattr(subject, "customer_id", entity_id)
    return Change(write, kind, "org_a", entity_id, customer_id, before, after)


# --- diff and JSON values ----------------------------------------------------------------------


def test_diff_lists_changed_fields_by_camel_case_path_with_json_values() -> None:
    before = customer(email=None, total_deal_value=Decimal("1500000.00"))
    after = customer(
        email="m@example.com",
        total_deal_value=Decimal("1250000.50"),
        stage=Stage.QUALIFIED,
        date_of_birth=date(1990, 5, 1),
        tags=("vip",),
        preferences=Preferences(budget_max=Decimal(900000), property_type=(PropertyType.VILLA,)),
    )
    # Declaration order: the written fields (CustomerFields) first, then the system's.
    assert diff(before, after) == (
        FieldChange("email", None, "m@example.com"),
        FieldChange("dateOfBirth", None, "1990-05-01"),
        FieldChange("preferences.propertyType", [], ["villa"]),
        FieldChange("preferences.budgetMax", None, 900000),
        FieldChange("tags", [], ["vip"]),
        FieldChange("totalDealValue", 1500000, 1250000.5),
        FieldChange("stage", "new_lead", "qualified"),
    )


def test_diff_of_equal_objects_is_empty_and_skip_leaves_fields_out() -> None:
    assert diff(customer(), customer()) == ()
    assert diff(customer(), customer(updated_at=datetime(2027, 1, 1, tzinfo=UTC))) != ()
    later = customer(updated_at=datetime(2027, 1, 1, tzinfo=UTC))
    assert diff(customer(), later, skip={"updated_at"}) == ()


def test_an_insert_lists_the_fields_it_sets_and_a_delete_those_it_removes() -> None:
    created = diff(None, customer(email="m@example.com"))
    fields = {c.field: (c.from_, c.to) for c in created}
    assert fields["name"] == (None, "محمد الفهد")
    assert fields["email"] == (None, "m@example.com")
    assert "whatsapp" not in fields  # nothing set: nothing to say
    assert all(c.from_ is None for c in created)
    removed = diff(customer(), None)
    assert all(c.to is None for c in removed)
    assert {c.field for c in removed} >= {"name", "phone", "stage"}


def test_jsonable_values() -> None:
    assert jsonable(Decimal("12.50")) == 12.5
    assert jsonable(Decimal("12.00")) == 12
    assert jsonable(NOW) == "2026-03-01T09:00:00+00:00"
    assert jsonable(Stage.CLOSING) == "closing"
    assert jsonable(frozenset({"b", "a"})) == ["a", "b"]
    assert jsonable(Preferences(bedrooms=3))["bedrooms"] == 3  # type: ignore[index]


# --- entries of a unit of work -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (None, customer(), "customer.created"),
        (customer(), customer(stage=Stage.QUALIFIED), "customer.stage_changed"),
        (customer(), customer(assigned_employee_id="emp_2"), "customer.assigned"),
        (customer(), customer(deleted_at=NOW), "customer.deleted"),
        (customer(deleted_at=NOW), customer(), "customer.restored"),
        (customer(), customer(city="جدة"), "customer.updated"),
        (customer(), None, "customer.permanently_deleted"),
    ],
)
def test_customer_action_names(
    before: Customer | None, after: Customer | None, expected: str
) -> None:
    write = Write.INSERT if before is None else Write.DELETE if after is None else Write.UPDATE
    (entry,) = entries_for([change(write, before, after, EntityType.CUSTOMER)])
    assert entry.action == expected
    assert entry.entity_type == "customer"
    assert entry.customer_id == "cust_1"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (ActionStatus.IN_PROGRESS, "action.started"),
        (ActionStatus.COMPLETED, "action.completed"),
        (ActionStatus.DISMISSED, "action.dismissed"),
        (ActionStatus.SNOOZED, "action.snoozed"),
    ],
)
def test_action_status_changes_are_named_for_what_happened(
    status: ActionStatus, expected: str
) -> None:
    (entry,) = entries_for(
        [change(Write.UPDATE, action(), action(status=status), EntityType.ACTION)]
    )
    assert entry.action == expected
    assert FieldChange("status", "pending", status.value) in entry.changes
    reopened = action(status=ActionStatus.IN_PROGRESS)
    back = action(status=ActionStatus.PENDING)
    (entry,) = entries_for([change(Write.UPDATE, reopened, back, EntityType.ACTION)])
    assert entry.action == "action.reopened"


def test_an_update_that_changed_nothing_shown_makes_no_entry() -> None:
    bumped = action(version=2, updated_at=datetime(2027, 1, 1, tzinfo=UTC))
    assert entries_for([change(Write.UPDATE, action(), bumped, EntityType.ACTION)]) == []


def test_several_writes_of_one_entity_are_one_entry_from_first_before_to_last_after() -> None:
    first = customer(city="جدة")
    last = customer(city="مكة", email="m@example.com")
    (entry,) = entries_for(
        [
            change(Write.UPDATE, customer(), first, EntityType.CUSTOMER),
            change(Write.UPDATE, first, last, EntityType.CUSTOMER),
        ]
    )
    assert {c.field: (c.from_, c.to) for c in entry.changes} == {
        "email": (None, "m@example.com"),
        "city": (None, "مكة"),
    }


def test_derived_customer_fields_moved_by_a_relation_are_explained_by_its_entry() -> None:
    interaction = Interaction(
        id="int_1",
        customer_id="cust_1",
        type=InteractionType.CALL,
        date=NOW,
        notes="اتصال أول",
        agent_id="emp_1",
        agent_name="أحمد",
    )
    counted = customer(total_interactions=1, last_contact_at=NOW)
    entries = entries_for(
        [
            change(Write.INSERT, None, interaction, EntityType.INTERACTION),
            change(Write.UPDATE, customer(), counted, EntityType.CUSTOMER),
        ]
    )
    assert [e.action for e in entries] == ["interaction.logged"]
    # Alone, the same customer change is an entry of its own.
    (alone,) = entries_for([change(Write.UPDATE, customer(), counted, EntityType.CUSTOMER)])
    assert alone.action == "customer.updated"


# --- personal values ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "personal"),
    [
        ("name", True),
        ("phone", True),
        ("whatsapp", True),
        ("email", True),
        ("nationalId", True),
        ("dateOfBirth", True),
        ("address", True),
        ("latitude", True),
        ("notes", True),
        ("ksaCompliance.ejar.tenantName", True),
        ("stage", False),
        ("totalDealValue", False),
        ("assignedEmployeeId", False),
        ("preferences.budgetMax", False),
    ],
)
def test_personal_field_classification(field: str, personal: bool) -> None:
    assert is_personal(field) is personal


def test_masking_replaces_personal_values_keeps_the_rest_and_is_idempotent() -> None:
    changes = (
        FieldChange("phone", "+966551234567", "+966559876543"),
        FieldChange("email", None, "m@example.com"),
        FieldChange("stage", "new_lead", "qualified"),
    )
    masked = mask_changes(changes)
    assert masked == (
        FieldChange("phone", MASK, MASK),
        FieldChange("email", None, MASK),  # that a value was set stays visible
        FieldChange("stage", "new_lead", "qualified"),
    )
    assert mask_changes(masked) == masked


# --- the write context -------------------------------------------------------------------------


def test_the_write_context_is_the_systems_unless_an_actor_is_bound() -> None:
    assert current_write_context().actor_id == SYSTEM_ACTOR_ID
    actor = Actor("emp_1", "org_a", Role.ADMIN, name="سارة")
    token = bind_request_id("req-1")
    try:
        with acting_as(actor):
            assert current_write_context() == WriteContext("emp_1", "سارة", "req-1")
    finally:
        reset_request_id(token)
    assert current_write_context() == WriteContext(SYSTEM_ACTOR_ID, "System", None)


async def test_use_cases_bind_their_actor_for_the_commit_hooks() -> None:
    """An embedding service calling the use cases gets its actor seen by every commit hook."""
    deps, store, _publisher, _clock = build_fake_dependencies()
    staff = seed_staff(store, "org_a")
    seen: list[tuple[WriteContext, list[str]]] = []

    async def hook(_uow: UnitOfWork, events: Sequence[DomainEvent]) -> None:
        seen.append((current_write_context(), [e.name for e in events]))

    deps = attrs.evolve(deps, commit_hooks=(hook,))
    admin, agent = actor_for(staff.admin), actor_for(staff.agent)
    created = (
        await create_customer(
            deps,
            admin,
            CreateCustomer(
                CustomerDraft(
                    name="ليلى",
                    phone="+966551112223",
                    source=CustomerSource.MANUAL,
                    assigned_employee_id=staff.agent.id,
                )
            ),
        )
    ).customer
    await change_stage(
        deps, agent, ChangeStage(created.id, StageChangeRequest(to_stage=Stage.QUALIFIED))
    )
    assert [(c.actor_id, c.actor_name) for c, _ in seen] == [
        (admin.user_id, admin.display_name),
        (agent.user_id, agent.display_name),
    ]
    assert "customer.created" in seen[0][1]
    assert "customer.stage_changed" in seen[1][1]
    assert current_write_context().actor_id == SYSTEM_ACTOR_ID  # unbound after the write

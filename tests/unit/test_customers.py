"""Customer aggregate operations: creation, updates, relations, assignment, delete/restore."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from customers_hub.domain import customers as ops
from customers_hub.domain.enums import (
    AppointmentType,
    CustomerSource,
    InteractionDirection,
    InteractionType,
    Priority,
    PropertyInterestStatus,
    Role,
    Sentiment,
    Stage,
)
from customers_hub.domain.errors import Duplicate, NotFound, ValidationFailed
from customers_hub.domain.events import (
    AppointmentScheduled,
    CustomerAssigned,
    CustomerCreated,
    CustomerDeleted,
    CustomerRestored,
    CustomerUpdated,
    InteractionLogged,
    PropertyInterestAdded,
)
from customers_hub.domain.model import (
    Actor,
    Appointment,
    Customer,
    Interaction,
    Preferences,
    PropertyInterest,
)
from customers_hub.domain.scoring import score_customer
from customers_hub.domain.validation import CustomerDraft, CustomerPatch, PreferencesPatch

NOW = datetime(2024, 1, 22, 10, 0, tzinfo=UTC)
AGENT = Actor(user_id="emp_001", organization_id="org_1", role=Role.SALES_AGENT, name="أحمد السعيد")


def make_customer(**overrides: object) -> Customer:
    draft = CustomerDraft(
        name="محمد الفهد",
        phone="+966512345678",
        source=CustomerSource.INQUIRY,
        assigned_employee_id="emp_001",
        **overrides,  # type: ignore[arg-type]
    )
    customer, _ = ops.new_customer(
        draft,
        customer_id="cust_1",
        organization_id="org_1",
        actor=AGENT,
        history_entry_id="stage_1",
        now=NOW,
    )
    return customer


def interest(
    property_id: str = "prop_1", status: PropertyInterestStatus = PropertyInterestStatus.INTERESTED
) -> PropertyInterest:
    return PropertyInterest(
        id=f"pi_{property_id}", property_id=property_id, status=status, added_at=NOW
    )


def test_a_new_customer_starts_at_new_lead_with_one_system_entry() -> None:
    draft = CustomerDraft(name="محمد", phone="+966512345678", source=CustomerSource.WHATSAPP)
    customer, events = ops.new_customer(
        draft,
        customer_id="cust_9",
        organization_id="org_1",
        actor=AGENT,
        history_entry_id="h1",
        now=NOW,
    )
    assert customer.stage is Stage.NEW_LEAD
    assert len(customer.stage_history) == 1
    entry = customer.stage_history[0]
    assert (entry.from_stage, entry.to_stage, entry.changed_by, entry.changed_by_id) == (
        None,
        Stage.NEW_LEAD,
        "System",
        "system",
    )
    assert entry.auto_generated is True
    assert customer.created_at == customer.updated_at == NOW
    assert [type(e) for e in events] == [CustomerCreated]
    assert events[0].source == "whatsapp"


def test_a_new_customer_is_scored_at_creation() -> None:
    customer = make_customer(preferences=Preferences(budget_min=Decimal(1_000_000)))
    assert customer.lead_score == score_customer(customer, NOW).score
    assert customer.lead_score > 0
    assert customer.ai_insights is not None


def test_update_changes_only_sent_fields_and_rescores() -> None:
    customer = make_customer()
    patch = CustomerPatch(
        priority=Priority.URGENT, preferences=PreferencesPatch(budget_min=Decimal(900_000))
    )
    later = NOW + timedelta(hours=1)
    updated, events = ops.update_customer(customer, patch, now=later)
    assert updated.priority is Priority.URGENT
    assert updated.preferences.budget_min == Decimal(900_000)
    assert updated.name == customer.name
    assert updated.version == customer.version + 1
    assert updated.updated_at == later
    assert updated.lead_score == score_customer(updated, later).score
    assert updated.lead_score > customer.lead_score  # a budget given never lowers the score
    assert isinstance(events[0], CustomerUpdated)
    assert set(events[0].changes) == {"priority", "preferences"}


def test_an_update_that_changes_nothing_writes_nothing() -> None:
    customer = make_customer()
    updated, events = ops.update_customer(
        customer, CustomerPatch(priority=customer.priority), now=NOW
    )
    assert updated is customer
    assert events == []


def test_reassignment_is_not_an_update() -> None:
    customer = make_customer()
    with pytest.raises(ValidationFailed) as info:
        ops.update_customer(customer, CustomerPatch(assigned_employee_id="emp_9"), now=NOW)
    assert info.value.errors[0].field == "assignedEmployeeId"


def test_one_interest_per_property_a_second_add_is_a_duplicate() -> None:
    customer, events = ops.add_property_interest(make_customer(), interest("prop_1"), now=NOW)
    assert [i.property_id for i in customer.property_interests] == ["prop_1"]
    assert isinstance(events[0], PropertyInterestAdded)
    with pytest.raises(Duplicate):
        ops.add_property_interest(customer, interest("prop_1"), now=NOW)
    other, _ = ops.add_property_interest(customer, interest("prop_2"), now=NOW)
    assert len(other.property_interests) == 2


def test_interest_status_change_counts_a_view_once() -> None:
    customer, _ = ops.add_property_interest(make_customer(), interest("prop_1"), now=NOW)
    viewed, events = ops.update_property_interest_status(
        customer, "pi_prop_1", PropertyInterestStatus.VIEWED, now=NOW
    )
    assert viewed.property_interests[0].status is PropertyInterestStatus.VIEWED
    assert viewed.property_interests[0].viewed_at == NOW
    assert viewed.total_property_views == customer.total_property_views + 1
    assert events
    with pytest.raises(NotFound):
        ops.update_property_interest_status(
            customer, "pi_missing", PropertyInterestStatus.VIEWED, now=NOW
        )


def _interaction(**overrides: object) -> Interaction:
    values: dict[str, object] = {
        "id": "int_1",
        "customer_id": "cust_1",
        "type": InteractionType.WHATSAPP,
        "date": NOW,
        "notes": "استفسار عن فلل",
        "agent_id": "emp_001",
        "agent_name": "أحمد",
        "direction": InteractionDirection.INBOUND,
        "sentiment": Sentiment.POSITIVE,
    }
    values.update(overrides)
    return Interaction(**values)  # type: ignore[arg-type]


def test_an_interaction_updates_counters_last_contact_and_score() -> None:
    customer = make_customer()
    updated, events = ops.log_interaction(customer, _interaction(), now=NOW)
    assert updated.total_interactions == 1
    assert updated.positive_inbound_interactions == 1
    assert updated.last_contact_at == NOW
    assert updated.last_contact_type is InteractionType.WHATSAPP
    assert updated.lead_score >= customer.lead_score
    assert isinstance(events[0], InteractionLogged)


def test_an_older_interaction_does_not_move_last_contact_back() -> None:
    customer, _ = ops.log_interaction(make_customer(), _interaction(), now=NOW)
    older = _interaction(id="int_0", date=NOW - timedelta(days=3), type=InteractionType.CALL)
    updated, _ = ops.log_interaction(customer, older, now=NOW)
    assert updated.last_contact_at == NOW
    assert updated.last_contact_type is InteractionType.WHATSAPP
    assert updated.total_interactions == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"follow_up_required": True, "follow_up_date": None}, "followUpDate"),
        ({"follow_up_required": True, "follow_up_date": NOW - timedelta(hours=1)}, "followUpDate"),
    ],
    ids=["follow-up-without-date", "follow-up-before-interaction"],
)
def test_bad_follow_up_is_refused(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        ops.log_interaction(make_customer(), _interaction(**overrides), now=NOW)
    assert [e.field for e in info.value.errors] == [field]


def test_a_follow_up_sets_the_next_follow_up_date() -> None:
    follow = NOW + timedelta(days=6)
    updated, events = ops.log_interaction(
        make_customer(), _interaction(follow_up_required=True, follow_up_date=follow), now=NOW
    )
    assert updated.next_follow_up_date == follow.date()
    assert events[0].follow_up_required is True


def test_scheduling_an_appointment_counts_it() -> None:
    appointment = Appointment(
        id="apt_1",
        customer_id="cust_1",
        title="معاينة فيلا",
        type=AppointmentType.SITE_VISIT,
        at=NOW + timedelta(days=2),
        duration=60,
        created_at=NOW,
        updated_at=NOW,
    )
    customer = make_customer()
    updated, events = ops.schedule_appointment(customer, appointment, now=NOW)
    assert updated.total_appointments == customer.total_appointments + 1
    assert isinstance(events[0], AppointmentScheduled)
    assert events[0].appointment_type == "site_visit"


def test_assignment_emits_previous_and_new_employee() -> None:
    customer = make_customer()
    updated, events = ops.assign_customer(customer, "emp_002", now=NOW)
    assert updated.assigned_employee_id == "emp_002"
    event = events[0]
    assert isinstance(event, CustomerAssigned)
    assert (event.previous_employee, event.new_employee) == ("emp_001", "emp_002")
    assert set(event.employee_ids) == {"emp_001", "emp_002"}
    same, none = ops.assign_customer(updated, "emp_002", now=NOW)
    assert same is updated
    assert none == []


def test_soft_delete_then_restore() -> None:
    customer = make_customer()
    deleted, events = ops.soft_delete(customer, now=NOW)
    assert deleted.is_deleted
    assert isinstance(events[0], CustomerDeleted)
    assert events[0].permanent is False
    with pytest.raises(NotFound):
        ops.soft_delete(deleted, now=NOW)
    restored, events = ops.restore(deleted, now=NOW)
    assert not restored.is_deleted
    assert isinstance(events[0], CustomerRestored)
    with pytest.raises(Duplicate):
        ops.restore(restored, now=NOW)

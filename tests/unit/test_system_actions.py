"""System-generated actions (rules §2): one row per row of the table, then the negative cases."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    CustomerSource,
    Priority,
    Stage,
)
from customers_hub.domain.events import (
    ActionCreated,
    AppointmentScheduled,
    CustomerCreated,
    CustomerStageChanged,
    CustomerUpdated,
    DomainEvent,
    InteractionLogged,
)
from customers_hub.domain.model import Customer, CustomerAction
from customers_hub.domain.system_actions import SYSTEM_ACTION_RULES, system_actions_for

NOW = datetime(2024, 1, 22, 12, 0, tzinfo=UTC)
CREATED = datetime(2024, 1, 22, 9, 15, tzinfo=UTC)
FOLLOW_UP = datetime(2024, 1, 25, 7, 0, tzinfo=UTC)
VISIT = datetime(2024, 1, 27, 13, 30, tzinfo=UTC)
BASE: dict[str, Any] = {
    "organization_id": "org_001",
    "occurred_at": NOW,
    "employee_ids": ("emp_001",),
}


# --- factories -----------------------------------------------------------------------------------


def make_customer(
    source: CustomerSource = CustomerSource.INQUIRY, assigned: str | None = "emp_001"
) -> Customer:
    return Customer(
        id="cust_001",
        organization_id="org_001",
        name="فاطمة الزهراني",
        phone="+966512345678",
        source=source,
        stage=Stage.NEW_LEAD,
        created_at=CREATED,
        updated_at=CREATED,
        priority=Priority.URGENT,
        assigned_employee_id=assigned,
    )


def created(source: CustomerSource) -> CustomerCreated:
    return CustomerCreated(
        **BASE, customer_id="cust_001", source=source.value, created_by_id="emp_001"
    )


def interaction(required: bool = True, date: datetime | None = FOLLOW_UP) -> InteractionLogged:
    return InteractionLogged(
        **BASE,
        customer_id="cust_001",
        interaction_id="int_001",
        follow_up_required=required,
        follow_up_date=date,
        agent_id="emp_001",
    )


def appointment(kind: str = "site_visit") -> AppointmentScheduled:
    return AppointmentScheduled(
        **BASE,
        customer_id="cust_001",
        appointment_id="apt_001",
        appointment_type=kind,
        at=VISIT,
        title="معاينة فيلا النرجس",
    )


def stage_changed(from_stage: Stage, to_stage: Stage) -> CustomerStageChanged:
    return CustomerStageChanged(
        **BASE,
        customer_id="cust_001",
        from_stage=from_stage,
        to_stage=to_stage,
        changed_by="emp_001",
    )


def run(
    event: DomainEvent, customer: Customer | None = None, assignee_name: str | None = "أحمد السعيد"
) -> list[tuple[CustomerAction, ActionCreated]]:
    counter = itertools.count(1)
    return system_actions_for(
        event,
        customer or make_customer(),
        assignee_name=assignee_name,
        new_id=lambda: f"action_{next(counter)}",
        now=NOW,
    )


# --- the table, one row per row ------------------------------------------------------------------

TABLE = [
    pytest.param(
        created(CustomerSource.INQUIRY),
        make_customer(CustomerSource.INQUIRY),
        ActionType.NEW_INQUIRY,
        CREATED + timedelta(hours=24),
        "استفسار جديد من فاطمة الزهراني",
        {},
        id="created-from-inquiry",
    ),
    pytest.param(
        created(CustomerSource.WHATSAPP),
        make_customer(CustomerSource.WHATSAPP),
        ActionType.WHATSAPP_INCOMING,
        CREATED + timedelta(hours=24),
        "رسالة واتساب من فاطمة الزهراني",
        {},
        id="created-from-whatsapp",
    ),
    pytest.param(
        interaction(),
        make_customer(),
        ActionType.FOLLOW_UP,
        FOLLOW_UP,
        "متابعة مع فاطمة الزهراني",
        {"interactionId": "int_001"},
        id="interaction-with-follow-up",
    ),
    pytest.param(
        appointment("site_visit"),
        make_customer(),
        ActionType.SITE_VISIT,
        VISIT,
        "معاينة عقار مع فاطمة الزهراني",
        {"appointmentId": "apt_001"},
        id="site-visit-scheduled",
    ),
    pytest.param(
        stage_changed(Stage.NEGOTIATION, Stage.CONTRACT_PREP),
        make_customer(),
        ActionType.DOCUMENT_REQUIRED,
        NOW + timedelta(days=3),
        "مستندات مطلوبة من فاطمة الزهراني",
        {"fromStage": "negotiation", "toStage": "contract_prep"},
        id="entered-contract-prep",
    ),
    pytest.param(
        stage_changed(Stage.CONTRACT_PREP, Stage.DOWN_PAYMENT),
        make_customer(),
        ActionType.PAYMENT_DUE,
        NOW + timedelta(days=7),
        "دفعة أولى مستحقة من فاطمة الزهراني",
        {"fromStage": "contract_prep", "toStage": "down_payment"},
        id="entered-down-payment",
    ),
]


@pytest.mark.parametrize(("event", "customer", "action_type", "due", "title", "extra"), TABLE)
def test_system_action_table(
    event: DomainEvent,
    customer: Customer,
    action_type: ActionType,
    due: datetime,
    title: str,
    extra: dict[str, object],
) -> None:
    [(action, created_event)] = run(event, customer)

    assert action.id == "action_1"
    assert action.type is action_type
    assert action.due_date == due
    assert action.title == title
    assert action.description
    assert action.organization_id == "org_001"
    assert action.customer_id == "cust_001"
    assert action.customer_name == "فاطمة الزهراني"
    assert action.status is ActionStatus.PENDING
    assert action.priority is Priority.URGENT
    assert action.source is customer.source
    assert action.assigned_to == "emp_001"
    assert action.assigned_to_name == "أحمد السعيد"
    assert action.created_at == NOW
    assert action.updated_at == NOW
    assert action.metadata == {
        "autoGenerated": True,
        "trigger": event.name,
        "phoneNumber": "+966512345678",
        **extra,
    }
    assert created_event == ActionCreated(
        organization_id="org_001",
        occurred_at=NOW,
        employee_ids=("emp_001",),
        action_id="action_1",
        customer_id="cust_001",
        action_type=action_type,
        priority=Priority.URGENT,
        assigned_to="emp_001",
        auto_generated=True,
    )


def test_table_has_one_rule_per_row_of_the_rules() -> None:
    assert [r.action_type for r in SYSTEM_ACTION_RULES] == [
        ActionType.NEW_INQUIRY,
        ActionType.WHATSAPP_INCOMING,
        ActionType.FOLLOW_UP,
        ActionType.SITE_VISIT,
        ActionType.DOCUMENT_REQUIRED,
        ActionType.PAYMENT_DUE,
    ]


def test_site_visit_description_names_the_appointment() -> None:
    [(action, _)] = run(appointment("site_visit"))
    assert "معاينة فيلا النرجس" in (action.description or "")


def test_customer_without_assignee_gets_an_unassigned_action() -> None:
    [(action, event)] = run(created(CustomerSource.INQUIRY), make_customer(assigned=None))
    assert action.assigned_to is None
    assert action.assigned_to_name is None
    assert event.assigned_to is None
    assert event.employee_ids == ()


def test_backward_move_into_contract_prep_enters_it_again() -> None:
    [(action, _)] = run(stage_changed(Stage.CLOSING, Stage.CONTRACT_PREP))
    assert action.type is ActionType.DOCUMENT_REQUIRED


def test_event_about_another_customer_is_refused() -> None:
    other = attrs.evolve(make_customer(), id="cust_999")
    with pytest.raises(ValueError, match="cust_999"):
        run(created(CustomerSource.INQUIRY), other)


# --- events that create nothing ------------------------------------------------------------------

NOTHING = [
    pytest.param(created(CustomerSource.MANUAL), make_customer(CustomerSource.MANUAL), id="manual"),
    pytest.param(
        created(CustomerSource.REFERRAL), make_customer(CustomerSource.REFERRAL), id="referral"
    ),
    pytest.param(created(CustomerSource.IMPORT), make_customer(CustomerSource.IMPORT), id="import"),
    pytest.param(interaction(required=False), make_customer(), id="interaction-without-follow-up"),
    pytest.param(interaction(date=None), make_customer(), id="follow-up-without-date"),
    pytest.param(appointment("meeting"), make_customer(), id="appointment-meeting"),
    pytest.param(appointment("contract_signing"), make_customer(), id="appointment-signing"),
    pytest.param(
        stage_changed(Stage.SITE_VISIT, Stage.NEGOTIATION), make_customer(), id="to-negotiation"
    ),
    pytest.param(
        stage_changed(Stage.NEGOTIATION, Stage.CLOSING),
        make_customer(),
        id="skip-over-contract-prep-and-down-payment",
    ),
    pytest.param(
        CustomerUpdated(**BASE, customer_id="cust_001", changes={"priority": "high"}),
        make_customer(),
        id="unrelated-event",
    ),
]


@pytest.mark.parametrize(("event", "customer"), NOTHING)
def test_events_that_create_no_action(event: DomainEvent, customer: Customer) -> None:
    assert run(event, customer) == []

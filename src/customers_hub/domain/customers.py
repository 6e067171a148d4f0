"""Operations on the customer aggregate: create, update, relations, assignment, delete/restore.

Each operation is a pure function: it takes the current customer, the validated input and
``now``, and returns the new customer together with the domain events it caused. Input is
validated by :mod:`customers_hub.domain.validation` first; the rules that need the aggregate
(duplicate property, counters, lead score) live here. Stage changes live in
:mod:`customers_hub.domain.lifecycle`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs
from attrs import evolve, fields

from customers_hub.domain.enums import (
    AppointmentType,
    InteractionDirection,
    PropertyInterestStatus,
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
    DocumentUploaded,
    DomainEvent,
    EventHead,
    InteractionLogged,
    PropertyInterestAdded,
    ReminderCreated,
)
from customers_hub.domain.lifecycle import initial_stage_entry
from customers_hub.domain.model import (
    Actor,
    Appointment,
    Customer,
    Document,
    Interaction,
    PropertyInterest,
    Reminder,
)
from customers_hub.domain.naming import camel_case
from customers_hub.domain.scoring import refresh_score
from customers_hub.domain.validation import CustomerDraft, CustomerPatch, apply_customer_patch

Outcome = tuple[Customer, list[DomainEvent]]


def _employees(customer: Customer, *others: str | None) -> tuple[str, ...]:
    ids = [customer.assigned_employee_id, *others]
    return tuple(dict.fromkeys(i for i in ids if i))


class _About(EventHead):
    customer_id: str


def _about(customer: Customer, now: datetime, *others: str | None) -> _About:
    """The fields every event about ``customer`` shares; ``others``: more employees whose scope
    the change touches (besides the assignee)."""
    return {
        "organization_id": customer.organization_id,
        "occurred_at": now,
        "employee_ids": _employees(customer, *others),
        "customer_id": customer.id,
    }


def _rescored(customer: Customer, now: datetime, **counted: Any) -> Customer:
    """``customer`` with ``counted`` (what the lead score counts) changed now, as a new
    version, its score recomputed."""
    changed = evolve(customer, **counted, updated_at=now, version=customer.version + 1)
    return refresh_score(changed, now)


def new_customer(
    draft: CustomerDraft,
    *,
    customer_id: str,
    organization_id: str,
    actor: Actor,
    history_entry_id: str,
    now: datetime,
) -> Outcome:
    """A new customer at ``new_lead`` with its one system history entry and a fresh score."""
    data = attrs.asdict(draft, recurse=False)
    customer = Customer(
        id=customer_id,
        organization_id=organization_id,
        stage=Stage.NEW_LEAD,
        stage_history=(initial_stage_entry(history_entry_id, now),),
        created_at=now,
        updated_at=now,
        **data,
    )
    customer = refresh_score(customer, now)
    event = CustomerCreated(
        **_about(customer, now),
        source=customer.source.value,
        created_by_id=actor.user_id,
    )
    return customer, [event]


def update_customer(customer: Customer, patch: CustomerPatch, *, now: datetime) -> Outcome:
    """Apply a validated partial update; read-only fields are not part of a patch.

    Reassignment is not an update: ``assigned_employee_id`` in a patch is refused here so that
    it can only go through :func:`assign_customer` and its own access rule (rules §4).
    """
    if "assigned_employee_id" in patch.given():
        raise ValidationFailed.single(
            "assignedEmployeeId", "Use the assign operation to change the assigned employee"
        )
    patched = apply_customer_patch(customer, patch)
    changes = {
        camel_case(f.name): getattr(patched, f.name)
        for f in fields(Customer)
        if getattr(patched, f.name) != getattr(customer, f.name)
    }
    if not changes:
        return customer, []
    updated = refresh_score(evolve(patched, updated_at=now, version=customer.version + 1), now)
    events: list[DomainEvent] = [
        CustomerUpdated(
            **_about(updated, now),
            changes=changes,
        )
    ]
    return updated, events


def add_property_interest(
    customer: Customer, interest: PropertyInterest, *, now: datetime
) -> Outcome:
    """Add an interest; a second interest in the same property is a duplicate (409)."""
    if any(i.property_id == interest.property_id for i in customer.property_interests):
        raise Duplicate(
            f"Property {interest.property_id} is already in this customer's interests",
            field="propertyId",
        )
    viewed = 1 if interest.status is PropertyInterestStatus.VIEWED else 0
    updated = _rescored(
        customer,
        now,
        property_interests=(*customer.property_interests, interest),
        total_property_views=customer.total_property_views + viewed,
    )
    event = PropertyInterestAdded(
        **_about(customer, now),
        interest_id=interest.id,
        property_id=interest.property_id,
    )
    return updated, [event]


def update_property_interest_status(
    customer: Customer, interest_id: str, status: PropertyInterestStatus, *, now: datetime
) -> Outcome:
    """Change the status of one of the customer's property interests."""
    interest = next((i for i in customer.property_interests if i.id == interest_id), None)
    if interest is None:
        raise NotFound("property interest", interest_id)
    if interest.status is status:
        return customer, []
    became_viewed = status is PropertyInterestStatus.VIEWED and interest.viewed_at is None
    changed = evolve(
        interest, status=status, viewed_at=now if became_viewed else interest.viewed_at
    )
    updated = _rescored(
        customer,
        now,
        property_interests=tuple(
            changed if i.id == interest_id else i for i in customer.property_interests
        ),
        total_property_views=customer.total_property_views + (1 if became_viewed else 0),
    )
    event = CustomerUpdated(
        **_about(customer, now),
        changes={f"properties.{interest_id}.status": status.value},
    )
    return updated, [event]


def log_interaction(customer: Customer, interaction: Interaction, *, now: datetime) -> Outcome:
    """Record an interaction: counters, last contact and the score follow it."""
    if interaction.follow_up_required and interaction.follow_up_date is None:
        raise ValidationFailed.single(
            "followUpDate", "Follow-up date is required when a follow-up is required"
        )
    if interaction.follow_up_date is not None and interaction.follow_up_date <= interaction.date:
        raise ValidationFailed.single(
            "followUpDate", "Follow-up date must be after the interaction date"
        )
    positive_inbound = (
        interaction.direction is InteractionDirection.INBOUND
        and interaction.sentiment is Sentiment.POSITIVE
    )
    is_latest = customer.last_contact_at is None or interaction.date >= customer.last_contact_at
    next_follow_up = customer.next_follow_up_date
    if interaction.follow_up_date is not None:
        day = interaction.follow_up_date.date()
        next_follow_up = day if next_follow_up is None else min(next_follow_up, day)
    updated = _rescored(
        customer,
        now,
        total_interactions=customer.total_interactions + 1,
        positive_inbound_interactions=customer.positive_inbound_interactions
        + int(positive_inbound),
        last_contact_at=interaction.date if is_latest else customer.last_contact_at,
        last_contact_type=interaction.type if is_latest else customer.last_contact_type,
        next_follow_up_date=next_follow_up,
    )
    event = InteractionLogged(
        **_about(customer, now, interaction.agent_id),
        interaction_id=interaction.id,
        follow_up_required=interaction.follow_up_required,
        follow_up_date=interaction.follow_up_date,
        agent_id=interaction.agent_id,
    )
    return updated, [event]


def schedule_appointment(customer: Customer, appointment: Appointment, *, now: datetime) -> Outcome:
    """Count a new appointment; a site visit makes the system create a ``site_visit`` action."""
    updated = _rescored(customer, now, total_appointments=customer.total_appointments + 1)
    event = AppointmentScheduled(
        **_about(customer, now, appointment.agent_id),
        appointment_id=appointment.id,
        appointment_type=AppointmentType(appointment.type).value,
        at=appointment.at,
        title=appointment.title,
    )
    return updated, [event]


def add_reminder(customer: Customer, reminder: Reminder, *, now: datetime) -> list[DomainEvent]:
    """A reminder changes nothing on the customer itself; it only emits its event."""
    return [
        ReminderCreated(
            **_about(customer, now, reminder.created_by_id),
            reminder_id=reminder.id,
        )
    ]


def add_document(customer: Customer, document: Document, *, now: datetime) -> list[DomainEvent]:
    """A stored document emits its event; the customer row is unchanged."""
    return [
        DocumentUploaded(
            **_about(customer, now, document.uploaded_by_id),
            document_id=document.id,
        )
    ]


def assign_customer(customer: Customer, employee_id: str | None, *, now: datetime) -> Outcome:
    """Assign to another employee (access and the assignee's validity are checked before)."""
    if customer.assigned_employee_id == employee_id:
        return customer, []
    updated = evolve(
        customer, assigned_employee_id=employee_id, updated_at=now, version=customer.version + 1
    )
    event = CustomerAssigned(
        **_about(customer, now, employee_id),
        previous_employee=customer.assigned_employee_id,
        new_employee=employee_id,
    )
    return updated, [event]


def soft_delete(customer: Customer, *, now: datetime) -> Outcome:
    """Mark as deleted; deleting a deleted customer is 'not found' (it is gone for callers)."""
    if customer.is_deleted:
        raise NotFound("customer", customer.id)
    updated = evolve(customer, deleted_at=now, updated_at=now, version=customer.version + 1)
    event = CustomerDeleted(
        **_about(customer, now),
        permanent=False,
    )
    return updated, [event]


def permanent_delete(customer: Customer, *, now: datetime) -> list[DomainEvent]:
    """The event of a permanent delete; the repository removes the rows."""
    return [
        CustomerDeleted(
            **_about(customer, now),
            permanent=True,
        )
    ]


def restore(customer: Customer, *, now: datetime) -> Outcome:
    """Undo a soft delete; restoring a customer that is not deleted is a conflict (409)."""
    if not customer.is_deleted:
        raise Duplicate("Customer is not deleted", field="id")
    updated = evolve(customer, deleted_at=None, updated_at=now, version=customer.version + 1)
    event = CustomerRestored(
        **_about(customer, now),
    )
    return updated, [event]

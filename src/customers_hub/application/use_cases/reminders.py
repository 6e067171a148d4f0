"""Customer reminders: add one, complete one (API document, endpoint 13).

A reminder must be in the future; completing a completed reminder changes nothing, completing
a cancelled one is a 422 (the decisions are in :mod:`.relations`). Each write takes one command
naming the customer (a :class:`~customers_hub.application.use_cases.relations.RelationCommand`)
and, to complete one, the reminder."""

from __future__ import annotations

import datetime as dt

from attrs import evolve, frozen

from customers_hub.application.context import Dependencies
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.use_cases.customers import (
    NOTES_MAX_LENGTH,
    load_customer,
)
from customers_hub.application.use_cases.relations import (
    TITLE_MAX_LENGTH,
    RelationCommand,
    aware_field,
    check_scheduled,
    clean_field,
    relation_changed,
)
from customers_hub.application.write_context import transaction_as
from customers_hub.domain import customers as aggregate
from customers_hub.domain.access import Operation
from customers_hub.domain.enums import (
    Priority,
    ReminderStatus,
    ReminderType,
)
from customers_hub.domain.errors import (
    BusinessRuleViolation,
    NotFound,
)
from customers_hub.domain.events import DomainEvent
from customers_hub.domain.model import (
    Actor,
    Reminder,
)
from customers_hub.domain.validation import (
    ID_MAX_LENGTH,
    Errors,
)

__all__ = ["AddReminder", "CompleteReminder", "add_reminder", "complete_reminder"]


@frozen(kw_only=True)
class AddReminder(RelationCommand):
    """Create a reminder about the customer, due at ``at`` (in the future)."""

    title: str
    at: dt.datetime
    type: ReminderType = ReminderType.FOLLOW_UP
    priority: Priority = Priority.MEDIUM
    title_en: str | None = None
    description: str | None = None
    related_to: str | None = None


@frozen(kw_only=True)
class CompleteReminder(RelationCommand):
    """Mark the customer's reminder ``reminder_id`` completed."""

    reminder_id: str


async def add_reminder(deps: Dependencies, actor: Actor, command: AddReminder) -> Reminder:
    """Create a reminder; the caller is its creator."""
    customer_id = command.customer_id
    now = deps.clock.now()
    errors = Errors()
    title = clean_field(errors, "title", command.title, max_length=TITLE_MAX_LENGTH, required=True)
    title_en = clean_field(errors, "titleEn", command.title_en, max_length=TITLE_MAX_LENGTH)
    description = clean_field(
        errors, "description", command.description, max_length=NOTES_MAX_LENGTH, multiline=True
    )
    related_to = clean_field(errors, "relatedTo", command.related_to, max_length=ID_MAX_LENGTH)
    at = aware_field(errors, "datetime", command.at)
    if at is not None and at <= now:
        errors.add("datetime", "must be in the future")
    else:
        check_scheduled(errors, "datetime", at, now)

    async def work(uow: UnitOfWork) -> tuple[Reminder, list[DomainEvent]]:
        now = deps.clock.now()
        loaded = await load_customer(uow, actor, customer_id, Operation.UPDATE_CUSTOMER)
        errors.raise_if_any()
        assert title is not None  # checked above
        assert at is not None
        reminder = Reminder(
            id=deps.ids.new_id("rem"),
            customer_id=customer_id,
            title=title,
            type=command.type,
            at=at,
            created_by=actor.display_name,
            created_by_id=actor.user_id,
            priority=command.priority,
            title_en=title_en,
            description=description,
            related_to=related_to,
        )
        await uow.relations.add_reminder(actor.organization_id, reminder)
        return reminder, aggregate.add_reminder(loaded.customer, reminder, now=now)

    return await transaction_as(deps, actor, work)


async def complete_reminder(
    deps: Dependencies, actor: Actor, command: CompleteReminder
) -> Reminder:
    """Mark a reminder completed (``completedAt`` = now); see the module docs for the rules."""
    customer_id, reminder_id = command.customer_id, command.reminder_id

    async def work(uow: UnitOfWork) -> tuple[Reminder, list[DomainEvent]]:
        now = deps.clock.now()
        loaded = await load_customer(uow, actor, customer_id, Operation.UPDATE_CUSTOMER)
        reminder = await uow.relations.get_reminder(actor.organization_id, customer_id, reminder_id)
        if reminder is None:
            raise NotFound("reminder", reminder_id)
        if reminder.status is ReminderStatus.COMPLETED:
            return reminder, []
        if reminder.status is ReminderStatus.CANCELLED:
            raise BusinessRuleViolation(
                "A cancelled reminder cannot be completed",
                {"field": "status", "fromStatus": reminder.status.value},
            )
        done = evolve(reminder, status=ReminderStatus.COMPLETED, completed_at=now)
        await uow.relations.save_reminder(actor.organization_id, done)
        changes: dict[str, object] = {f"reminders.{reminder_id}.status": done.status.value}
        return done, relation_changed(
            loaded.customer, changes, now, employee=reminder.created_by_id
        )

    return await transaction_as(deps, actor, work)

"""Use cases on a customer's relations: property interests, interactions, appointments,
reminders and documents.

Every write needs ``Operation.UPDATE_CUSTOMER`` on the customer (admin: all; manager: team;
agent: own; viewer: never), reads ``Operation.READ_CUSTOMERS``; a soft-deleted customer's
relations are not found. Each write is one transaction; its events are published after commit.
The order of checks is the one of :mod:`customers_hub.application.use_cases.customers`: role and
token, the customer (404), its scope (403), the input (400, every field), then the rules.

Decisions where the contracts are silent (documented for ``docs/``):

* **Interactions** are logged by the caller (``agentId``/``agentName`` = the actor). ``date``
  defaults to now and may not be more than :data:`CLOCK_SKEW` in the future; ``duration`` is in
  minutes (0–1440). With ``followUpRequired`` a ``followUpDate`` after ``date`` is required, and
  the system creates a ``follow_up`` action due then.
* **Appointments**: ``datetime`` (an aware instant) wins; without it, ``date`` + ``time`` are
  read in the organization's time zone. A new appointment must be in the future; duration 1–1440
  minutes (default 60). ``agentId`` defaults to the caller; another agent must be an active
  employee of the organization (422 on ``agentId``). A ``site_visit`` creates a system
  ``site_visit`` action. Overlapping another appointment of the same employee is 409
  ``APPOINTMENT_CONFLICT`` unless ``allowConflict``
  (:mod:`customers_hub.application.use_cases.appointments`).
* **Appointment updates**: a new date/time is a reschedule (status ``rescheduled`` unless
  ``scheduled``/``confirmed`` is sent with it; it must be in the future and resets
  ``reminderSent``); status ``rescheduled`` without a new date/time is a 400. ``completed``,
  ``cancelled`` and ``no_show`` are final: the status and the time no longer change (422),
  ``outcome`` and ``notes`` still can. A move that overlaps another appointment of the
  employee is 409 ``APPOINTMENT_CONFLICT`` unless ``allowConflict``; moving a site visit moves
  its open ``site_visit`` action's due date, cancelling it dismisses that action.
* **Reminders** must be in the future. Completing a completed reminder changes nothing;
  completing a cancelled one is a 422.
* **Documents**: the size limit is ``settings.max_document_bytes`` (413), the accepted types are
  :data:`DOCUMENT_MIME_TYPES` (PDF, JPEG, PNG, WebP, HEIC, DOCX; 415 otherwise); both are
  checked first, before anything is loaded (they do not depend on the record). The bytes are
  stored under a generated key (``doc_…`` + the type's extension) *before* the transaction opens
  (writing and syncing up to 20 MiB never holds the customer's row lock or SQLite's write lock)
  and removed again when the transaction fails — a committed record always has its bytes, a
  failed upload leaves no file. Invalid input or a role that may not update customers writes
  nothing. Deleting a document removes the bytes after the commit.
* **Property interests**: when ``propertyId`` is in the caller's organization catalog
  (:meth:`PropertyCatalog.get`, any status), the interest takes ``propertyTitle``,
  ``propertyTitleEn``, ``propertyPrice``, ``propertyType`` and ``propertyLocation`` (``"city -
  district"``, or the city alone) from the catalog — the catalog is the source of truth, so a
  request's values for those fields are ignored (they are still validated); a request's
  ``propertyTitleEn`` is used only when the catalog has none. For an unknown property (another
  organization's catalog included — never a hint of its title or price) the request's values are
  stored as sent. An interest marked ``rejected`` leaves ``aiInsights.propertyMatches``.
* **Sentiment**: logging an interaction recomputes ``aiInsights.sentimentScore`` from the
  customer's newest interactions carrying a sentiment
  (:func:`~customers_hub.domain.scoring.sentiment_score`).
* Changes to appointments, reminders and interest statuses are published as ``customer.updated``
  with ``changes`` keyed ``appointments.{id}.status`` and so on (there is no event of their own).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal

from attrs import evolve, frozen

from customers_hub.application.context import Dependencies
from customers_hub.application.errors import PayloadTooLarge, UnsupportedMediaType
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.use_cases.appointments import (
    ensure_free,
    follow_site_visit,
    takes_new_time,
)
from customers_hub.application.use_cases.customers import (
    NOTES_MAX_LENGTH,
    create_system_actions,
    load_customer,
    score_changed,
)
from customers_hub.application.write_context import transaction_as
from customers_hub.domain import customers as aggregate
from customers_hub.domain.access import Operation, enforce
from customers_hub.domain.appointments import DEFAULT_DURATION_MINUTES, MAX_DURATION_MINUTES
from customers_hub.domain.enums import (
    AppointmentStatus,
    AppointmentType,
    DocumentType,
    InteractionDirection,
    InteractionType,
    Priority,
    PropertyInterestStatus,
    PropertyType,
    ReminderStatus,
    ReminderType,
    Sentiment,
)
from customers_hub.domain.errors import (
    AssignmentRejected,
    BusinessRuleViolation,
    NotFound,
)
from customers_hub.domain.events import CustomerUpdated, DomainEvent
from customers_hub.domain.model import (
    Actor,
    Appointment,
    Customer,
    Document,
    Interaction,
    Property,
    PropertyInterest,
    Reminder,
)
from customers_hub.domain.scoring import SENTIMENT_WINDOW, refresh_score, with_sentiment
from customers_hub.domain.unset import UNSET, Unset
from customers_hub.domain.validation import (
    ID_MAX_LENGTH,
    INTERACTION_CLOCK_SKEW,
    SHORT_TEXT_MAX_LENGTH,
    URL_MAX_LENGTH,
    Errors,
    normalize_tags,
    validate_interaction_date,
    validate_money,
    validate_scheduled_at,
)

__all__ = [
    "CLOCK_SKEW",
    "DOCUMENT_MIME_TYPES",
    "MAX_DURATION_MINUTES",
    "AddPropertyInterest",
    "AddReminder",
    "DocumentContent",
    "LogInteraction",
    "ScheduleAppointment",
    "UpdateAppointment",
    "UpdatePropertyInterestStatus",
    "UploadDocument",
    "add_property_interest",
    "add_reminder",
    "catalog_location",
    "complete_reminder",
    "delete_document",
    "get_document_content",
    "log_interaction",
    "schedule_appointment",
    "update_appointment",
    "update_property_interest_status",
    "upload_document",
]

CLOCK_SKEW = INTERACTION_CLOCK_SKEW
"""How far in the future an interaction's ``date`` may be (clocks of clients differ)."""

TITLE_MAX_LENGTH = 255
TEXT_MAX_LENGTH = SHORT_TEXT_MAX_LENGTH
LOCATION_MAX_LENGTH = 255  # property_interests.property_location is String(255)

DOCUMENT_MIME_TYPES: Mapping[str, str] = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}
"""Accepted document types and the extension of their storage keys."""

_FINAL_APPOINTMENT_STATUSES = frozenset(
    {AppointmentStatus.COMPLETED, AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW}
)
_RESCHEDULE_STATUSES = frozenset(
    {AppointmentStatus.RESCHEDULED, AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED}
)


# ---------------------------------------------------------------------------------------------
# Small input checks (every failing field is collected in one Errors)


def _text(
    errors: Errors,
    field: str,
    raw: str | None,
    *,
    max_length: int,
    required: bool = False,
    multiline: bool = False,
) -> str | None:
    """:func:`~customers_hub.domain.validation.clean_text` of ``raw`` (blank = not given), or
    an error when required, too long or holding control characters."""
    return errors.text(field, raw, max_length=max_length, required=required, multiline=multiline)


def _scheduled(errors: Errors, field: str, at: dt.datetime | None, now: dt.datetime) -> None:
    """Record an error when ``at`` is outside the plausible window around ``now``."""
    if at is not None and not errors.has(field):
        errors.check(field, lambda raw, *, field: validate_scheduled_at(raw, now, field=field), at)


def _aware(errors: Errors, field: str, value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        errors.add(field, "must include a time zone")
        return None
    return value.astimezone(dt.UTC)


def _interaction_date(now: dt.datetime) -> Callable[..., dt.datetime]:
    def validate(raw: dt.datetime, *, field: str) -> dt.datetime:
        return validate_interaction_date(raw, now, field=field)

    return validate


def _minutes(errors: Errors, field: str, value: int | None, *, minimum: int) -> None:
    if value is not None and not minimum <= value <= MAX_DURATION_MINUTES:
        errors.add(field, f"must be between {minimum} and {MAX_DURATION_MINUTES} minutes")


def _when(
    errors: Errors,
    tz: dt.tzinfo,
    at: dt.datetime | None,
    day: dt.date | None,
    clock_time: dt.time | None,
) -> dt.datetime | None:
    """The UTC instant of ``datetime``, else of ``date`` + ``time`` in the organization's zone."""
    if at is not None:
        return _aware(errors, "datetime", at)
    if day is None and clock_time is None:
        return None
    if day is None:
        errors.add("date", "is required with time")
        return None
    if clock_time is None:
        errors.add("time", "is required with date")
        return None
    local = dt.datetime.combine(day, clock_time.replace(tzinfo=None))
    return local.replace(tzinfo=tz).astimezone(dt.UTC)


def _changed(
    customer: Customer, changes: dict[str, object], now: dt.datetime, *, employee: str | None
) -> list[DomainEvent]:
    """``customer.updated`` for a change of one of the customer's relations."""
    ids = tuple(dict.fromkeys(i for i in (customer.assigned_employee_id, employee) if i))
    return [
        CustomerUpdated(
            organization_id=customer.organization_id,
            occurred_at=now,
            employee_ids=ids,
            customer_id=customer.id,
            changes=changes,
        )
    ]


def _without_rejected_matches(customer: Customer, now: dt.datetime) -> Customer:
    """Drop properties the customer rejected from ``aiInsights.propertyMatches``."""
    insights = customer.ai_insights
    rejected = {
        i.property_id
        for i in customer.property_interests
        if i.status is PropertyInterestStatus.REJECTED
    }
    if insights is None or not rejected & set(insights.property_matches):
        return customer
    kept = tuple(p for p in insights.property_matches if p not in rejected)
    return refresh_score(evolve(customer, ai_insights=evolve(insights, property_matches=kept)), now)


# ---------------------------------------------------------------------------------------------
# Property interests


def catalog_location(prop: Property) -> str:
    """A catalog property's location as interests show it: ``"city - district"`` or the city."""
    return f"{prop.city} - {prop.district}" if prop.district else prop.city


@frozen(kw_only=True)
class AddPropertyInterest:
    """Add a property to the customer's interests (one per property)."""

    property_id: str
    status: PropertyInterestStatus = PropertyInterestStatus.INTERESTED
    property_title: str | None = None
    property_title_en: str | None = None
    property_image: str | None = None
    property_price: Decimal | None = None
    property_type: PropertyType | None = None
    property_location: str | None = None
    feedback: str | None = None
    rating: int | None = None
    notes: str | None = None


async def add_property_interest(
    deps: Dependencies, actor: Actor, customer_id: str, command: AddPropertyInterest
) -> PropertyInterest:
    """Add an interest; the same property twice is 409 ``DUPLICATE_RESOURCE`` on
    ``propertyId``."""
    errors = Errors()
    property_id = _text(
        errors, "propertyId", command.property_id, max_length=ID_MAX_LENGTH, required=True
    )
    title = _text(errors, "propertyTitle", command.property_title, max_length=TEXT_MAX_LENGTH)
    title_en = _text(
        errors, "propertyTitleEn", command.property_title_en, max_length=TEXT_MAX_LENGTH
    )
    location = _text(
        errors, "propertyLocation", command.property_location, max_length=LOCATION_MAX_LENGTH
    )
    feedback = _text(
        errors, "feedback", command.feedback, max_length=NOTES_MAX_LENGTH, multiline=True
    )
    notes = _text(errors, "notes", command.notes, max_length=NOTES_MAX_LENGTH, multiline=True)
    image = _text(errors, "propertyImage", command.property_image, max_length=URL_MAX_LENGTH)
    if command.property_price is not None:
        errors.check(
            "propertyPrice",
            lambda raw, *, field: validate_money(raw, field),
            command.property_price,
        )
    if command.rating is not None and not 1 <= command.rating <= 5:
        errors.add("rating", "must be between 1 and 5")

    async def work(uow: UnitOfWork) -> tuple[PropertyInterest, list[DomainEvent]]:
        now = deps.clock.now()
        loaded = await load_customer(uow, actor, customer_id, Operation.UPDATE_CUSTOMER)
        errors.raise_if_any()
        assert property_id is not None  # required: raise_if_any would have raised
        customer = loaded.customer
        # Scoped to the caller's organization: another organization's property is unknown.
        known = await uow.properties.get(actor.organization_id, property_id)
        interest = PropertyInterest(
            id=deps.ids.new_id("prop_int"),
            property_id=property_id,
            status=command.status,
            added_at=now,
            property_title=known.title if known else title,
            property_title_en=(known.title_en if known else None) or title_en,
            property_image=image,
            property_price=known.price if known else command.property_price,
            property_type=known.type if known else command.property_type,
            property_location=catalog_location(known) if known else location,
            viewed_at=now if command.status is PropertyInterestStatus.VIEWED else None,
            feedback=feedback,
            rating=command.rating,
            notes=notes,
        )
        updated, events = aggregate.add_property_interest(customer, interest, now=now)
        updated = _without_rejected_matches(updated, now)
        await uow.customers.save(updated, expected_version=customer.version)
        return interest, [*events, *score_changed(customer, updated, now)]

    return await transaction_as(deps, actor, work)


@frozen
class UpdatePropertyInterestStatus:
    """Move one of the customer's property interests to another status."""

    status: PropertyInterestStatus


async def update_property_interest_status(
    deps: Dependencies,
    actor: Actor,
    customer_id: str,
    interest_id: str,
    command: UpdatePropertyInterestStatus,
) -> PropertyInterest:
    """Change an interest's status (``viewed`` the first time stamps ``viewedAt`` and counts a
    view); the same status again changes nothing."""

    async def work(uow: UnitOfWork) -> tuple[PropertyInterest, list[DomainEvent]]:
        now = deps.clock.now()
        loaded = await load_customer(uow, actor, customer_id, Operation.UPDATE_CUSTOMER)
        customer = loaded.customer
        updated, events = aggregate.update_property_interest_status(
            customer, interest_id, command.status, now=now
        )
        interest = next(i for i in updated.property_interests if i.id == interest_id)
        if updated is customer:
            return interest, []
        updated = _without_rejected_matches(updated, now)
        await uow.customers.save(updated, expected_version=customer.version)
        return interest, [*events, *score_changed(customer, updated, now)]

    return await transaction_as(deps, actor, work)


# ---------------------------------------------------------------------------------------------
# Interactions


@frozen(kw_only=True)
class LogInteraction:
    """Log a contact with the customer; the caller is the agent."""

    type: InteractionType
    notes: str = ""
    date: dt.datetime | None = None
    direction: InteractionDirection | None = None
    duration: int | None = None
    outcome: str | None = None
    sentiment: Sentiment | None = None
    follow_up_required: bool = False
    follow_up_date: dt.datetime | None = None


async def log_interaction(
    deps: Dependencies, actor: Actor, customer_id: str, command: LogInteraction
) -> Interaction:
    """Log an interaction: counters, last contact and score follow; a required follow-up creates
    a system ``follow_up`` action due at ``followUpDate``."""
    now = deps.clock.now()
    errors = Errors()
    when = now
    if command.date is not None:
        when = errors.check("date", _interaction_date(now), command.date) or now
    follow_up = _aware(errors, "followUpDate", command.follow_up_date)
    _scheduled(errors, "followUpDate", follow_up, now)
    if command.follow_up_required and command.follow_up_date is None:
        errors.add("followUpDate", "is required when a follow-up is required")
    if follow_up is not None and follow_up <= when and not errors.has("followUpDate"):
        errors.add("followUpDate", "must be after the interaction date")
    _minutes(errors, "duration", command.duration, minimum=0)
    notes = _text(errors, "notes", command.notes, max_length=NOTES_MAX_LENGTH, multiline=True) or ""
    outcome = _text(errors, "outcome", command.outcome, max_length=TEXT_MAX_LENGTH, multiline=True)

    async def work(uow: UnitOfWork) -> tuple[Interaction, list[DomainEvent]]:
        now = deps.clock.now()
        loaded = await load_customer(uow, actor, customer_id, Operation.UPDATE_CUSTOMER)
        errors.raise_if_any()
        customer = loaded.customer
        interaction = Interaction(
            id=deps.ids.new_id("int"),
            customer_id=customer.id,
            type=command.type,
            date=when,
            notes=notes,
            agent_id=actor.user_id,
            agent_name=actor.display_name,
            direction=command.direction,
            duration=command.duration,
            outcome=outcome,
            sentiment=command.sentiment,
            follow_up_required=command.follow_up_required,
            follow_up_date=follow_up,
        )
        updated, events = aggregate.log_interaction(customer, interaction, now=now)
        recent = await uow.relations.recent_with_sentiment(
            actor.organization_id, customer.id, SENTIMENT_WINDOW
        )
        updated = with_sentiment(updated, [*recent, interaction])
        await uow.customers.save(updated, expected_version=customer.version)
        await uow.relations.add_interaction(actor.organization_id, interaction)
        events += await create_system_actions(
            uow, deps, updated, events, assignee_name=loaded.assignee_name, now=now
        )
        return interaction, [*events, *score_changed(customer, updated, now)]

    return await transaction_as(deps, actor, work)


# ---------------------------------------------------------------------------------------------
# Appointments


@frozen(kw_only=True)
class ScheduleAppointment:
    """Schedule an appointment: ``at`` (aware) or ``date`` + ``time`` in the organization's zone."""

    title: str
    type: AppointmentType
    at: dt.datetime | None = None
    date: dt.date | None = None
    time: dt.time | None = None
    duration: int = DEFAULT_DURATION_MINUTES
    priority: Priority = Priority.MEDIUM
    title_en: str | None = None
    location: str | None = None
    property_id: str | None = None
    property_title: str | None = None
    notes: str | None = None
    agent_id: str | None = None
    allow_conflict: bool = False  # book even over another appointment of the employee


async def schedule_appointment(
    deps: Dependencies, actor: Actor, customer_id: str, command: ScheduleAppointment
) -> Appointment:
    """Schedule an appointment in the future; a ``site_visit`` creates a system action."""
    now = deps.clock.now()
    errors = Errors()
    title = _text(errors, "title", command.title, max_length=TITLE_MAX_LENGTH, required=True)
    title_en = _text(errors, "titleEn", command.title_en, max_length=TITLE_MAX_LENGTH)
    location = _text(errors, "location", command.location, max_length=TEXT_MAX_LENGTH)
    property_id = _text(errors, "propertyId", command.property_id, max_length=ID_MAX_LENGTH)
    property_title = _text(
        errors, "propertyTitle", command.property_title, max_length=TEXT_MAX_LENGTH
    )
    notes = _text(errors, "notes", command.notes, max_length=NOTES_MAX_LENGTH, multiline=True)
    _minutes(errors, "duration", command.duration, minimum=1)
    at = _when(
        errors, await deps.zone_of(actor.organization_id), command.at, command.date, command.time
    )
    if at is None:
        if not (errors.has("datetime") or errors.has("date") or errors.has("time")):
            errors.add("datetime", "is required (or date and time)")
    elif at <= now:
        errors.add("datetime", "must be in the future")
    else:
        _scheduled(errors, "datetime", at, now)
    agent_id = _text(errors, "agentId", command.agent_id, max_length=ID_MAX_LENGTH) or (
        actor.user_id
    )

    async def work(uow: UnitOfWork) -> tuple[Appointment, list[DomainEvent]]:
        now = deps.clock.now()
        loaded = await load_customer(uow, actor, customer_id, Operation.UPDATE_CUSTOMER)
        errors.raise_if_any()
        assert title is not None  # checked above
        assert at is not None
        agent_name = actor.display_name
        if agent_id != actor.user_id:
            agent = await uow.employees.get(actor.organization_id, agent_id)
            if agent is None or not agent.is_active:
                raise AssignmentRejected(
                    "agent is not an active employee of this organization", {"field": "agentId"}
                )
            agent_name = agent.name
        customer = loaded.customer
        appointment = Appointment(
            id=deps.ids.new_id("apt"),
            customer_id=customer.id,
            title=title,
            type=command.type,
            at=at,
            duration=command.duration,
            created_at=now,
            updated_at=now,
            priority=command.priority,
            title_en=title_en,
            location=location,
            property_id=property_id,
            property_title=property_title,
            notes=notes,
            agent_id=agent_id,
            agent_name=agent_name,
        )
        await ensure_free(uow, actor, appointment, allow_conflict=command.allow_conflict)
        updated, events = aggregate.schedule_appointment(customer, appointment, now=now)
        await uow.customers.save(updated, expected_version=customer.version)
        await uow.relations.add_appointment(actor.organization_id, appointment)
        events += await create_system_actions(
            uow, deps, updated, events, assignee_name=loaded.assignee_name, now=now
        )
        return appointment, [*events, *score_changed(customer, updated, now)]

    return await transaction_as(deps, actor, work)


@frozen(kw_only=True)
class UpdateAppointment:
    """Change an appointment's status, outcome or notes, or reschedule it (:data:`UNSET` = not
    sent; a new ``at``, or ``date`` + ``time``, is a reschedule)."""

    status: AppointmentStatus | Unset = UNSET
    outcome: str | Unset | None = UNSET
    notes: str | Unset | None = UNSET
    at: dt.datetime | None = None
    date: dt.date | None = None
    time: dt.time | None = None
    allow_conflict: bool = False  # move even over another appointment of the employee


async def update_appointment(
    deps: Dependencies,
    actor: Actor,
    customer_id: str,
    appointment_id: str,
    command: UpdateAppointment,
) -> Appointment:
    """Update an appointment (rules in the module docs); nothing new, nothing written."""
    now = deps.clock.now()
    errors = Errors()
    new_at = _when(
        errors, await deps.zone_of(actor.organization_id), command.at, command.date, command.time
    )
    if new_at is not None and new_at <= now:
        errors.add("datetime", "must be in the future")
    else:
        _scheduled(errors, "datetime", new_at, now)
    status = command.status
    if new_at is not None and status is not UNSET and status not in _RESCHEDULE_STATUSES:
        errors.add("status", "a rescheduled appointment cannot also be closed")
    when_failed = errors.has("datetime") or errors.has("date") or errors.has("time")
    if new_at is None and status is AppointmentStatus.RESCHEDULED and not when_failed:
        errors.add("datetime", "is required to reschedule")
    outcome = command.outcome
    if isinstance(outcome, str):
        outcome = _text(errors, "outcome", outcome, max_length=NOTES_MAX_LENGTH, multiline=True)
    notes = command.notes
    if isinstance(notes, str):
        notes = _text(errors, "notes", notes, max_length=NOTES_MAX_LENGTH, multiline=True)

    async def work(uow: UnitOfWork) -> tuple[Appointment, list[DomainEvent]]:
        now = deps.clock.now()
        loaded = await load_customer(uow, actor, customer_id, Operation.UPDATE_CUSTOMER)
        current = await uow.relations.get_appointment(
            actor.organization_id, customer_id, appointment_id
        )
        if current is None:
            raise NotFound("appointment", appointment_id)
        errors.raise_if_any()
        wanted = current.status
        if new_at is not None:
            wanted = AppointmentStatus.RESCHEDULED if status is UNSET else status
        elif status is not UNSET:
            wanted = status
        changed = evolve(
            current,
            status=wanted,
            at=new_at if new_at is not None else current.at,
            reminder_sent=False if new_at is not None else current.reminder_sent,
            outcome=current.outcome if outcome is UNSET else outcome,
            notes=current.notes if notes is UNSET else notes,
        )
        if changed == current:
            return current, []
        if current.status in _FINAL_APPOINTMENT_STATUSES and (
            changed.status is not current.status or changed.at != current.at
        ):
            raise BusinessRuleViolation(
                f"A {current.status.value} appointment can no longer be changed",
                {"field": "status", "fromStatus": current.status.value},
            )
        if takes_new_time(current, changed):
            await ensure_free(uow, actor, changed, allow_conflict=command.allow_conflict)
        changed = evolve(changed, updated_at=now)
        await uow.relations.save_appointment(actor.organization_id, changed)
        followed = await follow_site_visit(uow, actor, current, changed, now)
        prefix = f"appointments.{appointment_id}"
        changes: dict[str, object] = {}
        if changed.status is not current.status:
            changes[f"{prefix}.status"] = changed.status.value
        if changed.at != current.at:
            changes[f"{prefix}.datetime"] = changed.at
        if changed.outcome != current.outcome:
            changes[f"{prefix}.outcome"] = changed.outcome
        if changed.notes != current.notes:
            changes[f"{prefix}.notes"] = changed.notes
        events = _changed(loaded.customer, changes, now, employee=changed.agent_id)
        return changed, [*events, *followed]

    return await transaction_as(deps, actor, work)


# ---------------------------------------------------------------------------------------------
# Reminders


@frozen(kw_only=True)
class AddReminder:
    """Create a reminder about the customer, due at ``at`` (in the future)."""

    title: str
    at: dt.datetime
    type: ReminderType = ReminderType.FOLLOW_UP
    priority: Priority = Priority.MEDIUM
    title_en: str | None = None
    description: str | None = None
    related_to: str | None = None


async def add_reminder(
    deps: Dependencies, actor: Actor, customer_id: str, command: AddReminder
) -> Reminder:
    """Create a reminder; the caller is its creator."""
    now = deps.clock.now()
    errors = Errors()
    title = _text(errors, "title", command.title, max_length=TITLE_MAX_LENGTH, required=True)
    title_en = _text(errors, "titleEn", command.title_en, max_length=TITLE_MAX_LENGTH)
    description = _text(
        errors, "description", command.description, max_length=NOTES_MAX_LENGTH, multiline=True
    )
    related_to = _text(errors, "relatedTo", command.related_to, max_length=ID_MAX_LENGTH)
    at = _aware(errors, "datetime", command.at)
    if at is not None and at <= now:
        errors.add("datetime", "must be in the future")
    else:
        _scheduled(errors, "datetime", at, now)

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
    deps: Dependencies, actor: Actor, customer_id: str, reminder_id: str
) -> Reminder:
    """Mark a reminder completed (``completedAt`` = now); see the module docs for the rules."""

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
        return done, _changed(loaded.customer, changes, now, employee=reminder.created_by_id)

    return await transaction_as(deps, actor, work)


# ---------------------------------------------------------------------------------------------
# Documents


@frozen(kw_only=True)
class UploadDocument:
    """Store a file about the customer; ``mime_type`` is what the edge detected from the bytes."""

    name: str
    type: DocumentType
    content: bytes
    mime_type: str
    description: str | None = None
    tags: tuple[str, ...] = ()


@frozen
class DocumentContent:
    """A document's record and its bytes."""

    document: Document
    content: bytes


def _media_type(raw: str) -> str:
    # "application/pdf; charset=binary" → "application/pdf"
    return raw.split(";", 1)[0].strip().lower()


async def upload_document(
    deps: Dependencies, actor: Actor, customer_id: str, command: UploadDocument
) -> Document:
    """Store the bytes and the record; 413 over the size limit, 415 for other types."""
    size = len(command.content)
    if size > deps.settings.max_document_bytes:
        raise PayloadTooLarge(size, deps.settings.max_document_bytes)
    mime_type = _media_type(command.mime_type)
    extension = DOCUMENT_MIME_TYPES.get(mime_type)
    if extension is None:
        raise UnsupportedMediaType(mime_type, tuple(DOCUMENT_MIME_TYPES))
    errors = Errors()
    name = _text(errors, "name", command.name, max_length=TITLE_MAX_LENGTH, required=True)
    description = _text(
        errors, "description", command.description, max_length=NOTES_MAX_LENGTH, multiline=True
    )
    tags = normalize_tags(errors, command.tags)
    if size == 0:
        errors.add("file", "is empty")
    document_id = deps.ids.new_id("doc")
    storage_key = f"{document_id}{extension}"

    async def work(uow: UnitOfWork) -> tuple[Document, list[DomainEvent]]:
        now = deps.clock.now()
        loaded = await load_customer(uow, actor, customer_id, Operation.UPDATE_CUSTOMER)
        errors.raise_if_any()
        assert name is not None  # required
        document = Document(
            id=document_id,
            customer_id=customer_id,
            name=name,
            type=command.type,
            storage_key=storage_key,
            file_size=size,
            mime_type=mime_type,
            uploaded_by=actor.display_name,
            uploaded_by_id=actor.user_id,
            uploaded_at=now,
            description=description,
            tags=tags,
        )
        await uow.relations.add_document(actor.organization_id, document)
        return document, aggregate.add_document(loaded.customer, document, now=now)

    if errors:
        # 404/403 still come before 400: the transaction reports them, writing nothing.
        return await transaction_as(deps, actor, work)
    # The role alone may refuse (a viewer): then there is nothing to write.
    enforce(actor, Operation.UPDATE_CUSTOMER, resource_type="customer", resource_id=customer_id)
    # Bytes first, outside any transaction; a retried attempt reuses the same key.
    await deps.storage.put(storage_key, command.content)
    try:
        return await transaction_as(deps, actor, work)
    except BaseException:
        await deps.storage.delete(storage_key)
        raise


async def get_document_content(
    deps: Dependencies, actor: Actor, customer_id: str, document_id: str
) -> DocumentContent:
    """A document's record and bytes (read access to the customer)."""
    async with deps.uow(read_only=True) as uow:
        await load_customer(uow, actor, customer_id, Operation.READ_CUSTOMERS, for_update=False)
        document = await uow.relations.get_document(actor.organization_id, customer_id, document_id)
    if document is None:
        raise NotFound("document", document_id)
    content = await deps.storage.get(document.storage_key)
    if content is None:
        raise NotFound("document", document_id)
    return DocumentContent(document, content)


async def delete_document(
    deps: Dependencies, actor: Actor, customer_id: str, document_id: str
) -> None:
    """Remove a document's record, then (after the commit) its bytes."""

    async def work(uow: UnitOfWork) -> tuple[Document, list[DomainEvent]]:
        now = deps.clock.now()
        loaded = await load_customer(uow, actor, customer_id, Operation.UPDATE_CUSTOMER)
        document = await uow.relations.get_document(actor.organization_id, customer_id, document_id)
        if document is None:
            raise NotFound("document", document_id)
        await uow.relations.delete_document(actor.organization_id, document_id)
        changes: dict[str, object] = {f"documents.{document_id}": None}
        return document, _changed(loaded.customer, changes, now, employee=None)

    document = await transaction_as(deps, actor, work)
    await deps.storage.delete(document.storage_key)

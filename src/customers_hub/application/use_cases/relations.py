"""Use cases on a customer's relations: property interests, interactions, appointments,
reminders and documents.

Every write needs ``Operation.UPDATE_CUSTOMER`` on the customer (admin: all; manager: team;
agent: own; viewer: never), reads ``Operation.READ_CUSTOMERS``; a soft-deleted customer's
relations are not found. Each write is ``(deps, actor, command)``: the command names the
customer (a :class:`RelationCommand`) and, where it changes one, the relation. Each write is one
transaction; its events are published after commit.
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
from collections.abc import Callable
from decimal import Decimal

from attrs import evolve, frozen

from customers_hub.application.context import Dependencies
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.use_cases.customers import (
    NOTES_MAX_LENGTH,
    load_customer,
    score_changed,
)
from customers_hub.application.write_context import transaction_as
from customers_hub.domain import customers as aggregate
from customers_hub.domain.access import Operation
from customers_hub.domain.appointments import MAX_DURATION_MINUTES
from customers_hub.domain.enums import (
    InteractionDirection,
    InteractionType,
    PropertyInterestStatus,
    PropertyType,
    Sentiment,
)
from customers_hub.domain.events import CustomerUpdated, DomainEvent
from customers_hub.domain.model import (
    Actor,
    Customer,
    Interaction,
    Property,
    PropertyInterest,
)
from customers_hub.domain.scoring import SENTIMENT_WINDOW, refresh_score, with_sentiment
from customers_hub.domain.validation import (
    ID_MAX_LENGTH,
    INTERACTION_CLOCK_SKEW,
    SHORT_TEXT_MAX_LENGTH,
    URL_MAX_LENGTH,
    Errors,
    validate_interaction_date,
    validate_money,
    validate_scheduled_at,
)

__all__ = [
    "CLOCK_SKEW",
    "MAX_DURATION_MINUTES",
    "TEXT_MAX_LENGTH",
    "TITLE_MAX_LENGTH",
    "AddPropertyInterest",
    "LogInteraction",
    "RelationCommand",
    "UpdatePropertyInterestStatus",
    "add_property_interest",
    "aware_field",
    "catalog_location",
    "check_minutes",
    "check_scheduled",
    "clean_field",
    "log_interaction",
    "relation_changed",
    "update_property_interest_status",
]

CLOCK_SKEW = INTERACTION_CLOCK_SKEW
"""How far in the future an interaction's ``date`` may be (clocks of clients differ)."""

TITLE_MAX_LENGTH = 255
TEXT_MAX_LENGTH = SHORT_TEXT_MAX_LENGTH
LOCATION_MAX_LENGTH = 255  # property_interests.property_location is String(255)


@frozen(kw_only=True)
class RelationCommand:
    """A write on one customer's relations: the customer's id. Every relation write's command
    (interests, interactions, appointments, reminders, documents) is one of these, so the field
    is declared here only; the routes take no ``If-Match`` (the customer's stored version guards
    the save)."""

    customer_id: str


# ---------------------------------------------------------------------------------------------
# Small input checks (every failing field is collected in one Errors)


def clean_field(
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


def check_scheduled(errors: Errors, field: str, at: dt.datetime | None, now: dt.datetime) -> None:
    """Record an error when ``at`` is outside the plausible window around ``now``."""
    if at is not None and not errors.has(field):
        errors.check(field, lambda raw, *, field: validate_scheduled_at(raw, now, field=field), at)


def aware_field(errors: Errors, field: str, value: dt.datetime | None) -> dt.datetime | None:
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


def check_minutes(errors: Errors, field: str, value: int | None, *, minimum: int) -> None:
    if value is not None and not minimum <= value <= MAX_DURATION_MINUTES:
        errors.add(field, f"must be between {minimum} and {MAX_DURATION_MINUTES} minutes")


def relation_changed(
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


async def _save_interest_change(
    uow: UnitOfWork,
    customer: Customer,
    updated: Customer,
    events: list[DomainEvent],
    now: dt.datetime,
) -> list[DomainEvent]:
    """Save ``updated`` (``customer`` with an interest added or moved) without the matches it
    now rejects; ``events`` and the lead score's change."""
    updated = _without_rejected_matches(updated, now)
    await uow.customers.save(updated, expected_version=customer.version)
    return [*events, *score_changed(customer, updated, now)]


# ---------------------------------------------------------------------------------------------
# Property interests


def catalog_location(prop: Property) -> str:
    """A catalog property's location as interests show it: ``"city - district"`` or the city."""
    return f"{prop.city} - {prop.district}" if prop.district else prop.city


@frozen(kw_only=True)
class AddPropertyInterest(RelationCommand):
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
    deps: Dependencies, actor: Actor, command: AddPropertyInterest
) -> PropertyInterest:
    """Add an interest; the same property twice is 409 ``DUPLICATE_RESOURCE`` on
    ``propertyId``."""
    errors = Errors()
    property_id = clean_field(
        errors, "propertyId", command.property_id, max_length=ID_MAX_LENGTH, required=True
    )
    title = clean_field(errors, "propertyTitle", command.property_title, max_length=TEXT_MAX_LENGTH)
    title_en = clean_field(
        errors, "propertyTitleEn", command.property_title_en, max_length=TEXT_MAX_LENGTH
    )
    location = clean_field(
        errors, "propertyLocation", command.property_location, max_length=LOCATION_MAX_LENGTH
    )
    feedback = clean_field(
        errors, "feedback", command.feedback, max_length=NOTES_MAX_LENGTH, multiline=True
    )
    notes = clean_field(errors, "notes", command.notes, max_length=NOTES_MAX_LENGTH, multiline=True)
    image = clean_field(errors, "propertyImage", command.property_image, max_length=URL_MAX_LENGTH)
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
        loaded = await load_customer(uow, actor, command.customer_id, Operation.UPDATE_CUSTOMER)
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
        return interest, await _save_interest_change(uow, customer, updated, events, now)

    return await transaction_as(deps, actor, work)


@frozen(kw_only=True)
class UpdatePropertyInterestStatus(RelationCommand):
    """Move the customer's property interest ``interest_id`` to another status."""

    interest_id: str
    status: PropertyInterestStatus


async def update_property_interest_status(
    deps: Dependencies, actor: Actor, command: UpdatePropertyInterestStatus
) -> PropertyInterest:
    """Change an interest's status (``viewed`` the first time stamps ``viewedAt`` and counts a
    view); the same status again changes nothing."""

    async def work(uow: UnitOfWork) -> tuple[PropertyInterest, list[DomainEvent]]:
        now = deps.clock.now()
        loaded = await load_customer(uow, actor, command.customer_id, Operation.UPDATE_CUSTOMER)
        customer = loaded.customer
        updated, events = aggregate.update_property_interest_status(
            customer, command.interest_id, command.status, now=now
        )
        interest = next(i for i in updated.property_interests if i.id == command.interest_id)
        if updated is customer:
            return interest, []
        return interest, await _save_interest_change(uow, customer, updated, events, now)

    return await transaction_as(deps, actor, work)


# ---------------------------------------------------------------------------------------------
# Interactions


@frozen(kw_only=True)
class LogInteraction(RelationCommand):
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


async def log_interaction(deps: Dependencies, actor: Actor, command: LogInteraction) -> Interaction:
    """Log an interaction: counters, last contact and score follow; a required follow-up creates
    a system ``follow_up`` action due at ``followUpDate``."""
    now = deps.clock.now()
    errors = Errors()
    when = now
    if command.date is not None:
        when = errors.check("date", _interaction_date(now), command.date) or now
    follow_up = aware_field(errors, "followUpDate", command.follow_up_date)
    check_scheduled(errors, "followUpDate", follow_up, now)
    if command.follow_up_required and command.follow_up_date is None:
        errors.add("followUpDate", "is required when a follow-up is required")
    if follow_up is not None and follow_up <= when and not errors.has("followUpDate"):
        errors.add("followUpDate", "must be after the interaction date")
    check_minutes(errors, "duration", command.duration, minimum=0)
    notes = (
        clean_field(errors, "notes", command.notes, max_length=NOTES_MAX_LENGTH, multiline=True)
        or ""
    )
    outcome = clean_field(
        errors, "outcome", command.outcome, max_length=TEXT_MAX_LENGTH, multiline=True
    )

    async def work(uow: UnitOfWork) -> tuple[Interaction, list[DomainEvent]]:
        now = deps.clock.now()
        loaded = await load_customer(uow, actor, command.customer_id, Operation.UPDATE_CUSTOMER)
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
        return interaction, await loaded.follow_on_events(uow, deps, updated, events, now)

    return await transaction_as(deps, actor, work)

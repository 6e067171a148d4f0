"""Entities and value objects of the Customers Hub domain (plain, frozen attrs classes).

Entities are immutable: a change builds a new instance with :func:`attrs.evolve`. Money is
``Decimal``; every ``datetime`` is timezone-aware UTC. The customer aggregate carries its stage
history and property interests (both small and needed by the lifecycle guards); interactions,
appointments, reminders and documents are unbounded, so they are separate entities and the
customer keeps counters of them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from attrs import field, frozen

from customers_hub.domain.compliance import KsaCompliance
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    AppointmentStatus,
    AppointmentType,
    ChurnRisk,
    CustomerSource,
    CustomerType,
    DocumentType,
    EngagementLevel,
    Furnishing,
    Gender,
    InteractionDirection,
    InteractionType,
    Permission,
    Priority,
    PropertyInterestStatus,
    PropertyStatus,
    PropertyType,
    Purpose,
    ReminderStatus,
    ReminderType,
    Role,
    Sentiment,
    Stage,
    Timeline,
)
from customers_hub.domain.fields import listed, writable

SYSTEM_ACTOR_ID = "system"
SYSTEM_ACTOR_NAME = "System"


@frozen
class Preferences:
    """What the customer is looking for."""

    property_type: tuple[PropertyType, ...] = ()
    budget_min: Decimal | None = None
    budget_max: Decimal | None = None
    preferred_areas: tuple[str, ...] = ()
    preferred_cities: tuple[str, ...] = ()
    bedrooms: int | None = None
    bathrooms: int | None = None
    min_area: Decimal | None = None
    max_area: Decimal | None = None
    purpose: Purpose | None = None
    timeline: Timeline | None = None
    amenities: tuple[str, ...] = ()
    furnishing: Furnishing | None = None


@frozen
class ScoreFactor:
    """One line of a lead score's explanation; the points of all factors sum to the score."""

    factor: str
    points: int
    reason: str


@frozen
class AiInsights:
    """Rule-based insights (rules §3); nothing here is a trained model."""

    next_best_action: str
    next_best_action_en: str
    churn_risk: ChurnRisk
    engagement_level: EngagementLevel
    conversion_probability: int
    recommended_follow_up_date: date | None
    predicted_close_date: date | None
    property_matches: tuple[str, ...] = ()
    score_factors: tuple[ScoreFactor, ...] = ()
    sentiment_score: int | None = None


@frozen
class StageChange:
    """One append-only entry of a customer's stage history."""

    id: str
    from_stage: Stage | None
    to_stage: Stage
    changed_by: str
    changed_by_id: str
    changed_at: datetime
    notes: str | None = None
    reason: str | None = None
    auto_generated: bool = False
    # The customer this entry was moved from by a merge (rules §10); None for its own entries.
    merged_from: str | None = None


@frozen
class PropertyInterest:
    """A customer's interest in one property; one per (customer, property)."""

    id: str
    property_id: str
    status: PropertyInterestStatus
    added_at: datetime
    property_title: str | None = None
    property_title_en: str | None = None
    property_image: str | None = None
    property_price: Decimal | None = None
    property_type: PropertyType | None = None
    property_location: str | None = None
    viewed_at: datetime | None = None
    feedback: str | None = None
    rating: int | None = None
    notes: str | None = None


@frozen(kw_only=True)
class CustomerFields:
    """The fields of a customer that clients write: the input of create customer (a draft,
    types parsed by the edge, business checks still to run) and what an update may change.

    One declaration serves the entity (:class:`Customer` extends it), the draft and the patch
    (``domain.validation``), the request body (``entrypoints.http.wire.customer_in``), the
    import's columns and the OpenAPI schema: a new writable field is one line here. A field
    without a rule of its own in ``domain.validation.customers`` gets the rule of its type and
    its :func:`~customers_hub.domain.fields.writable` mark (a text's length, a number's bounds).
    """

    name: str = field(metadata=listed(sortable=True))
    name_en: str | None = field(default=None, metadata=listed())
    phone: str = field(metadata=listed())
    whatsapp: str | None = field(default=None, metadata=listed(identifier=True))
    email: str | None = field(default=None, metadata=listed())
    national_id: str | None = field(default=None, metadata=listed())
    nationality: str | None = field(default=None, metadata=listed())
    # Lenders and REDF support read it before a financing offer.
    employer: str | None = field(
        default=None, metadata={**listed(), **writable(max_length=200, personal=True)}
    )
    gender: Gender | None = field(default=None, metadata=listed())
    date_of_birth: date | None = None
    source: CustomerSource = field(default=CustomerSource.MANUAL, metadata=listed())
    source_details: dict[str, str] = field(factory=dict)
    preferences: Preferences = field(factory=Preferences)
    # Ordered by rank (urgent > high > medium > low).
    priority: Priority = field(
        default=Priority.MEDIUM, metadata=listed(ordered=True, sortable=True)
    )
    customer_type: CustomerType | None = field(default=None, metadata=listed())
    tags: tuple[str, ...] = field(default=(), metadata=listed())
    assigned_employee_id: str | None = field(default=None, metadata=listed(identifier=True))
    city: str | None = field(default=None, metadata=listed())
    district: str | None = field(default=None, metadata=listed())
    # state/region (e.g. منطقة الرياض); the actions list filters on it
    region: str | None = field(default=None, metadata=listed())
    address: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    notes: str | None = None
    total_deal_value: Decimal | None = field(default=None, metadata=listed(sortable=True))
    expected_revenue: Decimal | None = field(default=None, metadata=listed())
    paid_amount: Decimal | None = field(default=None, metadata=listed())
    ksa_compliance: KsaCompliance | None = None


@frozen(kw_only=True)
class Customer(CustomerFields):
    """The customer aggregate: identity, lifecycle, preferences, scoring and counters.

    The fields clients write are :class:`CustomerFields`'; these are the ones the system keeps.
    """

    id: str = field(metadata=listed(identifier=True))
    organization_id: str
    stage: Stage = field(metadata=listed(ordered=True))  # ordered by the lifecycle
    created_at: datetime = field(metadata=listed(sortable=True))
    updated_at: datetime = field(metadata=listed())
    stage_history: tuple[StageChange, ...] = ()
    property_interests: tuple[PropertyInterest, ...] = ()
    lead_score: int = field(default=0, metadata=listed(sortable=True))
    ai_insights: AiInsights | None = None
    last_contact_at: datetime | None = field(default=None, metadata=listed(sortable=True))
    last_contact_type: InteractionType | None = None
    next_follow_up_date: date | None = field(default=None, metadata=listed())
    total_interactions: int = field(default=0, metadata=listed())
    positive_inbound_interactions: int = 0
    total_appointments: int = field(default=0, metadata=listed())
    total_property_views: int = field(default=0, metadata=listed())
    response_rate: int | None = field(default=None, metadata=listed(bounds=(0, 100)))  # percent
    avg_response_time: float | None = None
    deleted_at: datetime | None = None
    version: int = 1
    # Rules §10: the customer this one was merged into (it is then soft-deleted too).
    merged_into: str | None = None
    # Rules §8 erasure (domain.erasure): when it happened, and until when a restricted
    # customer keeps the name and national id its contract needs (None: not restricted).
    erased_at: datetime | None = None
    restricted_until: datetime | None = None

    @property
    def is_deleted(self) -> bool:
        """True once soft-deleted."""
        return self.deleted_at is not None

    @property
    def is_restricted(self) -> bool:
        """True for an erased customer kept for its contract: admins alone see it."""
        return self.restricted_until is not None


@frozen
class Interaction:
    """A logged contact with the customer (call, WhatsApp, meeting, …)."""

    id: str
    customer_id: str
    type: InteractionType
    date: datetime
    notes: str
    agent_id: str
    agent_name: str
    direction: InteractionDirection | None = None
    duration: int | None = None
    outcome: str | None = None
    sentiment: Sentiment | None = None
    follow_up_required: bool = False
    follow_up_date: datetime | None = None


@frozen
class Appointment:
    """A scheduled meeting with the customer; ``datetime`` is the UTC instant."""

    id: str
    customer_id: str
    title: str
    type: AppointmentType
    at: datetime
    duration: int
    created_at: datetime
    updated_at: datetime
    status: AppointmentStatus = AppointmentStatus.SCHEDULED
    priority: Priority = Priority.MEDIUM
    title_en: str | None = None
    location: str | None = None
    property_id: str | None = None
    property_title: str | None = None
    notes: str | None = None
    agent_id: str | None = None
    agent_name: str | None = None
    reminder_sent: bool = False
    outcome: str | None = None


@frozen
class Reminder:
    """A reminder for an employee about a customer."""

    id: str
    customer_id: str
    title: str
    type: ReminderType
    at: datetime
    created_by: str
    created_by_id: str
    priority: Priority = Priority.MEDIUM
    status: ReminderStatus = ReminderStatus.PENDING
    title_en: str | None = None
    description: str | None = None
    related_to: str | None = None
    completed_at: datetime | None = None


@frozen
class Document:
    """A stored file about a customer; ``storage_key`` is a generated name, never the client's."""

    id: str
    customer_id: str
    name: str
    type: DocumentType
    storage_key: str
    file_size: int
    mime_type: str
    uploaded_by: str
    uploaded_by_id: str
    uploaded_at: datetime
    description: str | None = None
    tags: tuple[str, ...] = ()


@frozen
class ActionNote:
    """A note on an inbox action; notes can be added even to terminal actions."""

    id: str
    action_id: str
    content: str
    created_by: str
    created_by_id: str
    created_at: datetime


@frozen
class CustomerAction:
    """An item of the requests inbox (inquiry, callback, follow-up, …)."""

    id: str
    organization_id: str
    customer_id: str
    customer_name: str
    type: ActionType
    title: str
    priority: Priority
    status: ActionStatus
    source: CustomerSource
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    due_date: datetime | None = None
    snoozed_until: datetime | None = None
    assigned_to: str | None = None
    assigned_to_name: str | None = None
    completed_at: datetime | None = None
    completed_by: str | None = None
    outcome: str | None = None
    dismiss_reason: str | None = None
    metadata: dict[str, object] = field(factory=dict)
    notes: tuple[ActionNote, ...] = ()
    version: int = 1


@frozen
class FalLicence:
    """A broker's REGA FAL licence."""

    number: str
    expires_on: date

    def is_valid_on(self, day: date) -> bool:
        """True while the licence has not expired on ``day``."""
        return day <= self.expires_on


@frozen
class Employee:
    """A member of an organization's sales team."""

    id: str
    organization_id: str
    name: str
    role: Role
    is_active: bool = True
    name_en: str | None = None
    email: str | None = None
    phone: str | None = None
    title: str | None = None
    avatar: str | None = None
    manager_id: str | None = None
    fal_licence: FalLicence | None = None


@frozen
class Actor:
    """Who is calling: the claims of a verified token."""

    user_id: str
    organization_id: str
    role: Role
    permissions: frozenset[Permission] = frozenset()
    name: str | None = None
    email: str | None = None

    @property
    def display_name(self) -> str:
        """The name written into history entries and notes."""
        return self.name or self.user_id


@frozen
class Property:
    """A property on offer in an organization's catalog (for matching)."""

    id: str
    organization_id: str
    title: str
    type: PropertyType
    city: str
    price: Decimal
    status: PropertyStatus = PropertyStatus.AVAILABLE
    title_en: str | None = None
    district: str | None = None
    bedrooms: int | None = None
    area: Decimal | None = None
    off_plan: bool = False

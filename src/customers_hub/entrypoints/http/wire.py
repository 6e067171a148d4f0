"""The wire format: msgspec Structs for bodies and responses, and domain → wire serializers.

Conventions (the API document's examples, field for field):

* Keys are camelCase (:class:`Wire` renames ``snake_case`` attributes).
* Money is a JSON number (:func:`money`: a whole amount as an integer, else a float with at most
  two decimals); datetimes are ISO-8601 UTC with ``Z`` (msgspec renders aware UTC datetimes that
  way; sub-second digits only when not zero); dates are ``YYYY-MM-DD``.
* An optional value the record does not have is **omitted** (as in the document's examples);
  :data:`UNSET` marks it. ``null`` appears only where it carries meaning (``fromStage`` of the
  first history entry, cursors at either end of a list).
* Request bodies are :class:`WireIn` Structs, decoded by :mod:`~.strict`: every failing field
  reported at once, unknown keys refused (400 naming them), except the read-only keys of the
  response shape a body ``echoes`` (``id``, ``stage``, ``leadScore``, ``organizationId``,
  timestamps, counters of a customer), which are checked against that shape and never read.
  Partial-update bodies use :data:`UNSET` for "not sent" and ``None`` for "clear".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Final, TypeVar

import msgspec
from litestar.params import Parameter
from msgspec import UNSET, UnsetType

from customers_hub.application.queries import (
    MAX_LIMIT,
    CustomerStats,
    EmployeeOption,
    FilterOption,
    FilterOptions,
    Page,
)
from customers_hub.domain.compliance import (
    EjarContract,
    Financing,
    KsaCompliance,
    SakaniEligibility,
    WafiLicence,
)
from customers_hub.domain.enums import (
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
    PaymentFrequency,
    Priority,
    PropertyInterestStatus,
    PropertyType,
    Purpose,
    ReminderStatus,
    ReminderType,
    Sentiment,
    Stage,
    Timeline,
)
from customers_hub.domain.errors import FieldError, ValidationFailed
from customers_hub.domain.model import (
    AiInsights,
    Appointment,
    Customer,
    Document,
    Employee,
    Interaction,
    Preferences,
    PropertyInterest,
    Reminder,
    ScoreFactor,
    StageChange,
)
from customers_hub.domain.naming import camel_case
from customers_hub.domain.unset import UNSET as DOMAIN_UNSET
from customers_hub.domain.unset import Unset as DomainUnset
from customers_hub.domain.validation import (
    MONEY_MAX,
    CustomerDraft,
    CustomerPatch,
    PreferencesPatch,
    validate_customer_draft,
    validate_customer_patch,
)

__all__ = [
    "API_PREFIX",
    "CUSTOMER_FIELDS",
    "FIELDS",
    "LEAD_SCORE_MAX",
    "LEAD_SCORE_MIN",
    "LIMIT",
    "PAGE",
    "PAGE_MAX",
    "UNSET",
    "AiInsightsOut",
    "AppointmentOut",
    "AssignedEmployeeOut",
    "CustomerOut",
    "DocumentOut",
    "InteractionOut",
    "KsaComplianceIn",
    "KsaComplianceOut",
    "NewCustomerIn",
    "Pagination",
    "PreferencesIn",
    "PreferencesOut",
    "PropertyInterestOut",
    "ReminderOut",
    "StageChangeOut",
    "UnsetType",
    "Wire",
    "WireIn",
    "amount_errors",
    "appointment_to_wire",
    "assigned_employee_to_wire",
    "customer_to_wire",
    "document_to_wire",
    "document_url",
    "filter_options_to_wire",
    "interaction_to_wire",
    "money",
    "opt",
    "page_to_wire",
    "property_interest_to_wire",
    "reminder_to_wire",
    "select_fields",
    "stage_change_to_wire",
    "utc",
    "wire_keys",
]

API_PREFIX: Final = "/api/v1"
"""Base path of every API route."""

T = TypeVar("T")


class Wire(msgspec.Struct, rename="camel", kw_only=True):
    """Base of every wire Struct: camelCase keys, keyword construction.

    Subclasses inherit the configuration.
    """


class WireIn(Wire, forbid_unknown_fields=True):
    """Base of every request body (and object nested in one): unknown keys are refused.

    ``echoes`` names the response Struct of the resource the body creates or changes: its keys
    that the body does not take (``id``, ``createdAt``, …) are read-only — a client echoing a
    record back may send them, each checked against the response's type (``"type": "zzz"`` is
    still a 400) and then ignored (:mod:`~.strict`, and ``readOnly`` in the OpenAPI document).
    """

    echoes: ClassVar[type[msgspec.Struct] | None] = None


# ---------------------------------------------------------------------------------------------
# Scalars


def opt(value: T | None) -> T | UnsetType:
    """``value``, or :data:`UNSET` (the key is omitted) when it is None."""
    return UNSET if value is None else value


def money(value: Decimal | None) -> float | UnsetType:
    """An amount as a JSON number (whole amounts as integers), omitted when None."""
    if value is None:
        return UNSET
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def number(value: Decimal | None) -> float | UnsetType:
    """A decimal quantity (area, coordinate) as a JSON number, omitted when None."""
    return money(value)


def utc(value: datetime) -> datetime:
    """``value`` in UTC (msgspec then renders it with ``Z``)."""
    return value.astimezone(UTC)


def opt_utc(value: datetime | None) -> datetime | UnsetType:
    """:func:`utc`, omitted when None."""
    return UNSET if value is None else utc(value)


# ---------------------------------------------------------------------------------------------
# Pagination


class Pagination(Wire, kw_only=True):
    """``pagination`` of a list.

    Offset mode: ``currentPage``, ``pageSize``, ``totalPages``, ``totalItems``, ``hasNextPage``,
    ``hasPreviousPage`` (and ``totalItemsIsEstimate: true`` when the count is an estimate).
    Cursor mode: ``nextCursor``, ``prevCursor`` (null at either end), ``hasNext``,
    ``hasPrevious``, ``limit``.
    """

    current_page: int | UnsetType = UNSET
    page_size: int | UnsetType = UNSET
    total_pages: int | UnsetType = UNSET
    total_items: int | UnsetType = UNSET
    total_items_is_estimate: bool | UnsetType = UNSET
    has_next_page: bool | UnsetType = UNSET
    has_previous_page: bool | UnsetType = UNSET
    next_cursor: str | UnsetType | None = UNSET
    prev_cursor: str | UnsetType | None = UNSET
    has_next: bool | UnsetType = UNSET
    has_previous: bool | UnsetType = UNSET
    limit: int | UnsetType = UNSET


def page_to_wire(page: Page[Any]) -> Pagination:
    """The ``pagination`` object of ``page`` (offset or cursor mode, as the page was read)."""
    if page.page is None:
        return Pagination(
            next_cursor=page.next_cursor,
            prev_cursor=page.prev_cursor,
            has_next=page.has_next,
            has_previous=page.has_previous,
            limit=page.limit,
        )
    total = page.total_items or 0
    total_pages = (total + page.limit - 1) // page.limit if page.limit else 0
    return Pagination(
        current_page=page.page,
        page_size=page.limit,
        total_pages=total_pages,
        total_items=total,
        total_items_is_estimate=True if page.total_is_estimate else UNSET,
        has_next_page=page.has_next if page.has_next else page.page < total_pages,
        has_previous_page=page.page > 1,
    )


# ---------------------------------------------------------------------------------------------
# Customer parts (responses)


class StageChangeOut(Wire, kw_only=True):
    """One entry of ``stageHistory``."""

    id: str
    from_stage: Stage | None
    to_stage: Stage
    changed_by: str
    changed_by_id: str
    changed_at: datetime
    notes: str | UnsetType = UNSET
    reason: str | UnsetType = UNSET
    auto_generated: bool


def stage_change_to_wire(entry: StageChange) -> StageChangeOut:
    """The wire form of a stage history entry."""
    return StageChangeOut(
        id=entry.id,
        from_stage=entry.from_stage,
        to_stage=entry.to_stage,
        changed_by=entry.changed_by,
        changed_by_id=entry.changed_by_id,
        changed_at=utc(entry.changed_at),
        notes=opt(entry.notes),
        reason=opt(entry.reason),
        auto_generated=entry.auto_generated,
    )


class PropertyInterestOut(Wire, kw_only=True):
    """One of the customer's property interests."""

    id: str
    property_id: str
    property_title: str | UnsetType = UNSET
    property_title_en: str | UnsetType = UNSET
    property_image: str | UnsetType = UNSET
    property_price: float | UnsetType = UNSET
    property_type: PropertyType | UnsetType = UNSET
    property_location: str | UnsetType = UNSET
    status: PropertyInterestStatus
    added_at: datetime
    viewed_at: datetime | UnsetType = UNSET
    feedback: str | UnsetType = UNSET
    rating: int | UnsetType = UNSET
    notes: str | UnsetType = UNSET


def property_interest_to_wire(interest: PropertyInterest) -> PropertyInterestOut:
    """The wire form of a property interest."""
    return PropertyInterestOut(
        id=interest.id,
        property_id=interest.property_id,
        property_title=opt(interest.property_title),
        property_title_en=opt(interest.property_title_en),
        property_image=opt(interest.property_image),
        property_price=money(interest.property_price),
        property_type=opt(interest.property_type),
        property_location=opt(interest.property_location),
        status=interest.status,
        added_at=utc(interest.added_at),
        viewed_at=opt_utc(interest.viewed_at),
        feedback=opt(interest.feedback),
        rating=opt(interest.rating),
        notes=opt(interest.notes),
    )


class PreferencesOut(Wire, kw_only=True):
    """What the customer is looking for."""

    property_type: list[PropertyType]
    budget_min: float | UnsetType = UNSET
    budget_max: float | UnsetType = UNSET
    preferred_areas: list[str]
    preferred_cities: list[str]
    bedrooms: int | UnsetType = UNSET
    bathrooms: int | UnsetType = UNSET
    min_area: float | UnsetType = UNSET
    max_area: float | UnsetType = UNSET
    purpose: Purpose | UnsetType = UNSET
    timeline: Timeline | UnsetType = UNSET
    amenities: list[str]
    furnishing: Furnishing | UnsetType = UNSET


def preferences_to_wire(preferences: Preferences) -> PreferencesOut:
    """The wire form of the preferences."""
    return PreferencesOut(
        property_type=list(preferences.property_type),
        budget_min=money(preferences.budget_min),
        budget_max=money(preferences.budget_max),
        preferred_areas=list(preferences.preferred_areas),
        preferred_cities=list(preferences.preferred_cities),
        bedrooms=opt(preferences.bedrooms),
        bathrooms=opt(preferences.bathrooms),
        min_area=number(preferences.min_area),
        max_area=number(preferences.max_area),
        purpose=opt(preferences.purpose),
        timeline=opt(preferences.timeline),
        amenities=list(preferences.amenities),
        furnishing=opt(preferences.furnishing),
    )


class ScoreFactorOut(Wire, kw_only=True):
    """One line of the lead score's explanation."""

    factor: str
    points: int
    reason: str


class AiInsightsOut(Wire, kw_only=True):
    """Rule-based insights (nothing here is a trained model)."""

    next_best_action: str
    next_best_action_en: str
    churn_risk: ChurnRisk
    property_matches: list[str]
    predicted_close_date: date | UnsetType = UNSET
    recommended_follow_up_date: date | UnsetType = UNSET
    engagement_level: EngagementLevel
    conversion_probability: int
    sentiment_score: int | UnsetType = UNSET
    score_factors: list[ScoreFactorOut]


def _score_factor(factor: ScoreFactor) -> ScoreFactorOut:
    return ScoreFactorOut(factor=factor.factor, points=factor.points, reason=factor.reason)


def ai_insights_to_wire(insights: AiInsights) -> AiInsightsOut:
    """The wire form of the insights."""
    return AiInsightsOut(
        next_best_action=insights.next_best_action,
        next_best_action_en=insights.next_best_action_en,
        churn_risk=insights.churn_risk,
        property_matches=list(insights.property_matches),
        predicted_close_date=opt(insights.predicted_close_date),
        recommended_follow_up_date=opt(insights.recommended_follow_up_date),
        engagement_level=insights.engagement_level,
        conversion_probability=insights.conversion_probability,
        sentiment_score=opt(insights.sentiment_score),
        score_factors=[_score_factor(f) for f in insights.score_factors],
    )


class AssignedEmployeeOut(Wire, kw_only=True):
    """The assigned employee as embedded in a customer.

    ``role`` is the employee's job title when known (``Senior Sales Agent``), else the English
    label of the role.
    """

    id: str
    name: str
    name_en: str | UnsetType = UNSET
    email: str | UnsetType = UNSET
    phone: str | UnsetType = UNSET
    role: str
    avatar: str | UnsetType = UNSET


def assigned_employee_to_wire(employee: Employee) -> AssignedEmployeeOut:
    """The embedded form of an employee."""
    return AssignedEmployeeOut(
        id=employee.id,
        name=employee.name,
        name_en=opt(employee.name_en),
        email=opt(employee.email),
        phone=opt(employee.phone),
        role=employee.title or employee.role.label_en,
        avatar=opt(employee.avatar),
    )


# --- KSA compliance (the same shape in and out) ----------------------------------------------


class EjarContractWire(WireIn, kw_only=True):
    """An EJAR rental contract."""

    contract_number: str
    landlord_name: str
    tenant_name: str
    start_date: date
    end_date: date
    annual_rent: Decimal
    payment_frequency: PaymentFrequency


class WafiLicenceWire(WireIn, kw_only=True):
    """The Wafi licence of an off-plan project."""

    licence_number: str
    project_name: str
    expires_on: date | None = None


class SakaniWire(WireIn, kw_only=True):
    """Sakani (NHC) eligibility."""

    eligible: bool
    beneficiary_number: str | None = None
    checked_on: date | None = None


class FinancingWire(WireIn, kw_only=True):
    """Financing: bank, REDF support, mortgage pre-approval."""

    bank: str | None = None
    redf_supported: bool = False
    pre_approved: bool = False
    pre_approval_amount: Decimal | None = None
    first_home: bool = False
    is_citizen: bool = False


class KsaComplianceIn(WireIn, kw_only=True):
    """``ksaCompliance`` of a request body (replaced as a whole)."""

    ejar: EjarContractWire | None = None
    wafi: WafiLicenceWire | None = None
    sakani: SakaniWire | None = None
    financing: FinancingWire | None = None

    def to_domain(self) -> KsaCompliance:
        """The domain record."""
        ejar = self.ejar
        wafi = self.wafi
        sakani = self.sakani
        financing = self.financing
        return KsaCompliance(
            ejar=EjarContract(
                contract_number=ejar.contract_number,
                landlord_name=ejar.landlord_name,
                tenant_name=ejar.tenant_name,
                start_date=ejar.start_date,
                end_date=ejar.end_date,
                annual_rent=ejar.annual_rent,
                payment_frequency=ejar.payment_frequency,
            )
            if ejar is not None
            else None,
            wafi=WafiLicence(
                licence_number=wafi.licence_number,
                project_name=wafi.project_name,
                expires_on=wafi.expires_on,
            )
            if wafi is not None
            else None,
            sakani=SakaniEligibility(
                eligible=sakani.eligible,
                beneficiary_number=sakani.beneficiary_number,
                checked_on=sakani.checked_on,
            )
            if sakani is not None
            else None,
            financing=Financing(
                bank=financing.bank,
                redf_supported=financing.redf_supported,
                pre_approved=financing.pre_approved,
                pre_approval_amount=financing.pre_approval_amount,
                first_home=financing.first_home,
                is_citizen=financing.is_citizen,
            )
            if financing is not None
            else None,
        )


class EjarContractOut(Wire, kw_only=True):
    """An EJAR contract in a response (money as numbers)."""

    contract_number: str
    landlord_name: str
    tenant_name: str
    start_date: date
    end_date: date
    annual_rent: float
    payment_frequency: PaymentFrequency


class FinancingOut(Wire, kw_only=True):
    """Financing in a response."""

    bank: str | UnsetType = UNSET
    redf_supported: bool
    pre_approved: bool
    pre_approval_amount: float | UnsetType = UNSET
    first_home: bool
    is_citizen: bool


class KsaComplianceOut(Wire, kw_only=True):
    """The customer's KSA compliance records (each part omitted when absent)."""

    ejar: EjarContractOut | UnsetType = UNSET
    wafi: WafiLicenceWire | UnsetType = UNSET
    sakani: SakaniWire | UnsetType = UNSET
    financing: FinancingOut | UnsetType = UNSET


def ksa_compliance_to_wire(compliance: KsaCompliance) -> KsaComplianceOut:
    """The wire form of the KSA compliance records."""
    ejar, wafi, sakani, financing = (
        compliance.ejar,
        compliance.wafi,
        compliance.sakani,
        compliance.financing,
    )
    return KsaComplianceOut(
        ejar=EjarContractOut(
            contract_number=ejar.contract_number,
            landlord_name=ejar.landlord_name,
            tenant_name=ejar.tenant_name,
            start_date=ejar.start_date,
            end_date=ejar.end_date,
            annual_rent=float(money(ejar.annual_rent) or 0),
            payment_frequency=ejar.payment_frequency,
        )
        if ejar is not None
        else UNSET,
        wafi=WafiLicenceWire(
            licence_number=wafi.licence_number,
            project_name=wafi.project_name,
            expires_on=wafi.expires_on,
        )
        if wafi is not None
        else UNSET,
        sakani=SakaniWire(
            eligible=sakani.eligible,
            beneficiary_number=sakani.beneficiary_number,
            checked_on=sakani.checked_on,
        )
        if sakani is not None
        else UNSET,
        financing=FinancingOut(
            bank=opt(financing.bank),
            redf_supported=financing.redf_supported,
            pre_approved=financing.pre_approved,
            pre_approval_amount=money(financing.pre_approval_amount),
            first_home=financing.first_home,
            is_citizen=financing.is_citizen,
        )
        if financing is not None
        else UNSET,
    )


# ---------------------------------------------------------------------------------------------
# Relations (responses)


class InteractionOut(Wire, kw_only=True):
    """A logged interaction."""

    id: str
    customer_id: str
    type: InteractionType
    direction: InteractionDirection | UnsetType = UNSET
    date: datetime
    duration: int | UnsetType = UNSET
    notes: str
    outcome: str | UnsetType = UNSET
    agent_name: str
    agent_id: str
    sentiment: Sentiment | UnsetType = UNSET
    follow_up_required: bool
    follow_up_date: datetime | UnsetType = UNSET


def interaction_to_wire(interaction: Interaction) -> InteractionOut:
    """The wire form of an interaction."""
    return InteractionOut(
        id=interaction.id,
        customer_id=interaction.customer_id,
        type=interaction.type,
        direction=opt(interaction.direction),
        date=utc(interaction.date),
        duration=opt(interaction.duration),
        notes=interaction.notes,
        outcome=opt(interaction.outcome),
        agent_name=interaction.agent_name,
        agent_id=interaction.agent_id,
        sentiment=opt(interaction.sentiment),
        follow_up_required=interaction.follow_up_required,
        follow_up_date=opt_utc(interaction.follow_up_date),
    )


class AppointmentOut(Wire, kw_only=True):
    """An appointment: ``datetime`` is the UTC instant; ``date``/``time`` its local day and
    clock time in the organization's time zone."""

    id: str
    customer_id: str
    title: str
    title_en: str | UnsetType = UNSET
    type: AppointmentType
    day: str = msgspec.field(name="date")
    clock: str = msgspec.field(name="time")
    at: datetime = msgspec.field(name="datetime")
    duration: int
    location: str | UnsetType = UNSET
    property_id: str | UnsetType = UNSET
    property_title: str | UnsetType = UNSET
    status: AppointmentStatus
    priority: Priority
    notes: str | UnsetType = UNSET
    agent_name: str | UnsetType = UNSET
    agent_id: str | UnsetType = UNSET
    reminder_sent: bool
    outcome: str | UnsetType = UNSET
    created_at: datetime
    updated_at: datetime


def appointment_to_wire(appointment: Appointment, tz: Any = UTC) -> AppointmentOut:
    """The wire form of an appointment; ``tz`` is the organization's time zone."""
    local = appointment.at.astimezone(tz)
    return AppointmentOut(
        id=appointment.id,
        customer_id=appointment.customer_id,
        title=appointment.title,
        title_en=opt(appointment.title_en),
        type=appointment.type,
        day=local.date().isoformat(),
        clock=local.strftime("%H:%M"),
        at=utc(appointment.at),
        duration=appointment.duration,
        location=opt(appointment.location),
        property_id=opt(appointment.property_id),
        property_title=opt(appointment.property_title),
        status=appointment.status,
        priority=appointment.priority,
        notes=opt(appointment.notes),
        agent_name=opt(appointment.agent_name),
        agent_id=opt(appointment.agent_id),
        reminder_sent=appointment.reminder_sent,
        outcome=opt(appointment.outcome),
        created_at=utc(appointment.created_at),
        updated_at=utc(appointment.updated_at),
    )


class ReminderOut(Wire, kw_only=True):
    """A reminder about the customer."""

    id: str
    customer_id: str
    title: str
    title_en: str | UnsetType = UNSET
    description: str | UnsetType = UNSET
    at: datetime = msgspec.field(name="datetime")
    priority: Priority
    status: ReminderStatus
    type: ReminderType
    related_to: str | UnsetType = UNSET
    created_by: str
    created_by_id: str
    completed_at: datetime | UnsetType = UNSET


def reminder_to_wire(reminder: Reminder) -> ReminderOut:
    """The wire form of a reminder."""
    return ReminderOut(
        id=reminder.id,
        customer_id=reminder.customer_id,
        title=reminder.title,
        title_en=opt(reminder.title_en),
        description=opt(reminder.description),
        at=utc(reminder.at),
        priority=reminder.priority,
        status=reminder.status,
        type=reminder.type,
        related_to=opt(reminder.related_to),
        created_by=reminder.created_by,
        created_by_id=reminder.created_by_id,
        completed_at=opt_utc(reminder.completed_at),
    )


def document_url(document: Document) -> str:
    """Where the document's bytes are downloaded (an authorized endpoint of this API)."""
    return f"{API_PREFIX}/customers/{document.customer_id}/documents/{document.id}"


class DocumentOut(Wire, kw_only=True):
    """A stored document; ``fileUrl`` is the authorized download endpoint (relative URL)."""

    id: str
    customer_id: str
    name: str
    type: DocumentType
    file_url: str
    file_size: int
    mime_type: str
    uploaded_by: str
    uploaded_by_id: str
    uploaded_at: datetime
    description: str | UnsetType = UNSET
    tags: list[str]


def document_to_wire(document: Document) -> DocumentOut:
    """The wire form of a document (never its storage key)."""
    return DocumentOut(
        id=document.id,
        customer_id=document.customer_id,
        name=document.name,
        type=document.type,
        file_url=document_url(document),
        file_size=document.file_size,
        mime_type=document.mime_type,
        uploaded_by=document.uploaded_by,
        uploaded_by_id=document.uploaded_by_id,
        uploaded_at=utc(document.uploaded_at),
        description=opt(document.description),
        tags=list(document.tags),
    )


# ---------------------------------------------------------------------------------------------
# The customer


class CustomerOut(Wire, kw_only=True):
    """A customer (the document's ``UnifiedCustomer``).

    Every key is optional in the schema because ``fields=`` may select a subset; without it,
    every key the customer has a value for is present. ``interactions``, ``appointments``,
    ``reminders`` and ``documents`` appear only when asked for with ``include``.
    ``version`` is the record's version (the ``ETag``/``If-Match`` value).
    """

    id: str | UnsetType = UNSET
    organization_id: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    name_en: str | UnsetType = UNSET
    phone: str | UnsetType = UNSET
    whatsapp: str | UnsetType = UNSET
    email: str | UnsetType = UNSET
    national_id: str | UnsetType = UNSET
    nationality: str | UnsetType = UNSET
    gender: Gender | UnsetType = UNSET
    date_of_birth: date | UnsetType = UNSET
    source: CustomerSource | UnsetType = UNSET
    source_details: dict[str, str] | UnsetType = UNSET
    stage: Stage | UnsetType = UNSET
    stage_history: list[StageChangeOut] | UnsetType = UNSET
    preferences: PreferencesOut | UnsetType = UNSET
    lead_score: int | UnsetType = UNSET
    ai_insights: AiInsightsOut | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    customer_type: CustomerType | UnsetType = UNSET
    tags: list[str] | UnsetType = UNSET
    assigned_employee: AssignedEmployeeOut | UnsetType = UNSET
    assigned_employee_id: str | UnsetType = UNSET
    properties: list[PropertyInterestOut] | UnsetType = UNSET
    interactions: list[InteractionOut] | UnsetType = UNSET
    appointments: list[AppointmentOut] | UnsetType = UNSET
    reminders: list[ReminderOut] | UnsetType = UNSET
    documents: list[DocumentOut] | UnsetType = UNSET
    total_deal_value: float | UnsetType = UNSET
    expected_revenue: float | UnsetType = UNSET
    paid_amount: float | UnsetType = UNSET
    created_at: datetime | UnsetType = UNSET
    updated_at: datetime | UnsetType = UNSET
    last_contact_at: datetime | UnsetType = UNSET
    last_contact_type: InteractionType | UnsetType = UNSET
    next_follow_up_date: date | UnsetType = UNSET
    city: str | UnsetType = UNSET
    district: str | UnsetType = UNSET
    region: str | UnsetType = UNSET
    address: str | UnsetType = UNSET
    latitude: float | UnsetType = UNSET
    longitude: float | UnsetType = UNSET
    notes: str | UnsetType = UNSET
    total_interactions: int | UnsetType = UNSET
    total_appointments: int | UnsetType = UNSET
    total_property_views: int | UnsetType = UNSET
    response_rate: int | UnsetType = UNSET
    avg_response_time: float | UnsetType = UNSET
    ksa_compliance: KsaComplianceOut | UnsetType = UNSET
    deleted_at: datetime | UnsetType = UNSET
    version: int | UnsetType = UNSET


CUSTOMER_FIELDS: Final[Mapping[str, str]] = {
    camel_case(name): name for name in CustomerOut.__struct_fields__
}
"""Wire key → attribute of :class:`CustomerOut` (what ``fields=`` accepts)."""


def customer_to_wire(
    customer: Customer,
    employee: Employee | None = None,
    *,
    interactions: Sequence[Interaction] | None = None,
    appointments: Sequence[Appointment] | None = None,
    reminders: Sequence[Reminder] | None = None,
    documents: Sequence[Document] | None = None,
    tz: Any = UTC,
) -> CustomerOut:
    """The wire form of a customer; relations given (even empty) are included.

    ``employee`` is the assigned employee when loaded; ``tz`` the organization's time zone (for
    appointments' local ``date``/``time``).
    """
    return CustomerOut(
        id=customer.id,
        organization_id=customer.organization_id,
        name=customer.name,
        name_en=opt(customer.name_en),
        phone=customer.phone,
        whatsapp=opt(customer.whatsapp),
        email=opt(customer.email),
        national_id=opt(customer.national_id),
        nationality=opt(customer.nationality),
        gender=opt(customer.gender),
        date_of_birth=opt(customer.date_of_birth),
        source=customer.source,
        source_details=dict(customer.source_details),
        stage=customer.stage,
        stage_history=[stage_change_to_wire(e) for e in customer.stage_history],
        preferences=preferences_to_wire(customer.preferences),
        lead_score=customer.lead_score,
        ai_insights=ai_insights_to_wire(customer.ai_insights) if customer.ai_insights else UNSET,
        priority=customer.priority,
        customer_type=opt(customer.customer_type),
        tags=list(customer.tags),
        assigned_employee=(
            assigned_employee_to_wire(employee)
            if employee is not None and employee.id == customer.assigned_employee_id
            else UNSET
        ),
        assigned_employee_id=opt(customer.assigned_employee_id),
        properties=[property_interest_to_wire(i) for i in customer.property_interests],
        interactions=(
            [interaction_to_wire(i) for i in interactions] if interactions is not None else UNSET
        ),
        appointments=(
            [appointment_to_wire(a, tz) for a in appointments]
            if appointments is not None
            else UNSET
        ),
        reminders=[reminder_to_wire(r) for r in reminders] if reminders is not None else UNSET,
        documents=[document_to_wire(d) for d in documents] if documents is not None else UNSET,
        total_deal_value=money(customer.total_deal_value),
        expected_revenue=money(customer.expected_revenue),
        paid_amount=money(customer.paid_amount),
        created_at=utc(customer.created_at),
        updated_at=utc(customer.updated_at),
        last_contact_at=opt_utc(customer.last_contact_at),
        last_contact_type=opt(customer.last_contact_type),
        next_follow_up_date=opt(customer.next_follow_up_date),
        city=opt(customer.city),
        district=opt(customer.district),
        region=opt(customer.region),
        address=opt(customer.address),
        latitude=number(customer.latitude),
        longitude=number(customer.longitude),
        notes=opt(customer.notes),
        total_interactions=customer.total_interactions,
        total_appointments=customer.total_appointments,
        total_property_views=customer.total_property_views,
        response_rate=opt(customer.response_rate),
        avg_response_time=opt(customer.avg_response_time),
        ksa_compliance=(
            ksa_compliance_to_wire(customer.ksa_compliance) if customer.ksa_compliance else UNSET
        ),
        deleted_at=opt_utc(customer.deleted_at),
        version=customer.version,
    )


def wire_keys(struct: type[msgspec.Struct]) -> frozenset[str]:
    """The wire keys of a response Struct (what ``fields=`` may name)."""
    return frozenset(f.encode_name for f in msgspec.structs.fields(struct))


def parse_fields(
    raw: Iterable[str] | None, catalog: Iterable[str] = CUSTOMER_FIELDS
) -> tuple[str, ...] | None:
    """The wire keys of ``fields=`` (comma-separated and/or repeated), checked against
    ``catalog`` (the keys of the resource returned); None = all.

    400 on ``fields`` naming the unknown keys.
    """
    if raw is None:
        return None
    keys = [k.strip() for value in raw for k in value.split(",") if k.strip()]
    if not keys:
        return None
    known = frozenset(catalog)
    unknown = sorted({k for k in keys if k not in known})
    if unknown:
        raise ValidationFailed.single("fields", f"Unknown field(s): {', '.join(unknown)}")
    return tuple(dict.fromkeys(keys))


S = TypeVar("S", bound=msgspec.Struct)


def select_fields(resource: S, fields: Sequence[str] | None) -> S:
    """``resource`` (any response Struct) with only the wire keys in ``fields`` (all when None);
    ``id`` is always kept. The others are :data:`UNSET`, so they are omitted."""
    if fields is None:
        return resource
    keep = set(fields) | {"id"}
    cleared = {f.name: UNSET for f in msgspec.structs.fields(resource) if f.encode_name not in keep}
    return msgspec.structs.replace(resource, **cleared)


# ---------------------------------------------------------------------------------------------
# Customer request bodies


class PreferencesIn(WireIn, kw_only=True):
    """``preferences`` of a request body: absent keys keep (update) or default (create);
    ``null`` clears."""

    property_type: list[PropertyType] | UnsetType | None = UNSET
    budget_min: Decimal | UnsetType | None = UNSET
    budget_max: Decimal | UnsetType | None = UNSET
    preferred_areas: list[str] | UnsetType | None = UNSET
    preferred_cities: list[str] | UnsetType | None = UNSET
    bedrooms: int | UnsetType | None = UNSET
    bathrooms: int | UnsetType | None = UNSET
    min_area: Decimal | UnsetType | None = UNSET
    max_area: Decimal | UnsetType | None = UNSET
    purpose: Purpose | UnsetType | None = UNSET
    timeline: Timeline | UnsetType | None = UNSET
    amenities: list[str] | UnsetType | None = UNSET
    furnishing: Furnishing | UnsetType | None = UNSET

    def _given(self) -> dict[str, Any]:
        return {
            name: getattr(self, name)
            for name in self.__struct_fields__
            if getattr(self, name) is not UNSET
        }

    def to_preferences(self) -> Preferences:
        """Preferences of a new customer (absent or null keys: no preference)."""
        values: dict[str, Any] = {}
        for name, value in self._given().items():
            if value is None:
                continue
            values[name] = tuple(value) if isinstance(value, list) else value
        return Preferences(**values)

    def to_patch(self) -> PreferencesPatch:
        """A :class:`PreferencesPatch` of the sent keys."""
        values: dict[str, Any] = {}
        for name, value in self._given().items():
            values[name] = tuple(value) if isinstance(value, list) else value
        return PreferencesPatch(**values)


class CustomerIn(WireIn, kw_only=True):
    """The writable fields of a customer (create and full/partial update).

    On create, ``name`` and ``phone`` are required (400 naming them); on update every key is
    optional, ``null`` clears it (``name``, ``phone``, ``source`` and ``priority`` cannot be
    cleared). Read-only keys (``id``, ``stage``, ``leadScore``, ``organizationId``,
    ``createdAt``, counters, …) are accepted and ignored.
    """

    name: str | UnsetType | None = UNSET
    name_en: str | UnsetType | None = UNSET
    phone: str | UnsetType | None = UNSET
    whatsapp: str | UnsetType | None = UNSET
    email: str | UnsetType | None = UNSET
    national_id: str | UnsetType | None = UNSET
    nationality: str | UnsetType | None = UNSET
    gender: Gender | UnsetType | None = UNSET
    date_of_birth: date | UnsetType | None = UNSET
    source: CustomerSource | UnsetType | None = UNSET
    source_details: dict[str, str] | UnsetType | None = UNSET
    preferences: PreferencesIn | UnsetType | None = UNSET
    priority: Priority | UnsetType | None = UNSET
    customer_type: CustomerType | UnsetType | None = UNSET
    tags: list[str] | UnsetType | None = UNSET
    assigned_employee_id: str | UnsetType | None = UNSET
    city: str | UnsetType | None = UNSET
    district: str | UnsetType | None = UNSET
    region: str | UnsetType | None = UNSET
    address: str | UnsetType | None = UNSET
    latitude: Decimal | UnsetType | None = UNSET
    longitude: Decimal | UnsetType | None = UNSET
    notes: str | UnsetType | None = UNSET
    total_deal_value: Decimal | UnsetType | None = UNSET
    expected_revenue: Decimal | UnsetType | None = UNSET
    paid_amount: Decimal | UnsetType | None = UNSET
    ksa_compliance: KsaComplianceIn | UnsetType | None = UNSET

    def _value(self, name: str) -> Any:
        value = getattr(self, name)
        return None if value is UNSET else value

    def to_draft(self) -> CustomerDraft:
        """The :class:`CustomerDraft` of a create body (absent = not given)."""
        values: dict[str, Any] = {}
        for name in self.__struct_fields__:
            value = self._value(name)
            if value is None:
                continue
            if name == "preferences":
                value = value.to_preferences()
            elif name == "ksa_compliance":
                value = value.to_domain()
            elif name == "tags":
                value = tuple(value)
            elif name == "source_details":
                value = dict(value)
            values[name] = value
        # The domain reports a missing name, phone or source with the other failing fields.
        values.setdefault("name", "")
        values.setdefault("phone", "")
        values.setdefault("source", None)
        return CustomerDraft(**values)

    def to_patch(self) -> CustomerPatch:
        """The :class:`CustomerPatch` of an update body (absent = keep, null = clear)."""
        values: dict[str, Any] = {}
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if value is UNSET:
                continue
            if name == "preferences" and value is not None:
                value = value.to_patch()
            elif name == "ksa_compliance" and value is not None:
                value = value.to_domain()
            elif name == "tags" and value is not None:
                value = tuple(value)
            values[name] = value
        return CustomerPatch(**values)

    def rule_errors(self, today: date) -> Sequence[FieldError]:
        """The domain's rules over the sent fields of an update (:mod:`~.strict` asks when
        other fields failed on their type). Cross-field rules compare the sent values only: the
        stored record is the use case's to read."""
        placeholder = Customer(
            id="",
            organization_id="",
            name="-",
            phone="-",
            source=CustomerSource.MANUAL,
            stage=Stage.NEW_LEAD,
            created_at=datetime.now(UTC),
            updated_at=datetime.now(UTC),
        )
        try:
            validate_customer_patch(self.to_patch(), placeholder, today)
        except ValidationFailed as failed:
            return failed.errors
        return ()


class NewCustomerIn(CustomerIn, kw_only=True):
    """``POST /customers``: the fields of :class:`CustomerIn`; ``name``, ``phone`` and
    ``source`` are required (reported with every other failing field)."""

    def rule_errors(self, today: date) -> Sequence[FieldError]:
        """The domain's rules of a new customer over the fields that parsed."""
        try:
            validate_customer_draft(self.to_draft(), today)
        except ValidationFailed as failed:
            return failed.errors
        return ()


CustomerIn.echoes = CustomerOut


def domain_unset(value: T | UnsetType) -> T | DomainUnset:
    """msgspec's ``UNSET`` as the domain's ``UNSET``."""
    return DOMAIN_UNSET if value is UNSET else value


# ---------------------------------------------------------------------------------------------
# Statistics and filter options


class CustomerStatsOut(Wire, kw_only=True):
    """``GET /customers/stats`` (money as numbers)."""

    total: int
    by_stage: dict[str, int]
    by_source: dict[str, int]
    by_priority: dict[str, int]
    lead_scores: dict[str, float | None]
    financial: dict[str, float | None]
    conversion: dict[str, float | None]
    engagement: dict[str, float | None]
    grouped: dict[str, int] | UnsetType = UNSET


def _numbers(values: Mapping[str, Any]) -> dict[str, float | None]:
    result: dict[str, float | None] = {}
    for key, value in values.items():
        if isinstance(value, Decimal):
            result[key] = float(value) if value != value.to_integral_value() else int(value)
        else:
            result[key] = value
    return result


def customer_stats_to_wire(stats: CustomerStats) -> CustomerStatsOut:
    """The wire form of the customer statistics."""
    return CustomerStatsOut(
        total=stats.total,
        by_stage=dict(stats.by_stage),
        by_source=dict(stats.by_source),
        by_priority=dict(stats.by_priority),
        lead_scores=_numbers(stats.lead_scores),
        financial=_numbers(stats.financial),
        conversion=_numbers(stats.conversion),
        engagement=_numbers(stats.engagement),
        grouped=dict(stats.grouped) if stats.grouped is not None else UNSET,
    )


class FilterOptionOut(Wire, kw_only=True):
    """One filter option with its count."""

    value: str
    label: str | UnsetType = UNSET
    label_en: str | UnsetType = UNSET
    count: int


class EmployeeOptionOut(Wire, kw_only=True):
    """An employee option with how many customers they hold."""

    id: str
    name: str
    name_en: str | UnsetType = UNSET
    count: int


class FilterOptionsOut(Wire, kw_only=True):
    """``GET /customers/filters``."""

    stages: list[FilterOptionOut]
    sources: list[FilterOptionOut]
    cities: list[FilterOptionOut]
    property_types: list[FilterOptionOut]
    employees: list[EmployeeOptionOut]


def _option(option: FilterOption) -> FilterOptionOut:
    return FilterOptionOut(
        value=option.value,
        label=opt(option.label),
        label_en=opt(option.label_en),
        count=option.count,
    )


def _employee_option(option: EmployeeOption) -> EmployeeOptionOut:
    return EmployeeOptionOut(
        id=option.id, name=option.name, name_en=opt(option.name_en), count=option.count
    )


def filter_options_to_wire(options: FilterOptions) -> FilterOptionsOut:
    """The wire form of the filter options."""
    return FilterOptionsOut(
        stages=[_option(o) for o in options.stages],
        sources=[_option(o) for o in options.sources],
        cities=[_option(o) for o in options.cities],
        property_types=[_option(o) for o in options.property_types],
        employees=[_employee_option(o) for o in options.employees],
    )


# ---------------------------------------------------------------------------------------------
# Query parameter helpers

PAGE_MAX: Final = 1_000_000
"""Largest ``page`` (offset mode): beyond it the offset means nothing and would overflow SQL."""
LEAD_SCORE_MIN: Final = 0
LEAD_SCORE_MAX: Final = 100

PAGE = Annotated[
    int, Parameter(ge=1, le=PAGE_MAX, description=f"Page number (offset mode), 1 to {PAGE_MAX}")
]
"""The ``page`` query parameter (400 naming it outside 1 … :data:`PAGE_MAX`)."""
LIMIT = Annotated[
    int, Parameter(ge=1, le=MAX_LIMIT, description=f"Items per page, 1 to {MAX_LIMIT}")
]
"""The ``limit`` query parameter (400 naming it outside 1 … ``MAX_LIMIT``)."""
FIELDS = Annotated[
    list[str] | None,
    Parameter(description="Keys to return (comma-separated and/or repeated); id is always kept"),
]
"""The ``fields`` query parameter of every endpoint returning a resource."""


def amount_errors(*params: tuple[str, Decimal | None]) -> list[FieldError]:
    """Errors of money query parameters: finite, not negative, at most the largest amount."""
    errors: list[FieldError] = []
    for name, value in params:
        if value is None:
            continue
        if not value.is_finite() or value < 0 or value > MONEY_MAX:
            errors.append(FieldError(name, f"must be a number from 0 to {MONEY_MAX}"))
    return errors


def parse_time_bound(field: str, raw: str | None) -> datetime | date | None:
    """A ``…From``/``…To`` query value: ``YYYY-MM-DD`` (a local day) or an ISO-8601 datetime
    (``Z`` or an offset; without one, read in the organization's zone by the use case).

    400 on ``field`` otherwise.
    """
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed.single(
            field, "must be a date (YYYY-MM-DD) or an ISO-8601 datetime"
        ) from None


def split_values(values: Sequence[str] | None) -> list[str]:
    """A list query parameter sent repeated (``?tag=a&tag=b``) and/or comma-separated."""
    if not values:
        return []
    return [part.strip() for value in values for part in value.split(",") if part.strip()]

"""Parts of a customer on the wire: stage history, interests, preferences, insights, assignee."""

from __future__ import annotations

from datetime import date, datetime

from msgspec import UNSET, UnsetType

from customers_hub.domain.enums import (
    ChurnRisk,
    EngagementLevel,
    Furnishing,
    PropertyInterestStatus,
    PropertyType,
    Purpose,
    Stage,
    Timeline,
)
from customers_hub.domain.model import (
    AiInsights,
    Employee,
    Preferences,
    PropertyInterest,
    ScoreFactor,
    StageChange,
)
from customers_hub.entrypoints.http.wire.base import (
    Wire,
    money,
    number,
    opt,
    opt_utc,
    utc,
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
    # Rules §10: the merged customer this entry came from (absent for the customer's own).
    merged_from: str | UnsetType = UNSET


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
        merged_from=opt(entry.merged_from),
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

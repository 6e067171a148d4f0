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
    StageChange,
)
from customers_hub.entrypoints.http.wire.base import Wire
from customers_hub.entrypoints.http.wire.convert import to_wire

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
    return to_wire(entry, StageChangeOut)


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
    return to_wire(interest, PropertyInterestOut)


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
    return to_wire(preferences, PreferencesOut)


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


def ai_insights_to_wire(insights: AiInsights) -> AiInsightsOut:
    """The wire form of the insights."""
    return to_wire(insights, AiInsightsOut)


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


def role_label(employee: Employee) -> str:
    """What a person reads as the employee's ``role``: the job title, else the role's label."""
    return employee.title or employee.role.label_en


def assigned_employee_to_wire(employee: Employee) -> AssignedEmployeeOut:
    """The embedded form of an employee (``role``: :func:`role_label`)."""
    return to_wire(employee, AssignedEmployeeOut, role=role_label(employee))

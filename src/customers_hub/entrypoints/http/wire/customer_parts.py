"""Parts of a customer on the wire: stage history, interests, preferences, insights, assignee."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET, UnsetType

from customers_hub.domain.model import (
    AiInsights,
    Employee,
    Preferences,
    PropertyInterest,
    ScoreFactor,
    StageChange,
)
from customers_hub.entrypoints.http.wire.base import Wire
from customers_hub.entrypoints.http.wire.convert import out_of, to_wire

# ---------------------------------------------------------------------------------------------
# Customer parts (responses)


_StageChangeFields: Any = out_of(StageChange, nulls=("from_stage",))


class StageChangeOut(_StageChangeFields):  # type: ignore[misc]  # fields made from the entity
    """One entry of ``stageHistory`` (``mergedFrom``, rules §10: the merged customer it came
    from)."""


def stage_change_to_wire(entry: StageChange) -> StageChangeOut:
    """The wire form of a stage history entry."""
    return to_wire(entry, StageChangeOut)


_PropertyInterestFields: Any = out_of(PropertyInterest)


class PropertyInterestOut(_PropertyInterestFields):  # type: ignore[misc]  # fields made from the entity
    """One of the customer's property interests."""


def property_interest_to_wire(interest: PropertyInterest) -> PropertyInterestOut:
    """The wire form of a property interest."""
    return to_wire(interest, PropertyInterestOut)


_PreferencesFields: Any = out_of(Preferences)


class PreferencesOut(_PreferencesFields):  # type: ignore[misc]  # fields made from the entity
    """What the customer is looking for."""


def preferences_to_wire(preferences: Preferences) -> PreferencesOut:
    """The wire form of the preferences."""
    return to_wire(preferences, PreferencesOut)


_ScoreFactorFields: Any = out_of(ScoreFactor)


class ScoreFactorOut(_ScoreFactorFields):  # type: ignore[misc]  # fields made from the entity
    """One line of the lead score's explanation."""


_AiInsightsFields: Any = out_of(AiInsights, nested={ScoreFactor: ScoreFactorOut})


class AiInsightsOut(_AiInsightsFields):  # type: ignore[misc]  # fields made from the entity
    """Rule-based insights (nothing here is a trained model)."""


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

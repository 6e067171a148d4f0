"""Wire shapes of assignment rules (rules §10): bodies and the rule as read.

The rule's attributes and the wire's keys are the same names (camelCase on the wire), so the
conversions go by name (:func:`rule_to_wire`, :func:`draft_of`, :func:`patch_of`): a new field
is added to the domain record and to these Structs, nowhere else.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from customers_hub.application.use_cases.assignment import RulePatch
from customers_hub.domain.assignment import (
    DEFAULT_PRIORITY,
    EMPLOYEES_MAX,
    EMPLOYEES_MIN,
    MATCH_VALUES_MAX,
    PRIORITY_MAX,
    PRIORITY_MIN,
    AssignmentRule,
    RuleDraft,
    RuleMatch,
    Strategy,
)
from customers_hub.domain.enums import CustomerSource, PropertyType
from customers_hub.domain.unset import UNSET as DOMAIN_UNSET
from customers_hub.domain.validation import CITY_MAX_LENGTH, ID_MAX_LENGTH, NAME_MAX_LENGTH
from customers_hub.entrypoints.http.wire.base import Pagination, Wire, WireIn
from customers_hub.entrypoints.http.wire.convert import out_of, to_wire

__all__ = [
    "AssignmentRuleData",
    "AssignmentRuleDeletedData",
    "AssignmentRuleIn",
    "AssignmentRuleOut",
    "AssignmentRulePatchIn",
    "AssignmentRulesData",
    "RuleMatchIn",
    "RuleMatchOut",
    "draft_of",
    "patch_of",
    "rule_to_wire",
]

_NAME = Annotated[str, msgspec.Meta(max_length=NAME_MAX_LENGTH)]
_EMPLOYEE_IDS = Annotated[
    list[Annotated[str, msgspec.Meta(max_length=ID_MAX_LENGTH)]],
    msgspec.Meta(min_length=EMPLOYEES_MIN, max_length=EMPLOYEES_MAX),
]
_PRIORITY = Annotated[int, msgspec.Meta(ge=PRIORITY_MIN, le=PRIORITY_MAX)]
_SOURCES = Annotated[list[CustomerSource], msgspec.Meta(max_length=MATCH_VALUES_MAX)]
_CITIES = Annotated[
    list[Annotated[str, msgspec.Meta(max_length=CITY_MAX_LENGTH)]],
    msgspec.Meta(max_length=MATCH_VALUES_MAX),
]
_TYPES = Annotated[list[PropertyType], msgspec.Meta(max_length=MATCH_VALUES_MAX)]


_MatchFields: Any = out_of(RuleMatch)


class RuleMatchOut(_MatchFields):  # type: ignore[misc]  # fields made from the record
    """Which new customers a rule takes; an empty list fits everything."""


_RuleFields: Any = out_of(
    AssignmentRule, skip=("organization_id",), nested={RuleMatch: RuleMatchOut}
)


class AssignmentRuleOut(_RuleFields):  # type: ignore[misc]  # fields made from the record
    """An assignment rule. ``lastEmployeeId`` is whom it chose last (its round-robin pointer)."""


class AssignmentRuleData(Wire, kw_only=True):
    """``data`` of creating, reading or changing one rule."""

    rule: AssignmentRuleOut


class AssignmentRulesData(Wire, kw_only=True):
    """``data`` of ``GET /assignment-rules``."""

    rules: list[AssignmentRuleOut]
    pagination: Pagination


class AssignmentRuleDeletedData(Wire, kw_only=True):
    """``data`` of ``DELETE /assignment-rules/{id}``."""

    rule_id: str


class RuleMatchIn(WireIn, kw_only=True):
    """``match``: each criterion optional (absent or empty: fits everything)."""

    sources: _SOURCES = msgspec.field(default_factory=list)
    cities: _CITIES = msgspec.field(default_factory=list)
    property_types: _TYPES = msgspec.field(default_factory=list)


class AssignmentRuleIn(WireIn, kw_only=True):
    """``POST /assignment-rules``."""

    echoes = AssignmentRuleOut  # its read-only keys are checked and ignored

    name: _NAME
    strategy: Strategy
    employee_ids: _EMPLOYEE_IDS
    match: RuleMatchIn = msgspec.field(default_factory=RuleMatchIn)
    priority: _PRIORITY = DEFAULT_PRIORITY
    active: bool = True


class AssignmentRulePatchIn(WireIn, kw_only=True):
    """``PATCH /assignment-rules/{id}``: the fields to change (``match`` is replaced whole)."""

    echoes = AssignmentRuleOut

    name: _NAME | msgspec.UnsetType = msgspec.UNSET
    strategy: Strategy | msgspec.UnsetType = msgspec.UNSET
    employee_ids: _EMPLOYEE_IDS | msgspec.UnsetType = msgspec.UNSET
    match: RuleMatchIn | msgspec.UnsetType = msgspec.UNSET
    priority: _PRIORITY | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


def _match(data: RuleMatchIn) -> RuleMatch:
    return RuleMatch(**{k: tuple(v) for k, v in msgspec.structs.asdict(data).items()})


def _domain(name: str, value: Any) -> Any:
    # Lists become tuples and the match its record; the other values are the domain's already.
    if value is msgspec.UNSET:
        return DOMAIN_UNSET
    if name == "match":
        return _match(value)
    return tuple(value) if isinstance(value, list) else value


def draft_of(data: AssignmentRuleIn) -> RuleDraft:
    """The domain draft of a create body (by name)."""
    return RuleDraft(**{k: _domain(k, v) for k, v in msgspec.structs.asdict(data).items()})


def patch_of(data: AssignmentRulePatchIn) -> RulePatch:
    """The domain patch of a change body (by name; absent keys stay ``UNSET``)."""
    return RulePatch(**{k: _domain(k, v) for k, v in msgspec.structs.asdict(data).items()})


def rule_to_wire(rule: AssignmentRule) -> AssignmentRuleOut:
    """The wire form of ``rule`` (by name)."""
    return to_wire(rule, AssignmentRuleOut)

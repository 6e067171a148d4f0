"""Rules between the fields of one request body, as JSON Schema ``if``/``then``
(:data:`CROSS_FIELD_RULES`, by component). :mod:`.openapi` applies them to the document."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from customers_hub.entrypoints.http.openapi_fields import TIME_PATTERN

__all__ = ["CROSS_FIELD_RULES"]


_OPEN_APPOINTMENT_STATUSES: Final = ("scheduled", "confirmed", "rescheduled")
_NULL_OR_ABSENT: Final[dict[str, Any]] = {"type": "null"}


def _only_when(condition: dict[str, Any], then: dict[str, Any]) -> dict[str, Any]:
    return {"if": condition, "then": then}


def _is(key: str, value: str) -> dict[str, Any]:
    return {"properties": {key: {"const": value}}, "required": [key]}


def _bulk_operation_rules(rules: Mapping[tuple[str, str], dict[str, Any]]) -> list[Any]:
    """``POST /customers/actions/bulk``: each operation takes its own fields only."""
    others = ("notes", "outcome", "reason", "snoozedUntil", "assignedTo")
    update = {
        "anyOf": [{"not": {"required": ["operation"]}}, _is("operation", "update")],
    }
    reason = rules[("BulkDismissIn", "reason")]
    return [
        _only_when(
            update,
            {
                "required": ["updates"],
                "properties": {
                    **dict.fromkeys(others, _NULL_OR_ABSENT),
                    # An update changes at least one field (``updates: null`` or ``{}`` is 400).
                    "updates": {"type": "object", "minProperties": 1},
                },
            },
        ),
        _only_when({"not": update}, {"properties": {"updates": _NULL_OR_ABSENT}}),
        _only_when(
            _is("operation", "dismiss"), {"required": ["reason"], "properties": {"reason": reason}}
        ),
        _only_when(
            _is("operation", "snooze"),
            {
                "required": ["snoozedUntil"],
                "properties": {"snoozedUntil": rules[("*", "snoozedUntil")]},
            },
        ),
        _only_when(
            _is("operation", "assign"),
            {"required": ["assignedTo"], "properties": {"assignedTo": rules[("*", "customerId")]}},
        ),
    ]


def _follow_up_rules(rules: Mapping[tuple[str, str], dict[str, Any]]) -> list[Any]:
    """An interaction that requires a follow-up names its date."""
    return [
        _only_when(
            {"properties": {"followUpRequired": {"const": True}}, "required": ["followUpRequired"]},
            {
                "required": ["followUpDate"],
                "properties": {"followUpDate": rules[("InteractionIn", "followUpDate")]},
            },
        )
    ]


def _appointment_time_rules(rules: Mapping[tuple[str, str], dict[str, Any]]) -> list[Any]:
    """``date`` and ``time`` go together, and only without ``datetime`` (which says both).

    A blank ``time`` is not given (forms send ``""``): the service reads it as absent."""
    given = {"type": "string", "minLength": 1}
    time_given = {"type": "string", "pattern": r"\S"}
    no_time = {"anyOf": [_NULL_OR_ABSENT, {"type": "string", "pattern": r"^\s*$"}]}
    return [
        _only_when(
            {"properties": {"date": given}, "required": ["date"]},
            {
                "required": ["time"],
                "properties": {"time": {"type": "string", "pattern": TIME_PATTERN}},
            },
        ),
        _only_when(
            {"properties": {"time": time_given}, "required": ["time"]},
            {"required": ["date"], "properties": {"date": rules[("AppointmentIn", "date")]}},
        ),
        _only_when(
            {"properties": {"datetime": {"type": "string"}}, "required": ["datetime"]},
            {"properties": {"date": _NULL_OR_ABSENT, "time": no_time}},
        ),
        # Rescheduling names the new moment.
        _only_when(
            {"properties": {"status": {"const": "rescheduled"}}, "required": ["status"]},
            {
                "anyOf": [
                    {"properties": {"datetime": {"type": "string"}}, "required": ["datetime"]},
                    {"properties": {"date": {"type": "string"}}, "required": ["date"]},
                ]
            },
        ),
        # Moving an appointment keeps it open: no closing status in the same change.
        _only_when(
            {
                "anyOf": [
                    {"properties": {"datetime": {"type": "string"}}, "required": ["datetime"]},
                    {"properties": {"date": {"type": "string"}}, "required": ["date"]},
                ]
            },
            {"properties": {"status": {"enum": [*_OPEN_APPOINTMENT_STATUSES, None]}}},
        ),
    ]


def _citizen_rules(rules: Mapping[tuple[str, str], dict[str, Any]]) -> list[Any]:
    """A resident's ID (starting with 2) never belongs to a citizen."""
    not_citizen = {
        "anyOf": [
            {"type": "null"},
            {
                "properties": {
                    "financing": {
                        "anyOf": [
                            {"type": "null"},
                            {"properties": {"isCitizen": {"const": False}}},
                        ]
                    }
                }
            },
        ]
    }
    return [
        _only_when(
            {
                "properties": {"nationalId": {"type": "string", "pattern": r"^\s*2"}},
                "required": ["nationalId"],
            },
            {"properties": {"ksaCompliance": not_citizen}},
        )
    ]


def _coordinates_rules(rules: Mapping[tuple[str, str], dict[str, Any]]) -> list[Any]:
    """Latitude and longitude are given together (or cleared together)."""
    given = {"type": ["number", "string"]}
    cleared = {"type": "null"}
    return [
        *_citizen_rules(rules),
        {"dependentRequired": {"latitude": ["longitude"], "longitude": ["latitude"]}},
        _only_when(
            {"properties": {"latitude": cleared}, "required": ["latitude"]},
            {"properties": {"longitude": cleared}},
        ),
        _only_when(
            {"properties": {"longitude": cleared}, "required": ["longitude"]},
            {"properties": {"latitude": cleared}},
        ),
        _only_when(
            {"properties": {"latitude": given}, "required": ["latitude"]},
            {"required": ["longitude"], "properties": {"longitude": given}},
        ),
        _only_when(
            {"properties": {"longitude": given}, "required": ["longitude"]},
            {"required": ["latitude"], "properties": {"latitude": given}},
        ),
    ]


CROSS_FIELD_RULES: Final[
    Mapping[str, Callable[[Mapping[tuple[str, str], dict[str, Any]]], list[Any]]]
] = {
    "BulkOperationIn": _bulk_operation_rules,
    "InteractionIn": _follow_up_rules,
    "AppointmentIn": _appointment_time_rules,
    "AppointmentPatchIn": _appointment_time_rules,
    "NewCustomerIn": _coordinates_rules,
    "CustomerIn": _coordinates_rules,
}
"""Rules between fields of one body, as JSON Schema ``if``/``then`` (``allOf``)."""

"""The query side of the OpenAPI document: what the controllers check in query parameters
(:data:`QUERY_RULES`, :func:`path_query_rules`) and the advanced query's ``filters`` from the
field catalog (:func:`filters_schema`). :mod:`.openapi` applies them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from customers_hub.adapters.sql.filters import CUSTOMER_FIELDS as SQL_CUSTOMER_FIELDS
from customers_hub.adapters.sql.filters import TextMode
from customers_hub.application.queries import Op
from customers_hub.application.use_cases.catalog import (
    ACTION_CATALOG,
    CUSTOMER_CATALOG,
    MAX_IN_VALUES,
    FieldCatalog,
    FieldSpec,
    ValueKind,
)
from customers_hub.application.use_cases.catalog import (
    MAX_TEXT_LENGTH as MAX_FILTER_TEXT_LENGTH,
)
from customers_hub.application.use_cases.customers import CUSTOMER_INCLUDES
from customers_hub.entrypoints.http.controllers.customers import LIST_INCLUDES
from customers_hub.entrypoints.http.strict import INT64_MAX, INT64_MIN
from customers_hub.entrypoints.http.wire import API_PREFIX, CUSTOMER_FIELDS
from customers_hub.entrypoints.http.wire_actions import ACTION_KEYS

__all__ = [
    "DATETIME_PATTERN",
    "DATE_OR_DATETIME_PATTERN",
    "DATE_PATTERN",
    "QUERY_RULES",
    "filters_schema",
    "path_query_rules",
    "sort_rules",
]


DATE_PATTERN: Final = r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$"
DATETIME_PATTERN: Final = (
    r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"(Z|[+-](0[0-9]|1[0-2]):[0-5][0-9])$"
)
DATE_OR_DATETIME_PATTERN: Final = (
    r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"(Z|[+-](0[0-9]|1[0-2]):[0-5][0-9])?)?$"
)
"""What a ``…From`` / ``…To`` query parameter takes: a date, or a date and time."""

QUERY_RULES: Final[Mapping[str, dict[str, Any]]] = {
    "groupBy": {"type": "string", "enum": ["stage", "source", "employee", "city"]},
    "leadScoreMin": {"type": "integer", "minimum": 0, "maximum": 100},
    "leadScoreMax": {"type": "integer", "minimum": 0, "maximum": 100},
    "budgetMin": {"type": "string", "pattern": r"^[0-9]{1,13}(\.[0-9]{1,2}0*)?$"},
    "budgetMax": {"type": "string", "pattern": r"^[0-9]{1,13}(\.[0-9]{1,2}0*)?$"},
    **{
        # Sent empty, a date bound is "not given" (forms send "" for an empty input).
        name: {"type": "string", "pattern": f"^$|{DATE_OR_DATETIME_PATTERN}"}
        for name in (
            "dateFrom",
            "dateTo",
            "createdFrom",
            "createdTo",
            "lastContactFrom",
            "lastContactTo",
            "from",  # the employee calendar's range
            "to",
        )
    },
}
"""Query parameters whose rule is checked by the controller, not by Litestar's typing."""


def _keys_pattern(keys: Iterable[str]) -> str:
    """Comma-separated keys out of ``keys`` (blanks between commas ignored), as ``fields=``
    and ``include=`` take them."""
    one = "(" + "|".join(sorted(keys)) + ")"
    return rf"^\s*({one}\s*)?(,\s*({one}\s*)?)*$"


def _keys_parameter(keys: Iterable[str]) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string", "pattern": _keys_pattern(keys)}}


def sort_rules(catalog: FieldCatalog) -> dict[str, dict[str, Any]]:
    """The sort key (a sortable field or an alias of ``catalog``) and order a read takes: the
    ``sortBy``/``sortOrder`` query parameters, and the advanced query's ``sort`` object."""
    return {
        "sortBy": {"type": "string", "enum": sorted({*catalog.sortable, *catalog.sort_aliases})},
        "sortOrder": {"type": "string", "enum": ["asc", "desc"]},
    }


def path_query_rules() -> dict[str, dict[str, dict[str, Any]]]:
    """Query rules that depend on the path: the sort keys and ``fields=`` of each resource."""
    customers = {**sort_rules(CUSTOMER_CATALOG), "fields": _keys_parameter(CUSTOMER_FIELDS)}
    actions = {**sort_rules(ACTION_CATALOG), "fields": _keys_parameter(ACTION_KEYS)}
    return {
        f"{API_PREFIX}/customers": {**customers, "include": _keys_parameter(LIST_INCLUDES)},
        f"{API_PREFIX}/customers/{{customer_id}}": {
            "fields": _keys_parameter(CUSTOMER_FIELDS),
            "include": _keys_parameter(CUSTOMER_INCLUDES),
        },
        f"{API_PREFIX}/customers/actions": actions,
        f"{API_PREFIX}/customers/actions/{{action_id}}": {"fields": _keys_parameter(ACTION_KEYS)},
    }


def _filter_value(spec: FieldSpec) -> dict[str, Any]:
    """One operand of an advanced-query filter on ``spec``, as the catalog's parser takes it."""
    if spec.kind is ValueKind.ENUM and spec.enum is not None:
        return {"type": "string", "enum": [member.value for member in spec.enum]}
    # Numbers as the catalog's parser reads them: JSON numbers, or the same written as text.
    if spec.kind is ValueKind.INTEGER:
        return {
            "anyOf": [
                {"type": "integer", "minimum": INT64_MIN, "maximum": INT64_MAX},
                {"type": "string", "pattern": r"^\s*[+-]?[0-9]{1,18}\s*$"},
            ]
        }
    if spec.kind is ValueKind.DECIMAL:
        return {
            "anyOf": [
                {"type": "number"},
                {
                    "type": "string",
                    "pattern": r"^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$",
                },
            ]
        }
    if spec.kind is ValueKind.DATE:
        return {"type": "string", "pattern": DATE_PATTERN}
    if spec.kind is ValueKind.DATETIME:
        return {"type": "string", "pattern": DATE_OR_DATETIME_PATTERN}
    # Any text with something besides spaces (trimmed, at most MAX_FILTER_TEXT_LENGTH).
    return {"type": "string", "maxLength": MAX_FILTER_TEXT_LENGTH, "pattern": r"\S"}


def _text_operand(path: str) -> dict[str, Any]:
    """A ``contains``/``startsWith`` operand: a text with something besides spaces; on a field
    matched by its digits (the phone: ``TextMode.PHONE`` of the SQL compiler), with a digit, as
    the compiler refuses an operand without one (400)."""
    compiled = SQL_CUSTOMER_FIELDS.get(path)
    by_digits = compiled is not None and compiled.text_mode is TextMode.PHONE
    # Python's \d, like the compiler's digits, is every Unicode decimal digit.
    return {
        "type": "string",
        "maxLength": MAX_FILTER_TEXT_LENGTH,
        "pattern": r"\d" if by_digits else r"\S",
    }


def _filter_schema(path: str, spec: FieldSpec) -> dict[str, Any]:
    """A filter on ``spec``: a value (``eq``), a list (``in``) or ``{operator: operand}``."""
    value = _filter_value(spec)
    values = {"type": "array", "items": value, "minItems": 1, "maxItems": MAX_IN_VALUES}
    eq = {"anyOf": [value, {"type": "null"}]} if spec.nullable else value
    operands: dict[str, Any] = {}
    for op in sorted(spec.operators, key=lambda o: o.value):
        if op in (Op.IN, Op.NIN):
            operands[op.value] = values
        elif op in (Op.EQ, Op.NE):
            operands[op.value] = eq
        elif op in (Op.CONTAINS, Op.STARTS_WITH):
            operands[op.value] = _text_operand(path)
        else:
            operands[op.value] = value
    if spec.kind is ValueKind.DATETIME:
        # ``ne`` with a date alone is refused (a day is not an instant): only datetimes there.
        instant = {"type": "string", "pattern": DATETIME_PATTERN}
        operands["ne"] = {"anyOf": [instant, {"type": "null"}]} if spec.nullable else instant
    operators = {
        "type": "object",
        "properties": operands,
        "additionalProperties": False,
        "minProperties": 1,
    }
    # A plain value means eq, a plain list in: offered only where those operators apply.
    shapes = [
        *([eq] if Op.EQ in spec.operators else []),
        *([values] if Op.IN in spec.operators else []),
        operators,
    ]
    return {"anyOf": shapes}


def filters_schema() -> dict[str, Any]:
    """``filters`` of ``POST /customers/query``: each filterable field by its API path."""
    return {
        "type": "object",
        "properties": {
            path: _filter_schema(path, spec)
            for path, spec in sorted(CUSTOMER_CATALOG.fields.items())
        },
        "additionalProperties": False,
    }

"""The OpenAPI document as served: Litestar's generation, then one post-processing step.

:func:`finalize_openapi` is applied to the document Litestar builds from the handlers, in this
order:

1. **Names** (:func:`tidy_schema_names`): generic components become ``CustomerDataEnvelope``
   instead of ``Envelope_customers_hub.….CustomerData_``.
2. **Struct schemas from msgspec** (:func:`_struct_schemas`): every msgspec Struct of the HTTP
   edge is described by msgspec's own JSON Schema generator — the same library that decodes the
   body — so ``required``, ``msgspec.Meta`` constraints (``pattern``, ``minLength``,
   ``maxLength``, ``minimum``, ``maximum``), enums and ``additionalProperties: false`` (for
   Structs declared with ``forbid_unknown_fields``) say exactly what the decoder enforces. One
   source of truth: the annotations on the Struct fields.
3. **Error responses by rule** (:func:`_error_responses`): every operation lists the statuses it
   can answer with the error envelope ``{success: false, error: {code, message, details},
   meta}`` — 400, 401, 403, 429 and 500 everywhere; 404 where a path names a record or a body
   names other records; 409 and 422 on writes; 412 where ``If-Match`` is taken; 413 and 415
   where a body is read.
4. **Headers**: ``If-Match`` states the formats :func:`~.caching.parse_if_match` reads.
5. **Examples** (:data:`OPERATION_EXAMPLES`): a request example for every operation with a body,
   drawn from the API document (Arabic names, Saudi mobiles, the document's ids and values);
   dates are relative to the moment the document is served, so the example of an appointment
   or a snooze is always in the future and the examples phase of a fuzzer sends valid data.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

import msgspec

from customers_hub.application.queries import MAX_LIMIT
from customers_hub.application.use_cases.bulk import MAX_BULK_IDS
from customers_hub.application.use_cases.employees import (
    TITLE_MAX_LENGTH as EMPLOYEE_TITLE_MAX_LENGTH,
)
from customers_hub.application.use_cases.reads import MAX_SEARCH_LENGTH
from customers_hub.application.use_cases.relations import (
    TITLE_MAX_LENGTH as RELATION_TITLE_MAX_LENGTH,
)
from customers_hub.domain import validation
from customers_hub.domain.inbox import TITLE_MAX_LENGTH as ACTION_TITLE_MAX_LENGTH
from customers_hub.domain.settings import (
    CURRENCY_PATTERN,
    RETENTION_YEARS_MAX,
    RETENTION_YEARS_MIN,
    time_zone_names,
)
from customers_hub.entrypoints.http.strict import document_read_only

__all__ = [
    "ERROR_ENVELOPE_SCHEMA",
    "IF_MATCH_PATTERN",
    "OPERATION_EXAMPLES",
    "finalize_openapi",
    "http_structs",
    "tidy_schema_names",
]

_REF_PREFIX: Final = "#/components/schemas/"
_METHODS: Final = ("get", "put", "post", "delete", "patch", "head", "options")
_WRITES: Final = frozenset({"post", "put", "patch", "delete"})

IF_MATCH_PATTERN: Final = r'^[ \t]*(\*|(W/)?"*[vV]?[0-9]+"*)?[ \t]*$'
"""What ``If-Match`` may hold: ``*``, or a version as ``"v3"``, ``W/"v3"``, ``v3`` or ``3``."""

# ---------------------------------------------------------------------------------------------
# 1. Names

# Litestar names a generic schema after its argument's full module path
# ("Envelope_customers_hub.entrypoints.http.controllers.customers.CustomerData_"); generated
# clients deserve "CustomerDataEnvelope".
_GENERIC_SCHEMA_NAME: Final = re.compile(r"^(\w+?)_(?:\w+\.)+(\w+)_$")


def _rewrite_refs(node: Any, refs: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            k: refs.get(v, v) if k == "$ref" and isinstance(v, str) else _rewrite_refs(v, refs)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(item, refs) for item in node]
    return node


def tidy_schema_names(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with generic component names shortened (``CustomerDataEnvelope``) and every
    ``$ref`` to them rewritten."""
    components = schema.get("components", {}).get("schemas", {})
    renames: dict[str, str] = {}
    for name in components:
        match = _GENERIC_SCHEMA_NAME.match(name)
        if match:
            short = f"{match.group(2)}{match.group(1)}"
            if short not in components and short not in renames.values():
                renames[name] = short
    if not renames:
        return schema
    refs = {f"{_REF_PREFIX}{old}": f"{_REF_PREFIX}{new}" for old, new in renames.items()}
    tidied: dict[str, Any] = _rewrite_refs(schema, refs)
    tidied["components"]["schemas"] = {
        renames.get(name, name): value for name, value in tidied["components"]["schemas"].items()
    }
    return tidied


# ---------------------------------------------------------------------------------------------
# 2. Struct schemas from msgspec


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def http_structs() -> dict[str, type[msgspec.Struct]]:
    """Every concrete msgspec Struct of this package by class name (names defined twice and
    generic Structs are left out: their components keep Litestar's schema)."""
    found: dict[str, type[msgspec.Struct]] = {}
    twice: set[str] = set()
    for cls in _subclasses(msgspec.Struct):
        if not cls.__module__.startswith("customers_hub.") or getattr(cls, "__parameters__", ()):
            continue
        name = cls.__name__
        if name in found and found[name] is not cls:
            twice.add(name)
        found[name] = cls
    return {name: cls for name, cls in found.items() if name not in twice}


def _msgspec_schemas(structs: Mapping[str, type[msgspec.Struct]]) -> dict[str, Any]:
    _, components = msgspec.json.schema_components(
        list(structs.values()), ref_template=_REF_PREFIX + "{name}"
    )
    return components


def _struct_schemas(schema: dict[str, Any]) -> None:
    components: dict[str, Any] = schema.setdefault("components", {}).setdefault("schemas", {})
    structs = {name: cls for name, cls in http_structs().items() if name in components}
    if not structs:
        return
    generated = _msgspec_schemas(structs)
    for name, value in generated.items():
        if name in structs:
            # Bodies list the read-only keys they accept (and ignore) beside additionalProperties.
            components[name] = document_read_only(value, structs[name])
        elif name not in components:
            components[name] = value  # a nested type Litestar did not name (kept consistent)


# ---------------------------------------------------------------------------------------------
# 2b. Field rules: what the domain's validation enforces on a body's strings, numbers and dates
#
# The body Structs type most fields as plain ``str`` / ``Decimal`` / ``datetime``; the domain
# (``domain.validation``) cleans and checks them. So that a client (or a fuzzer) generating
# from the document sends what the service takes, each known field states the same rule here,
# from the same constants. Date windows are relative to the day the document is served.

# Characters ``clean_text`` refuses (control, line separators in one-line texts, bidi overrides,
# BOM, noncharacters); ``\s`` is what trimming removes.
_REFUSED_IN_TEXT: Final = (
    r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\ufeff\ufff9-\ufffb"
    r"\ufdd0-\ufdef\ufffe\uffff"
)
_REFUSED_IN_LINE: Final = _REFUSED_IN_TEXT + r"\t\n\r\u2028\u2029"
LINE_PATTERN: Final = rf"^[^{_REFUSED_IN_LINE}]*$"
"""A one-line text (names, titles, ids, reasons): no control characters or line breaks."""
REQUIRED_LINE_PATTERN: Final = (
    rf"^[^{_REFUSED_IN_LINE}]*[^{_REFUSED_IN_LINE}\s][^{_REFUSED_IN_LINE}]*$"
)
"""A one-line text that must not be blank."""
TEXT_PATTERN: Final = rf"^[^{_REFUSED_IN_TEXT}]*$"
"""A free text (notes, descriptions, outcomes): tabs and line breaks allowed."""
REQUIRED_TEXT_PATTERN: Final = (
    rf"^[^{_REFUSED_IN_TEXT}]*[^{_REFUSED_IN_TEXT}\s][^{_REFUSED_IN_TEXT}]*$"
)
"""A free text that must not be blank."""
SAUDI_MOBILE_PATTERN: Final = r"^(\+9665|009665|9665|05|5)[0-9]{8}$"
"""Saudi mobiles in the forms :func:`~customers_hub.domain.validation.normalize_phone` takes
(it also takes GCC numbers, checked against their numbering plans: not a regular language)."""
EMAIL_PATTERN: Final = (
    r"^[A-Za-z0-9._%+-]{1,64}@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}$"
)
NATIONAL_ID_PATTERN: Final = r"^[12][0-9]{9}$"
"""Ten digits starting with 1 (citizen) or 2 (resident); the check digit is checked too."""
TIME_PATTERN: Final = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


def _blank_or(pattern: str) -> str:
    # An optional field sent blank is "not given" (forms send "" for an empty input).
    return rf"^\s*$|{pattern}"


def _line(max_length: int, *, required: bool = False) -> dict[str, Any]:
    pattern = REQUIRED_LINE_PATTERN if required else LINE_PATTERN
    return {"type": "string", "maxLength": max_length, "pattern": pattern}


def _text(max_length: int, *, required: bool = False) -> dict[str, Any]:
    pattern = REQUIRED_TEXT_PATTERN if required else TEXT_PATTERN
    return {"type": "string", "maxLength": max_length, "pattern": pattern}


def _years(first: int, last: int) -> str:
    return "(" + "|".join(str(year) for year in range(first, last + 1)) + ")"


_MONTH_DAY: Final = r"(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
_CLOCK: Final = (
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-2]):[0-5][0-9])"
)


def _date_in(first: int, last: int) -> dict[str, Any]:
    return {"type": "string", "pattern": f"^{_years(first, last)}-{_MONTH_DAY}$"}


def _datetime_in(first: int, last: int) -> dict[str, Any]:
    return {"type": "string", "pattern": f"^{_years(first, last)}-{_MONTH_DAY}{_CLOCK}$"}


def _months_ahead(today: date, first: int, last: int) -> dict[str, Any]:
    months = []
    for ahead in range(first, last + 1):
        index = today.month - 1 + ahead
        months.append(f"{today.year + index // 12}-{index % 12 + 1:02d}")
    day = r"(0[1-9]|1[0-9]|2[0-8])"
    return {"type": "string", "pattern": f"^({'|'.join(months)})-{day}{_CLOCK}$"}


def _money_schema() -> dict[str, Any]:
    return {
        "anyOf": [
            {"type": "number", "minimum": 0, "maximum": float(validation.MONEY_MAX)},
            {"type": "string", "pattern": r"^[0-9]{1,13}(\.[0-9]{1,2}0*)?$"},
        ]
    }


_COORDINATE_PATTERNS: Final[Mapping[int, str]] = {
    90: r"^-?([0-8]?[0-9](\.[0-9]{1,6})?|90(\.0{1,6})?)$",
    180: r"^-?((1[0-7][0-9]|[0-9]?[0-9])(\.[0-9]{1,6})?|180(\.0{1,6})?)$",
}


def _coordinate_schema(limit: int) -> dict[str, Any]:
    return {
        "anyOf": [
            {"type": "number", "minimum": -limit, "maximum": limit},
            {"type": "string", "pattern": _COORDINATE_PATTERNS[limit]},
        ]
    }


def field_rules(today: date) -> dict[tuple[str, str], dict[str, Any]]:
    """``(component, property) -> schema`` for the body fields whose rules live in the domain;
    ``("*", property)`` applies to every body component with that property."""
    v = validation
    year = today.year
    scheduled = _datetime_in(year - 9, year + 9)  # validate_scheduled_at: ten years either way
    ids = _line(v.ID_MAX_LENGTH, required=True)
    rules: dict[tuple[str, str], dict[str, Any]] = {
        ("*", "name"): _line(v.NAME_MAX_LENGTH, required=True),
        ("*", "nameEn"): _line(v.NAME_MAX_LENGTH),
        ("*", "title"): _line(RELATION_TITLE_MAX_LENGTH, required=True),
        ("*", "titleEn"): _line(RELATION_TITLE_MAX_LENGTH),
        ("*", "phone"): {"type": "string", "pattern": _blank_or(SAUDI_MOBILE_PATTERN)},
        ("*", "whatsapp"): {"type": "string", "pattern": _blank_or(SAUDI_MOBILE_PATTERN)},
        ("*", "email"): {
            "type": "string",
            "maxLength": v.EMAIL_MAX_LENGTH,
            "pattern": _blank_or(EMAIL_PATTERN),
        },
        ("*", "nationalId"): {"type": "string", "pattern": _blank_or(NATIONAL_ID_PATTERN)},
        ("*", "nationality"): _line(v.NATIONALITY_MAX_LENGTH),
        ("*", "city"): _line(v.CITY_MAX_LENGTH),
        ("*", "district"): _line(v.DISTRICT_MAX_LENGTH),
        ("*", "region"): _line(v.DISTRICT_MAX_LENGTH),
        ("*", "address"): _line(v.SHORT_TEXT_MAX_LENGTH),
        ("*", "assignedEmployeeId"): _line(v.ID_MAX_LENGTH),
        ("*", "customerId"): ids,
        ("*", "employeeId"): ids,
        ("*", "propertyId"): ids,
        ("*", "notes"): _text(v.NOTES_MAX_LENGTH),
        ("*", "description"): _text(v.NOTES_MAX_LENGTH),
        ("*", "outcome"): _text(v.SHORT_TEXT_MAX_LENGTH),
        ("*", "feedback"): _text(v.NOTES_MAX_LENGTH),
        ("*", "reason"): _line(v.SHORT_TEXT_MAX_LENGTH),
        ("*", "content"): _text(v.FREE_TEXT_MAX_LENGTH, required=True),
        ("*", "query"): _line(MAX_SEARCH_LENGTH, required=True),
        ("*", "time"): {"type": "string", "pattern": TIME_PATTERN},
        ("*", "datetime"): scheduled,
        ("*", "dueDate"): scheduled,
        ("*", "followUpDate"): scheduled,
        ("*", "snoozedUntil"): _months_ahead(today, 1, 10),  # future, at most a year ahead
        ("*", "dateOfBirth"): _date_in(year - v.OLDEST_AGE_YEARS + 1, year - 1),
        ("*", "expiresOn"): _date_in(
            v.EARLIEST_RECORD_DATE.year, year + v.LICENCE_MAX_YEARS_AHEAD - 1
        ),
        ("*", "budgetMin"): _money_schema(),
        ("*", "budgetMax"): _money_schema(),
        ("*", "latitude"): _coordinate_schema(90),
        ("*", "longitude"): _coordinate_schema(180),
        ("*", "rating"): {"type": "integer", "minimum": 1, "maximum": 5},
        ("*", "limit"): {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        ("*", "actionIds"): {
            "type": "array",
            "items": ids,
            "minItems": 1,
            "maxItems": MAX_BULK_IDS,
        },
        ("BulkCompleteIn", "notes"): _text(v.FREE_TEXT_MAX_LENGTH),
        ("BulkCompleteIn", "outcome"): _text(v.FREE_TEXT_MAX_LENGTH),
        ("BulkDismissIn", "notes"): _text(v.FREE_TEXT_MAX_LENGTH),
        ("BulkSnoozeIn", "notes"): _text(v.FREE_TEXT_MAX_LENGTH),
        ("BulkOperationIn", "notes"): _text(v.FREE_TEXT_MAX_LENGTH),
        ("BulkOperationIn", "outcome"): _text(v.FREE_TEXT_MAX_LENGTH),
        ("ReminderIn", "datetime"): _datetime_in(year + 1, year + 9),  # in the future
        ("AppointmentIn", "datetime"): _datetime_in(year + 1, year + 9),
        ("*", "totalDealValue"): _money_schema(),
        ("*", "expectedRevenue"): _money_schema(),
        ("*", "paidAmount"): _money_schema(),
        ("CustomerIn", "notes"): _text(v.FREE_TEXT_MAX_LENGTH),
        ("NewCustomerIn", "notes"): _text(v.FREE_TEXT_MAX_LENGTH),
        ("ActionIn", "title"): _line(ACTION_TITLE_MAX_LENGTH, required=True),
        ("ActionPatchIn", "title"): _line(ACTION_TITLE_MAX_LENGTH, required=True),
        ("ActionIn", "description"): _text(v.FREE_TEXT_MAX_LENGTH),
        ("ActionPatchIn", "description"): _text(v.FREE_TEXT_MAX_LENGTH),
        ("ActionPatchIn", "notes"): _text(v.FREE_TEXT_MAX_LENGTH),
        ("CompleteIn", "notes"): _text(v.FREE_TEXT_MAX_LENGTH),
        ("DismissIn", "notes"): _text(v.FREE_TEXT_MAX_LENGTH),
        ("SnoozeIn", "notes"): _text(v.FREE_TEXT_MAX_LENGTH),
        ("DismissIn", "reason"): _line(v.SHORT_TEXT_MAX_LENGTH, required=True),
        ("BulkDismissIn", "reason"): _line(v.SHORT_TEXT_MAX_LENGTH, required=True),
        ("InteractionIn", "date"): _datetime_in(v.EARLIEST_RECORD_DATE.year, year - 1),
        ("AppointmentIn", "date"): _date_in(year - 9, year + 9),
        ("AppointmentPatchIn", "date"): _date_in(year - 9, year + 9),
        ("EmployeeIn", "title"): _line(EMPLOYEE_TITLE_MAX_LENGTH),
        ("EmployeePatchIn", "title"): _line(EMPLOYEE_TITLE_MAX_LENGTH),
        ("EmployeeIn", "id"): _line(v.ID_MAX_LENGTH, required=True),
        ("FalLicenceWire", "number"): _line(v.FAL_NUMBER_MAX_LENGTH, required=True),
        # Organization settings (§9): exactly the zones the domain accepts (no pattern can
        # tell a real zone), an ISO 4217 shape, the retention bounds.
        ("OrganizationSettingsPatchIn", "timeZone"): {
            "type": "string",
            "enum": list(time_zone_names()),
        },
        ("OrganizationSettingsPatchIn", "currency"): {
            "type": "string",
            "pattern": CURRENCY_PATTERN,
        },
        ("OrganizationSettingsPatchIn", "retentionYears"): {
            "type": "integer",
            "minimum": RETENTION_YEARS_MIN,
            "maximum": RETENTION_YEARS_MAX,
        },
    }
    for component in ("AssignIn", "BulkAssignIn", "ActionIn", "ActionPatchIn", "BulkUpdatesIn"):
        key = "employeeId" if component == "AssignIn" else "assignedTo"
        rules[(component, key)] = ids
    return rules


_REQUIRED_BODY_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "NewCustomerIn": ("name", "phone", "source"),
    "ActionIn": ("customerId", "type", "title"),
    "DismissIn": ("reason",),
    "BulkDismissIn": ("reason",),
    "NoteIn": ("content",),
    "SearchIn": ("query",),
    "AssignIn": ("employeeId",),
    "BulkAssignIn": ("assignedTo",),
    "PropertyInterestIn": ("propertyId",),
    "AppointmentIn": ("title", "datetime"),
    "ReminderIn": ("title", "datetime"),
}
"""Fields the use cases require although the Struct takes ``None`` (so that a missing field is
reported with every other failing one): the document says they are required."""


_NEVER_CLEARED: Final[Mapping[str, tuple[str, ...]]] = {
    "CustomerIn": ("name", "phone", "source", "priority"),
    "EmployeePatchIn": ("name",),
}
"""Fields a customer (an employee) always has: a patch may change them, never send null."""


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    alternatives = [a for a in schema.get("anyOf", []) if a.get("type") != "null"]
    return alternatives[0] if len(alternatives) == 1 else schema


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value.removeprefix(_REF_PREFIX)
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _in_responses(schema: Mapping[str, Any]) -> set[str]:
    """Names of the components a response can hold (directly or nested)."""
    components = schema["components"]["schemas"]
    pending = [ref for _, _, op in _operations(schema) for ref in _refs(op.get("responses", {}))]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name not in seen and name in components:
            seen.add(name)
            pending.extend(_refs(components[name]))
    return seen


def _apply_field_rules(schema: dict[str, Any], today: date) -> None:
    components: dict[str, Any] = schema["components"]["schemas"]
    structs = http_structs()
    rules = field_rules(today)
    shown = _in_responses(schema)
    for name, component in components.items():
        cls = structs.get(name)
        if cls is None or not cls.__struct_config__.forbid_unknown_fields or name in shown:
            # Only request bodies (and the objects nested in them): a stored value from before
            # a rule existed is still shown as it is.
            continue
        properties: dict[str, Any] = component.get("properties", {})
        required = set(component.get("required", ())) | set(_REQUIRED_BODY_FIELDS.get(name, ()))
        for key, shape in list(properties.items()):
            if shape.get("readOnly"):
                continue
            rule = rules.get((name, key)) or rules.get(("*", key))
            if rule is None:
                continue
            nullable = any(a.get("type") == "null" for a in shape.get("anyOf", ()))
            described = {k: v for k, v in shape.items() if k in ("title", "description")}
            if nullable and key not in required:
                properties[key] = {**described, "anyOf": [copy.deepcopy(rule), {"type": "null"}]}
            else:
                properties[key] = {**described, **copy.deepcopy(rule)}
        for key in (*_REQUIRED_BODY_FIELDS.get(name, ()), *_NEVER_CLEARED.get(name, ())):
            if key in properties:
                properties[key] = _without_null(properties[key])
        if required:
            component["required"] = sorted(required)


DATE_OR_DATETIME_PATTERN: Final = (
    r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"(Z|[+-](0[0-9]|1[0-2]):[0-5][0-9])?)?$"
)
"""What a ``…From`` / ``…To`` query parameter takes: a date, or a date and time."""

_QUERY_RULES: Final[Mapping[str, dict[str, Any]]] = {
    "groupBy": {"type": "string", "enum": ["stage", "source", "employee", "city"]},
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
        )
    },
}
"""Query parameters whose rule is checked by the controller, not by Litestar's typing."""


def _apply_query_rules(schema: dict[str, Any]) -> None:
    for _, _, operation in _operations(schema):
        for parameter in operation.get("parameters", []):
            rule = _QUERY_RULES.get(parameter.get("name", ""))
            if parameter.get("in") == "query" and rule is not None:
                shape = parameter["schema"]
                described = {k: v for k, v in shape.items() if k == "description"}
                alternatives = shape.get("oneOf", shape.get("anyOf", []))
                if any(a.get("type") == "null" for a in alternatives):
                    # Litestar reads ``null`` as "not given": keep saying so.
                    parameter["schema"] = {
                        **described,
                        "oneOf": [copy.deepcopy(rule), {"type": "null"}],
                    }
                else:
                    parameter["schema"] = {**described, **copy.deepcopy(rule)}


# ---------------------------------------------------------------------------------------------
# 3. Error responses

ERROR_ENVELOPE_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "title": "ErrorEnvelope",
    "description": "The error envelope of every failure.",
    "required": ["success", "error", "meta"],
    "properties": {
        "success": {"type": "boolean", "const": False},
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "examples": ["VALIDATION_ERROR"]},
                "message": {"type": "string"},
                "details": {
                    "description": "``[{field, message}]`` for a 400; an object otherwise",
                    "anyOf": [
                        {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["field", "message"],
                                "properties": {
                                    "field": {"type": "string"},
                                    "message": {"type": "string"},
                                },
                            },
                        },
                        {"type": "object"},
                        {"type": "null"},
                    ],
                },
            },
        },
        "meta": {
            "type": "object",
            "required": ["timestamp", "requestId"],
            "properties": {"timestamp": {"type": "string"}, "requestId": {"type": "string"}},
        },
    },
}

_ERROR_DESCRIPTIONS: Final[Mapping[int, str]] = {
    400: "Validation error: `details` names each failing field (`VALIDATION_ERROR`)",
    401: "Missing, expired or invalid token (`AUTHENTICATION_FAILED`)",
    403: "Outside the caller's role, permissions or scope (`PERMISSION_DENIED`)",
    404: "Not found, or another organization's (`RESOURCE_NOT_FOUND`)",
    409: "Duplicate (`DUPLICATE_RESOURCE`) or concurrent change (`CONCURRENT_UPDATE`)",
    412: "`If-Match` names an old version (`PRECONDITION_FAILED`)",
    413: "Body or file too large (`PAYLOAD_TOO_LARGE`)",
    415: "Content type or file type not accepted (`UNSUPPORTED_MEDIA_TYPE`)",
    422: "A business rule refuses the change",
    429: "Rate limit exceeded (`RATE_LIMIT_EXCEEDED`); see `Retry-After`",
    500: "Unexpected error (`INTERNAL_ERROR`)",
}
_ERROR_REF: Final = {"$ref": f"{_REF_PREFIX}ErrorEnvelope"}


def _statuses_for(path: str, method: str, operation: Mapping[str, Any]) -> set[int]:
    if not operation.get("security", True) and operation.get("security") is not None:
        return {500}
    statuses = {400, 401, 403, 429, 500}
    headers = {p.get("name", "").lower() for p in operation.get("parameters", [])}
    if "{" in path or method in _WRITES:
        statuses.add(404)  # the record of the path, or a record the body names
    if method in _WRITES:
        statuses |= {409, 422}
    if "if-match" in headers:
        statuses.add(412)
    if "requestBody" in operation:
        statuses |= {413, 415}
    return statuses


def _error_responses(schema: dict[str, Any], public_paths: frozenset[str]) -> None:
    schema["components"]["schemas"]["ErrorEnvelope"] = copy.deepcopy(ERROR_ENVELOPE_SCHEMA)
    for path, method, operation in _operations(schema):
        if path in public_paths:
            continue
        responses: dict[str, Any] = operation.setdefault("responses", {})
        for status in sorted(_statuses_for(path, method, operation)):
            entry = responses.setdefault(str(status), {})
            entry["description"] = entry.get("description") or _ERROR_DESCRIPTIONS[status]
            entry["content"] = {"application/json": {"schema": dict(_ERROR_REF)}}


def _operations(schema: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema.get("paths", {}).items():
        for method in _METHODS:
            if method in item:
                yield path, method, item[method]


# ---------------------------------------------------------------------------------------------
# 4. Headers


def _if_match(schema: dict[str, Any]) -> None:
    for _, _, operation in _operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "header" and parameter.get("name", "").lower() == "if-match":
                parameter["schema"] = {
                    "type": "string",
                    "pattern": IF_MATCH_PATTERN,
                    "examples": ['"v3"'],
                }


# ---------------------------------------------------------------------------------------------
# 5. Examples


def _at(days: int, hour: int = 10) -> str:
    moment = (datetime.now(UTC) + timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )
    return moment.isoformat().replace("+00:00", "Z")


def _day(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


_CUSTOMER: Final[Mapping[str, Any]] = {
    "name": "عبدالله الشمري",
    "nameEn": "Abdullah Al-Shammari",
    "phone": "+966551234567",
    "whatsapp": "+966551234567",
    "email": "abdullah@email.com",
    "nationality": "Saudi",
    "gender": "male",
    "source": "whatsapp",
    "sourceDetails": {"campaign": "ramadan_2024", "utmSource": "instagram"},
    "preferences": {
        "propertyType": ["apartment"],
        "budgetMin": 800000,
        "budgetMax": 1200000,
        "preferredAreas": ["جدة - حي الزهراء"],
        "bedrooms": 3,
        "purpose": "residence",
        "timeline": "immediate",
    },
    "priority": "high",
    "tags": ["first_time_buyer"],
    "city": "جدة",
}

OPERATION_EXAMPLES: Final[Mapping[str, Callable[[], Any]]] = {
    "createCustomer": lambda: dict(_CUSTOMER),
    "updateCustomer": lambda: {
        "email": "abdullah.new@email.com",
        "priority": "urgent",
        "preferences": {"budgetMax": 1500000},
        "tags": ["first_time_buyer", "vip"],
    },
    "changeCustomerStage": lambda: {
        "toStage": "qualified",
        "notes": "تم التأكد من الميزانية",
        "reason": "budget_confirmed",
    },
    "assignCustomer": lambda: {
        "employeeId": "emp_001",
        "notes": "نقل العميل لأحمد لخبرته في منطقة جدة",
    },
    "queryCustomers": lambda: {
        "filters": {"stage": {"in": ["qualified", "negotiation"]}, "leadScore": {"gte": 70}},
        "sort": {"field": "leadScore", "order": "desc"},
        "limit": 20,
        "cursor": None,
    },
    "searchCustomers": lambda: {"query": "احمد", "fuzzy": True, "limit": 5},
    "createAction": lambda: {
        "customerId": "cust_001",
        "type": "follow_up",
        "title": "متابعة بعد إرسال العروض",
        "description": "الاتصال بالعميل للحصول على تعليقه على العروض المرسلة",
        "priority": "high",
        "dueDate": _at(2),
        "assignedTo": "emp_001",
    },
    "updateAction": lambda: {
        "priority": "urgent",
        "dueDate": _at(1, 16),
        "assignedTo": "emp_003",
        "notes": "العميل طلب الاتصال قبل نهاية اليوم",
    },
    "completeAction": lambda: {
        "outcome": "تم إرسال العروض بنجاح والعميل مهتم بعقارين",
        "notes": "جدولة معاينة للعقارين يوم الخميس",
    },
    "dismissAction": lambda: {
        "reason": "العميل لم يعد مهتماً",
        "notes": "اشترى عقاراً من جهة أخرى",
    },
    "snoozeAction": lambda: {
        "snoozedUntil": _at(3, 9),
        "notes": "العميل في سفر، سيعود يوم الخميس",
    },
    "addActionNote": lambda: {"content": "العميل طلب معلومات إضافية عن خيارات التمويل"},
    "bulkUpdateActions": lambda: {
        "actionIds": ["action_001", "action_002", "action_003"],
        "operation": "update",
        "updates": {"priority": "high", "assignedTo": "emp_002"},
    },
    "bulkCompleteActions": lambda: {
        "actionIds": ["action_001", "action_002"],
        "outcome": "تم التواصل مع جميع العملاء",
    },
    "bulkDismissActions": lambda: {
        "actionIds": ["action_004", "action_005"],
        "reason": "طلبات مكررة",
    },
    "bulkSnoozeActions": lambda: {
        "actionIds": ["action_006", "action_007"],
        "snoozedUntil": _at(7, 9),
    },
    "bulkAssignActions": lambda: {
        "actionIds": ["action_001", "action_002", "action_003"],
        "assignedTo": "emp_002",
    },
    "addPropertyInterest": lambda: {
        "propertyId": "prop_villa_012",
        "status": "interested",
        "notes": "أعجبته الفيلا ويرغب بمعاينتها",
    },
    "updatePropertyInterestStatus": lambda: {"status": "viewed"},
    "logInteraction": lambda: {
        "type": "call",
        "direction": "outbound",
        "duration": 15,
        "notes": "العميل مهتم بالفلل في حي النرجس",
        "outcome": "جدولة معاينة",
        "sentiment": "positive",
        "followUpRequired": True,
        "followUpDate": _at(2),
    },
    "scheduleAppointment": lambda: {
        "title": "معاينة فيلا النرجس",
        "titleEn": "Narjis villa viewing",
        "type": "site_visit",
        "datetime": _at(4, 13),
        "duration": 60,
        "location": "الرياض - حي النرجس",
        "priority": "high",
        "notes": "إحضار المخططات",
    },
    "updateAppointment": lambda: {"status": "confirmed", "notes": "أكد العميل الموعد"},
    "addReminder": lambda: {
        "title": "الاتصال بالعميل بخصوص التمويل",
        "datetime": _at(2, 9),
        "type": "follow_up",
        "priority": "medium",
        "description": "التأكد من موافقة البنك المبدئية",
    },
    "createEmployee": lambda: {
        "id": "emp_004",
        "name": "سارة القحطاني",
        "nameEn": "Sarah Al-Qahtani",
        "email": "sarah@company.com",
        "phone": "+966503334444",
        "role": "sales_agent",
        "title": "Sales Agent",
        "managerId": "emp_002",
    },
    "updateEmployee": lambda: {"title": "Senior Sales Agent", "isActive": True},
    "updateOrganizationSettings": lambda: {"timeZone": "Asia/Riyadh", "requireFalLicence": True},
    "uploadDocument": lambda: {
        "name": "صورة الهوية الوطنية",
        "type": "id_copy",
        "description": "نسخة من الهوية",
        "tags": ["kyc"],
    },
}
"""Request body examples by ``operationId`` (built when the document is served)."""

_PATH_EXAMPLES: Final[Mapping[str, str]] = {
    "customer_id": "cust_001",
    "action_id": "action_001",
    "employee_id": "emp_001",
    "appointment_id": "appt_001",
    "reminder_id": "rem_001",
    "interest_id": "pi_001",
    "document_id": "doc_001",
}


def _examples(schema: dict[str, Any]) -> None:
    for _, _, operation in _operations(schema):
        build = OPERATION_EXAMPLES.get(operation.get("operationId", ""))
        body = operation.get("requestBody", {}).get("content", {})
        if build is not None:
            for media in body.values():
                media["examples"] = {
                    "document": {"summary": "From the API document", "value": build()}
                }
        for parameter in operation.get("parameters", []):
            example = _PATH_EXAMPLES.get(parameter.get("name", ""))
            if parameter.get("in") == "path" and example is not None:
                parameter["example"] = example


# ---------------------------------------------------------------------------------------------
# All steps


def finalize_openapi(
    schema: dict[str, Any], *, public_paths: frozenset[str] = frozenset({"/health", "/ready"})
) -> dict[str, Any]:
    """The document as served: Litestar's ``schema`` (not modified) through every step of the
    module docstring. ``public_paths`` answer without authentication and get no error list."""
    result = tidy_schema_names(copy.deepcopy(schema))
    _struct_schemas(result)
    _apply_field_rules(result, datetime.now(UTC).date())
    _apply_query_rules(result)
    _error_responses(result, public_paths)
    _if_match(result)
    _examples(result)
    return result

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
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

import msgspec

from customers_hub.application.queries import MAX_LIMIT, Op
from customers_hub.application.use_cases.bulk import MAX_BULK_IDS
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
from customers_hub.application.use_cases.employees import (
    TITLE_MAX_LENGTH as EMPLOYEE_TITLE_MAX_LENGTH,
)
from customers_hub.application.use_cases.reads import MAX_SEARCH_LENGTH
from customers_hub.application.use_cases.relations import (
    DOCUMENT_MIME_TYPES,
    LOCATION_MAX_LENGTH,
    MAX_DURATION_MINUTES,
)
from customers_hub.application.use_cases.relations import (
    TITLE_MAX_LENGTH as RELATION_TITLE_MAX_LENGTH,
)
from customers_hub.domain import validation
from customers_hub.domain.enums import DocumentType
from customers_hub.domain.inbox import TITLE_MAX_LENGTH as ACTION_TITLE_MAX_LENGTH
from customers_hub.domain.settings import (
    CURRENCY_PATTERN,
    RETENTION_YEARS_MAX,
    RETENTION_YEARS_MIN,
    time_zone_names,
)
from customers_hub.entrypoints.http.controllers.customers import LIST_INCLUDES
from customers_hub.entrypoints.http.strict import INT64_MAX, INT64_MIN, document_read_only
from customers_hub.entrypoints.http.wire import API_PREFIX, CUSTOMER_FIELDS
from customers_hub.entrypoints.http.wire_actions import ACTION_KEYS

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
    subclasses: list[type] = cls.__subclasses__()
    for sub in subclasses:
        yield sub
        yield from _subclasses(sub)


def http_structs() -> dict[str, type[msgspec.Struct]]:
    """Every concrete msgspec Struct of this package by class name (names defined twice and
    generic Structs are left out: their components keep Litestar's schema)."""
    found: dict[str, type[msgspec.Struct]] = {}
    twice: set[str] = set()
    for cls in _subclasses(msgspec.Struct):
        generic = bool(getattr(cls, "__parameters__", None))
        if generic or not cls.__module__.startswith("customers_hub."):
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
NATIONAL_ID_FORMAT: Final = "saudi-national-id"
"""The custom ``format`` of a national ID: the pattern, and a valid check digit (Luhn-style,
see ``customers_hub.testing.strategies.national_ids``), which no pattern can state."""
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


def _money_schema(*, positive: bool = False) -> dict[str, Any]:
    """SAR: a number of halalas (two decimals at most), or the same as a decimal string."""
    low: dict[str, Any] = {"exclusiveMinimum": 0} if positive else {"minimum": 0}
    digits = r"[1-9][0-9]{0,12}" if positive else r"[0-9]{1,13}"
    return {
        "anyOf": [
            {
                "type": "number",
                **low,
                "maximum": float(validation.MONEY_MAX),
                "multipleOf": 0.01,
            },
            {"type": "string", "pattern": rf"^{digits}(\.[0-9]{{1,2}}0*)?$"},
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
        # A customer always has a phone: required on create, never cleared by an update.
        ("NewCustomerIn", "phone"): {"type": "string", "pattern": SAUDI_MOBILE_PATTERN},
        ("CustomerIn", "phone"): {"type": "string", "pattern": SAUDI_MOBILE_PATTERN},
        # Changed only through POST …/assign: an update may echo it, never change it.
        ("CustomerIn", "assignedEmployeeId"): {"not": {}},
        ("*", "whatsapp"): {"type": "string", "pattern": _blank_or(SAUDI_MOBILE_PATTERN)},
        ("*", "email"): {
            "type": "string",
            "maxLength": v.EMAIL_MAX_LENGTH,
            "pattern": _blank_or(EMAIL_PATTERN),
        },
        ("*", "nationalId"): {
            "type": "string",
            "format": NATIONAL_ID_FORMAT,
            "pattern": _blank_or(NATIONAL_ID_PATTERN),
        },
        ("*", "nationality"): _line(v.NATIONALITY_MAX_LENGTH),
        ("*", "city"): _line(v.CITY_MAX_LENGTH),
        ("*", "district"): _line(v.DISTRICT_MAX_LENGTH),
        ("*", "region"): _line(v.DISTRICT_MAX_LENGTH),
        ("*", "address"): _line(v.SHORT_TEXT_MAX_LENGTH),
        ("*", "assignedEmployeeId"): _line(v.ID_MAX_LENGTH),
        ("*", "customerId"): ids,
        ("*", "employeeId"): ids,
        ("*", "propertyId"): _line(v.ID_MAX_LENGTH),
        ("PropertyInterestIn", "propertyId"): ids,
        ("*", "propertyImage"): _line(v.URL_MAX_LENGTH),
        ("*", "avatar"): _line(v.URL_MAX_LENGTH),
        ("*", "location"): _line(LOCATION_MAX_LENGTH),
        ("*", "propertyLocation"): _line(LOCATION_MAX_LENGTH),
        ("*", "propertyTitle"): _line(v.SHORT_TEXT_MAX_LENGTH),
        ("*", "propertyTitleEn"): _line(v.SHORT_TEXT_MAX_LENGTH),
        ("*", "notes"): _text(v.NOTES_MAX_LENGTH),
        ("*", "description"): _text(v.NOTES_MAX_LENGTH),
        ("*", "outcome"): _text(v.SHORT_TEXT_MAX_LENGTH),
        ("*", "feedback"): _text(v.NOTES_MAX_LENGTH),
        ("*", "reason"): _line(v.SHORT_TEXT_MAX_LENGTH),
        ("*", "content"): _text(v.FREE_TEXT_MAX_LENGTH, required=True),
        ("*", "query"): _line(MAX_SEARCH_LENGTH, required=True),
        ("*", "time"): {"type": "string", "pattern": _blank_or(TIME_PATTERN)},
        ("*", "datetime"): scheduled,
        ("*", "dueDate"): scheduled,
        ("*", "followUpDate"): scheduled,
        ("*", "snoozedUntil"): _months_ahead(today, 1, 10),  # future, at most a year ahead
        ("*", "dateOfBirth"): _date_in(year - v.OLDEST_AGE_YEARS + 1, year - 1),
        ("*", "expiresOn"): _date_in(
            v.EARLIEST_RECORD_DATE.year, year + v.LICENCE_MAX_YEARS_AHEAD - 1
        ),
        ("*", "budgetMin"): _money_schema(positive=True),
        ("*", "budgetMax"): _money_schema(positive=True),
        ("*", "annualRent"): _money_schema(positive=True),
        ("*", "preApprovalAmount"): _money_schema(),
        ("*", "propertyPrice"): _money_schema(),
        ("*", "minArea"): {"anyOf": [{"type": "number", "exclusiveMinimum": 0}]},
        ("*", "maxArea"): {"anyOf": [{"type": "number", "exclusiveMinimum": 0}]},
        ("*", "duration"): {"type": "integer", "minimum": 1, "maximum": MAX_DURATION_MINUTES},
        ("InteractionIn", "duration"): {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_DURATION_MINUTES,
        },
        ("*", "relatedTo"): _line(v.ID_MAX_LENGTH),
        ("ActionPatchIn", "status"): {"type": "string", "enum": ["pending", "in_progress"]},
        ("AppointmentPatchIn", "datetime"): _datetime_in(year + 1, year + 9),
        # After the interaction (which is not in the future): a follow-up is ahead.
        ("InteractionIn", "followUpDate"): _datetime_in(year + 1, year + 9),
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
        ("AppointmentIn", "date"): _date_in(year + 1, year + 9),  # in the future
        ("AppointmentPatchIn", "date"): _date_in(year + 1, year + 9),
        ("EmployeeIn", "title"): _line(EMPLOYEE_TITLE_MAX_LENGTH),
        ("EmployeePatchIn", "title"): _line(EMPLOYEE_TITLE_MAX_LENGTH),
        ("EmployeeIn", "id"): _line(v.ID_MAX_LENGTH, required=True),
        ("FalLicenceWire", "number"): _line(v.FAL_NUMBER_MAX_LENGTH, required=True),
        ("*", "contractNumber"): _line(v.COMPLIANCE_NUMBER_MAX_LENGTH, required=True),
        ("*", "licenceNumber"): _line(v.COMPLIANCE_NUMBER_MAX_LENGTH, required=True),
        ("*", "beneficiaryNumber"): _line(v.COMPLIANCE_NUMBER_MAX_LENGTH),
        ("*", "landlordName"): _line(v.NAME_MAX_LENGTH),
        ("*", "tenantName"): _line(v.NAME_MAX_LENGTH),
        ("*", "projectName"): _line(v.NAME_MAX_LENGTH),
        ("*", "bank"): _line(v.BANK_MAX_LENGTH),
        # An EJAR contract started in the past and ends in the future: end after start.
        ("EjarContractWire", "startDate"): _date_in(v.EARLIEST_RECORD_DATE.year, year - 1),
        ("EjarContractWire", "endDate"): _date_in(year + 1, year + v.CONTRACT_MAX_YEARS_AHEAD - 1),
        ("*", "checkedOn"): _date_in(v.EARLIEST_RECORD_DATE.year, year - 1),
        ("AdvancedQueryIn", "filters"): filters_schema(),
        ("SearchIn", "filters"): filters_schema(),
        ("*", "bedrooms"): {"type": "integer", "minimum": 0, "maximum": v.ROOMS_MAX},
        ("*", "bathrooms"): {"type": "integer", "minimum": 0, "maximum": v.ROOMS_MAX},
        ("AppointmentPatchIn", "outcome"): _text(v.NOTES_MAX_LENGTH),
        ("*", "tags"): {
            "type": "array",
            "items": _line(v.TAG_MAX_LENGTH),
            "maxItems": v.TAGS_MAX_COUNT,
        },
        **{
            ("PreferencesIn", key): {"type": "array", "items": _line(v.LIST_ITEM_MAX_LENGTH)}
            for key in ("preferredAreas", "preferredCities", "amenities")
        },
        ("*", "metadata"): {
            "type": "object",
            "additionalProperties": {"$ref": f"{_REF_PREFIX}{JSON_VALUE}"},
        },
        ("AppointmentIn", "location"): _line(v.SHORT_TEXT_MAX_LENGTH),
        ("AppointmentPatchIn", "location"): _line(v.SHORT_TEXT_MAX_LENGTH),
        ("*", "sourceDetails"): {
            "type": "object",
            "propertyNames": {
                "maxLength": v.SOURCE_DETAIL_KEY_MAX_LENGTH,
                "pattern": REQUIRED_LINE_PATTERN,
            },
            "additionalProperties": _line(v.SHORT_TEXT_MAX_LENGTH),
        },
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
    "BulkDismissIn": ("actionIds", "reason"),
    "NoteIn": ("content",),
    "SearchIn": ("query",),
    "AssignIn": ("employeeId",),
    "BulkAssignIn": ("actionIds", "assignedTo"),
    "BulkCompleteIn": ("actionIds",),
    "BulkSnoozeIn": ("actionIds", "snoozedUntil"),
    "BulkOperationIn": ("actionIds",),
    "PropertyInterestIn": ("propertyId",),
    "AppointmentIn": ("title", "datetime"),
    "ReminderIn": ("title", "datetime"),
}
"""Fields the use cases require although the Struct takes ``None`` (so that a missing field is
reported with every other failing one): the document says they are required."""


_NEVER_CLEARED: Final[Mapping[str, tuple[str, ...]]] = {
    "CustomerIn": ("name", "phone", "source", "priority", "assignedEmployeeId"),
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
            {"required": ["updates"], "properties": dict.fromkeys(others, _NULL_OR_ABSENT)},
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
    """``date`` and ``time`` go together, and only without ``datetime`` (which says both)."""
    given = {"type": "string", "minLength": 1}
    return [
        _only_when(
            {"properties": {"date": given}, "required": ["date"]},
            {
                "required": ["time"],
                "properties": {"time": {"type": "string", "pattern": TIME_PATTERN}},
            },
        ),
        _only_when(
            {"properties": {"time": given}, "required": ["time"]},
            {"required": ["date"], "properties": {"date": rules[("AppointmentIn", "date")]}},
        ),
        _only_when(
            {"properties": {"datetime": {"type": "string"}}, "required": ["datetime"]},
            {"properties": {"date": _NULL_OR_ABSENT, "time": _NULL_OR_ABSENT}},
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


def _filter_value(spec: FieldSpec) -> dict[str, Any]:
    """One operand of an advanced-query filter on ``spec``, as the catalog's parser takes it."""
    if spec.kind is ValueKind.ENUM and spec.enum is not None:
        return {"type": "string", "enum": [member.value for member in spec.enum]}
    if spec.kind is ValueKind.INTEGER:
        return {"type": "integer", "minimum": INT64_MIN, "maximum": INT64_MAX}
    if spec.kind is ValueKind.DECIMAL:
        return {"type": "number", "minimum": -1e15, "maximum": 1e15}
    if spec.kind is ValueKind.DATE:
        return {"type": "string", "pattern": DATE_PATTERN}
    if spec.kind is ValueKind.DATETIME:
        return {"type": "string", "pattern": DATE_OR_DATETIME_PATTERN}
    return _line(MAX_FILTER_TEXT_LENGTH, required=True)


def _filter_schema(spec: FieldSpec) -> dict[str, Any]:
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
            operands[op.value] = _line(MAX_FILTER_TEXT_LENGTH, required=True)
        else:
            operands[op.value] = value
    if spec.kind is ValueKind.DATETIME:
        # ``ne`` with a date alone is refused (a day is not an instant): only datetimes there.
        operands["ne"] = {"type": "string", "pattern": DATETIME_PATTERN}
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
            path: _filter_schema(spec) for path, spec in sorted(CUSTOMER_CATALOG.fields.items())
        },
        "additionalProperties": False,
    }


_CROSS_FIELD_RULES: Final[
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


def _in_requests(schema: Mapping[str, Any]) -> set[str]:
    """Names of the components a request body can hold (directly or nested)."""
    components = schema["components"]["schemas"]
    pending = [ref for _, _, op in _operations(schema) for ref in _refs(op.get("requestBody", {}))]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name not in seen and name in components:
            seen.add(name)
            pending.extend(_refs(components[name]))
    return seen


def _split_shared_components(schema: dict[str, Any]) -> dict[str, str]:
    """A component both requests and responses hold (an EJAR contract, a FAL licence) becomes
    two: ``{name}`` as shown (stored values as they are: a licence that expired in 1999 is
    still shown) and ``{name}Input`` as sent (every rule of a request). Returns input → name."""
    components: dict[str, Any] = schema["components"]["schemas"]
    shared = _in_requests(schema) & _in_responses(schema)
    if not shared:
        return {}
    refs = {f"{_REF_PREFIX}{name}": f"{_REF_PREFIX}{name}Input" for name in shared}
    for name in shared:
        components[f"{name}Input"] = copy.deepcopy(components[name])
    for name in [*_in_requests(schema), *(f"{n}Input" for n in shared)]:
        if name in components and name not in shared:
            components[name] = _rewrite_refs(components[name], refs)
    for _, _, operation in _operations(schema):
        if "requestBody" in operation:
            operation["requestBody"] = _rewrite_refs(operation["requestBody"], refs)
    return {f"{name}Input": name for name in shared}


JSON_VALUE: Final = "JsonValue"
"""Component of any JSON value whose integers fit 64 bits (free-form ``metadata``)."""

_JSON_VALUE_SCHEMA: Final[dict[str, Any]] = {
    "description": "Any JSON value; integers within 64 bits",
    "anyOf": [
        {"type": ["string", "boolean", "null"]},
        {"type": "number", "minimum": INT64_MIN, "maximum": INT64_MAX},
        {"type": "array", "items": {"$ref": f"{_REF_PREFIX}{JSON_VALUE}"}},
        {"type": "object", "additionalProperties": {"$ref": f"{_REF_PREFIX}{JSON_VALUE}"}},
    ],
}


def _apply_field_rules(schema: dict[str, Any], today: date) -> None:
    inputs = _split_shared_components(schema)
    components: dict[str, Any] = schema["components"]["schemas"]
    components[JSON_VALUE] = copy.deepcopy(_JSON_VALUE_SCHEMA)
    structs = http_structs()
    rules = field_rules(today)
    requested = _in_requests(schema)
    for component_name, component in components.items():
        name = inputs.get(component_name, component_name)  # rules are by the Struct's name
        cls = structs.get(name)
        if cls is None or not cls.__struct_config__.forbid_unknown_fields:
            continue  # only request bodies (and the objects nested in them)
        if component_name not in requested:
            continue  # shown by responses only
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
        if name in _CROSS_FIELD_RULES:
            component["allOf"] = copy.deepcopy(_CROSS_FIELD_RULES[name](rules))


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

_QUERY_RULES: Final[Mapping[str, dict[str, Any]]] = {
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


def _sort_rules(catalog: FieldCatalog) -> dict[str, dict[str, Any]]:
    return {
        "sortBy": {"type": "string", "enum": sorted({*catalog.sortable, *catalog.sort_aliases})},
        "sortOrder": {"type": "string", "enum": ["asc", "desc"]},
    }


def _path_query_rules() -> dict[str, dict[str, dict[str, Any]]]:
    """Query rules that depend on the path: the sort keys and ``fields=`` of each resource."""
    customers = {**_sort_rules(CUSTOMER_CATALOG), "fields": _keys_parameter(CUSTOMER_FIELDS)}
    actions = {**_sort_rules(ACTION_CATALOG), "fields": _keys_parameter(ACTION_KEYS)}
    return {
        f"{API_PREFIX}/customers": {**customers, "include": _keys_parameter(LIST_INCLUDES)},
        f"{API_PREFIX}/customers/{{customer_id}}": {
            "fields": _keys_parameter(CUSTOMER_FIELDS),
            "include": _keys_parameter(CUSTOMER_INCLUDES),
        },
        f"{API_PREFIX}/customers/actions": actions,
        f"{API_PREFIX}/customers/actions/{{action_id}}": {"fields": _keys_parameter(ACTION_KEYS)},
    }


def _multipart_rules(schema: dict[str, Any]) -> None:
    """An upload always carries its ``file`` and its ``type``."""
    for _, _, operation in _operations(schema):
        media = operation.get("requestBody", {}).get("content", {}).get("multipart/form-data")
        if media is None:
            continue
        shape = media["schema"]
        if "$ref" in shape:
            shape = schema["components"]["schemas"][shape["$ref"].removeprefix(_REF_PREFIX)]
        if "file" in shape.get("properties", {}):
            shape["required"] = sorted({*shape.get("required", ()), "file", "type"})
            shape["properties"]["file"] = {"type": "string", "format": "binary"}
        # A form field is text or absent: never null.
        if "type" in shape.get("properties", {}):
            shape["properties"]["type"] = {
                "type": "string",
                "enum": [kind.value for kind in DocumentType],
            }
        if "name" in shape.get("properties", {}):
            shape["properties"]["name"] = _line(validation.NAME_MAX_LENGTH)
        if "description" in shape.get("properties", {}):
            shape["properties"]["description"] = _text(validation.NOTES_MAX_LENGTH)
        if "tags" in shape.get("properties", {}):
            # Repeated parts (one tag each), or one text of comma-separated tags (a text that
            # starts with "[" is read as a JSON array instead: not described here).
            tag = _line(validation.TAG_MAX_LENGTH)
            bad = _REFUSED_IN_LINE
            n = validation.TAG_MAX_LENGTH
            listed = rf"^\s*([^\[\s,{bad}][^,{bad}]{{0,{n - 1}}})?(,[^,{bad}]{{0,{n}}})*$"
            shape["properties"]["tags"] = {
                "anyOf": [
                    {"type": "array", "items": tag, "maxItems": validation.TAGS_MAX_COUNT},
                    {"type": "string", "pattern": listed},
                ]
            }


def _download_types(schema: dict[str, Any]) -> None:
    """A document's bytes are answered with its own type: one of the accepted ones."""
    for _, method, operation in _operations(schema):
        ok = operation.get("responses", {}).get("200", {}).get("content", {})
        if method == "get" and list(ok) == ["application/octet-stream"]:
            body = ok["application/octet-stream"]
            for media_type in DOCUMENT_MIME_TYPES:
                ok[media_type] = copy.deepcopy(body)


def _apply_query_rules(schema: dict[str, Any]) -> None:
    by_path = _path_query_rules()
    for path, _, operation in _operations(schema):
        for parameter in operation.get("parameters", []):
            name = parameter.get("name", "")
            rule = by_path.get(path, {}).get(name) or _QUERY_RULES.get(name)
            if parameter.get("in") == "query" and rule is not None:
                shape = parameter["schema"]
                described = {k: v for k, v in shape.items() if k == "description"}
                alternatives = shape.get("oneOf", shape.get("anyOf", []))
                if any(a.get("type") == "null" for a in alternatives):
                    # Litestar reads ``null`` as "not given": keep saying so.
                    parameter["schema"] = {
                        **described,
                        "anyOf": [copy.deepcopy(rule), {"type": "null"}],
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
        "file": "%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n",
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
    _multipart_rules(result)
    _download_types(result)
    _error_responses(result, public_paths)
    _if_match(result)
    _examples(result)
    return result

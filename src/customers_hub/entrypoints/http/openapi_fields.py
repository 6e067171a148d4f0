"""What the domain's validation enforces, as JSON Schema: the rules the OpenAPI document states.

Built from the domain's own constants (``domain.validation``, the use cases' limits), so a limit
is written once and both the validation and the document read it:

* :func:`field_rules` — ``(component, property) -> schema`` for the body fields whose rules live
  in the domain (lengths, text patterns, phone, e-mail and ID shapes, money, date windows
  relative to the day the document is served); :data:`REQUIRED_BODY_FIELDS` and
  :data:`NEVER_CLEARED`;
* :data:`CROSS_FIELD_RULES` — rules between the fields of one body as ``if``/``then``;
* :func:`filters_schema` — the advanced query's ``filters`` from the field catalog;
* :data:`QUERY_RULES` and :func:`path_query_rules` — query parameters checked by controllers.

:mod:`.openapi` applies them to the document Litestar generates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any, Final

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
    LOCATION_MAX_LENGTH,
    MAX_DURATION_MINUTES,
)
from customers_hub.application.use_cases.relations import (
    TITLE_MAX_LENGTH as RELATION_TITLE_MAX_LENGTH,
)
from customers_hub.domain import assignment, merging, validation
from customers_hub.domain.inbox import TITLE_MAX_LENGTH as ACTION_TITLE_MAX_LENGTH
from customers_hub.domain.privacy import PDPL_IN_FORCE
from customers_hub.domain.privacy import SOURCE_MAX as PRIVACY_SOURCE_MAX
from customers_hub.domain.settings import (
    CURRENCY_PATTERN,
    RETENTION_YEARS_MAX,
    RETENTION_YEARS_MIN,
    time_zone_names,
)
from customers_hub.entrypoints.http.controllers.customers import LIST_INCLUDES
from customers_hub.entrypoints.http.strict import INT64_MAX, INT64_MIN
from customers_hub.entrypoints.http.wire import API_PREFIX, CUSTOMER_FIELDS
from customers_hub.entrypoints.http.wire_actions import ACTION_KEYS

REF_PREFIX: Final = "#/components/schemas/"

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
REFUSED_IN_LINE: Final = _REFUSED_IN_TEXT + r"\t\n\r\u2028\u2029"
LINE_PATTERN: Final = rf"^[^{REFUSED_IN_LINE}]*$"
"""A one-line text (names, titles, ids, reasons): no control characters or line breaks."""
REQUIRED_LINE_PATTERN: Final = (
    rf"^[^{REFUSED_IN_LINE}]*[^{REFUSED_IN_LINE}\s][^{REFUSED_IN_LINE}]*$"
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


def line_rule(max_length: int, *, required: bool = False) -> dict[str, Any]:
    pattern = REQUIRED_LINE_PATTERN if required else LINE_PATTERN
    return {"type": "string", "maxLength": max_length, "pattern": pattern}


def text_rule(max_length: int, *, required: bool = False) -> dict[str, Any]:
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
    ids = line_rule(v.ID_MAX_LENGTH, required=True)
    rules: dict[tuple[str, str], dict[str, Any]] = {
        ("*", "name"): line_rule(v.NAME_MAX_LENGTH, required=True),
        ("*", "nameEn"): line_rule(v.NAME_MAX_LENGTH),
        ("*", "title"): line_rule(RELATION_TITLE_MAX_LENGTH, required=True),
        ("*", "titleEn"): line_rule(RELATION_TITLE_MAX_LENGTH),
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
        ("*", "nationality"): line_rule(v.NATIONALITY_MAX_LENGTH),
        ("*", "city"): line_rule(v.CITY_MAX_LENGTH),
        ("*", "district"): line_rule(v.DISTRICT_MAX_LENGTH),
        ("*", "region"): line_rule(v.DISTRICT_MAX_LENGTH),
        ("*", "address"): line_rule(v.SHORT_TEXT_MAX_LENGTH),
        ("*", "assignedEmployeeId"): line_rule(v.ID_MAX_LENGTH),
        ("*", "customerId"): ids,
        ("*", "employeeId"): ids,
        ("*", "propertyId"): line_rule(v.ID_MAX_LENGTH),
        ("PropertyInterestIn", "propertyId"): ids,
        ("*", "propertyImage"): line_rule(v.URL_MAX_LENGTH),
        ("*", "avatar"): line_rule(v.URL_MAX_LENGTH),
        ("*", "location"): line_rule(LOCATION_MAX_LENGTH),
        ("*", "propertyLocation"): line_rule(LOCATION_MAX_LENGTH),
        ("*", "propertyTitle"): line_rule(v.SHORT_TEXT_MAX_LENGTH),
        ("*", "propertyTitleEn"): line_rule(v.SHORT_TEXT_MAX_LENGTH),
        ("*", "notes"): text_rule(v.NOTES_MAX_LENGTH),
        ("*", "description"): text_rule(v.NOTES_MAX_LENGTH),
        ("*", "outcome"): text_rule(v.SHORT_TEXT_MAX_LENGTH),
        ("*", "feedback"): text_rule(v.NOTES_MAX_LENGTH),
        ("*", "reason"): line_rule(v.SHORT_TEXT_MAX_LENGTH),
        ("*", "content"): text_rule(v.FREE_TEXT_MAX_LENGTH, required=True),
        ("*", "query"): line_rule(MAX_SEARCH_LENGTH, required=True),
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
        ("*", "relatedTo"): line_rule(v.ID_MAX_LENGTH),
        ("ActionPatchIn", "status"): {"type": "string", "enum": ["pending", "in_progress"]},
        ("BulkUpdatesIn", "status"): {"type": "string", "enum": ["pending", "in_progress"]},
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
        ("BulkCompleteIn", "notes"): text_rule(v.FREE_TEXT_MAX_LENGTH),
        ("BulkCompleteIn", "outcome"): text_rule(v.FREE_TEXT_MAX_LENGTH),
        ("BulkDismissIn", "notes"): text_rule(v.FREE_TEXT_MAX_LENGTH),
        ("BulkSnoozeIn", "notes"): text_rule(v.FREE_TEXT_MAX_LENGTH),
        ("BulkOperationIn", "notes"): text_rule(v.FREE_TEXT_MAX_LENGTH),
        ("BulkOperationIn", "outcome"): text_rule(v.FREE_TEXT_MAX_LENGTH),
        ("ReminderIn", "datetime"): _datetime_in(year + 1, year + 9),  # in the future
        ("AppointmentIn", "datetime"): _datetime_in(year + 1, year + 9),
        ("*", "totalDealValue"): _money_schema(),
        ("*", "expectedRevenue"): _money_schema(),
        ("*", "paidAmount"): _money_schema(),
        ("CustomerIn", "notes"): text_rule(v.FREE_TEXT_MAX_LENGTH),
        ("NewCustomerIn", "notes"): text_rule(v.FREE_TEXT_MAX_LENGTH),
        ("ActionIn", "title"): line_rule(ACTION_TITLE_MAX_LENGTH, required=True),
        ("ActionPatchIn", "title"): line_rule(ACTION_TITLE_MAX_LENGTH, required=True),
        ("ActionIn", "description"): text_rule(v.FREE_TEXT_MAX_LENGTH),
        ("ActionPatchIn", "description"): text_rule(v.FREE_TEXT_MAX_LENGTH),
        ("ActionPatchIn", "notes"): text_rule(v.FREE_TEXT_MAX_LENGTH),
        ("CompleteIn", "notes"): text_rule(v.FREE_TEXT_MAX_LENGTH),
        ("DismissIn", "notes"): text_rule(v.FREE_TEXT_MAX_LENGTH),
        ("SnoozeIn", "notes"): text_rule(v.FREE_TEXT_MAX_LENGTH),
        ("DismissIn", "reason"): line_rule(v.SHORT_TEXT_MAX_LENGTH, required=True),
        ("BulkDismissIn", "reason"): line_rule(v.SHORT_TEXT_MAX_LENGTH, required=True),
        # Privacy (rules §8): a consent's source and an extension's reason are required texts;
        # a request was received since the PDPL came into force, and not in the future.
        ("ConsentChangeIn", "source"): line_rule(PRIVACY_SOURCE_MAX, required=True),
        ("ExtendIn", "reason"): line_rule(v.SHORT_TEXT_MAX_LENGTH, required=True),
        ("PrivacyRequestIn", "receivedAt"): _datetime_in(PDPL_IN_FORCE.year + 1, year - 1),
        ("InteractionIn", "date"): _datetime_in(v.EARLIEST_RECORD_DATE.year, year - 1),
        ("AppointmentIn", "date"): _date_in(year + 1, year + 9),  # in the future
        ("AppointmentPatchIn", "date"): _date_in(year + 1, year + 9),
        ("EmployeeIn", "title"): line_rule(EMPLOYEE_TITLE_MAX_LENGTH),
        ("EmployeePatchIn", "title"): line_rule(EMPLOYEE_TITLE_MAX_LENGTH),
        # The identity provider's user id: no whitespace inside (trimmed around), nothing a
        # text refuses (``employees._check_id``).
        ("EmployeeIn", "id"): {
            "type": "string",
            "maxLength": v.ID_MAX_LENGTH,
            "pattern": rf"^\s*[^\s{REFUSED_IN_LINE}]+\s*$",
        },
        ("FalLicenceWire", "number"): line_rule(v.FAL_NUMBER_MAX_LENGTH, required=True),
        ("*", "contractNumber"): line_rule(v.COMPLIANCE_NUMBER_MAX_LENGTH, required=True),
        ("*", "licenceNumber"): line_rule(v.COMPLIANCE_NUMBER_MAX_LENGTH, required=True),
        ("*", "beneficiaryNumber"): line_rule(v.COMPLIANCE_NUMBER_MAX_LENGTH),
        ("*", "landlordName"): line_rule(v.NAME_MAX_LENGTH),
        ("*", "tenantName"): line_rule(v.NAME_MAX_LENGTH),
        ("*", "projectName"): line_rule(v.NAME_MAX_LENGTH),
        ("*", "bank"): line_rule(v.BANK_MAX_LENGTH),
        # An EJAR contract started in the past and ends in the future: end after start.
        ("EjarContractWire", "startDate"): _date_in(v.EARLIEST_RECORD_DATE.year, year - 1),
        ("EjarContractWire", "endDate"): _date_in(year + 1, year + v.CONTRACT_MAX_YEARS_AHEAD - 1),
        ("*", "checkedOn"): _date_in(v.EARLIEST_RECORD_DATE.year, year - 1),
        ("AdvancedQueryIn", "filters"): filters_schema(),
        ("SearchIn", "filters"): filters_schema(),
        ("*", "bedrooms"): {"type": "integer", "minimum": 0, "maximum": v.ROOMS_MAX},
        ("*", "bathrooms"): {"type": "integer", "minimum": 0, "maximum": v.ROOMS_MAX},
        ("AppointmentPatchIn", "outcome"): text_rule(v.NOTES_MAX_LENGTH),
        ("*", "tags"): {
            "type": "array",
            "items": line_rule(v.TAG_MAX_LENGTH),
            "maxItems": v.TAGS_MAX_COUNT,
        },
        **{
            ("PreferencesIn", key): {"type": "array", "items": line_rule(v.LIST_ITEM_MAX_LENGTH)}
            for key in ("preferredAreas", "preferredCities", "amenities")
        },
        ("*", "metadata"): {
            "type": "object",
            "additionalProperties": {"$ref": f"{REF_PREFIX}{JSON_VALUE}"},
        },
        ("AppointmentIn", "location"): line_rule(v.SHORT_TEXT_MAX_LENGTH),
        ("AppointmentPatchIn", "location"): line_rule(v.SHORT_TEXT_MAX_LENGTH),
        ("*", "sourceDetails"): {
            "type": "object",
            "propertyNames": {
                "maxLength": v.SOURCE_DETAIL_KEY_MAX_LENGTH,
                "pattern": REQUIRED_LINE_PATTERN,
            },
            "additionalProperties": line_rule(v.SHORT_TEXT_MAX_LENGTH),
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
    # Assignment rules (§10): their lists hold non-blank one-line ids and cities.
    for component in ("AssignmentRuleIn", "AssignmentRulePatchIn"):
        rules[(component, "employeeIds")] = {
            "type": "array",
            "minItems": assignment.EMPLOYEES_MIN,
            "maxItems": assignment.EMPLOYEES_MAX,
            "items": ids,
        }
    rules[("RuleMatchIn", "cities")] = {
        "type": "array",
        "maxItems": assignment.MATCH_VALUES_MAX,
        "items": line_rule(v.CITY_MAX_LENGTH, required=True),
    }
    # Merge (§10): 1-10 distinct customer ids; ``fields`` names a customer per known field.
    rules[("MergeIn", "sourceIds")] = {
        "type": "array",
        "items": ids,
        "minItems": 1,
        "maxItems": merging.MAX_SOURCES,
        "uniqueItems": True,
    }
    rules[("MergeIn", "fields")] = {
        "type": "object",
        "properties": dict.fromkeys(merging.MERGE_FIELDS, ids),
        "additionalProperties": False,
    }
    rules[("UnmergeIn", "mergeId")] = ids
    return rules


REQUIRED_BODY_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
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
    "MergeIn": ("sourceIds",),
}
"""Fields the use cases require although the Struct takes ``None`` (so that a missing field is
reported with every other failing one): the document says they are required."""


NEVER_CLEARED: Final[Mapping[str, tuple[str, ...]]] = {
    "CustomerIn": ("name", "phone", "source", "priority", "assignedEmployeeId"),
    "BulkUpdatesIn": ("assignedTo",),  # a bulk update reassigns; it never unassigns
    "EmployeePatchIn": ("name",),
}
"""Fields a customer (an employee) always has: a patch may change them, never send null."""


def without_null(schema: dict[str, Any]) -> dict[str, Any]:
    alternatives = [a for a in schema.get("anyOf", []) if a.get("type") != "null"]
    return alternatives[0] if len(alternatives) == 1 else schema


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


def _sort_rules(catalog: FieldCatalog) -> dict[str, dict[str, Any]]:
    return {
        "sortBy": {"type": "string", "enum": sorted({*catalog.sortable, *catalog.sort_aliases})},
        "sortOrder": {"type": "string", "enum": ["asc", "desc"]},
    }


def path_query_rules() -> dict[str, dict[str, dict[str, Any]]]:
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
            operands[op.value] = {
                "type": "string",
                "maxLength": MAX_FILTER_TEXT_LENGTH,
                "pattern": r"\S",
            }
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
            path: _filter_schema(spec) for path, spec in sorted(CUSTOMER_CATALOG.fields.items())
        },
        "additionalProperties": False,
    }


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


JSON_VALUE: Final = "JsonValue"
"""Component of any JSON value whose integers fit 64 bits (free-form ``metadata``)."""

JSON_VALUE_SCHEMA: Final[dict[str, Any]] = {
    "description": "Any JSON value; integers within 64 bits",
    "anyOf": [
        {"type": ["string", "boolean", "null"]},
        {"type": "number", "minimum": INT64_MIN, "maximum": INT64_MAX},
        {"type": "array", "items": {"$ref": f"{REF_PREFIX}{JSON_VALUE}"}},
        {"type": "object", "additionalProperties": {"$ref": f"{REF_PREFIX}{JSON_VALUE}"}},
    ],
}

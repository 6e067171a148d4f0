"""What the domain's validation enforces, as JSON Schema: the rules the OpenAPI document states.

Built from the domain's own constants (``domain.validation``, the use cases' limits), so a limit
is written once and both the validation and the document read it:

* :func:`field_rules` — ``(component, property) -> schema`` for the body fields whose rules live
  in the domain (lengths, text patterns, phone, e-mail and ID shapes, money, date windows
  relative to the day the document is served); :data:`REQUIRED_BODY_FIELDS` and
  :data:`NEVER_CLEARED`;
* rules between the fields of one body as ``if``/``then`` live in :mod:`.openapi_cross_field`;
  the query parameters' rules and the advanced query's ``filters`` in :mod:`.openapi_queries`.

:mod:`.openapi` applies them to the document Litestar generates.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from customers_hub.application.queries import MAX_LIMIT
from customers_hub.application.use_cases.bulk import MAX_BULK_IDS
from customers_hub.application.use_cases.catalog import CUSTOMER_CATALOG
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
from customers_hub.domain.fields import resolved_fields, write_mark
from customers_hub.domain.inbox import TITLE_MAX_LENGTH as ACTION_TITLE_MAX_LENGTH
from customers_hub.domain.model import CustomerFields
from customers_hub.domain.naming import camel_case
from customers_hub.domain.privacy import PDPL_IN_FORCE
from customers_hub.domain.privacy import SOURCE_MAX as PRIVACY_SOURCE_MAX
from customers_hub.domain.settings import (
    CURRENCY_PATTERN,
    RETENTION_YEARS_MAX,
    RETENTION_YEARS_MIN,
    time_zone_names,
)
from customers_hub.entrypoints.http.openapi_queries import filters_schema, sort_rules
from customers_hub.entrypoints.http.strict import INT64_MAX, INT64_MIN

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
    customer_sort = sort_rules(CUSTOMER_CATALOG)
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
        ("*", "managerId"): line_rule(v.ID_MAX_LENGTH),  # blank or null: no manager
        ("*", "propertyId"): line_rule(v.ID_MAX_LENGTH),
        ("PropertyInterestIn", "propertyId"): ids,
        ("*", "agentId"): line_rule(v.ID_MAX_LENGTH),  # blank: the caller books for themselves
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
        # The advanced query's sort takes what the list's sortBy/sortOrder take.
        ("SortIn", "field"): customer_sort["sortBy"],
        ("SortIn", "order"): customer_sort["sortOrder"],
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
    rules.update(_written_field_rules(rules))
    return rules


def _written_field_rules(
    rules: Mapping[tuple[str, str], dict[str, Any]],
) -> dict[tuple[str, str], dict[str, Any]]:
    """The rules of the customer's written fields that have none above: the numbers of their
    :func:`~customers_hub.domain.fields.writable` mark, which the validation also reads."""
    derived: dict[tuple[str, str], dict[str, Any]] = {}
    for attribute in resolved_fields(CustomerFields):
        mark, key = write_mark(attribute), ("*", camel_case(attribute.name))
        if mark is None or key in rules:
            continue
        if mark.max_length is not None:
            derived[key] = (text_rule if mark.multiline else line_rule)(mark.max_length)
        elif mark.bounds is not None:
            low, high = mark.bounds
            derived[key] = {"type": "integer", "minimum": low, "maximum": high}
    return derived


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

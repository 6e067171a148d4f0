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
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import msgspec

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
# 3. Error responses

ERROR_ENVELOPE_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "title": "ErrorResponse",
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
_ERROR_REF: Final = {"$ref": f"{_REF_PREFIX}ErrorResponse"}


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
    schema["components"]["schemas"]["ErrorResponse"] = copy.deepcopy(ERROR_ENVELOPE_SCHEMA)
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
    _error_responses(result, public_paths)
    _if_match(result)
    _examples(result)
    return result

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
   Then the **rules of the domain's validation** that the Structs' types do not carry
   (:mod:`.openapi_fields`: lengths, patterns, date windows, required fields, rules between
   fields, the query parameters' rules), applied to request bodies only — a component that
   responses show too is split into ``{name}Input`` so stored values are shown as they are.
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

from customers_hub.application.use_cases.relations import (
    DOCUMENT_MIME_TYPES,
)
from customers_hub.domain import validation
from customers_hub.domain.enums import DocumentType
from customers_hub.domain.imports import OnDuplicate
from customers_hub.entrypoints.http.calendars import DATE_QUERY_PARAMETERS, document_calendar
from customers_hub.entrypoints.http.idempotency import document_idempotency
from customers_hub.entrypoints.http.openapi_fields import (
    CROSS_FIELD_RULES,
    JSON_VALUE,
    JSON_VALUE_SCHEMA,
    NEVER_CLEARED,
    QUERY_RULES,
    REF_PREFIX,
    REFUSED_IN_LINE,
    REQUIRED_BODY_FIELDS,
    field_rules,
    line_rule,
    path_query_rules,
    text_rule,
    without_null,
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

_REF_PREFIX: Final = REF_PREFIX
_METHODS: Final = ("get", "put", "post", "delete", "patch", "head", "options")
_WRITES: Final = frozenset({"post", "put", "patch", "delete"})

IF_MATCH_PATTERN: Final = r'^[ \t]*(\*|(W/)?"*[vV]?[0-9]+(-hijri-[0-9a-f]*)?"*)?[ \t]*$'
"""What ``If-Match`` may hold: ``*``, or a version as ``"v3"``, ``W/"v3"``, ``v3`` or ``3``
(``"v3-hijri-…"``: the ETag of a ``calendar=hijri`` read)."""

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


def _reachable(schema: Mapping[str, Any], part: str) -> set[str]:
    """Names of the components an operation's ``part`` (``requestBody`` or ``responses``) can
    hold, directly or nested."""
    components = schema["components"]["schemas"]
    pending = [ref for _, _, op in _operations(schema) for ref in _refs(op.get(part, {}))]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name not in seen and name in components:
            seen.add(name)
            pending.extend(_refs(components[name]))
    return seen


def _in_responses(schema: Mapping[str, Any]) -> set[str]:
    """Names of the components a response can hold."""
    return _reachable(schema, "responses")


def _in_requests(schema: Mapping[str, Any]) -> set[str]:
    """Names of the components a request body can hold."""
    return _reachable(schema, "requestBody")


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


def _apply_field_rules(schema: dict[str, Any], today: date) -> None:
    inputs = _split_shared_components(schema)
    components: dict[str, Any] = schema["components"]["schemas"]
    components[JSON_VALUE] = copy.deepcopy(JSON_VALUE_SCHEMA)
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
        required = set(component.get("required", ())) | set(REQUIRED_BODY_FIELDS.get(name, ()))
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
        for key in (*REQUIRED_BODY_FIELDS.get(name, ()), *NEVER_CLEARED.get(name, ())):
            if key in properties:
                properties[key] = without_null(properties[key])
        if required:
            component["required"] = sorted(required)
        if name in CROSS_FIELD_RULES:
            component["allOf"] = copy.deepcopy(CROSS_FIELD_RULES[name](rules))


def _optional_bodies(schema: dict[str, Any]) -> None:
    """A body the handler may go without (``data: X | None = None``: completing an action,
    an erasure) is optional in the document too: a request without one is valid."""
    for _, _, operation in _operations(schema):
        body = operation.get("requestBody")
        if not body:
            continue
        shapes = [media.get("schema", {}) for media in body.get("content", {}).values()]
        if shapes and all(
            any(alt.get("type") == "null" for alt in shape.get("oneOf", ())) for shape in shapes
        ):
            body["required"] = False


def _multipart_rules(schema: dict[str, Any]) -> None:
    """An upload always carries its ``file`` and its ``type``."""
    for _, _, operation in _operations(schema):
        media = operation.get("requestBody", {}).get("content", {}).get("multipart/form-data")
        if media is None:
            continue
        shape = media["schema"]
        if "$ref" in shape:
            shape = schema["components"]["schemas"][shape["$ref"].removeprefix(_REF_PREFIX)]
        properties = shape.get("properties", {})
        if "file" in properties:
            given = {"file", "type"} if "type" in properties else {"file"}
            shape["required"] = sorted({*shape.get("required", ()), *given})
            shape["properties"]["file"] = {"type": "string", "format": "binary"}
        # The import's form (docs/imports.md): flags and the duplicate mode are words; the
        # mapping is JSON text (one that is not a JSON object is 422, as unreadable files are).
        for flag in ("dryRun", "createActions"):
            if flag in properties:
                properties[flag] = {"type": "string", "enum": ["true", "false"]}
        if "onDuplicate" in properties:
            properties["onDuplicate"] = {
                "type": "string",
                "enum": [mode.value for mode in OnDuplicate],
            }
        if "mapping" in properties:
            properties["mapping"] = {
                "type": "string",
                "description": "A JSON object {column header: field name or null}",
            }
        # A form field is text or absent: never null.
        if "type" in shape.get("properties", {}):
            shape["properties"]["type"] = {
                "type": "string",
                "enum": [kind.value for kind in DocumentType],
            }
        if "name" in shape.get("properties", {}):
            shape["properties"]["name"] = line_rule(validation.NAME_MAX_LENGTH)
        if "description" in shape.get("properties", {}):
            shape["properties"]["description"] = text_rule(validation.NOTES_MAX_LENGTH)
        if "tags" in shape.get("properties", {}):
            # Repeated parts (one tag each), or one text of comma-separated tags (a text that
            # starts with "[" is read as a JSON array instead: not described here).
            tag = line_rule(validation.TAG_MAX_LENGTH)
            bad = REFUSED_IN_LINE
            n = validation.TAG_MAX_LENGTH
            listed = rf"^\s*([^\[\s,{bad}][^,{bad}]{{0,{n - 1}}})?(,[^,{bad}]{{0,{n}}})*$"
            shape["properties"]["tags"] = {
                "anyOf": [
                    {"type": "array", "items": tag, "maxItems": validation.TAGS_MAX_COUNT},
                    {"type": "string", "pattern": listed},
                ]
            }


_ALSO_AS: Final[Mapping[str, Mapping[str, Any]]] = {
    # ?format=csv or Accept: text/csv: the import's report as a spreadsheet (docs/imports.md).
    "listCustomerImportErrors": {
        "text/csv": {"schema": {"type": "string", "description": "row,field,message (UTF-8, BOM)"}}
    },
}
"""Other representations a JSON read answers on request, by ``operationId``."""


def _download_types(schema: dict[str, Any]) -> None:
    """A document's bytes are answered with its own type: one of the accepted ones; a read
    that also answers as CSV says so."""
    for _, method, operation in _operations(schema):
        ok = operation.get("responses", {}).get("200", {}).get("content", {})
        if method == "get" and list(ok) == ["application/octet-stream"]:
            body = ok["application/octet-stream"]
            for media_type in DOCUMENT_MIME_TYPES:
                ok[media_type] = copy.deepcopy(body)
        for media_type, body in _ALSO_AS.get(operation.get("operationId", ""), {}).items():
            ok.setdefault(media_type, copy.deepcopy(body))


def _apply_query_rules(schema: dict[str, Any]) -> None:
    by_path = path_query_rules()
    for path, _, operation in _operations(schema):
        for parameter in operation.get("parameters", []):
            name = parameter.get("name", "")
            rule = by_path.get(path, {}).get(name) or QUERY_RULES.get(name)
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
    queries = {p.get("name", "") for p in operation.get("parameters", []) if p.get("in") == "query"}
    if queries & DATE_QUERY_PARAMETERS:
        statuses.add(422)  # a date filter read as Hijri that names no Umm al-Qura day
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
    "createWebhook": lambda: {
        "url": "https://hooks.example.com/customers-hub",
        "events": ["customer.created", "customer.stage_changed", "action.created"],
        "description": "مزامنة نظام التسويق",
    },
    "updateWebhook": lambda: {"events": ["*"], "isActive": True},
    "mergeCustomers": lambda: {"sourceIds": ["cust_002"], "fields": {"email": "cust_002"}},
    "unmergeCustomers": lambda: {"mergeId": "merge_001"},
    "updateCustomerConsents": lambda: {
        "consents": [
            {"channel": "whatsapp", "granted": True, "source": "web_form"},
            {"channel": "marketing", "granted": False, "source": "call", "notes": "طلب العميل"},
        ]
    },
    "createPrivacyRequest": lambda: {
        "customerId": "cust_001",
        "type": "access",
        "notes": "طلب نسخة من البيانات عبر البريد",
    },
    "updatePrivacyRequestStatus": lambda: {"status": "in_progress"},
    "extendPrivacyRequest": lambda: {"reason": "بانتظار مستندات الهوية", "days": 30},
    "eraseCustomer": lambda: {"reason": "طلب حذف البيانات"},
    "createAssignmentRule": lambda: {
        "name": "عملاء الرياض",
        "strategy": "round_robin",
        "employeeIds": ["emp_001", "emp_004"],
        "match": {"sources": ["whatsapp"], "cities": ["الرياض"]},
        "priority": 1,
    },
    "updateAssignmentRule": lambda: {"active": False},
    "startCustomerImport": lambda: {
        "file": "name,phone,city\r\nعبدالله الشمري,0551234567,الرياض\r\n",
        "dryRun": "true",
        "onDuplicate": "skip",
    },
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
    _optional_bodies(result)
    _download_types(result)
    _error_responses(result, public_paths)
    document_idempotency(result)  # the Idempotency-Key header of the writes (.idempotency)
    document_calendar(result, _in_responses(result))  # calendar=hijri, twins (.calendars)
    _if_match(result)
    _examples(result)
    return result

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
3. **Error responses by rule** (:func:`_error_responses`, the rules in :mod:`.openapi_errors`):
   every operation lists the statuses it can answer with the error envelope ``{success: false,
   error: {code, message, details}, meta}`` — 400, 401, 403, 429 and 500 everywhere; 404 where
   a path names a record or a body names other records; 409 and 422 on writes; 412 where
   ``If-Match`` is taken; 413 and 415 where a body is read.
4. **Headers**: ``If-Match`` states the formats :func:`~.caching.parse_if_match` reads.
5. **Examples** (:data:`OPERATION_EXAMPLES` in :mod:`.openapi_examples`): a request example
   for every operation with a body, drawn from the API document (Arabic names, Saudi mobiles,
   the document's ids and values); dates are relative to the moment the document is served,
   so the example of an appointment or a snooze is always in the future and the examples phase
   of a fuzzer sends valid data.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any, Final

import msgspec

from customers_hub.application.use_cases.documents import DOCUMENT_MIME_TYPES
from customers_hub.domain import validation
from customers_hub.domain.enums import DocumentType
from customers_hub.domain.imports import OnDuplicate
from customers_hub.entrypoints.http.calendars import document_calendar
from customers_hub.entrypoints.http.idempotency import document_idempotency
from customers_hub.entrypoints.http.openapi_cross_field import CROSS_FIELD_RULES
from customers_hub.entrypoints.http.openapi_errors import (
    ERROR_DESCRIPTIONS,
    ERROR_ENVELOPE_SCHEMA,
    ERROR_REF,
    statuses_for,
)
from customers_hub.entrypoints.http.openapi_examples import OPERATION_EXAMPLES, PATH_EXAMPLES
from customers_hub.entrypoints.http.openapi_fields import (
    JSON_VALUE,
    JSON_VALUE_SCHEMA,
    NEVER_CLEARED,
    REF_PREFIX,
    REFUSED_IN_LINE,
    REQUIRED_BODY_FIELDS,
    field_rules,
    line_rule,
    text_rule,
    without_null,
)
from customers_hub.entrypoints.http.openapi_queries import QUERY_RULES, path_query_rules
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


def _error_responses(schema: dict[str, Any], public_paths: frozenset[str]) -> None:
    schema["components"]["schemas"]["ErrorEnvelope"] = copy.deepcopy(ERROR_ENVELOPE_SCHEMA)
    for path, method, operation in _operations(schema):
        if path in public_paths:
            continue
        responses: dict[str, Any] = operation.setdefault("responses", {})
        for status in sorted(statuses_for(path, method, operation)):
            entry = responses.setdefault(str(status), {})
            entry["description"] = entry.get("description") or ERROR_DESCRIPTIONS[status]
            entry["content"] = {"application/json": {"schema": dict(ERROR_REF)}}


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
            example = PATH_EXAMPLES.get(parameter.get("name", ""))
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

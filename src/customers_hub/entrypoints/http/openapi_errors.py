"""The error responses of the OpenAPI document: the envelope and the statuses each operation
can answer with, by rule (step 3 of :mod:`.openapi`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from customers_hub.entrypoints.http.calendars import DATE_QUERY_PARAMETERS
from customers_hub.entrypoints.http.openapi_fields import REF_PREFIX

__all__ = ["ERROR_DESCRIPTIONS", "ERROR_ENVELOPE_SCHEMA", "ERROR_REF", "WRITES", "statuses_for"]

WRITES: Final = frozenset({"post", "put", "patch", "delete"})
"""The methods that write."""

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

ERROR_DESCRIPTIONS: Final[Mapping[int, str]] = {
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
ERROR_REF: Final = {"$ref": f"{REF_PREFIX}ErrorEnvelope"}


def statuses_for(path: str, method: str, operation: Mapping[str, Any]) -> set[int]:
    """The error statuses ``operation`` (``method`` on ``path``) can answer with."""
    if not operation.get("security", True) and operation.get("security") is not None:
        return {500}
    statuses = {400, 401, 403, 429, 500}
    headers = {p.get("name", "").lower() for p in operation.get("parameters", [])}
    if "{" in path or method in WRITES:
        statuses.add(404)  # the record of the path, or a record the body names
    if method in WRITES:
        statuses |= {409, 422}
    queries = {p.get("name", "") for p in operation.get("parameters", []) if p.get("in") == "query"}
    if queries & DATE_QUERY_PARAMETERS:
        statuses.add(422)  # a date filter read as Hijri that names no Umm al-Qura day
    if "if-match" in headers:
        statuses.add(412)
    if "requestBody" in operation:
        statuses |= {413, 415}
    return statuses

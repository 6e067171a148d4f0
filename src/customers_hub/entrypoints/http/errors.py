"""Every failure as the API document's error envelope.

``{"success": false, "error": {"code", "message", "details"}, "meta": {"timestamp",
"requestId"}}`` — for the domain's and the application's errors, for Litestar's own (bad
parameters, malformed JSON, unknown routes, wrong methods, bodies too large) and for anything
unexpected (500 ``INTERNAL_ERROR`` with a generic message: the stack trace goes to the log with
the request id, never to the client).

* ``ValidationFailed``, Litestar validation, malformed JSON → 400 ``VALIDATION_ERROR``,
  details ``[{field, message}]``;
* ``AuthenticationFailed`` → 401 ``AUTHENTICATION_FAILED``;
* ``PermissionDenied`` → 403 ``PERMISSION_DENIED``, ``{requiredPermission, currentRole}``;
* ``NotFound``, unknown route → 404 ``RESOURCE_NOT_FOUND``, ``{resourceType, resourceId}``;
* wrong method → 405 ``METHOD_NOT_ALLOWED``, ``{allowedMethods}``;
* ``Duplicate`` → 409 ``DUPLICATE_RESOURCE``, ``[{field, message}]`` when a field is known;
* ``ConcurrentUpdate`` → 409 ``CONCURRENT_UPDATE``, ``{resourceType, resourceId}``;
* ``AppointmentConflict`` → 409 ``APPOINTMENT_CONFLICT``, ``{field, agentId, conflicts}``;
* ``PreconditionFailed`` → 412 ``PRECONDITION_FAILED``,
  ``{resourceType, resourceId, expectedVersion, currentVersion}``;
* ``PayloadTooLarge``, a body over the limit → 413 ``PAYLOAD_TOO_LARGE``, ``{size, limit}``;
* ``UnsupportedMediaType`` → 415 ``UNSUPPORTED_MEDIA_TYPE``, ``{mimeType, allowed}``;
* ``InvalidStageTransition`` / ``InvalidActionTransition`` → 422 with their code and details;
* ``AssignmentRejected`` → 422 ``VALIDATION_ERROR``, ``[{field, message}]``;
* another ``BusinessRuleViolation`` → 422 ``BUSINESS_RULE_VIOLATION`` with its details;
* ``IdempotencyKeyReused`` → 422 ``IDEMPOTENCY_KEY_REUSED``, ``IdempotencyInProgress`` → 409
  ``IDEMPOTENCY_IN_PROGRESS`` (``{idempotencyKey, committed}``; ``docs/idempotency.md``);
* the database unreachable or unable to serve now (connection refused, reset or timed out, the
  server shutting down or starting up, a pool checkout or statement timeout:
  :func:`~customers_hub.adapters.sql.engine.is_database_unavailable`) → 503
  ``SERVICE_UNAVAILABLE`` with ``Retry-After: 5`` (:data:`RETRY_AFTER_SECONDS`); a database
  error that is not an outage (a constraint, a missing table) stays a 409/500;
* anything else → 500 ``INTERNAL_ERROR``.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import Mapping, Sequence
from typing import Any, Final

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ExceptionHandlersMap

from customers_hub.adapters.metrics import DATABASE_UNAVAILABLE
from customers_hub.adapters.sql.engine import is_database_unavailable
from customers_hub.application.errors import (
    ConcurrentUpdate,
    PayloadTooLarge,
    PreconditionFailed,
    UnsupportedMediaType,
)
from customers_hub.application.idempotency import IdempotencyInProgress, IdempotencyKeyReused
from customers_hub.domain.appointments import AppointmentConflict
from customers_hub.domain.errors import (
    AssignmentRejected,
    BusinessRuleViolation,
    DomainError,
    Duplicate,
    NotFound,
    PermissionDenied,
    UnprocessableInput,
    ValidationFailed,
)
from customers_hub.entrypoints.http.auth import AuthenticationFailed
from customers_hub.entrypoints.http.envelope import REQUEST_ID_HEADER, Meta, current_context, meta

__all__ = [
    "AUTHENTICATION_MESSAGE",
    "RETRY_AFTER_SECONDS",
    "ApiError",
    "ErrorBody",
    "ErrorEnvelope",
    "FieldDetail",
    "error_responses",
    "exception_handlers",
    "to_api_error",
]

LOGGER: Final = logging.getLogger("customers_hub.http")

AUTHENTICATION_MESSAGE: Final = "Invalid or expired authentication token"
_MISSING_FIELD: Final = re.compile(r"Object missing required field `([^`]+)`")
_INTERNAL_MESSAGE: Final = "An unexpected error occurred; quote the request id when reporting it"
_UNAVAILABLE_MESSAGE: Final = "The database is unreachable right now; retry after a few seconds"

RETRY_AFTER_SECONDS: Final = 5
"""``Retry-After`` of a 503: about the time a restarted PostgreSQL takes to accept connections."""

_STATUS_CODES: Final[Mapping[int, tuple[str, str]]] = {
    400: ("VALIDATION_ERROR", "Validation failed for one or more fields"),
    401: ("AUTHENTICATION_FAILED", AUTHENTICATION_MESSAGE),
    403: ("PERMISSION_DENIED", "You don't have permission to do this"),
    404: ("RESOURCE_NOT_FOUND", "Route not found"),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed"),
    409: ("CONFLICT", "Conflict"),
    412: ("PRECONDITION_FAILED", "Precondition failed"),
    413: ("PAYLOAD_TOO_LARGE", "Request body too large"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"),
    422: ("VALIDATION_ERROR", "Unprocessable request"),
    429: ("RATE_LIMIT_EXCEEDED", "Rate limit exceeded. Please try again later."),
    500: ("INTERNAL_ERROR", _INTERNAL_MESSAGE),
    503: ("SERVICE_UNAVAILABLE", "Service temporarily unavailable"),
}

_DESCRIPTIONS: Final[Mapping[int, str]] = {
    400: "Validation error: `details` names each failing field",
    401: "Missing, expired or invalid token (`AUTHENTICATION_FAILED`)",
    403: "Outside the caller's role, permissions or scope (`PERMISSION_DENIED`)",
    404: "Not found, or another organization's (`RESOURCE_NOT_FOUND`)",
    409: (
        "Duplicate (`DUPLICATE_RESOURCE`), concurrent change (`CONCURRENT_UPDATE`) or an "
        "employee already booked then (`APPOINTMENT_CONFLICT`)"
    ),
    412: "`If-Match` names an old version (`PRECONDITION_FAILED`)",
    413: "File or body too large (`PAYLOAD_TOO_LARGE`)",
    415: "File type not accepted (`UNSUPPORTED_MEDIA_TYPE`)",
    422: "A business rule refuses the change",
    500: "Unexpected error (`INTERNAL_ERROR`)",
    503: "The database is unreachable (`SERVICE_UNAVAILABLE`, with `Retry-After`)",
}


class FieldDetail(msgspec.Struct):
    """One failing field of a 400 (camelCase API path)."""

    field: str
    message: str


class ErrorBody(msgspec.Struct):
    """``error`` of the error envelope."""

    code: str
    message: str
    details: list[FieldDetail] | dict[str, Any] | None = None


class ErrorEnvelope(msgspec.Struct):
    """The error envelope of every failure."""

    success: bool
    error: ErrorBody
    meta: Meta


class ApiError(msgspec.Struct):
    """A failure translated for the client: status, code, message and details."""

    status: int
    code: str
    message: str
    details: list[FieldDetail] | dict[str, Any] | None = None


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI ``responses`` of a handler: the error envelope for each of ``statuses``.

    400, 401, 500 and 503 are always listed (every endpoint can answer them).
    """
    wanted = sorted({400, 401, 500, 503, *statuses})
    return {
        status: ResponseSpec(
            data_container=ErrorEnvelope,
            description=_DESCRIPTIONS.get(status, _STATUS_CODES.get(status, ("", "Error"))[1]),
            generate_examples=False,
        )
        for status in wanted
    }


def _fields(errors: Sequence[tuple[str, str]]) -> list[FieldDetail]:
    return [FieldDetail(field=f, message=m) for f, m in errors]


def _domain_error(exc: DomainError) -> ApiError:
    if isinstance(exc, ValidationFailed):
        # Every failing field; UnprocessableInput (a ValidationFailed) is content of the right
        # shape that cannot be used.
        status, message = (
            (422, "The content of one or more fields cannot be used")
            if isinstance(exc, UnprocessableInput)
            else (400, "Validation failed for one or more fields")
        )
        return ApiError(
            status, exc.code, message, _fields([(e.field, e.message) for e in exc.errors])
        )
    if isinstance(exc, AssignmentRejected):
        field = str(exc.details.get("field", "assignedTo"))
        return ApiError(422, exc.code, exc.message, _fields([(field, exc.message)]))
    if isinstance(exc, BusinessRuleViolation):
        # InvalidStageTransition / InvalidActionTransition carry their own code.
        return ApiError(422, exc.code, exc.message, dict(exc.details) or None)
    if isinstance(exc, PermissionDenied):
        return ApiError(
            403,
            exc.code,
            exc.message,
            {"requiredPermission": exc.required_permission, "currentRole": exc.current_role},
        )
    if isinstance(exc, NotFound):
        return ApiError(
            404,
            exc.code,
            str(exc),
            {"resourceType": exc.resource_type, "resourceId": exc.resource_id},
        )
    if isinstance(exc, Duplicate):
        details = _fields([(exc.field, exc.message)]) if exc.field else None
        return ApiError(409, exc.code, exc.message, details)
    if isinstance(exc, AppointmentConflict):
        return ApiError(409, exc.code, exc.message, exc.details)
    if isinstance(exc, ConcurrentUpdate):
        return ApiError(
            409,
            exc.code,
            "The record was changed by another request; read it again and retry",
            {"resourceType": exc.resource_type, "resourceId": exc.resource_id},
        )
    if isinstance(exc, PreconditionFailed):
        return ApiError(
            412,
            exc.code,
            "The record changed since the version named in If-Match",
            {
                "resourceType": exc.resource_type,
                "resourceId": exc.resource_id,
                "expectedVersion": exc.expected_version,
                "currentVersion": exc.current_version,
            },
        )
    if isinstance(exc, IdempotencyKeyReused):
        return ApiError(422, exc.code, str(exc), _fields([("Idempotency-Key", str(exc))]))
    if isinstance(exc, IdempotencyInProgress):
        return ApiError(
            409, exc.code, str(exc), {"idempotencyKey": exc.key, "committed": exc.committed}
        )
    if isinstance(exc, PayloadTooLarge):
        return ApiError(413, exc.code, str(exc), {"size": exc.size, "limit": exc.limit})
    if isinstance(exc, UnsupportedMediaType):
        return ApiError(
            415,
            exc.code,
            "File type not accepted: send a PDF, JPEG, PNG, WebP, HEIC or DOCX file",
            {"mimeType": exc.mime_type or None, "allowed": list(exc.allowed)},
        )
    return ApiError(422, exc.code, str(exc) or "Request refused by a business rule")


def _alias(request: Request[Any, Any, Any] | None, key: str, source: str | None) -> str:
    """The client's name of a parameter Litestar reports by its Python name."""
    if key == "data" and source in (None, "body"):
        return "body"
    if request is None or source not in ("query", "header", "cookie", "path"):
        return key
    try:
        handler = request.route_handler
        parameter = handler.parsed_fn_signature.parameters.get(key)
        if parameter is None:
            # A parameter of one of the handler's dependencies (the list's shared filters).
            for provider in handler.resolve_dependencies().values():
                signature = getattr(provider, "parsed_fn_signature", None)
                found = signature.parameters.get(key) if signature is not None else None
                if found is not None:
                    parameter = found
                    break
    except (AttributeError, KeyError):  # pragma: no cover - no route handler (routing failed)
        return key
    kwarg = getattr(parameter, "kwarg_definition", None) if parameter is not None else None
    alias = getattr(kwarg, source, None) if kwarg is not None else None
    return alias if isinstance(alias, str) and alias else key


def _litestar_validation(
    exc: HTTPException, request: Request[Any, Any, Any] | None
) -> list[FieldDetail]:
    extra = exc.extra
    if isinstance(extra, list) and extra:
        details: list[FieldDetail] = []
        for item in extra:
            if isinstance(item, Mapping):
                key = str(item.get("key") or "body")
                source = item.get("source")
                # Litestar reports the source as a ParamType enum (or a plain string).
                source_name = getattr(source, "value", source)
                field = _alias(request, key, str(source_name) if source_name else None)
                message = str(item.get("message") or "is invalid")
                missing = _MISSING_FIELD.fullmatch(message)
                if missing:
                    # msgspec reports a missing key on its parent object: name the key itself.
                    name = missing.group(1)
                    field = name if field == "body" else f"{field}.{name}"
                    message = "is required"
                details.append(FieldDetail(field, message))
        if details:
            return details
    detail = exc.detail or "is invalid"
    if "JSON" in detail or "json" in detail:
        return [FieldDetail("body", "must be valid JSON")]
    return [FieldDetail("body", detail)]


def to_api_error(exc: BaseException, request: Request[Any, Any, Any] | None = None) -> ApiError:
    """What the client is told about ``exc``."""
    if isinstance(exc, DomainError):
        return _domain_error(exc)
    if isinstance(exc, AuthenticationFailed):
        return ApiError(401, exc.code, AUTHENTICATION_MESSAGE)
    if isinstance(exc, HTTPException):
        status = exc.status_code
        code, message = _STATUS_CODES.get(
            status, ("INTERNAL_ERROR" if status >= 500 else "BAD_REQUEST", exc.detail)
        )
        if status == 400 or isinstance(exc, ValidationException):
            return ApiError(400, "VALIDATION_ERROR", message, _litestar_validation(exc, request))
        if status == 404 and request is not None:
            return ApiError(
                404, code, message, {"resourceType": "route", "resourceId": request.url.path}
            )
        if status == 405:
            allowed = (exc.headers or {}).get("Allow") or (exc.headers or {}).get("allow")
            details = {"allowedMethods": allowed.split(", ")} if allowed else None
            return ApiError(405, code, message, details)
        return ApiError(status, code, message)
    if isinstance(exc, UnicodeDecodeError):
        # Litestar decodes multipart fields without a file name as text: binary bytes sent
        # there (a file part missing its filename) are the client's mistake, not a crash.
        return ApiError(
            400,
            "VALIDATION_ERROR",
            "Validation failed",
            _fields([("body", "a form field is not valid UTF-8 text; send files with a filename")]),
        )
    if is_database_unavailable(exc):
        return ApiError(503, "SERVICE_UNAVAILABLE", _UNAVAILABLE_MESSAGE)
    return ApiError(500, "INTERNAL_ERROR", _INTERNAL_MESSAGE)


def error_response(
    error: ApiError,
    request: Request[Any, Any, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[ErrorEnvelope]:
    """The envelope response of ``error``."""
    envelope = ErrorEnvelope(
        success=False,
        error=ErrorBody(code=error.code, message=error.message, details=error.details),
        meta=meta(request),
    )
    all_headers = {REQUEST_ID_HEADER: envelope.meta.request_id, **(headers or {})}
    return Response(envelope, status_code=error.status, headers=all_headers)


def _log_error(request: Request[Any, Any, Any], error: ApiError, exc: BaseException) -> None:
    context = current_context(request)
    record: dict[str, Any] = {
        "event": "http.error",
        "method": request.method,
        "path": request.url.path,  # never the query string: it may hold a phone or a name
        "status": error.status,
        "code": error.code,
        "requestId": context.request_id,
        "userId": context.user_id,
        "organizationId": context.organization_id,
    }
    if isinstance(exc, AuthenticationFailed):
        record["reason"] = exc.reason
    if error.status == 503:
        # An outage, not a bug: one line per request, no traceback.
        record["exception"] = type(exc).__qualname__
        LOGGER.warning(json.dumps(record, ensure_ascii=False))
    elif error.status >= 500:
        # Frames only: an exception's message (a database error's parameters) may hold personal
        # data, the code locations do not.
        record["exception"] = type(exc).__qualname__
        record["traceback"] = traceback.format_tb(exc.__traceback__)
        LOGGER.error(json.dumps(record, ensure_ascii=False))
    else:
        LOGGER.info(json.dumps(record, ensure_ascii=False))


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorEnvelope]:
    """The one exception handler: translate, log, answer."""
    error = to_api_error(exc, request)
    _log_error(request, error, exc)
    headers: dict[str, str] = {}
    if isinstance(exc, HTTPException) and exc.status_code == 405 and exc.headers:
        headers.update(exc.headers)
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="customers-hub"'
    if error.status == 503:
        DATABASE_UNAVAILABLE.inc()
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return error_response(error, request, headers)


def exception_handlers() -> ExceptionHandlersMap:
    """The app's exception handlers (every exception goes through :func:`handle_exception`)."""
    return {
        DomainError: handle_exception,
        AuthenticationFailed: handle_exception,
        HTTPException: handle_exception,
        Exception: handle_exception,
    }

"""The API document's success envelope and the per-request context behind its ``meta``.

Every success response is ``{"success": true, "data": …, "message"?: …, "meta": {"timestamp",
"requestId"}}``. ``requestId`` echoes the client's ``X-Request-ID`` when it sent a usable one
(else a generated ``req_<hex>``) and is also returned as the ``X-Request-ID`` header.

The request id lives in a :class:`RequestContext` held by a context variable: the middleware
sets it before the handler runs (same task), the ``actor`` dependency adds who is calling, and
the log line and error handlers read it back.
"""

from __future__ import annotations

import re
import secrets
import time
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any, Final, Generic, TypeVar

import msgspec
from attrs import define
from litestar import Response
from litestar.connection import ASGIConnection
from msgspec import UNSET, UnsetType

__all__ = [
    "REQUEST_ID_HEADER",
    "Envelope",
    "Meta",
    "RequestContext",
    "current_context",
    "meta",
    "new_request_id",
    "ok",
    "ok_raw",
    "request_id_for",
    "utc_timestamp",
]

T = TypeVar("T")

REQUEST_ID_HEADER: Final = "X-Request-ID"
# An echoed id goes into headers and logs: printable ASCII without spaces, bounded.
_USABLE_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


@define
class RequestContext:
    """What is known about the current request: its id and, once authenticated, the caller."""

    request_id: str
    user_id: str | None = None
    organization_id: str | None = None
    pending_hit: object | None = None
    """The cached hit path's note of this request to ``cached_read`` (:mod:`.cached_hits`)."""


_SCOPE_KEY: Final = "customers_hub.request_context"
_CONTEXT: ContextVar[RequestContext | None] = ContextVar("customers_hub_request", default=None)


def new_request_id() -> str:
    """A fresh ``req_<hex>`` id."""
    return f"req_{secrets.token_hex(8)}"


def request_id_for(header_value: str | None) -> str:
    """The client's ``X-Request-ID`` when usable, else a generated one."""
    if header_value is not None and _USABLE_REQUEST_ID.fullmatch(header_value):
        return header_value
    return new_request_id()


def current_context(connection: ASGIConnection[Any, Any, Any, Any] | None = None) -> RequestContext:
    """The current request's context.

    Without the middleware (an unknown route is answered before any route middleware runs) it is
    made from the request's headers and kept in the request's scope, never in the context
    variable: a test client may run many requests in one task.
    """
    context = _CONTEXT.get()
    if context is not None:
        return context
    if connection is None:
        return RequestContext(new_request_id())
    state = connection.scope.setdefault("state", {})
    stored = state.get(_SCOPE_KEY)
    if not isinstance(stored, RequestContext):
        stored = RequestContext(request_id_for(connection.headers.get(REQUEST_ID_HEADER)))
        state[_SCOPE_KEY] = stored
    return stored


def bind_context(context: RequestContext) -> Token[RequestContext | None]:
    """Make ``context`` the current one; returns the token to :func:`reset_context` with."""
    return _CONTEXT.set(context)


def reset_context(token: Token[RequestContext | None]) -> None:
    """Undo :func:`bind_context`."""
    _CONTEXT.reset(token)


def utc_timestamp(moment: datetime | None = None) -> str:
    """``moment`` (default: now) as ISO-8601 UTC with ``Z``, to the second."""
    if moment is None:
        return _now_timestamp()
    value = moment.astimezone(UTC).replace(microsecond=0)
    return value.isoformat().replace("+00:00", "Z")


_last_timestamp: tuple[int, str] = (-1, "")


def _now_timestamp() -> str:
    # Every response's meta has one: formatted once per second, not per request.
    global _last_timestamp
    second = int(time.time())
    if _last_timestamp[0] != second:
        moment = datetime.fromtimestamp(second, UTC)
        _last_timestamp = (second, moment.isoformat().replace("+00:00", "Z"))
    return _last_timestamp[1]


class Meta(msgspec.Struct, rename="camel"):
    """``meta`` of every envelope."""

    timestamp: str
    request_id: str


def meta(connection: ASGIConnection[Any, Any, Any, Any] | None = None) -> Meta:
    """The ``meta`` of the current request."""
    return Meta(timestamp=utc_timestamp(), request_id=current_context(connection).request_id)


class Envelope(msgspec.Struct, Generic[T], rename="camel"):
    """The success envelope; ``message`` only where the API document shows one."""

    success: bool
    data: T
    meta: Meta
    message: str | UnsetType = UNSET


def ok(
    data: T,
    *,
    message: str | None = None,
    status: int | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Envelope[T]]:
    """The success response for ``data`` (with ``message`` when given).

    ``status`` defaults to the handler's own status code (``@post`` → 201, others → 200).
    """
    body = Envelope(
        success=True,
        data=data,
        meta=meta(),
        message=message if message is not None else UNSET,
    )
    return Response(body, status_code=status, headers=headers)


_META_ENCODER: Final = msgspec.json.Encoder()


def ok_raw(
    data: bytes, *, status: int | None = None, headers: dict[str, str] | None = None
) -> Response[bytes]:
    """:func:`ok` around ``data``, the JSON of the ``data`` already encoded (a cached body):
    the envelope's bytes are assembled around it, byte for byte what :func:`ok` would encode,
    without encoding the body again."""
    body = b"".join(
        (b'{"success":true,"data":', data, b',"meta":', _META_ENCODER.encode(meta()), b"}")
    )
    return Response(body, status_code=status, headers=headers, media_type="application/json")

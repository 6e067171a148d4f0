"""Request id and one structured log line per request; authentication by default.

The line is JSON on the ``customers_hub.http`` logger (event ``http.request``): method, path
(never the query string), status, ``duration_ms``, ``requestId``, ``userId``, ``organizationId``.
Nothing else of the request goes in: no phones, national ids, e-mails, names or bodies. Errors
get a line of their own from the exception handler (event ``http.error``).

:class:`AuthenticationMiddleware` verifies the bearer token of every HTTP request to a route
that is not in :data:`PUBLIC_ROUTES` — a route added without thinking is protected — and
answers 401 (or 403 for a foreign ``X-Organization-ID``) before any handler runs or any body is
read.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Final

import msgspec
from litestar import Request
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from customers_hub.application.write_context import bind_request_id, reset_request_id
from customers_hub.domain.errors import PermissionDenied
from customers_hub.entrypoints.http.auth import AuthenticationFailed, AuthSettings, authenticate
from customers_hub.entrypoints.http.envelope import (
    REQUEST_ID_HEADER,
    RequestContext,
    bind_context,
    request_id_for,
    reset_context,
)
from customers_hub.entrypoints.http.errors import handle_exception
from customers_hub.entrypoints.http.headers import scope_header
from customers_hub.entrypoints.http.wire import API_PREFIX

__all__ = [
    "LOGGER",
    "PUBLIC_ROUTES",
    "AuthenticationMiddleware",
    "HttpMethods",
    "RequestContextMiddleware",
    "ensure_log_output",
    "route_methods",
]

LOGGER: Final = logging.getLogger("customers_hub.http")
_HEADER: Final = REQUEST_ID_HEADER.lower().encode("latin-1")


def ensure_log_output() -> None:
    """Print the JSON lines to stderr when nobody configured logging (the service run bare).

    When the root logger or ours already has a handler (an embedding service, uvicorn's
    ``--log-config``, pytest), nothing is changed.
    """
    if LOGGER.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.INFO)


class _RequestLine(
    msgspec.Struct, rename="camel", tag_field="event", tag="http.request", kw_only=True
):
    # The log line's keys, in this order, after ``"event": "http.request"``.
    method: str | None
    path: str | None
    status: int
    duration_ms: float = msgspec.field(name="duration_ms")
    request_id: str
    user_id: str | None
    organization_id: str | None


_LINE_ENCODER: Final = msgspec.json.Encoder()


class RequestContextMiddleware:
    """ASGI middleware: binds the :class:`RequestContext`, returns ``X-Request-ID``, logs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        context = RequestContext(request_id_for(scope_header(scope, _HEADER)))
        token = bind_context(context)
        # The writes of this request record its id in the audit trail.
        request_token = bind_request_id(context.request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", ()))
                if not any(bytes(k).lower() == _HEADER for k, _ in headers):
                    headers.append((_HEADER, context.request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            reset_request_id(request_token)
            reset_context(token)
            if LOGGER.isEnabledFor(logging.INFO):  # nothing built for a logger that drops it
                record = _RequestLine(
                    method=scope.get("method"),
                    path=scope.get("path"),
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    request_id=context.request_id,
                    user_id=context.user_id,
                    organization_id=context.organization_id,
                )
                # A record made directly: ``LOGGER.info`` would look up its caller's frame for
                # every request (``findCaller``), which the line's format never shows.
                LOGGER.handle(
                    LOGGER.makeRecord(
                        LOGGER.name,
                        logging.INFO,
                        __file__,
                        0,
                        _LINE_ENCODER.encode(record).decode(),
                        (),
                        None,
                    )
                )


PUBLIC_ROUTES: Final[frozenset[str]] = frozenset(
    {
        "/health",
        "/ready",
        "/metrics",  # Prometheus carries no user token; its own optional token: http/metrics.py
        f"{API_PREFIX}/openapi.json",
        f"{API_PREFIX}/docs",
        f"{API_PREFIX}/docs/openapi.json",
        f"{API_PREFIX}/docs/oauth2-redirect.html",
        f"{API_PREFIX}/docs/{{path}}",
        f"{API_PREFIX}/docs/assets/{{file_path}}",
    }
)
"""The HTTP routes answered without a token, by path template (Litestar's ``path_format``, every
method of the path): liveness and readiness (probes carry no token), the OpenAPI document, and
the Swagger UI page with what it loads (Litestar's docs routes and the Swagger UI files served
from ``/api/v1/docs/assets``). Every other HTTP route of the app, whoever adds it and however,
answers 401 without a valid token (:class:`AuthenticationMiddleware`;
``tests/e2e/test_authentication_default.py`` walks every route). WebSocket connections
(``/api/v1/ws``, and socket.io beside the app) are not HTTP routes: they verify the token in
their own handshake."""


class AuthenticationMiddleware:
    """ASGI middleware: the one authentication step of every HTTP route but
    :data:`PUBLIC_ROUTES`.

    Verifies the bearer token once per request (:func:`~.auth.authenticate`: the
    :class:`~customers_hub.domain.model.Actor` is kept in the scope state, where the ``actor``
    dependency reads it) and answers 401 ``AUTHENTICATION_FAILED`` — or 403 when
    ``X-Organization-ID`` names another organization — through the app's exception handler (the
    same envelope, headers and log line as any error) before the handler or any body is read.

    Built by ``create_app`` inside the rate limiter, which counts the request first under the
    same verified caller (a request without a valid token by client address, so that guessing
    tokens is throttled and a spent budget answers 429 before the 401).
    """

    def __init__(self, app: ASGIApp, *, auth: AuthSettings) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope.get("path_template") in PUBLIC_ROUTES:
            await self.app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope, receive)
        try:
            authenticate(request, self.auth)
        except (AuthenticationFailed, PermissionDenied) as refused:
            response = handle_exception(request, refused)
            handler = scope.get("route_handler")
            encoders = handler.resolve_type_encoders() if handler is not None else None
            answer = response.to_asgi_response(app=None, request=request, type_encoders=encoders)
            await answer(scope, receive, send)
            return
        await self.app(scope, receive, send)


_ALLOW: Final = b"allow"


class HttpMethods:
    """HEAD on every GET route, and an ``Allow`` header that lists exactly the path's methods.

    Wraps the application's ASGI handler, before routing: a ``HEAD`` request runs as ``GET``
    (the same status and headers, ``Content-Length`` and ``ETag`` included) and its body is
    dropped. Litestar 2's generated ``OPTIONS`` answer names only the methods of the first handler
    registered on a path (``OPTIONS, POST`` on a path that has GET too): a later handler of the
    same path rebuilds the route but keeps the first route's OPTIONS handler, bound to the old
    method list (litestar-org/litestar#4169, fixed only in Litestar 3). So the ``Allow`` of
    every answer (OPTIONS and 405) is rewritten from ``methods``, the path template → methods map
    of the final routes, and names ``HEAD`` wherever ``GET`` is.
    """

    def __init__(self, app: ASGIApp, methods: dict[str, frozenset[str]]) -> None:
        self.app = app
        self.methods = methods

    def _allow(self, scope: Scope, listed: bytes) -> bytes:
        template = scope.get("path_template")
        known = self.methods.get(template) if isinstance(template, str) else None
        methods = set(known) if known else {m.strip() for m in listed.decode().split(",")}
        methods.discard("")
        if "GET" in methods:
            methods.add("HEAD")
        return ", ".join(sorted(methods)).encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head:
            scope["method"] = "GET"

        # Only an OPTIONS answer and a 405 carry ``Allow``: other answers pass untouched.
        options = scope["method"] == "OPTIONS"

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start" and (options or message["status"] == 405):
                headers = [
                    (name, self._allow(scope, value) if bytes(name).lower() == _ALLOW else value)
                    for name, value in message.get("headers", ())
                ]
                message = {**message, "headers": headers}
            elif head and message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # the rest of a GET body: nothing of it goes out
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(scope, receive, send_wrapper)


def route_methods(routes: Any) -> dict[str, frozenset[str]]:
    """Path template → every method of the HTTP routes at that path (OPTIONS included)."""
    methods: dict[str, set[str]] = {}
    for route in routes:
        route_methods_ = getattr(route, "methods", None)
        if not route_methods_ or getattr(route, "scope_type", None) != ScopeType.HTTP:
            continue
        for template in {route.path, getattr(route, "path_format", route.path)}:
            methods.setdefault(template, set()).update(str(m) for m in route_methods_)
    return {template: frozenset(found) for template, found in methods.items()}

"""Request id and one structured log line per request.

The line is JSON on the ``customers_hub.http`` logger (event ``http.request``): method, path
(never the query string), status, ``duration_ms``, ``requestId``, ``userId``, ``organizationId``.
Nothing else of the request goes in: no phones, national ids, e-mails, names or bodies. Errors
get a line of their own from the exception handler (event ``http.error``).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Final

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from customers_hub.entrypoints.http.envelope import (
    REQUEST_ID_HEADER,
    RequestContext,
    bind_context,
    request_id_for,
    reset_context,
)

__all__ = [
    "LOGGER",
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


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class RequestContextMiddleware:
    """ASGI middleware: binds the :class:`RequestContext`, returns ``X-Request-ID``, logs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        context = RequestContext(request_id_for(_header(scope, _HEADER)))
        token = bind_context(context)
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
            reset_context(token)
            record: dict[str, Any] = {
                "event": "http.request",
                "method": scope.get("method"),
                "path": scope.get("path"),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "requestId": context.request_id,
                "userId": context.user_id,
                "organizationId": context.organization_id,
            }
            LOGGER.info(json.dumps(record, ensure_ascii=False))


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
            scope["method"] = "GET"  # type: ignore[typeddict-item]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, self._allow(scope, value) if bytes(name).lower() == _ALLOW else value)
                    for name, value in message.get("headers", ())
                ]
                message = {**message, "headers": headers}  # type: ignore[typeddict-item]
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

"""``GET /metrics`` (Prometheus text format) and the request metrics of every HTTP answer.

The endpoint is on :data:`~.middleware.PUBLIC_ROUTES`: Prometheus carries no user JWT. With
``CUSTOMERS_HUB_METRICS_TOKEN`` set (``HubConfig.metrics_token``) it wants
``Authorization: Bearer <that token>`` and answers 401 otherwise; unset, it is open like
``/health`` — expose it only where the scraper reaches it (``docs/operations.md``). The metrics
hold no personal data and no record ids (:mod:`customers_hub.adapters.metrics`).

:class:`RequestMetrics` wraps the app's ASGI handler *before* routing, so every answer is
counted — 404s of unknown paths too (route ``<unmatched>``) — under Litestar's path template,
read from the scope once the router has set it, never the raw path.
"""

from __future__ import annotations

import hmac
import time
from typing import Any, Final

from litestar import Request, Response, get
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from customers_hub.adapters.metrics import (
    CONTENT_TYPE,
    HTTP_REQUEST_DURATION,
    HTTP_REQUESTS,
    HTTP_REQUESTS_IN_PROGRESS,
    UNMATCHED_ROUTE,
    exposition,
)
from customers_hub.entrypoints.bootstrap import Hub
from customers_hub.entrypoints.http.auth import AuthenticationFailed

__all__ = ["METRICS_PATH", "RequestMetrics", "metrics"]

METRICS_PATH: Final = "/metrics"

_KNOWN_METHODS: Final = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)


@get(METRICS_PATH, include_in_schema=False, sync_to_thread=False)
def metrics(request: Request[Any, Any, Any], hub: Hub) -> Response[bytes]:
    """Every metric in the Prometheus text exposition format."""
    expected = hub.config.metrics_token
    if expected is not None:
        scheme, _, given = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), expected.encode()
        ):
            raise AuthenticationFailed("metrics token missing or wrong")
    return Response(exposition(), media_type=CONTENT_TYPE)


class RequestMetrics:
    """ASGI wrapper: counts each HTTP answer by method, route template and status, and times it
    (``customers_hub_http_requests_total``, ``…_http_request_duration_seconds``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # The metrics' children by label values: ``labels()`` validates and looks them up on
        # every call (2 % of a cached read). Bounded: known methods × route templates × statuses.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        method = str(scope.get("method", "GET")).upper()
        if method not in _KNOWN_METHODS:  # an invented method is not a label value
            method = "OTHER"
        status = 500  # no answer started: the server answers 500
        started = time.perf_counter()

        async def send_recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        HTTP_REQUESTS_IN_PROGRESS.inc()
        try:
            await self.app(scope, receive, send_recording)
        finally:
            HTTP_REQUESTS_IN_PROGRESS.dec()
            template = scope.get("path_template")
            route = template if isinstance(template, str) and template else UNMATCHED_ROUTE
            children = self._children.get((method, route, status))
            if children is None:
                children = (
                    HTTP_REQUESTS.labels(method=method, route=route, status=str(status)),
                    HTTP_REQUEST_DURATION.labels(method=method, route=route),
                )
                self._children[(method, route, status)] = children
            children[0].inc()
            children[1].observe(time.perf_counter() - started)

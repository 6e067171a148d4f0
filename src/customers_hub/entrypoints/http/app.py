"""The Litestar application: ``create_app(hub, auth=...)`` wires the HTTP edge to a hub.

Nothing is built at import time. Routes:

* ``/api/v1/...`` — the controllers of :data:`CONTROLLER_MODULES`; each module exposes
  ``ROUTES`` (handlers or Controllers, mounted under ``/api/v1``); a module may also expose
  ``UPLOAD_ROUTES``, mounted with the document size limit instead of the JSON body limit.
* ``GET /health`` (liveness, no auth, no database), ``GET /ready`` (``SELECT 1`` within
  :data:`READY_TIMEOUT`; 503 with ``Retry-After`` when the database is unreachable or the
  service is shutting down), ``GET /metrics`` (Prometheus, :mod:`.metrics`).
* ``GET /api/v1/openapi.json`` (OpenAPI 3.1) and ``GET /api/v1/docs`` (Swagger UI, its assets
  served by the service itself under ``/api/v1/docs/assets``: :mod:`.docs`).

Every HTTP route but :data:`~.middleware.PUBLIC_ROUTES` (health, readiness, the OpenAPI
document, the docs page) is authenticated by one middleware
(:class:`~.middleware.AuthenticationMiddleware`): 401 before any handler runs. Every handler may
ask for ``deps: Dependencies`` (the use cases' first argument), ``actor: Actor`` (the caller the
middleware verified) and ``hub: Hub``.

Bodies are limited to :data:`JSON_BODY_LIMIT` bytes, uploads to the hub's
``max_document_bytes`` plus :data:`MULTIPART_OVERHEAD` (Litestar refuses larger bodies with 413
before reading them when ``Content-Length`` says so, else as soon as the limit is passed).
Responses are gzip-compressed (level :data:`GZIP_LEVEL`) when the client accepts it (brotli
too when the optional ``brotli`` package is installed).

Rate limits (:mod:`~customers_hub.entrypoints.http.ratelimits`) count every API request per user
and category unless the hub's configuration turns them off (``CUSTOMERS_HUB_RATE_LIMITS=off``);
GET responses carry ``ETag``/``Cache-Control`` and read views go through the hub's cache
(:mod:`~customers_hub.entrypoints.http.caching`).
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable
from types import ModuleType
from typing import Any, Final

from litestar import Litestar, Request, Response, Router, get
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Tag
from litestar.types import ControllerRouterHandler
from sqlalchemy import text

from customers_hub import __version__
from customers_hub.adapters.counter_folder import CounterFolder
from customers_hub.adapters.metrics import watch_pool
from customers_hub.adapters.sql.counters import customer_counters
from customers_hub.adapters.sql.tables import action_counters
from customers_hub.application.context import Dependencies
from customers_hub.domain.unset import UNSET, Unset
from customers_hub.entrypoints.bootstrap import Hub
from customers_hub.entrypoints.http import ws
from customers_hub.entrypoints.http.auth import AuthSettings, provide_actor
from customers_hub.entrypoints.http.cached_hits import CachedHits, wire_cached_hits
from customers_hub.entrypoints.http.calendars import CalendarMiddleware, settings_zone
from customers_hub.entrypoints.http.controllers import (
    actions,
    assignment_rules,
    bulk,
    calendar,
    compliance,
    customer_search,
    customer_statistics,
    customers,
    documents,
    duplicates,
    employees,
    erasure,
    exports,
    imports,
    merging,
    privacy,
    relations,
    settings,
    timeline,
    webhooks,
)
from customers_hub.entrypoints.http.docs import docs_assets_router, swagger_assets
from customers_hub.entrypoints.http.errors import RETRY_AFTER_SECONDS, exception_handlers
from customers_hub.entrypoints.http.idempotency import IdempotencyMiddleware
from customers_hub.entrypoints.http.injection import Provider, inject_directly
from customers_hub.entrypoints.http.jobs import snooze_job
from customers_hub.entrypoints.http.metrics import RequestMetrics, metrics
from customers_hub.entrypoints.http.middleware import (
    AuthenticationMiddleware,
    HttpMethods,
    RequestContextMiddleware,
    ensure_log_output,
    route_methods,
)
from customers_hub.entrypoints.http.openapi import finalize_openapi
from customers_hub.entrypoints.http.ratelimits import RateLimitMiddleware, RateLimitPolicy
from customers_hub.entrypoints.http.shutdown import GracefulShutdown
from customers_hub.entrypoints.http.wire import API_PREFIX
from customers_hub.entrypoints.import_worker import ImportWorker

__all__ = [
    "CONTROLLER_MODULES",
    "JSON_BODY_LIMIT",
    "MULTIPART_OVERHEAD",
    "READY_TIMEOUT",
    "api_routes",
    "create_app",
    "served_openapi",
]

CONTROLLER_MODULES: Final[tuple[ModuleType, ...]] = (
    customers,
    customer_search,
    customer_statistics,
    relations,
    documents,
    actions,
    bulk,
    employees,
    exports,
    imports,
    duplicates,
    merging,
    compliance,
    settings,
    webhooks,
    timeline,
    calendar,
    privacy,
    erasure,
    assignment_rules,
)
"""Modules whose ``ROUTES`` (and ``UPLOAD_ROUTES``) are mounted under ``/api/v1``."""

JSON_BODY_LIMIT: Final = 1024 * 1024
"""Largest request body of the JSON endpoints (bytes)."""

MULTIPART_OVERHEAD: Final = 256 * 1024
"""Room for the multipart framing and the text fields around an uploaded file (bytes)."""

READY_TIMEOUT: Final = 3.0
"""Longest ``/ready`` waits for the database before answering 503 (seconds)."""

BEARER_SCHEME: Final = "BearerAuth"

_TAGS: Final = (
    Tag(name="Customers", description="Customers: lifecycle, search, statistics, assignment"),
    Tag(
        name="Relations",
        description="Property interests, interactions, appointments, "
        "reminders and documents of a customer",
    ),
    Tag(name="Actions", description="The requests inbox"),
    Tag(name="Bulk", description="Bulk operations on actions"),
    Tag(name="Employees", description="The sales team"),
    Tag(name="Webhooks", description="Signed HTTP callbacks of the organization's events"),
    Tag(name="Operations", description="Liveness and readiness"),
)


def api_routes(upload_limit: int) -> list[ControllerRouterHandler]:
    """Everything mounted under ``/api/v1``: each controller module's routes, its upload routes
    under their own body limit, and the OpenAPI document."""
    handlers: list[ControllerRouterHandler] = [openapi_json]
    uploads: list[ControllerRouterHandler] = []
    for module in CONTROLLER_MODULES:
        handlers.extend(getattr(module, "ROUTES", []))
        uploads.extend(getattr(module, "UPLOAD_ROUTES", []))
    if uploads:
        handlers.append(
            Router(path="/", route_handlers=uploads, request_max_body_size=upload_limit)
        )
    return handlers


def served_openapi(app: Litestar) -> dict[str, Any]:
    """The OpenAPI document as served: Litestar's, finalized once per app (see
    :mod:`.openapi`) and kept; examples with dates are relative to when it was first served."""
    cached = app.state.get("openapi_document")
    if cached is None:
        cached = finalize_openapi(app.openapi_schema.to_schema())
        app.state["openapi_document"] = cached
    document: dict[str, Any] = cached
    return document


class _TidyJson(JsonRenderPlugin):
    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, served_openapi(request.app))


class _TidySwagger(SwaggerRenderPlugin):
    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, served_openapi(request.app))


@get(
    "/openapi.json",
    include_in_schema=False,
    media_type="application/vnd.oai.openapi+json",
    sync_to_thread=False,
)
def openapi_json(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API."""
    return served_openapi(request.app)


@get(
    "/health", tags=["Operations"], operation_id="health", summary="Liveness", sync_to_thread=False
)
def health() -> dict[str, str]:
    """The process answers (no authentication, no database)."""
    return {"status": "ok"}


@get("/ready", tags=["Operations"], operation_id="ready", summary="Readiness")
async def ready(hub: Hub, state: State) -> Response[dict[str, str]]:
    """The database answers ``SELECT 1`` (200), or not (503); 503 too once the service shuts
    down (load balancers stop sending it requests)."""
    retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    shutdown: GracefulShutdown | None = state.get("shutdown")
    if shutdown is not None and shutdown.draining:
        return Response(
            {"status": "shutting_down", "database": "ok"}, status_code=503, headers=retry
        )
    try:
        async with asyncio.timeout(READY_TIMEOUT), hub.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database means "not ready"
        return Response(
            {"status": "unavailable", "database": "unreachable"}, status_code=503, headers=retry
        )
    return Response({"status": "ready", "database": "ok"})


def _constant(provide: Callable[[], Any]) -> Provider:
    async def given(_: Request[Any, Any, Any]) -> Any:
        return provide()

    return given


# zlib's own default level: Litestar's 9 takes about twice the CPU (0.82 against 0.45 ms for a
# 43 KB page of 20 customers) for a body 4 % smaller (5.1 against 5.3 KB).
GZIP_LEVEL: Final = 6


def _compression() -> CompressionConfig:
    if importlib.util.find_spec("brotli") is not None:  # pragma: no cover - optional package
        return CompressionConfig(
            backend="brotli", gzip_fallback=True, gzip_compress_level=GZIP_LEVEL
        )
    return CompressionConfig(backend="gzip", gzip_compress_level=GZIP_LEVEL)


def create_app(
    hub: Hub,
    *,
    auth: AuthSettings,
    debug: bool = False,
    rate_limits: RateLimitPolicy | None = None,
    snooze_interval: float | Unset | None = UNSET,
) -> Litestar:
    """The HTTP service of ``hub``, verifying tokens with ``auth``.

    Startup runs ``hub.start()`` (the embedded SQLite migrates itself), shutdown
    ``hub.close()``. Rate limits: ``rate_limits`` when given, else the default policy unless
    ``hub.config.rate_limits_enabled`` is false; the buckets are ``hub.rate_limiter``'s. The
    snooze wake-up job runs every ``snooze_interval`` seconds (``None``: not at all), by default
    every ``hub.config.snooze_interval`` (:data:`UNSET`: not given).
    """

    def provide_deps() -> Dependencies:
        return hub.deps

    def provide_hub() -> Hub:
        return hub

    ensure_log_output()
    upload_limit = hub.config.max_document_bytes + MULTIPART_OVERHEAD
    api = Router(
        path=API_PREFIX,
        route_handlers=[*api_routes(upload_limit), *ws.ROUTES],  # ws: /api/v1/ws
        security=[{BEARER_SCHEME: []}],
    )

    interval = hub.config.snooze_interval if snooze_interval is UNSET else snooze_interval
    snoozes = snooze_job(hub, interval)  # wakes passed snoozes (jobs.py)

    policy = rate_limits
    if policy is None and hub.config.rate_limits_enabled:
        policy = RateLimitPolicy()
    # Outermost first. The rate limiter counts a request before the authentication middleware
    # refuses it (a bad token by client address); both read the one verification of the token.
    middleware: list[Any] = [RequestContextMiddleware]
    if policy is not None:
        middleware.append(
            DefineMiddleware(
                RateLimitMiddleware, limiter=hub.rate_limiter, policy=policy, auth=auth
            )
        )
    middleware.append(DefineMiddleware(AuthenticationMiddleware, auth=auth))
    # Idempotency-Key of the writes: after authentication, which names the key's owner.
    middleware.append(
        DefineMiddleware(IdempotencyMiddleware, store=hub.idempotency, max_body=upload_limit)
    )
    # calendar=hijri (Hijri twins and filters, .calendars): innermost, around the compression.
    middleware.append(DefineMiddleware(CalendarMiddleware, zone=settings_zone(provide_deps)))

    state = State({"auth": auth, "hub": hub})
    shutdown = GracefulShutdown(state)
    state["shutdown"] = shutdown
    # Background tasks: objects with async ``start()``/``stop()``, started in this order after
    # the hub, stopped in the reverse order before it (add yours here).
    # The outbox relay and the webhook sender (bootstrap.BackgroundWorkers; none when
    # CUSTOMERS_HUB_OUTBOX_RELAY=off).
    workers = hub.background_workers() if hub.config.outbox.enabled else None
    # The customer import runner (entrypoints/import_worker.py; its own engine, like the relay).
    importer = ImportWorker(hub) if hub.config.outbox.enabled else None
    # Folds the statistics counters' delta rows (adapters/counter_folder.py; list each counter
    # table here). Reads are right without it, only slower as rows pile up.
    folder = (
        CounterFolder(
            (customer_counters, action_counters),
            database_url=hub.config.database_url,  # its own engine, like the import runner
            timeouts=hub.config.db_timeouts,
        )
        if hub.config.outbox.enabled
        else None
    )
    background: list[Any] = [job for job in (snoozes, workers, importer, folder) if job is not None]

    async def start() -> None:
        await hub.start()
        shutdown.install()  # SIGTERM: WebSockets closed with 1001 before the server stops
        for task in background:
            await task.start()

    async def stop() -> None:
        # Graceful shutdown, in this order (the server already finished the requests in flight):
        # 1. not ready, WebSockets closed with 1001 (done already when a signal started it);
        # 2. background tasks, last started first, while the hub can still serve them;
        # 3. the hub: event bus, cache, rate limiter, then the database connections.
        await shutdown.drain()
        try:
            for task in reversed(background):
                await task.stop()
        finally:  # a task failing to stop must not leave the connections open
            await hub.close()
            shutdown.uninstall()

    app = Litestar(
        route_handlers=[api, health, ready, metrics, docs_assets_router()],
        dependencies={
            "deps": Provide(provide_deps, sync_to_thread=False),
            "hub": Provide(provide_hub, sync_to_thread=False),
            "actor": Provide(provide_actor),
        },
        middleware=middleware,
        exception_handlers=exception_handlers(),
        compression_config=_compression(),
        request_max_body_size=JSON_BODY_LIMIT,
        openapi_config=OpenAPIConfig(
            title="Customers Hub API",
            version=__version__,
            description=(
                "Customer management for real-estate teams in Saudi Arabia and the Gulf. "
                "Every response uses the envelope `{success, data, message?, meta}`; errors "
                "`{success: false, error: {code, message, details}, meta}`."
            ),
            path=f"{API_PREFIX}/docs",
            render_plugins=[
                _TidySwagger(path="/", **swagger_assets()),  # type: ignore[arg-type]
                _TidyJson(path="/openapi.json"),
            ],
            components=Components(
                security_schemes={
                    BEARER_SCHEME: SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
            tags=list(_TAGS),
            create_examples=False,
            use_handler_docstrings=True,
        ),
        state=state,
        on_startup=[start],
        on_shutdown=[stop],
        logging_config=None,
        debug=debug,
    )
    # deps, hub and actor handed to the handlers in one call, not through Litestar's
    # per-request Provide resolution (.injection).
    inject_directly(
        app,
        {"deps": _constant(provide_deps), "hub": _constant(provide_hub), "actor": provide_actor},
    )
    # A cached GET view asked again by the same caller: answered from the key its handler made
    # the first time, without parsing the query again (.cached_hits).
    state["cached_hits"] = hits = CachedHits()
    wire_cached_hits(app, hits)
    # HEAD on every GET route and exact Allow headers: before routing, so around the handler.
    app.asgi_handler = HttpMethods(app.asgi_handler, route_methods(app.routes))
    # Outside everything (before routing): every answer counted under its route template.
    app.asgi_handler = RequestMetrics(app.asgi_handler)
    watch_pool(hub.engine)
    return app

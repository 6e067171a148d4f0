"""The composition root: the one place that knows which adapter serves which port.

``build_hub`` is also the embedding API: another Python service builds a hub from a database
URL and calls the use cases with ``hub.deps``, without HTTP::

    async with build_hub("postgresql://hub@db:5432/hub") as hub:
        created = await create_customer(hub.deps, actor, CreateCustomer(draft))
        customer, assignee = created.customer, created.assignee

Tests override providers of :class:`Container` to swap in fakes.

Scaling out: with ``CUSTOMERS_HUB_REDIS_URL`` set, the cache, the rate limiter and the event bus
are the Redis adapters on one shared fail-fast client (``hub.cache``, ``hub.rate_limiter``,
``hub.event_bus``); without it, their in-process counterparts. Every write's events go to the
outbox in its own transaction (:class:`~customers_hub.adapters.sql.outbox.SqlOutboxWriter`);
after the commit, before the use case returns, the event publisher
(:class:`HubEventPublisher`) invalidates the cache tags the events touch and waits for the
outbox relay, which publishes each event's real-time message on the event bus of its
organization (WebSocket fan-out) and creates webhook deliveries. ``hub.background_workers()``
runs the relay and the webhook sender (the HTTP service does in its lifespan);
``hub.events(after=position)`` streams the committed events (``docs/webhooks.md``).
"""

from __future__ import annotations

import asyncio
import logging
import operator
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any, Final, Generic, Self, TypeVar, overload

from dependency_injector import containers, providers
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.cache import InMemoryCache, RedisCache
from customers_hub.adapters.event_wire import invalidation_for, to_outbound
from customers_hub.adapters.events import InProcessEventPublisher
from customers_hub.adapters.import_files import SpreadsheetReader
from customers_hub.adapters.ratelimit import InMemoryRateLimiter, RedisRateLimiter
from customers_hub.adapters.redis_events import EventBus, InProcessEventBus, RedisEventBus
from customers_hub.adapters.redis_support import redis_client
from customers_hub.adapters.relay import OutboxRelay, bus_cursor_name, wait_published
from customers_hub.adapters.sql.action_reads import SqlActionQueries
from customers_hub.adapters.sql.assignment import sql_assignment_rules
from customers_hub.adapters.sql.audit import AuditCommitHook, SqlAuditLog
from customers_hub.adapters.sql.customer_reads import SqlCustomerQueries
from customers_hub.adapters.sql.duplicates import SqlDuplicateQueries
from customers_hub.adapters.sql.employee_reads import SqlEmployeeQueries
from customers_hub.adapters.sql.engine import create_engine, is_sqlite
from customers_hub.adapters.sql.erasure import SqlErasure
from customers_hub.adapters.sql.exports import SqlCustomerExportSource
from customers_hub.adapters.sql.idempotency import SqlIdempotencyStore
from customers_hub.adapters.sql.imports import sql_import_repository
from customers_hub.adapters.sql.merging import sql_merge_store
from customers_hub.adapters.sql.migrate import ensure_schema
from customers_hub.adapters.sql.outbox import LAST_WRITTEN, SqlOutboxWriter, read_after
from customers_hub.adapters.sql.privacy import sql_privacy_repository
from customers_hub.adapters.sql.uow import SqlUnitOfWorkFactory
from customers_hub.adapters.sql.webhooks import sql_webhook_repository
from customers_hub.adapters.storage import LocalDocumentStorage
from customers_hub.adapters.system import PrefixedIdGenerator, SystemClock
from customers_hub.adapters.webhook_sender import SystemHostResolver, WebhookSender
from customers_hub.application.caching import Cache, Invalidation
from customers_hub.application.context import Dependencies, HubSettings
from customers_hub.application.outbox import OutboxRecord, WebhookServices
from customers_hub.application.ports_imports import ImportServices
from customers_hub.application.ports_privacy import PrivacyRepositoryFactory
from customers_hub.application.rate_limits import RateLimiter
from customers_hub.application.use_cases.settings import cached_zone_lookup
from customers_hub.domain.events import DomainEvent
from customers_hub.entrypoints.settings import HubConfig

__all__ = [
    "REDIS_MAX_CONNECTIONS",
    "BackgroundWorkers",
    "Container",
    "Gateways",
    "Hub",
    "HubEventPublisher",
    "build_container",
    "build_hub",
]

logger = logging.getLogger(__name__)

REDIS_MAX_CONNECTIONS: Final = 200
"""Connections of the shared Redis client. Each request in flight holds at most one at a time
(rate limit, then cache); past the bound redis-py refuses a connection, which the adapters take
for an outage, so it is well above the database pool."""


def _redis(cfg: HubConfig) -> Redis | None:
    if not cfg.redis_url:
        return None
    return redis_client(cfg.redis_url, max_connections=REDIS_MAX_CONNECTIONS)


def _cache(redis: Redis | None) -> Cache:
    return InMemoryCache() if redis is None else RedisCache(redis)


def _rate_limiter(redis: Redis | None) -> RateLimiter:
    return InMemoryRateLimiter() if redis is None else RedisRateLimiter(redis)


def _event_bus(redis: Redis | None) -> EventBus:
    return InProcessEventBus() if redis is None else RedisEventBus(redis)


class HubEventPublisher(InProcessEventPublisher):
    """The hub's publisher: after every commit, before the use case returns (so before the HTTP
    response of a write leaves), it

    1. invalidates the cache tags the events touch
       (:func:`~customers_hub.adapters.event_wire.invalidation_for`) — merged per organization,
       one cache call each however many events (a bulk operation of 500 actions is one);
    2. with an ``event_bus`` (a hub without the outbox relay), publishes each event's real-time
       message (:func:`~customers_hub.adapters.event_wire.to_outbound`) on it; the composition
       root gives none: the outbox relay publishes what was committed, once, in order;
    3. wakes the outbox relays this process runs on the hub's database and waits until they
       have published the write's events (each at most ``OutboxSettings.publish_wait``), so
       the response of a write still leaves after its WebSocket messages;
    4. calls the subscribed handlers, as :class:`InProcessEventPublisher` does.

    The Redis adapters never raise on an outage (they fall back); anything else raised here is
    logged and skipped, never failing a use case that already committed.
    """

    def __init__(
        self, cache: Cache, event_bus: EventBus | None = None, *, database_url: str | None = None
    ) -> None:
        super().__init__()
        self.cache = cache
        self.event_bus = event_bus
        self.database_url = database_url
        """The database whose outbox relays a write waits for (None: none)."""

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        """Invalidate, forward, then deliver ``events`` to the subscribed handlers."""
        tags: dict[str, set[str]] = {}
        for event in events:
            invalidation = invalidation_for(event)
            tags.setdefault(invalidation.organization_id, set()).update(invalidation.tags)
        for organization_id, names in tags.items():
            try:
                await self.cache.invalidate(Invalidation(organization_id, frozenset(names)))
            except Exception:
                logger.exception("cache invalidation failed for %s", organization_id)
        if self.event_bus is not None:
            await self._forward(self.event_bus, events)
        position = LAST_WRITTEN.get()
        LAST_WRITTEN.set(None)
        broadcast = any(to_outbound(event) is not None for event in events)
        if self.database_url is not None and position is not None and broadcast:
            try:
                await wait_published(self.database_url, position)
            except Exception:
                logger.exception("waiting for the outbox relay failed")
        await super().publish(events)

    @staticmethod
    async def _forward(bus: EventBus, events: Sequence[DomainEvent]) -> None:
        for event in events:
            outbound = to_outbound(event)
            if outbound is None:
                continue
            try:
                await bus.publish(outbound.organization_id, outbound.to_message())
            except Exception:
                logger.exception("forwarding %s to the event bus failed", event.name)


class Gateways(containers.DeclarativeContainer):
    """Connections to the outside: the database engine and the optional Redis client."""

    config = providers.Dependency(instance_of=HubConfig)
    engine = providers.Singleton(
        lambda cfg: create_engine(
            cfg.database_url, pool_size=cfg.db_pool_size, timeouts=cfg.db_timeouts
        ),
        config,
    )
    redis = providers.Singleton(_redis, config)
    """One fail-fast client shared by the cache, the rate limiter and the event bus (or None)."""


class Container(containers.DeclarativeContainer):
    """Adapters wired to the application's ports."""

    config = providers.Dependency(instance_of=HubConfig)
    gateways = providers.Container(Gateways, config=config)

    settings = providers.Singleton(
        lambda cfg: HubSettings(time_zone=cfg.tz, max_document_bytes=cfg.max_document_bytes),
        config,
    )
    uow = providers.Singleton(
        lambda engine, cfg: SqlUnitOfWorkFactory(engine, cfg.tz), gateways.engine, config
    )
    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(PrefixedIdGenerator)
    cache = providers.Singleton(_cache, gateways.redis)
    rate_limiter = providers.Singleton(_rate_limiter, gateways.redis)
    event_bus = providers.Singleton(_event_bus, gateways.redis)
    # Invalidates the cache after every commit and wakes the outbox relay (HubEventPublisher);
    # the relay feeds the event bus. Overriding it replaces that too.
    publisher = providers.Singleton(
        lambda cache, cfg: HubEventPublisher(cache, database_url=cfg.database_url), cache, config
    )
    customer_queries = providers.Singleton(SqlCustomerQueries, gateways.engine)
    action_queries = providers.Singleton(SqlActionQueries, gateways.engine)
    employee_queries = providers.Singleton(SqlEmployeeQueries, gateways.engine)
    export_source = providers.Singleton(SqlCustomerExportSource, gateways.engine)
    # Customer imports (issue 12): jobs and batches on the unit of work, CSV/XLSX reading.
    import_services = providers.Singleton(
        lambda: ImportServices(repositories=sql_import_repository, reader=SpreadsheetReader())
    )
    duplicate_queries = providers.Singleton(SqlDuplicateQueries, gateways.engine)
    storage = providers.Singleton(lambda cfg: LocalDocumentStorage(cfg.documents_dir), config)
    # Idempotency keys (application/idempotency.py); its commit hook marks a keyed write's claim.
    idempotency = providers.Singleton(SqlIdempotencyStore, uow, clock)
    # The transactional outbox: every write's events, inserted by a commit hook in its own
    # transaction; the relay (one per instance, one at a time per cursor) feeds the event bus,
    # the cache and the webhooks from it (adapters/relay.py, adapters/webhook_sender.py).
    outbox_writer = providers.Singleton(SqlOutboxWriter, ids)
    # The audit trail (adapters/sql/audit.py): its commit hook appends each write's entries.
    audit_hook = providers.Singleton(AuditCommitHook, clock, ids)
    audit_log = providers.Singleton(SqlAuditLog, gateways.engine)
    # Rules §8 erasure: the relations' statements and the freed space (adapters/sql/erasure.py).
    erasure = providers.Singleton(SqlErasure, gateways.engine)
    bus_cursor = providers.Singleton(
        lambda cfg: bus_cursor_name(cfg.redis_url, uuid.uuid4().hex), config
    )
    webhook_services = providers.Singleton(
        lambda cfg: WebhookServices(
            repositories=sql_webhook_repository,
            resolver=SystemHostResolver(),
            allow_private=cfg.webhooks.allow_private,
            policy=cfg.webhooks.policy,
        ),
        config,
    )
    webhook_sender = providers.Factory(
        lambda cfg, clock: WebhookSender(
            database_url=cfg.database_url, clock=clock, settings=cfg.webhooks
        ),
        config,
        clock,
    )
    outbox_relay = providers.Factory(
        lambda cfg, cursor, bus, cache, ids, clock: OutboxRelay(
            database_url=cfg.database_url,
            bus_cursor=cursor,
            event_bus=bus,
            cache=cache,
            ids=ids,
            clock=clock,
            settings=cfg.outbox,
        ),
        config,
        bus_cursor,
        event_bus,
        cache,
        ids,
        clock,
    )

    # Each organization's time zone (rules §9) through the cache, invalidated by a settings change.
    zone_lookup = providers.Singleton(
        lambda cache, uow, cfg: cached_zone_lookup(cache, uow, cfg.tz), cache, uow, config
    )

    # Not named `dependencies`: that name is taken by DeclarativeContainer itself.
    use_case_dependencies = providers.Singleton(
        Dependencies,
        uow=uow,
        clock=clock,
        ids=ids,
        publisher=publisher,
        customer_queries=customer_queries,
        action_queries=action_queries,
        employee_queries=employee_queries,
        storage=storage,
        settings=settings,
        export_source=export_source,
        duplicate_queries=duplicate_queries,
        assignment_rules=providers.Object(sql_assignment_rules),
        merges=providers.Object(sql_merge_store),
        privacy=providers.Object(sql_privacy_repository),
        erasure=erasure,
        audit=audit_log,
        webhooks=webhook_services,
        imports=import_services,
        zone_lookup=zone_lookup,
        # Run in every write's transaction, in order (application.context.CommitHook).
        commit_hooks=providers.Callable(
            tuple, providers.List(idempotency.provided.mark_committed, outbox_writer, audit_hook)
        ),
    )


T = TypeVar("T")


class _FromContainer(Generic[T]):
    """A read-only :class:`Hub` attribute: what the container's provider at ``path`` gives."""

    def __init__(self, path: str) -> None:
        self._provider = operator.attrgetter(path)

    @overload
    def __get__(self, hub: None, owner: type[Hub]) -> Self: ...

    @overload
    def __get__(self, hub: Hub, owner: type[Hub]) -> T: ...

    def __get__(self, hub: Hub | None, owner: type[Hub]) -> T | Self:
        if hub is None:
            return self
        value: T = self._provider(hub.container)()
        return value


class Hub:
    """A built Customers Hub: its dependencies for the use cases, and its lifecycle."""

    def __init__(self, container: Container, config: HubConfig) -> None:
        self.container = container
        self.config = config

    deps = _FromContainer[Dependencies]("use_case_dependencies")
    """What every use case takes as its first argument."""
    engine = _FromContainer[AsyncEngine]("gateways.engine")
    """The database engine (for health checks and tests)."""
    publisher = _FromContainer[InProcessEventPublisher]("publisher")
    """The in-process event bus: subscribe handlers to receive events after commit."""
    cache = _FromContainer[Cache]("cache")
    """The application cache (Redis when configured, else in-process)."""
    erasure = _FromContainer[SqlErasure]("erasure")
    """The erasure's store and space reclaim (``deps.erasure``)."""
    audit_log = _FromContainer[SqlAuditLog]("audit_log")
    """The audit trail: customers' timelines, and masking a customer's entries."""
    idempotency = _FromContainer[SqlIdempotencyStore]("idempotency")
    """Idempotency keys: ``run_once(hub.idempotency, ...)`` and the HTTP middleware."""
    rate_limiter = _FromContainer[RateLimiter]("rate_limiter")
    """The rate-limit buckets (Redis when configured, else in-process)."""
    event_bus = _FromContainer[EventBus]("event_bus")
    """Real-time messages per organization (Redis pub/sub when configured, else in-process);
    every committed domain event with a real-time form is published here."""
    imports = _FromContainer[ImportServices]("import_services")
    """The import jobs' repositories and file reader (``deps.imports``; the import runner's)."""
    webhooks = _FromContainer[WebhookServices]("webhook_services")
    """The webhooks' repositories, host resolver and policy (``deps.webhooks``)."""

    @property
    def privacy(self) -> PrivacyRepositoryFactory:
        """The consents' and privacy requests' repository factory (``deps.privacy``)."""
        return sql_privacy_repository

    def background_workers(self) -> BackgroundWorkers:
        """A new outbox relay and webhook sender for this process (not started); the HTTP
        service starts and stops them with its lifespan, an embedding service with
        ``async with hub.background_workers():``."""
        relay: OutboxRelay = self.container.outbox_relay()
        sender: WebhookSender = self.container.webhook_sender()
        return BackgroundWorkers(relay, sender)

    async def events(
        self,
        after: int = 0,
        *,
        organization_id: str | None = None,
        poll_interval: float = 0.25,
        batch_size: int = 500,
    ) -> AsyncIterator[OutboxRecord]:
        """Every committed event after position ``after``, in order, then each new one as it
        commits (polling every ``poll_interval`` seconds); endless — break out of it.

        Each record carries its ``position``: store the last one handled and pass it back as
        ``after`` to resume. Events are kept :attr:`OutboxSettings.retention` (7 days) once
        relayed; a consumer further behind misses the pruned ones.
        """
        position = after
        while True:
            async with self.engine.connect() as connection:
                records = await read_after(
                    connection, position, limit=batch_size, organization_id=organization_id
                )
            for record in records:
                position = record.position
                yield record
            if len(records) < batch_size:
                await asyncio.sleep(poll_interval)

    async def start(self, *, migrate: bool | None = None) -> Self:
        """Prepare storage. The embedded SQLite default migrates itself; PostgreSQL is
        migrated by ``customers-hub db upgrade`` unless ``migrate=True``."""
        if migrate or (migrate is None and is_sqlite(self.config.database_url)):
            await ensure_schema(self.config.database_url)
        self.config.documents_dir.mkdir(parents=True, exist_ok=True)
        return self

    async def close(self) -> None:
        """Close the event bus (its subscriptions end), the cache and the rate limiter (and so
        the shared Redis client), then release the database connections. Final for the Redis
        event bus: build a new hub to serve again."""
        for name in ("event_bus", "cache", "rate_limiter"):
            try:
                await getattr(self, name).aclose()
            except Exception:  # closing must go on: the engine still has to be released
                logger.exception("closing the %s failed", name)
        await self.engine.dispose()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class BackgroundWorkers:
    """The outbox relay and the webhook sender of one process, started and stopped together.

    The relay is woken after every commit of this process (the publisher waits for it) and
    tells the sender when it created deliveries; both poll otherwise.
    """

    def __init__(self, relay: OutboxRelay, sender: WebhookSender) -> None:
        self.relay = relay
        self.sender = sender
        relay.on_deliveries = sender.wake

    async def start(self) -> None:
        """Start the sender, then the relay (in the running event loop)."""
        await self.sender.start()
        await self.relay.start()

    async def stop(self) -> None:
        """Stop the relay, then the sender (requests in flight are cancelled; their leases
        expire and they are sent again)."""
        await self.relay.stop()
        await self.sender.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


def build_container(config: HubConfig, **overrides: Any) -> Container:
    """The container for ``config``; keyword overrides replace providers (tests, embedding)."""
    container = Container(config=config)
    for name, value in overrides.items():
        getattr(container, name).override(providers.Object(value))
    return container


def build_hub(database_url: str | None = None, *, config: HubConfig | None = None) -> Hub:
    """A hub on ``database_url`` (or the environment's configuration, or the embedded default)."""
    cfg = config or HubConfig.from_env(database_url=database_url)
    return Hub(build_container(cfg), cfg)

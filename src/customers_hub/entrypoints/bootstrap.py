"""The composition root: the one place that knows which adapter serves which port.

``build_hub`` is also the embedding API: another Python service builds a hub from a database
URL and calls the use cases with ``hub.deps``, without HTTP::

    async with build_hub("postgresql://hub@db:5432/hub") as hub:
        customer = await create_customer(hub.deps, actor, CreateCustomer(draft))

Tests override providers of :class:`Container` to swap in fakes.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from dependency_injector import containers, providers
from sqlalchemy.ext.asyncio import AsyncEngine

from customers_hub.adapters.events import InProcessEventPublisher
from customers_hub.adapters.sql.engine import create_engine, is_sqlite
from customers_hub.adapters.sql.migrate import ensure_schema
from customers_hub.adapters.sql.queries import (
    SqlActionQueries,
    SqlCustomerQueries,
    SqlEmployeeQueries,
)
from customers_hub.adapters.sql.uow import SqlUnitOfWorkFactory
from customers_hub.adapters.storage import LocalDocumentStorage
from customers_hub.adapters.system import PrefixedIdGenerator, SystemClock
from customers_hub.application.context import Dependencies, HubSettings
from customers_hub.entrypoints.settings import HubConfig


class Gateways(containers.DeclarativeContainer):
    """Connections to the outside: the database engine."""

    config = providers.Dependency(instance_of=HubConfig)
    engine = providers.Singleton(
        lambda cfg: create_engine(cfg.database_url, pool_size=cfg.db_pool_size), config
    )


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
    publisher = providers.Singleton(InProcessEventPublisher)
    customer_queries = providers.Singleton(SqlCustomerQueries, gateways.engine)
    action_queries = providers.Singleton(SqlActionQueries, gateways.engine)
    employee_queries = providers.Singleton(SqlEmployeeQueries, gateways.engine)
    storage = providers.Singleton(lambda cfg: LocalDocumentStorage(cfg.documents_dir), config)

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
    )


class Hub:
    """A built Customers Hub: its dependencies for the use cases, and its lifecycle."""

    def __init__(self, container: Container, config: HubConfig) -> None:
        self.container = container
        self.config = config

    @property
    def deps(self) -> Dependencies:
        """What every use case takes as its first argument."""
        deps: Dependencies = self.container.use_case_dependencies()
        return deps

    @property
    def engine(self) -> AsyncEngine:
        """The database engine (for health checks and tests)."""
        engine: AsyncEngine = self.container.gateways.engine()
        return engine

    @property
    def publisher(self) -> InProcessEventPublisher:
        """The in-process event bus: subscribe handlers to receive events after commit."""
        publisher: InProcessEventPublisher = self.container.publisher()
        return publisher

    async def start(self, *, migrate: bool | None = None) -> Self:
        """Prepare storage. The embedded SQLite default migrates itself; PostgreSQL is
        migrated by ``customers-hub db upgrade`` unless ``migrate=True``."""
        if migrate or (migrate is None and is_sqlite(self.config.database_url)):
            await ensure_schema(self.config.database_url)
        self.config.documents_dir.mkdir(parents=True, exist_ok=True)
        return self

    async def close(self) -> None:
        """Release the database connections."""
        await self.engine.dispose()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


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

"""Fake clock, ids, publisher, storage and queries; seeded staff and the fake dependencies."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from attrs import frozen

from customers_hub.application.context import Dependencies, HubSettings
from customers_hub.application.queries import (
    ActionListQuery,
    ActionStats,
    CustomerListQuery,
    CustomerStats,
    EmployeeWorkload,
    FilterOptions,
    Page,
    SearchQuery,
    SearchResult,
    StatsWindow,
)
from customers_hub.domain.access import ScopeFilter
from customers_hub.domain.enums import Role
from customers_hub.domain.events import DomainEvent
from customers_hub.domain.model import (
    Customer,
    CustomerAction,
    Employee,
)
from customers_hub.testing.fakes.store import (
    DEFAULT_NOW,
    FakeUnitOfWorkFactory,
    InMemoryStore,
)


class FixedClock:
    """A clock that shows a set instant until it is moved."""

    def __init__(self, now: datetime = DEFAULT_NOW) -> None:
        self._now = _aware_utc(now)

    def now(self) -> datetime:
        """The current (fixed) instant, aware UTC."""
        return self._now

    def set(self, now: datetime) -> None:
        """Move the clock to ``now`` (must be timezone-aware)."""
        self._now = _aware_utc(now)

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta``; returns the new instant."""
        self._now = self._now + delta
        return self._now


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("FixedClock needs a timezone-aware datetime")
    return value.astimezone(UTC)


class SequentialIds:
    """Predictable ids: ``cust_000001``, ``cust_000002``, ``action_000001``, … (one counter per
    prefix)."""

    def __init__(self) -> None:
        self._counters: dict[str, int] = {}

    def new_id(self, prefix: str) -> str:
        """The next id for ``prefix``."""
        n = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = n
        return f"{prefix}_{n:06d}"


class RecordingPublisher:
    """Keeps published events in order; ``batches`` keeps each ``publish`` call apart.

    ``on_publish`` (optional) is called with each batch before it is recorded — a test can use it
    to look at the store at the moment of publishing (events must come after the commit).
    """

    def __init__(self, on_publish: Callable[[list[DomainEvent]], None] | None = None) -> None:
        self.events: list[DomainEvent] = []
        self.batches: list[list[DomainEvent]] = []
        self.on_publish = on_publish

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        """Record ``events``."""
        batch = list(events)
        if self.on_publish is not None:
            self.on_publish(batch)
        self.batches.append(batch)
        self.events.extend(batch)

    def names(self) -> list[str]:
        """The wire names of the published events, in order."""
        return [e.name for e in self.events]

    def clear(self) -> None:
        """Forget what was published so far."""
        self.events.clear()
        self.batches.clear()


class InMemoryDocumentStorage:
    """:class:`~customers_hub.application.ports.DocumentStorage` in a dict (not transactional).

    ``fail_puts`` makes the next ``put`` calls raise ``OSError`` (a full disk, say).
    """

    def __init__(self, blobs: dict[str, bytes] | None = None) -> None:
        self.blobs: dict[str, bytes] = {} if blobs is None else blobs
        self.fail_puts = 0

    async def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``."""
        if self.fail_puts > 0:
            self.fail_puts -= 1
            raise OSError("injected storage failure")
        self.blobs[key] = bytes(data)

    async def get(self, key: str) -> bytes | None:
        """The bytes under ``key``, or None."""
        return self.blobs.get(key)

    async def delete(self, key: str) -> None:
        """Remove ``key`` (no error when absent)."""
        self.blobs.pop(key, None)


class UnavailableQueries:
    """Base of the read-side placeholders: every method raises ``NotImplementedError``.

    Read-side use cases are tested against SQLite, not against fakes.
    """

    def _unavailable(self, what: str) -> NoReturn:
        raise NotImplementedError(
            f"{type(self).__name__}.{what}: read-side queries are not faked; test against SQLite"
        )


class UnavailableCustomerQueries(UnavailableQueries):
    """A :class:`~customers_hub.application.ports.CustomerQueries` that is not available."""

    async def list(self, query: CustomerListQuery) -> Page[Customer]:
        """Not available."""
        self._unavailable("list")

    async def list_with_assignees(
        self, query: CustomerListQuery
    ) -> tuple[Page[Customer], dict[str, Employee]]:
        """Not available."""
        self._unavailable("list_with_assignees")

    async def search(self, query: SearchQuery) -> SearchResult[Customer]:
        """Not available."""
        self._unavailable("search")

    async def stats(
        self, scope: ScopeFilter, window: StatsWindow, group_by: str | None
    ) -> CustomerStats:
        """Not available."""
        self._unavailable("stats")

    async def filter_options(self, scope: ScopeFilter) -> FilterOptions:
        """Not available."""
        self._unavailable("filter_options")


class UnavailableActionQueries(UnavailableQueries):
    """An :class:`~customers_hub.application.ports.ActionQueries` that is not available."""

    async def list(self, query: ActionListQuery) -> Page[CustomerAction]:
        """Not available."""
        self._unavailable("list")

    async def stats(
        self, scope: ScopeFilter, window: StatsWindow, assigned_to: str | None
    ) -> ActionStats:
        """Not available."""
        self._unavailable("stats")


class UnavailableEmployeeQueries(UnavailableQueries):
    """An :class:`~customers_hub.application.ports.EmployeeQueries` that is not available."""

    async def list(
        self, organization_id: str, *, role: str | None, is_active: bool | None
    ) -> list[Employee]:
        """Not available."""
        self._unavailable("list")

    async def workloads(
        self, organization_id: str, ids: Sequence[str], window: StatsWindow
    ) -> dict[str, EmployeeWorkload]:
        """Not available."""
        self._unavailable("workloads")


@frozen
class Staff:
    """One organization's seeded employees: an admin, a sales manager with one agent in the
    team, an agent outside the team (no manager), a viewer, and an inactive agent."""

    admin: Employee
    manager: Employee
    agent: Employee
    outsider: Employee
    viewer: Employee
    inactive: Employee

    @property
    def organization_id(self) -> str:
        """The organization of everyone here."""
        return self.admin.organization_id


def seed_staff(store: InMemoryStore, organization_id: str, *, prefix: str = "emp") -> Staff:
    """Put a :class:`Staff` of ``organization_id`` into the committed store.

    Ids are ``{prefix}_admin``, ``{prefix}_manager``, ``{prefix}_agent``, ``{prefix}_outsider``,
    ``{prefix}_viewer`` and ``{prefix}_inactive``.
    """

    def person(key: str, role: Role, name: str, **kw: Any) -> Employee:
        return store.put_employee(
            Employee(
                id=f"{prefix}_{key}",
                organization_id=organization_id,
                name=name,
                role=role,
                **kw,
            )
        )

    manager = person("manager", Role.SALES_MANAGER, "سارة المدير")
    return Staff(
        admin=person("admin", Role.ADMIN, "نورة المشرفة"),
        manager=manager,
        agent=person("agent", Role.SALES_AGENT, "أحمد السعيد", manager_id=manager.id),
        outsider=person("outsider", Role.SALES_AGENT, "خالد الحربي"),
        viewer=person("viewer", Role.VIEWER, "ريم المساعدة", manager_id=manager.id),
        inactive=person(
            "inactive", Role.SALES_AGENT, "فهد السابق", manager_id=manager.id, is_active=False
        ),
    )


def build_fake_dependencies(
    *,
    store: InMemoryStore | None = None,
    now: datetime = DEFAULT_NOW,
    settings: HubSettings | None = None,
    publisher: RecordingPublisher | None = None,
) -> tuple[Dependencies, InMemoryStore, RecordingPublisher, FixedClock]:
    """Dependencies on in-memory fakes: ``(deps, store, publisher, clock)``.

    ``deps.uow`` is a :class:`FakeUnitOfWorkFactory`, ``deps.ids`` a :class:`SequentialIds`,
    ``deps.storage`` an :class:`InMemoryDocumentStorage` writing into ``store.blobs``; the query
    ports are :class:`UnavailableQueries`.
    """
    store = InMemoryStore() if store is None else store
    publisher = RecordingPublisher() if publisher is None else publisher
    clock = FixedClock(now)
    deps = Dependencies(
        uow=FakeUnitOfWorkFactory(store),
        clock=clock,
        ids=SequentialIds(),
        publisher=publisher,
        customer_queries=UnavailableCustomerQueries(),
        action_queries=UnavailableActionQueries(),
        employee_queries=UnavailableEmployeeQueries(),
        storage=InMemoryDocumentStorage(store.blobs),
        settings=HubSettings() if settings is None else settings,
    )
    return deps, store, publisher, clock

"""What every use case receives, and the one way a use case runs a transaction.

A use case is a plain async function ``(deps, actor, command) -> result``. Writes go through
:func:`transaction`: load, apply domain rules, save, commit — then publish the events. A
``ConcurrentUpdate`` (another request changed the same record first) reruns the whole unit of
work against fresh data, a few times, so no update is lost and rules are re-checked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import date, tzinfo
from typing import TypeVar
from zoneinfo import ZoneInfo

from attrs import field, frozen

from customers_hub.application.errors import ConcurrentUpdate
from customers_hub.application.outbox import WebhookServices
from customers_hub.application.ports import (
    ActionQueries,
    Clock,
    CustomerQueries,
    DocumentStorage,
    EmployeeQueries,
    EventPublisher,
    IdGenerator,
    UnitOfWork,
    UnitOfWorkFactory,
)
from customers_hub.application.ports_assignment import AssignmentRuleRepositoryFactory
from customers_hub.application.ports_audit import AuditLog
from customers_hub.application.ports_imports import ImportServices
from customers_hub.application.ports_merging import MergeStoreFactory
from customers_hub.application.ports_operations import CustomerExportSource, DuplicateQueries
from customers_hub.application.ports_privacy import ErasurePort, PrivacyRepositoryFactory
from customers_hub.domain.events import DomainEvent

R = TypeVar("R")
P = TypeVar("P")

ZoneLookup = Callable[[str], Awaitable[tzinfo]]
"""An organization's time zone by its id (rules §9); the composition root caches it."""

CommitHook = Callable[[UnitOfWork, Sequence[DomainEvent]], Awaitable[None]]
"""Runs inside a write's transaction just before it commits, with the events it produced:
what must be durable with the write (the outbox, the audit trail, an idempotency key's claim)
is written here. Raising rolls the whole write back."""

MAX_ATTEMPTS = 3


@frozen
class HubSettings:
    """Organization-independent settings of the use cases."""

    time_zone: tzinfo = field(factory=lambda: ZoneInfo("Asia/Riyadh"))
    max_document_bytes: int = 20 * 1024 * 1024
    property_match_limit: int = 5


@frozen
class Dependencies:
    """The ports a use case may use; built once by the composition root."""

    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    publisher: EventPublisher
    customer_queries: CustomerQueries
    action_queries: ActionQueries
    employee_queries: EmployeeQueries
    storage: DocumentStorage
    settings: HubSettings = field(factory=HubSettings)
    # Sales-team operations (ports_operations); None where no adapter serves them.
    export_source: CustomerExportSource | None = None
    duplicate_queries: DuplicateQueries | None = None
    # Assignment rules (rules §10); None: new customers are never assigned by rule.
    assignment_rules: AssignmentRuleRepositoryFactory | None = None
    # Customer merges (rules §10, ports_merging); None: merge and unmerge are unavailable.
    merges: MergeStoreFactory | None = None
    # Consents and data-subject requests (rules §8, ports_privacy), the erasure's store, and the
    # audit trail's reads; None: those use cases are unavailable.
    privacy: PrivacyRepositoryFactory | None = None
    erasure: ErasurePort | None = None
    audit: AuditLog | None = None
    # Webhooks (application.outbox) and customer imports (ports_imports); None: unavailable.
    webhooks: WebhookServices | None = None
    imports: ImportServices | None = None
    # Written in every write's own transaction, in order (see ``CommitHook``).
    commit_hooks: tuple[CommitHook, ...] = ()
    # How an organization's time zone is found; None reads its settings row each time.
    zone_lookup: ZoneLookup | None = None

    def local_today(self) -> date:
        """Today in the deployment's configured time zone (the default of organizations
        without settings); use :meth:`today_of` where an organization is known."""
        return self.clock.now().astimezone(self.settings.time_zone).date()

    async def zone_of(self, organization_id: str) -> tzinfo:
        """The time zone of ``organization_id`` (rules §9: stored settings, else the
        deployment's default): its "today", due-date buckets and statistics follow it."""
        if self.zone_lookup is not None:
            return await self.zone_lookup(organization_id)
        return await read_zone(self.uow, organization_id, self.settings.time_zone)

    async def today_of(self, organization_id: str) -> date:
        """Today in the time zone of ``organization_id``."""
        zone = await self.zone_of(organization_id)
        return self.clock.now().astimezone(zone).date()


def present(port: P | None, name: str) -> P:
    """``port``, the ``Dependencies`` field ``name``; a :class:`RuntimeError` naming it when this
    hub was built without it (a composition error, not a request's)."""
    if port is None:
        raise RuntimeError(f"this hub has no {name} (Dependencies.{name})")
    return port


async def read_zone(uow: UnitOfWorkFactory, organization_id: str, default: tzinfo) -> tzinfo:
    """The stored time zone of ``organization_id``, or ``default`` (one primary-key read)."""
    async with uow(read_only=True) as unit:
        stored = await unit.organization_settings.get(organization_id)
    return stored.settings.zone if stored is not None else default


Work = Callable[[UnitOfWork], Awaitable[tuple[R, Sequence[DomainEvent]]]]


async def transaction(deps: Dependencies, work: Work[R]) -> R:
    """Run ``work`` in one unit of work, commit, then publish its events.

    ``work`` must not commit; it returns its result and the events to publish. Nothing is
    published when it raises (the transaction is rolled back). On ``ConcurrentUpdate`` the
    whole ``work`` is run again on a fresh unit of work, up to :data:`MAX_ATTEMPTS` times.
    """
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            async with deps.uow() as uow:
                result, events = await work(uow)
                for hook in deps.commit_hooks:
                    await hook(uow, events)
                await uow.commit()
        except ConcurrentUpdate:
            if attempt == MAX_ATTEMPTS:
                raise
            continue
        if events:
            await deps.publisher.publish(list(events))
        return result
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


async def delete_stored_files(storage: DocumentStorage, keys: Iterable[str]) -> None:
    """Delete the stored bytes under ``keys`` once their records are gone (after the commit);
    a key that fails to go is left behind, unreachable: no record names it any more."""
    for key in keys:
        try:
            await storage.delete(key)
        except OSError:
            continue

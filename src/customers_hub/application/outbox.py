"""Ports and records of the transactional outbox and of webhooks.

Every committed domain event is written to the outbox in the write's own transaction (a
:data:`~customers_hub.application.context.CommitHook`); a relay then feeds the event bus and
the webhooks from it, in order, and embedding services read it as a stream
(``Hub.events(after=position)``). The records here are what they read; the ports are what the
webhook use cases need from the SQL adapter and from the network (host resolution).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from attrs import field, frozen

from customers_hub.application.ports import UnitOfWork
from customers_hub.application.queries import Page
from customers_hub.domain.webhooks import (
    DeliveryStatus,
    IpAddress,
    RetryPolicy,
    Webhook,
    WebhookDelivery,
)

__all__ = [
    "HostResolver",
    "OutboxRecord",
    "WebhookRepository",
    "WebhookRepositoryFactory",
    "WebhookServices",
]


@frozen(kw_only=True)
class OutboxRecord:
    """One committed event as the outbox keeps it.

    ``position`` increases with every event and is the resume point of a stream;
    ``payload`` is ``{id, event, organizationId, timestamp, data}`` (what a webhook receives,
    ``data`` as the WebSocket event's).
    """

    position: int
    event_id: str
    organization_id: str
    event: str
    payload: Mapping[str, Any]
    occurred_at: datetime


class WebhookRepository(Protocol):
    """An organization's webhooks and their deliveries, inside one unit of work."""

    async def add(self, webhook: Webhook) -> None:
        """Store a new hook."""
        ...

    async def get(self, organization_id: str, webhook_id: str) -> Webhook | None:
        """The hook, or ``None`` when absent or another organization's."""
        ...

    async def list(self, organization_id: str, *, page: int, limit: int) -> Page[Webhook]:
        """The organization's hooks, oldest first."""
        ...

    async def save(self, webhook: Webhook) -> None:
        """Replace a stored hook (same id and organization)."""
        ...

    async def delete(self, organization_id: str, webhook_id: str) -> bool:
        """Delete the hook and its deliveries; False when there was none."""
        ...

    async def deliveries(
        self,
        organization_id: str,
        webhook_id: str,
        *,
        page: int,
        limit: int,
        status: DeliveryStatus | None = None,
    ) -> Page[WebhookDelivery]:
        """The hook's deliveries, newest first."""
        ...

    async def retry(
        self, organization_id: str, webhook_id: str, delivery_id: str, now: datetime
    ) -> WebhookDelivery | None:
        """Make the delivery due now (``pending``, a fresh retry budget); ``None`` when absent."""
        ...


class WebhookRepositoryFactory(Protocol):
    """The webhook repository of a unit of work (it joins the unit of work's transaction)."""

    def __call__(self, uow: UnitOfWork) -> WebhookRepository:
        """The repository on ``uow``'s transaction."""
        ...


class HostResolver(Protocol):
    """Resolves a host name to its addresses (an IP literal resolves to itself)."""

    async def resolve(self, host: str) -> Sequence[IpAddress]:
        """The host's addresses; empty when it does not resolve."""
        ...


@frozen(kw_only=True)
class WebhookServices:
    """The ports and policy of the webhook use cases (``Dependencies.webhooks``)."""

    repositories: WebhookRepositoryFactory
    resolver: HostResolver
    allow_private: bool = False
    """Accept private, loopback and link-local targets (tests, private installations)."""
    policy: RetryPolicy = field(factory=RetryPolicy)

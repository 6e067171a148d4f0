"""The privacy port (rules §8): consents and data-subject requests, inside one unit of work.

Like webhooks (:mod:`customers_hub.application.outbox`), the repository is made per unit of
work by a factory (:class:`PrivacyRepositoryFactory`), so the unit of work itself and its
in-memory fakes stay as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from attrs import frozen

from customers_hub.application.ports import UnitOfWork
from customers_hub.application.queries import Page
from customers_hub.domain.privacy import (
    ConsentChannel,
    ConsentEntry,
    PrivacyRequest,
    PrivacyRequestStats,
    RequestStatus,
    RequestType,
)

__all__ = [
    "ErasurePort",
    "ErasureStore",
    "PrivacyRepository",
    "PrivacyRepositoryFactory",
    "RequestFilter",
]


@frozen(kw_only=True)
class RequestFilter:
    """What ``GET /privacy-requests`` narrows to (every given filter must hold).

    ``overdue``: open with ``dueAt`` before ``now`` (False: every other request); ``due_soon``:
    open with ``dueAt`` from ``now`` to ``due_soon_until`` (False: every other request).
    """

    now: datetime
    due_soon_until: datetime
    statuses: tuple[RequestStatus, ...] = ()
    types: tuple[RequestType, ...] = ()
    customer_id: str | None = None
    overdue: bool | None = None
    due_soon: bool | None = None


class PrivacyRepository(Protocol):
    """An organization's consents and privacy requests, on a unit of work's transaction."""

    async def lock_customer(self, organization_id: str, customer_id: str) -> bool:
        """Lock the customer's row for this transaction (serializes its consent changes);
        False when the organization has no such customer (soft-deleted ones count)."""
        ...

    async def customer_exists(self, organization_id: str, customer_id: str) -> bool:
        """True when the organization holds the customer (soft-deleted ones count)."""
        ...

    async def current_consents(
        self, organization_id: str, customer_id: str
    ) -> dict[ConsentChannel, ConsentEntry]:
        """The current entry per channel (channels never recorded are absent)."""
        ...

    async def consent_history(
        self, organization_id: str, customer_id: str, limit: int
    ) -> list[ConsentEntry]:
        """The newest ``limit`` entries of the customer's ledger, newest first."""
        ...

    async def append_consents(self, entries: Sequence[ConsentEntry]) -> None:
        """Append the entries to the history and make them the current state of their
        channels (same transaction)."""
        ...

    async def add_request(self, request: PrivacyRequest) -> None:
        """Store a new request."""
        ...

    async def get_request(
        self, organization_id: str, request_id: str, *, for_update: bool = False
    ) -> PrivacyRequest | None:
        """The request, or None when absent or another organization's."""
        ...

    async def save_request(self, request: PrivacyRequest, *, expected_version: int) -> None:
        """Replace a stored request whose version is ``expected_version`` (its version moves
        on); :class:`~customers_hub.application.errors.ConcurrentUpdate` otherwise."""
        ...

    async def list_requests(
        self, organization_id: str, where: RequestFilter, *, page: int, limit: int
    ) -> Page[PrivacyRequest]:
        """The organization's requests, newest received first, with the total."""
        ...

    async def customer_requests(
        self, organization_id: str, customer_id: str, limit: int
    ) -> list[PrivacyRequest]:
        """The customer's newest ``limit`` requests, newest received first."""
        ...

    async def customer_action_ids(
        self, organization_id: str, customer_id: str, limit: int
    ) -> list[str]:
        """The ids of the customer's first ``limit`` actions, oldest first."""
        ...

    async def request_stats(
        self, organization_id: str, now: datetime, due_soon_until: datetime
    ) -> PrivacyRequestStats:
        """Open, overdue (``dueAt`` before ``now``) and due-soon (``dueAt`` from ``now`` to
        ``due_soon_until``) request counts."""
        ...


class PrivacyRepositoryFactory(Protocol):
    """The privacy repository of a unit of work (it joins the unit of work's transaction)."""

    def __call__(self, uow: UnitOfWork) -> PrivacyRepository:
        """The repository on ``uow``'s transaction."""
        ...


# --- erasure (rules §8) ------------------------------------------------------------------


class ErasureStore(Protocol):
    """The erasure's writes beyond the customer row, inside one unit of work."""

    async def erase_relations(
        self, organization_id: str, customer_id: str, values: Sequence[str]
    ) -> None:
        """Clear the relations' free text, mask audit values and stored events naming it;
        ``values`` (the customer's identifying texts) are redacted wherever they appear there."""
        ...

    async def storage_keys(self, organization_id: str, customer_id: str) -> list[str]:
        """The storage keys of the customer's documents."""
        ...


class ErasurePort(Protocol):
    """The erasure's store per unit of work, and what it does after the commit
    (:func:`~customers_hub.application.use_cases.erasure.erase_customer`)."""

    def on(self, uow: UnitOfWork) -> ErasureStore:
        """The store on ``uow``'s transaction."""
        ...

    async def reclaim_space(self) -> None:
        """After the commit: make the database forget the freed bytes where it keeps them."""
        ...

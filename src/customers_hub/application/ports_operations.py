"""Ports of the sales-team operations (issue 12): reading customers out for an export, and
finding duplicate candidates. Both are read-side services scoped in the adapter, like
:class:`~customers_hub.application.ports.CustomerQueries`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from attrs import frozen

from customers_hub.application.queries import CustomerListQuery, Page, PageRequest
from customers_hub.domain.access import ScopeFilter
from customers_hub.domain.model import Customer

__all__ = ["CustomerExportSource", "DuplicatePairRef", "DuplicateQueries"]


class CustomerExportSource(Protocol):
    """Every customer a list query selects, in its order, a batch at a time."""

    def batches(
        self, query: CustomerListQuery, batch_size: int
    ) -> AsyncIterator[Sequence[Customer]]:
        """The customers of ``query`` (its scope, conditions, search and sort; its page is
        ignored) in batches of at most ``batch_size``, each read by keyset after the previous
        one, so memory holds one batch whatever the number of rows. Stage history and property
        interests are not loaded."""
        ...


@frozen
class DuplicatePairRef:
    """Two customers the adapter found sharing a duplicate key (``first_id < second_id``) and
    the score of their strongest shared key."""

    first_id: str
    second_id: str
    score: int


class DuplicateQueries(Protocol):
    """Duplicate candidates by indexed equality on the keys of rules §10."""

    async def candidates(self, customer: Customer, scope: ScopeFilter, limit: int) -> list[str]:
        """Ids of live customers in ``scope`` (``customer``'s organization) other than
        ``customer`` that share at least one key with it, at most ``limit``."""
        ...

    async def pairs(self, scope: ScopeFilter, page: PageRequest) -> Page[DuplicatePairRef]:
        """Pairs of live customers both in ``scope`` that share a key, strongest first (then
        by ids), paged by offset with the total."""
        ...

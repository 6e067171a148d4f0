"""A customer's timeline: its audit entries, newest first (issue 10).

The caller needs the access ``GET /customers/{id}`` needs: another organization's customer is
404 (never revealed), a customer out of the caller's scope 403. Admins also read the timeline of
a soft-deleted customer (what happened before the deletion is what an audit is for).
"""

from __future__ import annotations

from customers_hub.application.context import Dependencies, present
from customers_hub.application.queries import Page, PageRequest
from customers_hub.application.use_cases.customers import load_customer
from customers_hub.domain.access import Operation
from customers_hub.domain.audit import AuditEntry
from customers_hub.domain.enums import Role
from customers_hub.domain.model import Actor

__all__ = ["customer_timeline"]


async def customer_timeline(
    deps: Dependencies,
    actor: Actor,
    customer_id: str,
    *,
    limit: int,
    cursor: str | None = None,
) -> Page[AuditEntry]:
    """One page of the customer's entries (its own, its relations' and its actions'), newest
    first; ``cursor`` is a page's ``nextCursor``/``prevCursor`` (None: the first page)."""
    async with deps.uow(read_only=True) as uow:
        await load_customer(
            uow,
            actor,
            customer_id,
            Operation.READ_CUSTOMERS,
            for_update=False,
            include_deleted=actor.role is Role.ADMIN,
        )
    page = PageRequest(limit=limit, cursor=cursor or "")
    return await present(deps.audit, "audit").customer_page(
        actor.organization_id, customer_id, page
    )

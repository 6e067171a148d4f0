"""A customer's audit timeline (issue 10): ``GET /api/v1/customers/{id}/timeline``.

Every write appends, in its own transaction, one entry per entity it changed (the customer,
its property interests, interactions, appointments, reminders, documents, its actions and their
notes): ``{id, at, actorId, actorName, action, entityType, entityId, changes: [{field, from,
to}], requestId}``. This lists a customer's entries newest first, paged by cursor like the
other cursor lists (``limit`` 1 … 100, ``cursor`` from a page's ``nextCursor``/``prevCursor``,
absent or empty for the first page; a malformed cursor is a 400 naming ``cursor``).

Access is that of ``GET /customers/{id}``: another organization's customer is a 404, one of
the organization outside the caller's scope a 403. Not cached: an entry appears with the commit
of its write.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Response, get
from litestar.params import Parameter

from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases.timeline import customer_timeline
from customers_hub.domain.audit import AuditEntry
from customers_hub.domain.model import Actor
from customers_hub.entrypoints.http.envelope import Envelope, ok
from customers_hub.entrypoints.http.errors import error_responses
from customers_hub.entrypoints.http.route_params import CUSTOMER_ID, NO_STORE
from customers_hub.entrypoints.http.strict import StrictController
from customers_hub.entrypoints.http.wire import LIMIT, Pagination, Wire, page_to_wire
from customers_hub.entrypoints.http.wire.audit import AuditEntryFields
from customers_hub.entrypoints.http.wire.convert import to_wire

__all__ = [
    "ROUTES",
    "AuditChangeOut",
    "AuditEntryOut",
    "TimelineController",
    "TimelineData",
    "entry_to_wire",
]

TIMELINE_DEFAULT_LIMIT = 20


class AuditChangeOut(Wire, kw_only=True):
    """One changed field: its camelCase path and JSON values (``null`` when absent)."""

    field: str
    from_: Any = msgspec.field(name="from")
    to: Any


class AuditEntryOut(AuditEntryFields):
    """One audit entry: who changed what, when, in which request."""

    changes: list[AuditChangeOut]
    request_id: str | None


class TimelineData(Wire, kw_only=True):
    """``data`` of ``GET /customers/{id}/timeline``."""

    customer_id: str
    entries: list[AuditEntryOut]
    pagination: Pagination


def entry_to_wire(entry: AuditEntry) -> AuditEntryOut:
    """The wire form of ``entry``."""
    return to_wire(entry, AuditEntryOut)


_CURSOR = Annotated[
    str | None,
    Parameter(description="A page's nextCursor or prevCursor; absent or empty: the first page"),
]


class TimelineController(StrictController):
    """``/api/v1/customers/{id}/timeline``."""

    path = "/customers"
    tags = ("Customers",)

    @get(
        "/{customer_id:str}/timeline",
        operation_id="getCustomerTimeline",
        summary="A customer's audit timeline, newest first",
        responses=error_responses(403, 404),
    )
    async def timeline(
        self,
        deps: Dependencies,
        actor: Actor,
        customer_id: CUSTOMER_ID,
        limit: LIMIT = TIMELINE_DEFAULT_LIMIT,
        cursor: _CURSOR = None,
    ) -> Response[Envelope[TimelineData]]:
        """Who changed what on the customer, its relations and its actions, newest first."""
        page = await customer_timeline(deps, actor, customer_id, limit=limit, cursor=cursor)
        return ok(
            TimelineData(
                customer_id=customer_id,
                entries=[entry_to_wire(e) for e in page.items],
                pagination=page_to_wire(page),
            ),
            headers=NO_STORE,
        )


ROUTES: list[Any] = [TimelineController]
"""Mounted under ``/api/v1``."""

"""Duplicate detection (issue 12, Deliver 3, rules §10):

* ``GET /api/v1/customers/{id}/duplicates`` — the candidates of one customer (at most 50,
  strongest first): each with the whole customer, its ``reasons`` (``nationalId``, ``phone``,
  ``email``, ``nameAndCity``, strongest first) and its ``score`` (the strongest reason's:
  100, 90, 70, 50);
* ``GET /api/v1/customers/duplicates?page=&limit=`` — the pairs in the caller's scope,
  strongest first then by ids, paged by offset (``limit`` 1 … 100, default 20), with the
  list's ``pagination``.

Scope: only customers the caller may read are candidates or pair members (an agent: their own;
a manager: the team's; an admin: the organization's), never another organization's. The
customer asked about answers like ``GET /customers/{id}``: 404 when absent, deleted or another
organization's, 403 when of the organization but outside the caller's scope. Not cached: the
answers are computed on each request (indexed lookups, see ``adapters/sql/duplicates.py``).
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get

from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases import duplicates as use_cases
from customers_hub.domain.duplicates import DuplicateReason
from customers_hub.domain.model import Actor
from customers_hub.entrypoints.http.envelope import Envelope, ok
from customers_hub.entrypoints.http.errors import error_responses
from customers_hub.entrypoints.http.route_params import CUSTOMER_ID, NO_STORE
from customers_hub.entrypoints.http.strict import StrictController
from customers_hub.entrypoints.http.wire import (
    LIMIT,
    PAGE,
    CustomerOut,
    Pagination,
    Wire,
    customer_to_wire,
    page_to_wire,
)

__all__ = [
    "ROUTES",
    "CustomerDuplicatesData",
    "DuplicateCandidateOut",
    "DuplicatePairOut",
    "DuplicatePairsData",
    "DuplicatesController",
]


class DuplicateCandidateOut(Wire, kw_only=True):
    """A customer that looks like the one asked about."""

    customer: CustomerOut
    reasons: list[DuplicateReason]
    score: int


class CustomerDuplicatesData(Wire, kw_only=True):
    """``data`` of ``GET /customers/{id}/duplicates``."""

    customer_id: str
    duplicates: list[DuplicateCandidateOut]


class DuplicatePairOut(Wire, kw_only=True):
    """Two customers that look like one person (``customer.id < duplicate.id``)."""

    customer: CustomerOut
    duplicate: CustomerOut
    reasons: list[DuplicateReason]
    score: int


class DuplicatePairsData(Wire, kw_only=True):
    """``data`` of ``GET /customers/duplicates``."""

    pairs: list[DuplicatePairOut]
    pagination: Pagination


class DuplicatesController(StrictController):
    """``/api/v1/customers/duplicates`` and ``/api/v1/customers/{id}/duplicates``."""

    path = "/customers"
    tags = ("Customers",)

    @get(
        "/duplicates",
        operation_id="listDuplicatePairs",
        summary="Duplicate candidate pairs in the caller's scope",
        responses=error_responses(403),
    )
    async def list_pairs(
        self,
        deps: Dependencies,
        actor: Actor,
        page: PAGE = 1,
        limit: LIMIT = use_cases.DUPLICATE_PAIRS_DEFAULT_LIMIT,
    ) -> Response[Envelope[DuplicatePairsData]]:
        """Pairs sharing a phone or WhatsApp number, a national id, an e-mail, or a name and a
        city, strongest first, with the reasons and the score."""
        result = await use_cases.duplicate_pairs(deps, actor, page=page, limit=limit)
        tz = await deps.zone_of(actor.organization_id)
        pairs = [
            DuplicatePairOut(
                customer=customer_to_wire(m.customer, tz=tz),
                duplicate=customer_to_wire(m.duplicate, tz=tz),
                reasons=list(m.reasons),
                score=m.score,
            )
            for m in result.items
        ]
        return ok(
            DuplicatePairsData(pairs=pairs, pagination=page_to_wire(result)),
            headers=NO_STORE,
        )

    @get(
        "/{customer_id:str}/duplicates",
        operation_id="getCustomerDuplicates",
        summary="Duplicate candidates of a customer",
        responses=error_responses(403, 404),
    )
    async def customer_duplicates(
        self, deps: Dependencies, actor: Actor, customer_id: CUSTOMER_ID
    ) -> Response[Envelope[CustomerDuplicatesData]]:
        """The customers in the caller's scope that look like this one, strongest first."""
        result = await use_cases.customer_duplicates(deps, actor, customer_id)
        tz = await deps.zone_of(actor.organization_id)
        return ok(
            CustomerDuplicatesData(
                customer_id=result.customer.id,
                duplicates=[
                    DuplicateCandidateOut(
                        customer=customer_to_wire(m.duplicate, tz=tz),
                        reasons=list(m.reasons),
                        score=m.score,
                    )
                    for m in result.matches
                ],
            ),
            headers=NO_STORE,
        )


ROUTES: list[Any] = [DuplicatesController]
"""Mounted under ``/api/v1``."""

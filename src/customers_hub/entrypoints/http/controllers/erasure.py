"""Erasure of a customer's personal data (issue 11, rules §8): ``POST
/api/v1/customers/{id}/erase``.

* Admins only: any other role is 403 whatever the id; another organization's customer (or none)
  is 404.
* The body is optional: ``{"reason": "…"}`` (one line, at most 500 characters; unknown keys
  refused, 400 naming the field). The reason travels with the ``customer.erased`` event, with
  the customer's identifiers masked in it.
* ``200`` with ``{"erasure": {customerId, erasedAt, restricted, restrictedUntil?}}`` — the same
  answer for every later call (irreversible; a second erase changes nothing). Nothing personal
  is in the answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Response, post

from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases import erasure as use_cases
from customers_hub.domain.model import Actor
from customers_hub.entrypoints.http.envelope import Envelope, ok
from customers_hub.entrypoints.http.errors import error_responses
from customers_hub.entrypoints.http.route_params import CUSTOMER_ID
from customers_hub.entrypoints.http.strict import StrictController
from customers_hub.entrypoints.http.wire import UNSET, UnsetType, Wire, WireIn
from customers_hub.entrypoints.http.wire.convert import to_wire

__all__ = ["ROUTES", "EraseIn", "ErasureController", "ErasureData", "ErasureOut"]


class EraseIn(WireIn, kw_only=True):
    """``POST /customers/{id}/erase``: why (optional)."""

    reason: str | None = None


class ErasureOut(Wire, kw_only=True):
    """An erased customer's state (rules §8)."""

    customer_id: str
    erased_at: datetime
    restricted: bool
    restricted_until: datetime | UnsetType = UNSET


class ErasureData(Wire, kw_only=True):
    """``data`` of the erasure."""

    erasure: ErasureOut


def erasure_to_wire(state: use_cases.Erasure) -> ErasureOut:
    """The wire form of ``state``."""
    return to_wire(state, ErasureOut)


class ErasureController(StrictController):
    """``/api/v1/customers/{id}/erase``."""

    path = "/customers"
    tags = ("Privacy",)

    @post(
        "/{customer_id:str}/erase",
        operation_id="eraseCustomer",
        summary="Erase a customer's personal data (PDPL)",
        status_code=200,
        responses=error_responses(403, 404),
    )
    async def erase_customer(
        self,
        deps: Dependencies,
        actor: Actor,
        customer_id: CUSTOMER_ID,
        data: EraseIn | None = None,
    ) -> Response[Envelope[ErasureData]]:
        """Anonymize the customer and its relations, delete its files (admin); idempotent."""
        command = use_cases.EraseCustomer(
            customer_id=customer_id, reason=data.reason if data is not None else None
        )
        state = await use_cases.erase_customer(deps, actor, command)
        return ok(
            ErasureData(erasure=erasure_to_wire(state)),
            message="Customer personal data erased",
        )


ROUTES: list[Any] = [ErasureController]
"""Mounted under ``/api/v1``."""

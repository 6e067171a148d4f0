"""Merge and unmerge customers (issue 12, Deliver 3, rules §10):

* ``POST /api/v1/customers/{id}/merge`` ``{sourceIds: [1…10 ids], fields?: {fieldName:
  customerId}}`` — merge the sources into the customer ``{id}`` (the survivor); 200 with the
  merge (its id, what was filled from where, how many rows moved, the unmerge deadline) and the
  survivor as it is now;
* ``POST /api/v1/customers/{id}/unmerge`` ``{mergeId?}`` — undo the survivor's newest merge (or
  the one named) within 30 days; 200 with the merge, the survivor and the restored sources.

Answers: 400 ``VALIDATION_ERROR`` for a malformed body (naming ``sourceIds``,
``fields.<name>``, ``mergeId``); 403 for a role without ``customers.write`` or a customer
outside the caller's scope; 404 for a customer (or merge) that does not exist or belongs to
another organization; 422 ``VALIDATION_ERROR`` naming ``sourceIds`` (a repeated id, the
survivor, a source not live) or ``fields.<name>``; 409 ``UNMERGE_CONFLICT`` naming what moved
since the merge; 422 ``UNMERGE_NOT_ALLOWED`` after 30 days or for a merge undone already.
A merged source reads as deleted: 404, and for an admin with ``includeDeleted=true`` 200 with
``mergedInto`` (``docs/merging.md``).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Annotated, Any

from litestar import Response, post
from msgspec import UNSET, UnsetType

from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases import merging as use_cases
from customers_hub.domain.merging import MergeRecord
from customers_hub.domain.model import Actor, Customer
from customers_hub.entrypoints.http.envelope import Envelope, ok
from customers_hub.entrypoints.http.errors import error_responses
from customers_hub.entrypoints.http.route_params import id_parameter
from customers_hub.entrypoints.http.strict import StrictController
from customers_hub.entrypoints.http.wire import CustomerOut, Wire, WireIn, customer_to_wire
from customers_hub.entrypoints.http.wire.convert import to_wire

__all__ = [
    "ROUTES",
    "MergeController",
    "MergeData",
    "MergeIn",
    "MergeOut",
    "UnmergeData",
    "UnmergeIn",
]


class MergeIn(WireIn, kw_only=True):
    """``POST /customers/{id}/merge``."""

    source_ids: list[str] | None = None
    fields: dict[str, str] | UnsetType = UNSET


class UnmergeIn(WireIn, kw_only=True):
    """``POST /customers/{id}/unmerge``; without ``mergeId`` the survivor's newest merge."""

    merge_id: str | UnsetType = UNSET


class MergeOut(Wire, kw_only=True):
    """A merge: who went into whom, what was filled from where, what moved."""

    id: str
    survivor_id: str
    source_ids: list[str]
    merged_at: datetime
    merged_by: str
    unmerge_deadline: datetime
    filled_fields: dict[str, str]
    """Field name → the source it was filled from."""
    moved: dict[str, int]
    """Rows moved to the survivor per kind (``interactions``, ``stageHistory``, …)."""
    unmerged_at: datetime | UnsetType = UNSET
    unmerged_by: str | UnsetType = UNSET


class MergeData(Wire, kw_only=True):
    """``data`` of a merge: the merge and the survivor."""

    merge: MergeOut
    customer: CustomerOut


class UnmergeData(Wire, kw_only=True):
    """``data`` of an unmerge: the undone merge, the survivor and the restored sources."""

    merge: MergeOut
    customer: CustomerOut
    sources: list[CustomerOut]


# Table names as the API calls the relations.
_KINDS = {
    "interactions": "interactions",
    "appointments": "appointments",
    "reminders": "reminders",
    "documents": "documents",
    "customer_actions": "actions",
    "property_interests": "properties",
    "stage_history": "stageHistory",
}


def _merge_to_wire(record: MergeRecord) -> MergeOut:
    moved = Counter({_KINDS.get(name, name): len(rows) for name, rows in record.moved.items()})
    return to_wire(
        record,
        MergeOut,
        unmerge_deadline=record.deadline,
        filled_fields={name: fill.source_id for name, fill in record.fields.items()},
        moved=dict(moved),
    )


async def _wire(deps: Dependencies, actor: Actor, customer: Customer) -> CustomerOut:
    return customer_to_wire(customer, tz=await deps.zone_of(actor.organization_id))


_ID = Annotated[str, id_parameter("The survivor's customer")]


class MergeController(StrictController):
    """``/api/v1/customers/{id}/merge`` and ``/api/v1/customers/{id}/unmerge``."""

    path = "/customers"
    tags = ("Customers",)

    @post(
        "/{customer_id:str}/merge",
        operation_id="mergeCustomers",
        summary="Merge duplicate customers into this one",
        status_code=200,
        responses=error_responses(403, 404, 409, 422),
    )
    async def merge(
        self, deps: Dependencies, actor: Actor, customer_id: _ID, data: MergeIn
    ) -> Response[Envelope[MergeData]]:
        """Move the sources' relations, actions and history to this customer, fill its empty
        fields, soft-delete the sources with ``mergedInto`` (rules §10)."""
        command = use_cases.MergeCustomers(
            survivor_id=customer_id,
            source_ids=tuple(data.source_ids or ()),
            fields={} if isinstance(data.fields, UnsetType) else dict(data.fields),
        )
        outcome = await use_cases.merge_customers(deps, actor, command)
        return ok(
            MergeData(
                merge=_merge_to_wire(outcome.merge),
                customer=await _wire(deps, actor, outcome.survivor),
            ),
            message="Customers merged successfully",
        )

    @post(
        "/{customer_id:str}/unmerge",
        operation_id="unmergeCustomers",
        summary="Undo a merge into this customer (within 30 days)",
        status_code=200,
        responses=error_responses(403, 404, 409, 422),
    )
    async def unmerge(
        self, deps: Dependencies, actor: Actor, customer_id: _ID, data: UnmergeIn
    ) -> Response[Envelope[UnmergeData]]:
        """Restore the sources of the newest (or the named) merge with what came from them,
        and empty the fields the merge filled — unless something moved since (409)."""
        command = use_cases.UnmergeCustomers(
            survivor_id=customer_id,
            merge_id=None if isinstance(data.merge_id, UnsetType) else data.merge_id,
        )
        outcome = await use_cases.unmerge_customers(deps, actor, command)
        return ok(
            UnmergeData(
                merge=_merge_to_wire(outcome.merge),
                customer=await _wire(deps, actor, outcome.survivor),
                sources=[await _wire(deps, actor, s) for s in outcome.sources],
            ),
            message="Merge undone successfully",
        )


ROUTES: list[Any] = [MergeController]
"""Mounted under ``/api/v1``."""

"""Customers: endpoints 1–6, restore, the advanced query, search, filter options, statistics and
assignment (``/api/v1/customers…``).

Decisions where the API document is silent (for ``docs/``):

* **ETag / If-Match.** Single-customer responses carry ``ETag: "v<version>"`` — a strong
  validator of the customer *record* (its fields, stage history and property interests), which
  every write of the customer moves on. ``If-Match`` on ``PUT``, ``PATCH …/stage`` and
  ``DELETE`` takes that value (also ``W/"v3"``, ``v3`` or ``3``; ``*`` matches any version); an
  old version is 412 ``PRECONDITION_FAILED``, an unreadable one 400 on ``If-Match``. The version
  does not follow the relations shown with ``include`` (interactions, appointments, reminders,
  documents) nor the embedded employee's name: a ``GET`` that includes relations never answers
  304 to ``If-None-Match``.
* **Caching** (see ``caching.py``): details, lists, the advanced query, search, filter options
  and statistics are read through the application cache; GETs carry ``ETag`` and
  ``Cache-Control: private, max-age=<TTL>`` and answer ``If-None-Match`` with 304.
* **Responses** of create, update, stage change, restore and assign hold the whole customer
  (a superset of the document's examples); the assigned employee is embedded as
  ``assignedEmployee`` when known.
* **Lists** always embed ``assignedEmployee``, ``stageHistory`` and ``properties`` (they come
  with the customer); ``include`` on the list accepts only those names, the other relations are
  for a single customer. ``fields`` (comma-separated and/or repeated) selects keys; ``id`` is
  always kept. Without ``cursor`` a list is paged by offset; with ``cursor`` (``cursor=`` for the
  first page) by keyset.
* **Deleted customers**: ``GET /customers?deleted=true`` lists the trash and
  ``GET /customers/{id}?includeDeleted=true`` reads a deleted customer (both admin only).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final

import attrs
import msgspec
from litestar import Response, delete, get, patch, post, put
from litestar.params import Parameter

from customers_hub.application.caching import CACHE_TTLS
from customers_hub.application.context import Dependencies
from customers_hub.application.queries import DEFAULT_LIMIT
from customers_hub.application.read_plans import customer_view_decision
from customers_hub.application.use_cases import (
    customer_assignment,
    customer_deletion,
    customer_stage,
    privacy,
    reads,
)
from customers_hub.application.use_cases import customers as use_cases
from customers_hub.application.use_cases.customers import CustomerWithAssignee
from customers_hub.domain.access import RecordScope
from customers_hub.domain.enums import Stage
from customers_hub.domain.errors import ValidationFailed
from customers_hub.domain.lifecycle import StageChangeRequest
from customers_hub.domain.model import Actor
from customers_hub.entrypoints.bootstrap import Hub
from customers_hub.entrypoints.http import caching
from customers_hub.entrypoints.http.cached_read import cached_read
from customers_hub.entrypoints.http.caching import (
    IF_NONE_MATCH,
    NOT_MODIFIED,
    CachedBody,
    parse_if_match,
    version_etag,
)
from customers_hub.entrypoints.http.customer_filters import ListFilters, with_list_filters
from customers_hub.entrypoints.http.envelope import Envelope, ok
from customers_hub.entrypoints.http.errors import error_responses
from customers_hub.entrypoints.http.route_params import CUSTOMER_ID, if_match_parameter
from customers_hub.entrypoints.http.strict import StrictController
from customers_hub.entrypoints.http.wire import (
    FIELDS,
    LIMIT,
    PAGE,
    CustomerIn,
    CustomerOut,
    NewCustomerIn,
    Pagination,
    StageChangeOut,
    Wire,
    WireIn,
    customer_to_wire,
    page_to_wire,
    parse_fields,
    select_fields,
    split_values,
)
from customers_hub.entrypoints.http.wire.privacy import (
    current_consents_to_wire,
)

__all__ = ["ROUTES", "CustomersController", "customer_list_body"]

LIST_INCLUDES: Final = frozenset({"assignedEmployee", "properties", "stageHistory"})
"""What ``include`` of the customers list accepts (all are always embedded)."""


# ---------------------------------------------------------------------------------------------
# Wire: bodies and data of this controller


class CustomerData(Wire, kw_only=True):
    """``data`` of a single-customer response."""

    customer: CustomerOut


class CustomerListData(Wire, kw_only=True):
    """``data`` of a customers list."""

    customers: list[CustomerOut]
    pagination: Pagination


class StageChangeIn(WireIn, kw_only=True):
    """``PATCH /customers/{id}/stage``."""

    to_stage: Stage
    notes: str | None = None
    reason: str | None = None


class DeletionData(Wire, kw_only=True):
    """``data`` of a delete."""

    deleted_at: datetime
    permanent: bool


class AssignIn(WireIn, kw_only=True):
    """``POST /customers/{id}/assign``."""

    employee_id: str = ""
    notes: str | None = None


# ---------------------------------------------------------------------------------------------
# Helpers


def customer_history_tail(wire: CustomerOut) -> list[StageChangeOut]:
    """The last entry of ``wire``'s stage history (the one a stage change appended)."""
    history = wire.stage_history
    return [] if isinstance(history, msgspec.UnsetType) else history[-1:]


async def _customer_response(
    deps: Dependencies,
    actor: Actor,
    written: CustomerWithAssignee,
    *,
    message: str,
    history_tail: bool = False,
) -> Response[Envelope[CustomerData]]:
    """A write's answer: the customer with the assignee its use case read (no second unit of
    work); ``history_tail``: only the stage history entry the write appended."""
    wire = customer_to_wire(
        written.customer, written.assignee, tz=await deps.zone_of(actor.organization_id)
    )
    if history_tail:
        wire = msgspec.structs.replace(wire, stage_history=customer_history_tail(wire))
    return ok(
        CustomerData(customer=wire),
        message=message,
        headers={"ETag": version_etag(written.customer.version)},
    )


async def customer_list_body(
    deps: Dependencies, actor: Actor, result: reads.CustomerList
) -> CachedBody:
    """The cache entry of a page of customers (the list, the advanced query): each with its
    assignee, cut to the keys the caller chose (``result.fields``; all when None)."""
    tz = await deps.zone_of(actor.organization_id)
    customers = [
        select_fields(
            customer_to_wire(c, result.employees.get(c.assigned_employee_id or ""), tz=tz),
            result.fields,
        )
        for c in result.page.items
    ]
    return caching.body_of(
        CustomerListData(customers=customers, pagination=page_to_wire(result.page))
    )


def _select_cached(body: CachedBody, fields: tuple[str, ...]) -> CachedBody:
    """``body`` (a cached ``{"customer": …}``) with only ``fields`` of the customer; its ETag
    is then the selection's own hash (another representation than the whole record)."""
    data = msgspec.json.decode(body.data)
    keep = {*fields, "id"}
    data["customer"] = {k: v for k, v in data["customer"].items() if k in keep}
    return caching.body_of(data, scope=body.scope)


def _list_includes(raw: list[str] | None) -> tuple[str, ...]:
    values = split_values(raw)
    unknown = sorted(set(values) - LIST_INCLUDES)
    if unknown:
        raise ValidationFailed.single(
            "include",
            f"Unknown include {', '.join(unknown)} on the list; expected any of "
            f"{', '.join(sorted(LIST_INCLUDES))} (other relations: GET /customers/{{id}})",
        )
    return tuple(dict.fromkeys(values))


_IF_MATCH = Annotated[str | None, if_match_parameter("customer")]


# ---------------------------------------------------------------------------------------------
# The controller


class CustomersController(StrictController):
    """``/api/v1/customers``."""

    path = "/customers"
    tags = ("Customers",)

    @get(
        "/",
        operation_id="listCustomers",
        summary="List customers",
        responses={**error_responses(403), **NOT_MODIFIED},
    )
    @with_list_filters
    async def list_customers(
        self,
        deps: Dependencies,
        actor: Actor,
        hub: Hub,
        *,
        if_none_match: IF_NONE_MATCH = None,
        page: PAGE = 1,
        limit: LIMIT = DEFAULT_LIMIT,
        # The filters, declared once in ``customer_filters`` (the export takes the same), stand
        # here in the signature: the document lists them between ``limit`` and ``cursor``.
        list_filters: ListFilters,
        cursor: Annotated[
            str | None, Parameter(description="Keyset pagination; empty for the first page")
        ] = None,
        fields: FIELDS = None,
        include: list[str] | None = None,
        deleted: Annotated[bool, Parameter(description="List deleted customers (admin)")] = False,
        consent: Annotated[
            list[str] | None,
            Parameter(
                description="Current consent granted on a channel (whatsapp, sms, email, call, "
                "marketing); !channel: not granted (admins)"
            ),
        ] = None,
    ) -> Response[Envelope[CustomerListData]]:
        """Customers in the caller's scope, filtered, sorted and paged."""
        errors: list[ValidationFailed] = []
        selected: tuple[str, ...] | None = None
        includes: tuple[str, ...] = ()
        try:
            selected = parse_fields(fields)
        except ValidationFailed as bad:
            errors.append(bad)
        try:
            includes = _list_includes(include)
        except ValidationFailed as bad:
            errors.append(bad)
        # The filters' errors (money, date bounds) first, then these: one 400 naming them all.
        failed = list_filters.merged(
            ValidationFailed([e for bad in errors for e in bad.errors]) if errors else None
        )
        if failed is not None:
            raise failed
        params = attrs.evolve(
            list_filters.params,
            page=page,
            limit=limit,
            cursor=cursor,
            fields=selected,
            include=includes,
            deleted=deleted,
            consent=consent or (),
        )
        plan = reads.plan_list_customers(actor, params)  # 403, then 400: before the cache

        async def load() -> CachedBody:
            return await customer_list_body(deps, actor, await reads.run_list_customers(deps, plan))

        return await cached_read(
            hub.cache,
            plan,
            load,
            ttl="customer:list",
            if_none_match=if_none_match,
        )

    @post(
        "/",
        operation_id="createCustomer",
        summary="Create a customer",
        responses=error_responses(403, 409, 422),
    )
    async def create_customer(
        self, deps: Dependencies, actor: Actor, data: NewCustomerIn
    ) -> Response[Envelope[CustomerData]]:
        """Create a customer at ``new_lead``; 201 with the customer."""
        created = await use_cases.create_customer(
            deps, actor, use_cases.CreateCustomer(data.to_draft())
        )
        return await _customer_response(
            deps, actor, created, message="Customer created successfully"
        )

    @get(
        "/{customer_id:str}",
        operation_id="getCustomer",
        summary="Get a customer",
        responses={**error_responses(403, 404), **NOT_MODIFIED},
    )
    async def get_customer(
        self,
        deps: Dependencies,
        actor: Actor,
        hub: Hub,
        customer_id: CUSTOMER_ID,
        include: Annotated[
            list[str] | None,
            Parameter(
                description="properties, interactions, appointments, reminders, documents, "
                "stageHistory, ksaCompliance, consents (admins)"
            ),
        ] = None,
        include_deleted: Annotated[
            bool, Parameter(query="includeDeleted", description="Read a deleted customer (admin)")
        ] = False,
        if_none_match: IF_NONE_MATCH = None,
        fields: FIELDS = None,
    ) -> Response[Envelope[CustomerData]]:
        """One customer with the relations asked for (``fields`` selects keys)."""
        selected = parse_fields(fields)
        # 403 (role, token, consents), then 400 (include): the use case's plan, before the cache.
        plan = use_cases.plan_get_customer(
            actor,
            customer_id,
            include=frozenset(split_values(include)),
            include_deleted=include_deleted,
        )

        async def load() -> CachedBody:
            details = await use_cases.run_get_customer(deps, plan)
            included = details.included
            customer = details.customer
            assignee = details.assignee
            out = customer_to_wire(
                customer,
                assignee,
                interactions=details.interactions if "interactions" in included else None,
                appointments=details.appointments if "appointments" in included else None,
                reminders=details.reminders if "reminders" in included else None,
                documents=details.documents if "documents" in included else None,
                tz=await deps.zone_of(actor.organization_id),
            )
            if "consents" in included:
                ledger = await privacy.get_consents(deps, actor, customer_id)
                out = msgspec.structs.replace(
                    out, consents=current_consents_to_wire(ledger.current)
                )
            body = caching.body_of(
                CustomerData(customer=out),
                etag=version_etag(customer.version),
                scope=RecordScope.for_customer(customer, assignee),
            )
            return attrs.evolve(body, restricted=customer.is_restricted)

        key = caching.customer_details_key(
            actor.organization_id, customer_id, plan.include, plan.include_deleted
        )
        body = await caching.read_through(hub.cache, key, load)
        # The use case's decision on the record read (restricted, scope), hit or miss.
        customer_view_decision(actor, customer_id, body.scope, restricted=body.restricted)
        # The version does not follow the relations (interactions, reminders, …): with them
        # the response is never "not modified".
        relations = plan.include & use_cases.RELATION_INCLUDES
        if selected is not None:
            # The cached body is the whole customer; the selection is cut from it per request.
            body = _select_cached(body, selected)
        return caching.cached_response(
            body,
            if_none_match=None if relations else if_none_match,
            max_age=CACHE_TTLS["customer"],
        )

    @put(
        "/{customer_id:str}",
        operation_id="updateCustomer",
        summary="Update a customer",
        responses=error_responses(403, 404, 409, 412),
    )
    async def update_customer(
        self,
        deps: Dependencies,
        actor: Actor,
        customer_id: CUSTOMER_ID,
        data: CustomerIn,
        if_match: _IF_MATCH = None,
    ) -> Response[Envelope[CustomerData]]:
        """Change the sent fields (absent keep, ``null`` clears); read-only fields are
        ignored."""
        updated = await use_cases.update_customer(
            deps,
            actor,
            use_cases.UpdateCustomer(
                customer_id,
                data.to_patch(),
                expected_version=parse_if_match(if_match, resource="customer"),
            ),
        )
        return await _customer_response(
            deps, actor, updated, message="Customer updated successfully"
        )

    @patch(
        "/{customer_id:str}/stage",
        operation_id="changeCustomerStage",
        summary="Move a customer to another stage",
        responses=error_responses(403, 404, 409, 412, 422),
    )
    async def change_stage(
        self,
        deps: Dependencies,
        actor: Actor,
        customer_id: CUSTOMER_ID,
        data: StageChangeIn,
        if_match: _IF_MATCH = None,
    ) -> Response[Envelope[CustomerData]]:
        """Apply a lifecycle move (422 ``INVALID_STAGE_TRANSITION`` when refused)."""
        moved = await customer_stage.change_stage(
            deps,
            actor,
            customer_stage.ChangeStage(
                customer_id,
                StageChangeRequest(to_stage=data.to_stage, notes=data.notes, reason=data.reason),
                expected_version=parse_if_match(if_match, resource="customer"),
            ),
        )
        # As the API document shows it: the customer with the history entry just appended
        # (the whole history is on GET /customers/{id}).
        return await _customer_response(
            deps, actor, moved, message="Customer stage updated successfully", history_tail=True
        )

    @delete(
        "/{customer_id:str}",
        operation_id="deleteCustomer",
        summary="Delete a customer",
        status_code=200,
        responses=error_responses(403, 404, 412),
    )
    async def delete_customer(
        self,
        deps: Dependencies,
        actor: Actor,
        customer_id: CUSTOMER_ID,
        permanent: Annotated[
            bool, Parameter(description="Delete for good (admin); default: soft delete")
        ] = False,
        if_match: _IF_MATCH = None,
    ) -> Response[Envelope[DeletionData]]:
        """Soft delete (restorable), or with ``permanent=true`` remove the customer for good."""
        deletion = await customer_deletion.delete_customer(
            deps,
            actor,
            customer_deletion.DeleteCustomer(
                customer_id,
                permanent=permanent,
                expected_version=parse_if_match(if_match, resource="customer"),
            ),
        )
        return ok(
            DeletionData(deleted_at=deletion.deleted_at, permanent=deletion.permanent),
            message="Customer deleted successfully",
        )

    @post(
        "/{customer_id:str}/restore",
        operation_id="restoreCustomer",
        summary="Restore a deleted customer",
        status_code=200,
        responses=error_responses(403, 404, 409),
    )
    async def restore_customer(
        self, deps: Dependencies, actor: Actor, customer_id: CUSTOMER_ID
    ) -> Response[Envelope[CustomerData]]:
        """Undo a soft delete (admin)."""
        restored = await customer_deletion.restore_customer(
            deps, actor, customer_deletion.RestoreCustomer(customer_id)
        )
        return await _customer_response(
            deps, actor, restored, message="Customer restored successfully"
        )

    @post(
        "/{customer_id:str}/assign",
        operation_id="assignCustomer",
        summary="Assign a customer to an employee",
        status_code=200,
        responses=error_responses(403, 404, 409, 422),
    )
    async def assign_customer(
        self, deps: Dependencies, actor: Actor, customer_id: CUSTOMER_ID, data: AssignIn
    ) -> Response[Envelope[CustomerData]]:
        """Assign (admin: anyone active; manager: within the team); the open system actions
        follow the customer."""
        assigned = await customer_assignment.assign_customer(
            deps,
            actor,
            customer_assignment.AssignCustomer(
                customer_id, employee_id=data.employee_id, notes=data.notes
            ),
        )
        return await _customer_response(
            deps, actor, assigned, message="Customer assigned successfully"
        )


ROUTES: list[Any] = [CustomersController]
"""Mounted under ``/api/v1``."""

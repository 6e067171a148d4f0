"""Privacy under the PDPL (rules §8), admins only:

* ``GET|PUT /customers/{id}/consents`` — the consent ledger: ``PUT {consents: [{channel,
  granted, source, notes?}]}`` appends one entry per changed channel; both answer the current
  state and the newest history (``docs/compliance.md``);
* ``GET /customers/{id}/personal-data`` — the access export: everything held about the
  customer as one JSON document (documents as metadata with their download links);
* ``/privacy-requests`` — data-subject requests: ``POST`` (``customerId``, ``type``,
  ``receivedAt?``, ``notes?``), ``GET`` (paged; ``status``, ``type``, ``customerId``,
  ``overdue=true``, ``dueSoon=true``), ``GET|PATCH /{id}`` (``status`` and ``reason``),
  ``POST /{id}/extend`` (``reason``, ``days`` 1–30, once, before ``dueAt``).

Other roles get 403 whatever the id; another organization's customer or request is a 404.
Answers are never cached (``private, no-store``): they are personal data.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response, get, patch, post, put
from litestar.params import Parameter

from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases import privacy as use_cases
from customers_hub.domain.model import Actor
from customers_hub.domain.privacy import ConsentChange, PrivacyRequest, RequestStatus, RequestType
from customers_hub.entrypoints.http.envelope import Envelope, ok
from customers_hub.entrypoints.http.errors import error_responses
from customers_hub.entrypoints.http.route_params import CUSTOMER_ID, NO_STORE, id_parameter
from customers_hub.entrypoints.http.strict import StrictController
from customers_hub.entrypoints.http.wire import LIMIT, PAGE, page_to_wire
from customers_hub.entrypoints.http.wire.commands import to_command
from customers_hub.entrypoints.http.wire.privacy import (
    ConsentsData,
    ConsentsIn,
    ExtendIn,
    PersonalDataData,
    PrivacyRequestData,
    PrivacyRequestIn,
    PrivacyRequestPatchIn,
    PrivacyRequestsData,
    consents_to_wire,
    personal_data_to_wire,
    request_to_wire,
)

__all__ = ["ROUTES", "CustomerPrivacyController", "PrivacyRequestsController"]

_REQUEST_ID = Annotated[str, id_parameter("Privacy request")]


class CustomerPrivacyController(StrictController):
    """``/api/v1/customers/{id}/consents`` and ``/api/v1/customers/{id}/personal-data``."""

    path = "/customers"
    tags = ("Privacy",)

    @get(
        "/{customer_id:str}/consents",
        operation_id="getCustomerConsents",
        summary="A customer's consents and their history",
        responses=error_responses(403, 404),
    )
    async def get_consents(
        self, deps: Dependencies, actor: Actor, customer_id: CUSTOMER_ID
    ) -> Response[Envelope[ConsentsData]]:
        """The current consent per channel and the newest 100 history entries."""
        ledger = await use_cases.get_consents(deps, actor, customer_id)
        return ok(consents_to_wire(ledger), headers=NO_STORE)

    @put(
        "/{customer_id:str}/consents",
        operation_id="updateCustomerConsents",
        summary="Record consent changes",
        responses=error_responses(403, 404),
    )
    async def put_consents(
        self,
        deps: Dependencies,
        actor: Actor,
        customer_id: CUSTOMER_ID,
        data: ConsentsIn,
    ) -> Response[Envelope[ConsentsData]]:
        """Append one ledger entry per changed channel; answers the ledger."""
        changes = tuple(
            ConsentChange(channel=c.channel, granted=c.granted, source=c.source, notes=c.notes)
            for c in data.consents
        )
        command = use_cases.RecordConsents(customer_id=customer_id, changes=changes)
        ledger = await use_cases.record_consents(deps, actor, command)
        return ok(consents_to_wire(ledger), message="Consents recorded", headers=NO_STORE)

    @get(
        "/{customer_id:str}/personal-data",
        operation_id="exportCustomerPersonalData",
        summary="Everything held about a customer (PDPL access)",
        responses=error_responses(403, 404),
    )
    async def personal_data(
        self, deps: Dependencies, actor: Actor, customer_id: CUSTOMER_ID
    ) -> Response[Envelope[PersonalDataData]]:
        """One JSON document of the customer's data; audited as an export."""
        data = await use_cases.export_personal_data(deps, actor, customer_id)
        zone = await deps.zone_of(actor.organization_id)
        return ok(
            PersonalDataData(personal_data=personal_data_to_wire(data, zone)),
            headers={
                **NO_STORE,
                "Content-Disposition": f'attachment; filename="personal-data-{customer_id}.json"',
            },
        )


def _request_response(
    deps: Dependencies, request: PrivacyRequest, *, message: str | None = None
) -> Response[Envelope[PrivacyRequestData]]:
    """The answer holding one privacy request (its deadline read at the clock's now)."""
    return ok(
        PrivacyRequestData(request=request_to_wire(request, deps.clock.now())),
        message=message,
        headers=NO_STORE,
    )


_STATUS = Annotated[list[RequestStatus] | None, Parameter(description="Only these statuses")]
_TYPE = Annotated[list[RequestType] | None, Parameter(description="Only these types")]


class PrivacyRequestsController(StrictController):
    """``/api/v1/privacy-requests``."""

    path = "/privacy-requests"
    tags = ("Privacy",)

    @post(
        "/",
        operation_id="createPrivacyRequest",
        summary="Log a data subject's request",
        responses=error_responses(403, 404),
    )
    async def create_request(
        self, deps: Dependencies, actor: Actor, data: PrivacyRequestIn
    ) -> Response[Envelope[PrivacyRequestData]]:
        """A new request in ``received`` with ``dueAt`` 30 local days after receipt."""
        command = to_command(data, use_cases.CreatePrivacyRequest)
        request = await use_cases.create_privacy_request(deps, actor, command)
        return _request_response(deps, request, message="Privacy request logged")

    @get(
        "/",
        operation_id="listPrivacyRequests",
        summary="List the organization's privacy requests",
        responses=error_responses(403),
    )
    async def list_requests(
        self,
        deps: Dependencies,
        actor: Actor,
        page: PAGE = 1,
        limit: LIMIT = use_cases.REQUESTS_DEFAULT_LIMIT,
        status: _STATUS = None,
        type: _TYPE = None,
        customer_id: Annotated[
            str | None, Parameter(query="customerId", max_length=50, description="One customer's")
        ] = None,
        overdue: Annotated[
            bool | None, Parameter(description="true: open requests past dueAt")
        ] = None,
        due_soon: Annotated[
            bool | None,
            Parameter(
                query="dueSoon",
                description="true: open requests due by the end of the local day 7 days ahead",
            ),
        ] = None,
    ) -> Response[Envelope[PrivacyRequestsData]]:
        """Newest received first."""
        params = use_cases.ListPrivacyRequests(
            page=page,
            limit=limit,
            statuses=tuple(status or ()),
            types=tuple(type or ()),
            customer_id=customer_id,
            overdue=overdue,
            due_soon=due_soon,
        )
        result = await use_cases.list_privacy_requests(deps, actor, params)
        now = deps.clock.now()
        return ok(
            PrivacyRequestsData(
                requests=[request_to_wire(r, now) for r in result.items],
                pagination=page_to_wire(result),
            ),
            headers=NO_STORE,
        )

    @get(
        "/{request_id:str}",
        operation_id="getPrivacyRequest",
        summary="Get a privacy request",
        responses=error_responses(403, 404),
    )
    async def get_request(
        self, deps: Dependencies, actor: Actor, request_id: _REQUEST_ID
    ) -> Response[Envelope[PrivacyRequestData]]:
        """One request of the organization."""
        request = await use_cases.get_privacy_request(deps, actor, request_id)
        return _request_response(deps, request)

    @patch(
        "/{request_id:str}",
        operation_id="updatePrivacyRequestStatus",
        summary="Move a privacy request to another status",
        responses=error_responses(403, 404, 422),
    )
    async def update_request(
        self,
        deps: Dependencies,
        actor: Actor,
        request_id: _REQUEST_ID,
        data: PrivacyRequestPatchIn,
    ) -> Response[Envelope[PrivacyRequestData]]:
        """``received → in_progress → completed | rejected`` (a rejection needs a reason)."""
        command = to_command(data, use_cases.ChangeRequestStatus, request_id=request_id)
        request = await use_cases.change_request_status(deps, actor, command)
        return _request_response(deps, request, message="Privacy request updated")

    @post(
        "/{request_id:str}/extend",
        operation_id="extendPrivacyRequest",
        summary="Extend a privacy request's deadline once",
        status_code=200,
        responses=error_responses(403, 404, 422),
    )
    async def extend_request(
        self, deps: Dependencies, actor: Actor, request_id: _REQUEST_ID, data: ExtendIn
    ) -> Response[Envelope[PrivacyRequestData]]:
        """Move ``dueAt`` by ``days`` (default 30) local days, once, before it passes."""
        command = to_command(data, use_cases.ExtendPrivacyRequest, request_id=request_id)
        request = await use_cases.extend_privacy_request(deps, actor, command)
        return _request_response(deps, request, message="Privacy request extended")


ROUTES: list[Any] = [CustomerPrivacyController, PrivacyRequestsController]
"""Mounted under ``/api/v1``."""

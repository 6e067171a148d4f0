"""Webhooks (admins only): ``/api/v1/webhooks``.

* ``POST /webhooks`` ``{url, events, description?}`` → 201 ``{webhook}`` with its ``secret``,
  shown this once (store it: it verifies the ``X-CustomersHub-Signature`` of each delivery);
* ``GET /webhooks`` (paged), ``GET|PATCH|DELETE /webhooks/{id}``;
* ``GET /webhooks/{id}/deliveries`` (newest first, paged, ``status`` filter): each with its
  ``status``, ``attempts``, ``lastResponseCode``, ``nextAttemptAt``;
* ``POST /webhooks/{id}/deliveries/{deliveryId}/retry`` → 202: due again now.

``events`` are domain event names (``customer.created``, …) or ``["*"]``; ``url`` is http(s) and
must resolve to public addresses (``CUSTOMERS_HUB_WEBHOOKS_ALLOW_PRIVATE=1`` lifts that). Another
organization's hook is a 404; other roles get 403. Delivery and verification:
``docs/webhooks.md``.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Response, delete, get, patch, post
from litestar.params import Parameter

from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases import webhooks as use_cases
from customers_hub.domain.model import Actor
from customers_hub.domain.unset import UNSET as DOMAIN_UNSET
from customers_hub.domain.webhooks import (
    DESCRIPTION_MAX,
    EVENTS_MAX,
    URL_MAX,
    DeliveryStatus,
    EventName,
    Webhook,
    WebhookDelivery,
)
from customers_hub.entrypoints.http.envelope import Envelope, ok
from customers_hub.entrypoints.http.errors import error_responses
from customers_hub.entrypoints.http.route_params import NO_STORE, id_parameter
from customers_hub.entrypoints.http.strict import StrictController
from customers_hub.entrypoints.http.wire import (
    LIMIT,
    PAGE,
    UNSET,
    Pagination,
    UnsetType,
    Wire,
    WireIn,
    page_to_wire,
)
from customers_hub.entrypoints.http.wire.commands import to_command
from customers_hub.entrypoints.http.wire.convert import out_of, to_wire

__all__ = [
    "ROUTES",
    "URL_PATTERN",
    "WebhookCreatedData",
    "WebhookCreatedOut",
    "WebhookData",
    "WebhookDeletedData",
    "WebhookDeliveriesData",
    "WebhookDeliveryData",
    "WebhookDeliveryOut",
    "WebhookIn",
    "WebhookOut",
    "WebhookPatchIn",
    "WebhooksController",
    "WebhooksData",
]

_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
URL_PATTERN = rf"^https?://[A-Za-z0-9.-]+(:{_PORT})?([/?][!-\"$-~]*)?$"
"""What ``url`` may look like: http(s), a host name or IPv4 address, a port, a path and query
in printable ASCII (percent-encode the rest); no credentials, no fragment (its addresses are
judged when it is stored)."""
_URL = Annotated[str, msgspec.Meta(min_length=1, max_length=URL_MAX, pattern=URL_PATTERN)]
_EVENTS = Annotated[list[EventName], msgspec.Meta(min_length=1, max_length=EVENTS_MAX)]
_DESCRIPTION = Annotated[str, msgspec.Meta(max_length=DESCRIPTION_MAX)]


# The records' fields on the wire (wire.convert.out_of); never the organization, and the secret
# only once (WebhookCreatedOut).
_WebhookFields: Any = out_of(Webhook, skip=("organization_id", "secret", "failing_since"))
_DeliveryFields: Any = out_of(
    WebhookDelivery,
    skip=("organization_id",),
    nulls=("last_response_code", "next_attempt_at"),
)


class WebhookOut(_WebhookFields):  # type: ignore[misc]  # fields made from the record
    """A webhook (its secret is shown only when it is created)."""


class WebhookCreatedOut(WebhookOut):
    """A new webhook with its ``secret`` (``whsec_…``), shown this once."""

    secret: str


class WebhookData(Wire, kw_only=True):
    """``data`` of reading or changing one webhook."""

    webhook: WebhookOut


class WebhookCreatedData(Wire, kw_only=True):
    """``data`` of ``POST /webhooks``."""

    webhook: WebhookCreatedOut


class WebhooksData(Wire, kw_only=True):
    """``data`` of ``GET /webhooks``."""

    webhooks: list[WebhookOut]
    pagination: Pagination


class WebhookDeletedData(Wire, kw_only=True):
    """``data`` of ``DELETE /webhooks/{id}``."""

    webhook_id: str


class WebhookDeliveryOut(_DeliveryFields):  # type: ignore[misc]  # fields made from the record
    """One event sent (or to send) to a webhook."""


class WebhookDeliveriesData(Wire, kw_only=True):
    """``data`` of ``GET /webhooks/{id}/deliveries``."""

    deliveries: list[WebhookDeliveryOut]
    pagination: Pagination


class WebhookDeliveryData(Wire, kw_only=True):
    """``data`` of ``POST …/deliveries/{deliveryId}/retry``."""

    delivery: WebhookDeliveryOut


class WebhookIn(WireIn, kw_only=True):
    """``POST /webhooks``."""

    url: _URL
    events: _EVENTS
    description: _DESCRIPTION | None = None


class WebhookPatchIn(WireIn, kw_only=True):
    """``PATCH /webhooks/{id}``: the fields to change; absent ones keep their value."""

    echoes = WebhookOut  # its read-only keys are checked and ignored

    url: _URL | UnsetType = UNSET
    events: _EVENTS | UnsetType = UNSET
    description: _DESCRIPTION | UnsetType | None = UNSET
    is_active: bool | UnsetType = UNSET


def webhook_to_wire(webhook: Webhook) -> WebhookOut:
    """The wire form of ``webhook`` (never its secret)."""
    return to_wire(webhook, WebhookOut)


def delivery_to_wire(delivery: WebhookDelivery) -> WebhookDeliveryOut:
    """The wire form of ``delivery``."""
    return to_wire(delivery, WebhookDeliveryOut)


_ID = Annotated[str, id_parameter("Webhook")]
_DELIVERY_ID = Annotated[str, id_parameter("Delivery")]


class WebhooksController(StrictController):
    """``/api/v1/webhooks``."""

    path = "/webhooks"
    tags = ("Webhooks",)

    @post(
        "/",
        operation_id="createWebhook",
        summary="Create a webhook",
        responses=error_responses(403),
    )
    async def create_webhook(
        self, deps: Dependencies, actor: Actor, data: WebhookIn
    ) -> Response[Envelope[WebhookCreatedData]]:
        """Subscribe ``url`` to ``events``; the answer holds the secret, shown only now."""
        command = to_command(data, use_cases.CreateWebhook, events=tuple(data.events))
        webhook = await use_cases.create_webhook(deps, actor, command)
        return ok(
            WebhookCreatedData(webhook=to_wire(webhook, WebhookCreatedOut)),
            message="Webhook created; store its secret now, it is not shown again",
            headers=NO_STORE,
        )

    @get(
        "/",
        operation_id="listWebhooks",
        summary="List the organization's webhooks",
        responses=error_responses(403),
    )
    async def list_webhooks(
        self,
        deps: Dependencies,
        actor: Actor,
        page: PAGE = 1,
        limit: LIMIT = use_cases.WEBHOOKS_DEFAULT_LIMIT,
    ) -> Response[Envelope[WebhooksData]]:
        """The organization's webhooks, oldest first."""
        result = await use_cases.list_webhooks(deps, actor, page=page, limit=limit)
        return ok(
            WebhooksData(
                webhooks=[webhook_to_wire(w) for w in result.items],
                pagination=page_to_wire(result),
            ),
            headers=NO_STORE,
        )

    @get(
        "/{webhook_id:str}",
        operation_id="getWebhook",
        summary="Get a webhook",
        responses=error_responses(403, 404),
    )
    async def get_webhook(
        self, deps: Dependencies, actor: Actor, webhook_id: _ID
    ) -> Response[Envelope[WebhookData]]:
        """One webhook of the organization (without its secret)."""
        webhook = await use_cases.get_webhook(deps, actor, webhook_id)
        return ok(WebhookData(webhook=webhook_to_wire(webhook)), headers=NO_STORE)

    @patch(
        "/{webhook_id:str}",
        operation_id="updateWebhook",
        summary="Change a webhook",
        responses=error_responses(403, 404),
    )
    async def update_webhook(
        self, deps: Dependencies, actor: Actor, webhook_id: _ID, data: WebhookPatchIn
    ) -> Response[Envelope[WebhookData]]:
        """Change the sent fields; ``isActive: true`` re-enables a disabled webhook."""
        events = tuple(data.events) if not isinstance(data.events, UnsetType) else DOMAIN_UNSET
        change = to_command(data, use_cases.UpdateWebhook, webhook_id=webhook_id, events=events)
        webhook = await use_cases.update_webhook(deps, actor, change)
        return ok(WebhookData(webhook=webhook_to_wire(webhook)), message="Webhook updated")

    @delete(
        "/{webhook_id:str}",
        operation_id="deleteWebhook",
        summary="Delete a webhook",
        status_code=200,
        responses=error_responses(403, 404),
    )
    async def delete_webhook(
        self, deps: Dependencies, actor: Actor, webhook_id: _ID
    ) -> Response[Envelope[WebhookDeletedData]]:
        """Delete the webhook and its deliveries (nothing more is sent to it)."""
        await use_cases.delete_webhook(deps, actor, webhook_id)
        return ok(WebhookDeletedData(webhook_id=webhook_id), message="Webhook deleted")

    @get(
        "/{webhook_id:str}/deliveries",
        operation_id="listWebhookDeliveries",
        summary="List a webhook's deliveries",
        responses=error_responses(403, 404),
    )
    async def list_deliveries(
        self,
        deps: Dependencies,
        actor: Actor,
        webhook_id: _ID,
        page: PAGE = 1,
        limit: LIMIT = use_cases.DELIVERIES_DEFAULT_LIMIT,
        status: Annotated[
            DeliveryStatus | None, Parameter(description="Only deliveries of this status")
        ] = None,
    ) -> Response[Envelope[WebhookDeliveriesData]]:
        """The webhook's deliveries, newest first."""
        result = await use_cases.list_deliveries(
            deps, actor, webhook_id, page=page, limit=limit, status=status
        )
        return ok(
            WebhookDeliveriesData(
                deliveries=[delivery_to_wire(d) for d in result.items],
                pagination=page_to_wire(result),
            ),
            headers=NO_STORE,
        )

    @post(
        "/{webhook_id:str}/deliveries/{delivery_id:str}/retry",
        operation_id="retryWebhookDelivery",
        summary="Send a delivery again",
        status_code=202,
        responses=error_responses(403, 404),
    )
    async def retry_delivery(
        self, deps: Dependencies, actor: Actor, webhook_id: _ID, delivery_id: _DELIVERY_ID
    ) -> Response[Envelope[WebhookDeliveryData]]:
        """Make the delivery due now (pending, a fresh retry budget); the sender takes it."""
        delivery = await use_cases.retry_delivery(deps, actor, webhook_id, delivery_id)
        return ok(
            WebhookDeliveryData(delivery=delivery_to_wire(delivery)),
            message="Delivery scheduled",
        )


ROUTES: list[Any] = [WebhooksController]
"""Mounted under ``/api/v1``."""

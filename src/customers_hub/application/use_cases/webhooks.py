"""Use cases of webhooks (admins only): create, list, read, change, delete a hook; list its
deliveries; retry one.

Decisions where the contracts are silent (``docs/webhooks.md``):

* The secret is generated here (32 random bytes, ``whsec_…``) and returned by
  :func:`create_webhook` only; reads never show it again.
* A target URL is judged twice: its shape (domain; 400 ``VALIDATION_ERROR`` naming ``url``),
  then every address its host resolves to — one private, loopback or link-local address
  refuses it with 422 ``BUSINESS_RULE_VIOLATION`` (``details.field: "url"``; a rule about the
  network, not about the text) unless the deployment allows them. A host that does not resolve
  (yet) is accepted: the sender checks the addresses again before every attempt.
* Another organization's hook reads exactly like one that does not exist (404).
* Re-activating a disabled hook clears its reason and its failure clock.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit

from attrs import evolve, frozen

from customers_hub.application.context import Dependencies, present, transaction
from customers_hub.application.outbox import WebhookRepository, WebhookServices
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.queries import Page
from customers_hub.domain.access import require_admin_role
from customers_hub.domain.errors import (
    BusinessRuleViolation,
    FieldError,
    NotFound,
    ValidationFailed,
)
from customers_hub.domain.events import DomainEvent
from customers_hub.domain.model import Actor
from customers_hub.domain.unset import UNSET, Unset
from customers_hub.domain.validation.texts import clean_text
from customers_hub.domain.webhooks import (
    DESCRIPTION_MAX,
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
    event_errors,
    is_public_address,
    normalized_events,
    url_errors,
)

__all__ = [
    "DELIVERIES_DEFAULT_LIMIT",
    "WEBHOOKS_DEFAULT_LIMIT",
    "CreateWebhook",
    "UpdateWebhook",
    "create_webhook",
    "delete_webhook",
    "get_webhook",
    "list_deliveries",
    "list_webhooks",
    "retry_delivery",
    "update_webhook",
]

WEBHOOKS_DEFAULT_LIMIT = 20
DELIVERIES_DEFAULT_LIMIT = 20
_RESOURCE = "webhook"
_DELIVERY = "delivery"


@frozen(kw_only=True)
class CreateWebhook:
    """``POST /webhooks``."""

    url: str
    events: tuple[str, ...]
    description: str | None = None


@frozen(kw_only=True)
class UpdateWebhook:
    """``PATCH /webhooks/{id}``: ``UNSET`` keeps a value."""

    webhook_id: str
    url: str | Unset = UNSET
    events: tuple[str, ...] | Unset = UNSET
    description: str | Unset | None = UNSET
    is_active: bool | Unset = UNSET


def _admin_only(actor: Actor) -> None:
    # Webhooks carry every event of the organization to a third party: admins only (rules §4
    # keep organization-wide configuration with admins).
    require_admin_role(actor, "manage webhooks")


def _description(description: str | None) -> str | None:
    # Cleaned like every note (trimmed, NFC, no control characters); blank means none.
    if description is None:
        return None
    cleaned = clean_text("description", description, max_length=DESCRIPTION_MAX, multiline=True)
    return cleaned or None


def _description_errors(description: str | None) -> list[FieldError]:
    try:
        _description(description)
    except ValidationFailed as failed:
        return list(failed.errors)
    return []


async def _check_addresses(services: WebhookServices, url: str) -> None:
    if services.allow_private:
        return
    host = urlsplit(url).hostname or ""
    refused = sorted(
        {str(a) for a in await services.resolver.resolve(host) if not is_public_address(a)}
    )
    if refused:
        raise BusinessRuleViolation(
            f"url must point to a public address; {host!r} resolves to {', '.join(refused)} "
            "(private, loopback or link-local)",
            {"field": "url", "addresses": refused},
        )


async def _check(
    services: WebhookServices,
    url: str | Unset,
    events: Sequence[str] | Unset,
    description: str | Unset | None,
) -> None:
    errors: list[FieldError] = []
    if events is not UNSET:
        errors.extend(event_errors(events))
    if description is not UNSET:
        errors.extend(_description_errors(description))
    if url is not UNSET:
        errors.extend(url_errors(url))
    if errors:
        raise ValidationFailed(errors)
    if url is not UNSET:
        await _check_addresses(services, url)


def _services(deps: Dependencies) -> WebhookServices:
    return present(deps.webhooks, "webhooks")


async def _existing(repo: WebhookRepository, actor: Actor, webhook_id: str) -> Webhook:
    found = await repo.get(actor.organization_id, webhook_id)
    if found is None:
        raise NotFound(_RESOURCE, webhook_id)
    return found


async def create_webhook(deps: Dependencies, actor: Actor, command: CreateWebhook) -> Webhook:
    """A new active hook of the actor's organization, with its secret (shown only now)."""
    _admin_only(actor)
    services = _services(deps)
    await _check(services, command.url, command.events, command.description)
    now = deps.clock.now()
    webhook = Webhook(
        id=deps.ids.new_id("whk"),
        organization_id=actor.organization_id,
        url=command.url,
        events=normalized_events(command.events),
        secret=f"whsec_{secrets.token_urlsafe(32)}",
        description=_description(command.description),
        created_at=now,
        updated_at=now,
        created_by=actor.user_id,
    )

    async def work(uow: UnitOfWork) -> tuple[Webhook, list[DomainEvent]]:
        await services.repositories(uow).add(webhook)
        return webhook, []

    return await transaction(deps, work)


async def list_webhooks(
    deps: Dependencies,
    actor: Actor,
    *,
    page: int = 1,
    limit: int = WEBHOOKS_DEFAULT_LIMIT,
) -> Page[Webhook]:
    """The organization's hooks, oldest first."""
    _admin_only(actor)
    async with deps.uow(read_only=True) as uow:
        repo = _services(deps).repositories(uow)
        return await repo.list(actor.organization_id, page=page, limit=limit)


async def get_webhook(deps: Dependencies, actor: Actor, webhook_id: str) -> Webhook:
    """One hook of the organization (404 otherwise)."""
    _admin_only(actor)
    async with deps.uow(read_only=True) as uow:
        return await _existing(_services(deps).repositories(uow), actor, webhook_id)


async def update_webhook(deps: Dependencies, actor: Actor, patch: UpdateWebhook) -> Webhook:
    """Change the sent fields; re-activating clears the reason it was disabled for."""
    _admin_only(actor)
    services = _services(deps)
    await _check(services, patch.url, patch.events, patch.description)

    async def work(uow: UnitOfWork) -> tuple[Webhook, list[DomainEvent]]:
        repo = services.repositories(uow)
        current = await _existing(repo, actor, patch.webhook_id)
        changed = current
        if patch.url is not UNSET:
            changed = evolve(changed, url=patch.url)
        if patch.events is not UNSET:
            changed = evolve(changed, events=normalized_events(patch.events))
        if patch.description is not UNSET:
            changed = evolve(changed, description=_description(patch.description))
        if patch.is_active is not UNSET and patch.is_active != current.is_active:
            changed = evolve(
                changed, is_active=patch.is_active, disabled_reason=None, failing_since=None
            )
        if changed == current:
            return current, []
        changed = evolve(changed, updated_at=deps.clock.now())
        await repo.save(changed)
        return changed, []

    return await transaction(deps, work)


async def delete_webhook(deps: Dependencies, actor: Actor, webhook_id: str) -> None:
    """Delete the hook and its deliveries (404 when there is none)."""
    _admin_only(actor)
    services = _services(deps)

    async def work(uow: UnitOfWork) -> tuple[None, list[DomainEvent]]:
        if not await services.repositories(uow).delete(actor.organization_id, webhook_id):
            raise NotFound(_RESOURCE, webhook_id)
        return None, []

    await transaction(deps, work)


async def list_deliveries(
    deps: Dependencies,
    actor: Actor,
    webhook_id: str,
    *,
    page: int = 1,
    limit: int = DELIVERIES_DEFAULT_LIMIT,
    status: DeliveryStatus | None = None,
) -> Page[WebhookDelivery]:
    """The hook's deliveries, newest first (optionally of one status)."""
    _admin_only(actor)
    async with deps.uow(read_only=True) as uow:
        repo = _services(deps).repositories(uow)
        await _existing(repo, actor, webhook_id)
        return await repo.deliveries(
            actor.organization_id, webhook_id, page=page, limit=limit, status=status
        )


async def retry_delivery(
    deps: Dependencies, actor: Actor, webhook_id: str, delivery_id: str
) -> WebhookDelivery:
    """Send the delivery again as soon as possible (also a delivered or failed one)."""
    _admin_only(actor)
    services = _services(deps)

    async def work(uow: UnitOfWork) -> tuple[WebhookDelivery, list[DomainEvent]]:
        repo = services.repositories(uow)
        await _existing(repo, actor, webhook_id)
        retried = await repo.retry(actor.organization_id, webhook_id, delivery_id, deps.clock.now())
        if retried is None:
            raise NotFound(_DELIVERY, delivery_id)
        return retried, []

    return await transaction(deps, work)

"""Use cases of the organization settings (rules §9): every member reads, admins write.

Decisions where the contracts are silent (documented in ``docs/``):

* An organization that never stored settings reads the defaults of §9 with the deployment's
  configured time zone (``CUSTOMERS_HUB_TIME_ZONE``, :attr:`HubSettings.time_zone`) — the
  environment variable is the default of organizations without settings of their own.
* The first accepted change stores the whole value (the sent fields and the defaults read
  until then): from then on the organization's settings are its own, and a later change of the
  environment variable no longer moves them.
* A change is a partial update (absent fields keep their value); every failing field is
  reported at once (400 ``VALIDATION_ERROR``) and nothing is stored.
* A change that changes nothing stores nothing and publishes nothing; an accepted change
  publishes ``organization.settings_updated`` with the changed fields.
"""

from __future__ import annotations

from datetime import tzinfo
from zoneinfo import ZoneInfo

from attrs import evolve

from customers_hub.application.caching import Cache, CacheKeys, load_through
from customers_hub.application.context import Dependencies, ZoneLookup, read_zone
from customers_hub.application.ports import UnitOfWork, UnitOfWorkFactory
from customers_hub.application.write_context import transaction_as
from customers_hub.domain.access import Operation, enforce
from customers_hub.domain.events import DomainEvent, OrganizationSettingsUpdated
from customers_hub.domain.model import Actor
from customers_hub.domain.settings import (
    DEFAULT_TIME_ZONE,
    OrganizationSettings,
    OrganizationSettingsRecord,
    SettingsPatch,
    apply_settings_patch,
    changed_settings,
    check_settings_patch,
    is_time_zone,
)

__all__ = [
    "cached_zone_lookup",
    "default_settings",
    "get_organization_settings",
    "organization_zone",
    "settings_in",
    "update_organization_settings",
]

_RESOURCE = "organization_settings"


def default_settings(time_zone: tzinfo) -> OrganizationSettings:
    """§9's defaults in ``time_zone`` (the deployment's configured zone); a zone that has no
    IANA name (a fixed offset) gives §9's ``Asia/Riyadh``."""
    name = time_zone.key if isinstance(time_zone, ZoneInfo) else None
    return OrganizationSettings(
        time_zone=name if name is not None and is_time_zone(name) else DEFAULT_TIME_ZONE
    )


def _defaults(deps: Dependencies, organization_id: str) -> OrganizationSettingsRecord:
    return OrganizationSettingsRecord(
        organization_id=organization_id, settings=default_settings(deps.settings.time_zone)
    )


async def settings_in(
    deps: Dependencies, uow: UnitOfWork, organization_id: str
) -> OrganizationSettings:
    """The settings of ``organization_id`` read on ``uow`` (stored, or §9's defaults): for use
    cases that need a setting inside their own transaction."""
    stored = await uow.organization_settings.get(organization_id)
    return stored.settings if stored is not None else default_settings(deps.settings.time_zone)


async def organization_zone(deps: Dependencies, organization_id: str) -> tzinfo:
    """The time zone of ``organization_id`` (rules §9): its "today", due dates and statistics
    follow it (:meth:`Dependencies.zone_of`)."""
    return await deps.zone_of(organization_id)


def cached_zone_lookup(cache: Cache, uow: UnitOfWorkFactory, default: tzinfo) -> ZoneLookup:
    """A :data:`~customers_hub.application.context.ZoneLookup` through the hub's cache: one
    settings read per organization until its settings change (``organization.settings_updated``
    invalidates the ``settings`` tag on every instance, so a new zone counts from the next
    request on)."""

    async def lookup(organization_id: str) -> tzinfo:
        async def load() -> bytes:
            zone = await read_zone(uow, organization_id, default)
            return _zone_name(zone).encode()

        name = (await load_through(cache, CacheKeys.settings(organization_id), load)).decode()
        return ZoneInfo(name) if name else default

    return lookup


def _zone_name(zone: tzinfo) -> str:
    # An unnamed zone (a fixed offset configured for the deployment) is the default: "".
    return zone.key if isinstance(zone, ZoneInfo) else ""


async def get_organization_settings(deps: Dependencies, actor: Actor) -> OrganizationSettingsRecord:
    """The settings of the actor's organization (any member): stored, or the defaults."""
    organization_id = actor.organization_id
    enforce(actor, Operation.READ_SETTINGS, resource_type=_RESOURCE, resource_id=organization_id)
    async with deps.uow(read_only=True) as uow:
        stored = await uow.organization_settings.get(organization_id)
    return stored if stored is not None else _defaults(deps, organization_id)


async def update_organization_settings(
    deps: Dependencies, actor: Actor, patch: SettingsPatch
) -> OrganizationSettingsRecord:
    """Change the sent settings of the actor's organization (admin); the settings after."""
    organization_id = actor.organization_id
    enforce(actor, Operation.MANAGE_SETTINGS, resource_type=_RESOURCE, resource_id=organization_id)
    check_settings_patch(patch)  # bad input never opens a write transaction

    async def work(uow: UnitOfWork) -> tuple[OrganizationSettingsRecord, list[DomainEvent]]:
        current = await uow.organization_settings.get(organization_id)
        if current is None:
            current = _defaults(deps, organization_id)
        settings = apply_settings_patch(current.settings, patch)
        changes = changed_settings(current.settings, settings)
        if not changes:
            return current, []
        now = deps.clock.now()
        saved = evolve(
            current,
            settings=settings,
            version=current.version + 1,
            updated_at=now,
            updated_by=actor.user_id,
        )
        await uow.organization_settings.save(saved, expected_version=current.version)
        event = OrganizationSettingsUpdated(
            organization_id=organization_id,
            occurred_at=now,
            updated_by=actor.user_id,
            changes=changes,
        )
        return saved, [event]

    return await transaction_as(deps, actor, work)

"""Organization settings (issue 11, Deliver 2, rules §9): ``/api/v1/organization/settings``.

* ``GET`` — every member of the organization reads its settings: ``timeZone`` (IANA),
  ``requireFalLicence``, ``currency`` (ISO 4217), ``retentionYears``, and, once an admin stored
  them, ``updatedAt``/``updatedBy``. An organization that never stored settings reads the
  defaults, with the deployment's ``CUSTOMERS_HUB_TIME_ZONE``.
* ``PATCH`` (admin) — absent keys keep their value; none can be cleared (``null`` is a 400).
  Every failing field is named in one 400 ``VALIDATION_ERROR`` and nothing is stored; unknown
  keys are refused; the response's read-only keys (``organizationId``, ``updatedAt``,
  ``updatedBy``) may be echoed back and are ignored.

The organization is always the caller's (the token's ``organizationId``): there is no way to
name another one, so another organization's settings are neither read nor changed. Not
cached: one primary-key read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import attrs
import msgspec
from litestar import Response, get, patch

from customers_hub.application.context import Dependencies
from customers_hub.application.use_cases import settings as use_cases
from customers_hub.domain.errors import FieldError
from customers_hub.domain.model import Actor
from customers_hub.domain.settings import (
    OrganizationSettingsRecord,
    SettingsPatch,
    settings_errors,
)
from customers_hub.entrypoints.http.envelope import Envelope, ok
from customers_hub.entrypoints.http.errors import error_responses
from customers_hub.entrypoints.http.strict import StrictController
from customers_hub.entrypoints.http.wire import (
    UNSET,
    UnsetType,
    Wire,
    WireIn,
)
from customers_hub.entrypoints.http.wire.commands import to_command
from customers_hub.entrypoints.http.wire.convert import to_wire

__all__ = [
    "ROUTES",
    "OrganizationSettingsController",
    "OrganizationSettingsData",
    "OrganizationSettingsOut",
    "OrganizationSettingsPatchIn",
    "settings_to_wire",
]


class OrganizationSettingsOut(Wire, kw_only=True):
    """The settings of the caller's organization (rules §9)."""

    organization_id: str
    time_zone: str
    require_fal_licence: bool
    currency: str
    retention_years: int
    updated_at: datetime | UnsetType = UNSET
    updated_by: str | UnsetType = UNSET


class OrganizationSettingsData(Wire, kw_only=True):
    """``data`` of both operations."""

    settings: OrganizationSettingsOut


class OrganizationSettingsPatchIn(WireIn, kw_only=True):
    """``PATCH /organization/settings``: the settings to change; absent keys keep."""

    echoes = OrganizationSettingsOut  # its read-only keys are checked and ignored

    time_zone: str | UnsetType = UNSET
    require_fal_licence: bool | UnsetType = UNSET
    currency: str | UnsetType = UNSET
    retention_years: int | UnsetType = UNSET

    def rule_errors(self, today: date) -> Sequence[FieldError]:
        """The domain's errors of the fields that parsed (when others failed on their type,
        so that one 400 names every failing field)."""
        sent = msgspec.structs.asdict(self)
        return settings_errors({name: v for name, v in sent.items() if v is not UNSET})


def settings_to_wire(record: OrganizationSettingsRecord) -> OrganizationSettingsOut:
    """The wire form of ``record`` (the settings' attributes are the wire's, by name)."""
    return to_wire(record, OrganizationSettingsOut, **attrs.asdict(record.settings, recurse=False))


class OrganizationSettingsController(StrictController):
    """``/api/v1/organization/settings``."""

    path = "/organization/settings"
    tags = ("Organization",)

    @get(
        "/",
        operation_id="getOrganizationSettings",
        summary="Get the organization's settings",
        responses=error_responses(403),
    )
    async def get_settings(
        self, deps: Dependencies, actor: Actor
    ) -> Response[Envelope[OrganizationSettingsData]]:
        """The caller's organization's settings (every member)."""
        record = await use_cases.get_organization_settings(deps, actor)
        return ok(OrganizationSettingsData(settings=settings_to_wire(record)))

    @patch(
        "/",
        operation_id="updateOrganizationSettings",
        summary="Change the organization's settings",
        responses=error_responses(403, 409),
    )
    async def update_settings(
        self, deps: Dependencies, actor: Actor, data: OrganizationSettingsPatchIn
    ) -> Response[Envelope[OrganizationSettingsData]]:
        """Change the sent settings (admin); the settings after the change."""
        record = await use_cases.update_organization_settings(
            deps, actor, to_command(data, SettingsPatch)
        )
        return ok(
            OrganizationSettingsData(settings=settings_to_wire(record)),
            message="Organization settings updated successfully",
        )


ROUTES: list[Any] = [OrganizationSettingsController]
"""Mounted under ``/api/v1``."""

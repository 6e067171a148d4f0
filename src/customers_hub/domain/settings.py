"""Organization settings (rules §9): the values one organization chooses, and their rules.

:class:`OrganizationSettings` is a frozen value: the organization's time zone (an IANA name),
whether FAL licences are required (rules §7, off by default so that existing data keeps
flowing), its currency (ISO 4217, ``SAR``) and how many years restricted personal data is kept
after an erasure request (rules §8, 10 by default). An organization that never stored settings
has the defaults, with the deployment's configured time zone.

The rules are data (:data:`SETTING_RULES`: attribute → API field and check) walked by
:func:`settings_errors`; :func:`apply_settings_patch` is the partial update (``UNSET`` keeps a
value), refusing with one :class:`~customers_hub.domain.errors.ValidationFailed` that names every
failing field. Only the sent fields are judged, so a stored value from before a rule existed
never blocks an unrelated change.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import cache
from types import MappingProxyType
from typing import Any, Final
from zoneinfo import ZoneInfo, available_timezones

from attrs import evolve, fields, frozen

from customers_hub.domain.errors import FieldError, ValidationFailed
from customers_hub.domain.naming import camel_case
from customers_hub.domain.unset import UNSET, Unset

__all__ = [
    "CURRENCY_PATTERN",
    "DEFAULT_CURRENCY",
    "DEFAULT_RETENTION_YEARS",
    "DEFAULT_TIME_ZONE",
    "RETENTION_YEARS_MAX",
    "RETENTION_YEARS_MIN",
    "SETTING_RULES",
    "OrganizationSettings",
    "OrganizationSettingsRecord",
    "SettingsPatch",
    "apply_settings_patch",
    "changed_settings",
    "check_settings_patch",
    "is_time_zone",
    "settings_errors",
    "time_zone_names",
]

DEFAULT_TIME_ZONE: Final = "Asia/Riyadh"
"""The time zone of rules §9 when the deployment configures none."""
DEFAULT_CURRENCY: Final = "SAR"
DEFAULT_RETENTION_YEARS: Final = 10
"""Rules §9; also the period Saudi commercial record-keeping asks for."""
RETENTION_YEARS_MIN: Final = 1
RETENTION_YEARS_MAX: Final = 30
"""Bounds of ``retentionYears``: at least a year; a longer period than 30 years is a typo."""

CURRENCY_PATTERN: Final = r"^[A-Z]{3}$"
"""The shape of an ISO 4217 alphabetic code (three capital Latin letters)."""
_CURRENCY: Final = re.compile(CURRENCY_PATTERN)

# Names the zoneinfo search path may list that are files of the machine, not zones an
# organization lives in: ``localtime`` and ``posixrules`` depend on the host, ``Factory`` is
# tzdata's "no zone" placeholder.
_NOT_ZONES: Final = frozenset({"localtime", "posixrules", "Factory"})


@cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA time zone name accepted as ``timeZone``, sorted (read once per process)."""
    return tuple(sorted(available_timezones() - _NOT_ZONES))


def is_time_zone(name: str) -> bool:
    """True when ``name`` is exactly an accepted IANA time zone name (case and spaces count)."""
    return name in _zone_set()


@cache
def _zone_set() -> frozenset[str]:
    return frozenset(time_zone_names())


@frozen(kw_only=True)
class OrganizationSettings:
    """What one organization chooses (rules §9); the defaults are §9's."""

    time_zone: str = DEFAULT_TIME_ZONE
    """IANA name: the organization's "today", overdue and statistics are computed in it."""
    require_fal_licence: bool = False
    """Rules §7: the assigned broker needs a valid FAL licence from ``negotiation`` on."""
    currency: str = DEFAULT_CURRENCY
    """ISO 4217 code of the organization's amounts."""
    retention_years: int = DEFAULT_RETENTION_YEARS
    """Rules §8: how long restricted personal data of an erased customer is kept."""

    @property
    def zone(self) -> ZoneInfo:
        """The time zone as a ``ZoneInfo``."""
        return ZoneInfo(self.time_zone)

    def local_today(self, now: datetime) -> date:
        """The organization's calendar day at the aware instant ``now``."""
        return now.astimezone(self.zone).date()


@frozen(kw_only=True)
class OrganizationSettingsRecord:
    """An organization's settings as stored: ``version`` 0 means never stored (the defaults)."""

    organization_id: str
    settings: OrganizationSettings
    version: int = 0
    updated_at: datetime | None = None
    updated_by: str | None = None
    """The user id of the admin who last changed them."""


@frozen(kw_only=True)
class SettingsPatch:
    """A partial update: :data:`UNSET` keeps the stored value (none of these can be cleared)."""

    time_zone: str | Unset = UNSET
    require_fal_licence: bool | Unset = UNSET
    currency: str | Unset = UNSET
    retention_years: int | Unset = UNSET


# ---------------------------------------------------------------------------------------------
# The rules, as data: each check answers the problem with a value, or None when it is fine.

_Check = Callable[[Any], str | None]


def _time_zone_problem(value: Any) -> str | None:
    if isinstance(value, str) and is_time_zone(value):
        return None
    return "Time zone must be an IANA time zone name such as Asia/Riyadh"


def _boolean_problem(value: Any) -> str | None:
    return None if isinstance(value, bool) else "Must be true or false"


def _currency_problem(value: Any) -> str | None:
    if isinstance(value, str) and _CURRENCY.fullmatch(value):
        return None
    return "Currency must be an ISO 4217 code of three capital letters, such as SAR"


def _retention_problem(value: Any) -> str | None:
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and RETENTION_YEARS_MIN <= value <= RETENTION_YEARS_MAX
    ):
        return None
    return (
        f"Retention must be a whole number of years from {RETENTION_YEARS_MIN} "
        f"to {RETENTION_YEARS_MAX}"
    )


_CHECKS: Final[Mapping[str, _Check]] = {
    "time_zone": _time_zone_problem,
    "require_fal_licence": _boolean_problem,
    "currency": _currency_problem,
    "retention_years": _retention_problem,
}

SETTING_RULES: Final[Mapping[str, tuple[str, _Check]]] = MappingProxyType(
    {a.name: (camel_case(a.name), _CHECKS[a.name]) for a in fields(OrganizationSettings)}
)
"""Attribute → (camelCase API field, check) for every setting."""


def settings_errors(values: Mapping[str, Any]) -> tuple[FieldError, ...]:
    """The failing fields among ``values`` (attribute name → value), in attribute order."""
    errors: list[FieldError] = []
    for name, (field, check) in SETTING_RULES.items():
        if name not in values:
            continue
        problem = check(values[name])
        if problem is not None:
            errors.append(FieldError(field, problem))
    return tuple(errors)


def _sent(patch: SettingsPatch) -> dict[str, Any]:
    return {
        a.name: getattr(patch, a.name)
        for a in fields(SettingsPatch)
        if getattr(patch, a.name) is not UNSET
    }


def check_settings_patch(patch: SettingsPatch) -> None:
    """Raise one :class:`ValidationFailed` naming every failing sent field; nothing else."""
    errors = settings_errors(_sent(patch))
    if errors:
        raise ValidationFailed(errors)


def apply_settings_patch(
    current: OrganizationSettings, patch: SettingsPatch
) -> OrganizationSettings:
    """``current`` with the sent fields of ``patch``; :class:`ValidationFailed` naming every
    failing sent field (``current`` is not judged)."""
    check_settings_patch(patch)
    return evolve(current, **_sent(patch))


def changed_settings(
    before: OrganizationSettings, after: OrganizationSettings
) -> dict[str, object]:
    """camelCase API field → new value, for each setting that differs."""
    return {
        field: getattr(after, name)
        for name, (field, _check) in SETTING_RULES.items()
        if getattr(before, name) != getattr(after, name)
    }

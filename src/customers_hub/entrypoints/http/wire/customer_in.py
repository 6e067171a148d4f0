"""Customer request bodies and their conversion to drafts and patches."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from customers_hub.domain.compliance import KsaCompliance
from customers_hub.domain.enums import CustomerSource, Stage
from customers_hub.domain.errors import FieldError, ValidationFailed
from customers_hub.domain.model import Customer, CustomerFields, Preferences
from customers_hub.domain.unset import UNSET as DOMAIN_UNSET
from customers_hub.domain.unset import Unset as DomainUnset
from customers_hub.domain.validation import (
    CustomerDraft,
    CustomerPatch,
    PreferencesPatch,
    validate_customer_draft,
    validate_customer_patch,
)
from customers_hub.entrypoints.http.wire.base import T
from customers_hub.entrypoints.http.wire.commands import body_of
from customers_hub.entrypoints.http.wire.compliance import KsaComplianceIn
from customers_hub.entrypoints.http.wire.customer_out import CustomerOut

# ---------------------------------------------------------------------------------------------
# Customer request bodies: their fields are the domain's writable fields


def _domain_value(value: Any, *, patch: bool) -> Any:
    """A sent value as the domain takes it (a list as a tuple, a nested body as its record)."""
    if isinstance(value, PreferencesIn):
        return value.to_patch() if patch else value.to_preferences()
    if isinstance(value, KsaComplianceIn):
        return value.to_domain()
    if isinstance(value, list):
        return tuple(value)
    return value


def _sent(body: msgspec.Struct) -> dict[str, Any]:
    """The keys a body sent (``null`` included), by attribute name."""
    return {
        name: getattr(body, name)
        for name in body.__struct_fields__
        if getattr(body, name) is not UNSET
    }


_PreferencesBody: Any = body_of(Preferences, optional=True)


class PreferencesIn(_PreferencesBody):  # type: ignore[misc]  # fields made from the record
    """``preferences`` of a request body (the fields of :class:`Preferences`): absent keys keep
    (update) or default (create); ``null`` clears."""

    def to_preferences(self) -> Preferences:
        """Preferences of a new customer (absent or null keys: no preference)."""
        values = {n: _domain_value(v, patch=False) for n, v in _sent(self).items() if v is not None}
        return Preferences(**values)

    def to_patch(self) -> PreferencesPatch:
        """A :class:`PreferencesPatch` of the sent keys."""
        return PreferencesPatch(**{n: _domain_value(v, patch=True) for n, v in _sent(self).items()})


_CustomerBody: Any = body_of(
    CustomerFields,
    nested={Preferences: PreferencesIn, KsaCompliance: KsaComplianceIn},
    optional=True,
)


class CustomerIn(_CustomerBody):  # type: ignore[misc]  # fields made from the record
    """The writable fields of a customer (:class:`CustomerFields`; create and full/partial
    update).

    On create, ``name`` and ``phone`` are required (400 naming them); on update every key is
    optional, ``null`` clears it (``name``, ``phone``, ``source`` and ``priority`` cannot be
    cleared). Read-only keys (``id``, ``stage``, ``leadScore``, ``organizationId``,
    ``createdAt``, counters, …) are accepted and ignored.
    """

    def to_draft(self) -> CustomerDraft:
        """The :class:`CustomerDraft` of a create body (absent = not given)."""
        values = {n: _domain_value(v, patch=False) for n, v in _sent(self).items() if v is not None}
        # The domain reports a missing name, phone or source with the other failing fields.
        values.setdefault("name", "")
        values.setdefault("phone", "")
        values.setdefault("source", None)
        return CustomerDraft(**values)

    def to_patch(self) -> CustomerPatch:
        """The :class:`CustomerPatch` of an update body (absent = keep, null = clear)."""
        return CustomerPatch(**{n: _domain_value(v, patch=True) for n, v in _sent(self).items()})

    def rule_errors(self, today: date) -> Sequence[FieldError]:
        """The domain's rules over the sent fields of an update (:mod:`~.strict` asks when
        other fields failed on their type). Cross-field rules compare the sent values only: the
        stored record is the use case's to read."""
        placeholder = Customer(
            id="",
            organization_id="",
            name="-",
            phone="-",
            source=CustomerSource.MANUAL,
            stage=Stage.NEW_LEAD,
            created_at=datetime.now(UTC),
            updated_at=datetime.now(UTC),
        )
        try:
            validate_customer_patch(self.to_patch(), placeholder, today)
        except ValidationFailed as failed:
            return failed.errors
        return ()


class NewCustomerIn(CustomerIn):
    """``POST /customers``: the fields of :class:`CustomerIn`; ``name``, ``phone`` and
    ``source`` are required (reported with every other failing field)."""

    def rule_errors(self, today: date) -> Sequence[FieldError]:
        """The domain's rules of a new customer over the fields that parsed."""
        try:
            validate_customer_draft(self.to_draft(), today)
        except ValidationFailed as failed:
            return failed.errors
        return ()


CustomerIn.echoes = CustomerOut


def domain_unset(value: T | UnsetType) -> T | DomainUnset:
    """msgspec's ``UNSET`` as the domain's ``UNSET``."""
    return DOMAIN_UNSET if value is UNSET else value

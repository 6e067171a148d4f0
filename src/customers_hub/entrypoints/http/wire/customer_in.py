"""Customer request bodies and their conversion to drafts and patches."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from msgspec import UNSET, UnsetType

from customers_hub.domain.enums import (
    CustomerSource,
    CustomerType,
    Furnishing,
    Gender,
    Priority,
    PropertyType,
    Purpose,
    Stage,
    Timeline,
)
from customers_hub.domain.errors import FieldError, ValidationFailed
from customers_hub.domain.model import (
    Customer,
    Preferences,
)
from customers_hub.domain.unset import UNSET as DOMAIN_UNSET
from customers_hub.domain.unset import Unset as DomainUnset
from customers_hub.domain.validation import (
    CustomerDraft,
    CustomerPatch,
    PreferencesPatch,
    validate_customer_draft,
    validate_customer_patch,
)
from customers_hub.entrypoints.http.wire.base import (
    T,
    WireIn,
)
from customers_hub.entrypoints.http.wire.compliance import (
    KsaComplianceIn,
)
from customers_hub.entrypoints.http.wire.customer_out import (
    CustomerOut,
)

# ---------------------------------------------------------------------------------------------
# Customer request bodies


class PreferencesIn(WireIn, kw_only=True):
    """``preferences`` of a request body: absent keys keep (update) or default (create);
    ``null`` clears."""

    property_type: list[PropertyType] | UnsetType | None = UNSET
    budget_min: Decimal | UnsetType | None = UNSET
    budget_max: Decimal | UnsetType | None = UNSET
    preferred_areas: list[str] | UnsetType | None = UNSET
    preferred_cities: list[str] | UnsetType | None = UNSET
    bedrooms: int | UnsetType | None = UNSET
    bathrooms: int | UnsetType | None = UNSET
    min_area: Decimal | UnsetType | None = UNSET
    max_area: Decimal | UnsetType | None = UNSET
    purpose: Purpose | UnsetType | None = UNSET
    timeline: Timeline | UnsetType | None = UNSET
    amenities: list[str] | UnsetType | None = UNSET
    furnishing: Furnishing | UnsetType | None = UNSET

    def _given(self) -> dict[str, Any]:
        return {
            name: getattr(self, name)
            for name in self.__struct_fields__
            if getattr(self, name) is not UNSET
        }

    def to_preferences(self) -> Preferences:
        """Preferences of a new customer (absent or null keys: no preference)."""
        values: dict[str, Any] = {}
        for name, value in self._given().items():
            if value is None:
                continue
            values[name] = tuple(value) if isinstance(value, list) else value
        return Preferences(**values)

    def to_patch(self) -> PreferencesPatch:
        """A :class:`PreferencesPatch` of the sent keys."""
        values: dict[str, Any] = {}
        for name, value in self._given().items():
            values[name] = tuple(value) if isinstance(value, list) else value
        return PreferencesPatch(**values)


class CustomerIn(WireIn, kw_only=True):
    """The writable fields of a customer (create and full/partial update).

    On create, ``name`` and ``phone`` are required (400 naming them); on update every key is
    optional, ``null`` clears it (``name``, ``phone``, ``source`` and ``priority`` cannot be
    cleared). Read-only keys (``id``, ``stage``, ``leadScore``, ``organizationId``,
    ``createdAt``, counters, …) are accepted and ignored.
    """

    name: str | UnsetType | None = UNSET
    name_en: str | UnsetType | None = UNSET
    phone: str | UnsetType | None = UNSET
    whatsapp: str | UnsetType | None = UNSET
    email: str | UnsetType | None = UNSET
    national_id: str | UnsetType | None = UNSET
    nationality: str | UnsetType | None = UNSET
    gender: Gender | UnsetType | None = UNSET
    date_of_birth: date | UnsetType | None = UNSET
    source: CustomerSource | UnsetType | None = UNSET
    source_details: dict[str, str] | UnsetType | None = UNSET
    preferences: PreferencesIn | UnsetType | None = UNSET
    priority: Priority | UnsetType | None = UNSET
    customer_type: CustomerType | UnsetType | None = UNSET
    tags: list[str] | UnsetType | None = UNSET
    assigned_employee_id: str | UnsetType | None = UNSET
    city: str | UnsetType | None = UNSET
    district: str | UnsetType | None = UNSET
    region: str | UnsetType | None = UNSET
    address: str | UnsetType | None = UNSET
    latitude: Decimal | UnsetType | None = UNSET
    longitude: Decimal | UnsetType | None = UNSET
    notes: str | UnsetType | None = UNSET
    total_deal_value: Decimal | UnsetType | None = UNSET
    expected_revenue: Decimal | UnsetType | None = UNSET
    paid_amount: Decimal | UnsetType | None = UNSET
    ksa_compliance: KsaComplianceIn | UnsetType | None = UNSET

    def _value(self, name: str) -> Any:
        value = getattr(self, name)
        return None if value is UNSET else value

    def to_draft(self) -> CustomerDraft:
        """The :class:`CustomerDraft` of a create body (absent = not given)."""
        values: dict[str, Any] = {}
        for name in self.__struct_fields__:
            value = self._value(name)
            if value is None:
                continue
            if name == "preferences":
                value = value.to_preferences()
            elif name == "ksa_compliance":
                value = value.to_domain()
            elif name == "tags":
                value = tuple(value)
            elif name == "source_details":
                value = dict(value)
            values[name] = value
        # The domain reports a missing name, phone or source with the other failing fields.
        values.setdefault("name", "")
        values.setdefault("phone", "")
        values.setdefault("source", None)
        return CustomerDraft(**values)

    def to_patch(self) -> CustomerPatch:
        """The :class:`CustomerPatch` of an update body (absent = keep, null = clear)."""
        values: dict[str, Any] = {}
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if value is UNSET:
                continue
            if name == "preferences" and value is not None:
                value = value.to_patch()
            elif name == "ksa_compliance" and value is not None:
                value = value.to_domain()
            elif name == "tags" and value is not None:
                value = tuple(value)
            values[name] = value
        return CustomerPatch(**values)

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


class NewCustomerIn(CustomerIn, kw_only=True):
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

"""KSA compliance records on the wire (the same shape in and out)."""

from __future__ import annotations

from datetime import date
from typing import Any

from msgspec import UNSET, UnsetType

from customers_hub.domain.compliance import (
    EjarContract,
    Financing,
    KsaCompliance,
    SakaniEligibility,
    WafiLicence,
)
from customers_hub.domain.enums import (
    PaymentFrequency,
)
from customers_hub.entrypoints.http.wire.base import Wire
from customers_hub.entrypoints.http.wire.commands import body_of
from customers_hub.entrypoints.http.wire.convert import from_wire, to_wire

# --- KSA compliance (the same shape in and out) ----------------------------------------------


# The records' fields on the wire are the domain's (wire.commands.body_of); money is a number.
_EjarBody: Any = body_of(EjarContract)
_WafiBody: Any = body_of(WafiLicence)
_SakaniBody: Any = body_of(SakaniEligibility)
_FinancingBody: Any = body_of(Financing)


class EjarContractWire(_EjarBody):  # type: ignore[misc]  # fields made from the record
    """An EJAR rental contract."""


class WafiLicenceWire(_WafiBody):  # type: ignore[misc]  # fields made from the record
    """The Wafi licence of an off-plan project."""


class SakaniWire(_SakaniBody):  # type: ignore[misc]  # fields made from the record
    """Sakani (NHC) eligibility."""


class FinancingWire(_FinancingBody):  # type: ignore[misc]  # fields made from the record
    """Financing: bank, REDF support, mortgage pre-approval."""


_COMPLIANCE_PARTS: dict[type, type] = {
    EjarContract: EjarContractWire,
    WafiLicence: WafiLicenceWire,
    SakaniEligibility: SakaniWire,
    Financing: FinancingWire,
}
_ComplianceBody: Any = body_of(KsaCompliance, nested=_COMPLIANCE_PARTS)


class KsaComplianceIn(_ComplianceBody):  # type: ignore[misc]  # fields made from the record
    """``ksaCompliance`` of a request body (replaced as a whole)."""

    def to_domain(self) -> KsaCompliance:
        """The domain record (the parts by the same field names)."""
        return from_wire(self, KsaCompliance)


class EjarContractOut(Wire, kw_only=True):
    """An EJAR contract in a response (money as numbers)."""

    contract_number: str
    landlord_name: str
    tenant_name: str
    start_date: date
    end_date: date
    annual_rent: float
    payment_frequency: PaymentFrequency


class FinancingOut(Wire, kw_only=True):
    """Financing in a response."""

    bank: str | UnsetType = UNSET
    redf_supported: bool
    pre_approved: bool
    pre_approval_amount: float | UnsetType = UNSET
    first_home: bool
    is_citizen: bool


class KsaComplianceOut(Wire, kw_only=True):
    """The customer's KSA compliance records (each part omitted when absent)."""

    ejar: EjarContractOut | UnsetType = UNSET
    wafi: WafiLicenceWire | UnsetType = UNSET
    sakani: SakaniWire | UnsetType = UNSET
    financing: FinancingOut | UnsetType = UNSET


def ksa_compliance_to_wire(compliance: KsaCompliance) -> KsaComplianceOut:
    """The wire form of the KSA compliance records."""
    return to_wire(compliance, KsaComplianceOut)

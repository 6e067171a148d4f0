"""KSA compliance records on the wire (the same shape in and out)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from msgspec import UNSET, UnsetType

from customers_hub.domain.compliance import KsaCompliance
from customers_hub.domain.enums import (
    PaymentFrequency,
)
from customers_hub.entrypoints.http.wire.base import Wire, WireIn
from customers_hub.entrypoints.http.wire.convert import from_wire, to_wire

# --- KSA compliance (the same shape in and out) ----------------------------------------------


class EjarContractWire(WireIn, kw_only=True):
    """An EJAR rental contract."""

    contract_number: str
    landlord_name: str
    tenant_name: str
    start_date: date
    end_date: date
    annual_rent: Decimal
    payment_frequency: PaymentFrequency


class WafiLicenceWire(WireIn, kw_only=True):
    """The Wafi licence of an off-plan project."""

    licence_number: str
    project_name: str
    expires_on: date | None = None


class SakaniWire(WireIn, kw_only=True):
    """Sakani (NHC) eligibility."""

    eligible: bool
    beneficiary_number: str | None = None
    checked_on: date | None = None


class FinancingWire(WireIn, kw_only=True):
    """Financing: bank, REDF support, mortgage pre-approval."""

    bank: str | None = None
    redf_supported: bool = False
    pre_approved: bool = False
    pre_approval_amount: Decimal | None = None
    first_home: bool = False
    is_citizen: bool = False


class KsaComplianceIn(WireIn, kw_only=True):
    """``ksaCompliance`` of a request body (replaced as a whole)."""

    ejar: EjarContractWire | None = None
    wafi: WafiLicenceWire | None = None
    sakani: SakaniWire | None = None
    financing: FinancingWire | None = None

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

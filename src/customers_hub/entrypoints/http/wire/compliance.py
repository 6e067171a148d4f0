"""KSA compliance records on the wire (the same shape in and out)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

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
from customers_hub.entrypoints.http.wire.base import (
    Wire,
    WireIn,
    money,
    opt,
)

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
        """The domain record."""
        ejar = self.ejar
        wafi = self.wafi
        sakani = self.sakani
        financing = self.financing
        return KsaCompliance(
            ejar=EjarContract(
                contract_number=ejar.contract_number,
                landlord_name=ejar.landlord_name,
                tenant_name=ejar.tenant_name,
                start_date=ejar.start_date,
                end_date=ejar.end_date,
                annual_rent=ejar.annual_rent,
                payment_frequency=ejar.payment_frequency,
            )
            if ejar is not None
            else None,
            wafi=WafiLicence(
                licence_number=wafi.licence_number,
                project_name=wafi.project_name,
                expires_on=wafi.expires_on,
            )
            if wafi is not None
            else None,
            sakani=SakaniEligibility(
                eligible=sakani.eligible,
                beneficiary_number=sakani.beneficiary_number,
                checked_on=sakani.checked_on,
            )
            if sakani is not None
            else None,
            financing=Financing(
                bank=financing.bank,
                redf_supported=financing.redf_supported,
                pre_approved=financing.pre_approved,
                pre_approval_amount=financing.pre_approval_amount,
                first_home=financing.first_home,
                is_citizen=financing.is_citizen,
            )
            if financing is not None
            else None,
        )


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
    ejar, wafi, sakani, financing = (
        compliance.ejar,
        compliance.wafi,
        compliance.sakani,
        compliance.financing,
    )
    return KsaComplianceOut(
        ejar=EjarContractOut(
            contract_number=ejar.contract_number,
            landlord_name=ejar.landlord_name,
            tenant_name=ejar.tenant_name,
            start_date=ejar.start_date,
            end_date=ejar.end_date,
            annual_rent=float(money(ejar.annual_rent) or 0),
            payment_frequency=ejar.payment_frequency,
        )
        if ejar is not None
        else UNSET,
        wafi=WafiLicenceWire(
            licence_number=wafi.licence_number,
            project_name=wafi.project_name,
            expires_on=wafi.expires_on,
        )
        if wafi is not None
        else UNSET,
        sakani=SakaniWire(
            eligible=sakani.eligible,
            beneficiary_number=sakani.beneficiary_number,
            checked_on=sakani.checked_on,
        )
        if sakani is not None
        else UNSET,
        financing=FinancingOut(
            bank=opt(financing.bank),
            redf_supported=financing.redf_supported,
            pre_approved=financing.pre_approved,
            pre_approval_amount=money(financing.pre_approval_amount),
            first_home=financing.first_home,
            is_citizen=financing.is_citizen,
        )
        if financing is not None
        else UNSET,
    )

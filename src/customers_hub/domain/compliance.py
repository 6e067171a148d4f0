"""KSA compliance records: EJAR rental contracts, Wafi off-plan licences, Sakani eligibility,
financing, and the SAMA minimum down payment.

The broker's FAL licence belongs to the employee (see ``model.FalLicence``); the records here
belong to the customer's deal.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from attrs import frozen

from customers_hub.domain.enums import PaymentFrequency


@frozen
class EjarContract:
    """A residential or commercial rental contract registered on the EJAR platform."""

    contract_number: str
    landlord_name: str
    tenant_name: str
    start_date: date
    end_date: date
    annual_rent: Decimal
    payment_frequency: PaymentFrequency

    @property
    def instalment(self) -> Decimal:
        """The rent of one payment period, rounded to the halala."""
        periods = {
            PaymentFrequency.MONTHLY: 12,
            PaymentFrequency.QUARTERLY: 4,
            PaymentFrequency.SEMI_ANNUAL: 2,
            PaymentFrequency.ANNUAL: 1,
        }[self.payment_frequency]
        return (self.annual_rent / periods).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@frozen
class WafiLicence:
    """The Wafi licence of an off-plan project the customer buys into."""

    licence_number: str
    project_name: str
    expires_on: date | None = None


@frozen
class SakaniEligibility:
    """Whether the customer is eligible for the Sakani (NHC) housing programme."""

    eligible: bool
    beneficiary_number: str | None = None
    checked_on: date | None = None


@frozen
class Financing:
    """How the customer pays: bank, REDF support and mortgage pre-approval."""

    bank: str | None = None
    redf_supported: bool = False
    pre_approved: bool = False
    pre_approval_amount: Decimal | None = None
    first_home: bool = False
    is_citizen: bool = False


@frozen
class KsaCompliance:
    """The customer's KSA compliance records; every part is optional."""

    ejar: EjarContract | None = None
    wafi: WafiLicence | None = None
    sakani: SakaniEligibility | None = None
    financing: Financing | None = None


_FIRST_HOME_CITIZEN = Decimal("0.10")
_FIRST_HOME_CITIZEN_REDF = Decimal("0.05")
_STANDARD = Decimal("0.30")


def minimum_down_payment_ratio(
    *, is_citizen: bool, first_home: bool, redf_supported: bool
) -> Decimal:
    """The SAMA minimum down-payment ratio.

    A citizen's first home: 10 %, or 5 % with REDF support. Everything else: 30 %.
    """
    if is_citizen and first_home:
        return _FIRST_HOME_CITIZEN_REDF if redf_supported else _FIRST_HOME_CITIZEN
    return _STANDARD


def minimum_down_payment(
    price: Decimal, *, is_citizen: bool, first_home: bool, redf_supported: bool
) -> Decimal:
    """The SAMA minimum down payment for a property of ``price`` SAR, rounded to the halala."""
    if price < 0:
        raise ValueError("price must not be negative")
    ratio = minimum_down_payment_ratio(
        is_citizen=is_citizen, first_home=first_home, redf_supported=redf_supported
    )
    return (price * ratio).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

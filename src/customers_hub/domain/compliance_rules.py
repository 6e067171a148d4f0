"""Saudi compliance guards of the stage machine (rules §7), written as data plus pure functions.

§1's guards look at the customer alone; these also need what lies outside it — whether the
organization requires FAL licences, its local "today", the assigned broker's licence and whether
the deal's property is off-plan. The use case gathers those into :class:`ComplianceFacts`; the
functions here decide.

* :data:`COMPLIANCE_RULES` — entering a stage (or any later one) on a *forward* move requires
  every rule of that stage and of every earlier one whose condition applies. A backward move
  (which needs a reason under §1) is never blocked by them.
* :func:`~customers_hub.domain.lifecycle.check_stage_change` (given the facts) reports the first
  failing rule of §1 and §7 together in ``details.rule``, earliest stage first, §1 before §7
  within a stage; :func:`~customers_hub.domain.lifecycle.checklist` lists every rule's state for
  the stages ahead (``GET /customers/{id}/compliance``). A FAL licence that expires within
  :data:`FAL_EXPIRY_WARNING` is a warning there (:func:`fal_expires_soon`), never a refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Final

from attrs import frozen

from customers_hub.domain.compliance import EjarContract, KsaCompliance, minimum_down_payment
from customers_hub.domain.enums import Purpose, Stage
from customers_hub.domain.model import Customer, FalLicence
from customers_hub.domain.validation import years_after

__all__ = [
    "COMPLIANCE_RULES",
    "EJAR_MAX_TERM_YEARS",
    "FAL_EXPIRY_WARNING",
    "CheckState",
    "ChecklistItem",
    "ComplianceFacts",
    "ComplianceRule",
    "compliance_failure",
    "ejar_contract_complete",
    "fal_expires_soon",
    "licence_is_valid",
    "required_down_payment",
]

FAL_EXPIRY_WARNING: Final = timedelta(days=30)
"""A valid FAL licence expiring within this many days is a checklist warning (never a refusal)."""

EJAR_MAX_TERM_YEARS: Final = 30
"""The longest EJAR contract term the rule accepts (the shortest is one day)."""


@frozen
class ComplianceFacts:
    """What the §7 rules need besides the customer.

    ``broker_licence`` is the FAL licence of the customer's assigned employee (``None`` when the
    customer is unassigned or the employee has none); ``deal_property_off_plan`` says whether the
    property of the deal (an interest ``offer_made`` or ``purchased``) is off-plan in the catalog.
    """

    today: date
    require_fal_licence: bool = False
    assigned: bool = False
    broker_licence: FalLicence | None = None
    deal_property_off_plan: bool = False


Predicate = Callable[[Customer, ComplianceFacts], bool]


@frozen
class ComplianceRule:
    """One row of §7: entering ``stage`` or later, where ``applies``, requires ``satisfied``."""

    stage: Stage
    rule: str
    applies: Predicate
    satisfied: Predicate
    message: str
    message_ar: str
    condition: str
    """When the rule applies, in English (for the checklist)."""
    warns: Predicate | None = None
    """When a passing rule is still a checklist warning (never a refusal)."""


def licence_is_valid(licence: FalLicence | None, today: date) -> bool:
    """A FAL licence with a number whose expiry is ``today`` or later."""
    return licence is not None and bool(licence.number.strip()) and licence.is_valid_on(today)


def _records(customer: Customer) -> KsaCompliance:
    return customer.ksa_compliance or KsaCompliance()


def _fal_applies(_customer: Customer, facts: ComplianceFacts) -> bool:
    return facts.require_fal_licence


def _fal_satisfied(_customer: Customer, facts: ComplianceFacts) -> bool:
    return facts.assigned and licence_is_valid(facts.broker_licence, facts.today)


def _is_rental(customer: Customer, _facts: ComplianceFacts) -> bool:
    return customer.preferences.purpose is Purpose.RENT


def ejar_contract_complete(contract: EjarContract | None) -> bool:
    """An EJAR record the rule accepts: a contract number, lessor and lessee names, a term from
    one day to :data:`EJAR_MAX_TERM_YEARS` years, an annual rent above zero and a payment
    frequency (the type guarantees one)."""
    if contract is None:
        return False
    named = all(
        text.strip()
        for text in (contract.contract_number, contract.landlord_name, contract.tenant_name)
    )
    term_ok = contract.start_date < contract.end_date and contract.end_date <= years_after(
        contract.start_date, EJAR_MAX_TERM_YEARS
    )
    return named and term_ok and contract.annual_rent > Decimal(0)


def _ejar_satisfied(customer: Customer, _facts: ComplianceFacts) -> bool:
    return ejar_contract_complete(_records(customer).ejar)


def _off_plan_deal(_customer: Customer, facts: ComplianceFacts) -> bool:
    return facts.deal_property_off_plan


def _has_wafi(customer: Customer, _facts: ComplianceFacts) -> bool:
    wafi = _records(customer).wafi
    return wafi is not None and bool(wafi.licence_number.strip())


def _financed(customer: Customer, _facts: ComplianceFacts) -> bool:
    return _records(customer).financing is not None


def required_down_payment(customer: Customer) -> Decimal | None:
    """The SAMA minimum down payment of a financed deal (``None`` without financing or value)."""
    financing = _records(customer).financing
    if financing is None or customer.total_deal_value is None:
        return None
    return minimum_down_payment(
        customer.total_deal_value,
        is_citizen=financing.is_citizen,
        first_home=financing.first_home,
        redf_supported=financing.redf_supported,
    )


def _down_payment_met(customer: Customer, _facts: ComplianceFacts) -> bool:
    required = required_down_payment(customer)
    if required is None:
        return False
    return (customer.paid_amount or Decimal(0)) >= required


def fal_expires_soon(facts: ComplianceFacts) -> bool:
    """The broker's licence is valid today but expires within :data:`FAL_EXPIRY_WARNING`."""
    licence = facts.broker_licence
    return (
        licence is not None
        and licence_is_valid(licence, facts.today)
        and licence.expires_on - facts.today <= FAL_EXPIRY_WARNING
    )


def _licence_expiring(_customer: Customer, facts: ComplianceFacts) -> bool:
    return fal_expires_soon(facts)


COMPLIANCE_RULES: Final[tuple[ComplianceRule, ...]] = (
    ComplianceRule(
        Stage.NEGOTIATION,
        "fal_licence",
        _fal_applies,
        _fal_satisfied,
        "The assigned broker needs a FAL licence valid today",
        "يلزم أن يكون لدى الوسيط المسند ترخيص فال ساري المفعول اليوم",
        "the organization requires FAL licences",
        warns=_licence_expiring,
    ),
    ComplianceRule(
        Stage.DOWN_PAYMENT,
        "wafi_licence",
        _off_plan_deal,
        _has_wafi,
        "An off-plan property needs the Wafi licence number of its project",
        "يلزم رقم ترخيص وافي للمشروع لأن العقار على الخارطة",
        "the deal's property is off-plan",
    ),
    ComplianceRule(
        Stage.CLOSING,
        "ejar_contract",
        _is_rental,
        _ejar_satisfied,
        "A rental needs a complete EJAR contract (number, lessor, lessee, term, annual rent)",
        "يلزم عقد إيجار موثق في منصة إيجار (الرقم، المؤجر، المستأجر، المدة، الإيجار السنوي)",
        "the purpose is rent",
    ),
    ComplianceRule(
        Stage.CLOSING,
        "sama_down_payment",
        _financed,
        _down_payment_met,
        "A financed purchase needs the SAMA minimum down payment paid",
        "يلزم سداد الحد الأدنى للدفعة المقدمة حسب تعليمات ساما للشراء الممول",
        "the purchase is financed",
    ),
)
"""The §7 table, earliest stage first."""


class CheckState(StrEnum):
    """A rule's state in the checklist."""

    PASS = "pass"
    BLOCK = "block"
    WARN = "warn"
    NOT_APPLICABLE = "not_applicable"


@frozen
class ChecklistItem:
    """One rule of one stage in the checklist, with its reason in both languages."""

    stage: Stage
    rule: str
    state: CheckState
    message: str
    message_ar: str


def compliance_failure(
    customer: Customer, stage: Stage, facts: ComplianceFacts
) -> ComplianceRule | None:
    """The first §7 rule that entering ``stage`` requires (cumulative), applies and fails."""
    for rule in COMPLIANCE_RULES:
        if rule.stage.rank > stage.rank:
            break
        if rule.applies(customer, facts) and not rule.satisfied(customer, facts):
            return rule
    return None

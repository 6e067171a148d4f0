"""Saudi compliance guards of the stage machine (rules §7): one table row per rule row, the order
in which §1 and §7 report, backward moves, and the agent's checklist."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from customers_hub.domain.compliance import (
    EjarContract,
    Financing,
    KsaCompliance,
    WafiLicence,
)
from customers_hub.domain.compliance_rules import (
    COMPLIANCE_RULES,
    EJAR_MAX_TERM_YEARS,
    CheckState,
    ComplianceFacts,
    ejar_contract_complete,
    licence_is_valid,
    required_down_payment,
)
from customers_hub.domain.enums import (
    CustomerSource,
    PaymentFrequency,
    PropertyInterestStatus,
    Purpose,
    Role,
    Stage,
)
from customers_hub.domain.errors import InvalidStageTransition
from customers_hub.domain.lifecycle import (
    StageChangeRequest,
    change_stage,
    check_stage_change,
    checklist,
    first_failed_rule,
    initial_stage_entry,
)
from customers_hub.domain.model import (
    Actor,
    Customer,
    FalLicence,
    Preferences,
    PropertyInterest,
)

TODAY = date(2026, 12, 6)
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
CREATED = NOW - timedelta(days=60)
S = Stage
VALID_FAL = FalLicence(number="1100012345", expires_on=TODAY + timedelta(days=365))
ACTOR = Actor(user_id="emp_001", organization_id="org_001", role=Role.ADMIN, name="مدير")


def contract(**changes: Any) -> EjarContract:
    base = EjarContract(
        contract_number="EJ-2026-000123",
        landlord_name="عبدالله المالك",
        tenant_name="سارة المستأجرة",
        start_date=TODAY,
        end_date=TODAY + timedelta(days=365),
        annual_rent=Decimal("60000"),
        payment_frequency=PaymentFrequency.QUARTERLY,
    )
    return attrs.evolve(base, **changes)


def customer(
    stage: Stage = S.SITE_VISIT,
    *,
    purpose: Purpose | None = Purpose.BUY,
    deal: str = "1000000",
    paid: str = "300000",
    compliance: KsaCompliance | None = None,
) -> Customer:
    """A customer whose §1 guards pass for every stage (interest, deal value, payment)."""
    return Customer(
        id="cust_001",
        organization_id="org_001",
        name="محمد الفهد",
        phone="+966512345678",
        source=CustomerSource.INQUIRY,
        stage=stage,
        created_at=CREATED,
        updated_at=CREATED,
        stage_history=(initial_stage_entry("sh_0", CREATED),),
        property_interests=(
            PropertyInterest(
                id="pi_1",
                property_id="prop_1",
                status=PropertyInterestStatus.OFFER_MADE,
                added_at=CREATED,
            ),
        ),
        total_deal_value=Decimal(deal),
        paid_amount=Decimal(paid),
        assigned_employee_id="emp_001",
        preferences=Preferences(purpose=purpose),
        ksa_compliance=compliance,
        version=1,
    )


def facts(**changes: Any) -> ComplianceFacts:
    base = ComplianceFacts(
        today=TODAY, require_fal_licence=True, assigned=True, broker_licence=VALID_FAL
    )
    return attrs.evolve(base, **changes)


def refused_rule(c: Customer, to: Stage, f: ComplianceFacts) -> str | None:
    try:
        check_stage_change(c, StageChangeRequest(to_stage=to, reason="skip"), ACTOR, f)
    except InvalidStageTransition as error:
        return str(error.details["rule"])
    return None


FINANCED_CITIZEN_REDF = Financing(
    bank="Al Rajhi", redf_supported=True, first_home=True, is_citizen=True
)

# One row per rule row of §7: a customer and facts that break the rule, the stage entered, and
# the same customer with the rule satisfied (which must be accepted).
RULE_ROWS: list[tuple[str, Customer, ComplianceFacts, Stage, Customer, ComplianceFacts]] = [
    (
        "fal_licence",
        customer(),
        facts(broker_licence=FalLicence(number="1100012345", expires_on=TODAY - timedelta(1))),
        S.NEGOTIATION,
        customer(),
        facts(),
    ),
    (
        "ejar_contract",
        customer(S.DOWN_PAYMENT, purpose=Purpose.RENT),
        facts(),
        S.CLOSING,
        customer(S.DOWN_PAYMENT, purpose=Purpose.RENT, compliance=KsaCompliance(ejar=contract())),
        facts(),
    ),
    (
        "wafi_licence",
        customer(S.CONTRACT_PREP),
        facts(deal_property_off_plan=True),
        S.DOWN_PAYMENT,
        customer(
            S.CONTRACT_PREP,
            compliance=KsaCompliance(wafi=WafiLicence("WF-77", "مشروع الياسمين")),
        ),
        facts(deal_property_off_plan=True),
    ),
    (
        "sama_down_payment",
        customer(
            S.DOWN_PAYMENT,
            paid="20000",  # 2 % of 1,000,000
            compliance=KsaCompliance(financing=FINANCED_CITIZEN_REDF),
        ),
        facts(),
        S.CLOSING,
        customer(
            S.DOWN_PAYMENT,
            paid="50000",  # 5 %: a citizen's first home with REDF support
            compliance=KsaCompliance(financing=FINANCED_CITIZEN_REDF),
        ),
        facts(),
    ),
]


@pytest.mark.parametrize(("rule", "broken", "broken_facts", "to", "ok", "ok_facts"), RULE_ROWS)
def test_each_rule_refuses_when_broken_and_accepts_when_met(
    rule: str,
    broken: Customer,
    broken_facts: ComplianceFacts,
    to: Stage,
    ok: Customer,
    ok_facts: ComplianceFacts,
) -> None:
    assert refused_rule(broken, to, broken_facts) == rule
    assert refused_rule(ok, to, ok_facts) is None


def test_the_table_has_one_row_per_rule() -> None:
    assert sorted(r.rule for r in COMPLIANCE_RULES) == sorted(row[0] for row in RULE_ROWS)


def test_a_refusal_changes_nothing() -> None:
    broken, broken_facts = RULE_ROWS[0][1], RULE_ROWS[0][2]
    with pytest.raises(InvalidStageTransition) as caught:
        change_stage(
            broken,
            StageChangeRequest(to_stage=S.NEGOTIATION),
            actor=ACTOR,
            entry_id="sh_1",
            now=NOW,
            facts=broken_facts,
        )
    assert caught.value.details == {
        "fromStage": "site_visit",
        "toStage": "negotiation",
        "rule": "fal_licence",
    }
    assert broken.stage is S.SITE_VISIT


# --- FAL ------------------------------------------------------------------------------------------


def test_fal_is_not_required_when_the_setting_is_off() -> None:
    assert (
        refused_rule(
            customer(), S.NEGOTIATION, facts(require_fal_licence=False, broker_licence=None)
        )
        is None
    )


@pytest.mark.parametrize(
    ("licence", "assigned", "valid"),
    [
        (VALID_FAL, True, True),
        (FalLicence(number="1", expires_on=TODAY), True, True),  # expires today: still valid
        (FalLicence(number="1", expires_on=TODAY - timedelta(1)), True, False),
        (FalLicence(number="  ", expires_on=TODAY + timedelta(9)), True, False),  # no number
        (None, True, False),
        (VALID_FAL, False, False),  # unassigned: no licensed broker
    ],
)
def test_fal_licence_validity(licence: FalLicence | None, assigned: bool, valid: bool) -> None:
    rule = refused_rule(customer(), S.NEGOTIATION, facts(broker_licence=licence, assigned=assigned))
    assert (rule is None) is valid
    assert licence_is_valid(licence, TODAY) is (
        licence is not None and licence.number.strip() != "" and licence.expires_on >= TODAY
    )


def test_fal_applies_to_every_later_stage_too() -> None:
    expired = facts(broker_licence=None)
    assert refused_rule(customer(S.CONTRACT_PREP), S.DOWN_PAYMENT, expired) == "fal_licence"


# --- order and direction --------------------------------------------------------------------------


def test_the_earliest_stage_failure_is_reported_across_section_1_and_7() -> None:
    # Entering closing: fal_licence (negotiation) fails and so does §1's payment (closing).
    c = customer(S.SITE_VISIT, paid="0")
    assert refused_rule(c, S.CLOSING, facts(broker_licence=None)) == "fal_licence"
    # With the licence valid, §1's payment guard comes before §7's closing rules.
    rental = customer(S.SITE_VISIT, paid="0", purpose=Purpose.RENT)
    assert refused_rule(rental, S.CLOSING, facts()) == "payment_required"
    assert first_failed_rule(rental, S.CLOSING, facts()) == (
        "payment_required",
        "A paid amount greater than zero is required",
    )


def test_a_backward_move_is_never_blocked_by_section_7() -> None:
    rental_closing = customer(S.CLOSING, purpose=Purpose.RENT)
    assert refused_rule(rental_closing, S.DOWN_PAYMENT, facts(broker_licence=None)) is None


def test_without_facts_only_section_1_applies() -> None:
    c = customer(purpose=Purpose.RENT)
    check_stage_change(c, StageChangeRequest(to_stage=S.CLOSING, reason="skip"), ACTOR)


# --- EJAR -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "complete"),
    [
        ({}, True),
        ({"end_date": TODAY + timedelta(days=1)}, True),  # one day
        ({"end_date": TODAY}, False),  # no term
        ({"end_date": date(TODAY.year + EJAR_MAX_TERM_YEARS, 12, 6)}, True),
        ({"end_date": date(TODAY.year + EJAR_MAX_TERM_YEARS, 12, 7)}, False),
        ({"annual_rent": Decimal(0)}, False),
        ({"contract_number": " "}, False),
        ({"landlord_name": ""}, False),
        ({"tenant_name": "  "}, False),
    ],
)
def test_ejar_contract_completeness(changes: dict[str, Any], complete: bool) -> None:
    assert ejar_contract_complete(contract(**changes)) is complete


def test_a_purchase_needs_no_ejar() -> None:
    assert refused_rule(customer(S.DOWN_PAYMENT, purpose=Purpose.BUY), S.CLOSING, facts()) is None


# --- SAMA -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("financing", "ratio"),
    [
        (Financing(first_home=True, is_citizen=True), "0.10"),
        (Financing(first_home=True, is_citizen=True, redf_supported=True), "0.05"),
        (Financing(first_home=False, is_citizen=True), "0.30"),
        (Financing(first_home=True, is_citizen=False), "0.30"),
    ],
)
def test_sama_threshold_per_buyer(financing: Financing, ratio: str) -> None:
    required = Decimal("1000000") * Decimal(ratio)
    at = customer(S.DOWN_PAYMENT, paid=str(required), compliance=KsaCompliance(financing=financing))
    below = attrs.evolve(at, paid_amount=required - Decimal("0.01"))
    assert required_down_payment(at) == required
    assert refused_rule(at, S.CLOSING, facts()) is None
    assert refused_rule(below, S.CLOSING, facts()) == "sama_down_payment"


@given(
    deal=st.decimals(min_value=1, max_value=10_000_000, places=2),
    share=st.decimals(min_value=0, max_value=1, places=4),
)
def test_cash_purchases_have_no_down_payment_rule(deal: Decimal, share: Decimal) -> None:
    paid = max((deal * share).quantize(Decimal("0.01")), Decimal("0.01"))
    c = customer(S.DOWN_PAYMENT, deal=str(deal), paid=str(paid))
    assert refused_rule(c, S.CLOSING, facts()) is None


# --- checklist ------------------------------------------------------------------------------------


def test_checklist_lists_every_rule_ahead_with_its_state() -> None:
    c = customer(S.SITE_VISIT, purpose=Purpose.RENT, paid="0")
    soon = FalLicence(number="1100012345", expires_on=TODAY + timedelta(days=10))
    items = checklist(c, facts(broker_licence=soon))
    states = {(i.stage, i.rule): i.state for i in items}
    assert states == {
        (S.NEGOTIATION, "fal_licence"): CheckState.WARN,
        (S.CONTRACT_PREP, "deal_value_required"): CheckState.PASS,
        (S.DOWN_PAYMENT, "wafi_licence"): CheckState.NOT_APPLICABLE,
        (S.CLOSING, "payment_required"): CheckState.BLOCK,
        (S.CLOSING, "ejar_contract"): CheckState.BLOCK,
        (S.CLOSING, "sama_down_payment"): CheckState.NOT_APPLICABLE,
    }
    assert all(i.message and i.message_ar for i in items)
    assert all(i.stage.rank > S.SITE_VISIT.rank for i in items)


def test_a_licence_far_from_expiry_passes() -> None:
    items = checklist(customer(S.SITE_VISIT), facts())
    assert [i.state for i in items if i.rule == "fal_licence"] == [CheckState.PASS]

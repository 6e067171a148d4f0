"""KSA compliance: the SAMA minimum down payment table and the EJAR instalment."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customers_hub.domain.compliance import (
    EjarContract,
    Financing,
    KsaCompliance,
    minimum_down_payment,
    minimum_down_payment_ratio,
)
from customers_hub.domain.enums import PaymentFrequency


@pytest.mark.parametrize(
    ("is_citizen", "first_home", "redf_supported", "ratio"),
    [
        pytest.param(True, True, False, "0.10", id="citizen first home"),
        pytest.param(True, True, True, "0.05", id="citizen first home with REDF"),
        pytest.param(True, False, False, "0.30", id="citizen, not first home"),
        pytest.param(True, False, True, "0.30", id="REDF without first home"),
        pytest.param(False, True, False, "0.30", id="non-citizen first home"),
        pytest.param(False, True, True, "0.30", id="non-citizen with REDF"),
        pytest.param(False, False, False, "0.30", id="non-citizen"),
        pytest.param(False, False, True, "0.30", id="non-citizen, REDF, not first home"),
    ],
)
def test_sama_minimum_down_payment_table(
    is_citizen: bool, first_home: bool, redf_supported: bool, ratio: str
) -> None:
    flags = {"is_citizen": is_citizen, "first_home": first_home, "redf_supported": redf_supported}
    assert minimum_down_payment_ratio(**flags) == Decimal(ratio)
    assert minimum_down_payment(Decimal(1000000), **flags) == Decimal(1000000) * Decimal(ratio)


@pytest.mark.parametrize(
    ("price", "citizen_first_home", "expected"),
    [
        pytest.param("1234567.89", True, "123456.79", id="10 % rounded to the halala"),
        pytest.param("0.25", True, "0.03", id="half up, not half even (0.025)"),
        pytest.param("0.05", False, "0.02", id="30 % of 5 halalas (0.015)"),
        pytest.param("0", True, "0.00", id="zero price"),
        pytest.param("850000", False, "255000.00", id="30 %"),
    ],
)
def test_down_payment_is_rounded_half_up_to_the_halala(
    price: str, citizen_first_home: bool, expected: str
) -> None:
    result = minimum_down_payment(
        Decimal(price),
        is_citizen=citizen_first_home,
        first_home=citizen_first_home,
        redf_supported=False,
    )
    assert result == Decimal(expected)
    assert result.as_tuple().exponent == -2


def test_redf_half_up_rounding() -> None:
    # 999.99 × 5 % = 49.9995 → 50.00
    assert minimum_down_payment(
        Decimal("999.99"), is_citizen=True, first_home=True, redf_supported=True
    ) == Decimal("50.00")


def test_a_negative_price_is_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        minimum_down_payment(Decimal(-1), is_citizen=True, first_home=True, redf_supported=False)


@given(
    st.decimals(min_value=0, max_value=10**10, places=2),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_down_payment_is_within_half_a_halala_of_the_exact_ratio(
    price: Decimal, is_citizen: bool, first_home: bool, redf_supported: bool
) -> None:
    flags = {"is_citizen": is_citizen, "first_home": first_home, "redf_supported": redf_supported}
    result = minimum_down_payment(price, **flags)
    exact = price * minimum_down_payment_ratio(**flags)
    assert abs(result - exact) <= Decimal("0.005")
    assert Decimal(0) <= result <= price


def ejar(annual_rent: str, frequency: PaymentFrequency) -> EjarContract:
    return EjarContract(
        contract_number="EJ-2024-0001",
        landlord_name="شركة العقار",
        tenant_name="محمد الفهد",
        start_date=date(2024, 1, 1),
        end_date=date(2024, 12, 31),
        annual_rent=Decimal(annual_rent),
        payment_frequency=frequency,
    )


@pytest.mark.parametrize(
    ("annual_rent", "frequency", "instalment"),
    [
        ("120000", PaymentFrequency.MONTHLY, "10000.00"),
        ("120000", PaymentFrequency.QUARTERLY, "30000.00"),
        ("120000", PaymentFrequency.SEMI_ANNUAL, "60000.00"),
        ("120000", PaymentFrequency.ANNUAL, "120000.00"),
        ("100000", PaymentFrequency.MONTHLY, "8333.33"),
        ("50", PaymentFrequency.MONTHLY, "4.17"),
        ("1000.02", PaymentFrequency.QUARTERLY, "250.01"),  # 250.005 half up
        ("45000.01", PaymentFrequency.SEMI_ANNUAL, "22500.01"),  # 22500.005 half up
    ],
)
def test_ejar_instalment_per_frequency(
    annual_rent: str, frequency: PaymentFrequency, instalment: str
) -> None:
    assert ejar(annual_rent, frequency).instalment == Decimal(instalment)


@given(st.decimals(min_value=0, max_value=10**8, places=2), st.sampled_from(PaymentFrequency))
def test_instalments_add_up_to_the_annual_rent_within_rounding(
    annual_rent: Decimal, frequency: PaymentFrequency
) -> None:
    periods = {"monthly": 12, "quarterly": 4, "semi_annual": 2, "annual": 1}[frequency.value]
    contract = ejar(str(annual_rent), frequency)
    assert abs(contract.instalment * periods - annual_rent) <= Decimal("0.005") * periods


def test_compliance_records_are_optional() -> None:
    compliance = KsaCompliance()
    assert (compliance.ejar, compliance.wafi, compliance.sakani, compliance.financing) == (
        None,
        None,
        None,
        None,
    )
    assert Financing() == Financing(
        bank=None, redf_supported=False, pre_approved=False, first_home=False, is_citizen=False
    )

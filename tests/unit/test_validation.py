"""Validation of Saudi identifiers and customer input (rules §5): tables, then properties."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from customers_hub.domain.compliance import EjarContract, Financing, KsaCompliance, WafiLicence
from customers_hub.domain.enums import (
    CustomerSource,
    Gender,
    PaymentFrequency,
    Priority,
    PropertyType,
    Stage,
)
from customers_hub.domain.errors import FieldError, ValidationFailed
from customers_hub.domain.model import Customer, Preferences
from customers_hub.domain.validation import (
    MONEY_MAX,
    UNSET,
    CustomerDraft,
    CustomerPatch,
    Errors,
    PreferencesPatch,
    apply_customer_patch,
    merge_preferences,
    national_id_check_digit,
    national_id_kind,
    normalize_phone,
    normalize_tags,
    validate_customer_draft,
    validate_customer_patch,
    validate_email,
    validate_money,
    validate_name,
    validate_national_id,
)

TODAY = date(2024, 1, 22)
E164 = re.compile(r"\+[1-9][0-9]{7,14}")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def fields_of(failure: ValidationFailed) -> list[str]:
    return [e.field for e in failure.errors]


def failure_of(func: Any, *args: Any, **kwargs: Any) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        func(*args, **kwargs)
    return info.value


# --- national ID helper, written independently of the module (standard Luhn from the right) ----


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 1 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def complete_id(first_nine: str) -> str:
    return next(first_nine + d for d in "0123456789" if luhn_ok(first_nine + d))


# --- phones ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("0501234567", "+966501234567", id="05 national"),
        pytest.param("501234567", "+966501234567", id="5 without trunk 0"),
        pytest.param("966501234567", "+966501234567", id="966 without plus"),
        pytest.param("+966501234567", "+966501234567", id="E.164"),
        pytest.param("00966501234567", "+966501234567", id="00 international"),
        pytest.param("+966 0501234567", "+966501234567", id="trunk 0 after +966"),
        pytest.param("٠٥٠١٢٣٤٥٦٧", "+966501234567", id="arabic-indic digits"),
        pytest.param("+٩٦٦٥٥١٢٣٤٥٦٧", "+966551234567", id="arabic-indic with plus"),
        pytest.param("۰۵۰۱۲۳۴۵۶۷", "+966501234567", id="eastern digits"),
        pytest.param("050 123 4567", "+966501234567", id="spaces"),
        pytest.param("050-123-4567", "+966501234567", id="dashes"),
        pytest.param("(050) 123-4567", "+966501234567", id="parentheses"),
        pytest.param("+966 (55) 123.4567", "+966551234567", id="dots"),
        pytest.param("\u200e+966 50 123 4567\u200f", "+966501234567", id="bidi marks"),
        pytest.param(" 0591234567 ", "+966591234567", id="surrounding spaces"),
        # The rules' pattern is 5 + 8 digits: a range not allocated yet is still accepted.
        pytest.param("0521234567", "+966521234567", id="unallocated 052 range"),
        pytest.param("+971 50 123 4567", "+971501234567", id="UAE mobile"),
        pytest.param("00971501234567", "+971501234567", id="UAE with 00"),
        pytest.param("971501234567", "+971501234567", id="UAE without plus"),
        pytest.param("+971 4 234 5678", "+97142345678", id="UAE landline"),
        pytest.param("+965 5001 2345", "+96550012345", id="Kuwait"),
        pytest.param("+973 3600 1234", "+97336001234", id="Bahrain"),
        pytest.param("+968 9212 3456", "+96892123456", id="Oman"),
        pytest.param("+974 3312 3456", "+97433123456", id="Qatar"),
    ],
)
def test_accepted_phones_are_normalized_to_e164(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("+1 212 555 1234", id="USA"),
        pytest.param("+44 7911 123456", id="UK"),
        pytest.param("+20 100 123 4567", id="Egypt"),
        pytest.param("05O1234567", id="letter O"),
        pytest.param("call me", id="letters"),
        pytest.param("0512", id="too short"),
        pytest.param("05123456789", id="too long"),
        pytest.param("+9665123456", id="+966 too short"),
        pytest.param("0112345678", id="Saudi landline"),
        pytest.param("+966112345678", id="Saudi landline E.164"),
        pytest.param("+966 800 123 4567", id="Saudi toll-free"),
        pytest.param("0401234567", id="not 05"),
        pytest.param("+971 50 123", id="UAE too short"),
        pytest.param("+971 800 1234", id="UAE toll-free"),
        pytest.param("+", id="plus only"),
        pytest.param("00", id="00 only"),
        pytest.param("+966+501234567", id="two plus signs"),
        pytest.param("0501234567 ext 12", id="extension"),
    ],
)
def test_rejected_phones(raw: str) -> None:
    failure = failure_of(normalize_phone, raw)
    assert fields_of(failure) == ["phone"]
    assert failure.code == "VALIDATION_ERROR"


def test_phone_error_names_the_given_field() -> None:
    assert fields_of(failure_of(normalize_phone, "0512", field="whatsapp")) == ["whatsapp"]


_SEPARATOR = st.sampled_from(["", " ", "-", " - ", "."])


@st.composite
def written_saudi_mobiles(draw: st.DrawFn) -> tuple[str, str]:
    """A Saudi mobile as people write it, and its E.164 form."""
    national = "5" + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=8, max_size=8)))
    prefix = draw(st.sampled_from(["0", "", "966", "+966", "00966", "+966 0"]))
    sep = draw(_SEPARATOR)
    raw = prefix + sep + national[:2] + sep + national[2:5] + sep + national[5:]
    if draw(st.booleans()):
        raw = raw.translate(ARABIC_INDIC)
    return raw, "+966" + national


@given(written_saudi_mobiles())
def test_every_written_form_of_a_saudi_mobile_normalizes_to_its_e164(
    case: tuple[str, str],
) -> None:
    raw, expected = case
    assert normalize_phone(raw) == expected


@given(st.one_of(written_saudi_mobiles().map(lambda c: c[0]), st.text(max_size=20)))
def test_normalize_phone_returns_e164_or_raises_validation_failed_and_is_idempotent(
    raw: str,
) -> None:
    outcome = _outcome(normalize_phone, raw)
    if isinstance(outcome, ValidationFailed):
        assert fields_of(outcome) == ["phone"]
    else:
        assert E164.fullmatch(outcome)
        assert normalize_phone(outcome) == outcome


def _outcome(func: Any, *args: Any) -> Any:
    try:
        return func(*args)
    except ValidationFailed as failure:
        return failure


# --- national IDs -----------------------------------------------------------------------------


def test_the_test_helper_agrees_with_known_ids() -> None:
    assert complete_id("100000000") == "1000000008"
    assert complete_id("200000000") == "2000000006"


@pytest.mark.parametrize("first_nine", ["100000000", "123456789", "200000000", "298765432"])
def test_check_digit_completes_a_valid_id(first_nine: str) -> None:
    assert first_nine + national_id_check_digit(first_nine) == complete_id(first_nine)


@pytest.mark.parametrize(
    ("raw", "expected", "kind"),
    [
        (complete_id("101234567"), complete_id("101234567"), "citizen"),
        (complete_id("212345678"), complete_id("212345678"), "resident"),
        (f" {complete_id('110000000')} ", complete_id("110000000"), "citizen"),
        (complete_id("101234567").translate(ARABIC_INDIC), complete_id("101234567"), "citizen"),
    ],
)
def test_valid_national_ids(raw: str, expected: str, kind: str) -> None:
    assert validate_national_id(raw) == expected
    assert national_id_kind(expected) == kind


def _wrong_check_digit(national_id: str) -> str:
    return national_id[:9] + str((int(national_id[9]) + 1) % 10)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (_wrong_check_digit(complete_id("101234567")), "check digit"),
        ("3" + complete_id("101234567")[1:], "start with 1"),
        (complete_id("101234567")[:9], "10 digits"),
        (complete_id("101234567") + "0", "10 digits"),
        ("10123456AB", "10 digits"),
        ("", "10 digits"),
        ("1012 34567", "10 digits"),
    ],
)
def test_invalid_national_ids(raw: str, message: str) -> None:
    failure = failure_of(validate_national_id, raw)
    assert fields_of(failure) == ["nationalId"]
    assert message in failure.errors[0].message


def test_national_id_kind_refuses_other_first_digits() -> None:
    with pytest.raises(ValueError, match="1 or 2"):
        national_id_kind("3000000000")


_FIRST_NINE = st.tuples(st.sampled_from("12"), st.integers(0, 99_999_999)).map(
    lambda p: f"{p[0]}{p[1]:08d}"
)


@given(_FIRST_NINE, st.integers(1, 9))
def test_a_valid_id_passes_and_any_other_last_digit_fails(first_nine: str, shift: int) -> None:
    valid = complete_id(first_nine)
    assert validate_national_id(valid) == valid
    wrong = valid[:9] + str((int(valid[9]) + shift) % 10)
    assert fields_of(failure_of(validate_national_id, wrong)) == ["nationalId"]


@given(_FIRST_NINE, st.integers(1, 8), st.integers(1, 9))
def test_changing_any_single_digit_fails(first_nine: str, position: int, shift: int) -> None:
    # Positions 1..8 (the first digit is pinned by the 1/2 rule); the check digit catches it.
    valid = complete_id(first_nine)
    digits = list(valid)
    digits[position] = str((int(digits[position]) + shift) % 10)
    with pytest.raises(ValidationFailed):
        validate_national_id("".join(digits))


# --- e-mail and names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a@b.co", "a@b.co"),
        ("Mohammed.Fahd@Email.COM", "Mohammed.Fahd@email.com"),
        ("  agent@taearif.com ", "agent@taearif.com"),
        ("user+tag@sub.domain.sa", "user+tag@sub.domain.sa"),
        ("o'neil@my-company.com.sa", "o'neil@my-company.com.sa"),
        ("ali@مثال.السعودية", "ali@مثال.السعودية"),
        ("ali@example.xn--mgberp4a5d4ar", "ali@example.xn--mgberp4a5d4ar"),
    ],
)
def test_valid_emails(raw: str, expected: str) -> None:
    assert validate_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "no-at.example.com",
        "a@@b.com",
        "a@b@c.com",
        "@b.com",
        "a@b",
        "a@.com",
        "a@b..com",
        "a@b.com.",
        "a b@c.com",
        "a@b c.com",
        "a@b.c",
        "a@b.123",
        "a@-b.com",
        "a@b_c.com",
        "a<b@c.com",
        "a,b@c.com",
        "x" * 65 + "@b.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_invalid_emails(raw: str) -> None:
    assert fields_of(failure_of(validate_email, raw)) == ["email"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  محمد الفهد  ", "محمد الفهد"),
        ("محمد   الفهد", "محمد الفهد"),  # runs of spaces become one
        ("e\u0301mile", "\u00e9mile"),  # NFC
        ("a", "a"),
        ("ع" * 255, "ع" * 255),
    ],
)
def test_valid_names(raw: str, expected: str) -> None:
    assert validate_name(raw) == expected


@pytest.mark.parametrize(
    "raw",
    # A name is one line: line breaks and tabs are for free-text notes only (issue 8).
    ["", "   ", "\t\n", "ع" * 256, "محمد\x00", "محمد\n   الفهد", "a\tb", "a\x1eb"],
)
def test_invalid_names(raw: str) -> None:
    assert fields_of(failure_of(validate_name, raw)) == ["name"]


# --- money --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "positive", "ok"),
    [
        (Decimal(0), False, True),
        (Decimal(0), True, False),
        (Decimal("0.01"), True, True),
        (Decimal(-1), False, False),
        (Decimal("1.10"), False, True),
        (Decimal("1.100"), False, True),
        (Decimal("1.001"), False, False),
        (MONEY_MAX, False, True),
        (MONEY_MAX + Decimal("0.01"), False, False),
        (Decimal("NaN"), False, False),
        (Decimal("Infinity"), False, False),
    ],
)
def test_money(value: Decimal, positive: bool, ok: bool) -> None:
    if ok:
        assert validate_money(value, "paidAmount", positive=positive) == value
    else:
        assert fields_of(failure_of(validate_money, value, "paidAmount", positive=positive)) == [
            "paidAmount"
        ]


# --- the error collector --------------------------------------------------------------------


def test_errors_collects_every_failure_and_raises_once() -> None:
    errors = Errors()
    assert errors.check("phone", normalize_phone, "0501234567") == "+966501234567"
    assert errors.check("whatsapp", normalize_phone, "bad") is None
    errors.add("preferences.budgetMin", "Budget minimum must be greater than 0")
    errors.add("preferences.budgetMin", "Budget minimum must be greater than 0")  # deduplicated
    assert len(errors) == 2
    assert errors.has("preferences")
    assert errors.has("whatsapp")
    assert not errors.has("phone")
    failure = failure_of(errors.raise_if_any)
    assert fields_of(failure) == ["whatsapp", "preferences.budgetMin"]


def test_errors_without_failures_does_not_raise() -> None:
    errors = Errors()
    errors.raise_if_any()
    assert not errors


def test_tags_are_trimmed_lowercased_deduplicated_in_order() -> None:
    errors = Errors()
    assert normalize_tags(errors, [" VIP", "hot_lead", "vip ", "", "  ", "Cash_Buyer"]) == (
        "vip",
        "hot_lead",
        "cash_buyer",
    )
    assert not errors


def test_too_long_tag_and_too_many_tags() -> None:
    errors = Errors()
    normalize_tags(errors, ["ok", "x" * 51])
    assert [e.field for e in errors.errors] == ["tags[1]"]
    errors = Errors()
    normalize_tags(errors, [f"t{i}" for i in range(51)])
    assert [e.field for e in errors.errors] == ["tags"]


# --- the draft (create customer) ------------------------------------------------------------


def draft(**overrides: Any) -> CustomerDraft:
    values: dict[str, Any] = {"name": "عبدالله الشمري", "phone": "0551234567"}
    values.update(overrides)
    return CustomerDraft(**values)


def prefs(**values: Any) -> Preferences:
    return Preferences(**values)


def test_a_full_draft_is_normalized() -> None:
    result = validate_customer_draft(
        draft(
            name="  عبدالله   الشمري ",
            name_en=" Abdullah Al-Shammari ",
            phone="055 123 4567",
            whatsapp="+966 55 123 4567",
            email="Abdullah@Email.COM",
            national_id=complete_id("101234567").translate(ARABIC_INDIC),
            nationality=" Saudi ",
            gender=Gender.MALE,
            date_of_birth=date(1990, 5, 1),
            source=CustomerSource.WHATSAPP,
            preferences=prefs(
                property_type=(PropertyType.APARTMENT, PropertyType.APARTMENT),
                budget_min=Decimal(800000),
                budget_max=Decimal(1200000),
                preferred_areas=(" جدة - حي الزهراء ", "", "جدة - حي الزهراء"),
                bedrooms=3,
                bathrooms=2,
            ),
            priority=Priority.HIGH,
            tags=("Hot_Lead", "hot_lead ", "VIP"),
            city=" جدة ",
            district="  ",
            latitude=Decimal("21.5433"),
            longitude=Decimal("39.1728"),
            total_deal_value=Decimal(1000000),
            paid_amount=Decimal(1000000),
        ),
        TODAY,
    )
    assert result.name == "عبدالله الشمري"
    assert result.name_en == "Abdullah Al-Shammari"
    assert result.phone == "+966551234567"
    assert result.whatsapp == "+966551234567"
    assert result.email == "Abdullah@email.com"
    assert result.national_id == complete_id("101234567")
    assert result.nationality == "Saudi"
    assert result.tags == ("hot_lead", "vip")
    assert result.city == "جدة"
    assert result.district is None
    assert result.preferences.property_type == (PropertyType.APARTMENT,)
    assert result.preferences.preferred_areas == ("جدة - حي الزهراء",)
    assert result.preferences.budget_min == Decimal(800000)


def test_blank_optional_texts_are_not_given() -> None:
    result = validate_customer_draft(
        draft(email=" ", whatsapp="", national_id="  ", name_en=" ", notes=" \n"), TODAY
    )
    assert (result.email, result.whatsapp, result.national_id, result.name_en, result.notes) == (
        None,
        None,
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("preferences", "failing"),
    [
        pytest.param(prefs(budget_min=Decimal(1)), [], id="min 1"),
        pytest.param(prefs(budget_min=Decimal(0)), ["preferences.budgetMin"], id="min 0"),
        pytest.param(prefs(budget_min=Decimal(-5)), ["preferences.budgetMin"], id="min negative"),
        pytest.param(prefs(budget_max=Decimal(0)), ["preferences.budgetMax"], id="max 0"),
        pytest.param(prefs(budget_max=Decimal(500000)), [], id="max only"),
        pytest.param(
            prefs(budget_min=Decimal(900000), budget_max=Decimal(800000)),
            ["preferences.budgetMax"],
            id="max below min",
        ),
        pytest.param(
            prefs(budget_min=Decimal(800000), budget_max=Decimal(800000)), [], id="max equals min"
        ),
        pytest.param(
            prefs(budget_min=Decimal(-1), budget_max=Decimal(-2)),
            ["preferences.budgetMin", "preferences.budgetMax"],
            id="both negative: one error each",
        ),
        pytest.param(prefs(budget_min=Decimal("0.001")), ["preferences.budgetMin"], id="3 dp"),
        pytest.param(prefs(bedrooms=0, bathrooms=0), [], id="zero rooms (studio, land)"),
        pytest.param(prefs(bedrooms=-1), ["preferences.bedrooms"], id="negative bedrooms"),
        pytest.param(prefs(bedrooms=51), ["preferences.bedrooms"], id="absurd bedrooms"),
        pytest.param(prefs(bathrooms=-1), ["preferences.bathrooms"], id="negative bathrooms"),
        pytest.param(prefs(min_area=Decimal(0)), ["preferences.minArea"], id="min area 0"),
        pytest.param(
            prefs(min_area=Decimal(400), max_area=Decimal(300)),
            ["preferences.maxArea"],
            id="max area below min area",
        ),
        pytest.param(
            prefs(purpose="sell"),  # a raw wire value the edge failed to parse
            ["preferences.purpose"],
            id="unknown purpose",
        ),
    ],
)
def test_preference_rules(preferences: Preferences, failing: list[str]) -> None:
    if not failing:
        validate_customer_draft(draft(preferences=preferences), TODAY)
        return
    failure = failure_of(validate_customer_draft, draft(preferences=preferences), TODAY)
    assert fields_of(failure) == failing


@pytest.mark.parametrize(
    ("overrides", "failing"),
    [
        ({"latitude": Decimal(91), "longitude": Decimal(0)}, ["latitude"]),
        ({"latitude": Decimal(-90), "longitude": Decimal(-181)}, ["longitude"]),
        ({"latitude": Decimal(24)}, ["longitude"]),
        ({"longitude": Decimal(46)}, ["latitude"]),
        ({"total_deal_value": Decimal(-1)}, ["totalDealValue"]),
        ({"expected_revenue": Decimal(-1)}, ["expectedRevenue"]),
        ({"paid_amount": Decimal(-1)}, ["paidAmount"]),
        ({"paid_amount": Decimal(10), "total_deal_value": Decimal(9)}, ["paidAmount"]),
        ({"paid_amount": Decimal(10)}, []),
        ({"date_of_birth": date(2024, 1, 23)}, ["dateOfBirth"]),
        ({"date_of_birth": TODAY}, []),
        ({"date_of_birth": date(1904, 1, 1)}, []),
        ({"date_of_birth": date(1903, 12, 31)}, ["dateOfBirth"]),
        ({"gender": "other"}, ["gender"]),
        ({"gender": "female"}, []),
        ({"source": None}, ["source"]),
        ({"name": None}, ["name"]),
        ({"phone": None}, ["phone"]),
        ({"phone": "   "}, ["phone"]),
        ({"nationality": "x" * 51}, ["nationality"]),
        ({"city": "x" * 101}, ["city"]),
    ],
)
def test_draft_field_rules(overrides: dict[str, Any], failing: list[str]) -> None:
    if not failing:
        validate_customer_draft(draft(**overrides), TODAY)
        return
    assert fields_of(failure_of(validate_customer_draft, draft(**overrides), TODAY)) == failing


def test_raw_enum_values_are_parsed() -> None:
    result = validate_customer_draft(draft(gender="female", priority="urgent"), TODAY)
    assert result.gender is Gender.FEMALE
    assert result.priority is Priority.URGENT


def test_three_bad_fields_give_three_errors_at_once() -> None:
    failure = failure_of(
        validate_customer_draft,
        draft(phone="+1 212 555 1234", email="not-an-email", preferences=prefs(budget_min=0)),
        TODAY,
    )
    assert len(failure.errors) == 3
    assert set(fields_of(failure)) == {"phone", "email", "preferences.budgetMin"}
    assert all(isinstance(e, FieldError) and e.message for e in failure.errors)


def test_every_failing_field_is_named_with_its_camel_case_path() -> None:
    failure = failure_of(
        validate_customer_draft,
        draft(
            name=" ",
            phone="0512",
            whatsapp="+44 7911 123456",
            email="a@b",
            national_id="3000000000",
            date_of_birth=date(2030, 1, 1),
            preferences=prefs(budget_min=Decimal(-1), bedrooms=-2, min_area=Decimal(0)),
            latitude=Decimal(100),
            longitude=Decimal(200),
            total_deal_value=Decimal(-1),
            tags=("x" * 60,),
        ),
        TODAY,
    )
    assert set(fields_of(failure)) == {
        "name",
        "phone",
        "whatsapp",
        "email",
        "nationalId",
        "dateOfBirth",
        "preferences.budgetMin",
        "preferences.bedrooms",
        "preferences.minArea",
        "latitude",
        "longitude",
        "totalDealValue",
        "tags[0]",
    }


def test_ksa_compliance_checks() -> None:
    resident_id = complete_id("212345678")
    compliance = KsaCompliance(
        ejar=EjarContract(
            contract_number=" ",
            landlord_name="مالك",
            tenant_name="مستأجر",
            start_date=date(2024, 2, 1),
            end_date=date(2024, 1, 1),
            annual_rent=Decimal(0),
            payment_frequency=PaymentFrequency.MONTHLY,
        ),
        wafi=WafiLicence(licence_number="", project_name="مشروع"),
        financing=Financing(is_citizen=True, pre_approval_amount=Decimal(-1)),
    )
    failure = failure_of(
        validate_customer_draft,
        draft(national_id=resident_id, ksa_compliance=compliance),
        TODAY,
    )
    assert set(fields_of(failure)) == {
        "ksaCompliance.ejar.annualRent",
        "ksaCompliance.ejar.contractNumber",
        "ksaCompliance.ejar.endDate",
        "ksaCompliance.wafi.licenceNumber",
        "ksaCompliance.financing.preApprovalAmount",
        "ksaCompliance.financing.isCitizen",
    }


def test_a_citizen_id_with_citizen_financing_passes() -> None:
    validate_customer_draft(
        draft(
            national_id=complete_id("112345678"),
            ksa_compliance=KsaCompliance(financing=Financing(is_citizen=True, first_home=True)),
        ),
        TODAY,
    )


_VALID_DRAFTS = st.builds(
    draft,
    phone=written_saudi_mobiles().map(lambda c: c[0]),
    name=st.sampled_from(["  محمد  الفهد", "Sara", "نورة"]),
    email=st.none() | st.sampled_from(["A@B.COM", " x@y.sa "]),
    national_id=st.none() | _FIRST_NINE.map(complete_id),
    tags=st.lists(st.sampled_from(["VIP", "vip", " hot_lead", "Cash_Buyer"])).map(tuple),
    preferences=st.builds(
        prefs,
        budget_min=st.none() | st.integers(1, 10**9).map(Decimal),
        bedrooms=st.none() | st.integers(0, 50),
    ),
)


@given(_VALID_DRAFTS)
def test_validating_a_normalized_draft_changes_nothing(raw: CustomerDraft) -> None:
    once = validate_customer_draft(raw, TODAY)
    assert validate_customer_draft(once, TODAY) == once


# --- the patch (update customer) ------------------------------------------------------------


def customer(**overrides: Any) -> Customer:
    at = datetime(2024, 1, 1, tzinfo=UTC)
    values: dict[str, Any] = {
        "id": "cust_001",
        "organization_id": "org_001",
        "name": "محمد الفهد",
        "phone": "+966512345678",
        "source": CustomerSource.INQUIRY,
        "stage": Stage.NEW_LEAD,
        "created_at": at,
        "updated_at": at,
        "preferences": prefs(
            budget_min=Decimal(800000),
            budget_max=Decimal(1000000),
            bedrooms=3,
            property_type=(PropertyType.VILLA,),
        ),
        "email": "m@example.com",
        "tags": ("vip",),
        "source_details": {"campaign": "ramadan"},
        "total_deal_value": Decimal(1000000),
        "paid_amount": Decimal(100000),
        "latitude": Decimal(24),
        "longitude": Decimal(46),
    }
    values.update(overrides)
    return Customer(**values)


def test_unset_is_not_none_and_an_empty_patch_passes() -> None:
    assert UNSET is not None
    patch = CustomerPatch()
    assert patch.is_empty
    assert validate_customer_patch(patch, customer(), TODAY) == patch
    assert apply_customer_patch(customer(), patch) == customer()


def test_patch_fields_are_normalized() -> None:
    patch = validate_customer_patch(
        CustomerPatch(phone="٠٥٥١٢٣٤٥٦٧", tags=(" Ready_To_Buy", "VIP"), email=None),
        customer(),
        TODAY,
    )
    assert patch.phone == "+966551234567"
    assert patch.tags == ("ready_to_buy", "vip")
    assert patch.email is None
    assert patch.name is UNSET
    assert patch.given() == {
        "phone": "+966551234567",
        "tags": ("ready_to_buy", "vip"),
        "email": None,
    }


@pytest.mark.parametrize(
    ("patch", "failing"),
    [
        pytest.param(
            CustomerPatch(preferences=PreferencesPatch(budget_min=Decimal(2000000))),
            ["preferences.budgetMin"],
            id="min above current max",
        ),
        pytest.param(
            CustomerPatch(preferences=PreferencesPatch(budget_max=Decimal(500000))),
            ["preferences.budgetMax"],
            id="max below current min",
        ),
        pytest.param(
            CustomerPatch(
                preferences=PreferencesPatch(budget_min=Decimal(2000000), budget_max=None)
            ),
            [],
            id="min raised and max cleared",
        ),
        pytest.param(
            CustomerPatch(
                preferences=PreferencesPatch(
                    budget_min=Decimal(2000000), budget_max=Decimal(3000000)
                )
            ),
            [],
            id="both moved",
        ),
        pytest.param(
            CustomerPatch(preferences=PreferencesPatch(budget_min=Decimal(0))),
            ["preferences.budgetMin"],
            id="min 0",
        ),
        pytest.param(CustomerPatch(paid_amount=Decimal(2000000)), ["paidAmount"], id="paid"),
        pytest.param(
            CustomerPatch(total_deal_value=Decimal(50000)), ["totalDealValue"], id="total"
        ),
        pytest.param(CustomerPatch(latitude=None), ["latitude"], id="clear one coordinate"),
        pytest.param(CustomerPatch(latitude=None, longitude=None), [], id="clear location"),
        pytest.param(CustomerPatch(name=None), ["name"], id="name cannot be cleared"),
        pytest.param(CustomerPatch(phone=None), ["phone"], id="phone cannot be cleared"),
        pytest.param(CustomerPatch(priority=None), ["priority"], id="priority"),
        pytest.param(CustomerPatch(email=None, whatsapp=None, notes=None), [], id="clears"),
        pytest.param(CustomerPatch(date_of_birth=date(2025, 1, 1)), ["dateOfBirth"], id="dob"),
        pytest.param(
            CustomerPatch(phone="0512", email="x", name=""),
            ["name", "phone", "email"],
            id="all errors at once",
        ),
    ],
)
def test_patch_rules_read_the_merged_result(patch: CustomerPatch, failing: list[str]) -> None:
    if not failing:
        validate_customer_patch(patch, customer(), TODAY)
        return
    assert fields_of(failure_of(validate_customer_patch, patch, customer(), TODAY)) == failing


def test_an_unrelated_patch_does_not_fail_on_stored_inconsistencies() -> None:
    legacy = customer(
        preferences=prefs(budget_min=Decimal(900), budget_max=Decimal(100)),
        paid_amount=Decimal(10),
        total_deal_value=Decimal(1),
        longitude=None,
    )
    validate_customer_patch(CustomerPatch(notes="اتصل لاحقاً"), legacy, TODAY)
    validate_customer_patch(CustomerPatch(preferences=PreferencesPatch(bedrooms=4)), legacy, TODAY)


def test_preferences_merge_key_by_key() -> None:
    current = customer().preferences
    merged = merge_preferences(
        current, PreferencesPatch(bedrooms=4, budget_max=None, property_type=None)
    )
    assert merged.bedrooms == 4
    assert merged.budget_max is None
    assert merged.property_type == ()
    assert merged.budget_min == current.budget_min  # absent keys keep
    assert merge_preferences(current, None) == Preferences()


def test_apply_patch() -> None:
    current = customer()
    patch = validate_customer_patch(
        CustomerPatch(
            tags=None,
            source_details=None,
            email=None,
            priority=Priority.URGENT,
            preferences=PreferencesPatch(bedrooms=5),
        ),
        current,
        TODAY,
    )
    updated = apply_customer_patch(current, patch)
    assert updated.tags == ()
    assert updated.source_details == {}
    assert updated.email is None
    assert updated.priority is Priority.URGENT
    assert updated.preferences == attrs.evolve(current.preferences, bedrooms=5)
    assert updated.name == current.name
    assert (updated.updated_at, updated.version) == (current.updated_at, current.version)


def test_patch_citizen_financing_against_the_current_resident_id() -> None:
    current = customer(national_id=complete_id("212345678"))
    patch = CustomerPatch(ksa_compliance=KsaCompliance(financing=Financing(is_citizen=True)))
    failure = failure_of(validate_customer_patch, patch, current, TODAY)
    assert fields_of(failure) == ["ksaCompliance.financing.isCitizen"]


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("a\ufdd0b", True),
        ("a\ufffeb", True),
        ("a\uffffb", True),
        ("a\U000dffffb", False),  # a supplementary-plane noncharacter, as the schema allows
        ("a\U0001f600b", False),
    ],
)
def test_noncharacters_refused_as_the_openapi_text_pattern_states(text: str, refused: bool) -> None:
    from customers_hub.domain.validation import clean_text
    from customers_hub.entrypoints.http.openapi_fields import LINE_PATTERN  # the edge's rule

    assert (re.fullmatch(LINE_PATTERN, text) is None) is refused
    if refused:
        with pytest.raises(ValidationFailed):
            clean_text("address", text, max_length=100)
    else:
        assert clean_text("address", text, max_length=100) == text

"""Rules §10, duplicates: the rule table, row by row, and its properties (symmetric, never across
organizations, never with oneself or a deleted customer, the score is the strongest reason's)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs
import pytest
from hypothesis import given

from customers_hub.domain.duplicates import (
    REASON_ORDER,
    REASON_SCORES,
    DuplicateReason,
    duplicate_keys,
    duplicate_reasons,
    email_key,
    match,
    name_key,
    score_of,
)
from customers_hub.domain.enums import CustomerSource, Stage
from customers_hub.domain.model import Customer
from customers_hub.testing.strategies import customers

AT = datetime(2024, 1, 1, tzinfo=UTC)
R = DuplicateReason


def person(n: int, **fields: Any) -> Customer:
    values: dict[str, Any] = {
        "id": f"cust_{n}",
        "organization_id": "org_1",
        "name": f"عميل {n}",
        "phone": f"+96655000000{n}",
        "source": CustomerSource.MANUAL,
        "stage": Stage.NEW_LEAD,
        "created_at": AT,
        "updated_at": AT,
    }
    values.update(fields)
    return Customer(**values)


# (first's fields, second's fields, expected reasons)
RULES: list[tuple[dict[str, Any], dict[str, Any], tuple[DuplicateReason, ...]]] = [
    # phone digits: phone or WhatsApp of one = phone or WhatsApp of the other
    ({"phone": "+966551234567"}, {"whatsapp": "+966551234567"}, (R.PHONE,)),
    ({"whatsapp": "+966551234567"}, {"phone": "+966551234567"}, (R.PHONE,)),
    ({"whatsapp": "+966551234567"}, {"whatsapp": "+966551234567"}, (R.PHONE,)),
    ({"phone": "+966551234567"}, {"phone": "+966551234567"}, (R.PHONE,)),
    ({"whatsapp": "+966551234567"}, {"whatsapp": "+966551234568"}, ()),
    # national id
    ({"national_id": "1000000008"}, {"national_id": "1000000008"}, (R.NATIONAL_ID,)),
    ({"national_id": "1000000008"}, {"national_id": "1000000016"}, ()),
    ({"national_id": None}, {"national_id": None}, ()),
    # e-mail, case-insensitive
    ({"email": "Sara@Example.com"}, {"email": "sara@example.COM"}, (R.EMAIL,)),
    ({"email": "sara@example.com"}, {"email": "sara2@example.com"}, ()),
    ({"email": None}, {"email": None}, ()),
    # normalized name and city (§6: tashkeel, hamza forms, teh marbuta, Persian yeh)
    (
        {"name": "مُحَمَّد الفهد", "city": "الرياض"},
        {"name": "محمد الفهد", "city": "الریاض"},
        (R.NAME_AND_CITY,),
    ),
    ({"name": "أحمد", "city": "جدة"}, {"name": "احمد", "city": "جده"}, (R.NAME_AND_CITY,)),
    ({"name": "محمد الفهد", "city": "الرياض"}, {"name": "محمد الفهد", "city": "جدة"}, ()),
    ({"name": "محمد الفهد", "city": None}, {"name": "محمد الفهد", "city": None}, ()),
    ({"name": "محمد الفهد", "city": "الرياض"}, {"name": "محمد الفهيد", "city": "الرياض"}, ()),
    # the English name counts as a name when both have one
    (
        {"name": "م. الفهد", "name_en": "Mohammed  Al-Fahd", "city": "الرياض"},
        {"name": "محمد", "name_en": "mohammed al-fahd", "city": "الرياض"},
        (R.NAME_AND_CITY,),
    ),
    (
        {"name": "أ", "name_en": None, "city": "جدة"},
        {"name": "ب", "name_en": None, "city": "جدة"},
        (),
    ),
    # several reasons: all listed, strongest first
    (
        {"email": "a@b.co", "national_id": "1000000008", "phone": "+966551234567"},
        {"email": "A@B.CO", "national_id": "1000000008", "whatsapp": "+966551234567"},
        (R.NATIONAL_ID, R.PHONE, R.EMAIL),
    ),
]


@pytest.mark.parametrize(("first", "second", "reasons"), RULES)
def test_the_rule_table(
    first: dict[str, Any], second: dict[str, Any], reasons: tuple[DuplicateReason, ...]
) -> None:
    a, b = person(1, **first), person(2, **second)
    assert duplicate_reasons(a, b) == reasons
    assert duplicate_reasons(b, a) == reasons
    found = match(a, b)
    if reasons:
        assert found is not None
        assert found.reasons == reasons
        assert found.score == REASON_SCORES[reasons[0]]
    else:
        assert found is None


def test_scores_are_the_rules() -> None:
    assert dict(REASON_SCORES) == {
        R.NATIONAL_ID: 100,
        R.PHONE: 90,
        R.EMAIL: 70,
        R.NAME_AND_CITY: 50,
    }
    assert REASON_ORDER == (R.NATIONAL_ID, R.PHONE, R.EMAIL, R.NAME_AND_CITY)
    assert score_of([R.EMAIL, R.NAME_AND_CITY]) == 70
    assert score_of([]) == 0


def test_never_across_organizations_with_oneself_or_a_deleted_customer() -> None:
    same = {"email": "x@y.co", "national_id": "1000000008"}
    a = person(1, **same)
    assert duplicate_reasons(a, person(2, organization_id="org_2", **same)) == ()
    assert duplicate_reasons(a, person(1, **same)) == ()
    assert duplicate_reasons(a, person(2, deleted_at=AT, **same)) == ()
    assert duplicate_reasons(attrs.evolve(a, deleted_at=AT), person(2, **same)) == ()


def test_keys_are_the_compared_forms() -> None:
    keys = duplicate_keys(
        person(1, name="  مُحَمَّد ", name_en="Ali", email=" X@Y.Co ", whatsapp="+966500000001")
    )
    assert keys.name == "محمد"
    assert keys.name_en == "ali"
    assert keys.email == "x@y.co"
    assert keys.phones == frozenset({"+966550000001", "+966500000001"})
    assert name_key("   ") is None
    assert email_key("") is None


@given(customers(), customers())
def test_the_rule_is_symmetric_and_scores_its_strongest_reason(a: Customer, b: Customer) -> None:
    b = attrs.evolve(b, organization_id=a.organization_id)
    reasons = duplicate_reasons(a, b)
    assert reasons == duplicate_reasons(b, a)
    assert list(reasons) == sorted(reasons, key=REASON_ORDER.index)
    if reasons:
        assert score_of(reasons) == max(REASON_SCORES[r] for r in reasons)


@given(customers())
def test_a_live_copy_under_another_id_is_always_a_candidate(a: Customer) -> None:
    a = attrs.evolve(a, deleted_at=None)
    b = attrs.evolve(a, id=a.id + "_copy")
    assert R.PHONE in duplicate_reasons(a, b)

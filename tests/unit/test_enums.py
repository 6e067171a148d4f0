"""Enumerations: wire values, orders and labels."""

from __future__ import annotations

import pytest

from customers_hub.domain import enums
from customers_hub.domain.enums import LabelledEnum, Priority, Stage, Timeline

ALL_ENUMS = [
    obj
    for obj in vars(enums).values()
    if isinstance(obj, type) and issubclass(obj, LabelledEnum) and obj is not LabelledEnum
]


def test_stage_order_is_the_documented_lifecycle() -> None:
    assert [s.value for s in sorted(Stage, key=lambda s: s.rank)] == [
        "new_lead",
        "qualified",
        "property_matching",
        "site_visit",
        "negotiation",
        "contract_prep",
        "down_payment",
        "closing",
        "post_sale",
    ]


def test_priority_ranks_urgent_highest_not_alphabetically() -> None:
    ordered = sorted(Priority, key=lambda p: p.rank, reverse=True)
    assert ordered == [Priority.URGENT, Priority.HIGH, Priority.MEDIUM, Priority.LOW]
    assert sorted(p.value for p in Priority) != [p.value for p in ordered]


def test_timeline_urgency_decreases_with_the_horizon() -> None:
    assert [t.urgency for t in Timeline] == [4, 3, 2, 1, 0]


@pytest.mark.parametrize("enum_cls", ALL_ENUMS, ids=lambda c: c.__name__)
def test_every_member_has_arabic_and_english_labels(enum_cls: type[LabelledEnum]) -> None:
    for member in enum_cls:
        assert member.label.strip(), member
        assert member.label_en.strip(), member
        assert any("\u0600" <= ch <= "\u06ff" for ch in member.label), member


def test_labels_of_equal_values_in_different_enums_stay_distinct() -> None:
    # StrEnum members with one value compare equal across enums; labels must not collide.
    assert Stage.SITE_VISIT == enums.ActionType.SITE_VISIT
    assert Stage.SITE_VISIT.label_en == "Site Visit"
    assert enums.ActionType.SITE_VISIT.label == "معاينة عقار"
    assert Stage.SITE_VISIT.label == "معاينة"


def test_filter_option_labels_match_the_api_document() -> None:
    assert (Stage.NEW_LEAD.label, Stage.NEW_LEAD.label_en) == ("عميل جديد", "New Lead")
    assert (enums.CustomerSource.WHATSAPP.label, enums.CustomerSource.WHATSAPP.label_en) == (
        "واتساب",
        "WhatsApp",
    )
    assert (enums.PropertyType.APARTMENT.label, enums.PropertyType.APARTMENT.label_en) == (
        "شقة",
        "Apartment",
    )

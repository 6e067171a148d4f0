"""Property matching: preferences against the catalog."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customers_hub.domain.enums import (
    CustomerSource,
    PropertyInterestStatus,
    PropertyStatus,
    PropertyType,
    Stage,
)
from customers_hub.domain.matching import PropertyMatch, match_properties, score_property
from customers_hub.domain.model import Customer, Preferences, Property, PropertyInterest

NOW = datetime(2024, 1, 22, 7, 30, tzinfo=UTC)

VILLA_PREFS = Preferences(
    property_type=(PropertyType.VILLA,),
    budget_min=Decimal(1_500_000),
    budget_max=Decimal(2_500_000),
    preferred_areas=("الرياض - حي النرجس", "الرياض - حي الملقا"),
    preferred_cities=("الرياض",),
    bedrooms=5,
    min_area=Decimal(400),
)


def make_customer(prefs: Preferences = VILLA_PREFS, **overrides: Any) -> Customer:
    data: dict[str, Any] = {
        "id": "cust_1",
        "organization_id": "org_1",
        "name": "محمد الفهد",
        "phone": "+966512345678",
        "source": CustomerSource.INQUIRY,
        "stage": Stage.PROPERTY_MATCHING,
        "created_at": NOW,
        "updated_at": NOW,
        "preferences": prefs,
    }
    data.update(overrides)
    return Customer(**data)


def make_property(pid: str = "prop_1", **overrides: Any) -> Property:
    """A villa in Riyadh / Al-Narjis that matches VILLA_PREFS perfectly."""
    data: dict[str, Any] = {
        "id": pid,
        "organization_id": "org_1",
        "title": "فيلا في النرجس",
        "type": PropertyType.VILLA,
        "city": "الرياض",
        "district": "حي النرجس",
        "price": Decimal(2_000_000),
        "bedrooms": 5,
        "area": Decimal(450),
    }
    data.update(overrides)
    return Property(**data)


def match_one(prop: Property, customer: Customer | None = None) -> PropertyMatch | None:
    return score_property(customer or make_customer(), prop)


# --- inclusion / exclusion -----------------------------------------------------------------------

EXCLUDED: list[tuple[str, dict[str, Any]]] = [
    ("type mismatch", {"type": PropertyType.APARTMENT}),
    ("over budget beyond the 10 % tolerance", {"price": Decimal(2_750_001)}),
    ("under budget beyond the 10 % tolerance", {"price": Decimal(1_349_999)}),
    ("sold", {"status": PropertyStatus.SOLD}),
    ("reserved", {"status": PropertyStatus.RESERVED}),
    ("rented", {"status": PropertyStatus.RENTED}),
    ("other organization", {"organization_id": "org_2"}),
    ("other city", {"city": "جدة", "district": "حي النرجس"}),
    ("too few bedrooms", {"bedrooms": 4}),
    ("too small", {"area": Decimal(399)}),
]


@pytest.mark.parametrize("overrides", [row[1] for row in EXCLUDED], ids=[r[0] for r in EXCLUDED])
def test_excluded(overrides: dict[str, Any]) -> None:
    assert match_one(make_property(**overrides)) is None
    assert match_properties(make_customer(), [make_property(**overrides)]) == ()


def test_a_rejected_property_is_not_proposed_again() -> None:
    interest = PropertyInterest(
        id="pi_1", property_id="prop_1", status=PropertyInterestStatus.REJECTED, added_at=NOW
    )
    customer = make_customer(property_interests=(interest,))
    assert match_one(make_property(), customer) is None
    shortlisted = PropertyInterest(
        id="pi_1", property_id="prop_1", status=PropertyInterestStatus.SHORTLISTED, added_at=NOW
    )
    assert match_one(make_property(), make_customer(property_interests=(shortlisted,))) is not None


SCORED: list[tuple[str, Preferences, dict[str, Any], int]] = [
    ("perfect match", VILLA_PREFS, {}, 100),
    ("at the budget maximum", VILLA_PREFS, {"price": Decimal(2_500_000)}, 100),
    ("at the budget minimum", VILLA_PREFS, {"price": Decimal(1_500_000)}, 100),
    ("5 % over the maximum", VILLA_PREFS, {"price": Decimal(2_625_000)}, 85),
    ("exactly 10 % over the maximum", VILLA_PREFS, {"price": Decimal(2_750_000)}, 85),
    ("slightly under the minimum", VILLA_PREFS, {"price": Decimal(1_400_000)}, 90),
    ("district not preferred, city is", VILLA_PREFS, {"district": "حي العليا"}, 90),
    ("no district", VILLA_PREFS, {"district": None}, 90),
    ("bedrooms not stated", VILLA_PREFS, {"bedrooms": None}, 95),
    ("area not stated", VILLA_PREFS, {"area": None}, 95),
    ("more bedrooms than wanted", VILLA_PREFS, {"bedrooms": 7}, 100),
    # no preferences at all: every part neutral (15 + 15 + 10 + 5 + 5)
    ("no preferences", Preferences(), {}, 50),
    ("no type preference", Preferences(property_type=()), {"type": PropertyType.LAND}, 50),
    # diacritics, hamza forms and teh marbuta do not prevent a match
    (
        "Arabic-aware district",
        Preferences(preferred_areas=("حيّ النَّرجِس",)),
        {"district": "النرجس"},
        15 + 15 + 25 + 5 + 5,
    ),
    (
        "areas only: city named in an area",
        Preferences(preferred_areas=("الرياض - حي الملقا",)),
        {"district": "حي النرجس"},
        15 + 15 + 15 + 5 + 5,
    ),
    (
        "city with a different spelling",
        Preferences(preferred_cities=("مكة المكرمة",)),
        {"city": "مكه المكرّمة", "district": None},
        15 + 15 + 15 + 5 + 5,
    ),
    (
        "city named with a prefix",
        Preferences(preferred_cities=("Riyadh",)),
        {"city": "Riyadh City", "district": None},
        15 + 15 + 15 + 5 + 5,
    ),
    (
        "only a budget maximum",
        Preferences(budget_max=Decimal(3_000_000)),
        {"price": Decimal(100_000)},
        15 + 30 + 10 + 5 + 5,
    ),
]


@pytest.mark.parametrize(
    ("prefs", "overrides", "expected"),
    [row[1:] for row in SCORED],
    ids=[row[0] for row in SCORED],
)
def test_match_score(prefs: Preferences, overrides: dict[str, Any], expected: int) -> None:
    match = match_one(make_property(**overrides), make_customer(prefs))
    assert match is not None
    assert match.score == expected
    assert len(match.reasons) == 5


def test_areas_only_excludes_a_place_not_named() -> None:
    customer = make_customer(Preferences(preferred_areas=("الرياض - حي الملقا",)))
    assert match_one(make_property(city="جدة", district="حي الروضة"), customer) is None


def test_reasons_explain_the_match() -> None:
    match = match_one(make_property(price=Decimal(2_625_000)))
    assert match is not None
    assert match.reasons == (
        "Type villa is preferred",
        "Price 5% over the budget maximum",
        "District حي النرجس is a preferred area",
        "5 bedrooms (wanted 5+)",
        "Area 450 m² (wanted 400+)",
    )


# --- ordering and limit --------------------------------------------------------------------------


def test_ordering_is_score_then_price_then_id() -> None:
    catalog = [
        make_property("p_over", price=Decimal(2_600_000)),  # 85
        make_property("p_b", price=Decimal(2_000_000)),  # 100
        make_property("p_a", price=Decimal(2_000_000)),  # 100, same price: id decides
        make_property("p_cheap", price=Decimal(1_600_000)),  # 100, cheapest first
        make_property("p_other_district", district="حي العليا"),  # 90
        make_property("p_sold", status=PropertyStatus.SOLD),
    ]
    result = match_properties(make_customer(), catalog)
    assert [m.property_id for m in result] == [
        "p_cheap",
        "p_a",
        "p_b",
        "p_other_district",
        "p_over",
    ]
    assert [m.score for m in result] == [100, 100, 100, 90, 85]


def test_limit() -> None:
    catalog = [make_property(f"p{i}", price=Decimal(1_500_000 + i)) for i in range(8)]
    assert [m.property_id for m in match_properties(make_customer(), catalog)] == [
        "p0",
        "p1",
        "p2",
        "p3",
        "p4",
    ]
    assert len(match_properties(make_customer(), catalog, limit=2)) == 2
    assert len(match_properties(make_customer(), catalog, limit=20)) == 8
    assert match_properties(make_customer(), catalog, limit=0) == ()
    with pytest.raises(ValueError, match="limit"):
        match_properties(make_customer(), catalog, limit=-1)


def test_catalog_may_be_any_iterable() -> None:
    result = match_properties(make_customer(), (make_property(f"p{i}") for i in range(3)))
    assert [m.property_id for m in result] == ["p0", "p1", "p2"]


@given(
    st.lists(
        st.builds(
            make_property,
            pid=st.sampled_from([f"p{i}" for i in range(6)]),
            type=st.sampled_from(PropertyType),
            price=st.integers(1_000_000, 3_000_000).map(Decimal),
            bedrooms=st.none() | st.integers(0, 8),
            status=st.sampled_from(PropertyStatus),
        ),
        max_size=8,
        unique_by=lambda p: p.id,
    ),
    st.integers(0, 6),
)
def test_matching_is_deterministic_sorted_and_bounded(catalog: list[Property], limit: int) -> None:
    customer = make_customer()
    result = match_properties(customer, catalog, limit=limit)
    assert result == match_properties(customer, list(reversed(catalog)), limit=limit)
    assert len(result) <= limit
    prices = {p.id: p.price for p in catalog}
    keys = [(-m.score, prices[m.property_id], m.property_id) for m in result]
    assert keys == sorted(keys)
    eligible = {p.id for p in catalog if score_property(customer, p) is not None}
    assert all(m.property_id in eligible and 0 <= m.score <= 100 for m in result)

"""Lead score, its explanation and the rule-based insights (rules §3)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from attrs import evolve
from hypothesis import given, settings
from hypothesis import strategies as st

from customers_hub.domain.compliance import Financing, KsaCompliance, SakaniEligibility
from customers_hub.domain.enums import (
    ChurnRisk,
    CustomerSource,
    EngagementLevel,
    PropertyType,
    Purpose,
    Stage,
    Timeline,
)
from customers_hub.domain.model import AiInsights, Customer, Preferences
from customers_hub.domain.scoring import (
    FACTORS,
    MAX_SCORE,
    LeadScore,
    build_insights,
    conversion_probability,
    refresh_score,
    score_customer,
)

NOW = datetime(2024, 1, 22, 7, 30, tzinfo=UTC)  # 10:30 in Riyadh
TODAY = date(2024, 1, 22)


def make_customer(**overrides: Any) -> Customer:
    """A bare customer (everything optional left empty), with ``overrides`` applied."""
    data: dict[str, Any] = {
        "id": "cust_1",
        "organization_id": "org_1",
        "name": "محمد الفهد",
        "phone": "+966512345678",
        "source": CustomerSource.MANUAL,
        "stage": Stage.NEW_LEAD,
        "created_at": NOW - timedelta(days=2),
        "updated_at": NOW - timedelta(days=2),
    }
    data.update(overrides)
    return Customer(**data)


def financing(**kwargs: Any) -> KsaCompliance:
    return KsaCompliance(financing=Financing(**kwargs))


def points(customer: Customer, factor: str) -> int:
    return score_customer(customer, NOW).points_of(factor)


# --- the factor table ----------------------------------------------------------------------------


def test_factor_maxima_sum_to_100_and_names_are_unique() -> None:
    assert sum(rule.max_points for rule in FACTORS) == MAX_SCORE == 100
    names = [rule.name for rule in FACTORS]
    assert len(set(names)) == len(names)


def test_every_factor_is_explained_even_with_zero_points() -> None:
    result = score_customer(make_customer(source=CustomerSource.IMPORT), NOW)
    assert [f.factor for f in result.factors] == [rule.name for rule in FACTORS]
    assert all(f.reason for f in result.factors)
    assert result.points_of("timeline") == 0  # listed, with 0 points


def test_lead_score_rejects_factors_that_do_not_add_up() -> None:
    good = score_customer(make_customer(), NOW)
    with pytest.raises(ValueError, match="sum"):
        LeadScore(score=good.score + 1, factors=good.factors)


FACTOR_ROWS: list[tuple[str, dict[str, Any], int]] = [
    # source
    ("source", {"source": CustomerSource.REFERRAL}, 10),
    ("source", {"source": CustomerSource.INQUIRY}, 8),
    ("source", {"source": CustomerSource.WHATSAPP}, 8),
    ("source", {"source": CustomerSource.MANUAL}, 5),
    ("source", {"source": CustomerSource.IMPORT}, 2),
    # preferences completeness
    ("preferences", {}, 0),
    ("preferences", {"preferences": Preferences(property_type=(PropertyType.VILLA,))}, 3),
    ("preferences", {"preferences": Preferences(preferred_areas=("حي النرجس",))}, 3),
    ("preferences", {"preferences": Preferences(preferred_cities=("الرياض",))}, 3),
    ("preferences", {"preferences": Preferences(bedrooms=3)}, 2),
    ("preferences", {"preferences": Preferences(min_area=Decimal(200))}, 2),
    ("preferences", {"preferences": Preferences(purpose=Purpose.BUY)}, 2),
    (
        "preferences",
        {
            "preferences": Preferences(
                property_type=(PropertyType.VILLA,),
                preferred_cities=("الرياض",),
                bedrooms=5,
                purpose=Purpose.BUY,
            )
        },
        10,
    ),
    # budget: given 7 + size tier
    ("budget", {}, 0),
    ("budget", {"preferences": Preferences(budget_max=Decimal(500_000))}, 7),
    ("budget", {"preferences": Preferences(budget_min=Decimal(750_000))}, 8),
    ("budget", {"preferences": Preferences(budget_max=Decimal(1_500_000))}, 9),
    (
        "budget",
        {"preferences": Preferences(budget_min=Decimal(2_000_000), budget_max=Decimal(3_000_000))},
        10,
    ),
    # timeline
    ("timeline", {}, 0),
    ("timeline", {"preferences": Preferences(timeline=Timeline.MORE_THAN_YEAR)}, 2),
    ("timeline", {"preferences": Preferences(timeline=Timeline.SIX_TO_TWELVE_MONTHS)}, 4),
    ("timeline", {"preferences": Preferences(timeline=Timeline.THREE_TO_SIX_MONTHS)}, 7),
    ("timeline", {"preferences": Preferences(timeline=Timeline.ONE_TO_THREE_MONTHS)}, 11),
    ("timeline", {"preferences": Preferences(timeline=Timeline.IMMEDIATE)}, 15),
    # engagement: 1 per interaction (cap 4) + 2 per positive inbound (cap 8)
    ("engagement", {}, 0),
    ("engagement", {"total_interactions": 3}, 3),
    ("engagement", {"total_interactions": 9}, 4),
    ("engagement", {"total_interactions": 2, "positive_inbound_interactions": 1}, 4),
    ("engagement", {"total_interactions": 10, "positive_inbound_interactions": 7}, 12),
    # response rate
    ("response_rate", {}, 0),
    ("response_rate", {"response_rate": 10}, 0),
    ("response_rate", {"response_rate": 20}, 1),
    ("response_rate", {"response_rate": 45}, 2),
    ("response_rate", {"response_rate": 60}, 3),
    ("response_rate", {"response_rate": 92}, 4),
    # recency, relative to NOW
    ("recency", {}, 0),
    ("recency", {"last_contact_at": NOW - timedelta(hours=5)}, 6),
    ("recency", {"last_contact_at": NOW + timedelta(minutes=5)}, 6),
    ("recency", {"last_contact_at": NOW - timedelta(days=2)}, 5),
    ("recency", {"last_contact_at": NOW - timedelta(days=7)}, 4),
    ("recency", {"last_contact_at": NOW - timedelta(days=10)}, 3),
    ("recency", {"last_contact_at": NOW - timedelta(days=30)}, 2),
    ("recency", {"last_contact_at": NOW - timedelta(days=60)}, 1),
    ("recency", {"last_contact_at": NOW - timedelta(days=91)}, 0),
    # stage
    ("stage", {"stage": Stage.NEW_LEAD}, 0),
    ("stage", {"stage": Stage.QUALIFIED}, 3),
    ("stage", {"stage": Stage.PROPERTY_MATCHING}, 5),
    ("stage", {"stage": Stage.SITE_VISIT}, 7),
    ("stage", {"stage": Stage.NEGOTIATION}, 9),
    ("stage", {"stage": Stage.CONTRACT_PREP}, 11),
    ("stage", {"stage": Stage.DOWN_PAYMENT}, 13),
    ("stage", {"stage": Stage.CLOSING}, 15),
    ("stage", {"stage": Stage.POST_SALE}, 15),
    # financing readiness
    ("financing", {}, 0),
    ("financing", {"ksa_compliance": financing()}, 0),
    ("financing", {"ksa_compliance": financing(bank="Al Rajhi")}, 4),
    ("financing", {"ksa_compliance": financing(redf_supported=True)}, 4),
    (
        "financing",
        {"ksa_compliance": KsaCompliance(sakani=SakaniEligibility(eligible=True))},
        4,
    ),
    ("financing", {"ksa_compliance": financing(pre_approved=True)}, 10),
    (
        "financing",
        {"ksa_compliance": financing(pre_approved=True, pre_approval_amount=Decimal(900_000))},
        12,
    ),
    ("financing", {"tags": ("cash_buyer",)}, 12),
    ("financing", {"tags": ("Cash-Buyer",)}, 12),
    # tags
    ("tags", {}, 0),
    ("tags", {"tags": ("family",)}, 0),
    ("tags", {"tags": ("hot_lead",)}, 3),
    ("tags", {"tags": ("VIP",)}, 2),
    ("tags", {"tags": ("cash_buyer",)}, 1),
    ("tags", {"tags": ("vip", "hot lead", "cash_buyer")}, 6),
]


@pytest.mark.parametrize(("factor", "overrides", "expected"), FACTOR_ROWS)
def test_factor_points(factor: str, overrides: dict[str, Any], expected: int) -> None:
    assert points(make_customer(**overrides), factor) == expected


def test_factor_reasons_explain_the_data() -> None:
    result = score_customer(
        make_customer(
            preferences=Preferences(budget_max=Decimal(2_500_000), timeline=Timeline.IMMEDIATE),
            last_contact_at=NOW - timedelta(days=3, hours=1),
        ),
        NOW,
    )
    reasons = {f.factor: f.reason for f in result.factors}
    assert "2,500,000 SAR" in reasons["budget"]
    assert "Immediate" in reasons["timeline"]
    assert "3 days ago" in reasons["recency"]


def test_score_is_the_sum_for_a_known_customer() -> None:
    customer = make_customer(
        source=CustomerSource.REFERRAL,  # 10
        stage=Stage.NEGOTIATION,  # 9
        preferences=Preferences(timeline=Timeline.IMMEDIATE, budget_max=Decimal(100_000)),  # 15+7
        tags=("vip",),  # 2
    )
    assert score_customer(customer, NOW).score == 10 + 9 + 15 + 7 + 2


def test_recency_makes_the_score_as_of_now() -> None:
    customer = make_customer(last_contact_at=NOW - timedelta(hours=1))
    assert (
        score_customer(customer, NOW).score
        > score_customer(customer, NOW + timedelta(days=100)).score
    )


# --- property-based: range, determinism, sum, monotonicity ---------------------------------------

money = st.integers(min_value=1, max_value=20_000_000).map(Decimal)


@st.composite
def preferences_st(draw: st.DrawFn) -> Preferences:
    budget_min = draw(st.none() | money)
    budget_max = draw(st.none() | money)
    if budget_min is not None and budget_max is not None and budget_max < budget_min:
        budget_min, budget_max = budget_max, budget_min
    return Preferences(
        property_type=tuple(draw(st.sets(st.sampled_from(PropertyType), max_size=3))),
        budget_min=budget_min,
        budget_max=budget_max,
        preferred_areas=tuple(draw(st.lists(st.sampled_from(["حي النرجس", "الملقا"]), max_size=2))),
        preferred_cities=tuple(draw(st.lists(st.sampled_from(["الرياض", "جدة"]), max_size=2))),
        bedrooms=draw(st.none() | st.integers(0, 10)),
        min_area=draw(st.none() | st.integers(50, 2000).map(Decimal)),
        purpose=draw(st.none() | st.sampled_from(Purpose)),
        timeline=draw(st.none() | st.sampled_from(Timeline)),
    )


@st.composite
def compliance_st(draw: st.DrawFn) -> KsaCompliance | None:
    if draw(st.booleans()):
        return None
    fin = draw(
        st.none()
        | st.builds(
            Financing,
            bank=st.none() | st.just("SNB"),
            redf_supported=st.booleans(),
            pre_approved=st.booleans(),
            pre_approval_amount=st.none() | money,
        )
    )
    sakani = draw(st.none() | st.builds(SakaniEligibility, eligible=st.booleans()))
    return KsaCompliance(financing=fin, sakani=sakani)


@st.composite
def customers(draw: st.DrawFn) -> Customer:
    total = draw(st.integers(0, 30))
    contact_age = draw(st.none() | st.integers(-2, 200 * 24))  # hours before NOW
    return make_customer(
        source=draw(st.sampled_from(CustomerSource)),
        stage=draw(st.sampled_from(Stage)),
        preferences=draw(preferences_st()),
        total_interactions=total,
        positive_inbound_interactions=draw(st.integers(0, total)),
        response_rate=draw(st.none() | st.integers(0, 100)),
        last_contact_at=None if contact_age is None else NOW - timedelta(hours=contact_age),
        tags=tuple(
            draw(st.sets(st.sampled_from(["vip", "hot_lead", "cash_buyer", "family"]), max_size=4))
        ),
        ksa_compliance=draw(compliance_st()),
    )


@given(customers())
def test_score_is_bounded_deterministic_and_explained(customer: Customer) -> None:
    first = score_customer(customer, NOW)
    assert 0 <= first.score <= 100
    assert sum(f.points for f in first.factors) == first.score
    assert score_customer(customer, NOW) == first
    for rule, factor in zip(FACTORS, first.factors, strict=True):
        assert factor.factor == rule.name
        assert 0 <= factor.points <= rule.max_points


def _score(customer: Customer) -> int:
    return score_customer(customer, NOW).score


@given(customers())
def test_more_urgent_timeline_never_lowers_the_score(customer: Customer) -> None:
    # The whole chain none < 12+ months < … < immediate, so every pair is covered each time.
    chain = [None, *sorted(Timeline, key=lambda t: t.urgency)]
    scores = [
        _score(evolve(customer, preferences=evolve(customer.preferences, timeline=t)))
        for t in chain
    ]
    assert scores == sorted(scores)


@given(customers(), money, st.booleans())
def test_a_budget_given_never_lowers_the_score(
    customer: Customer, amount: Decimal, as_max: bool
) -> None:
    none = evolve(
        customer, preferences=evolve(customer.preferences, budget_min=None, budget_max=None)
    )
    prefs = (
        evolve(none.preferences, budget_max=amount)
        if as_max
        else evolve(none.preferences, budget_min=amount)
    )
    given_ = evolve(none, preferences=prefs)
    assert _score(given_) >= _score(none)


@given(customers(), money, money)
def test_a_larger_budget_never_lowers_the_score(customer: Customer, a: Decimal, b: Decimal) -> None:
    small, large = sorted((a, b))
    prefs = evolve(customer.preferences, budget_min=None)
    low = evolve(customer, preferences=evolve(prefs, budget_max=small))
    high = evolve(customer, preferences=evolve(prefs, budget_max=large))
    assert _score(high) >= _score(low)


@given(customers())
def test_one_more_positive_inbound_interaction_never_lowers_the_score(customer: Customer) -> None:
    counted = evolve(
        customer,
        positive_inbound_interactions=customer.positive_inbound_interactions + 1,
        total_interactions=customer.total_interactions + 1,
    )
    only_positive = evolve(
        customer, positive_inbound_interactions=customer.positive_inbound_interactions + 1
    )
    assert _score(counted) >= _score(customer)
    assert _score(only_positive) >= _score(customer)


@given(customers())
def test_a_later_stage_never_lowers_the_score(customer: Customer) -> None:
    scores = [_score(evolve(customer, stage=s)) for s in sorted(Stage, key=lambda s: s.rank)]
    assert scores == sorted(scores)


@given(customers(), st.none() | money)
def test_a_mortgage_pre_approval_never_lowers_the_score(
    customer: Customer, amount: Decimal | None
) -> None:
    compliance = customer.ksa_compliance or KsaCompliance()
    fin = compliance.financing or Financing()
    before = evolve(
        customer,
        ksa_compliance=evolve(
            compliance, financing=evolve(fin, pre_approved=False, pre_approval_amount=None)
        ),
    )
    after = evolve(
        customer,
        ksa_compliance=evolve(
            compliance, financing=evolve(fin, pre_approved=True, pre_approval_amount=amount)
        ),
    )
    assert _score(after) >= _score(before)


@given(customers(), st.integers(0, 100), st.integers(0, 100))
def test_a_better_response_rate_or_fresher_contact_never_lowers_the_score(
    customer: Customer, a: int, b: int
) -> None:
    low, high = sorted((a, b))
    assert _score(evolve(customer, response_rate=high)) >= _score(
        evolve(customer, response_rate=low)
    )
    older = evolve(customer, last_contact_at=NOW - timedelta(days=low))
    newer = evolve(customer, last_contact_at=NOW - timedelta(days=low) + timedelta(hours=1))
    assert _score(newer) >= _score(older)


# --- insights ------------------------------------------------------------------------------------


def insights(customer: Customer, matches: tuple[str, ...] = ()) -> AiInsights:
    return build_insights(customer, score_customer(customer, NOW), NOW, property_matches=matches)


CONTACTED = {"last_contact_at": NOW - timedelta(days=2), "total_interactions": 2}
COMPLETE_PREFS = Preferences(
    property_type=(PropertyType.VILLA,),
    preferred_cities=("الرياض",),
    budget_max=Decimal(2_000_000),
)

ACTION_ROWS: list[tuple[str, dict[str, Any], tuple[str, ...], str, str]] = [
    (
        "post_sale asks for a referral",
        {"stage": Stage.POST_SALE, "last_contact_at": NOW - timedelta(days=200)},
        ("p1",),
        "تابع رضا العميل واطلب منه إحالة",
        "Check satisfaction and ask for a referral",
    ),
    (
        "new lead never contacted is called within 24 hours",
        {"stage": Stage.NEW_LEAD},
        ("p1", "p2"),
        "اتصل بالعميل خلال 24 ساعة",
        "Call the customer within 24 hours",
    ),
    (
        "high churn risk re-engages",
        {"stage": Stage.NEGOTIATION, "last_contact_at": NOW - timedelta(days=45)},
        ("p1",),
        "أعد التواصل مع العميل - لا تواصل منذ 45 يوماً",
        "Re-engage the customer - no contact for 45 days",
    ),
    (
        "negotiation sends a final offer",
        {"stage": Stage.NEGOTIATION, **CONTACTED},
        ("p1",),
        "قدّم عرضاً نهائياً وتابع التفاوض",
        "Send a final offer and follow up the negotiation",
    ),
    (
        "contract_prep completes documents",
        {"stage": Stage.CONTRACT_PREP, **CONTACTED},
        (),
        "أكمل مستندات العقد",
        "Complete the contract documents",
    ),
    (
        "down_payment follows up the payment",
        {"stage": Stage.DOWN_PAYMENT, **CONTACTED},
        (),
        "تابع سداد الدفعة الأولى",
        "Follow up on the down payment",
    ),
    (
        "closing completes the title transfer",
        {"stage": Stage.CLOSING, **CONTACTED},
        (),
        "أكمل إجراءات الإفراغ ونقل الملكية",
        "Complete the title transfer",
    ),
    (
        "three matches are recommended",
        {"stage": Stage.PROPERTY_MATCHING, **CONTACTED},
        ("p1", "p2", "p3"),
        "3 عقارات تطابق تفضيلاته - أرسل توصيات",
        "3 properties match the preferences - send recommendations",
    ),
    (
        "one match is recommended in the singular",
        {"stage": Stage.QUALIFIED, **CONTACTED},
        ("p1",),
        "عقار واحد يطابق تفضيلاته - أرسل توصية",
        "1 property matches the preferences - send a recommendation",
    ),
    (
        "two matches use the Arabic dual",
        {"stage": Stage.SITE_VISIT, **CONTACTED},
        ("p1", "p2"),
        "عقاران يطابقان تفضيلاته - أرسل توصيات",
        "2 properties match the preferences - send recommendations",
    ),
    (
        "eleven matches",
        {"stage": Stage.PROPERTY_MATCHING, **CONTACTED},
        tuple(f"p{i}" for i in range(11)),
        "11 عقاراً تطابق تفضيلاته - أرسل توصيات",
        "11 properties match the preferences - send recommendations",
    ),
    (
        "contacted new lead is qualified",
        {"stage": Stage.NEW_LEAD, **CONTACTED},
        (),
        "أكمل تأهيل العميل: الميزانية والجدول الزمني",
        "Qualify the customer: confirm budget and timeline",
    ),
    (
        "site_visit schedules the visit",
        {"stage": Stage.SITE_VISIT, **CONTACTED},
        (),
        "حدد موعد المعاينة واجمع ملاحظات العميل",
        "Schedule the site visit and collect feedback",
    ),
    (
        "incomplete preferences are completed",
        {"stage": Stage.QUALIFIED, **CONTACTED},
        (),
        "أكمل تفضيلات العميل: نوع العقار والموقع والميزانية",
        "Complete the preferences: property type, location and budget",
    ),
    (
        "complete preferences without matches look for properties",
        {"stage": Stage.PROPERTY_MATCHING, "preferences": COMPLETE_PREFS, **CONTACTED},
        (),
        "ابحث عن عقارات جديدة تطابق تفضيلاته",
        "Look for new properties matching the preferences",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "matches", "arabic", "english"),
    [row[1:] for row in ACTION_ROWS],
    ids=[row[0] for row in ACTION_ROWS],
)
def test_next_best_action(
    overrides: dict[str, Any], matches: tuple[str, ...], arabic: str, english: str
) -> None:
    result = insights(make_customer(**overrides), matches)
    assert (result.next_best_action, result.next_best_action_en) == (arabic, english)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"last_contact_at": NOW - timedelta(days=14)}, ChurnRisk.LOW),
        ({"last_contact_at": NOW - timedelta(days=15)}, ChurnRisk.MEDIUM),
        ({"last_contact_at": NOW - timedelta(days=30)}, ChurnRisk.MEDIUM),
        ({"last_contact_at": NOW - timedelta(days=31)}, ChurnRisk.HIGH),
        # never contacted: counted from creation
        ({"created_at": NOW - timedelta(days=40)}, ChurnRisk.HIGH),
        ({"created_at": NOW - timedelta(days=1)}, ChurnRisk.LOW),
        # a response rate below 30 % raises the level by one
        ({"last_contact_at": NOW - timedelta(days=1), "response_rate": 29}, ChurnRisk.MEDIUM),
        ({"last_contact_at": NOW - timedelta(days=1), "response_rate": 30}, ChurnRisk.LOW),
        ({"last_contact_at": NOW - timedelta(days=20), "response_rate": 10}, ChurnRisk.HIGH),
        ({"last_contact_at": NOW - timedelta(days=60), "response_rate": 10}, ChurnRisk.HIGH),
    ],
)
def test_churn_risk(overrides: dict[str, Any], expected: ChurnRisk) -> None:
    assert insights(make_customer(**overrides)).churn_risk is expected


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, EngagementLevel.LOW),
        ({"total_interactions": 1, "response_rate": 39}, EngagementLevel.LOW),
        ({"total_interactions": 2}, EngagementLevel.MEDIUM),
        ({"total_interactions": 1, "positive_inbound_interactions": 1}, EngagementLevel.MEDIUM),
        ({"response_rate": 40}, EngagementLevel.MEDIUM),
        ({"total_interactions": 3, "positive_inbound_interactions": 3}, EngagementLevel.HIGH),
        ({"total_interactions": 5, "response_rate": 70}, EngagementLevel.HIGH),
        ({"total_interactions": 5, "response_rate": 69}, EngagementLevel.MEDIUM),
    ],
)
def test_engagement_level(overrides: dict[str, Any], expected: EngagementLevel) -> None:
    assert insights(make_customer(**overrides)).engagement_level is expected


@pytest.mark.parametrize(
    ("score", "stage", "expected"),
    [
        (0, Stage.NEW_LEAD, 5),
        (100, Stage.NEW_LEAD, 52),  # 5 + 95 * 100 // 200
        (80, Stage.PROPERTY_MATCHING, 49),  # 15 + 85 * 80 // 200
        (50, Stage.CLOSING, 92),  # 90 + 10 * 50 // 200
        (0, Stage.POST_SALE, 100),
    ],
)
def test_conversion_probability_formula(score: int, stage: Stage, expected: int) -> None:
    assert conversion_probability(score, stage) == expected


@given(st.integers(0, 100), st.integers(0, 100), st.sampled_from(Stage), st.sampled_from(Stage))
def test_conversion_probability_is_bounded_and_monotone(
    a: int, b: int, s1: Stage, s2: Stage
) -> None:
    lo, hi = sorted((a, b))
    early, late = sorted((s1, s2), key=lambda s: s.rank)
    assert 0 <= conversion_probability(lo, early) <= conversion_probability(hi, late) <= 100


def test_insights_conversion_uses_score_and_stage() -> None:
    customer = make_customer(stage=Stage.SITE_VISIT, source=CustomerSource.REFERRAL)
    score = score_customer(customer, NOW)
    result = build_insights(customer, score, NOW)
    assert result.conversion_probability == conversion_probability(score.score, Stage.SITE_VISIT)


HOT = {
    "source": CustomerSource.REFERRAL,
    "stage": Stage.NEGOTIATION,
    "preferences": Preferences(timeline=Timeline.IMMEDIATE, budget_max=Decimal(5_000_000)),
    "tags": ("hot_lead", "vip", "cash_buyer"),
    "total_interactions": 6,
    "positive_inbound_interactions": 4,
    "response_rate": 90,
    "last_contact_at": NOW - timedelta(hours=2),
}


@pytest.mark.parametrize(
    ("overrides", "days"),
    [
        ({}, 0),  # new lead never contacted: today
        (HOT, 1),  # score >= 70
        ({**CONTACTED, "created_at": NOW - timedelta(days=90)}, 7),  # cold, recent contact
        ({"stage": Stage.QUALIFIED, "last_contact_at": NOW - timedelta(days=40)}, 1),  # churn
        ({**HOT, "tags": (), "stage": Stage.QUALIFIED, "response_rate": None}, 3),  # 40 <= s < 70
        ({"stage": Stage.POST_SALE, **CONTACTED}, 30),
    ],
)
def test_recommended_follow_up_date(overrides: dict[str, Any], days: int) -> None:
    assert insights(make_customer(**overrides)).recommended_follow_up_date == TODAY + timedelta(
        days=days
    )


def test_follow_up_bands_rows_have_the_intended_scores() -> None:
    # Guards the table above: its rows must stay in the score band they were written for.
    assert score_customer(make_customer(**HOT), NOW).score >= 70
    middle = make_customer(**{**HOT, "tags": (), "stage": Stage.QUALIFIED, "response_rate": None})
    assert 40 <= score_customer(middle, NOW).score < 70
    cold = make_customer(**CONTACTED)
    assert score_customer(cold, NOW).score < 40


def test_dates_are_local_riyadh_days() -> None:
    late_evening_utc = datetime(2024, 1, 22, 22, 0, tzinfo=UTC)  # 01:00 on the 23rd
    customer = make_customer()
    result = build_insights(customer, score_customer(customer, late_evening_utc), late_evening_utc)
    assert result.recommended_follow_up_date == date(2024, 1, 23)


@pytest.mark.parametrize(
    ("stage", "timeline", "days"),
    [
        (Stage.POST_SALE, Timeline.IMMEDIATE, None),
        (Stage.CLOSING, None, 7),
        (Stage.DOWN_PAYMENT, None, 21),
        (Stage.CONTRACT_PREP, Timeline.MORE_THAN_YEAR, 30),
        (Stage.NEGOTIATION, None, 45),
        (Stage.SITE_VISIT, None, None),
        (Stage.QUALIFIED, Timeline.MORE_THAN_YEAR, None),
        (Stage.NEW_LEAD, Timeline.IMMEDIATE, 60),  # the pipeline takes at least 60 days
        (Stage.SITE_VISIT, Timeline.IMMEDIATE, 30),
        (Stage.PROPERTY_MATCHING, Timeline.ONE_TO_THREE_MONTHS, 90),
        (Stage.QUALIFIED, Timeline.THREE_TO_SIX_MONTHS, 180),
        (Stage.NEW_LEAD, Timeline.SIX_TO_TWELVE_MONTHS, 365),
    ],
)
def test_predicted_close_date(stage: Stage, timeline: Timeline | None, days: int | None) -> None:
    customer = make_customer(stage=stage, preferences=Preferences(timeline=timeline), **CONTACTED)
    expected = None if days is None else TODAY + timedelta(days=days)
    assert insights(customer).predicted_close_date == expected


def test_insights_carry_the_explanation_and_the_matches() -> None:
    customer = make_customer(**HOT)
    score = score_customer(customer, NOW)
    result = build_insights(customer, score, NOW, property_matches=("p9", "p3"))
    assert result.score_factors == score.factors
    assert result.property_matches == ("p9", "p3")


# --- refresh_score -------------------------------------------------------------------------------


def test_refresh_score_recomputes_score_and_insights() -> None:
    customer = make_customer(**HOT, lead_score=3)
    refreshed = refresh_score(customer, NOW)
    score = score_customer(customer, NOW)
    assert refreshed.lead_score == score.score != 3
    assert refreshed.ai_insights == build_insights(customer, score, NOW)
    assert evolve(refreshed, lead_score=3, ai_insights=None) == customer


def test_refresh_score_keeps_property_matches_and_sentiment() -> None:
    stale = build_insights(make_customer(), score_customer(make_customer(), NOW), NOW)
    stale = evolve(stale, property_matches=("p1", "p2"), sentiment_score=75)
    customer = make_customer(stage=Stage.PROPERTY_MATCHING, ai_insights=stale, **CONTACTED)
    refreshed = refresh_score(customer, NOW)
    assert refreshed.ai_insights is not None
    assert refreshed.ai_insights.property_matches == ("p1", "p2")
    assert refreshed.ai_insights.sentiment_score == 75
    assert refreshed.ai_insights.next_best_action_en.startswith("2 properties match")


@settings(max_examples=50)
@given(customers())
def test_refresh_score_is_idempotent(customer: Customer) -> None:
    once = refresh_score(customer, NOW)
    assert refresh_score(once, NOW) == once
    assert once.ai_insights is not None
    assert sum(f.points for f in once.ai_insights.score_factors) == once.lead_score

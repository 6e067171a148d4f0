"""Lead score with its explanation, and the rule-based insights (rules §3).

Nothing here is a trained model: the score is a table of named factors, and the insights are a
handful of ordered rules over the same data. Both are pure and deterministic functions of the
customer and of ``now`` (which is always an argument, never read from the clock).

Lead score
==========

:data:`FACTORS` is the table. Each factor has a maximum and a rule that earns between 0 and that
maximum; the maxima sum to exactly 100, so the score (the sum of the earned points) is an integer
in 0..100 *by construction* — nothing is clamped afterwards, and the explanation always adds up.

=================  ===  ===========================================================================
factor             max  how points are earned
=================  ===  ===========================================================================
source             10   referral 10, inquiry 8, whatsapp 8, manual 5, import 2
preferences        10   property type 3, location (areas or cities) 3, size (bedrooms or min area)
                        2, purpose 2
budget             10   a budget given 7, plus its size (the larger bound): ≥ 750 000 SAR +1,
                        ≥ 1 500 000 +2, ≥ 3 000 000 +3
timeline           15   by ``Timeline.urgency``: immediate 15, 1-3 months 11, 3-6 months 7,
                        6-12 months 4, 12+ months 2, none 0
engagement         12   1 per logged interaction (up to 4) + 2 per positive inbound interaction
                        (up to 8)
response_rate      4    ≥ 80 % 4, ≥ 60 % 3, ≥ 40 % 2, ≥ 20 % 1, otherwise or unknown 0
recency            6    last contact ≤ 1 day ago 6, ≤ 3 days 5, ≤ 7 days 4, ≤ 14 days 3,
                        ≤ 30 days 2, ≤ 90 days 1, older or never 0
stage              15   by ``Stage.rank``: new_lead 0, qualified 3, property_matching 5,
                        site_visit 7, negotiation 9, contract_prep 11, down_payment 13,
                        closing 15, post_sale 15
financing          12   the best that applies: cash buyer (tag ``cash_buyer``) 12; mortgage
                        pre-approval amount > 0 stated 12 (counts as pre-approved), flag
                        ``pre_approved`` without an amount 10; financing in progress (a bank
                        chosen, REDF support or Sakani eligibility) 4; else 0
tags               6    ``hot_lead`` 3, ``vip`` 2, ``cash_buyer`` 1 (tags compared
                        case-insensitively, ``-`` and spaces read as ``_``)
=================  ===  ===========================================================================

Every factor is listed in the explanation, including those that earned 0 points, so a
salesperson sees what is missing as well as what counts.

Monotone (rules §3): every rule is non-decreasing in its input (tables ordered by urgency and
rank, caps applied with ``min`` on non-decreasing counts, "the best that applies" for financing),
and each input feeds exactly one factor. So, all else equal, a more urgent timeline, a budget
given, one more (positive inbound) interaction, a later stage or a mortgage pre-approval never
lower the score.

The ``recency`` factor depends on ``now``: a stored score is the score *as of* the moment it was
computed (the application recomputes it whenever one of its inputs changes).

Insights
========

:func:`build_insights` derives :class:`~customers_hub.domain.model.AiInsights`. "Today" is the
local date of ``now`` in the organization's time zone (default ``Asia/Riyadh``, UTC+3). "Days
since contact" counts from ``last_contact_at``, or from ``created_at`` when never contacted.

Next best action (Arabic and English) — the first rule that applies wins:

1. stage ``post_sale``: check satisfaction and ask for a referral.
2. stage ``new_lead`` and never contacted: call the customer within 24 hours.
3. churn risk high: re-engage, naming the days without contact.
4. stage ``negotiation`` / ``contract_prep`` / ``down_payment`` / ``closing``: the step of that
   stage (final offer, contract documents, down payment, title transfer).
5. property matches available: "N properties match – send recommendations".
6. stage ``new_lead`` (contacted): qualify — confirm budget and timeline.
7. stage ``site_visit``: schedule the site visit and collect feedback.
8. preferences incomplete (no property type, no location or no budget): complete them.
9. otherwise: look for new properties matching the preferences.

Churn risk: days since contact ≤ 14 → low, ≤ 30 → medium, more → high; a known response rate
below 30 % raises it one level (low → medium → high). The model has no counter of negative
interactions, so sentiment does not enter this rule.

Engagement level: high when ≥ 3 positive inbound interactions, or ≥ 5 interactions with a response
rate ≥ 70 %; medium when ≥ 2 interactions, or ≥ 1 positive inbound interaction, or a response
rate ≥ 40 %; low otherwise.

Conversion probability (0–100): ``base + (100 − base) × score // 200`` where ``base`` is the
stage's base rate (new_lead 5, qualified 10, property_matching 15, site_visit 25, negotiation 40,
contract_prep 60, down_payment 75, closing 90, post_sale 100). A perfect score thus closes half
of the gap between the stage's base rate and certainty; it is non-decreasing in score and stage.

Recommended follow-up date: today for a new lead never contacted; today + 1 day when churn risk is
high or the score is ≥ 70; + 3 days for a score ≥ 40; + 7 days otherwise; + 30 days in
``post_sale``.

Predicted close date: ``None`` in ``post_sale`` (already closed). From ``negotiation`` on, today +
the stage's remaining days (negotiation 45, contract_prep 30, down_payment 21, closing 7). Before
that it needs a timeline (``None`` without one, or with ``12+months``, which is too far to
predict): today + max(timeline days, stage days) with timeline days immediate 30, 1-3 months 90,
3-6 months 180, 6-12 months 365 and stage days new_lead 60, qualified 50, property_matching 45,
site_visit 30 (the remaining stages take time whatever the customer's wish).

``property_matches`` is passed through (see :mod:`customers_hub.domain.matching`);
``score_factors`` is the score's explanation.

Sentiment score
===============

:func:`sentiment_score` (``aiInsights.sentimentScore``, an integer 0..100, 50 = neutral) is the
recency-weighted mean of the sentiments the agents recorded on the customer's interactions:

* the window is the :data:`SENTIMENT_WINDOW` (20) newest interactions *that carry a sentiment*
  (by ``date``, then id); interactions without one are not counted at all;
* each has the value positive +1, neutral 0, negative −1 and the weight
  ``1 / 2 ** k``, where ``k`` is the number of whole :data:`SENTIMENT_HALF_LIFE` periods (14
  days) by which it is older than the newest interaction of the window — an interaction two
  weeks older than the latest one counts half, four weeks older a quarter;
* ``score = 50 + 50 × Σ(weight × value) / Σ(weight)``, computed exactly (fractions) and rounded
  half up; ``None`` (not shown) without any interaction carrying a sentiment.

Weights are relative to the newest interaction, not to ``now``, so the stored value never goes
stale: it changes only when an interaction is logged. Properties (tested): the score is within
0..100; all positive is 100, all negative 0, all neutral 50; logging a positive interaction
never lowers it and a negative one never raises it (whatever its date: if it enters the window
it is newer than the one it pushes out); of two interactions of opposite sentiment, the more
recent one pulls the score its way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from fractions import Fraction

from attrs import evolve, frozen

from customers_hub.domain.enums import (
    ChurnRisk,
    CustomerSource,
    EngagementLevel,
    Sentiment,
    Stage,
    Timeline,
)
from customers_hub.domain.model import AiInsights, Customer, Interaction, ScoreFactor

MAX_SCORE = 100

RIYADH = timezone(timedelta(hours=3), "Asia/Riyadh")
"""The default organization time zone (Saudi Arabia has no daylight saving time)."""

CASH_BUYER_TAG = "cash_buyer"
VIP_TAG = "vip"
HOT_LEAD_TAG = "hot_lead"

Earn = Callable[[Customer, datetime], tuple[int, str]]
"""A factor's rule: (customer, now) -> (points earned, short English reason)."""


@frozen
class FactorRule:
    """One row of the factor table: a named factor, its maximum and the rule that earns points."""

    name: str
    max_points: int
    how: str
    earn: Earn


@frozen
class LeadScore:
    """A lead score and its explanation; the factors' points sum exactly to ``score``."""

    score: int
    factors: tuple[ScoreFactor, ...]

    def __attrs_post_init__(self) -> None:
        # The invariant the API promises; a violation is a bug in the factor table.
        if sum(f.points for f in self.factors) != self.score:
            raise ValueError("the factors' points must sum to the score")
        if not 0 <= self.score <= MAX_SCORE:
            raise ValueError("a lead score is between 0 and 100")

    def points_of(self, factor: str) -> int:
        """Points earned by the named factor (0 if it is not in the explanation)."""
        return sum(f.points for f in self.factors if f.factor == factor)


# --- factor rules --------------------------------------------------------------------------------

_SOURCE_POINTS: dict[CustomerSource, int] = {
    CustomerSource.REFERRAL: 10,
    CustomerSource.INQUIRY: 8,
    CustomerSource.WHATSAPP: 8,
    CustomerSource.MANUAL: 5,
    CustomerSource.IMPORT: 2,
}


def _tags(customer: Customer) -> frozenset[str]:
    return frozenset(t.strip().lower().replace("-", "_").replace(" ", "_") for t in customer.tags)


def _earn_source(customer: Customer, now: datetime) -> tuple[int, str]:
    points = _SOURCE_POINTS[customer.source]
    return points, f"Source {customer.source.value}"


def _earn_preferences(customer: Customer, now: datetime) -> tuple[int, str]:
    prefs = customer.preferences
    parts = (
        (3, "property type", bool(prefs.property_type)),
        (3, "location", bool(prefs.preferred_areas or prefs.preferred_cities)),
        (2, "size", prefs.bedrooms is not None or prefs.min_area is not None),
        (2, "purpose", prefs.purpose is not None),
    )
    given = [name for _, name, ok in parts if ok]
    missing = [name for _, name, ok in parts if not ok]
    points = sum(p for p, _, ok in parts if ok)
    if not missing:
        return points, "Preferences complete (type, location, size, purpose)"
    if not given:
        return points, "No preferences given"
    return points, f"Preferences given: {', '.join(given)}; missing: {', '.join(missing)}"


_BUDGET_GIVEN = 7
_BUDGET_TIERS: tuple[tuple[Decimal, int], ...] = (
    (Decimal(3_000_000), 3),
    (Decimal(1_500_000), 2),
    (Decimal(750_000), 1),
)


def _budget_top(customer: Customer) -> Decimal | None:
    bounds = [
        b
        for b in (customer.preferences.budget_min, customer.preferences.budget_max)
        if b is not None and b > 0
    ]
    return max(bounds) if bounds else None


def _earn_budget(customer: Customer, now: datetime) -> tuple[int, str]:
    top = _budget_top(customer)
    if top is None:
        return 0, "No budget given"
    # The size bonus grows with the budget, so a larger budget never scores lower.
    bonus = next((pts for threshold, pts in _BUDGET_TIERS if top >= threshold), 0)
    return _BUDGET_GIVEN + bonus, f"Budget given (up to {top:,.0f} SAR)"


# Indexed by Timeline.urgency (0 = 12+ months … 4 = immediate): increasing, hence monotone.
_TIMELINE_POINTS: tuple[int, ...] = (2, 4, 7, 11, 15)


def _earn_timeline(customer: Customer, now: datetime) -> tuple[int, str]:
    timeline = customer.preferences.timeline
    if timeline is None:
        return 0, "No timeline given"
    return _TIMELINE_POINTS[timeline.urgency], f"Timeline {timeline.label_en}"


_INTERACTIONS_CAP = 4
_POSITIVE_INBOUND_POINTS = 2
_POSITIVE_INBOUND_CAP = 8


def _earn_engagement(customer: Customer, now: datetime) -> tuple[int, str]:
    total = max(customer.total_interactions, 0)
    positive = max(customer.positive_inbound_interactions, 0)
    # min() of a non-decreasing count is non-decreasing: saturation keeps monotonicity.
    points = min(total, _INTERACTIONS_CAP) + min(
        positive * _POSITIVE_INBOUND_POINTS, _POSITIVE_INBOUND_CAP
    )
    return points, f"{total} interactions, {positive} positive inbound"


_RESPONSE_RATE_TIERS: tuple[tuple[int, int], ...] = ((80, 4), (60, 3), (40, 2), (20, 1))


def _earn_response_rate(customer: Customer, now: datetime) -> tuple[int, str]:
    rate = customer.response_rate
    if rate is None:
        return 0, "Response rate unknown"
    points = next((pts for threshold, pts in _RESPONSE_RATE_TIERS if rate >= threshold), 0)
    return points, f"Response rate {rate}%"


_RECENCY_TIERS: tuple[tuple[timedelta, int], ...] = (
    (timedelta(days=1), 6),
    (timedelta(days=3), 5),
    (timedelta(days=7), 4),
    (timedelta(days=14), 3),
    (timedelta(days=30), 2),
    (timedelta(days=90), 1),
)


def _earn_recency(customer: Customer, now: datetime) -> tuple[int, str]:
    last = customer.last_contact_at
    if last is None:
        return 0, "Never contacted"
    # A contact stamped slightly in the future (clock skew) counts as just now.
    age = max(now - last, timedelta(0))
    points = next((pts for limit, pts in _RECENCY_TIERS if age <= limit), 0)
    return points, f"Last contact {_days_ago(age.days)}"


def _days_ago(days: int) -> str:
    if days == 0:
        return "today"
    return "1 day ago" if days == 1 else f"{days} days ago"


# Indexed by Stage.rank; non-decreasing so a later stage never scores lower.
_STAGE_POINTS: tuple[int, ...] = (0, 3, 5, 7, 9, 11, 13, 15, 15)


def _earn_stage(customer: Customer, now: datetime) -> tuple[int, str]:
    return _STAGE_POINTS[customer.stage.rank], f"Stage {customer.stage.label_en}"


def _earn_financing(customer: Customer, now: datetime) -> tuple[int, str]:
    financing = customer.ksa_compliance.financing if customer.ksa_compliance else None
    sakani = customer.ksa_compliance.sakani if customer.ksa_compliance else None
    # "The best that applies": adding a readiness signal can only raise the maximum.
    options: list[tuple[int, str]] = [(0, "No financing information")]
    if CASH_BUYER_TAG in _tags(customer):
        options.append((12, "Cash buyer: no financing needed"))
    if financing is not None:
        amount = financing.pre_approval_amount
        if amount is not None and amount > 0:
            # A stated pre-approval amount is the most concrete form of readiness.
            options.append((12, f"Mortgage pre-approved ({amount:,.0f} SAR)"))
        elif financing.pre_approved:
            options.append((10, "Mortgage pre-approved"))
        if financing.bank or financing.redf_supported:
            options.append((4, "Financing in progress"))
    if sakani is not None and sakani.eligible:
        options.append((4, "Financing in progress (Sakani eligible)"))
    # First of the maxima, so ties are explained by the earliest (strongest) signal.
    best = max(p for p, _ in options)
    return next(o for o in options if o[0] == best)


_TAG_POINTS: tuple[tuple[str, int], ...] = ((HOT_LEAD_TAG, 3), (VIP_TAG, 2), (CASH_BUYER_TAG, 1))


def _earn_tags(customer: Customer, now: datetime) -> tuple[int, str]:
    tags = _tags(customer)
    hits = [(tag, pts) for tag, pts in _TAG_POINTS if tag in tags]
    if not hits:
        return 0, "No scoring tags (hot_lead, vip, cash_buyer)"
    return sum(p for _, p in hits), "Tags: " + ", ".join(t for t, _ in hits)


FACTORS: tuple[FactorRule, ...] = (
    FactorRule(
        "source", 10, "referral 10, inquiry 8, whatsapp 8, manual 5, import 2", _earn_source
    ),
    FactorRule(
        "preferences",
        10,
        "property type 3, location 3, size (bedrooms or min area) 2, purpose 2",
        _earn_preferences,
    ),
    FactorRule(
        "budget",
        10,
        "budget given 7, + size of the larger bound: >= 750k +1, >= 1.5M +2, >= 3M +3",
        _earn_budget,
    ),
    FactorRule(
        "timeline",
        15,
        "immediate 15, 1-3 months 11, 3-6 months 7, 6-12 months 4, 12+ months 2, none 0",
        _earn_timeline,
    ),
    FactorRule(
        "engagement",
        12,
        "1 per interaction (up to 4) + 2 per positive inbound interaction (up to 8)",
        _earn_engagement,
    ),
    FactorRule(
        "response_rate", 4, ">= 80% 4, >= 60% 3, >= 40% 2, >= 20% 1, else 0", _earn_response_rate
    ),
    FactorRule(
        "recency",
        6,
        "last contact <= 1 day 6, <= 3 days 5, <= 7 days 4, <= 14 days 3, <= 30 days 2, "
        "<= 90 days 1, else 0",
        _earn_recency,
    ),
    FactorRule(
        "stage",
        15,
        "new_lead 0, qualified 3, property_matching 5, site_visit 7, negotiation 9, "
        "contract_prep 11, down_payment 13, closing 15, post_sale 15",
        _earn_stage,
    ),
    FactorRule(
        "financing",
        12,
        "best of: cash buyer 12, pre-approval with amount 12, pre-approval 10, "
        "financing in progress 4",
        _earn_financing,
    ),
    FactorRule("tags", 6, "hot_lead 3, vip 2, cash_buyer 1", _earn_tags),
)
"""The factor table; the maxima sum to :data:`MAX_SCORE`."""

# Structural cap: with every rule earning within [0, max], the sum can never exceed 100.
if sum(rule.max_points for rule in FACTORS) != MAX_SCORE:  # pragma: no cover - table invariant
    raise AssertionError("the factor maxima must sum to 100")


def score_customer(customer: Customer, now: datetime) -> LeadScore:
    """The lead score of ``customer`` as of ``now``, with one factor per row of :data:`FACTORS`."""
    factors = []
    for rule in FACTORS:
        points, reason = rule.earn(customer, now)
        if not 0 <= points <= rule.max_points:  # pragma: no cover - guards the table
            raise AssertionError(f"factor {rule.name} earned {points} of {rule.max_points}")
        factors.append(ScoreFactor(factor=rule.name, points=points, reason=reason))
    return LeadScore(score=sum(f.points for f in factors), factors=tuple(factors))


# --- insights ------------------------------------------------------------------------------------

_CHURN_MEDIUM_AFTER = 14
_CHURN_HIGH_AFTER = 30
_LOW_RESPONSE_RATE = 30

_CHURN_LEVELS: tuple[ChurnRisk, ...] = (ChurnRisk.LOW, ChurnRisk.MEDIUM, ChurnRisk.HIGH)

# Base conversion rate per Stage.rank (non-decreasing).
_STAGE_BASE_RATE: tuple[int, ...] = (5, 10, 15, 25, 40, 60, 75, 90, 100)

_TIMELINE_DAYS: dict[Timeline, int] = {
    Timeline.IMMEDIATE: 30,
    Timeline.ONE_TO_THREE_MONTHS: 90,
    Timeline.THREE_TO_SIX_MONTHS: 180,
    Timeline.SIX_TO_TWELVE_MONTHS: 365,
}

_EARLY_STAGE_DAYS: dict[Stage, int] = {
    Stage.NEW_LEAD: 60,
    Stage.QUALIFIED: 50,
    Stage.PROPERTY_MATCHING: 45,
    Stage.SITE_VISIT: 30,
}

_LATE_STAGE_DAYS: dict[Stage, int] = {
    Stage.NEGOTIATION: 45,
    Stage.CONTRACT_PREP: 30,
    Stage.DOWN_PAYMENT: 21,
    Stage.CLOSING: 7,
}

_LATE_STAGE_ACTIONS: dict[Stage, tuple[str, str]] = {
    Stage.NEGOTIATION: (
        "قدّم عرضاً نهائياً وتابع التفاوض",
        "Send a final offer and follow up the negotiation",
    ),
    Stage.CONTRACT_PREP: ("أكمل مستندات العقد", "Complete the contract documents"),
    Stage.DOWN_PAYMENT: ("تابع سداد الدفعة الأولى", "Follow up on the down payment"),
    Stage.CLOSING: ("أكمل إجراءات الإفراغ ونقل الملكية", "Complete the title transfer"),
}


def days_since_contact(customer: Customer, now: datetime) -> int:
    """Whole days since the last contact, or since creation when never contacted (never < 0)."""
    since = customer.last_contact_at or customer.created_at
    return max((now - since).days, 0)


def churn_risk(customer: Customer, now: datetime) -> ChurnRisk:
    """Churn risk from the days since contact, raised one level by a response rate below 30 %."""
    days = days_since_contact(customer, now)
    level = 0 if days <= _CHURN_MEDIUM_AFTER else 1 if days <= _CHURN_HIGH_AFTER else 2
    if customer.response_rate is not None and customer.response_rate < _LOW_RESPONSE_RATE:
        level = min(level + 1, len(_CHURN_LEVELS) - 1)
    return _CHURN_LEVELS[level]


def engagement_level(customer: Customer) -> EngagementLevel:
    """Engagement level from the interaction counters and the response rate."""
    total = customer.total_interactions
    positive = customer.positive_inbound_interactions
    rate = customer.response_rate if customer.response_rate is not None else 0
    if positive >= 3 or (total >= 5 and rate >= 70):
        return EngagementLevel.HIGH
    if total >= 2 or positive >= 1 or rate >= 40:
        return EngagementLevel.MEDIUM
    return EngagementLevel.LOW


def conversion_probability(score: int, stage: Stage) -> int:
    """``base + (100 - base) * score // 200`` with the stage's base rate; an integer 0..100."""
    base = _STAGE_BASE_RATE[stage.rank]
    return base + (100 - base) * score // 200


def _never_contacted(customer: Customer) -> bool:
    return customer.last_contact_at is None and customer.total_interactions == 0


def recommended_follow_up_date(
    customer: Customer, score: int, now: datetime, *, tz: tzinfo = RIYADH
) -> date:
    """The next follow-up day: sooner for hotter (or slipping) leads."""
    today = now.astimezone(tz).date()
    if customer.stage is Stage.POST_SALE:
        return today + timedelta(days=30)
    if customer.stage is Stage.NEW_LEAD and _never_contacted(customer):
        return today
    if churn_risk(customer, now) is ChurnRisk.HIGH or score >= 70:
        return today + timedelta(days=1)
    if score >= 40:
        return today + timedelta(days=3)
    return today + timedelta(days=7)


def predicted_close_date(customer: Customer, now: datetime, *, tz: tzinfo = RIYADH) -> date | None:
    """The expected closing day from the stage and the timeline; ``None`` when unknown."""
    today = now.astimezone(tz).date()
    if customer.stage in _LATE_STAGE_DAYS:
        return today + timedelta(days=_LATE_STAGE_DAYS[customer.stage])
    if customer.stage not in _EARLY_STAGE_DAYS:  # post_sale: already closed
        return None
    timeline = customer.preferences.timeline
    if timeline is None or timeline not in _TIMELINE_DAYS:
        return None
    days = max(_TIMELINE_DAYS[timeline], _EARLY_STAGE_DAYS[customer.stage])
    return today + timedelta(days=days)


def _matches_action(count: int) -> tuple[str, str]:
    if count == 1:
        return (
            "عقار واحد يطابق تفضيلاته - أرسل توصية",
            "1 property matches the preferences - send a recommendation",
        )
    if count == 2:
        ar = "عقاران يطابقان تفضيلاته - أرسل توصيات"
    elif count <= 10:
        ar = f"{count} عقارات تطابق تفضيلاته - أرسل توصيات"
    else:
        ar = f"{count} عقاراً تطابق تفضيلاته - أرسل توصيات"
    return ar, f"{count} properties match the preferences - send recommendations"


def _preferences_incomplete(customer: Customer) -> bool:
    prefs = customer.preferences
    has_location = bool(prefs.preferred_areas or prefs.preferred_cities)
    return not prefs.property_type or not has_location or _budget_top(customer) is None


def next_best_action(
    customer: Customer, now: datetime, *, property_matches: tuple[str, ...] = ()
) -> tuple[str, str]:
    """The next best action as (Arabic, English); the first applicable rule wins."""
    stage = customer.stage
    if stage is Stage.POST_SALE:
        return ("تابع رضا العميل واطلب منه إحالة", "Check satisfaction and ask for a referral")
    if stage is Stage.NEW_LEAD and _never_contacted(customer):
        return ("اتصل بالعميل خلال 24 ساعة", "Call the customer within 24 hours")
    if churn_risk(customer, now) is ChurnRisk.HIGH:
        days = days_since_contact(customer, now)
        return (
            f"أعد التواصل مع العميل - لا تواصل منذ {days} يوماً",
            f"Re-engage the customer - no contact for {days} days",
        )
    if stage in _LATE_STAGE_ACTIONS:
        return _LATE_STAGE_ACTIONS[stage]
    if property_matches:
        return _matches_action(len(property_matches))
    if stage is Stage.NEW_LEAD:
        return (
            "أكمل تأهيل العميل: الميزانية والجدول الزمني",
            "Qualify the customer: confirm budget and timeline",
        )
    if stage is Stage.SITE_VISIT:
        return (
            "حدد موعد المعاينة واجمع ملاحظات العميل",
            "Schedule the site visit and collect feedback",
        )
    if _preferences_incomplete(customer):
        return (
            "أكمل تفضيلات العميل: نوع العقار والموقع والميزانية",
            "Complete the preferences: property type, location and budget",
        )
    return (
        "ابحث عن عقارات جديدة تطابق تفضيلاته",
        "Look for new properties matching the preferences",
    )


def build_insights(
    customer: Customer,
    score: LeadScore,
    now: datetime,
    *,
    property_matches: tuple[str, ...] = (),
    tz: tzinfo = RIYADH,
) -> AiInsights:
    """The rule-based insights of ``customer`` as of ``now`` (rules in the module docstring)."""
    action_ar, action_en = next_best_action(customer, now, property_matches=property_matches)
    return AiInsights(
        next_best_action=action_ar,
        next_best_action_en=action_en,
        churn_risk=churn_risk(customer, now),
        engagement_level=engagement_level(customer),
        conversion_probability=conversion_probability(score.score, customer.stage),
        recommended_follow_up_date=recommended_follow_up_date(customer, score.score, now, tz=tz),
        predicted_close_date=predicted_close_date(customer, now, tz=tz),
        property_matches=property_matches,
        score_factors=score.factors,
    )


# --- sentiment score ------------------------------------------------------------------------------

SENTIMENT_WINDOW = 20
"""How many of the newest interactions carrying a sentiment the sentiment score reads."""

SENTIMENT_HALF_LIFE = timedelta(days=14)
"""Each whole period by which an interaction is older than the newest one halves its weight."""

SENTIMENT_VALUES: dict[Sentiment, int] = {
    Sentiment.POSITIVE: 1,
    Sentiment.NEUTRAL: 0,
    Sentiment.NEGATIVE: -1,
}
"""The value of each sentiment in the weighted mean."""

NEUTRAL_SENTIMENT_SCORE = 50


def sentiment_window(interactions: Iterable[Interaction]) -> list[Interaction]:
    """The :data:`SENTIMENT_WINDOW` newest interactions that carry a sentiment, newest first."""
    rated = [i for i in interactions if i.sentiment is not None]
    rated.sort(key=lambda i: (i.date, i.id), reverse=True)
    return rated[:SENTIMENT_WINDOW]


def sentiment_score(interactions: Iterable[Interaction]) -> int | None:
    """The recency-weighted sentiment of ``interactions`` as 0..100 (rule in the module docs);
    ``None`` when none of them carries a sentiment."""
    window = sentiment_window(interactions)
    if not window:
        return None
    newest = window[0].date
    total = Fraction(0)
    weights = Fraction(0)
    for interaction in window:
        assert interaction.sentiment is not None  # the window keeps rated interactions only
        # Whole half-lives older than the newest: exact weights, no float rounding.
        weight = Fraction(1, 2 ** ((newest - interaction.date) // SENTIMENT_HALF_LIFE))
        total += weight * SENTIMENT_VALUES[interaction.sentiment]
        weights += weight
    exact = NEUTRAL_SENTIMENT_SCORE + NEUTRAL_SENTIMENT_SCORE * total / weights
    # Round half up: floor(x + 1/2) of an exact fraction.
    return math.floor(exact + Fraction(1, 2))


def with_sentiment(customer: Customer, interactions: Iterable[Interaction]) -> Customer:
    """``customer`` with ``aiInsights.sentimentScore`` computed from ``interactions`` (its newest
    ones carrying a sentiment; older ones beyond the window may be left out by the caller)."""
    insights = customer.ai_insights
    if insights is None:
        return customer
    score = sentiment_score(interactions)
    if score == insights.sentiment_score:
        return customer
    return evolve(customer, ai_insights=evolve(insights, sentiment_score=score))


def refresh_score(customer: Customer, now: datetime) -> Customer:
    """Return ``customer`` with ``lead_score`` and ``ai_insights`` recomputed as of ``now``.

    The existing property matches (computed against the catalog elsewhere) and sentiment score
    are kept.
    """
    previous = customer.ai_insights
    score = score_customer(customer, now)
    insights = build_insights(
        customer,
        score,
        now,
        property_matches=previous.property_matches if previous else (),
    )
    if previous is not None and previous.sentiment_score is not None:
        insights = evolve(insights, sentiment_score=previous.sentiment_score)
    return evolve(customer, lead_score=score.score, ai_insights=insights)

"""``aiInsights.sentimentScore``: the recency-weighted sentiment of the customer's interactions
(rule in :mod:`customers_hub.domain.scoring` and ``docs/domain.md`` §3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from attrs import evolve
from hypothesis import given
from hypothesis import strategies as st

from customers_hub.domain.enums import CustomerSource, InteractionType, Sentiment, Stage
from customers_hub.domain.model import AiInsights, Customer, Interaction
from customers_hub.domain.scoring import (
    SENTIMENT_HALF_LIFE,
    SENTIMENT_WINDOW,
    refresh_score,
    sentiment_score,
    sentiment_window,
    with_sentiment,
)

NOW = datetime(2024, 1, 22, 7, 30, tzinfo=UTC)
P, N, X = Sentiment.POSITIVE, Sentiment.NEUTRAL, Sentiment.NEGATIVE
DAY = timedelta(days=1)

_ids = iter(range(1, 10**9))


def make_customer(**overrides: Any) -> Customer:
    """A bare customer with ``overrides`` applied."""
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


def said(sentiment: Sentiment | None, days_ago: float = 0, *, id: str | None = None) -> Interaction:
    """An interaction ``days_ago`` before :data:`NOW` with ``sentiment``."""
    return Interaction(
        id=id or f"int_{next(_ids):09d}",
        customer_id="cust_1",
        type=InteractionType.CALL,
        date=NOW - timedelta(days=days_ago),
        notes="",
        agent_id="emp_1",
        agent_name="أحمد السعيد",
        sentiment=sentiment,
    )


# --- the rule, row by row ---------------------------------------------------------------------

CASES: list[tuple[str, list[tuple[Sentiment | None, float]], int | None]] = [
    ("no interactions", [], None),
    ("none carries a sentiment", [(None, 0), (None, 3)], None),
    ("one positive", [(P, 0)], 100),
    ("one negative", [(X, 0)], 0),
    ("one neutral", [(N, 0)], 50),
    ("unrated interactions do not count", [(P, 0), (None, 1), (None, 2)], 100),
    # same period, equal weights: (1 + 0) / 2 → 75
    ("plain mean within one period", [(P, 0), (N, 0)], 75),
    ("13 days apart weigh the same", [(P, 0), (X, 13)], 50),
    # weights 1 and 1/2: (1 - 1/2) / (3/2) = 1/3 → 66.67
    ("a negative two weeks older counts half", [(P, 0), (X, 14)], 67),
    ("the newer one pulls: negative newest", [(X, 0), (P, 14)], 33),
    # weights 1 and 1/4: (1 - 1/4) / (5/4) = 3/5 → 80
    ("four weeks older counts a quarter", [(P, 0), (X, 28)], 80),
    # weights 1, 1, 1/2: (1 + 0 - 1/2) / (5/2) = 1/5 → 60
    ("mixed", [(P, 0), (N, 1), (X, 20)], 60),
    # (1 + 1 + 1 - 1) / 4 = 1/2 → 75
    ("three positive one negative", [(P, 0), (P, 1), (P, 2), (X, 3)], 75),
    # -1/8 → 43.75 → 44
    ("rounds to the nearest", [(X, 0)] + [(N, 0)] * 7, 44),
    # 1/20 → 52.5 → 53 and -1/20 → 47.5 → 48: halves round up
    ("a half rounds up", [(P, 0)] + [(N, 0)] * 19, 53),
    ("a negative half rounds up too", [(X, 0)] + [(N, 0)] * 19, 48),
]


@pytest.mark.parametrize(
    ("samples", "expected"), [(s, e) for _, s, e in CASES], ids=[name for name, _, _ in CASES]
)
def test_sentiment_score_table(
    samples: list[tuple[Sentiment | None, float]], expected: int | None
) -> None:
    assert sentiment_score([said(s, d) for s, d in samples]) == expected


def test_only_the_newest_window_counts() -> None:
    newest = [said(P, d / 10) for d in range(SENTIMENT_WINDOW)]
    older = [said(X, 2 + d) for d in range(10)]
    assert sentiment_window([*older, *newest]) == sorted(
        newest, key=lambda i: (i.date, i.id), reverse=True
    )
    assert sentiment_score([*older, *newest]) == 100


def test_weights_are_relative_to_the_newest_interaction_not_to_now() -> None:
    # The same pattern a year earlier gives the same score: a stored score never goes stale.
    pattern = [(P, 0), (X, 14), (N, 30)]
    now_score = sentiment_score([said(s, d) for s, d in pattern])
    year_ago = sentiment_score([said(s, d + 365) for s, d in pattern])
    assert now_score == year_ago


def test_the_half_life_is_two_weeks() -> None:
    assert timedelta(days=14) == SENTIMENT_HALF_LIFE
    # Just inside the first period: equal weights; just past it: half.
    assert sentiment_score([said(P, 0), said(X, 13.99)]) == 50
    assert sentiment_score([said(P, 0), said(X, 14)]) == 67


# --- properties -------------------------------------------------------------------------------

sentiments = st.sampled_from(list(Sentiment))
ratings = st.lists(
    st.tuples(st.one_of(st.none(), sentiments), st.integers(0, 400 * 24)),  # age in hours
    max_size=40,
)


def build(samples: list[tuple[Sentiment | None, int]]) -> list[Interaction]:
    return [
        evolve(said(s), date=NOW - timedelta(hours=h), id=f"int_{n:04d}")
        for n, (s, h) in enumerate(samples)
    ]


@given(ratings)
def test_the_score_is_within_0_and_100(samples: list[tuple[Sentiment | None, int]]) -> None:
    score = sentiment_score(build(samples))
    if all(s is None for s, _ in samples):
        assert score is None
    else:
        assert score is not None
        assert 0 <= score <= 100


@given(ratings, st.one_of(st.none(), sentiments), st.integers(-30 * 24, 400 * 24))
def test_a_positive_never_lowers_and_a_negative_never_raises(
    samples: list[tuple[Sentiment | None, int]], added: Sentiment | None, hours_ago: int
) -> None:
    before = build(samples)
    new = evolve(said(added), date=NOW - timedelta(hours=hours_ago), id="int_new")
    old_score, new_score = sentiment_score(before), sentiment_score([*before, new])
    if added is None:
        assert new_score == old_score  # an interaction without a sentiment changes nothing
    elif old_score is None:
        assert new_score == {P: 100, N: 50, X: 0}[added]
    elif added is P:
        assert new_score is not None
        assert new_score >= old_score
    elif added is X:
        assert new_score is not None
        assert new_score <= old_score


@given(st.lists(sentiments, min_size=1, max_size=30), st.integers(0, 60 * 24))
def test_unanimous_sentiments_give_their_value(values: list[Sentiment], spread_hours: int) -> None:
    first = values[0]
    same = [evolve(said(first), date=NOW - timedelta(hours=spread_hours * n)) for n in range(5)]
    assert sentiment_score(same) == {P: 100, N: 50, X: 0}[first]


@given(st.integers(1, 60))
def test_the_more_recent_of_two_opposite_sentiments_pulls_the_score(days_apart: int) -> None:
    positive_newer = sentiment_score([said(P, 0), said(X, days_apart)])
    negative_newer = sentiment_score([said(X, 0), said(P, days_apart)])
    assert positive_newer is not None
    assert negative_newer is not None
    assert positive_newer >= 50 >= negative_newer
    assert positive_newer + negative_newer == 100  # symmetric


# --- on the customer --------------------------------------------------------------------------


def test_with_sentiment_sets_the_insight_and_refresh_keeps_it() -> None:
    customer = refresh_score(make_customer(), NOW)
    assert customer.ai_insights is not None
    assert customer.ai_insights.sentiment_score is None
    rated = with_sentiment(customer, [said(P, 0), said(X, 14)])
    assert rated.ai_insights is not None
    assert rated.ai_insights.sentiment_score == 67
    # Everything else of the insights is untouched, and a later refresh keeps the value.
    assert evolve(rated.ai_insights, sentiment_score=None) == customer.ai_insights
    refreshed = refresh_score(rated, NOW + DAY)
    assert refreshed.ai_insights is not None
    assert refreshed.ai_insights.sentiment_score == 67


def test_with_sentiment_without_insights_or_change_returns_the_customer() -> None:
    bare = make_customer()
    assert with_sentiment(bare, [said(P)]) is bare
    scored = refresh_score(make_customer(), NOW)
    assert with_sentiment(scored, [said(None)]) is scored
    assert isinstance(scored.ai_insights, AiInsights)

"""Hijri (Umm al-Qura) conversions of the domain (rules §9)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customers_hub.domain.errors import ValidationFailed
from customers_hub.domain.hijri import from_hijri, hijri_of_instant, to_hijri

RIYADH = ZoneInfo("Asia/Riyadh")

# Known Umm al-Qura pairs: the first of Ramadan 1446, the first of Muharram 1447, the edges of
# the supported range, and a day of the API document's era.
KNOWN_PAIRS = [
    (date(2025, 3, 1), "1446-09-01"),
    (date(2025, 3, 30), "1446-10-01"),  # Ramadan 1446 has 29 days
    (date(2025, 6, 26), "1447-01-01"),
    (date(1924, 8, 1), "1343-01-01"),
    (date(2077, 11, 16), "1500-12-30"),
]


@pytest.mark.parametrize(("gregorian", "hijri"), KNOWN_PAIRS)
def test_known_pairs_convert_both_ways(gregorian: date, hijri: str) -> None:
    assert to_hijri(gregorian) == hijri
    back = from_hijri(hijri, "dateFrom")
    assert back == gregorian
    assert type(back) is date  # a plain date, not the library's subclass


@pytest.mark.parametrize("outside", [date(1924, 7, 31), date(2077, 11, 17), date(1, 1, 1)])
def test_a_day_outside_the_range_has_no_twin(outside: date) -> None:
    assert to_hijri(outside) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1446-13-01", "is not a Hijri date: month must be in 1-12"),
        ("1446-00-10", "is not a Hijri date: month must be in 1-12"),
        ("1446-09-30", "is not a Hijri date: day must be in 1-29"),  # Ramadan 1446: 29 days
        ("1446-09-00", "is not a Hijri date: day must be in 1-29"),
        ("1342-12-29", "must be a Hijri date of the years 1343 to 1500"),
        ("1501-01-01", "must be a Hijri date of the years 1343 to 1500"),
        ("1446-9-1", "must be a Hijri date (YYYY-MM-DD)"),
        ("2025-03-01T10:00:00Z", "must be a Hijri date (YYYY-MM-DD)"),
        ("١٤٤٦-٠٩-٠١", "must be a Hijri date (YYYY-MM-DD)"),  # Arabic-Indic digits
        ("", "must be a Hijri date (YYYY-MM-DD)"),
    ],
)
def test_invalid_hijri_input_is_refused_naming_the_field(text: str, expected: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        from_hijri(text, "createdFrom")
    [error] = refused.value.errors
    assert error.field == "createdFrom"
    assert error.message.startswith(expected)


def test_an_instant_is_dated_by_the_local_day_of_the_zone() -> None:
    # 22:30 UTC on 28 February is already 1 March (1 Ramadan 1446) in Riyadh (UTC+3).
    late = datetime(2025, 2, 28, 22, 30, tzinfo=UTC)
    assert hijri_of_instant(late, RIYADH) == "1446-09-01"
    assert hijri_of_instant(late, UTC) == "1446-08-29"
    assert hijri_of_instant(late.replace(tzinfo=None), UTC) == "1446-08-29"  # naive is UTC


def test_an_instant_outside_the_range_has_no_twin() -> None:
    assert hijri_of_instant(datetime(1900, 1, 1, tzinfo=UTC), RIYADH) is None


@given(st.dates(min_value=date(1924, 8, 1), max_value=date(2077, 11, 16)))
def test_every_day_of_the_range_round_trips(day: date) -> None:
    hijri = to_hijri(day)
    assert hijri is not None
    assert from_hijri(hijri, "d") == day


@given(st.dates(min_value=date(1924, 8, 1), max_value=date(2077, 11, 15)))
def test_consecutive_days_have_consecutive_or_month_turning_twins(day: date) -> None:
    today, tomorrow = to_hijri(day), to_hijri(day + timedelta(days=1))
    assert today is not None
    assert tomorrow is not None
    assert tomorrow > today  # ISO strings of one calendar sort as the days do
    if tomorrow[:7] == today[:7]:
        assert int(tomorrow[8:]) == int(today[8:]) + 1
    else:
        assert tomorrow[8:] == "01"
        assert today[8:] in ("29", "30")

"""Search normalization (rules §6): one row per rule, and idempotence over arbitrary text."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from customers_hub.domain.search_text import (
    normalize_search_text,
    phone_digits,
    phone_query_digits,
    search_terms,
    to_ascii_digits,
)


@pytest.mark.parametrize(
    ("stored", "query"),
    [
        pytest.param("أحمد", "احمد", id="hamza-above alef"),
        pytest.param("إبراهيم", "ابراهيم", id="hamza-below alef"),
        pytest.param("آمنة", "امنه", id="madda alef and teh marbuta"),
        pytest.param("ٱلرحمن", "الرحمن", id="wasla alef"),
        pytest.param("مُحَمَّد", "محمد", id="tashkeel"),
        pytest.param("عَبْدُ ٱللّٰهِ", "عبد الله", id="shadda, sukun, dagger alef"),
        pytest.param("محـــمد", "محمد", id="tatweel"),
        pytest.param("فاطمة", "فاطمه", id="teh marbuta"),
        pytest.param("مصطفى", "مصطفي", id="alef maksura"),
        pytest.param("علی", "علي", id="farsi yeh"),
        pytest.param("کريم", "كريم", id="keheh"),
        pytest.param("فيلا ١٢", "فيلا 12", id="arabic-indic digits"),
        pytest.param("شقة ۴۵", "شقه 45", id="eastern digits"),
        pytest.param("Mohammed AL-Fahd", "mohammed al-fahd", id="latin case"),
        pytest.param("  محمد \t\n  الفهد  ", "محمد الفهد", id="whitespace collapsed"),
        pytest.param("\u200fمحمد\u200e", "محمد", id="bidi marks"),
        pytest.param("ﻣﺤﻤﺪ", "محمد", id="presentation forms"),
    ],
)
def test_stored_and_query_forms_normalize_alike(stored: str, query: str) -> None:
    assert normalize_search_text(stored) == query
    assert normalize_search_text(query) == query


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("أحمد", "احمد"),
        ("ة", "ه"),
        ("ى", "ي"),
        ("٠١٢٣٤٥٦٧٨٩", "0123456789"),
        ("۰۱۲۳۴۵۶۷۸۹", "0123456789"),
        ("ABC", "abc"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_single_rules(text: str, expected: str) -> None:
    assert normalize_search_text(text) == expected


def test_hamza_on_waw_and_yeh_is_kept() -> None:
    # The rules map only the alef forms; ؤ and ئ are different letters in a name.
    assert normalize_search_text("مؤمن") == "مؤمن"
    assert normalize_search_text("هانئ") == "هانئ"


def test_search_terms_are_distinct_normalized_tokens_in_order() -> None:
    assert search_terms("أحمد  محمد احمد") == ("احمد", "محمد")
    assert search_terms("   ") == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+966 50-123-4567", "966501234567"),
        ("٠٥٠١٢٣٤٥٦٧", "0501234567"),
        ("(۰۵۰) ۱۲۳", "050123"),
        ("no digits", ""),
    ],
)
def test_phone_digits(text: str, expected: str) -> None:
    assert phone_digits(text) == expected


@pytest.mark.parametrize(
    "query", ["0501234567", "00966501234567", "+966 50 123 4567", "٠٥٠١٢٣٤٥٦٧", "1234567"]
)
def test_phone_queries_find_the_stored_e164_number(query: str) -> None:
    assert phone_query_digits(query) in phone_digits("+966501234567")


def test_to_ascii_digits_keeps_everything_else() -> None:
    assert to_ascii_digits("+٩٦٦ ۵٠-x") == "+966 50-x"


_ARABIC = st.characters(min_codepoint=0x0600, max_codepoint=0x06FF)
_ARABIC_EXTENDED = st.characters(min_codepoint=0x08A0, max_codepoint=0x08FF)
_PRESENTATION = st.characters(min_codepoint=0xFB50, max_codepoint=0xFEFF)
_ANY_TEXT = st.text(
    alphabet=st.one_of(_ARABIC, _ARABIC_EXTENDED, _PRESENTATION, st.characters()), max_size=40
)


@given(_ANY_TEXT)
# Removing the tatweel lets NFKC compose a + acute on a second call: the case the fixed-point
# loop exists for.
@example("a\u0640\u0301")
@example("A\u064b\u0301")
def test_normalization_is_idempotent(text: str) -> None:
    once = normalize_search_text(text)
    assert normalize_search_text(once) == once


@given(_ANY_TEXT)
def test_normalized_text_has_no_marks_tatweel_or_mapped_letters(text: str) -> None:
    normalized = normalize_search_text(text)
    forbidden = set("أإآٱةىـ٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹") | {chr(c) for c in range(0x064B, 0x0653)}
    assert not forbidden & set(normalized)
    assert normalized == normalized.strip()
    assert "  " not in normalized


@given(st.text(alphabet=st.sampled_from("أإآاةهىي مُحَمَّدـ"), max_size=20))
def test_query_without_diacritics_finds_the_name(name: str) -> None:
    # Stripping marks and tatweel by hand and normalizing gives the same form as the full name.
    bare = "".join(ch for ch in name if ch not in "\u064f\u064e\u0651ـ")
    assert normalize_search_text(bare) == normalize_search_text(name)

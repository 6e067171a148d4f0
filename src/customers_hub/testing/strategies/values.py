"""Strategies for times, money, identities, names and places."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Final, Literal, TypeAlias

from attrs import frozen
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from customers_hub.domain.enums import (
    Gender,
)
from customers_hub.testing.strategies.options import (
    UNSET,
    OrStrategy,
    _resolve,
    _Unset,
)

# --- time and money --------------------------------------------------------------------------

DATETIME_MIN: Final = datetime(2020, 1, 1, tzinfo=UTC)
"""Earliest instant drawn by default."""
DATETIME_MAX: Final = datetime(2030, 12, 31, 23, 59, 59, tzinfo=UTC)
"""Latest instant drawn by default."""

# Aggregates start early enough that what follows them (a history of months, an action created
# a month later and snoozed up to a year ahead) stays before DATETIME_MAX.
_AGGREGATE_START_MAX: Final = datetime(2028, 12, 31, tzinfo=UTC)


def aware_datetimes(
    *, min_value: datetime = DATETIME_MIN, max_value: datetime = DATETIME_MAX
) -> SearchStrategy[datetime]:
    """Timezone-aware UTC datetimes between ``min_value`` and ``max_value`` (both aware)."""
    if min_value.tzinfo is None or max_value.tzinfo is None:
        raise ValueError("aware_datetimes() bounds must be timezone-aware")
    # Hypothesis takes naive bounds and attaches the zone; UTC has no gaps or folds.
    return st.datetimes(
        min_value=min_value.astimezone(UTC).replace(tzinfo=None),
        max_value=max_value.astimezone(UTC).replace(tzinfo=None),
        timezones=st.just(UTC),
    ).map(lambda moment: moment.replace(fold=0))  # UTC has no folds; keep values canonical


def _after(
    start: datetime, *, at_most: timedelta, at_least: timedelta = timedelta(0)
) -> SearchStrategy[datetime]:
    return aware_datetimes(min_value=start + at_least, max_value=start + at_most)


def sar_amounts(
    *, min_value: Decimal = Decimal("1000"), max_value: Decimal = Decimal("50000000")
) -> SearchStrategy[Decimal]:
    """SAR amounts as ``Decimal`` with at most two decimal places, ``min_value``–``max_value``.

    Round amounts (whole thousands) are drawn as often as amounts with halalas, as in real deals.
    """
    low = int((min_value * 100).to_integral_value(rounding="ROUND_CEILING"))
    high = int((max_value * 100).to_integral_value(rounding="ROUND_FLOOR"))
    if low > high:
        raise ValueError("sar_amounts() needs min_value <= max_value")
    exact = st.integers(low, high).map(lambda halalas: Decimal(halalas).scaleb(-2))
    thousand_low, thousand_high = -(-low // 100_000), high // 100_000
    if thousand_low > thousand_high:
        return exact
    rounded = st.integers(thousand_low, thousand_high).map(lambda k: Decimal(k * 1000))
    return st.one_of(rounded, exact)


# --- identity ------------------------------------------------------------------------------


def ids(prefix: str) -> SearchStrategy[str]:
    """Opaque ids shaped like the API's (``cust_3f9a0c12d4e5``) with the given prefix."""
    return st.uuids().map(lambda u: f"{prefix}_{u.hex[:12]}")


def organizations() -> SearchStrategy[str]:
    """Organization ids (``org_…``)."""
    return ids("org")


# Digits after ``+9665`` that open a mobile number in use (libphonenumber's Saudi mobile plan:
# 50, 53–56, 58, 59, and 57 except 579 9…); the demo data's numbers start with them too.
MOBILE_PREFIXES: Final = ("0", "3", "4", "5", "6", "8", "9", "70", "75", "78", "790", "798")


def saudi_mobile(prefix: str, rest: int) -> str:
    """The E.164 mobile number (``+9665`` then eight digits) opened by ``prefix`` (one of
    :data:`MOBILE_PREFIXES`) and filled by ``rest`` (0 to 9,999,999)."""
    # The prefix takes the first of the eight digits; the digits of ``rest`` fill the others.
    return f"+9665{prefix}{rest:07d}"[: len("+9665") + 8]


def saudi_mobiles() -> SearchStrategy[str]:
    """Saudi mobile numbers in E.164: ``+9665`` then eight digits (``+966551234567``), all of
    them valid mobile numbers for libphonenumber."""
    return st.tuples(st.sampled_from(MOBILE_PREFIXES), st.integers(0, 9_999_999)).map(
        lambda parts: saudi_mobile(*parts)
    )


NationalIdKind: TypeAlias = Literal["citizen", "resident"]


def national_id_check_digit_ok(national_id: str) -> bool:
    """True when ``national_id`` is 10 digits, starts with 1 or 2 and passes the check digit.

    Saudi Luhn-style check: digits at even indexes (0, 2, …) are doubled and their digits summed,
    digits at odd indexes are added as they are; the total is a multiple of 10.
    """
    if len(national_id) != 10 or not national_id.isascii() or not national_id.isdigit():
        return False
    if national_id[0] not in "12":
        return False
    return _luhn_total(national_id) % 10 == 0


def _luhn_total(digits: str) -> int:
    total = 0
    for index, char in enumerate(digits):
        digit = int(char)
        if index % 2 == 0:
            doubled = digit * 2
            total += doubled // 10 + doubled % 10
        else:
            total += digit
    return total


def _with_check_digit(first_nine: str) -> str:
    # The check digit sits at index 9 (odd): it is added as is, so it completes the total to 10.
    return first_nine + str(-_luhn_total(first_nine) % 10)


def national_ids(kind: NationalIdKind | None = None) -> SearchStrategy[str]:
    """Valid Saudi national ids: ``citizen`` starts with 1, ``resident`` (Iqama) with 2.

    ``kind=None`` draws both. The last digit is the check digit.
    """
    firsts = {"citizen": "1", "resident": "2", None: "12"}[kind]
    return st.tuples(st.sampled_from(firsts), st.integers(0, 99_999_999)).map(
        lambda parts: _with_check_digit(f"{parts[0]}{parts[1]:08d}")
    )


# --- names and places ------------------------------------------------------------------------

# Names of people (Arabic, English), shared with the demo data (``entrypoints/demo``), which
# draws from them with its seeded random generator.
MALE_FIRST_NAMES: Final = (
    ("محمد", "Mohammed"), ("أحمد", "Ahmed"), ("عبدالله", "Abdullah"), ("خالد", "Khalid"),
    ("فهد", "Fahad"), ("سعود", "Saud"), ("عبدالرحمن", "Abdulrahman"), ("فيصل", "Faisal"),
    ("تركي", "Turki"), ("سلطان", "Sultan"), ("ناصر", "Nasser"), ("يوسف", "Yousef"),
    ("عبدالعزيز", "Abdulaziz"), ("بندر", "Bandar"), ("ماجد", "Majed"), ("عمر", "Omar"),
    ("حمد", "Hamad"), ("راشد", "Rashed"), ("وليد", "Waleed"), ("مشعل", "Mishal"),
)  # fmt: skip
FEMALE_FIRST_NAMES: Final = (
    ("فاطمة", "Fatimah"), ("نورة", "Noura"), ("سارة", "Sarah"), ("مريم", "Maryam"),
    ("هيفاء", "Haifa"), ("ريم", "Reem"), ("لطيفة", "Latifa"), ("العنود", "Alanoud"),
    ("منيرة", "Munira"), ("أمل", "Amal"), ("عبير", "Abeer"), ("الجوهرة", "Aljawhara"),
    ("هند", "Hind"), ("دانة", "Dana"), ("لمى", "Lama"), ("شهد", "Shahad"),
)  # fmt: skip
FAMILY_NAMES: Final = (
    ("الفهد", "Al-Fahad"), ("الشمري", "Al-Shammari"), ("الزهراني", "Al-Zahrani"),
    ("القحطاني", "Al-Qahtani"), ("العتيبي", "Al-Otaibi"), ("الغامدي", "Al-Ghamdi"),
    ("الدوسري", "Al-Dosari"), ("الحربي", "Al-Harbi"), ("المطيري", "Al-Mutairi"),
    ("السبيعي", "Al-Subaie"), ("العنزي", "Al-Anazi"), ("السعيد", "Al-Saeed"),
    ("الشهري", "Al-Shehri"), ("الجهني", "Al-Juhani"), ("المالكي", "Al-Malki"),
    ("الحارثي", "Al-Harthi"), ("العمري", "Al-Omari"), ("التميمي", "Al-Tamimi"),
    ("الرشيد", "Al-Rasheed"), ("باعشن", "Baeshen"), ("الخالدي", "Al-Khalidi"),
    ("السديري", "Al-Sudairi"),
)  # fmt: skip
# Written with tashkeel, as some customers type their names; search must still find them (§6).
_DIACRITIZED: Final[Mapping[str, str]] = {
    "محمد": "مُحَمَّد",
    "أحمد": "أَحْمَد",
    "عبدالله": "عَبْدُاللهِ",
    "خالد": "خَالِد",
    "فاطمة": "فَاطِمَة",
    "نورة": "نُورَة",
    "سارة": "سَارَة",
    "مريم": "مَرْيَم",
}


@frozen
class PersonName:
    """One person's name in Arabic and its English transliteration, with the gender it implies."""

    arabic: str
    english: str
    gender: Gender


@st.composite
def _person_names(draw: st.DrawFn, gender: SearchStrategy[Gender], diacritics: bool) -> PersonName:
    chosen = draw(gender)
    firsts = MALE_FIRST_NAMES if chosen is Gender.MALE else FEMALE_FIRST_NAMES
    first_ar, first_en = draw(st.sampled_from(firsts))
    family_ar, family_en = draw(st.sampled_from(FAMILY_NAMES))
    if diacritics and first_ar in _DIACRITIZED and draw(st.integers(0, 4)) == 0:
        first_ar = _DIACRITIZED[first_ar]
    arabic, english = [first_ar], [first_en]
    # Sometimes the father's name too (محمد عبدالله الفهد), as on an ID card.
    if draw(st.booleans()):
        father_ar, father_en = draw(st.sampled_from(MALE_FIRST_NAMES))
        arabic.append(father_ar)
        english.append(father_en)
    arabic.append(family_ar)
    english.append(family_en)
    return PersonName(" ".join(arabic), " ".join(english), chosen)


def person_names(
    *, gender: OrStrategy[Gender] | _Unset = UNSET, diacritics: bool = True
) -> SearchStrategy[PersonName]:
    """Arabic + English names of one person (``محمد الفهد`` / ``Mohammed Al-Fahad``).

    With ``diacritics`` (default) the Arabic first name is occasionally written with tashkeel.
    """
    return _person_names(_resolve(gender, st.sampled_from(Gender)), diacritics)


def arabic_names(
    *, gender: OrStrategy[Gender] | _Unset = UNSET, diacritics: bool = True
) -> SearchStrategy[str]:
    """Realistic Saudi names in Arabic script, first + (father) + family name."""
    return person_names(gender=gender, diacritics=diacritics).map(lambda p: p.arabic)


def english_names(*, gender: OrStrategy[Gender] | _Unset = UNSET) -> SearchStrategy[str]:
    """Realistic Saudi names in Latin script (``Noura Al-Qahtani``)."""
    return person_names(gender=gender).map(lambda p: p.english)


CITY_DISTRICTS: Final[Mapping[str, tuple[str, ...]]] = {
    "الرياض": ("النرجس", "الملقا", "حطين", "الياسمين", "العليا", "الصحافة"),
    "جدة": ("الشاطئ", "الروضة", "الحمراء", "أبحر الشمالية", "السلامة"),
    "الدمام": ("الفيصلية", "الشاطئ", "المزروعية", "النور"),
    "مكة المكرمة": ("العزيزية", "الشوقية", "العوالي"),
    "المدينة المنورة": ("قباء", "العزيزية", "الرانوناء"),
    "الخبر": ("العقربية", "الراكة", "الحزام الذهبي", "اليرموك"),
}
"""The cities drawn by :func:`cities`, with some of their districts."""

CITY_NAMES_EN: Final[Mapping[str, str]] = {
    "الرياض": "Riyadh",
    "جدة": "Jeddah",
    "الدمام": "Dammam",
    "مكة المكرمة": "Makkah",
    "المدينة المنورة": "Madinah",
    "الخبر": "Khobar",
}
"""English names of the cities of :data:`CITY_DISTRICTS`."""


def cities() -> SearchStrategy[str]:
    """Saudi cities in Arabic (الرياض, جدة, الدمام, مكة المكرمة, المدينة المنورة, الخبر)."""
    return st.sampled_from(tuple(CITY_DISTRICTS))


def _districts(city: str) -> SearchStrategy[str]:
    return st.sampled_from(CITY_DISTRICTS[city])


_AMENITIES: Final = ("pool", "garden", "majlis", "parking", "elevator", "maid_room", "gym")
_TAGS: Final = ("vip", "hot_lead", "cash_buyer", "first_home", "investor", "mortgage", "referral")
_REASONS: Final = (
    "العميل طلب تأجيل القرار",
    "تم الاتفاق على السعر مباشرة",
    "تغيرت ميزانية العميل",
    "Customer already visited the property",
    "إعادة فتح الملف بطلب من العميل",
)
_NOTES: Final = (
    "تم التأكد من الميزانية والجدول الزمني",
    "العميل مهتم بالفلل في شمال الرياض",
    "Follow up after Eid",
    "اتصل العميل وأكد الموعد",
)
_NATIONALITIES: Final = ("Egyptian", "Indian", "Pakistani", "Jordanian", "Yemeni", "Sudanese")

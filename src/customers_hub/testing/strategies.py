"""Hypothesis strategies for Customers Hub domain objects, valid by construction.

Every strategy takes keyword options. An option accepts either a plain value (used as is) or a
strategy (drawn from); left out, a realistic default is drawn. So
``customers(stage=Stage.CLOSING)``, ``customers(stage=st.sampled_from([Stage.QUALIFIED,
Stage.SITE_VISIT]))`` and ``customers()`` all work, and a plain ``None`` means ``None``
(``customers(assigned_employee_id=None)`` is unassigned).

Promises kept by every value drawn here:

* datetimes are timezone-aware UTC, between 2020 and 2030;
* money is ``Decimal`` SAR with at most two decimal places;
* phones are E.164 Saudi mobiles, national ids pass the check digit;
* a customer's stage history starts with the system ``new_lead`` entry and every later entry is a
  move the lifecycle allows; unless ``satisfy_guards=False``, the customer satisfies the guards
  of its stage (rules §1);
* an action's fields agree with its status (rules §2).

Ids are drawn at random (``cust_1a2b3c…``); ids *inside* one aggregate (history entries,
interests, notes) are unique, but two separately drawn aggregates may share an id when Hypothesis
shrinks: use ``st.lists(customers(), unique_by=lambda c: c.id)`` when that matters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from itertools import pairwise
from typing import Final, Literal, TypeAlias, TypeVar

import attrs
from attrs import frozen
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from customers_hub.domain import scoring
from customers_hub.domain.compliance import Financing, KsaCompliance
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    CustomerSource,
    CustomerType,
    Furnishing,
    Gender,
    InteractionType,
    Permission,
    Priority,
    PropertyInterestStatus,
    PropertyType,
    Purpose,
    Role,
    Stage,
    Timeline,
)
from customers_hub.domain.lifecycle import StageChangeRequest
from customers_hub.domain.model import (
    SYSTEM_ACTOR_ID,
    SYSTEM_ACTOR_NAME,
    ActionNote,
    Actor,
    Customer,
    CustomerAction,
    Employee,
    FalLicence,
    Preferences,
    PropertyInterest,
    StageChange,
)

T = TypeVar("T")

OrStrategy: TypeAlias = T | SearchStrategy[T]
"""An option value: a plain value, or a strategy to draw it from."""


class _Unset(Enum):
    UNSET = "UNSET"


UNSET: Final = _Unset.UNSET
"""Default of every option: draw a realistic value."""


def _resolve(value: OrStrategy[T] | _Unset, default: SearchStrategy[T]) -> SearchStrategy[T]:
    if isinstance(value, _Unset):
        return default
    if isinstance(value, SearchStrategy):
        return value
    return st.just(value)


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
# 50, 53–56, 58, 59, and 57 except 579 9…).
_MOBILE_PREFIXES: Final = ("0", "3", "4", "5", "6", "8", "9", "70", "75", "78", "790", "798")


def saudi_mobiles() -> SearchStrategy[str]:
    """Saudi mobile numbers in E.164: ``+9665`` then eight digits (``+966551234567``), all of
    them valid mobile numbers for libphonenumber."""
    # The prefix takes the first of the eight digits; random digits fill the rest.
    return st.tuples(st.sampled_from(_MOBILE_PREFIXES), st.integers(0, 9_999_999)).map(
        lambda parts: f"+9665{parts[0]}{parts[1]:07d}"[: len("+9665") + 8]
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

_MALE_FIRST_NAMES: Final = (
    ("محمد", "Mohammed"),
    ("أحمد", "Ahmed"),
    ("عبدالله", "Abdullah"),
    ("خالد", "Khalid"),
    ("فهد", "Fahad"),
    ("سعود", "Saud"),
    ("عبدالرحمن", "Abdulrahman"),
    ("فيصل", "Faisal"),
    ("تركي", "Turki"),
    ("سلطان", "Sultan"),
    ("ناصر", "Nasser"),
    ("يوسف", "Yousef"),
)
_FEMALE_FIRST_NAMES: Final = (
    ("فاطمة", "Fatimah"),
    ("نورة", "Noura"),
    ("سارة", "Sarah"),
    ("مريم", "Maryam"),
    ("هيفاء", "Haifa"),
    ("ريم", "Reem"),
    ("لطيفة", "Latifa"),
    ("العنود", "Alanoud"),
    ("منيرة", "Munira"),
    ("أمل", "Amal"),
)
_FAMILY_NAMES: Final = (
    ("الفهد", "Al-Fahad"),
    ("الشمري", "Al-Shammari"),
    ("الزهراني", "Al-Zahrani"),
    ("القحطاني", "Al-Qahtani"),
    ("العتيبي", "Al-Otaibi"),
    ("الغامدي", "Al-Ghamdi"),
    ("الدوسري", "Al-Dosari"),
    ("الحربي", "Al-Harbi"),
    ("المطيري", "Al-Mutairi"),
    ("السبيعي", "Al-Subaie"),
    ("العنزي", "Al-Anazi"),
    ("السعيد", "Al-Saeed"),
)
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
    firsts = _MALE_FIRST_NAMES if chosen is Gender.MALE else _FEMALE_FIRST_NAMES
    first_ar, first_en = draw(st.sampled_from(firsts))
    family_ar, family_en = draw(st.sampled_from(_FAMILY_NAMES))
    if diacritics and first_ar in _DIACRITIZED and draw(st.integers(0, 4)) == 0:
        first_ar = _DIACRITIZED[first_ar]
    arabic, english = [first_ar], [first_en]
    # Sometimes the father's name too (محمد عبدالله الفهد), as on an ID card.
    if draw(st.booleans()):
        father_ar, father_en = draw(st.sampled_from(_MALE_FIRST_NAMES))
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


# --- preferences and interests ---------------------------------------------------------------


@st.composite
def _preferences(
    draw: st.DrawFn,
    budget: bool | None,
    purpose: SearchStrategy[Purpose | None],
    timeline: SearchStrategy[Timeline | None],
    city: SearchStrategy[str],
) -> Preferences:
    budget_min: Decimal | None = None
    budget_max: Decimal | None = None
    shape = draw(st.sampled_from(("both", "min", "max", "none"))) if budget is None else None
    if budget or shape == "both":
        budget_min = draw(sar_amounts(min_value=Decimal("50000"), max_value=Decimal("20000000")))
        # budget_max >= budget_min (rules §5): an extra on top of the minimum.
        budget_max = budget_min + draw(sar_amounts(min_value=Decimal(0)))
    elif shape == "min":
        budget_min = draw(sar_amounts(min_value=Decimal("50000"), max_value=Decimal("20000000")))
    elif shape == "max":
        budget_max = draw(sar_amounts(min_value=Decimal("50000"), max_value=Decimal("40000000")))
    home = draw(city)
    areas = draw(st.lists(_districts(home), max_size=3, unique=True))
    min_area = draw(st.none() | st.integers(80, 1500).map(Decimal))
    max_area = (
        None if min_area is None or draw(st.booleans()) else min_area + draw(st.integers(0, 1000))
    )
    return Preferences(
        property_type=tuple(draw(st.lists(st.sampled_from(PropertyType), max_size=3, unique=True))),
        budget_min=budget_min,
        budget_max=budget_max,
        preferred_areas=tuple(f"{home} - حي {a}" for a in areas),
        preferred_cities=(home,),
        bedrooms=draw(st.none() | st.integers(1, 8)),
        bathrooms=draw(st.none() | st.integers(1, 7)),
        min_area=min_area,
        max_area=max_area,
        purpose=draw(purpose),
        timeline=draw(timeline),
        amenities=tuple(draw(st.lists(st.sampled_from(_AMENITIES), max_size=4, unique=True))),
        furnishing=draw(st.none() | st.sampled_from(Furnishing)),
    )


def preferences(
    *,
    budget: bool | None = None,
    purpose: OrStrategy[Purpose | None] | _Unset = UNSET,
    timeline: OrStrategy[Timeline | None] | _Unset = UNSET,
    city: OrStrategy[str] | _Unset = UNSET,
) -> SearchStrategy[Preferences]:
    """What a customer looks for; ``0 < budget_min <= budget_max`` whenever both are given.

    ``budget=True`` always gives both bounds, ``False`` none, ``None`` (default) any shape.
    """
    return _preferences(
        budget,
        _resolve(purpose, st.none() | st.sampled_from(Purpose)),
        _resolve(timeline, st.none() | st.sampled_from(Timeline)),
        _resolve(city, cities()),
    )


_PROPERTY_TITLES: Final[Mapping[PropertyType, tuple[str, str]]] = {
    PropertyType.VILLA: ("فيلا", "Villa"),
    PropertyType.APARTMENT: ("شقة", "Apartment"),
    PropertyType.LAND: ("أرض", "Land"),
    PropertyType.COMMERCIAL: ("محل تجاري", "Shop"),
    PropertyType.DUPLEX: ("دوبلكس", "Duplex"),
    PropertyType.TOWNHOUSE: ("تاون هاوس", "Townhouse"),
    PropertyType.BUILDING: ("عمارة", "Building"),
    PropertyType.OFFICE: ("مكتب", "Office"),
}
_SEEN_STATUSES: Final = frozenset(
    {
        PropertyInterestStatus.VIEWED,
        PropertyInterestStatus.SHORTLISTED,
        PropertyInterestStatus.OFFER_MADE,
        PropertyInterestStatus.PURCHASED,
    }
)


_PRICES: Final = sar_amounts(min_value=Decimal("150000"), max_value=Decimal("30000000"))


@st.composite
def _property_interests(
    draw: st.DrawFn,
    status: SearchStrategy[PropertyInterestStatus],
    property_id: SearchStrategy[str],
    added_at: SearchStrategy[datetime],
) -> PropertyInterest:
    kind = draw(st.sampled_from(PropertyType))
    title_ar, title_en = _PROPERTY_TITLES[kind]
    city = draw(cities())
    district = draw(_districts(city))
    chosen = draw(status)
    added = draw(added_at)
    # A viewed (or later) interest was viewed after it was added.
    viewed_at = (
        draw(_after(added, at_most=timedelta(days=30))) if chosen in _SEEN_STATUSES else None
    )
    return PropertyInterest(
        id=draw(ids("pi")),
        property_id=draw(property_id),
        status=chosen,
        added_at=added,
        property_title=f"{title_ar} في حي {district}",
        property_title_en=f"{title_en} in {CITY_NAMES_EN[city]}",
        property_price=draw(
            sar_amounts(min_value=Decimal("150000"), max_value=Decimal("30000000"))
        ),
        property_type=kind,
        property_location=city,
        viewed_at=viewed_at,
        rating=draw(st.none() | st.integers(1, 5)) if viewed_at else None,
    )


def property_interests(
    *,
    status: OrStrategy[PropertyInterestStatus] | _Unset = UNSET,
    property_id: OrStrategy[str] | _Unset = UNSET,
    added_at: OrStrategy[datetime] | _Unset = UNSET,
) -> SearchStrategy[PropertyInterest]:
    """One customer's interest in one property (``viewed_at`` set once viewed or later)."""
    return _property_interests(
        _resolve(status, st.sampled_from(PropertyInterestStatus)),
        _resolve(property_id, ids("prop")),
        _resolve(added_at, aware_datetimes(max_value=_AGGREGATE_START_MAX)),
    )


def _any_preferences() -> SearchStrategy[Preferences]:
    # For options named ``preferences``, which shadow the strategy function.
    return preferences()


# --- customers -------------------------------------------------------------------------------


def guard_level(stage: Stage) -> int:
    """How many guards entering ``stage`` requires (rules §1): 0, 1 (interest), 2 (+ deal
    value) or 3 (+ payment)."""
    if stage.rank >= Stage.CLOSING.rank:
        return 3
    if stage.rank >= Stage.CONTRACT_PREP.rank:
        return 2
    return 1 if stage.rank >= Stage.SITE_VISIT.rank else 0


def _needs_reason(from_stage: Stage, to_stage: Stage) -> bool:
    return to_stage.rank < from_stage.rank or to_stage.rank - from_stage.rank > 1


def _stage_path(waypoints: Sequence[Stage], target: Stage) -> list[Stage]:
    """``new_lead``, then the waypoints, then ``target``: repeats dropped, ``closing`` inserted
    before any ``post_sale`` not reached from ``closing``."""
    path = [Stage.NEW_LEAD]
    for stage in (*waypoints, target):
        if stage is path[-1]:
            continue
        if stage is Stage.POST_SALE and path[-1] is not Stage.CLOSING:
            path.append(Stage.CLOSING)
        path.append(stage)
    return path


_NON_REJECTED: Final = tuple(
    s for s in PropertyInterestStatus if s is not PropertyInterestStatus.REJECTED
)


@st.composite
def _customers(
    draw: st.DrawFn,
    *,
    customer_id: SearchStrategy[str],
    organization_id: SearchStrategy[str],
    stage: SearchStrategy[Stage],
    assigned_employee_id: SearchStrategy[str | None],
    source: SearchStrategy[CustomerSource],
    priority: SearchStrategy[Priority],
    created_at: SearchStrategy[datetime],
    preferences: SearchStrategy[Preferences],
    satisfy_guards: bool,
    deleted: bool,
) -> Customer:
    cid = draw(customer_id)
    suffix = cid.rsplit("_", 1)[-1]
    target = draw(stage)
    assignee = draw(assigned_employee_id)
    created = draw(created_at)
    level = guard_level(target) if satisfy_guards else 3

    # Stage history: new_lead by the system, then moves the lifecycle allows. Waypoints stay
    # within the target's guards, so every entry was enterable with the customer's data.
    allowed = [s for s in Stage if guard_level(s) <= level]
    path = _stage_path(draw(st.lists(st.sampled_from(allowed), max_size=4)), target)
    history = [
        StageChange(
            id=f"stage_{suffix}_1",
            from_stage=None,
            to_stage=Stage.NEW_LEAD,
            changed_by=SYSTEM_ACTOR_NAME,
            changed_by_id=SYSTEM_ACTOR_ID,
            changed_at=created,
            auto_generated=True,
        )
    ]
    moment = created
    for number, (before, after) in enumerate(pairwise(path), start=2):
        moment = draw(_after(moment, at_least=timedelta(minutes=1), at_most=timedelta(days=20)))
        changer = draw(person_names(diacritics=False))
        reason = draw(st.sampled_from(_REASONS)) if _needs_reason(before, after) else None
        history.append(
            StageChange(
                id=f"stage_{suffix}_{number}",
                from_stage=before,
                to_stage=after,
                changed_by=changer.arabic,
                changed_by_id=assignee or draw(ids("emp")),
                changed_at=moment,
                notes=draw(st.none() | st.sampled_from(_NOTES)),
                reason=reason,
            )
        )
    updated = draw(_after(moment, at_most=timedelta(days=10)))
    during = aware_datetimes(min_value=created, max_value=updated)

    # Property interests, one per property; a live one whenever the stage needs it.
    interests = draw(
        st.lists(
            property_interests(added_at=during),
            min_size=1 if satisfy_guards and guard_level(target) >= 1 else 0,
            max_size=4,
            unique_by=lambda i: i.property_id,
        )
    )
    interests = [attrs.evolve(i, id=f"pi_{suffix}_{n}") for n, i in enumerate(interests, 1)]
    needs_live = satisfy_guards and guard_level(target) >= 1
    if needs_live and all(i.status is PropertyInterestStatus.REJECTED for i in interests):
        interests[0] = attrs.evolve(interests[0], status=draw(st.sampled_from(_NON_REJECTED)))

    # Money: a deal value from contract_prep, a payment from closing (never above the deal).
    deal_amounts = sar_amounts(min_value=Decimal("100000"), max_value=Decimal("25000000"))
    deal: Decimal | None
    paid: Decimal | None
    if not satisfy_guards:
        deal = draw(st.none() | st.just(Decimal(0)) | deal_amounts)
        paid = draw(st.none() | st.just(Decimal(0)) | sar_amounts())
    else:
        needs_deal = guard_level(target) >= 2
        deal = draw(deal_amounts if needs_deal else st.none() | deal_amounts)
        needs_paid = guard_level(target) >= 3
        may_pay = deal is not None and target.rank >= Stage.DOWN_PAYMENT.rank
        paid = None
        if deal is not None and (needs_paid or (may_pay and draw(st.booleans()))):
            percent = draw(st.integers(1, 100))
            paid = (deal * percent / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    expected = (
        (deal * Decimal("0.025")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if deal is not None and draw(st.booleans())
        else None
    )

    person = draw(person_names())
    phone = draw(saudi_mobiles())
    national_id = draw(st.none() | national_ids())
    citizen = national_id is None or national_id.startswith("1")
    interactions = draw(st.integers(0, 30))
    contact = draw(during) if interactions else None
    city = draw(cities())
    chosen_source = draw(source)
    financing = draw(
        st.none()
        | st.builds(
            Financing,
            bank=st.none() | st.sampled_from(("الراجحي", "الأهلي", "الرياض", "الإنماء")),
            redf_supported=st.booleans(),
            pre_approved=st.booleans(),
            first_home=st.booleans(),
            is_citizen=st.just(citizen and national_id is not None),
        )
    )
    customer = Customer(
        id=cid,
        organization_id=draw(organization_id),
        name=person.arabic,
        phone=phone,
        source=chosen_source,
        stage=target,
        created_at=created,
        updated_at=updated,
        preferences=draw(preferences),
        stage_history=tuple(history),
        property_interests=tuple(interests),
        name_en=draw(st.sampled_from((person.english, None))),
        whatsapp=draw(st.sampled_from((phone, None)) | saudi_mobiles()),
        email=draw(
            st.none()
            | st.integers(1, 99).map(
                lambda n: f"{person.english.split()[0].lower()}{n}@example.com"
            )
        ),
        national_id=national_id,
        nationality=draw(st.sampled_from(("Saudi", None)))
        if citizen
        else draw(st.sampled_from(_NATIONALITIES)),
        gender=draw(st.sampled_from((person.gender, None))),
        date_of_birth=draw(st.none() | st.dates(date(1950, 1, 1), date(2005, 12, 31))),
        source_details=(
            {"inquiryId": draw(ids("inq"))} if chosen_source is CustomerSource.INQUIRY else {}
        ),
        priority=draw(priority),
        customer_type=draw(st.none() | st.sampled_from(CustomerType)),
        tags=tuple(draw(st.lists(st.sampled_from(_TAGS), max_size=3, unique=True))),
        assigned_employee_id=assignee,
        total_deal_value=deal,
        expected_revenue=expected,
        paid_amount=paid,
        city=city,
        district=draw(st.none() | _districts(city)),
        notes=draw(st.none() | st.sampled_from(_NOTES)),
        last_contact_at=contact,
        last_contact_type=draw(st.sampled_from(InteractionType)) if contact else None,
        next_follow_up_date=draw(
            st.none() | st.dates(updated.date(), updated.date() + timedelta(days=60)),
        ),
        total_interactions=interactions,
        positive_inbound_interactions=draw(st.integers(0, interactions)),
        total_appointments=draw(st.integers(0, 6)),
        total_property_views=draw(st.integers(0, 3 * len(interests))),
        response_rate=draw(st.none() | st.integers(0, 100)) if interactions else None,
        ksa_compliance=KsaCompliance(financing=financing) if financing else None,
        deleted_at=updated if deleted else None,
        # One version per accepted change since creation.
        version=len(history),
    )
    # The lead score is a function of the data: never hand out a stale one (rules §3).
    return scoring.refresh_score(customer, updated)


def customers(
    *,
    organization_id: OrStrategy[str] | _Unset = UNSET,
    stage: OrStrategy[Stage] | _Unset = UNSET,
    assigned_employee_id: OrStrategy[str | None] | _Unset = UNSET,
    source: OrStrategy[CustomerSource] | _Unset = UNSET,
    priority: OrStrategy[Priority] | _Unset = UNSET,
    created_at: OrStrategy[datetime] | _Unset = UNSET,
    customer_id: OrStrategy[str] | _Unset = UNSET,
    preferences: OrStrategy[Preferences] | _Unset = UNSET,
    satisfy_guards: bool = True,
    deleted: bool = False,
) -> SearchStrategy[Customer]:
    """Valid :class:`Customer` aggregates.

    * ``stage_history`` starts with the system ``None → new_lead`` entry at ``created_at``; each
      later entry chains from the previous ``to_stage``, is later in time, carries a reason when
      it skips forward or goes back, and enters ``post_sale`` only from ``closing``; the last
      entry's ``to_stage`` is ``stage``.
    * With ``satisfy_guards=True`` (default) the customer meets the guards of ``stage``: a
      non-rejected property interest from ``site_visit``, ``total_deal_value > 0`` from
      ``contract_prep``, ``paid_amount > 0`` from ``closing``. With ``False`` those data are drawn
      freely (they may or may not hold), for tests of refusals.
    * ``deleted=True`` gives a soft-deleted customer (``deleted_at == updated_at``).
    * ``lead_score`` and ``ai_insights`` are computed by
      :func:`customers_hub.domain.scoring.refresh_score`, never stale.
    """
    return _customers(
        customer_id=_resolve(customer_id, ids("cust")),
        organization_id=_resolve(organization_id, organizations()),
        stage=_resolve(stage, st.sampled_from(Stage)),
        assigned_employee_id=_resolve(assigned_employee_id, st.none() | ids("emp")),
        source=_resolve(source, st.sampled_from(CustomerSource)),
        priority=_resolve(priority, st.sampled_from(Priority)),
        created_at=_resolve(created_at, aware_datetimes(max_value=_AGGREGATE_START_MAX)),
        preferences=_resolve(preferences, _any_preferences()),
        satisfy_guards=satisfy_guards,
        deleted=deleted,
    )


# --- actions (the requests inbox) ------------------------------------------------------------

_DISMISS_REASONS: Final = (
    "العميل غير مهتم حالياً",
    "رقم الهاتف غير صحيح",
    "Duplicate request",
    "تم التواصل عبر قناة أخرى",
)
_OUTCOMES: Final = ("تم التواصل مع العميل", "حُدد موعد معاينة", "Customer will call back")
_ACTION_NOTES: Final = ("اتصلت ولم يرد", "أرسلت العروض عبر واتساب", "Customer asked for a discount")

SNOOZE_HORIZON: Final = timedelta(days=365)
"""How far ahead an action may be snoozed (rules §2: at most one year)."""


@st.composite
def _actions(
    draw: st.DrawFn,
    *,
    customer: SearchStrategy[Customer] | None,
    organization_id: SearchStrategy[str] | None,
    customer_id: SearchStrategy[str] | None,
    customer_name: SearchStrategy[str] | None,
    assigned_to: SearchStrategy[str | None] | None,
    priority: SearchStrategy[Priority] | None,
    created_at: SearchStrategy[datetime] | None,
    action_id: SearchStrategy[str],
    status: SearchStrategy[ActionStatus],
    action_type: SearchStrategy[ActionType],
    source: SearchStrategy[CustomerSource],
) -> CustomerAction:
    # Options left out take the customer's values when a customer is given.
    owner = draw(customer) if customer is not None else None
    aid = draw(action_id)
    suffix = aid.rsplit("_", 1)[-1]
    org = (
        draw(organization_id)
        if organization_id is not None
        else owner.organization_id
        if owner
        else draw(organizations())
    )
    cust_id = (
        draw(customer_id) if customer_id is not None else owner.id if owner else draw(ids("cust"))
    )
    name = (
        draw(customer_name)
        if customer_name is not None
        else owner.name
        if owner
        else draw(arabic_names())
    )
    assignee = (
        draw(assigned_to)
        if assigned_to is not None
        else owner.assigned_employee_id
        if owner
        else draw(st.none() | ids("emp"))
    )
    chosen_priority = (
        draw(priority) if priority is not None else owner.priority if owner else None
    ) or draw(st.sampled_from(Priority))
    if created_at is not None:
        created = draw(created_at)
    elif owner is not None:
        created = draw(_after(owner.created_at, at_most=timedelta(days=30)))
    else:
        created = draw(aware_datetimes(max_value=_AGGREGATE_START_MAX))
    updated = draw(_after(created, at_most=timedelta(days=30)))
    chosen = draw(status)
    kind = draw(action_type)

    completed_at = completed_by = outcome = dismiss_reason = None
    snoozed_until: datetime | None = None
    if chosen is ActionStatus.COMPLETED:
        completed_at = updated
        completed_by = assignee or draw(ids("emp"))
        outcome = draw(st.none() | st.sampled_from(_OUTCOMES))
    elif chosen is ActionStatus.DISMISSED:
        dismiss_reason = draw(st.sampled_from(_DISMISS_REASONS))
    elif chosen is ActionStatus.SNOOZED:
        # Snoozed at ``updated``: strictly later, at most a year ahead.
        snoozed_until = draw(
            _after(updated, at_least=timedelta(minutes=1), at_most=SNOOZE_HORIZON - timedelta(1))
        )

    note_times = sorted(
        draw(st.lists(aware_datetimes(min_value=created, max_value=updated), max_size=3))
    )
    author = draw(person_names(diacritics=False))
    author_id = assignee or draw(ids("emp"))
    notes = tuple(
        ActionNote(
            id=f"note_{suffix}_{n}",
            action_id=aid,
            content=draw(st.sampled_from(_ACTION_NOTES)),
            created_by=author.arabic,
            created_by_id=author_id,
            created_at=at,
        )
        for n, at in enumerate(note_times, start=1)
    )
    return CustomerAction(
        id=aid,
        organization_id=org,
        customer_id=cust_id,
        customer_name=name,
        type=kind,
        title=f"{kind.label} - {name}",
        priority=chosen_priority,
        status=chosen,
        source=draw(source),
        created_at=created,
        updated_at=updated,
        description=draw(st.none() | st.sampled_from(_NOTES)),
        due_date=draw(st.none() | _after(created, at_most=timedelta(days=14))),
        snoozed_until=snoozed_until,
        assigned_to=assignee,
        assigned_to_name=draw(arabic_names(diacritics=False)) if assignee else None,
        completed_at=completed_at,
        completed_by=completed_by,
        outcome=outcome,
        dismiss_reason=dismiss_reason,
        metadata=draw(st.sampled_from(({}, {"autoGenerated": True}))),
        notes=notes,
    )


def _optional(value: OrStrategy[T] | _Unset) -> SearchStrategy[T] | None:
    return None if isinstance(value, _Unset) else _resolve(value, st.nothing())


def actions(
    *,
    customer: OrStrategy[Customer] | None = None,
    organization_id: OrStrategy[str] | _Unset = UNSET,
    customer_id: OrStrategy[str] | _Unset = UNSET,
    customer_name: OrStrategy[str] | _Unset = UNSET,
    status: OrStrategy[ActionStatus] | _Unset = UNSET,
    action_type: OrStrategy[ActionType] | _Unset = UNSET,
    priority: OrStrategy[Priority] | _Unset = UNSET,
    source: OrStrategy[CustomerSource] | _Unset = UNSET,
    assigned_to: OrStrategy[str | None] | _Unset = UNSET,
    created_at: OrStrategy[datetime] | _Unset = UNSET,
    action_id: OrStrategy[str] | _Unset = UNSET,
) -> SearchStrategy[CustomerAction]:
    """Valid inbox actions whose fields agree with their status (rules §2).

    * ``completed``: ``completed_at`` (== ``updated_at``) and ``completed_by`` set;
    * ``dismissed``: a non-empty ``dismiss_reason``;
    * ``snoozed``: ``snoozed_until`` after ``updated_at`` and less than a year after it;
    * otherwise none of those fields; ``created_at <= notes' created_at <= updated_at``.

    With ``customer`` (a value or a strategy), the organization, customer id and name, assignee
    and priority default to the customer's.
    """
    owner = None if customer is None else _resolve(customer, st.nothing())
    return _actions(
        customer=owner,
        organization_id=_optional(organization_id),
        customer_id=_optional(customer_id),
        customer_name=_optional(customer_name),
        assigned_to=_optional(assigned_to),
        priority=_optional(priority),
        created_at=_optional(created_at),
        action_id=_resolve(action_id, ids("action")),
        status=_resolve(status, st.sampled_from(ActionStatus)),
        action_type=_resolve(action_type, st.sampled_from(ActionType)),
        source=_resolve(source, st.sampled_from(CustomerSource)),
    )


def action_notes(
    *,
    action_id: OrStrategy[str] | _Unset = UNSET,
    created_at: OrStrategy[datetime] | _Unset = UNSET,
) -> SearchStrategy[ActionNote]:
    """Notes to add to an action."""
    return st.builds(
        ActionNote,
        id=ids("note"),
        action_id=_resolve(action_id, ids("action")),
        content=st.sampled_from(_ACTION_NOTES),
        created_by=arabic_names(diacritics=False),
        created_by_id=ids("emp"),
        created_at=_resolve(created_at, aware_datetimes()),
    )


# --- stage change requests -------------------------------------------------------------------


def reasons() -> SearchStrategy[str | None]:
    """Reasons as callers send them: ``None``, blank (``""``, ``"   "``, which count as no
    reason) or a real one."""
    return st.none() | st.sampled_from(("", "   ")) | st.sampled_from(_REASONS)


def stage_change_requests(
    *,
    to_stage: OrStrategy[Stage] | _Unset = UNSET,
    reason: OrStrategy[str | None] | _Unset = UNSET,
    notes: OrStrategy[str | None] | _Unset = UNSET,
) -> SearchStrategy[StageChangeRequest]:
    """Bodies of the stage-change endpoint, valid or not for a given customer."""
    return st.builds(
        StageChangeRequest,
        to_stage=_resolve(to_stage, st.sampled_from(Stage)),
        notes=_resolve(notes, st.none() | st.sampled_from(_NOTES)),
        reason=_resolve(reason, reasons()),
    )


# --- people: actors, employees, teams --------------------------------------------------------

ROLE_PERMISSIONS: Final[Mapping[Role, frozenset[Permission]]] = {
    Role.ADMIN: frozenset(Permission),
    Role.SALES_MANAGER: frozenset(
        {
            Permission.CUSTOMERS_READ,
            Permission.CUSTOMERS_WRITE,
            Permission.CUSTOMERS_DELETE,
            Permission.ACTIONS_READ,
            Permission.ACTIONS_WRITE,
        }
    ),
    Role.SALES_AGENT: frozenset(
        {
            Permission.CUSTOMERS_READ,
            Permission.CUSTOMERS_WRITE,
            Permission.ACTIONS_READ,
            Permission.ACTIONS_WRITE,
        }
    ),
    # Everyone lists employees (assignment pickers, by role alone); a viewer writes nothing.
    Role.VIEWER: frozenset({Permission.CUSTOMERS_READ, Permission.ACTIONS_READ}),
}
"""The permissions a token of each role usually carries; :func:`actors` grants them by default."""


@st.composite
def _actors(
    draw: st.DrawFn,
    *,
    user_id: SearchStrategy[str],
    organization_id: SearchStrategy[str],
    role: SearchStrategy[Role],
    permissions: SearchStrategy[frozenset[Permission]] | None,
    name: SearchStrategy[str | None],
) -> Actor:
    chosen = draw(role)
    return Actor(
        user_id=draw(user_id),
        organization_id=draw(organization_id),
        role=chosen,
        permissions=ROLE_PERMISSIONS[chosen] if permissions is None else draw(permissions),
        name=draw(name),
    )


def actors(
    *,
    organization_id: OrStrategy[str] | _Unset = UNSET,
    role: OrStrategy[Role] | _Unset = UNSET,
    permissions: OrStrategy[frozenset[Permission]] | _Unset = UNSET,
    user_id: OrStrategy[str] | _Unset = UNSET,
    name: OrStrategy[str | None] | _Unset = UNSET,
) -> SearchStrategy[Actor]:
    """Callers (verified token claims). ``permissions`` defaults to :data:`ROLE_PERMISSIONS` of
    the drawn role; pass ``st.frozensets(st.sampled_from(Permission))`` for arbitrary claims.
    User ids are employee ids (``emp_…``), as assignees are."""
    return _actors(
        user_id=_resolve(user_id, ids("emp")),
        organization_id=_resolve(organization_id, organizations()),
        role=_resolve(role, st.sampled_from(Role)),
        permissions=_optional(permissions),
        name=_resolve(name, st.none() | arabic_names(diacritics=False)),
    )


_TITLES: Final[Mapping[Role, str]] = {
    Role.ADMIN: "مدير النظام",
    Role.SALES_MANAGER: "مدير المبيعات",
    Role.SALES_AGENT: "مستشار عقاري",
    Role.VIEWER: "مساعد إداري",
}


@st.composite
def _employees(
    draw: st.DrawFn,
    *,
    employee_id: SearchStrategy[str],
    organization_id: SearchStrategy[str],
    role: SearchStrategy[Role],
    manager_id: SearchStrategy[str | None] | None,
    is_active: SearchStrategy[bool],
) -> Employee:
    chosen = draw(role)
    person = draw(person_names(diacritics=False))
    if manager_id is not None:
        manager = draw(manager_id)
    elif chosen in (Role.SALES_AGENT, Role.VIEWER):
        manager = draw(st.none() | ids("emp"))
    else:
        manager = None
    brokers = (Role.SALES_AGENT, Role.SALES_MANAGER)
    licence = (
        draw(
            st.none()
            | st.builds(
                FalLicence,
                number=st.integers(1_000_000_000, 1_999_999_999).map(str),
                expires_on=st.dates(date(2024, 1, 1), date(2031, 12, 31)),
            )
        )
        if chosen in brokers
        else None
    )
    first_en = person.english.split()[0].lower()
    return Employee(
        id=draw(employee_id),
        organization_id=draw(organization_id),
        name=person.arabic,
        role=chosen,
        is_active=draw(is_active),
        name_en=person.english,
        email=f"{first_en}.{draw(st.integers(1, 999))}@example.com",
        phone=draw(saudi_mobiles()),
        title=_TITLES[chosen],
        manager_id=manager,
        fal_licence=licence,
    )


def employees(
    *,
    organization_id: OrStrategy[str] | _Unset = UNSET,
    role: OrStrategy[Role] | _Unset = UNSET,
    manager_id: OrStrategy[str | None] | _Unset = UNSET,
    is_active: OrStrategy[bool] | _Unset = UNSET,
    employee_id: OrStrategy[str] | _Unset = UNSET,
) -> SearchStrategy[Employee]:
    """Employees. Agents and viewers report to a drawn manager id (or none) unless
    ``manager_id`` is given; admins and managers report to nobody by default. Active by default.
    """
    return _employees(
        employee_id=_resolve(employee_id, ids("emp")),
        organization_id=_resolve(organization_id, organizations()),
        role=_resolve(role, st.sampled_from(Role)),
        manager_id=_optional(manager_id),
        is_active=_resolve(is_active, st.just(True)),
    )


@frozen
class Team:
    """A sales manager and the agents whose ``manager_id`` is the manager (one organization)."""

    manager: Employee
    agents: tuple[Employee, ...]

    @property
    def organization_id(self) -> str:
        """The team's organization."""
        return self.manager.organization_id

    @property
    def members(self) -> tuple[Employee, ...]:
        """The manager first, then the agents."""
        return (self.manager, *self.agents)

    @property
    def member_ids(self) -> frozenset[str]:
        """Ids of everyone in the team: the records a ``sales_manager`` may see are theirs."""
        return frozenset(m.id for m in self.members)


@st.composite
def _teams(
    draw: st.DrawFn, organization_id: SearchStrategy[str], min_agents: int, max_agents: int
) -> Team:
    org = draw(organization_id)
    manager = draw(employees(organization_id=org, role=Role.SALES_MANAGER))
    agents = draw(
        st.lists(
            employees(organization_id=org, role=Role.SALES_AGENT, manager_id=manager.id),
            min_size=min_agents,
            max_size=max_agents,
            unique_by=lambda e: e.id,
        ).filter(lambda members: all(m.id != manager.id for m in members))
    )
    return Team(manager, tuple(agents))


def teams(
    *,
    organization_id: OrStrategy[str] | _Unset = UNSET,
    min_agents: int = 1,
    max_agents: int = 4,
) -> SearchStrategy[Team]:
    """A manager (role ``sales_manager``) and ``min_agents``–``max_agents`` active agents
    reporting to them, all of one organization, with distinct ids."""
    return _teams(_resolve(organization_id, organizations()), min_agents, max_agents)


def actor_for(employee: Employee, *, permissions: frozenset[Permission] | None = None) -> Actor:
    """The caller an employee is: same id, organization, role and name.

    ``permissions`` defaults to :data:`ROLE_PERMISSIONS` of the employee's role.
    """
    return Actor(
        user_id=employee.id,
        organization_id=employee.organization_id,
        role=employee.role,
        permissions=ROLE_PERMISSIONS[employee.role] if permissions is None else permissions,
        name=employee.name,
        email=employee.email,
    )

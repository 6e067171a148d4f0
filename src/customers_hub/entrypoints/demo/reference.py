"""The demo organization's fixed data: ids, team, cities, listings, names and weights."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import attrs
from attrs import frozen

from customers_hub.domain.enums import (
    CustomerSource,
    Gender,
    PropertyStatus,
    PropertyType,
    Role,
    Stage,
)

DEFAULT_ORGANIZATION: Final = "org_demo"
"""The organization ``customers-hub demo-data`` and ``make run`` use."""

DEFAULT_CUSTOMERS: Final = 60
DEFAULT_SEED: Final = 2024

ADMIN_ID: Final = "demo-admin"
MANAGER_ID: Final = "demo-manager"
VIEWER_ID: Final = "demo-viewer"
_AGENT_IDS: Final = ("demo-agent-1", "demo-agent-2", "demo-agent-3", "demo-agent-4")

HISTORY_DAYS: Final = 90
"""Customers are created at most this many days before the moment of loading."""


class DemoDataIncomplete(RuntimeError):
    """The organization has part of the demo data: an earlier load was interrupted."""


@frozen
class DemoSummary:
    """What :func:`load_demo_data` did (all zeros with ``already_loaded`` on a second run)."""

    organization_id: str
    already_loaded: bool
    admin_id: str = ADMIN_ID
    admin_name: str = ""
    employees: int = 0
    properties: int = 0
    customers: int = 0
    interactions: int = 0
    appointments: int = 0
    reminders: int = 0
    property_interests: int = 0
    stages: Mapping[str, int] = attrs.field(factory=dict)
    """Customers per stage (as loaded)."""
    cities: Mapping[str, int] = attrs.field(factory=dict)
    """Customers per city."""
    actions: Mapping[str, int] = attrs.field(factory=dict)
    """The organization's actions per (effective) status after the load."""


# --- reference data ------------------------------------------------------------------------------


@frozen
class _District:
    ar: str
    en: str


@frozen
class _City:
    ar: str
    en: str
    region: str
    districts: tuple[_District, ...]
    weight: int


_RIYADH = _City(
    "الرياض",
    "Riyadh",
    "منطقة الرياض",
    (
        _District("حي النرجس", "Al Narjis"),
        _District("حي الملقا", "Al Malqa"),
        _District("حي الياسمين", "Al Yasmin"),
        _District("حي العليا", "Al Olaya"),
    ),
    weight=45,
)
_JEDDAH = _City(
    "جدة",
    "Jeddah",
    "منطقة مكة المكرمة",
    (
        _District("حي الزهراء", "Al Zahra"),
        _District("حي الروضة", "Al Rawdah"),
        _District("حي الشاطئ", "Al Shati"),
    ),
    weight=30,
)
_DAMMAM = _City(
    "الدمام",
    "Dammam",
    "المنطقة الشرقية",
    (_District("حي الفيصلية", "Al Faisaliyah"), _District("حي الشاطئ", "Al Shati")),
    weight=25,
)
_CITIES: Final = (_RIYADH, _JEDDAH, _DAMMAM)

_TYPE_NAMES: Final[Mapping[PropertyType, tuple[str, str]]] = {
    PropertyType.VILLA: ("فيلا", "villa"),
    PropertyType.APARTMENT: ("شقة", "apartment"),
    PropertyType.LAND: ("أرض", "plot"),
    PropertyType.COMMERCIAL: ("عقار تجاري", "commercial property"),
}


@frozen
class _Listing:
    """One catalog entry: (id, city, district index, type, Arabic title, English title, price,
    bedrooms, area, off-plan, status)."""

    id: str
    city: _City
    district: int
    type: PropertyType
    title: str
    title_en: str
    price: int
    bedrooms: int | None
    area: int
    off_plan: bool = False
    status: PropertyStatus = PropertyStatus.AVAILABLE

    @property
    def district_ar(self) -> str:
        return self.city.districts[self.district].ar

    @property
    def location(self) -> str:
        return f"{self.city.ar} - {self.district_ar}"


_V, _A, _L, _C = (
    PropertyType.VILLA,
    PropertyType.APARTMENT,
    PropertyType.LAND,
    PropertyType.COMMERCIAL,
)

_TYPE_WEIGHTS: Final[Mapping[PropertyType, int]] = {_V: 5, _A: 6, _L: 2, _C: 1}

# fmt: off
_CATALOG: Final = (
    # Riyadh: النرجس 0, الملقا 1, الياسمين 2, العليا 3
    _Listing("prop_villa_001", _RIYADH, 0, _V, "فيلا مودرن في حي النرجس", "Modern villa in Al Narjis", 3_450_000, 5, 420),  # noqa: E501
    _Listing("prop_villa_002", _RIYADH, 1, _V, "فيلا درج داخلي في حي الملقا", "Villa with inner staircase in Al Malqa", 4_200_000, 6, 500),  # noqa: E501
    _Listing("prop_villa_003", _RIYADH, 2, _V, "فيلا زاوية في حي الياسمين", "Corner villa in Al Yasmin", 2_850_000, 5, 375),  # noqa: E501
    _Listing("prop_villa_004", _RIYADH, 1, _V, "فيلا مع مسبح في حي الملقا", "Villa with pool in Al Malqa", 3_900_000, 5, 450, status=PropertyStatus.SOLD),  # noqa: E501
    _Listing("prop_apt_001", _RIYADH, 0, _A, "شقة ثلاث غرف في حي النرجس", "Three-bedroom apartment in Al Narjis", 980_000, 3, 165),  # noqa: E501
    _Listing("prop_apt_002", _RIYADH, 3, _A, "شقة فاخرة في حي العليا", "Luxury apartment in Al Olaya", 1_650_000, 3, 190),  # noqa: E501
    _Listing("prop_apt_003", _RIYADH, 1, _A, "شقة على الخارطة في حي الملقا", "Off-plan apartment in Al Malqa", 1_120_000, 4, 180, off_plan=True),  # noqa: E501
    _Listing("prop_apt_004", _RIYADH, 2, _A, "شقة عائلية في حي الياسمين", "Family apartment in Al Yasmin", 890_000, 3, 155),  # noqa: E501
    _Listing("prop_land_001", _RIYADH, 2, _L, "أرض سكنية في حي الياسمين", "Residential plot in Al Yasmin", 2_100_000, None, 600),  # noqa: E501
    _Listing("prop_land_002", _RIYADH, 0, _L, "أرض سكنية على شارعين في حي النرجس", "Two-street residential plot in Al Narjis", 2_600_000, None, 750),  # noqa: E501
    _Listing("prop_com_001", _RIYADH, 3, _C, "معرض تجاري على طريق العليا", "Showroom on Olaya Road", 7_800_000, None, 850),  # noqa: E501
    _Listing("prop_com_002", _RIYADH, 3, _C, "مكاتب إدارية في حي العليا", "Office floor in Al Olaya", 3_200_000, None, 320),  # noqa: E501
    # Jeddah: الزهراء 0, الروضة 1, الشاطئ 2
    _Listing("prop_villa_101", _JEDDAH, 2, _V, "فيلا قريبة من البحر في حي الشاطئ", "Villa near the sea in Al Shati", 4_800_000, 6, 550),  # noqa: E501
    _Listing("prop_villa_102", _JEDDAH, 1, _V, "فيلا دورين في حي الروضة", "Two-floor villa in Al Rawdah", 3_100_000, 5, 400),  # noqa: E501
    _Listing("prop_apt_101", _JEDDAH, 0, _A, "شقة ثلاث غرف في حي الزهراء", "Three-bedroom apartment in Al Zahra", 850_000, 3, 150),  # noqa: E501
    _Listing("prop_apt_102", _JEDDAH, 1, _A, "شقة واسعة في حي الروضة", "Spacious apartment in Al Rawdah", 1_050_000, 4, 185),  # noqa: E501
    _Listing("prop_apt_103", _JEDDAH, 2, _A, "شقة بإطلالة بحرية في حي الشاطئ", "Sea-view apartment in Al Shati", 1_900_000, 3, 210),  # noqa: E501
    _Listing("prop_land_101", _JEDDAH, 0, _L, "أرض سكنية في حي الزهراء", "Residential plot in Al Zahra", 1_700_000, None, 500),  # noqa: E501
    _Listing("prop_com_101", _JEDDAH, 1, _C, "محل تجاري على شارع رئيسي في حي الروضة", "Retail shop on a main street in Al Rawdah", 2_400_000, None, 220),  # noqa: E501
    # Dammam: الفيصلية 0, الشاطئ 1
    _Listing("prop_villa_201", _DAMMAM, 1, _V, "فيلا حديثة في حي الشاطئ", "New villa in Al Shati", 2_600_000, 5, 450),  # noqa: E501
    _Listing("prop_villa_202", _DAMMAM, 0, _V, "فيلا اقتصادية في حي الفيصلية", "Value villa in Al Faisaliyah", 1_850_000, 4, 360),  # noqa: E501
    _Listing("prop_apt_201", _DAMMAM, 0, _A, "شقة ثلاث غرف في حي الفيصلية", "Three-bedroom apartment in Al Faisaliyah", 620_000, 3, 140),  # noqa: E501
    _Listing("prop_apt_202", _DAMMAM, 1, _A, "شقة قريبة من الكورنيش في حي الشاطئ", "Apartment near the Corniche in Al Shati", 890_000, 3, 160),  # noqa: E501
    _Listing("prop_land_201", _DAMMAM, 0, _L, "أرض سكنية في حي الفيصلية", "Residential plot in Al Faisaliyah", 950_000, None, 500),  # noqa: E501
    _Listing("prop_com_201", _DAMMAM, 1, _C, "مبنى تجاري في حي الشاطئ", "Commercial building in Al Shati", 3_600_000, None, 400, status=PropertyStatus.RESERVED),  # noqa: E501
)
# fmt: on

# Residents (Iqama numbers start with 2): (Arabic name, English name, nationality, gender).
_RESIDENTS: Final = (
    ("أحمد عبدالله", "Ahmed Abdullah", "Egyptian", Gender.MALE),
    ("محمد إقبال", "Mohammed Iqbal", "Pakistani", Gender.MALE),
    ("راهول مينون", "Rahul Menon", "Indian", Gender.MALE),
    ("خالد الأحمد", "Khaled Al-Ahmad", "Jordanian", Gender.MALE),
    ("سامر حداد", "Samer Haddad", "Lebanese", Gender.MALE),
    ("جون ميلر", "John Miller", "British", Gender.MALE),
    ("ماريا سانتوس", "Maria Santos", "Filipino", Gender.FEMALE),
    ("رنا الخطيب", "Rana Al-Khatib", "Syrian", Gender.FEMALE),
)
_EMAIL_DOMAINS: Final = ("gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com")
_BANKS: Final = (
    "مصرف الراجحي",
    "البنك الأهلي السعودي",
    "بنك الرياض",
    "مصرف الإنماء",
    "البنك السعودي الفرنسي",
)
_AMENITIES: Final = ("pool", "garden", "majlis", "parking", "maid_room", "elevator", "driver_room")

# Customers per stage out of 100 (the first nine customers take one stage each).
_STAGE_WEIGHTS: Final[Mapping[Stage, int]] = {
    Stage.NEW_LEAD: 16,
    Stage.QUALIFIED: 14,
    Stage.PROPERTY_MATCHING: 14,
    Stage.SITE_VISIT: 12,
    Stage.NEGOTIATION: 11,
    Stage.CONTRACT_PREP: 9,
    Stage.DOWN_PAYMENT: 8,
    Stage.CLOSING: 7,
    Stage.POST_SALE: 9,
}
_SOURCE_WEIGHTS: Final[Mapping[CustomerSource, int]] = {
    CustomerSource.INQUIRY: 30,
    CustomerSource.WHATSAPP: 25,
    CustomerSource.MANUAL: 18,
    CustomerSource.REFERRAL: 17,
    CustomerSource.IMPORT: 10,
}


@frozen
class _Person:
    """A demo employee: id, role, Arabic and English names, title, manager, licence days."""

    id: str
    role: Role
    name: str
    name_en: str
    title: str
    manager_id: str | None
    email_user: str
    licence_days: int | None = None


_TEAM: Final = (
    _Person(ADMIN_ID, Role.ADMIN, "عبدالله الراشد", "Abdullah Al-Rashed", "مدير النظام", None,
            "abdullah.alrashed"),
    _Person(MANAGER_ID, Role.SALES_MANAGER, "سارة القحطاني", "Sarah Al-Qahtani",
            "مديرة المبيعات", ADMIN_ID, "sarah.alqahtani", licence_days=540),
    _Person(_AGENT_IDS[0], Role.SALES_AGENT, "محمد العتيبي", "Mohammed Al-Otaibi",
            "مستشار عقاري أول", MANAGER_ID, "mohammed.alotaibi", licence_days=420),
    _Person(_AGENT_IDS[1], Role.SALES_AGENT, "نورة الشمري", "Noura Al-Shammari",
            "مستشارة عقارية", MANAGER_ID, "noura.alshammari", licence_days=300),
    _Person(_AGENT_IDS[2], Role.SALES_AGENT, "خالد الغامدي", "Khalid Al-Ghamdi",
            "مستشار عقاري", MANAGER_ID, "khalid.alghamdi", licence_days=610),
    _Person(_AGENT_IDS[3], Role.SALES_AGENT, "ريم الدوسري", "Reem Al-Dosari",
            "مستشارة عقارية", MANAGER_ID, "reem.aldosari", licence_days=25),
    _Person(VIEWER_ID, Role.VIEWER, "فهد المطيري", "Fahad Al-Mutairi", "محلل بيانات",
            MANAGER_ID, "fahad.almutairi"),
)  # fmt: skip
_EMAIL_DOMAIN: Final = "demo-realty.sa"


# --- the settable clock and a customer's timeline ------------------------------------------------

"""Validation of Saudi identifiers and of customer input (rules §5).

The HTTP edge parses types (enums, ``Decimal``, ``date``); the checks here are the business ones,
and they report every failing field at once, named by its camelCase API path
(``preferences.budgetMin``), in one :class:`~customers_hub.domain.errors.ValidationFailed`.

Two inputs are validated: :class:`CustomerDraft` (create) and :class:`CustomerPatch` (partial
update, where :data:`UNSET` means "not sent" and ``None`` means "clear"). Both come back
normalized: E.164 phones, cleaned texts, lower-cased e-mail domain and tags.

Every text field of every use case (customers, employees, actions, relations, stage changes) goes
through the one :func:`clean_text` (NFC, trimmed, no control characters, the column's length);
every date or instant a person types is checked against the plausible ranges defined here
(:data:`EARLIEST_RECORD_DATE`, :data:`LICENCE_MAX_YEARS_AHEAD`, :data:`SCHEDULE_WINDOW`, …).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final, Literal, Protocol, TypeAlias, TypeVar

import attrs
import phonenumbers
from attrs import field, frozen

from customers_hub.domain.compliance import KsaCompliance
from customers_hub.domain.enums import (
    CustomerSource,
    CustomerType,
    Furnishing,
    Gender,
    Priority,
    PropertyType,
    Purpose,
    Timeline,
)
from customers_hub.domain.errors import FieldError, ValidationFailed
from customers_hub.domain.model import Customer, FalLicence, Preferences
from customers_hub.domain.naming import camel_case
from customers_hub.domain.search_text import to_ascii_digits
from customers_hub.domain.unset import UNSET, Unset

# --------------------------------------------------------------------------------------------
# Limits (mostly the column sizes of the API document's schema, so the database never truncates)
# --------------------------------------------------------------------------------------------

NAME_MAX_LENGTH: Final = 255
EMAIL_MAX_LENGTH: Final = 254  # RFC 5321 path limit; the column holds 255
NATIONALITY_MAX_LENGTH: Final = 50
CITY_MAX_LENGTH: Final = 100
DISTRICT_MAX_LENGTH: Final = 100
TAG_MAX_LENGTH: Final = 50
TAGS_MAX_COUNT: Final = 50
ROOMS_MAX: Final = 50
MONEY_MAX: Final = Decimal("9999999999999.99")  # DECIMAL(15,2)
OLDEST_AGE_YEARS: Final = 120

#: ISO regions whose numbers are accepted (rules §5: Saudi mobiles and GCC numbers).
GCC_REGIONS: Final = frozenset({"SA", "AE", "BH", "KW", "OM", "QA"})
# Country calling code -> (region, name) of the GCC countries other than Saudi Arabia (+966).
_OTHER_GCC: Final[Mapping[str, tuple[str, str]]] = {
    "971": ("AE", "UAE"),
    "973": ("BH", "Bahrain"),
    "965": ("KW", "Kuwait"),
    "968": ("OM", "Oman"),
    "974": ("QA", "Qatar"),
}
_GCC_COUNTRY_CODES: Final = ("966", *_OTHER_GCC)
# Outside Saudi Arabia a customer's own line may be a mobile or a landline; toll-free, premium,
# shared-cost and similar service numbers are not a person's phone.
_ACCEPTED_GCC_TYPES: Final = frozenset(
    {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
)

# Spaces (any Unicode white space), ASCII and Unicode dashes, minus, dots, slashes, parentheses.
_PHONE_SEPARATORS: Final = re.compile(r"[\s\-\u2010-\u2015\u2212./()]")
_SA_MOBILE_NATIONAL: Final = re.compile(r"0?(5[0-9]{8})")
_DIGITS: Final = re.compile(r"[0-9]+")
# Characters a pragmatic address never holds outside quoted local parts, which we do not accept.
_EMAIL_FORBIDDEN: Final = frozenset('()<>[]\\,;:"')

_LABELS: Final[Mapping[str, str]] = {
    "name": "Name",
    "nameEn": "English name",
    "phone": "Phone number",
    "whatsapp": "WhatsApp number",
    "email": "Email",
    "nationalId": "National ID",
    "nationality": "Nationality",
    "city": "City",
    "district": "District",
    "region": "Region",
    "totalDealValue": "Total deal value",
    "expectedRevenue": "Expected revenue",
    "paidAmount": "Paid amount",
    "preferences.budgetMin": "Budget minimum",
    "preferences.budgetMax": "Budget maximum",
    "preferences.minArea": "Minimum area",
    "preferences.maxArea": "Maximum area",
    "preferences.bedrooms": "Bedrooms",
    "preferences.bathrooms": "Bathrooms",
    "source": "Source",
    "priority": "Priority",
    "ksaCompliance.ejar.annualRent": "Annual rent",
    "ksaCompliance.financing.preApprovalAmount": "Pre-approval amount",
    "falLicence.number": "FAL licence number",
    "falLicence.expiresOn": "FAL licence expiry",
}


def _label(field_path: str) -> str:
    return _LABELS.get(field_path, field_path)


# --------------------------------------------------------------------------------------------
# Text: one cleaning function for every text field
# --------------------------------------------------------------------------------------------

SHORT_TEXT_MAX_LENGTH: Final = 500
"""Longest one-line text stored in a ``String(500)`` column (titles, locations, reasons)."""
NOTES_MAX_LENGTH: Final = 2000
"""Longest free-text note of a relation (interaction, appointment, reminder, assignment)."""
FREE_TEXT_MAX_LENGTH: Final = 10_000
"""Longest free text stored in an unsized ``Text`` column (customer notes, action texts)."""
ID_MAX_LENGTH: Final = 50
"""Longest id a caller may send (every ``*_id`` column is ``String(50)``)."""
URL_MAX_LENGTH: Final = 2048
"""Longest URL (avatars, property images)."""

# What clean_text trims at both ends: the white space of Unicode minus the control characters
# other than tab, LF and CR (str.strip() would silently drop \x1c-\x1f and \x85 as well).
_TRIMMED: Final = (
    " \t\n\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_LINE_BREAKS: Final = frozenset("\n\r\u2028\u2029")
# Format characters that only serve to disguise text: the bidi embeddings and overrides (they
# reorder what is displayed, "Trojan Source"), the byte-order mark / zero-width no-break space
# and the interlinear annotation marks. The joiners ZWJ/ZWNJ (Arabic and Persian spelling), the
# marks LRM/RLM/ALM and the bidi isolates (mixed Arabic/Latin text) are kept.
_DISGUISING: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\ufeff\ufff9\ufffa\ufffb")


def _refused_character(ch: str, *, multiline: bool) -> str | None:
    """Why ``ch`` may not appear in a text, or ``None`` when it may."""
    if ch in "\t\n\r\u2028\u2029":
        return None if multiline else "must be a single line (no line breaks or tabs)"
    category = unicodedata.category(ch)
    if category == "Cc":
        return f"must not contain control characters (U+{ord(ch):04X})"
    if category == "Cs" or ch in _DISGUISING:
        return f"must not contain invisible or invalid characters (U+{ord(ch):04X})"
    code = ord(ch)
    if 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE:  # Unicode noncharacters
        return f"must not contain invalid characters (U+{code:04X})"
    return None


def clean_text(field: str, value: str, *, max_length: int, multiline: bool = False) -> str:
    """``value`` NFC-normalized and trimmed, or a :class:`ValidationFailed` on ``field``.

    The one cleaning of every text a person types (names, titles, numbers of licences and
    contracts, notes, reasons…):

    * NFC normalization (``unicodedata``), so the same word is stored, searched and compared as
      the same code points whatever keyboard or system typed it;
    * trimmed at both ends (spaces, tabs, line breaks);
    * refused: NUL and every other control character (category ``Cc``), lone surrogates,
      noncharacters and the disguising format characters (bidi overrides, BOM);
    * ``multiline=False`` (names, titles, numbers, reasons): tabs and line breaks are refused
      and runs of spaces become one space; ``multiline=True`` (notes, descriptions, outcomes):
      tabs and line breaks are kept, CRLF and CR become LF;
    * at most ``max_length`` characters after cleaning (the column size).

    A blank value comes back as ``""``; whether that is "not given" or an error is the caller's
    business (see :meth:`Errors.text`). ``field`` is the camelCase API path of the value.
    """
    if not isinstance(value, str):
        raise ValidationFailed.single(field, f"{_label(field)} must be a string")
    text = unicodedata.normalize("NFC", value).strip(_TRIMMED)
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    for ch in text:
        problem = _refused_character(ch, multiline=multiline)
        if problem is not None:
            raise ValidationFailed.single(field, f"{_label(field)} {problem}")
    if not multiline:
        text = " ".join(text.split())  # only spaces are left: collapse their runs
    if len(text) > max_length:
        raise ValidationFailed.single(
            field, f"{_label(field)} must be at most {max_length} characters"
        )
    return text


# --------------------------------------------------------------------------------------------
# Collecting errors
# --------------------------------------------------------------------------------------------

_R_contra = TypeVar("_R_contra", contravariant=True)
_T_co = TypeVar("_T_co", covariant=True)
_R = TypeVar("_R")
_T = TypeVar("_T")


class FieldValidator(Protocol[_R_contra, _T_co]):
    """A validator of one value that names the failing field: ``validate(raw, field=...)``."""

    def __call__(self, raw: _R_contra, /, *, field: str) -> _T_co:
        """Return the normalized value or raise :class:`ValidationFailed`."""
        ...


class Errors:
    """Collects :class:`FieldError` s so that every failing field is reported, not only the first.

    >>> errors = Errors()
    >>> phone = errors.check("phone", normalize_phone, "0501234567")
    >>> errors.add("preferences.budgetMin", "Budget minimum must be greater than 0")
    >>> errors.raise_if_any()  # raises one ValidationFailed with every error
    """

    def __init__(self) -> None:
        self._errors: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        """Record that ``field`` (a camelCase API path) failed with ``message``."""
        error = FieldError(field, message)
        if error not in self._errors:
            self._errors.append(error)

    def extend(self, errors: Iterable[FieldError]) -> None:
        """Record several errors."""
        for error in errors:
            self.add(error.field, error.message)

    def check(self, field: str, validator: FieldValidator[_R, _T], raw: _R) -> _T | None:
        """``validator(raw, field=field)``, or ``None`` after recording the errors it raised."""
        try:
            return validator(raw, field=field)
        except ValidationFailed as failure:
            self.extend(failure.errors)
            return None

    def text(
        self,
        field: str,
        raw: str | None,
        *,
        max_length: int,
        multiline: bool = False,
        required: bool = False,
    ) -> str | None:
        """:func:`clean_text` of ``raw``; ``None`` when absent, blank or refused (recorded).

        A blank value is "not given" (forms send ``""`` for an empty input), or an error on
        ``field`` when ``required``.
        """
        if raw is None:
            text = ""
        else:
            try:
                text = clean_text(field, raw, max_length=max_length, multiline=multiline)
            except ValidationFailed as failure:
                self.extend(failure.errors)
                return None
        if not text:
            if required:
                self.add(field, f"{_label(field)} is required")
            return None
        return text

    def has(self, field: str) -> bool:
        """True if ``field`` or a path below it (``field.x``, ``field[i]``) has an error."""
        return any(
            e.field == field or e.field.startswith((f"{field}.", f"{field}[")) for e in self._errors
        )

    @property
    def errors(self) -> tuple[FieldError, ...]:
        """The errors recorded so far, in order."""
        return tuple(self._errors)

    def __len__(self) -> int:
        return len(self._errors)

    def __bool__(self) -> bool:
        return bool(self._errors)

    def raise_if_any(self) -> None:
        """Raise one :class:`ValidationFailed` holding every recorded error, if there is any."""
        if self._errors:
            raise ValidationFailed(self._errors)


# --------------------------------------------------------------------------------------------
# Phones
# --------------------------------------------------------------------------------------------


def _strip_invisible(text: str) -> str:
    # RLM/LRM and bidi isolates come along when a number is copied from WhatsApp or an RTL page.
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def normalize_phone(raw: str, *, field: str = "phone") -> str:
    """Normalize a Saudi mobile or a GCC number to E.164 (``+9665XXXXXXXX``), or reject it.

    Accepted: Saudi mobiles ``05XXXXXXXX``, ``5XXXXXXXX``, ``9665XXXXXXXX``, ``+9665XXXXXXXX``,
    ``009665XXXXXXXX`` (also ``+966 05…``); valid mobile or landline numbers of the UAE, Bahrain,
    Kuwait, Oman and Qatar written with ``+``, ``00`` or their bare country code. Arabic-Indic and
    Eastern digits, spaces, dashes, dots, slashes and parentheses are tolerated. Saudi landlines
    and service numbers, numbers of other countries, letters and wrong lengths are a
    :class:`ValidationFailed` on ``field``.
    """
    label = _label(field)
    text = _PHONE_SEPARATORS.sub("", to_ascii_digits(_strip_invisible(raw)))
    if not text:
        raise ValidationFailed.single(field, f"{label} is required")
    if text.startswith("00"):
        text = "+" + text[2:]
    international = text.startswith("+")
    digits = text[1:] if international else text
    if not digits:
        raise ValidationFailed.single(field, f"{label} is not valid")
    if not _DIGITS.fullmatch(digits):
        raise ValidationFailed.single(
            field, f"{label} may hold only digits, spaces, dashes, parentheses and a leading +"
        )
    if not international:
        mobile = _SA_MOBILE_NATIONAL.fullmatch(digits)
        if mobile:
            return "+966" + mobile.group(1)
        # A GCC number pasted without its "+" (as WhatsApp exports it). Saudi national numbers
        # are 9–10 digits and never start with 96/97, so this cannot swallow one.
        if not (len(digits) > 10 and digits.startswith(_GCC_COUNTRY_CODES)):
            raise ValidationFailed.single(
                field, "Invalid Saudi mobile number: expected 05XXXXXXXX or +9665XXXXXXXX"
            )
    return _normalize_international(digits, field)


def _normalize_international(digits: str, field: str) -> str:
    if digits.startswith("966"):
        # Every 5 + 8 digits, as rules §5 write it, even a range the numbering plan has not
        # allocated yet (052): a stale metadata table must never refuse a real customer. The
        # national trunk 0 written after +966 ("+966 05…") is a common habit and is dropped.
        mobile = _SA_MOBILE_NATIONAL.fullmatch(digits[3:])
        if mobile:
            return "+966" + mobile.group(1)
        raise ValidationFailed.single(
            field, "Only Saudi mobile numbers are accepted: expected +9665XXXXXXXX"
        )
    gcc = _OTHER_GCC.get(digits[:3])
    if gcc is None:
        raise ValidationFailed.single(
            field,
            "Only Saudi and GCC (UAE, Bahrain, Kuwait, Oman, Qatar) phone numbers are accepted",
        )
    region, country = gcc
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        raise ValidationFailed.single(field, f"Invalid {country} phone number") from None
    if (
        phonenumbers.region_code_for_number(number) != region
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in _ACCEPTED_GCC_TYPES
    ):
        raise ValidationFailed.single(field, f"Invalid {country} phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --------------------------------------------------------------------------------------------
# National ID / Iqama
# --------------------------------------------------------------------------------------------

NationalIdKind: TypeAlias = Literal["citizen", "resident"]
_NATIONAL_ID: Final = re.compile(r"[12][0-9]{9}")


def national_id_check_digit(first_nine: str) -> str:
    """The check digit that completes the nine ASCII digits ``first_nine`` to a valid national ID.

    Saudi algorithm (Luhn from the left): digits at even positions are doubled and their digits
    summed, digits at odd positions are added; a valid ID's total is a multiple of 10.
    """
    if not re.fullmatch(r"[0-9]{9}", first_nine):
        raise ValueError("expected nine ASCII digits")
    return str((10 - _id_total(first_nine) % 10) % 10)


def _id_total(digits: str) -> int:
    total = 0
    for index, char in enumerate(digits):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            value = value // 10 + value % 10
        total += value
    return total


def validate_national_id(raw: str, *, field: str = "nationalId") -> str:
    """The national ID (citizen, starts with 1) or Iqama (resident, starts with 2), or reject it.

    Ten digits (Arabic-Indic accepted, surrounding spaces ignored) with a valid check digit.
    """
    text = to_ascii_digits(_strip_invisible(raw)).strip()
    if not re.fullmatch(r"[0-9]{10}", text):
        raise ValidationFailed.single(field, "National ID must be exactly 10 digits")
    if not _NATIONAL_ID.fullmatch(text):
        raise ValidationFailed.single(
            field, "National ID must start with 1 (citizen) or 2 (resident/Iqama)"
        )
    if _id_total(text) % 10 != 0:
        raise ValidationFailed.single(field, "National ID check digit is invalid")
    return text


def national_id_kind(national_id: str) -> NationalIdKind:
    """``"citizen"`` for an ID starting with 1, ``"resident"`` (Iqama) for one starting with 2."""
    if national_id.startswith("1"):
        return "citizen"
    if national_id.startswith("2"):
        return "resident"
    raise ValueError("a national ID starts with 1 or 2")


# --------------------------------------------------------------------------------------------
# E-mail, names, texts
# --------------------------------------------------------------------------------------------


def validate_email(raw: str, *, field: str = "email") -> str:
    """A pragmatic e-mail check; returns the trimmed address with its domain lower-cased.

    One ``@``; a non-empty local part of at most 64 characters; a domain of dot-separated
    non-empty labels of letters, digits and hyphens ending in a top-level domain of at least two
    letters; no white space, control characters or ``()<>[]\\,;:"``; at most 254 characters.
    """
    text = raw.strip()
    if not text:
        raise ValidationFailed.single(field, "Email is required")
    if len(text) > EMAIL_MAX_LENGTH:
        raise ValidationFailed.single(field, f"Email must be at most {EMAIL_MAX_LENGTH} characters")
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise ValidationFailed.single(field, "Email must not contain spaces")
    if text.count("@") != 1:
        raise ValidationFailed.single(field, "Email must contain exactly one @")
    local, domain = text.split("@")
    if not local or len(local) > 64 or any(ch in _EMAIL_FORBIDDEN for ch in local):
        raise ValidationFailed.single(field, "Email has an invalid part before the @")
    labels = domain.split(".")
    if (
        len(labels) < 2
        or not all(labels)
        or not all(ch.isalnum() or ch == "-" for label in labels for ch in label)
        or any(label.startswith("-") or label.endswith("-") for label in labels)
        or len(labels[-1]) < 2
        # An internationalized top-level domain is letters (.السعودية) or punycode (xn--…).
        or not (labels[-1].isalpha() or labels[-1].startswith("xn--"))
    ):
        raise ValidationFailed.single(field, "Email domain must look like example.com")
    return f"{local}@{domain.lower()}"


def validate_name(raw: str, *, field: str = "name") -> str:
    """A required name: :func:`clean_text` (one line, at most 255 characters), not blank."""
    text = clean_text(field, raw, max_length=NAME_MAX_LENGTH)
    if not text:
        raise ValidationFailed.single(field, f"{_label(field)} is required")
    return text


def _optional_text(
    errors: Errors, field: str, raw: str | None, *, max_length: int, multiline: bool = False
) -> str | None:
    # An optional text sent blank is "not given": forms send "" for an empty input.
    return errors.text(field, raw, max_length=max_length, multiline=multiline)


FAL_NUMBER_MAX_LENGTH: Final = 50
"""Longest FAL licence number (the ``employees.fal_number`` column)."""


def validate_fal_licence(
    errors: Errors, licence: FalLicence, today: date, *, field: str = "falLicence"
) -> FalLicence:
    """A broker's FAL licence with its number cleaned (required, one line, at most 50
    characters) and its expiry in the licence range (:func:`validate_licence_expiry`).

    Failures are recorded in ``errors`` on ``falLicence.number`` and ``falLicence.expiresOn``;
    the licence is returned as far as it could be cleaned.
    """
    number = errors.text(
        f"{field}.number", licence.number, max_length=FAL_NUMBER_MAX_LENGTH, required=True
    )
    errors.check(f"{field}.expiresOn", _licence_expiry_rule(today), licence.expires_on)
    return attrs.evolve(licence, number=number or licence.number)


def _optional(
    errors: Errors, field: str, validator: FieldValidator[str, str], raw: str | None
) -> str | None:
    if raw is None or not raw.strip():
        return None
    return errors.check(field, validator, raw)


def normalize_tags(errors: Errors, raw: Iterable[str], *, field: str = "tags") -> tuple[str, ...]:
    """Tags trimmed and lower-cased, blanks dropped, duplicates removed (first kept, in order).

    Each tag goes through :func:`clean_text`: a tag longer than 50 characters or holding a
    control character is an error on ``tags[i]`` (``i`` its index in ``raw``); more than 50
    distinct tags is an error on ``tags``.
    """
    tags: dict[str, None] = {}
    for index, tag in enumerate(raw):
        path = f"{field}[{index}]"
        try:
            text = clean_text(path, tag, max_length=TAG_MAX_LENGTH).lower()
        except ValidationFailed as failure:
            errors.extend(failure.errors)
            continue
        if not text:
            continue
        tags[text] = None
    if len(tags) > TAGS_MAX_COUNT:
        errors.add(field, f"At most {TAGS_MAX_COUNT} tags are allowed")
    return tuple(tags)


LIST_ITEM_MAX_LENGTH: Final = 255
"""Longest preferred area, city or amenity (the search index holds ``String(255)`` values)."""


def _text_list(errors: Errors, field: str, raw: Iterable[str]) -> tuple[str, ...]:
    # Cleaned, blanks dropped, duplicates removed in order (preferred areas, cities, amenities).
    items = (
        errors.text(f"{field}[{index}]", item, max_length=LIST_ITEM_MAX_LENGTH)
        for index, item in enumerate(raw)
    )
    return tuple(dict.fromkeys(t for t in items if t))


# --------------------------------------------------------------------------------------------
# Numbers and dates
# --------------------------------------------------------------------------------------------


# Plausible ranges of dates and instants. Each bound is a named constant so that the rule, its
# tests and docs/domain.md (§5) say the same thing; a value outside is a 400 naming its field.

EARLIEST_RECORD_DATE: Final = date(2000, 1, 1)
"""No licence expiry, compliance record or interaction is dated before this day (a year like
0318 is a typing or fuzzing accident, not history)."""
LICENCE_MAX_YEARS_AHEAD: Final = 20
"""A licence (FAL, Wafi) expires at most this many years after today."""
CONTRACT_MAX_YEARS_AHEAD: Final = 30
"""An EJAR contract starts or ends at most this many years after today."""
SCHEDULE_WINDOW: Final = timedelta(days=3653)
"""Due dates, reminders, appointments and follow-ups lie within about 10 years of now, either
way (imports may carry overdue dates; nobody plans a call for 2100)."""
INTERACTION_CLOCK_SKEW: Final = timedelta(minutes=5)
"""How far in the future an interaction's ``date`` may be (clients' clocks differ)."""


def years_after(day: date, years: int) -> date:
    """``day`` moved by ``years`` (29 February becomes 28 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def validate_date_range(raw: date, *, field: str, earliest: date, latest: date) -> date:
    """``raw`` when ``earliest <= raw <= latest``; else a :class:`ValidationFailed` on ``field``."""
    if isinstance(raw, datetime) or not isinstance(raw, date):
        raise ValidationFailed.single(field, f"{_label(field)} must be a date")
    if not earliest <= raw <= latest:
        raise ValidationFailed.single(
            field,
            f"{_label(field)} must be between {earliest.isoformat()} and {latest.isoformat()}",
        )
    return raw


def validate_licence_expiry(raw: date, today: date, *, field: str = "expiresOn") -> date:
    """A licence expiry between :data:`EARLIEST_RECORD_DATE` and :data:`LICENCE_MAX_YEARS_AHEAD`
    years after ``today`` (an expired licence is still a record, so the past is allowed)."""
    return validate_date_range(
        raw,
        field=field,
        earliest=EARLIEST_RECORD_DATE,
        latest=years_after(today, LICENCE_MAX_YEARS_AHEAD),
    )


def validate_scheduled_at(raw: datetime, now: datetime, *, field: str) -> datetime:
    """An instant (due date, reminder, appointment, follow-up) within :data:`SCHEDULE_WINDOW`
    of ``now``, either way. ``raw`` must be timezone-aware; the result is UTC."""
    if not isinstance(raw, datetime):
        raise ValidationFailed.single(field, f"{_label(field)} must be a date and time")
    if raw.utcoffset() is None:
        raise ValidationFailed.single(field, f"{_label(field)} must include a time zone")
    at = raw.astimezone(UTC)
    earliest, latest = now - SCHEDULE_WINDOW, now + SCHEDULE_WINDOW
    if not earliest <= at <= latest:
        raise ValidationFailed.single(
            field,
            f"{_label(field)} must be between {earliest.date().isoformat()} and "
            f"{latest.date().isoformat()}",
        )
    return at


def validate_interaction_date(raw: datetime, now: datetime, *, field: str = "date") -> datetime:
    """When a contact happened: aware, not before :data:`EARLIEST_RECORD_DATE` (UTC) and not
    more than :data:`INTERACTION_CLOCK_SKEW` after ``now``. The result is UTC."""
    if not isinstance(raw, datetime):
        raise ValidationFailed.single(field, f"{_label(field)} must be a date and time")
    if raw.utcoffset() is None:
        raise ValidationFailed.single(field, f"{_label(field)} must include a time zone")
    at = raw.astimezone(UTC)
    if at > now + INTERACTION_CLOCK_SKEW:
        raise ValidationFailed.single(field, f"{_label(field)} must not be in the future")
    if at < datetime.combine(EARLIEST_RECORD_DATE, time(), UTC):
        raise ValidationFailed.single(
            field, f"{_label(field)} must not be before {EARLIEST_RECORD_DATE.isoformat()}"
        )
    return at


def validate_money(value: Decimal, field: str, *, positive: bool = False) -> Decimal:
    """An amount of SAR: finite, ``>= 0`` (``> 0`` when ``positive``), at most two decimals
    (halalas) and at most 9,999,999,999,999.99 (the ``DECIMAL(15,2)`` columns).
    """
    label = _label(field)
    if isinstance(value, int) and not isinstance(value, bool):
        value = Decimal(value)  # a whole amount written as an int is still an amount
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValidationFailed.single(field, f"{label} must be a number")
    if positive and value <= 0:
        raise ValidationFailed.single(field, f"{label} must be greater than 0")
    if value < 0:
        raise ValidationFailed.single(field, f"{label} must not be negative")
    if value > MONEY_MAX:
        raise ValidationFailed.single(field, f"{label} must be at most {MONEY_MAX:,}")
    if value != value.quantize(Decimal("0.01")):
        raise ValidationFailed.single(field, f"{label} must have at most 2 decimal places")
    return value


def _positive_money(raw: Decimal, *, field: str) -> Decimal:
    return validate_money(raw, field, positive=True)


def _money(raw: Decimal, *, field: str) -> Decimal:
    return validate_money(raw, field)


def _area(raw: Decimal, *, field: str) -> Decimal:
    if not isinstance(raw, Decimal) or not raw.is_finite():
        raise ValidationFailed.single(field, f"{_label(field)} must be a number")
    if raw <= 0:
        raise ValidationFailed.single(field, f"{_label(field)} must be greater than 0")
    return raw


def _rooms(raw: int, *, field: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValidationFailed.single(field, f"{_label(field)} must be a whole number")
    if not 0 <= raw <= ROOMS_MAX:
        raise ValidationFailed.single(field, f"{_label(field)} must be between 0 and {ROOMS_MAX}")
    return raw


def _coordinate(raw: Decimal, field: str, limit: int) -> Decimal:
    if not isinstance(raw, Decimal) or not raw.is_finite():
        raise ValidationFailed.single(field, f"{field.capitalize()} must be a number")
    if not -limit <= raw <= limit:
        raise ValidationFailed.single(
            field, f"{field.capitalize()} must be between -{limit} and {limit}"
        )
    return raw


def _latitude(raw: Decimal, *, field: str) -> Decimal:
    return _coordinate(raw, field, 90)


def _longitude(raw: Decimal, *, field: str) -> Decimal:
    return _coordinate(raw, field, 180)


def validate_date_of_birth(raw: date, today: date, *, field: str = "dateOfBirth") -> date:
    """A birth date not after ``today`` and not before 1 January, 120 years before ``today``."""
    if raw > today:
        raise ValidationFailed.single(field, "Date of birth must not be in the future")
    if raw < date(today.year - OLDEST_AGE_YEARS, 1, 1):
        raise ValidationFailed.single(
            field, f"Date of birth must be within the last {OLDEST_AGE_YEARS} years"
        )
    return raw


def _date_of_birth_rule(today: date) -> FieldValidator[date, date]:
    def validate(raw: date, *, field: str) -> date:
        return validate_date_of_birth(raw, today, field=field)

    return validate


_E = TypeVar("_E", bound=enum.Enum)


def _enum_member(errors: Errors, field: str, cls: type[_E], raw: object) -> _E | None:
    # The edge parses enums already; a raw wire value still gets a clear message, never a crash.
    if isinstance(raw, cls):
        return raw
    try:
        return cls(raw)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in cls)
        errors.add(field, f"Must be one of: {allowed}")
        return None


# --------------------------------------------------------------------------------------------
# Inputs: the draft (create) and the patch (update)
# --------------------------------------------------------------------------------------------


@frozen(kw_only=True)
class CustomerDraft:
    """The input of create customer, types parsed by the edge, business checks still to run."""

    name: str
    phone: str
    name_en: str | None = None
    whatsapp: str | None = None
    email: str | None = None
    national_id: str | None = None
    nationality: str | None = None
    gender: Gender | None = None
    date_of_birth: date | None = None
    source: CustomerSource = CustomerSource.MANUAL
    source_details: dict[str, str] = field(factory=dict)
    preferences: Preferences = field(factory=Preferences)
    priority: Priority = Priority.MEDIUM
    customer_type: CustomerType | None = None
    tags: tuple[str, ...] = ()
    assigned_employee_id: str | None = None
    city: str | None = None
    district: str | None = None
    region: str | None = None
    address: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    notes: str | None = None
    total_deal_value: Decimal | None = None
    expected_revenue: Decimal | None = None
    paid_amount: Decimal | None = None
    ksa_compliance: KsaCompliance | None = None


@frozen(kw_only=True)
class PreferencesPatch:
    """A partial update of :class:`Preferences`: sent keys replace, :data:`UNSET` keys keep.

    ``None`` clears a value (an empty tuple for the list fields).
    """

    property_type: tuple[PropertyType, ...] | Unset | None = UNSET
    budget_min: Decimal | Unset | None = UNSET
    budget_max: Decimal | Unset | None = UNSET
    preferred_areas: tuple[str, ...] | Unset | None = UNSET
    preferred_cities: tuple[str, ...] | Unset | None = UNSET
    bedrooms: int | Unset | None = UNSET
    bathrooms: int | Unset | None = UNSET
    min_area: Decimal | Unset | None = UNSET
    max_area: Decimal | Unset | None = UNSET
    purpose: Purpose | Unset | None = UNSET
    timeline: Timeline | Unset | None = UNSET
    amenities: tuple[str, ...] | Unset | None = UNSET
    furnishing: Furnishing | Unset | None = UNSET

    def given(self) -> dict[str, Any]:
        """The sent keys (attribute names) and their values."""
        return _given(self)


@frozen(kw_only=True)
class CustomerPatch:
    """A partial update of a customer: :data:`UNSET` = not sent, ``None`` = clear.

    ``name``, ``phone``, ``source`` and ``priority`` cannot be cleared (``None`` is an error);
    ``tags: None`` and ``source_details: None`` clear to empty; ``preferences`` is merged key by
    key (:class:`PreferencesPatch`), ``preferences: None`` resets every preference;
    ``ksa_compliance`` is replaced as a whole.
    """

    name: str | Unset | None = UNSET
    phone: str | Unset | None = UNSET
    name_en: str | Unset | None = UNSET
    whatsapp: str | Unset | None = UNSET
    email: str | Unset | None = UNSET
    national_id: str | Unset | None = UNSET
    nationality: str | Unset | None = UNSET
    gender: Gender | Unset | None = UNSET
    date_of_birth: date | Unset | None = UNSET
    source: CustomerSource | Unset | None = UNSET
    source_details: dict[str, str] | Unset | None = UNSET
    preferences: PreferencesPatch | Unset | None = UNSET
    priority: Priority | Unset | None = UNSET
    customer_type: CustomerType | Unset | None = UNSET
    tags: tuple[str, ...] | Unset | None = UNSET
    assigned_employee_id: str | Unset | None = UNSET
    city: str | Unset | None = UNSET
    district: str | Unset | None = UNSET
    region: str | Unset | None = UNSET
    address: str | Unset | None = UNSET
    latitude: Decimal | Unset | None = UNSET
    longitude: Decimal | Unset | None = UNSET
    notes: str | Unset | None = UNSET
    total_deal_value: Decimal | Unset | None = UNSET
    expected_revenue: Decimal | Unset | None = UNSET
    paid_amount: Decimal | Unset | None = UNSET
    ksa_compliance: KsaCompliance | Unset | None = UNSET

    def given(self) -> dict[str, Any]:
        """The sent fields (attribute names) and their values."""
        return _given(self)

    @property
    def is_empty(self) -> bool:
        """True when no field was sent."""
        return not self.given()


def _given(instance: PreferencesPatch | CustomerPatch) -> dict[str, Any]:
    return {
        a.name: getattr(instance, a.name)
        for a in attrs.fields(type(instance))
        if getattr(instance, a.name) is not UNSET
    }


# One rule per field, shared by the draft and the patch: (errors, value) -> normalized value.
# A rule receives a non-None value; None (absent on a draft, "clear" on a patch) never reaches it.
_Rule: TypeAlias = Callable[[Errors, Any], Any]


def _validator_rule(field_path: str, validator: FieldValidator[Any, Any]) -> _Rule:
    def rule(errors: Errors, value: Any) -> Any:
        result = errors.check(field_path, validator, value)
        return value if result is None else result

    return rule


def _text_rule(field_path: str, max_length: int, *, multiline: bool = False) -> _Rule:
    return lambda errors, value: _optional_text(
        errors, field_path, value, max_length=max_length, multiline=multiline
    )


def _list_rule(field_path: str) -> _Rule:
    return lambda errors, value: _text_list(errors, field_path, value)


SOURCE_DETAIL_KEY_MAX_LENGTH: Final = 100
"""Longest key of ``sourceDetails`` (a campaign name, a referrer…)."""


def _source_details_rule(errors: Errors, value: Any) -> Any:
    details: dict[str, str] = {}
    for key, item in dict(value).items():
        path = f"sourceDetails.{key}"
        name = errors.text(path, key, max_length=SOURCE_DETAIL_KEY_MAX_LENGTH, required=True)
        text = errors.text(path, item, max_length=SHORT_TEXT_MAX_LENGTH)
        if name is not None and text is not None:
            details[name] = text
    return details


def _optional_validator_rule(field_path: str, validator: FieldValidator[str, str]) -> _Rule:
    def rule(errors: Errors, value: Any) -> Any:
        if not value.strip():
            return None  # blank = not given / cleared
        result = errors.check(field_path, validator, value)
        return value if result is None else result

    return rule


def _enum_rule(field_path: str, cls: type[enum.Enum]) -> _Rule:
    return lambda errors, value: _enum_member(errors, field_path, cls, value) or value


def _property_types_rule(errors: Errors, value: Any) -> Any:
    members = (_enum_member(errors, "preferences.propertyType", PropertyType, v) for v in value)
    return tuple(dict.fromkeys(m for m in members if m is not None))


_PREFERENCE_RULES: Final[Mapping[str, _Rule]] = {
    "property_type": _property_types_rule,
    "budget_min": _validator_rule("preferences.budgetMin", _positive_money),
    "budget_max": _validator_rule("preferences.budgetMax", _positive_money),
    "preferred_areas": _list_rule("preferences.preferredAreas"),
    "preferred_cities": _list_rule("preferences.preferredCities"),
    "bedrooms": _validator_rule("preferences.bedrooms", _rooms),
    "bathrooms": _validator_rule("preferences.bathrooms", _rooms),
    "min_area": _validator_rule("preferences.minArea", _area),
    "max_area": _validator_rule("preferences.maxArea", _area),
    "purpose": _enum_rule("preferences.purpose", Purpose),
    "timeline": _enum_rule("preferences.timeline", Timeline),
    "amenities": _list_rule("preferences.amenities"),
    "furnishing": _enum_rule("preferences.furnishing", Furnishing),
}


COMPLIANCE_NUMBER_MAX_LENGTH: Final = 100
"""Longest EJAR contract, Wafi licence or Sakani beneficiary number."""
BANK_MAX_LENGTH: Final = 100
"""Longest bank name of a financing record."""


def _validate_ksa_compliance(errors: Errors, value: Any, today: date) -> Any:
    """The compliance records with every text cleaned and every date in its plausible range."""
    compliance: KsaCompliance = value
    ejar, wafi, sakani, financing = (
        compliance.ejar,
        compliance.wafi,
        compliance.sakani,
        compliance.financing,
    )
    contract_latest = years_after(today, CONTRACT_MAX_YEARS_AHEAD)
    if ejar is not None:
        prefix = "ksaCompliance.ejar"
        errors.check(f"{prefix}.annualRent", _positive_money, ejar.annual_rent)
        number = errors.text(
            f"{prefix}.contractNumber",
            ejar.contract_number,
            max_length=COMPLIANCE_NUMBER_MAX_LENGTH,
            required=True,
        )
        landlord = errors.text(
            f"{prefix}.landlordName", ejar.landlord_name, max_length=NAME_MAX_LENGTH
        )
        tenant = errors.text(f"{prefix}.tenantName", ejar.tenant_name, max_length=NAME_MAX_LENGTH)
        for name, day in (("startDate", ejar.start_date), ("endDate", ejar.end_date)):
            errors.check(
                f"{prefix}.{name}",
                _date_range_rule(EARLIEST_RECORD_DATE, contract_latest),
                day,
            )
        if not errors.has(f"{prefix}.startDate") and ejar.end_date <= ejar.start_date:
            errors.add(f"{prefix}.endDate", "EJAR contract must end after it starts")
        ejar = attrs.evolve(
            ejar,
            contract_number=number or ejar.contract_number,
            landlord_name=landlord or "",
            tenant_name=tenant or "",
        )
    if wafi is not None:
        prefix = "ksaCompliance.wafi"
        licence = errors.text(
            f"{prefix}.licenceNumber",
            wafi.licence_number,
            max_length=COMPLIANCE_NUMBER_MAX_LENGTH,
            required=True,
        )
        project = errors.text(
            f"{prefix}.projectName", wafi.project_name, max_length=NAME_MAX_LENGTH
        )
        if wafi.expires_on is not None:
            errors.check(f"{prefix}.expiresOn", _licence_expiry_rule(today), wafi.expires_on)
        wafi = attrs.evolve(
            wafi, licence_number=licence or wafi.licence_number, project_name=project or ""
        )
    if sakani is not None:
        prefix = "ksaCompliance.sakani"
        beneficiary = errors.text(
            f"{prefix}.beneficiaryNumber",
            sakani.beneficiary_number,
            max_length=COMPLIANCE_NUMBER_MAX_LENGTH,
        )
        if sakani.checked_on is not None:
            # A check is a past event.
            errors.check(
                f"{prefix}.checkedOn",
                _date_range_rule(EARLIEST_RECORD_DATE, today),
                sakani.checked_on,
            )
        sakani = attrs.evolve(sakani, beneficiary_number=beneficiary)
    if financing is not None:
        if financing.pre_approval_amount is not None:
            errors.check(
                "ksaCompliance.financing.preApprovalAmount", _money, financing.pre_approval_amount
            )
        bank = errors.text(
            "ksaCompliance.financing.bank", financing.bank, max_length=BANK_MAX_LENGTH
        )
        financing = attrs.evolve(financing, bank=bank)
    return attrs.evolve(compliance, ejar=ejar, wafi=wafi, sakani=sakani, financing=financing)


def _date_range_rule(earliest: date, latest: date) -> FieldValidator[date, date]:
    def validate(raw: date, *, field: str) -> date:
        return validate_date_range(raw, field=field, earliest=earliest, latest=latest)

    return validate


def _licence_expiry_rule(today: date) -> FieldValidator[date, date]:
    def validate(raw: date, *, field: str) -> date:
        return validate_licence_expiry(raw, today, field=field)

    return validate


# Field rules of the customer; preferences and date of birth (needs today) are handled apart.
_CUSTOMER_RULES: Final[Mapping[str, _Rule]] = {
    "name": _validator_rule("name", validate_name),
    "phone": _validator_rule("phone", normalize_phone),
    "name_en": _optional_validator_rule("nameEn", validate_name),
    "whatsapp": _optional_validator_rule("whatsapp", normalize_phone),
    "email": _optional_validator_rule("email", validate_email),
    "national_id": _optional_validator_rule("nationalId", validate_national_id),
    "nationality": _text_rule("nationality", NATIONALITY_MAX_LENGTH),
    "gender": _enum_rule("gender", Gender),
    "source": _enum_rule("source", CustomerSource),
    "source_details": _source_details_rule,
    "priority": _enum_rule("priority", Priority),
    "customer_type": _enum_rule("customerType", CustomerType),
    "tags": lambda errors, value: normalize_tags(errors, value),
    "assigned_employee_id": _text_rule("assignedEmployeeId", ID_MAX_LENGTH),
    "city": _text_rule("city", CITY_MAX_LENGTH),
    "district": _text_rule("district", DISTRICT_MAX_LENGTH),
    "region": _text_rule("region", DISTRICT_MAX_LENGTH),
    "address": _text_rule("address", SHORT_TEXT_MAX_LENGTH),
    "latitude": _validator_rule("latitude", _latitude),
    "longitude": _validator_rule("longitude", _longitude),
    "notes": _text_rule("notes", FREE_TEXT_MAX_LENGTH, multiline=True),
    "total_deal_value": _validator_rule("totalDealValue", _money),
    "expected_revenue": _validator_rule("expectedRevenue", _money),
    "paid_amount": _validator_rule("paidAmount", _money),
}

# Rules that need the organization's local date: (errors, value, today) -> normalized value.
_DatedRule: TypeAlias = Callable[[Errors, Any, date], Any]
_DATED_RULES: Final[Mapping[str, _DatedRule]] = {
    "date_of_birth": lambda errors, value, today: (
        errors.check("dateOfBirth", _date_of_birth_rule(today), value) or value
    ),
    "ksa_compliance": _validate_ksa_compliance,
}

# Fields a customer always has: required on a draft, never cleared by a patch.
_REQUIRED: Final = frozenset({"name", "phone", "source", "priority"})
_CLEARED_TO: Final[Mapping[str, Callable[[], Any]]] = {
    "tags": tuple,
    "source_details": dict,
    "property_type": tuple,
    "preferred_areas": tuple,
    "preferred_cities": tuple,
    "amenities": tuple,
}


def _normalize_preferences(errors: Errors, preferences: Preferences) -> Preferences:
    changes = {
        name: rule(errors, getattr(preferences, name))
        for name, rule in _PREFERENCE_RULES.items()
        if getattr(preferences, name) is not None
    }
    return attrs.evolve(preferences, **changes)


def merge_preferences(current: Preferences, patch: PreferencesPatch | None) -> Preferences:
    """``current`` with the sent keys of ``patch`` replacing its values (``None`` = reset all)."""
    if patch is None:
        return Preferences()
    changes = {
        name: _CLEARED_TO[name]() if value is None and name in _CLEARED_TO else value
        for name, value in patch.given().items()
    }
    return attrs.evolve(current, **changes)


@frozen
class _Merged:
    """The values the cross-field rules read, and which of them the input sent."""

    budget_min: Decimal | None
    budget_max: Decimal | None
    min_area: Decimal | None
    max_area: Decimal | None
    total_deal_value: Decimal | None
    paid_amount: Decimal | None
    latitude: Decimal | None
    longitude: Decimal | None
    national_id: str | None
    ksa_compliance: KsaCompliance | None
    sent: frozenset[str]


def _ordered_pair(
    errors: Errors,
    merged: _Merged,
    low: tuple[str, Decimal | None],
    high: tuple[str, Decimal | None],
    messages: Mapping[str, str],
) -> None:
    """Check ``low <= high``; blame the first field of ``messages`` that the input sent."""
    (low_field, low_value), (high_field, high_value) = low, high
    if low_value is None or high_value is None or high_value >= low_value:
        return
    if errors.has(low_field) or errors.has(high_field):
        return  # a field already wrong on its own: one message per field is enough
    blamed = next((f for f in messages if f in merged.sent), None)
    if blamed is not None:
        errors.add(blamed, messages[blamed])


def _cross_field_checks(errors: Errors, merged: _Merged) -> None:
    # Each rule runs only if one of its fields was sent: an update of the notes must not fail on
    # an inconsistency stored before these rules existed. When both fields were sent the error
    # goes to the one a person corrects: the budget maximum, the maximum area, the paid amount.
    _ordered_pair(
        errors,
        merged,
        ("preferences.budgetMin", merged.budget_min),
        ("preferences.budgetMax", merged.budget_max),
        {
            "preferences.budgetMax": "Budget maximum must be greater than or equal to budget "
            "minimum",
            "preferences.budgetMin": "Budget minimum must not exceed budget maximum",
        },
    )
    _ordered_pair(
        errors,
        merged,
        ("preferences.minArea", merged.min_area),
        ("preferences.maxArea", merged.max_area),
        {
            "preferences.maxArea": "Maximum area must be greater than or equal to minimum area",
            "preferences.minArea": "Minimum area must not exceed maximum area",
        },
    )
    # The paid amount is part of the deal: it can reach the deal value, never exceed it.
    _ordered_pair(
        errors,
        merged,
        ("paidAmount", merged.paid_amount),
        ("totalDealValue", merged.total_deal_value),
        {
            "paidAmount": "Paid amount must not exceed total deal value",
            "totalDealValue": "Total deal value must not be less than the paid amount",
        },
    )
    # A location is a point: one coordinate without the other is no location.
    if merged.sent & {"latitude", "longitude"} and not (
        errors.has("latitude") or errors.has("longitude")
    ):
        if merged.latitude is None and merged.longitude is not None:
            errors.add("latitude", "Latitude and longitude must be given together")
        elif merged.longitude is None and merged.latitude is not None:
            errors.add("longitude", "Latitude and longitude must be given together")
    # An Iqama (starts with 2) belongs to a resident: financing cannot claim citizenship for it,
    # since citizenship lowers the SAMA minimum down payment.
    financing = merged.ksa_compliance.financing if merged.ksa_compliance else None
    if (
        merged.sent & {"nationalId", "ksaCompliance"}
        and merged.national_id is not None
        and not errors.has("nationalId")
        and financing is not None
        and financing.is_citizen
        and merged.national_id.startswith("2")
    ):
        errors.add(
            "ksaCompliance.financing.isCitizen",
            "A resident's ID (starting with 2) cannot belong to a citizen",
        )


_PREFERENCE_PATHS: Final = {name: f"preferences.{camel_case(name)}" for name in _PREFERENCE_RULES}


def validate_customer_draft(draft: CustomerDraft, today: date) -> CustomerDraft:
    """The normalized draft, or one :class:`ValidationFailed` naming every failing field.

    ``today`` is the organization's local date (the date of birth must not be after it, the
    compliance dates are ranged around it). Every text goes through :func:`clean_text`.
    """
    errors = Errors()
    changes: dict[str, Any] = {}
    for name, rule in _CUSTOMER_RULES.items():
        value = getattr(draft, name)
        if value is not None:
            changes[name] = rule(errors, value)
        elif name in _REQUIRED:
            path = camel_case(name)
            errors.add(path, f"{_label(path)} is required")
    for name, dated_rule in _DATED_RULES.items():
        value = getattr(draft, name)
        if value is not None:
            changes[name] = dated_rule(errors, value, today)
    preferences = _normalize_preferences(errors, draft.preferences)
    changes["preferences"] = preferences
    result = attrs.evolve(draft, **changes)
    _cross_field_checks(
        errors,
        _Merged(
            budget_min=preferences.budget_min,
            budget_max=preferences.budget_max,
            min_area=preferences.min_area,
            max_area=preferences.max_area,
            total_deal_value=result.total_deal_value,
            paid_amount=result.paid_amount,
            latitude=result.latitude,
            longitude=result.longitude,
            national_id=result.national_id,
            ksa_compliance=result.ksa_compliance,
            sent=frozenset(
                [camel_case(name) for name in (*_CUSTOMER_RULES, *_DATED_RULES)]
                + list(_PREFERENCE_PATHS.values())
            ),
        ),
    )
    errors.raise_if_any()
    return result


def _validate_preferences_patch(errors: Errors, patch: PreferencesPatch) -> PreferencesPatch:
    changes: dict[str, Any] = {}
    for name, value in patch.given().items():
        changes[name] = None if value is None else _PREFERENCE_RULES[name](errors, value)
    return attrs.evolve(patch, **changes)


def validate_customer_patch(patch: CustomerPatch, current: Customer, today: date) -> CustomerPatch:
    """The normalized patch, or one :class:`ValidationFailed` naming every failing field.

    Only sent fields are checked, with the same rules as :func:`validate_customer_draft`. The
    cross-field rules (budget, area, paid amount, coordinates, citizenship) read the merged
    result: a sent ``budgetMin`` is checked against the current ``budgetMax``.
    """
    errors = Errors()
    changes: dict[str, Any] = {}
    sent: set[str] = set()
    for name, value in patch.given().items():
        path = camel_case(name)
        sent.add(path)
        if value is None:
            if name in _REQUIRED:
                errors.add(path, f"{_label(path)} cannot be cleared")
            continue
        if name == "preferences":
            changes[name] = _validate_preferences_patch(errors, value)
            sent.update(_PREFERENCE_PATHS[key] for key in value.given())
        elif name in _DATED_RULES:
            changes[name] = _DATED_RULES[name](errors, value, today)
        else:
            changes[name] = _CUSTOMER_RULES[name](errors, value)
    result = attrs.evolve(patch, **changes)

    merged = apply_customer_patch(current, result)
    _cross_field_checks(
        errors,
        _Merged(
            budget_min=merged.preferences.budget_min,
            budget_max=merged.preferences.budget_max,
            min_area=merged.preferences.min_area,
            max_area=merged.preferences.max_area,
            total_deal_value=merged.total_deal_value,
            paid_amount=merged.paid_amount,
            latitude=merged.latitude,
            longitude=merged.longitude,
            national_id=merged.national_id,
            ksa_compliance=merged.ksa_compliance,
            sent=frozenset(sent),
        ),
    )
    errors.raise_if_any()
    return result


def apply_customer_patch(current: Customer, patch: CustomerPatch) -> Customer:
    """``current`` with the sent fields of a (validated) ``patch`` applied.

    Preferences are merged with :func:`merge_preferences`; ``tags`` and ``source_details`` sent
    as ``None`` become empty. ``updated_at``, ``version``, the lead score and events are the use
    case's business, not this function's.
    """
    changes: dict[str, Any] = {}
    for name, value in patch.given().items():
        if name == "preferences":
            changes[name] = merge_preferences(current.preferences, value)
        elif value is None and name in _CLEARED_TO:
            changes[name] = _CLEARED_TO[name]()
        elif value is None and name in _REQUIRED:
            continue  # refused by validation; keep the current value
        else:
            changes[name] = value
    return attrs.evolve(current, **changes)

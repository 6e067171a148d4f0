"""Limits, labels, text cleaning and the collector of field errors."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Final, Protocol, TypeVar

import phonenumbers

from customers_hub.domain.errors import FieldError, ValidationFailed

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


def refused_character(ch: str, *, multiline: bool) -> str | None:
    """Why ``ch`` may not appear in a text, or ``None`` when it may."""
    if ch in "\t\n\r\u2028\u2029":
        return None if multiline else "must be a single line (no line breaks or tabs)"
    category = unicodedata.category(ch)
    if category == "Cc":
        return f"must not contain control characters (U+{ord(ch):04X})"
    if category == "Cs" or ch in _DISGUISING:
        return f"must not contain invisible or invalid characters (U+{ord(ch):04X})"
    code = ord(ch)
    # The Basic Multilingual Plane's noncharacters (U+FDD0–U+FDEF, U+FFFE, U+FFFF): what the
    # OpenAPI text patterns state. The supplementary planes' (U+1FFFE … U+10FFFF) are valid in
    # interchange (Unicode Corrigendum #9) and no JSON Schema pattern can name them portably.
    if 0xFDD0 <= code <= 0xFDEF or code in (0xFFFE, 0xFFFF):
        return f"must not contain invalid characters (U+{code:04X})"
    return None


def clean_texts(
    field: str,
    values: Iterable[object],
    *,
    max_length: int,
    errors: list[FieldError],
    blank: str = "must not be blank",
) -> list[str]:
    """Each of ``values`` through :func:`clean_text` (paths ``field[i]``); what fails is recorded
    in ``errors`` and left out, a blank or non-text value with the message ``blank``."""
    cleaned: list[str] = []
    for i, value in enumerate(values):
        path = f"{field}[{i}]"
        if not isinstance(value, str):
            errors.append(FieldError(path, blank))
            continue
        try:
            text = clean_text(path, value, max_length=max_length)
        except ValidationFailed as failed:
            errors.extend(failed.errors)
            continue
        if not text:
            errors.append(FieldError(path, blank))
            continue
        cleaned.append(text)
    return cleaned


def stripped_or_none(text: str | None) -> str | None:
    """``text`` stripped; None for None or whitespace-only text, which carries nothing (what is
    stored for it)."""
    if text is None:
        return None
    return text.strip() or None


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
        problem = refused_character(ch, multiline=multiline)
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

    def raise_if_any(self, kind: type[ValidationFailed] = ValidationFailed) -> None:
        """Raise one ``kind`` (:class:`ValidationFailed`, 400; :class:`UnprocessableInput`, 422)
        holding every recorded error, if there is any."""
        if self._errors:
            raise kind(self._errors)

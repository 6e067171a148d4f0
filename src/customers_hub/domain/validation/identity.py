"""Phones, national ids, e-mail, names, licences and tags."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from typing import Final, Literal, TypeAlias

import attrs
import phonenumbers

from customers_hub.domain.errors import ValidationFailed
from customers_hub.domain.model import FalLicence
from customers_hub.domain.search_text import to_ascii_digits
from customers_hub.domain.validation.texts import (
    _ACCEPTED_GCC_TYPES,
    _DIGITS,
    _EMAIL_FORBIDDEN,
    _GCC_COUNTRY_CODES,
    _OTHER_GCC,
    _PHONE_SEPARATORS,
    _SA_MOBILE_NATIONAL,
    EMAIL_MAX_LENGTH,
    NAME_MAX_LENGTH,
    TAG_MAX_LENGTH,
    TAGS_MAX_COUNT,
    Errors,
    FieldValidator,
    _label,
    clean_text,
)
from customers_hub.domain.validation.values import _licence_expiry_rule

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

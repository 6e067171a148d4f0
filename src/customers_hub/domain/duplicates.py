"""Duplicate customers (rules §10): when two live customers of one organization are the same
person, why, and how sure we are.

Two customers are **candidates** when they share

* phone digits — the phone or the WhatsApp number of one equals the phone or the WhatsApp
  number of the other, after §5 normalization (both are stored as E.164, so equal digits are
  equal numbers: ``0551234567``, ``+966 55 123 4567`` and ``00966551234567`` are one number);
* the national id;
* the e-mail, compared case-insensitively;
* the name and the city: the §6-normalized Arabic name (or the normalized English name, when
  both have one) is equal and the normalized city is equal (both must have a city).

Each shared key is a :class:`DuplicateReason`; the pair's score is the score of its strongest
reason (:data:`REASON_SCORES`: national id 100, phone 90, email 70, name + city 50 — the
highest reason wins, reasons do not add up). Customers of different organizations, a customer
and itself, and soft-deleted customers are never candidates.

The keys are what the SQL adapter stores next to the customer (``name_key``, ``name_en_key``,
``city_key``, ``email_key``) so candidates are found by indexed equality; the adapter then
confirms each candidate with :func:`duplicate_reasons`, so the rule lives here only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from attrs import frozen

from customers_hub.domain.model import Customer
from customers_hub.domain.search_text import normalize_search_text

__all__ = [
    "REASON_ORDER",
    "REASON_SCORES",
    "DuplicateKeys",
    "DuplicateMatch",
    "DuplicateReason",
    "duplicate_keys",
    "duplicate_reasons",
    "email_key",
    "match",
    "name_key",
    "score_of",
]


class DuplicateReason(StrEnum):
    """Why two customers look like one person (the wire value is camelCase)."""

    NATIONAL_ID = "nationalId"
    PHONE = "phone"
    EMAIL = "email"
    NAME_AND_CITY = "nameAndCity"


REASON_SCORES: Final[Mapping[DuplicateReason, int]] = MappingProxyType(
    {
        DuplicateReason.NATIONAL_ID: 100,
        DuplicateReason.PHONE: 90,
        DuplicateReason.EMAIL: 70,
        DuplicateReason.NAME_AND_CITY: 50,
    }
)
"""The score of each reason (rules §10); a pair scores its strongest reason."""

REASON_ORDER: Final[tuple[DuplicateReason, ...]] = tuple(
    sorted(REASON_SCORES, key=lambda r: -REASON_SCORES[r])
)
"""Reasons from the strongest to the weakest: the order a pair lists them in."""


def name_key(text: str | None) -> str | None:
    """The compared form of a name or a city: §6 normalization; None when nothing is left."""
    if text is None:
        return None
    return normalize_search_text(text) or None


def email_key(email: str | None) -> str | None:
    """The compared form of an e-mail: trimmed and case-folded; None when empty."""
    if email is None:
        return None
    return email.strip().casefold() or None


@frozen
class DuplicateKeys:
    """The values of one customer that duplicate detection compares."""

    phones: frozenset[str]
    national_id: str | None
    email: str | None
    name: str | None
    name_en: str | None
    city: str | None


def duplicate_keys(customer: Customer) -> DuplicateKeys:
    """The compared values of ``customer`` (phones as stored: E.164)."""
    phones = frozenset(p for p in (customer.phone, customer.whatsapp) if p)
    national_id = (customer.national_id or "").strip() or None
    return DuplicateKeys(
        phones=phones,
        national_id=national_id,
        email=email_key(customer.email),
        name=name_key(customer.name),
        name_en=name_key(customer.name_en),
        city=name_key(customer.city),
    )


def _same(left: str | None, right: str | None) -> bool:
    return left is not None and left == right


def duplicate_reasons(first: Customer, second: Customer) -> tuple[DuplicateReason, ...]:
    """Why ``first`` and ``second`` are candidates, strongest first; empty when they are not
    (different organizations, the same customer, or a soft-deleted one)."""
    if (
        first.organization_id != second.organization_id
        or first.id == second.id
        or first.is_deleted
        or second.is_deleted
    ):
        return ()
    a, b = duplicate_keys(first), duplicate_keys(second)
    found: set[DuplicateReason] = set()
    if _same(a.national_id, b.national_id):
        found.add(DuplicateReason.NATIONAL_ID)
    if a.phones & b.phones:
        found.add(DuplicateReason.PHONE)
    if _same(a.email, b.email):
        found.add(DuplicateReason.EMAIL)
    if _same(a.city, b.city) and (_same(a.name, b.name) or _same(a.name_en, b.name_en)):
        found.add(DuplicateReason.NAME_AND_CITY)
    return tuple(r for r in REASON_ORDER if r in found)


def score_of(reasons: Iterable[DuplicateReason]) -> int:
    """The score of a pair with ``reasons``: its strongest reason's; 0 without any."""
    return max((REASON_SCORES[r] for r in reasons), default=0)


@frozen
class DuplicateMatch:
    """``duplicate`` looks like ``customer``: the reasons (strongest first) and the score."""

    customer: Customer
    duplicate: Customer
    reasons: tuple[DuplicateReason, ...]
    score: int


def match(customer: Customer, other: Customer) -> DuplicateMatch | None:
    """The match of ``other`` against ``customer``, or None when they are not candidates."""
    reasons = duplicate_reasons(customer, other)
    if not reasons:
        return None
    return DuplicateMatch(customer, other, reasons, score_of(reasons))

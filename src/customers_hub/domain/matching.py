"""Property matching: a customer's preferences against an organization's catalog.

A property is a *candidate* only if all of these hold (otherwise it is excluded):

- it belongs to the customer's organization and its status is ``available``;
- the customer has not rejected it (a property interest with status ``rejected``);
- its type is one of the preferred types, when the customer gave any;
- its price is within the budget with a 10 % tolerance: at most ``budget_max × 1.10`` and at
  least ``budget_min × 0.90`` (a missing bound is open);
- its city is one of the preferred cities, when the customer gave any; when the customer gave
  only preferred areas, its district or its city must appear in one of them;
- it has at least the wanted bedrooms and at least the minimum area, when both sides are known
  (a property that does not state its bedrooms or area is not excluded, it just earns less).

Each candidate gets a score out of 100, with one English reason per part:

=========  ===  ==================================================================================
part       max  points
=========  ===  ==================================================================================
type       25   preferred type 25; no type preference 15
price      30   within [budget_min, budget_max] 30; up to 10 % under the minimum 20; up to 10 %
                over the maximum 15; no budget 15
location   25   district in the preferred areas 25; city preferred (or named in an area) 15; no
                location preference 10
bedrooms   10   at least the wanted number 10; no preference, or the property does not say, 5
area       10   at least the minimum area 10; no preference, or the property does not say, 5
=========  ===  ==================================================================================

Places are compared through the search normalization of rules §6
(:func:`~customers_hub.domain.search_text.normalize_search_text`: diacritics and tatweel removed,
``أ إ آ`` → ``ا``, ``ة`` → ``ه``, ``ى`` → ``ي``, Arabic-Indic digits → ASCII, Latin case-folded),
then punctuation → spaces. One place matches another when either appears in the other as whole
words, so ``حي النرجس`` (or ``النرجس``) matches the preferred area ``الرياض - حي النرجس``.

Results are sorted by score (highest first), then price (lowest first), then property id, and cut
to ``limit``: the same input always gives the same output.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Final, TypeVar

from attrs import frozen

from customers_hub.domain.enums import PropertyInterestStatus, PropertyStatus
from customers_hub.domain.model import Customer, Preferences, Property
from customers_hub.domain.search_text import normalize_search_text

BUDGET_TOLERANCE = Decimal("0.10")
"""How far outside the budget a price may be and still match (scoring lower)."""


@frozen
class PropertyMatch:
    """A catalog property matching a customer's preferences, with its score (0-100) and why."""

    property_id: str
    score: int
    reasons: tuple[str, ...]


# --- place normalization -------------------------------------------------------------------------

_NON_WORD = re.compile(r"[^\w]+")


def _place_key(text: str) -> str:
    """A place name reduced for comparison: normalized (rules §6), punctuation made spaces."""
    return " ".join(_NON_WORD.sub(" ", normalize_search_text(text)).split())


def _names_place(haystack: str, needle: str) -> bool:
    """True when the place key ``needle`` appears as whole words inside ``haystack``."""
    return bool(needle) and f" {needle} " in f" {haystack} "


def _same_place(a: str, b: str) -> bool:
    """True when one place key appears in the other (``الرياض`` and ``مدينة الرياض``)."""
    return _names_place(a, b) or _names_place(b, a)


# --- the parts of a match ------------------------------------------------------------------------

Part = tuple[int, str] | None

_Amount = TypeVar("_Amount", int, Decimal)
"""Points and reason of one part, or ``None`` when the property is excluded by it."""


def _type_part(prefs: Preferences, prop: Property) -> Part:
    if not prefs.property_type:
        return 15, "No property type preference"
    if prop.type in prefs.property_type:
        return 25, f"Type {prop.type.value} is preferred"
    return None


def _price_part(prefs: Preferences, prop: Property) -> Part:
    low, high = prefs.budget_min, prefs.budget_max
    if low is None and high is None:
        return 15, "No budget given"
    price = prop.price
    if high is not None and price > high:
        if price > high * (1 + BUDGET_TOLERANCE):
            return None
        over = (price - high) * 100 / high
        return 15, f"Price {over:.0f}% over the budget maximum"
    if low is not None and price < low:
        if price < low * (1 - BUDGET_TOLERANCE):
            return None
        return 20, "Price slightly under the budget minimum"
    return 30, f"Price {price:,.0f} SAR within budget"


def _location_part(prefs: Preferences, prop: Property) -> Part:
    cities = [_place_key(c) for c in prefs.preferred_cities]
    areas = [_place_key(a) for a in prefs.preferred_areas]
    if not cities and not areas:
        return 10, "No location preference"
    city = _place_key(prop.city)
    district = _place_key(prop.district) if prop.district else ""
    in_area = any(_same_place(a, district) for a in areas)
    city_ok = any(_same_place(c, city) for c in cities) if cities else None
    if city_ok is False:
        return None
    if in_area:
        return 25, f"District {prop.district} is a preferred area"
    if city_ok:
        return 15, f"City {prop.city} is preferred"
    # Only areas were given: the city must at least be named in one of them.
    if any(_names_place(a, city) for a in areas):
        return 15, f"City {prop.city} is named in the preferred areas"
    return None


def _at_least(
    wanted: _Amount | None, stated: _Amount | None, reasons: tuple[str, str, str]
) -> Part:
    """10 when ``stated`` reaches ``wanted``, 5 when either is unknown, else excluded.
    ``reasons``: no wish, not stated, and the template of a match (``{stated}``, ``{wanted}``)."""
    no_wish, not_stated, met = reasons
    if wanted is None:
        return 5, no_wish
    if stated is None:
        return 5, not_stated
    if stated >= wanted:
        return 10, met.format(stated=stated, wanted=wanted)
    return None


_BEDROOMS_REASONS: Final = (
    "No bedrooms preference",
    "Bedrooms not stated",
    "{stated} bedrooms (wanted {wanted}+)",
)
_AREA_REASONS: Final = (
    "No minimum area",
    "Area not stated",
    "Area {stated:,.0f} m² (wanted {wanted:,.0f}+)",
)


def _bedrooms_part(prefs: Preferences, prop: Property) -> Part:
    return _at_least(prefs.bedrooms, prop.bedrooms, _BEDROOMS_REASONS)


def _area_part(prefs: Preferences, prop: Property) -> Part:
    return _at_least(prefs.min_area, prop.area, _AREA_REASONS)


_PARTS = (_type_part, _price_part, _location_part, _bedrooms_part, _area_part)


def score_property(customer: Customer, prop: Property) -> PropertyMatch | None:
    """The match of one property for ``customer``, or ``None`` when it is excluded."""
    if prop.organization_id != customer.organization_id or prop.status != PropertyStatus.AVAILABLE:
        return None
    rejected = {
        i.property_id
        for i in customer.property_interests
        if i.status == PropertyInterestStatus.REJECTED
    }
    if prop.id in rejected:
        return None
    parts = [part(customer.preferences, prop) for part in _PARTS]
    earned = [p for p in parts if p is not None]
    if len(earned) != len(parts):
        return None
    return PropertyMatch(
        property_id=prop.id,
        score=sum(points for points, _ in earned),
        reasons=tuple(reason for _, reason in earned),
    )


def match_properties(
    customer: Customer, catalog: Iterable[Property], *, limit: int = 5
) -> tuple[PropertyMatch, ...]:
    """The best ``limit`` catalog properties for ``customer``: score desc, price asc, id asc."""
    if limit < 0:
        raise ValueError("limit must not be negative")
    ranked: list[tuple[int, Decimal, str, tuple[str, ...], PropertyMatch]] = []
    for prop in catalog:
        match = score_property(customer, prop)
        if match is not None:
            ranked.append((-match.score, prop.price, prop.id, match.reasons, match))
    # The reasons end the key so that even a catalog repeating an id sorts the same in any order.
    ranked.sort(key=lambda row: row[:4])
    return tuple(row[4] for row in ranked[:limit])

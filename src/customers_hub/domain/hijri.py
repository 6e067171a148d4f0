"""Hijri (Umm al-Qura) dates: the twin of a Gregorian date or instant, and Hijri input read back.

Rules §9: the Umm al-Qura calendar of ``hijridate``; outside its range (1343–1500 AH, that is
1924-08-01 … 2077-11-16) a twin is ``None``, never an error. A Hijri input date is converted to
the Gregorian *local* day it names; an impossible one (month 13, day 30 of a 29-day month, a
year outside the range) is a :class:`~customers_hub.domain.errors.ValidationFailed` naming the
field. An instant's twin is the Hijri date of the organization's local day, so the zone is a
parameter of :func:`hijri_of_instant` (the organization's ``timeZone``).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from typing import Final

from hijridate import Gregorian, Hijri

from customers_hub.domain.errors import ValidationFailed

__all__ = [
    "HIJRI_PATTERN",
    "HIJRI_YEARS",
    "from_hijri",
    "hijri_of_instant",
    "to_hijri",
]

HIJRI_YEARS: Final = (1343, 1500)
"""First and last Hijri year the Umm al-Qura tables of ``hijridate`` cover."""

HIJRI_PATTERN: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
"""The shape of a Hijri date on the wire: ``YYYY-MM-DD`` (the same as an ISO date)."""

_SHAPE: Final = re.compile(HIJRI_PATTERN)


@lru_cache(maxsize=4096)
def to_hijri(day: date) -> str | None:
    """The Umm al-Qura date of the Gregorian ``day`` as ``YYYY-MM-DD``; None outside the range.

    Cached: a page of customers repeats a handful of days many times.
    """
    try:
        return Gregorian(day.year, day.month, day.day).to_hijri().isoformat()
    except OverflowError:  # outside 1924-08-01 … 2077-11-16: no twin, never an error
        return None


def hijri_of_instant(moment: datetime, zone: tzinfo) -> str | None:
    """The Hijri date of the local day of ``moment`` in ``zone`` (a naive ``moment`` is UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return to_hijri(aware.astimezone(zone).date())


def from_hijri(text: str, field: str) -> date:
    """The Gregorian day of the Hijri date ``text`` (``YYYY-MM-DD``).

    Raises :class:`ValidationFailed` on ``field`` for another shape, a month outside 1–12, a day
    past the month's length (29 or 30 by the Umm al-Qura tables) or a year outside
    :data:`HIJRI_YEARS`.
    """
    if not _SHAPE.match(text):
        raise ValidationFailed.single(field, "must be a Hijri date (YYYY-MM-DD)")
    year, month, day = (int(part) for part in text.split("-"))
    try:
        hijri = Hijri(year, month, day)
    except OverflowError:
        first, last = HIJRI_YEARS
        raise ValidationFailed.single(
            field, f"must be a Hijri date of the years {first} to {last} (Umm al-Qura)"
        ) from None
    except ValueError as invalid:  # "month must be in 1-12", "day must be in 1-29 for month"
        raise ValidationFailed.single(field, f"is not a Hijri date: {invalid}") from None
    gregorian = hijri.to_gregorian()
    return date(gregorian.year, gregorian.month, gregorian.day)  # a plain date, not the subclass

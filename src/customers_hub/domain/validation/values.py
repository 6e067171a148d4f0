"""Dates and instants in plausible ranges, money, areas, rooms, coordinates and enums."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Final, TypeVar

from customers_hub.domain.errors import ValidationFailed
from customers_hub.domain.validation.texts import (
    MONEY_MAX,
    OLDEST_AGE_YEARS,
    ROOMS_MAX,
    Errors,
    FieldValidator,
    _label,
)

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


def whole_number_in(low: int, high: int) -> FieldValidator[int, int]:
    """A validator of a whole number from ``low`` to ``high`` (a bool is not one)."""

    def validate(raw: int, *, field: str) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValidationFailed.single(field, f"{_label(field)} must be a whole number")
        if not low <= raw <= high:
            raise ValidationFailed.single(
                field, f"{_label(field)} must be between {low} and {high}"
            )
        return raw

    return validate


_rooms = whole_number_in(0, ROOMS_MAX)


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


def _date_range_rule(earliest: date, latest: date) -> FieldValidator[date, date]:
    def validate(raw: date, *, field: str) -> date:
        return validate_date_range(raw, field=field, earliest=earliest, latest=latest)

    return validate


def _licence_expiry_rule(today: date) -> FieldValidator[date, date]:
    def validate(raw: date, *, field: str) -> date:
        return validate_licence_expiry(raw, today, field=field)

    return validate

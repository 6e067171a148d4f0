"""Customer rows: the customer, its facets, stage history and property interests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import RowMapping

from customers_hub.adapters.sql import tables
from customers_hub.adapters.sql.mappers.base import (
    FACET_AREA,
    FACET_CITY,
    FACET_PROPERTY_TYPE,
    FACET_TAG,
)
from customers_hub.adapters.sql.mappers.rows import from_row, row_values
from customers_hub.domain.duplicates import duplicate_keys
from customers_hub.domain.model import (
    Customer,
    PropertyInterest,
    StageChange,
)
from customers_hub.domain.search_text import normalize_search_text, phone_digits

# --- customers -------------------------------------------------------------------------------


def customer_values(customer: Customer) -> dict[str, object]:
    """Column values of ``tables.customers`` for ``customer`` (derived columns included)."""
    keys = duplicate_keys(customer)
    return row_values(
        customer,
        tables.customers,
        name_key=keys.name,
        name_en_key=keys.name_en,
        city_key=keys.city,
        email_key=keys.email,
        name_search=normalize_search_text(f"{customer.name} {customer.name_en or ''}"),
        phone_digits=phone_digits(customer.phone),
        budget_min=customer.preferences.budget_min,
        budget_max=customer.preferences.budget_max,
        priority_rank=customer.priority.rank,
    )


def customer_from_row(
    row: RowMapping | Mapping[str, Any],
    history: Sequence[RowMapping | Mapping[str, Any]],
    interests: Sequence[RowMapping | Mapping[str, Any]],
) -> Customer:
    """The customer of a ``customers`` row with its history and interest rows (any order)."""
    return from_row(
        Customer,
        tables.customers,
        row,
        stage_history=tuple(
            history_from_row(h) for h in sorted(history, key=lambda h: int(h["seq"]))
        ),
        property_interests=tuple(
            interest_from_row(i)
            for i in sorted(interests, key=lambda i: (i["added_at"], str(i["id"])))
        ),
    )


def facet_value(kind: str, value: str) -> str:
    """The stored (and queried) form of a facet value.

    Tags are lower-cased and stripped; property types are the enum value; areas and cities are
    :func:`normalize_search_text` forms (so ``الرياض`` and ``الریاض`` are one facet). A filter on a
    facet must pass its operand through this same function.
    """
    if kind == FACET_TAG:
        return value.strip().lower()
    if kind == FACET_PROPERTY_TYPE:
        return str(getattr(value, "value", value))
    if kind in (FACET_AREA, FACET_CITY):
        return normalize_search_text(value)
    raise ValueError(f"unknown facet kind {kind!r}")


def facet_rows(customer: Customer) -> list[dict[str, object]]:
    """The ``customer_facets`` rows of ``customer`` (deduplicated, empty values skipped)."""
    prefs = customer.preferences
    pairs: list[tuple[str, str]] = [(FACET_TAG, t) for t in customer.tags]
    pairs += [(FACET_PROPERTY_TYPE, t.value) for t in prefs.property_type]
    pairs += [(FACET_AREA, a) for a in prefs.preferred_areas]
    pairs += [(FACET_CITY, c) for c in prefs.preferred_cities]
    seen: dict[tuple[str, str], None] = {}
    for kind, raw in pairs:
        value = facet_value(kind, raw)
        if value:
            seen.setdefault((kind, value), None)
    return [
        {
            "customer_id": customer.id,
            "kind": kind,
            "value": value,
            "organization_id": customer.organization_id,
        }
        for kind, value in seen
    ]


def history_values(
    organization_id: str, customer_id: str, seq: int, entry: StageChange
) -> dict[str, object]:
    """A ``stage_history`` row: ``seq`` is the 1-based position in the customer's history."""
    return row_values(
        entry,
        tables.stage_history,
        organization_id=organization_id,
        customer_id=customer_id,
        seq=seq,
    )


def history_from_row(row: RowMapping | Mapping[str, Any]) -> StageChange:
    """The stage change of a ``stage_history`` row."""
    return from_row(StageChange, tables.stage_history, row)


def interest_values(
    organization_id: str, customer_id: str, interest: PropertyInterest
) -> dict[str, object]:
    """A ``property_interests`` row."""
    return row_values(
        interest,
        tables.property_interests,
        organization_id=organization_id,
        customer_id=customer_id,
    )


def interest_from_row(row: RowMapping | Mapping[str, Any]) -> PropertyInterest:
    """The property interest of a ``property_interests`` row."""
    return from_row(PropertyInterest, tables.property_interests, row)

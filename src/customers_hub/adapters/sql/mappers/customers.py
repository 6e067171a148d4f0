"""Customer rows: the customer, its facets, stage history and property interests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import RowMapping

from customers_hub.adapters.sql.mappers.base import (
    FACET_AREA,
    FACET_CITY,
    FACET_PROPERTY_TYPE,
    FACET_TAG,
    _decimal,
    _enum,
    _tuple_of_str,
    _value,
    from_json,
    to_json,
)
from customers_hub.domain.compliance import KsaCompliance
from customers_hub.domain.duplicates import duplicate_keys
from customers_hub.domain.enums import (
    CustomerSource,
    CustomerType,
    Gender,
    InteractionType,
    Priority,
    PropertyInterestStatus,
    PropertyType,
    Stage,
)
from customers_hub.domain.model import (
    AiInsights,
    Customer,
    Preferences,
    PropertyInterest,
    StageChange,
)
from customers_hub.domain.search_text import normalize_search_text, phone_digits

# --- customers -------------------------------------------------------------------------------


def customer_values(customer: Customer) -> dict[str, object]:
    """Column values of ``tables.customers`` for ``customer`` (derived columns included)."""
    prefs = customer.preferences
    keys = duplicate_keys(customer)
    return {
        "id": customer.id,
        "organization_id": customer.organization_id,
        "name_key": keys.name,
        "name_en_key": keys.name_en,
        "city_key": keys.city,
        "email_key": keys.email,
        "name": customer.name,
        "name_en": customer.name_en,
        "name_search": normalize_search_text(f"{customer.name} {customer.name_en or ''}"),
        "phone": customer.phone,
        "phone_digits": phone_digits(customer.phone),
        "whatsapp": customer.whatsapp,
        "email": customer.email,
        "national_id": customer.national_id,
        "nationality": customer.nationality,
        "gender": _value(customer.gender),
        "date_of_birth": customer.date_of_birth,
        "source": customer.source.value,
        "source_details": dict(customer.source_details),
        "stage": customer.stage.value,
        "preferences": to_json(prefs, Preferences),
        "budget_min": prefs.budget_min,
        "budget_max": prefs.budget_max,
        "lead_score": customer.lead_score,
        "ai_insights": to_json(customer.ai_insights, AiInsights),
        "priority": customer.priority.value,
        "priority_rank": customer.priority.rank,
        "customer_type": _value(customer.customer_type),
        "tags": list(customer.tags),
        "assigned_employee_id": customer.assigned_employee_id,
        "total_deal_value": customer.total_deal_value,
        "expected_revenue": customer.expected_revenue,
        "paid_amount": customer.paid_amount,
        "city": customer.city,
        "district": customer.district,
        "region": customer.region,
        "address": customer.address,
        "latitude": customer.latitude,
        "longitude": customer.longitude,
        "notes": customer.notes,
        "ksa_compliance": to_json(customer.ksa_compliance, KsaCompliance),
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
        "last_contact_at": customer.last_contact_at,
        "last_contact_type": _value(customer.last_contact_type),
        "next_follow_up_date": customer.next_follow_up_date,
        "total_interactions": customer.total_interactions,
        "positive_inbound_interactions": customer.positive_inbound_interactions,
        "total_appointments": customer.total_appointments,
        "total_property_views": customer.total_property_views,
        "response_rate": customer.response_rate,
        "avg_response_time": customer.avg_response_time,
        "deleted_at": customer.deleted_at,
        "version": customer.version,
        "merged_into": customer.merged_into,
        "erased_at": customer.erased_at,
        "restricted_until": customer.restricted_until,
    }


def customer_from_row(
    row: RowMapping | Mapping[str, Any],
    history: Sequence[RowMapping | Mapping[str, Any]],
    interests: Sequence[RowMapping | Mapping[str, Any]],
) -> Customer:
    """The customer of a ``customers`` row with its history and interest rows (any order)."""
    ai = row["ai_insights"]
    ksa = row["ksa_compliance"]
    prefs = row["preferences"]
    return Customer(
        id=row["id"],
        organization_id=row["organization_id"],
        name=row["name"],
        phone=row["phone"],
        source=CustomerSource(row["source"]),
        stage=Stage(row["stage"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        preferences=from_json(prefs, Preferences) if prefs else Preferences(),
        stage_history=tuple(
            history_from_row(h) for h in sorted(history, key=lambda h: int(h["seq"]))
        ),
        property_interests=tuple(
            interest_from_row(i)
            for i in sorted(interests, key=lambda i: (i["added_at"], str(i["id"])))
        ),
        name_en=row["name_en"],
        whatsapp=row["whatsapp"],
        email=row["email"],
        national_id=row["national_id"],
        nationality=row["nationality"],
        gender=_enum(Gender, row["gender"]),
        date_of_birth=row["date_of_birth"],
        source_details={str(k): str(v) for k, v in (row["source_details"] or {}).items()},
        lead_score=int(row["lead_score"]),
        ai_insights=from_json(ai, AiInsights) if ai is not None else None,
        priority=Priority(row["priority"]),
        customer_type=_enum(CustomerType, row["customer_type"]),
        tags=_tuple_of_str(row["tags"]),
        assigned_employee_id=row["assigned_employee_id"],
        total_deal_value=_decimal(row["total_deal_value"]),
        expected_revenue=_decimal(row["expected_revenue"]),
        paid_amount=_decimal(row["paid_amount"]),
        city=row["city"],
        district=row["district"],
        region=row["region"],
        address=row["address"],
        latitude=_decimal(row["latitude"]),
        longitude=_decimal(row["longitude"]),
        notes=row["notes"],
        last_contact_at=row["last_contact_at"],
        last_contact_type=_enum(InteractionType, row["last_contact_type"]),
        next_follow_up_date=row["next_follow_up_date"],
        total_interactions=int(row["total_interactions"]),
        positive_inbound_interactions=int(row["positive_inbound_interactions"]),
        total_appointments=int(row["total_appointments"]),
        total_property_views=int(row["total_property_views"]),
        response_rate=row["response_rate"],
        avg_response_time=row["avg_response_time"],
        ksa_compliance=from_json(ksa, KsaCompliance) if ksa is not None else None,
        deleted_at=row["deleted_at"],
        version=int(row["version"]),
        merged_into=row["merged_into"],
        erased_at=row["erased_at"],
        restricted_until=row["restricted_until"],
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
    return {
        "id": entry.id,
        "organization_id": organization_id,
        "customer_id": customer_id,
        "seq": seq,
        "from_stage": _value(entry.from_stage),
        "to_stage": entry.to_stage.value,
        "changed_by": entry.changed_by,
        "changed_by_id": entry.changed_by_id,
        "changed_at": entry.changed_at,
        "reason": entry.reason,
        "notes": entry.notes,
        "auto_generated": entry.auto_generated,
        "merged_from": entry.merged_from,
    }


def history_from_row(row: RowMapping | Mapping[str, Any]) -> StageChange:
    """The stage change of a ``stage_history`` row."""
    return StageChange(
        id=row["id"],
        from_stage=_enum(Stage, row["from_stage"]),
        to_stage=Stage(row["to_stage"]),
        changed_by=row["changed_by"],
        changed_by_id=row["changed_by_id"],
        changed_at=row["changed_at"],
        notes=row["notes"],
        reason=row["reason"],
        auto_generated=bool(row["auto_generated"]),
        merged_from=row["merged_from"],
    )


def interest_values(
    organization_id: str, customer_id: str, interest: PropertyInterest
) -> dict[str, object]:
    """A ``property_interests`` row."""
    return {
        "id": interest.id,
        "organization_id": organization_id,
        "customer_id": customer_id,
        "property_id": interest.property_id,
        "property_title": interest.property_title,
        "property_title_en": interest.property_title_en,
        "property_image": interest.property_image,
        "property_price": interest.property_price,
        "property_type": _value(interest.property_type),
        "property_location": interest.property_location,
        "status": interest.status.value,
        "added_at": interest.added_at,
        "viewed_at": interest.viewed_at,
        "feedback": interest.feedback,
        "rating": interest.rating,
        "notes": interest.notes,
    }


def interest_from_row(row: RowMapping | Mapping[str, Any]) -> PropertyInterest:
    """The property interest of a ``property_interests`` row."""
    return PropertyInterest(
        id=row["id"],
        property_id=row["property_id"],
        status=PropertyInterestStatus(row["status"]),
        added_at=row["added_at"],
        property_title=row["property_title"],
        property_title_en=row["property_title_en"],
        property_image=row["property_image"],
        property_price=_decimal(row["property_price"]),
        property_type=_enum(PropertyType, row["property_type"]),
        property_location=row["property_location"],
        viewed_at=row["viewed_at"],
        feedback=row["feedback"],
        rating=row["rating"],
        notes=row["notes"],
    )

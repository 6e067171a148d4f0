"""Explicit row ↔ entity conversion for the SQL adapter.

Every column is written and read by name here, so a field lost in a mapper shows up in the
round-trip tests rather than in production. Scalar columns map one to one; the JSON columns
(``preferences``, ``ai_insights``, ``ksa_compliance``, ``source_details``, ``metadata``, ``tags``)
go through one cattrs converter, :data:`json_converter`:

* keys are camelCase, as in the API document (``preferences.budgetMin``), so a JSON path used by
  the read side is the API's field path;
* ``Decimal`` is a string (exact), ``date``/``datetime`` ISO 8601, enums their value, tuples lists.

Derived columns are computed here and nowhere else: ``name_search``, ``phone_digits``,
``budget_min``/``budget_max``, ``priority_rank``, the duplicate keys (``name_key``,
``name_en_key``, ``city_key``, ``email_key``, from
:func:`~customers_hub.domain.duplicates.duplicate_keys`), an action's ``search_text`` and the
rows of ``customer_facets`` (see :func:`facet_value` for the normalization queries must use too).

Order: a customer's stage history is ordered by ``seq`` (1-based); property interests have no
position column and come back ordered by ``(added_at, id)`` — the order the domain appends them in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

import attrs
from cattrs import Converter
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from sqlalchemy import RowMapping

from customers_hub.domain.compliance import KsaCompliance
from customers_hub.domain.duplicates import duplicate_keys
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    AppointmentStatus,
    AppointmentType,
    CustomerSource,
    CustomerType,
    DocumentType,
    Gender,
    InteractionDirection,
    InteractionType,
    Priority,
    PropertyInterestStatus,
    PropertyStatus,
    PropertyType,
    ReminderStatus,
    ReminderType,
    Role,
    Sentiment,
    Stage,
)
from customers_hub.domain.model import (
    ActionNote,
    AiInsights,
    Appointment,
    Customer,
    CustomerAction,
    Document,
    Employee,
    FalLicence,
    Interaction,
    Preferences,
    Property,
    PropertyInterest,
    Reminder,
    StageChange,
)
from customers_hub.domain.naming import camel_case
from customers_hub.domain.search_text import normalize_search_text, phone_digits
from customers_hub.domain.settings import OrganizationSettings, OrganizationSettingsRecord

__all__ = [
    "DEFAULT_TIME_ZONE",
    "FACET_AREA",
    "FACET_CITY",
    "FACET_KINDS",
    "FACET_PROPERTY_TYPE",
    "FACET_TAG",
    "action_from_row",
    "action_search_text",
    "action_values",
    "appointment_from_row",
    "appointment_values",
    "customer_from_row",
    "customer_values",
    "document_from_row",
    "document_values",
    "employee_from_row",
    "employee_values",
    "facet_rows",
    "facet_value",
    "from_json",
    "history_from_row",
    "history_values",
    "interaction_from_row",
    "interaction_values",
    "interest_from_row",
    "interest_values",
    "json_converter",
    "note_from_row",
    "note_values",
    "property_from_row",
    "property_values",
    "reminder_from_row",
    "reminder_values",
    "settings_from_row",
    "settings_values",
    "to_json",
]

T = TypeVar("T")
E = TypeVar("E")

DEFAULT_TIME_ZONE: Final = ZoneInfo("Asia/Riyadh")
"""The organization time zone appointments' local ``date``/``time`` columns use by default."""

FACET_TAG: Final = "tag"
FACET_PROPERTY_TYPE: Final = "property_type"
FACET_AREA: Final = "area"
FACET_CITY: Final = "city"
FACET_KINDS: Final = (FACET_TAG, FACET_PROPERTY_TYPE, FACET_AREA, FACET_CITY)


# --- the JSON converter ----------------------------------------------------------------------


def _make_converter() -> Converter:
    conv = Converter(unstruct_collection_overrides={tuple: list})
    conv.register_unstructure_hook(Decimal, str)
    conv.register_structure_hook(Decimal, lambda value, _: Decimal(str(value)))
    conv.register_unstructure_hook(datetime, lambda value: value.isoformat())
    conv.register_structure_hook(datetime, lambda value, _: datetime.fromisoformat(value))
    conv.register_unstructure_hook(date, lambda value: value.isoformat())
    conv.register_structure_hook(date, lambda value, _: date.fromisoformat(value))

    def unstructure_factory(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
        renames: dict[str, Any] = {
            a.name: override(rename=camel_case(a.name)) for a in attrs.fields(cls)
        }
        return make_dict_unstructure_fn(cls, conv, **renames)

    def structure_factory(cls: type[Any]) -> Callable[[Any, Any], Any]:
        renames: dict[str, Any] = {
            a.name: override(rename=camel_case(a.name)) for a in attrs.fields(cls)
        }
        return make_dict_structure_fn(cls, conv, **renames)

    conv.register_unstructure_hook_factory(attrs.has, unstructure_factory)
    conv.register_structure_hook_factory(attrs.has, structure_factory)
    return conv


json_converter: Final[Converter] = _make_converter()
"""The converter of the SQL edge's JSON columns (camelCase keys, Decimal as string)."""


def to_json(value: object, as_type: Any = None) -> Any:
    """``value`` as JSON-ready data (dicts, lists, strings, numbers, booleans, None)."""
    if value is None:
        return None
    return json_converter.unstructure(value, unstructure_as=as_type)


def from_json(data: Any, as_type: type[T]) -> T:
    """The ``as_type`` instance stored as ``data`` by :func:`to_json`."""
    return json_converter.structure(data, as_type)


# --- small helpers ---------------------------------------------------------------------------


def _enum(cls: Callable[[str], E], value: object) -> E | None:
    return None if value is None else cls(str(value))


def _value(member: object) -> str | None:
    # Enum columns hold the wire value; None stays NULL.
    return None if member is None else str(getattr(member, "value", member))


def _decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _tuple_of_str(value: object) -> tuple[str, ...]:
    if not value:
        return ()
    assert isinstance(value, Iterable)
    return tuple(str(v) for v in value)


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


# --- actions ---------------------------------------------------------------------------------


def action_search_text(customer_name: str, title: str, description: str | None) -> str:
    """The normalized text an action is searched by: customer name, title and description."""
    return normalize_search_text(f"{customer_name} {title} {description or ''}")


def action_values(action: CustomerAction) -> dict[str, object]:
    """Column values of ``tables.customer_actions`` (notes are rows of ``action_notes``)."""
    return {
        "id": action.id,
        "organization_id": action.organization_id,
        "customer_id": action.customer_id,
        "customer_name": action.customer_name,
        "type": action.type.value,
        "title": action.title,
        "description": action.description,
        "search_text": action_search_text(action.customer_name, action.title, action.description),
        "priority": action.priority.value,
        "priority_rank": action.priority.rank,
        "status": action.status.value,
        "source": action.source.value,
        "due_date": action.due_date,
        "snoozed_until": action.snoozed_until,
        "assigned_to": action.assigned_to,
        "assigned_to_name": action.assigned_to_name,
        "created_at": action.created_at,
        "updated_at": action.updated_at,
        "completed_at": action.completed_at,
        "completed_by": action.completed_by,
        "outcome": action.outcome,
        "dismiss_reason": action.dismiss_reason,
        "metadata": to_json(dict(action.metadata), dict[str, Any]),
        "version": action.version,
    }


def action_from_row(
    row: RowMapping | Mapping[str, Any], notes: Sequence[RowMapping | Mapping[str, Any]] = ()
) -> CustomerAction:
    """The action of a ``customer_actions`` row with its note rows (ordered by creation)."""
    return CustomerAction(
        id=row["id"],
        organization_id=row["organization_id"],
        customer_id=row["customer_id"],
        customer_name=row["customer_name"],
        type=ActionType(row["type"]),
        title=row["title"],
        priority=Priority(row["priority"]),
        status=ActionStatus(row["status"]),
        source=CustomerSource(row["source"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        description=row["description"],
        due_date=row["due_date"],
        snoozed_until=row["snoozed_until"],
        assigned_to=row["assigned_to"],
        assigned_to_name=row["assigned_to_name"],
        completed_at=row["completed_at"],
        completed_by=row["completed_by"],
        outcome=row["outcome"],
        dismiss_reason=row["dismiss_reason"],
        metadata=dict(row["metadata"] or {}),
        notes=tuple(
            note_from_row(n) for n in sorted(notes, key=lambda n: (n["created_at"], str(n["id"])))
        ),
        version=int(row["version"]),
    )


def note_values(note: ActionNote, organization_id: str) -> dict[str, object]:
    """An ``action_notes`` row."""
    return {
        "id": note.id,
        "organization_id": organization_id,
        "action_id": note.action_id,
        "content": note.content,
        "created_by": note.created_by,
        "created_by_id": note.created_by_id,
        "created_at": note.created_at,
    }


def note_from_row(row: RowMapping | Mapping[str, Any]) -> ActionNote:
    """The note of an ``action_notes`` row."""
    return ActionNote(
        id=row["id"],
        action_id=row["action_id"],
        content=row["content"],
        created_by=row["created_by"],
        created_by_id=row["created_by_id"],
        created_at=row["created_at"],
    )


# --- employees -------------------------------------------------------------------------------


def employee_values(employee: Employee, now: datetime | None = None) -> dict[str, object]:
    """An ``employees`` row; ``created_at``/``updated_at`` are bookkeeping set to ``now``.

    The entity carries no timestamps: an upsert must leave ``created_at`` of an existing row
    alone (the repository excludes it from the UPDATE part).
    """
    stamp = now or datetime.now(UTC)
    fal = employee.fal_licence
    return {
        "organization_id": employee.organization_id,
        "id": employee.id,
        "name": employee.name,
        "name_en": employee.name_en,
        "email": employee.email,
        "phone": employee.phone,
        "role": employee.role.value,
        "title": employee.title,
        "avatar": employee.avatar,
        "manager_id": employee.manager_id,
        "is_active": employee.is_active,
        "fal_number": fal.number if fal else None,
        "fal_expires_on": fal.expires_on if fal else None,
        "created_at": stamp,
        "updated_at": stamp,
    }


def employee_from_row(row: RowMapping | Mapping[str, Any]) -> Employee:
    """The employee of an ``employees`` row."""
    number, expires = row["fal_number"], row["fal_expires_on"]
    return Employee(
        id=row["id"],
        organization_id=row["organization_id"],
        name=row["name"],
        role=Role(row["role"]),
        is_active=bool(row["is_active"]),
        name_en=row["name_en"],
        email=row["email"],
        phone=row["phone"],
        title=row["title"],
        avatar=row["avatar"],
        manager_id=row["manager_id"],
        fal_licence=FalLicence(number, expires) if number is not None and expires else None,
    )


# --- interactions, appointments, reminders, documents ----------------------------------------


def interaction_values(organization_id: str, interaction: Interaction) -> dict[str, object]:
    """An ``interactions`` row."""
    return {
        "id": interaction.id,
        "organization_id": organization_id,
        "customer_id": interaction.customer_id,
        "type": interaction.type.value,
        "direction": _value(interaction.direction),
        "date": interaction.date,
        "duration": interaction.duration,
        "notes": interaction.notes,
        "outcome": interaction.outcome,
        "agent_name": interaction.agent_name,
        "agent_id": interaction.agent_id,
        "sentiment": _value(interaction.sentiment),
        "follow_up_required": interaction.follow_up_required,
        "follow_up_date": interaction.follow_up_date,
    }


def interaction_from_row(row: RowMapping | Mapping[str, Any]) -> Interaction:
    """The interaction of an ``interactions`` row."""
    return Interaction(
        id=row["id"],
        customer_id=row["customer_id"],
        type=InteractionType(row["type"]),
        date=row["date"],
        notes=row["notes"],
        agent_id=row["agent_id"],
        agent_name=row["agent_name"],
        direction=_enum(InteractionDirection, row["direction"]),
        duration=row["duration"],
        outcome=row["outcome"],
        sentiment=_enum(Sentiment, row["sentiment"]),
        follow_up_required=bool(row["follow_up_required"]),
        follow_up_date=row["follow_up_date"],
    )


def appointment_values(
    organization_id: str, appointment: Appointment, tz: ZoneInfo = DEFAULT_TIME_ZONE
) -> dict[str, object]:
    """An ``appointments`` row; ``date``/``time`` are the instant's local date and time in ``tz``.

    ``datetime`` (UTC) is the truth; the local columns serve filters by the organization's
    calendar day.
    """
    local = appointment.at.astimezone(tz)
    return {
        "id": appointment.id,
        "organization_id": organization_id,
        "customer_id": appointment.customer_id,
        "title": appointment.title,
        "title_en": appointment.title_en,
        "type": appointment.type.value,
        "date": local.date(),
        "time": time(local.hour, local.minute, local.second, local.microsecond),
        "datetime": appointment.at,
        "duration": appointment.duration,
        "location": appointment.location,
        "property_id": appointment.property_id,
        "property_title": appointment.property_title,
        "status": appointment.status.value,
        "priority": appointment.priority.value,
        "notes": appointment.notes,
        "agent_name": appointment.agent_name,
        "agent_id": appointment.agent_id,
        "reminder_sent": appointment.reminder_sent,
        "outcome": appointment.outcome,
        "created_at": appointment.created_at,
        "updated_at": appointment.updated_at,
    }


def appointment_from_row(row: RowMapping | Mapping[str, Any]) -> Appointment:
    """The appointment of an ``appointments`` row (the instant comes from ``datetime``)."""
    return Appointment(
        id=row["id"],
        customer_id=row["customer_id"],
        title=row["title"],
        type=AppointmentType(row["type"]),
        at=row["datetime"],
        duration=int(row["duration"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        status=AppointmentStatus(row["status"]),
        priority=Priority(row["priority"]),
        title_en=row["title_en"],
        location=row["location"],
        property_id=row["property_id"],
        property_title=row["property_title"],
        notes=row["notes"],
        agent_id=row["agent_id"],
        agent_name=row["agent_name"],
        reminder_sent=bool(row["reminder_sent"]),
        outcome=row["outcome"],
    )


def reminder_values(organization_id: str, reminder: Reminder) -> dict[str, object]:
    """A ``reminders`` row."""
    return {
        "id": reminder.id,
        "organization_id": organization_id,
        "customer_id": reminder.customer_id,
        "title": reminder.title,
        "title_en": reminder.title_en,
        "description": reminder.description,
        "datetime": reminder.at,
        "priority": reminder.priority.value,
        "status": reminder.status.value,
        "type": reminder.type.value,
        "related_to": reminder.related_to,
        "created_by": reminder.created_by,
        "created_by_id": reminder.created_by_id,
        "completed_at": reminder.completed_at,
    }


def reminder_from_row(row: RowMapping | Mapping[str, Any]) -> Reminder:
    """The reminder of a ``reminders`` row."""
    return Reminder(
        id=row["id"],
        customer_id=row["customer_id"],
        title=row["title"],
        type=ReminderType(row["type"]),
        at=row["datetime"],
        created_by=row["created_by"],
        created_by_id=row["created_by_id"],
        priority=Priority(row["priority"]),
        status=ReminderStatus(row["status"]),
        title_en=row["title_en"],
        description=row["description"],
        related_to=row["related_to"],
        completed_at=row["completed_at"],
    )


def document_values(organization_id: str, document: Document) -> dict[str, object]:
    """A ``documents`` row (the bytes live in document storage under ``storage_key``)."""
    return {
        "id": document.id,
        "organization_id": organization_id,
        "customer_id": document.customer_id,
        "name": document.name,
        "type": document.type.value,
        "storage_key": document.storage_key,
        "file_size": document.file_size,
        "mime_type": document.mime_type,
        "uploaded_by": document.uploaded_by,
        "uploaded_by_id": document.uploaded_by_id,
        "uploaded_at": document.uploaded_at,
        "description": document.description,
        "tags": list(document.tags),
    }


def document_from_row(row: RowMapping | Mapping[str, Any]) -> Document:
    """The document of a ``documents`` row."""
    return Document(
        id=row["id"],
        customer_id=row["customer_id"],
        name=row["name"],
        type=DocumentType(row["type"]),
        storage_key=row["storage_key"],
        file_size=int(row["file_size"]),
        mime_type=row["mime_type"],
        uploaded_by=row["uploaded_by"],
        uploaded_by_id=row["uploaded_by_id"],
        uploaded_at=row["uploaded_at"],
        description=row["description"],
        tags=_tuple_of_str(row["tags"]),
    )


# --- the property catalog --------------------------------------------------------------------


def property_values(prop: Property) -> dict[str, object]:
    """A ``properties`` row."""
    return {
        "organization_id": prop.organization_id,
        "id": prop.id,
        "title": prop.title,
        "title_en": prop.title_en,
        "type": prop.type.value,
        "city": prop.city,
        "district": prop.district,
        "price": prop.price,
        "bedrooms": prop.bedrooms,
        "area": prop.area,
        "off_plan": prop.off_plan,
        "status": prop.status.value,
    }


def property_from_row(row: RowMapping | Mapping[str, Any]) -> Property:
    """The property of a ``properties`` row."""
    return Property(
        id=row["id"],
        organization_id=row["organization_id"],
        title=row["title"],
        type=PropertyType(row["type"]),
        city=row["city"],
        price=_decimal(row["price"]) or Decimal(0),
        status=PropertyStatus(row["status"]),
        title_en=row["title_en"],
        district=row["district"],
        bedrooms=row["bedrooms"],
        area=_decimal(row["area"]),
        off_plan=bool(row["off_plan"]),
    )


# --- organization settings -------------------------------------------------------------------


def settings_values(record: OrganizationSettingsRecord) -> dict[str, object]:
    """An ``organization_settings`` row: the settings value as one JSON object."""
    if record.updated_at is None or record.updated_by is None:
        raise ValueError("stored settings need updated_at and updated_by")
    return {
        "organization_id": record.organization_id,
        "settings": to_json(record.settings, OrganizationSettings),
        "version": record.version,
        "updated_at": record.updated_at,
        "updated_by": record.updated_by,
    }


def settings_from_row(row: RowMapping | Mapping[str, Any]) -> OrganizationSettingsRecord:
    """The settings of an ``organization_settings`` row (a key the JSON lacks: its default)."""
    return OrganizationSettingsRecord(
        organization_id=row["organization_id"],
        settings=from_json(row["settings"], OrganizationSettings),
        version=int(row["version"]),
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
    )

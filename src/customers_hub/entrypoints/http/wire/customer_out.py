"""The customer on the wire, and field selection (``fields=``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Final, TypeVar

import msgspec
from msgspec import UNSET, UnsetType

from customers_hub.domain.enums import (
    CustomerSource,
    CustomerType,
    Gender,
    InteractionType,
    Priority,
    Stage,
)
from customers_hub.domain.errors import ValidationFailed
from customers_hub.domain.model import (
    Appointment,
    Customer,
    Document,
    Employee,
    Interaction,
    Reminder,
)
from customers_hub.domain.naming import camel_case
from customers_hub.entrypoints.http.wire.base import (
    Wire,
)
from customers_hub.entrypoints.http.wire.compliance import (
    KsaComplianceOut,
)
from customers_hub.entrypoints.http.wire.consent_out import ConsentOut
from customers_hub.entrypoints.http.wire.convert import to_wire
from customers_hub.entrypoints.http.wire.customer_parts import (
    AiInsightsOut,
    AssignedEmployeeOut,
    PreferencesOut,
    PropertyInterestOut,
    StageChangeOut,
    assigned_employee_to_wire,
    property_interest_to_wire,
)
from customers_hub.entrypoints.http.wire.relations import (
    AppointmentOut,
    DocumentOut,
    InteractionOut,
    ReminderOut,
    appointment_to_wire,
    document_to_wire,
    interaction_to_wire,
    reminder_to_wire,
)

# ---------------------------------------------------------------------------------------------
# The customer


class CustomerOut(Wire, kw_only=True):
    """A customer (the document's ``UnifiedCustomer``).

    Every key is optional in the schema because ``fields=`` may select a subset; without it,
    every key the customer has a value for is present. ``interactions``, ``appointments``,
    ``reminders`` and ``documents`` appear only when asked for with ``include``.
    ``version`` is the record's version (the ``ETag``/``If-Match`` value).
    """

    id: str | UnsetType = UNSET
    organization_id: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    name_en: str | UnsetType = UNSET
    phone: str | UnsetType = UNSET
    whatsapp: str | UnsetType = UNSET
    email: str | UnsetType = UNSET
    national_id: str | UnsetType = UNSET
    nationality: str | UnsetType = UNSET
    employer: str | UnsetType = UNSET
    gender: Gender | UnsetType = UNSET
    date_of_birth: date | UnsetType = UNSET
    source: CustomerSource | UnsetType = UNSET
    source_details: dict[str, str] | UnsetType = UNSET
    stage: Stage | UnsetType = UNSET
    stage_history: list[StageChangeOut] | UnsetType = UNSET
    preferences: PreferencesOut | UnsetType = UNSET
    lead_score: int | UnsetType = UNSET
    ai_insights: AiInsightsOut | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    customer_type: CustomerType | UnsetType = UNSET
    tags: list[str] | UnsetType = UNSET
    assigned_employee: AssignedEmployeeOut | UnsetType = UNSET
    assigned_employee_id: str | UnsetType = UNSET
    properties: list[PropertyInterestOut] | UnsetType = UNSET
    interactions: list[InteractionOut] | UnsetType = UNSET
    appointments: list[AppointmentOut] | UnsetType = UNSET
    reminders: list[ReminderOut] | UnsetType = UNSET
    documents: list[DocumentOut] | UnsetType = UNSET
    consents: list[ConsentOut] | UnsetType = UNSET  # include=consents (admins; rules §8)
    total_deal_value: float | UnsetType = UNSET
    expected_revenue: float | UnsetType = UNSET
    paid_amount: float | UnsetType = UNSET
    created_at: datetime | UnsetType = UNSET
    updated_at: datetime | UnsetType = UNSET
    last_contact_at: datetime | UnsetType = UNSET
    last_contact_type: InteractionType | UnsetType = UNSET
    next_follow_up_date: date | UnsetType = UNSET
    city: str | UnsetType = UNSET
    district: str | UnsetType = UNSET
    region: str | UnsetType = UNSET
    address: str | UnsetType = UNSET
    latitude: float | UnsetType = UNSET
    longitude: float | UnsetType = UNSET
    notes: str | UnsetType = UNSET
    total_interactions: int | UnsetType = UNSET
    total_appointments: int | UnsetType = UNSET
    total_property_views: int | UnsetType = UNSET
    response_rate: int | UnsetType = UNSET
    avg_response_time: float | UnsetType = UNSET
    ksa_compliance: KsaComplianceOut | UnsetType = UNSET
    deleted_at: datetime | UnsetType = UNSET
    version: int | UnsetType = UNSET
    # Rules §10: the survivor a merged (deleted) customer went into; read by admins with
    # ``includeDeleted=true`` (docs/merging.md).
    merged_into: str | UnsetType = UNSET


CUSTOMER_FIELDS: Final[Mapping[str, str]] = {
    camel_case(name): name for name in CustomerOut.__struct_fields__
}
"""Wire key → attribute of :class:`CustomerOut` (what ``fields=`` accepts)."""


def customer_to_wire(
    customer: Customer,
    employee: Employee | None = None,
    *,
    interactions: Sequence[Interaction] | None = None,
    appointments: Sequence[Appointment] | None = None,
    reminders: Sequence[Reminder] | None = None,
    documents: Sequence[Document] | None = None,
    tz: Any = UTC,
) -> CustomerOut:
    """The wire form of a customer; relations given (even empty) are included.

    ``employee`` is the assigned employee when loaded; ``tz`` the organization's time zone (for
    appointments' local ``date``/``time``).
    """
    return to_wire(
        customer,
        CustomerOut,
        assigned_employee=(
            assigned_employee_to_wire(employee)
            if employee is not None and employee.id == customer.assigned_employee_id
            else UNSET
        ),
        properties=[property_interest_to_wire(i) for i in customer.property_interests],
        interactions=(
            [interaction_to_wire(i) for i in interactions] if interactions is not None else UNSET
        ),
        appointments=(
            [appointment_to_wire(a, tz) for a in appointments]
            if appointments is not None
            else UNSET
        ),
        reminders=[reminder_to_wire(r) for r in reminders] if reminders is not None else UNSET,
        documents=[document_to_wire(d) for d in documents] if documents is not None else UNSET,
    )


def wire_keys(struct: type[msgspec.Struct]) -> frozenset[str]:
    """The wire keys of a response Struct (what ``fields=`` may name)."""
    return frozenset(f.encode_name for f in msgspec.structs.fields(struct))


def parse_fields(
    raw: Iterable[str] | None, catalog: Iterable[str] = CUSTOMER_FIELDS
) -> tuple[str, ...] | None:
    """The wire keys of ``fields=`` (comma-separated and/or repeated), checked against
    ``catalog`` (the keys of the resource returned); None = all.

    400 on ``fields`` naming the unknown keys.
    """
    if raw is None:
        return None
    keys = [k.strip() for value in raw for k in value.split(",") if k.strip()]
    if not keys:
        return None
    known = frozenset(catalog)
    unknown = sorted({k for k in keys if k not in known})
    if unknown:
        raise ValidationFailed.single("fields", f"Unknown field(s): {', '.join(unknown)}")
    return tuple(dict.fromkeys(keys))


S = TypeVar("S", bound=msgspec.Struct)


def select_fields(resource: S, fields: Sequence[str] | None) -> S:
    """``resource`` (any response Struct) with only the wire keys in ``fields`` (all when None);
    ``id`` is always kept. The others are :data:`UNSET`, so they are omitted."""
    if fields is None:
        return resource
    keep = set(fields) | {"id"}
    cleared = {f.name: UNSET for f in msgspec.structs.fields(resource) if f.encode_name not in keep}
    return msgspec.structs.replace(resource, **cleared)

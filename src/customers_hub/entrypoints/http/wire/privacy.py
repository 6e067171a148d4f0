"""Wire schemas of privacy (rules §8): consents, data-subject requests, the access export.

Records become wire Structs through the one generic converter (:func:`~.convert.to_wire`): a
Struct field takes the record attribute of the same name, so no field is spelled twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec

from customers_hub.application.use_cases.privacy import ConsentLedger, PersonalData
from customers_hub.domain.privacy import (
    EXTENSION_DAYS_MAX,
    NOTES_MAX,
    REASON_MAX,
    SOURCE_MAX,
    ConsentChannel,
    ConsentEntry,
    PrivacyRequest,
    PrivacyRequestStats,
    RequestStatus,
    RequestType,
    is_overdue,
)
from customers_hub.entrypoints.http.wire.audit import AuditEntryFields
from customers_hub.entrypoints.http.wire.base import Pagination, Wire, WireIn
from customers_hub.entrypoints.http.wire.consent_out import ConsentOut
from customers_hub.entrypoints.http.wire.convert import out_of, to_wire
from customers_hub.entrypoints.http.wire.customer_out import CustomerOut, customer_to_wire
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
from customers_hub.entrypoints.http.wire.stats import PrivacyRequestStatsOut
from customers_hub.entrypoints.http.wire_actions import ActionOut, action_to_wire

__all__ = [
    "ConsentChangeIn",
    "ConsentOut",
    "ConsentsData",
    "ConsentsIn",
    "ExtendIn",
    "PersonalDataData",
    "PersonalDataOut",
    "PrivacyRequestData",
    "PrivacyRequestIn",
    "PrivacyRequestOut",
    "PrivacyRequestPatchIn",
    "PrivacyRequestStatsOut",
    "PrivacyRequestsData",
    "consents_to_wire",
    "personal_data_to_wire",
    "request_to_wire",
]

_SOURCE = Annotated[str, msgspec.Meta(min_length=1, max_length=SOURCE_MAX)]
_NOTES = Annotated[str, msgspec.Meta(max_length=NOTES_MAX)]
_REASON = Annotated[str, msgspec.Meta(max_length=REASON_MAX)]


# --- consents ----------------------------------------------------------------------------------


class ConsentsData(Wire, kw_only=True):
    """``data`` of ``GET|PUT /customers/{id}/consents``: ``consents`` is the current state
    (channels ever recorded, in the channels' order), ``history`` the newest entries first
    (at most 100)."""

    customer_id: str
    consents: list[ConsentOut]
    history: list[ConsentOut]


class ConsentChangeIn(WireIn, kw_only=True):
    """One channel's change."""

    channel: ConsentChannel
    granted: bool
    source: _SOURCE
    notes: _NOTES | None = None


class ConsentsIn(WireIn, kw_only=True):
    """``PUT /customers/{id}/consents``: one or more channel changes (each channel once)."""

    consents: Annotated[
        list[ConsentChangeIn], msgspec.Meta(min_length=1, max_length=len(ConsentChannel))
    ]


def consents_to_wire(ledger: ConsentLedger) -> ConsentsData:
    """The wire form of a customer's ledger."""
    return ConsentsData(
        customer_id=ledger.customer_id,
        consents=[to_wire(e, ConsentOut) for e in ledger.current.values()],
        history=[to_wire(e, ConsentOut) for e in ledger.history],
    )


def current_consents_to_wire(current: dict[ConsentChannel, ConsentEntry]) -> list[ConsentOut]:
    """The current state per channel (``include=consents``)."""
    return [to_wire(e, ConsentOut) for e in current.values()]


# --- requests ----------------------------------------------------------------------------------


# ``overdue`` is computed when read, ``extended`` is the record's own property.
_RequestFields: Any = out_of(
    PrivacyRequest,
    skip=("organization_id",),
    extra=(("overdue", bool, msgspec.field()), ("extended", bool, msgspec.field())),
)


class PrivacyRequestOut(_RequestFields):  # type: ignore[misc]  # fields made from the record
    """A data subject's request and its clock; ``overdue`` is computed when it is read."""


def request_to_wire(request: PrivacyRequest, now: datetime) -> PrivacyRequestOut:
    """The wire form of ``request`` as of ``now``."""
    return to_wire(
        request,
        PrivacyRequestOut,
        overdue=is_overdue(request, now),
    )


class PrivacyRequestData(Wire, kw_only=True):
    """``data`` of reading, creating or changing one request."""

    request: PrivacyRequestOut


class PrivacyRequestsData(Wire, kw_only=True):
    """``data`` of ``GET /privacy-requests``."""

    requests: list[PrivacyRequestOut]
    pagination: Pagination


class PrivacyRequestIn(WireIn, kw_only=True):
    """``POST /privacy-requests``; ``receivedAt`` defaults to now."""

    customer_id: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    type: RequestType
    received_at: datetime | None = None
    notes: _NOTES | None = None


class PrivacyRequestPatchIn(WireIn, kw_only=True):
    """``PATCH /privacy-requests/{id}``: the new ``status`` (a ``reason`` is required for
    ``rejected``)."""

    echoes = PrivacyRequestOut  # its read-only keys are checked and ignored

    status: RequestStatus
    reason: _REASON | None = None


class ExtendIn(WireIn, kw_only=True):
    """``POST /privacy-requests/{id}/extend``: the one extension, with its reason."""

    reason: _REASON
    days: Annotated[int, msgspec.Meta(ge=1, le=EXTENSION_DAYS_MAX)] = EXTENSION_DAYS_MAX


def request_stats_to_wire(stats: PrivacyRequestStats) -> PrivacyRequestStatsOut:
    """The wire form of the request numbers."""
    return to_wire(stats, PrivacyRequestStatsOut)


# --- the access export -------------------------------------------------------------------------


class AuditLineOut(AuditEntryFields):
    """One audit entry about the customer (as the timeline shows it)."""

    changes: list[dict[str, Any]]
    request_id: str | msgspec.UnsetType = msgspec.UNSET


class PersonalDataOut(Wire, kw_only=True):
    """Everything held about a customer (rules §8). Documents are metadata with their
    authorized download links (``fileUrl``); ``truncated`` names the relations that hold more
    rows than the export shows (1000 each)."""

    exported_at: datetime
    customer: CustomerOut
    interactions: list[InteractionOut]
    appointments: list[AppointmentOut]
    reminders: list[ReminderOut]
    documents: list[DocumentOut]
    actions: list[ActionOut]
    consents: list[ConsentOut]
    consent_history: list[ConsentOut]
    privacy_requests: list[PrivacyRequestOut]
    audit: list[AuditLineOut]
    truncated: list[str]


class PersonalDataData(Wire, kw_only=True):
    """``data`` of ``GET /customers/{id}/personal-data``."""

    personal_data: PersonalDataOut


def personal_data_to_wire(data: PersonalData, tz: Any) -> PersonalDataOut:
    """The wire form of an access export (``tz``: the organization's zone, for appointments'
    local date and time)."""
    return PersonalDataOut(
        exported_at=data.exported_at.astimezone(UTC),
        customer=customer_to_wire(data.customer, tz=tz),
        interactions=[interaction_to_wire(i) for i in data.interactions],
        appointments=[appointment_to_wire(a, tz) for a in data.appointments],
        reminders=[reminder_to_wire(r) for r in data.reminders],
        documents=[document_to_wire(d) for d in data.documents],
        actions=[action_to_wire(a, with_notes=True) for a in data.actions],
        consents=[to_wire(e, ConsentOut) for e in data.consents.values()],
        consent_history=[to_wire(e, ConsentOut) for e in data.consent_history],
        privacy_requests=[request_to_wire(r, data.exported_at) for r in data.privacy_requests],
        audit=[
            to_wire(e, AuditLineOut, changes=[c.to_json() for c in e.changes]) for e in data.audit
        ],
        truncated=list(data.truncated),
    )

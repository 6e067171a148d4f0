"""Privacy under the PDPL (rules §8) as data: consent channels, data-subject requests, their
status machine and their 30-day clock.

* **Consent** per customer and channel (:class:`ConsentChannel`): each change is an append-only
  :class:`ConsentEntry`; the current state of a channel is its last entry
  (:func:`current_consents`).
* **Requests** of a data subject (:class:`PrivacyRequest`): a :class:`RequestType`, a
  :class:`RequestStatus` moving along :data:`STATUS_TRANSITIONS` (a rejection needs a reason,
  :data:`REASON_REQUIRED`), ``due_at`` = the end of the local day :data:`RESPONSE_DAYS` days
  after receipt (:func:`due_at_for`), one extension of at most :data:`EXTENSION_DAYS_MAX` days
  with a reason, before ``due_at`` (:func:`extend`). Overdue: ``due_at`` passed and not closed
  (:func:`is_overdue`); due soon: open, not overdue, due by the end of the local day
  :data:`DUE_SOON_DAYS` days from today (:func:`due_soon_until`).

Pure: ``now`` and the organization's time zone are arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Final

from attrs import evolve, frozen

from customers_hub.domain.errors import (
    BusinessRuleViolation,
    FieldError,
    UnprocessableInput,
    ValidationFailed,
)
from customers_hub.domain.validation.texts import (
    NOTES_MAX_LENGTH,
    SHORT_TEXT_MAX_LENGTH,
    clean_text,
)

__all__ = [
    "CLOSED_STATUSES",
    "DUE_SOON_DAYS",
    "EXTENSION_DAYS_MAX",
    "NOTES_MAX",
    "OPEN_STATUSES",
    "PDPL_IN_FORCE",
    "REASON_MAX",
    "REASON_REQUIRED",
    "RESPONSE_DAYS",
    "SOURCE_MAX",
    "STATUS_TRANSITIONS",
    "ConsentChange",
    "ConsentChannel",
    "ConsentEntry",
    "PrivacyRequest",
    "PrivacyRequestStats",
    "RequestStatus",
    "RequestType",
    "change_status",
    "clean_reason",
    "current_consents",
    "due_at_for",
    "due_soon_until",
    "end_of_local_day",
    "extend",
    "is_overdue",
    "new_entries",
]

RESPONSE_DAYS: Final = 30
"""Days a brokerage has to answer a request (PDPL implementing regulation, art. 5)."""
EXTENSION_DAYS_MAX: Final = 30
"""The one extension may add at most this many days."""
DUE_SOON_DAYS: Final = 7
"""``dueSoon``: open requests due by the end of the local day this many days from today."""
PDPL_IN_FORCE: Final = date(2023, 9, 14)
"""No request can have been received under the PDPL before it came into force."""
SOURCE_MAX: Final = 100
NOTES_MAX: Final = NOTES_MAX_LENGTH
REASON_MAX: Final = SHORT_TEXT_MAX_LENGTH


class ConsentChannel(StrEnum):
    """What a customer may consent to be contacted by (or for)."""

    WHATSAPP = "whatsapp"
    SMS = "sms"
    EMAIL = "email"
    CALL = "call"
    MARKETING = "marketing"


class RequestType(StrEnum):
    """The data subject's rights (PDPL art. 4)."""

    ACCESS = "access"
    CORRECTION = "correction"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    OBJECTION = "objection"


class RequestStatus(StrEnum):
    """Where a request stands."""

    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"


STATUS_TRANSITIONS: Final[Mapping[RequestStatus, frozenset[RequestStatus]]] = {
    RequestStatus.RECEIVED: frozenset({RequestStatus.IN_PROGRESS}),
    RequestStatus.IN_PROGRESS: frozenset({RequestStatus.COMPLETED, RequestStatus.REJECTED}),
    RequestStatus.COMPLETED: frozenset(),
    RequestStatus.REJECTED: frozenset(),
}
"""The moves a request may make (rules §8): received → in_progress → completed | rejected."""
REASON_REQUIRED: Final = frozenset({RequestStatus.REJECTED})
"""Statuses that must be given with a reason."""
CLOSED_STATUSES: Final = frozenset(s for s, after in STATUS_TRANSITIONS.items() if not after)
OPEN_STATUSES: Final = frozenset(RequestStatus) - CLOSED_STATUSES


# --- consents ----------------------------------------------------------------------------------


@frozen(kw_only=True)
class ConsentChange:
    """One channel's change as asked for (``PUT …/consents``), before it is recorded."""

    channel: ConsentChannel
    granted: bool
    source: str
    notes: str | None = None


@frozen(kw_only=True)
class ConsentEntry:
    """One recorded change of a customer's consent on a channel (append-only)."""

    id: str
    organization_id: str
    customer_id: str
    channel: ConsentChannel
    granted: bool
    source: str
    at: datetime
    actor_id: str
    notes: str | None = None


def _clean_change(index: int, change: ConsentChange) -> ConsentChange:
    prefix = f"consents[{index}]"
    source = clean_text(f"{prefix}.source", change.source, max_length=SOURCE_MAX)
    if not source:
        raise ValidationFailed.single(f"{prefix}.source", "must not be blank")
    notes = None
    if change.notes is not None:
        notes = (
            clean_text(f"{prefix}.notes", change.notes, max_length=NOTES_MAX, multiline=True)
            or None
        )
    return evolve(change, source=source, notes=notes)


def new_entries(
    changes: Iterable[ConsentChange],
    current: Mapping[ConsentChannel, ConsentEntry],
    *,
    ids: Iterable[str],
    organization_id: str,
    customer_id: str,
    actor_id: str,
    now: datetime,
) -> list[ConsentEntry]:
    """The entries ``changes`` append to a customer's ledger whose current state is
    ``current``. Every bad change is reported at once (``consents[i].field``); a channel given
    twice is refused. A change that repeats the current entry exactly (same ``granted``,
    ``source`` and ``notes``: a retried request) appends nothing."""
    errors: list[FieldError] = []
    repeated: list[FieldError] = []  # well-formed, but one change per channel: 422
    cleaned: list[ConsentChange] = []
    seen: set[ConsentChannel] = set()
    for index, change in enumerate(changes):
        try:
            cleaned.append(_clean_change(index, change))
        except ValidationFailed as bad:
            errors.extend(bad.errors)
        if change.channel in seen:
            repeated.append(FieldError(f"consents[{index}].channel", "is given twice"))
        seen.add(change.channel)
    if not seen:
        errors.append(FieldError("consents", "must name at least one channel"))
    if errors:
        raise ValidationFailed([*errors, *repeated])
    if repeated:
        raise UnprocessableInput(repeated)
    id_iter = iter(ids)
    entries: list[ConsentEntry] = []
    for change in cleaned:
        last = current.get(change.channel)
        if last is not None and (last.granted, last.source, last.notes) == (
            change.granted,
            change.source,
            change.notes,
        ):
            continue
        entries.append(
            ConsentEntry(
                id=next(id_iter),
                organization_id=organization_id,
                customer_id=customer_id,
                channel=change.channel,
                granted=change.granted,
                source=change.source,
                at=now,
                actor_id=actor_id,
                notes=change.notes,
            )
        )
    return entries


def current_consents(history: Iterable[ConsentEntry]) -> dict[ConsentChannel, ConsentEntry]:
    """The current state per channel: its last entry (by ``at``, then ``id``)."""
    current: dict[ConsentChannel, ConsentEntry] = {}
    for entry in sorted(history, key=lambda e: (e.at, e.id)):
        current[entry.channel] = entry
    return current


# --- requests and their clock ------------------------------------------------------------------


def end_of_local_day(day: date, zone: tzinfo) -> datetime:
    """The last instant (microsecond) of ``day`` in ``zone``, as an aware datetime."""
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return next_midnight - timedelta(microseconds=1)


def due_at_for(received_at: datetime, zone: tzinfo) -> datetime:
    """``dueAt``: the end of the local day :data:`RESPONSE_DAYS` days after receipt."""
    received_day = received_at.astimezone(zone).date()
    return end_of_local_day(received_day + timedelta(days=RESPONSE_DAYS), zone)


def due_soon_until(now: datetime, zone: tzinfo) -> datetime:
    """The last ``dueAt`` that is "due soon" at ``now``: the end of the local day
    :data:`DUE_SOON_DAYS` days from today."""
    today = now.astimezone(zone).date()
    return end_of_local_day(today + timedelta(days=DUE_SOON_DAYS), zone)


def clean_reason(field: str, reason: str | None, *, required: bool) -> str | None:
    """A reason cleaned as a one-line text; blank counts as absent (400 when required)."""
    cleaned = clean_text(field, reason, max_length=REASON_MAX) if reason is not None else ""
    if not cleaned:
        if required:
            raise ValidationFailed.single(field, "is required")
        return None
    return cleaned


@frozen(kw_only=True)
class PrivacyRequest:
    """A data subject's request and its clock."""

    id: str
    organization_id: str
    customer_id: str
    type: RequestType
    status: RequestStatus
    received_at: datetime
    due_at: datetime
    original_due_at: datetime
    created_at: datetime
    updated_at: datetime
    created_by: str
    extended_at: datetime | None = None
    extension_reason: str | None = None
    reason: str | None = None
    notes: str | None = None
    closed_at: datetime | None = None
    version: int = 1

    @property
    def is_open(self) -> bool:
        """Neither completed nor rejected."""
        return self.status in OPEN_STATUSES

    @property
    def extended(self) -> bool:
        """The one extension was used."""
        return self.extended_at is not None


def is_overdue(request: PrivacyRequest, now: datetime) -> bool:
    """``dueAt`` passed and the request is not closed."""
    return request.is_open and request.due_at < now


def change_status(
    request: PrivacyRequest, to: RequestStatus, reason: str | None, now: datetime
) -> PrivacyRequest:
    """The request moved to ``to``: 422 (``details.field: "status"``) for a move
    :data:`STATUS_TRANSITIONS` does not allow, 400 on ``reason`` when ``to`` needs one."""
    if to not in STATUS_TRANSITIONS[request.status]:
        allowed = sorted(s.value for s in STATUS_TRANSITIONS[request.status])
        raise BusinessRuleViolation(
            f"status cannot move from {request.status.value} to {to.value}"
            + (f"; allowed: {', '.join(allowed)}" if allowed else " (the request is closed)"),
            {"field": "status", "from": request.status.value, "to": to.value, "allowed": allowed},
        )
    cleaned = clean_reason("reason", reason, required=to in REASON_REQUIRED)
    return evolve(
        request,
        status=to,
        reason=cleaned if cleaned is not None else request.reason,
        closed_at=now if to in CLOSED_STATUSES else None,
        updated_at=now,
    )


def extend(
    request: PrivacyRequest, days: int, reason: str | None, now: datetime, zone: tzinfo
) -> PrivacyRequest:
    """The request with its one extension: ``dueAt`` moved to the end of the local day ``days``
    (1 … :data:`EXTENSION_DAYS_MAX`) days after the current due day. 400 on ``days`` or
    ``reason``; 422 (``details.field``) once extended, closed, or past ``dueAt``."""
    errors: list[FieldError] = []
    if not 1 <= days <= EXTENSION_DAYS_MAX:
        errors.append(FieldError("days", f"must be between 1 and {EXTENSION_DAYS_MAX}"))
    try:
        cleaned = clean_reason("reason", reason, required=True)
    except ValidationFailed as bad:
        errors.extend(bad.errors)
    if errors:
        raise ValidationFailed(errors)
    if request.extended:
        raise BusinessRuleViolation(
            "a request can be extended once; this one already was", {"field": "extendedAt"}
        )
    if not request.is_open:
        raise BusinessRuleViolation(
            f"a {request.status.value} request cannot be extended", {"field": "status"}
        )
    if now > request.due_at:
        raise BusinessRuleViolation("an extension must be made before dueAt", {"field": "dueAt"})
    due_day = request.due_at.astimezone(zone).date()
    return evolve(
        request,
        due_at=end_of_local_day(due_day + timedelta(days=days), zone),
        extended_at=now,
        extension_reason=cleaned,
        updated_at=now,
    )


@frozen(kw_only=True)
class PrivacyRequestStats:
    """The organization's request numbers (the customer statistics' ``privacyRequests``)."""

    open: int
    overdue: int
    due_soon: int

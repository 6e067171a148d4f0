"""Use cases of privacy under the PDPL (rules §8): the consent ledger, data-subject requests
and their clock, and the access export of everything held about a customer.

Every operation here is an admin's (other roles 403 whatever the id), is audited (writes run
through :func:`~customers_hub.application.write_context.transaction_as`; the export appends a
``customer.personal_data_exported`` entry in its own transaction) and emits a domain event.
Another organization's customer or request reads exactly like one that does not exist (404).
Each write takes ``(deps, repositories, actor, command)``: the command names the customer
(:class:`RecordConsents`, :class:`CreatePrivacyRequest`) or the request (a
:class:`PrivacyRequestCommand`); nothing else is passed beside it.

Decisions where the rules are silent (``docs/compliance.md``):

* A consent entry's ``at`` is when it was recorded (the server's clock), so the ledger's order
  is the order of the writes. A change that repeats a channel's current entry exactly (same
  ``granted``, ``source`` and ``notes``: a retried request) appends nothing and emits nothing.
* Consents and requests may be recorded for a soft-deleted customer (its data is still held).
* Statuses move ``received → in_progress → completed | rejected``; a rejection needs a
  ``reason`` (optional on completion). Any other move is 422 naming ``status``.
* ``dueSoon``: open, not overdue, ``dueAt`` by the end of the local day seven days from today.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from typing import TypeVar, cast

from attrs import evolve, frozen

from customers_hub.application.context import Dependencies, present
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.ports_privacy import (
    PrivacyRepository,
    PrivacyRepositoryFactory,
    RequestFilter,
)
from customers_hub.application.queries import MAX_LIMIT, Page, PageRequest
from customers_hub.application.use_cases.settings import organization_zone, settings_in
from customers_hub.application.write_context import transaction_as
from customers_hub.domain.access import require_admin_role
from customers_hub.domain.audit import AuditEntry, jsonable
from customers_hub.domain.errors import FieldError, NotFound, ValidationFailed
from customers_hub.domain.events import (
    ConsentChanged,
    DomainEvent,
    PersonalDataExported,
    PrivacyRequestCreated,
    PrivacyRequestUpdated,
)
from customers_hub.domain.model import (
    Actor,
    Appointment,
    Customer,
    CustomerAction,
    Document,
    Interaction,
    Reminder,
)
from customers_hub.domain.naming import camel_case
from customers_hub.domain.privacy import (
    EXTENSION_DAYS_MAX,
    NOTES_MAX,
    PDPL_IN_FORCE,
    ConsentChange,
    ConsentChannel,
    ConsentEntry,
    PrivacyRequest,
    PrivacyRequestStats,
    RequestStatus,
    RequestType,
    change_status,
    due_at_for,
    due_soon_until,
    extend,
    new_entries,
)
from customers_hub.domain.validation.texts import clean_text

__all__ = [
    "CONSENT_HISTORY_LIMIT",
    "EXPORT_RELATION_LIMIT",
    "REQUESTS_DEFAULT_LIMIT",
    "ChangeRequestStatus",
    "ConsentLedger",
    "CreatePrivacyRequest",
    "ExtendPrivacyRequest",
    "ListPrivacyRequests",
    "PersonalData",
    "PrivacyRequestCommand",
    "RecordConsents",
    "change_request_status",
    "create_privacy_request",
    "export_personal_data",
    "extend_privacy_request",
    "get_consents",
    "get_privacy_request",
    "list_privacy_requests",
    "privacy_request_stats",
    "record_consents",
    "require_admin",
]

CONSENT_HISTORY_LIMIT = 100
"""Newest ledger entries a consent answer shows (the export shows up to its own limit)."""
REQUESTS_DEFAULT_LIMIT = 20
EXPORT_RELATION_LIMIT = 1000
"""Rows of each relation the access export reads (one bounded statement each); a relation
with more is marked ``truncated`` in the document."""
_CUSTOMER = "customer"
T = TypeVar("T")
_REQUEST = "privacy_request"
_RELATION_KINDS = frozenset({"interactions", "appointments", "reminders", "documents"})


def require_admin(actor: Actor) -> None:
    """403 unless the actor is an admin: every privacy operation is (rules §8)."""
    require_admin_role(actor, "perform privacy operations")


# --- consents ----------------------------------------------------------------------------------


@frozen
class ConsentLedger:
    """A customer's current consent per channel and its newest history entries."""

    customer_id: str
    current: dict[ConsentChannel, ConsentEntry]
    history: tuple[ConsentEntry, ...]


def _repositories(deps: Dependencies) -> PrivacyRepositoryFactory:
    return present(deps.privacy, "privacy")


async def _ledger(repo: PrivacyRepository, organization_id: str, customer_id: str) -> ConsentLedger:
    current = await repo.current_consents(organization_id, customer_id)
    history = await repo.consent_history(organization_id, customer_id, CONSENT_HISTORY_LIMIT)
    return ConsentLedger(customer_id, current, tuple(history))


async def get_consents(deps: Dependencies, actor: Actor, customer_id: str) -> ConsentLedger:
    """``GET /customers/{id}/consents``: the current state and the newest history."""
    repositories = _repositories(deps)
    require_admin(actor)
    async with deps.uow(read_only=True) as uow:
        repo = repositories(uow)
        if not await repo.customer_exists(actor.organization_id, customer_id):
            raise NotFound(_CUSTOMER, customer_id)
        return await _ledger(repo, actor.organization_id, customer_id)


@frozen(kw_only=True)
class RecordConsents:
    """``PUT /customers/{id}/consents``: the customer and one change per channel."""

    customer_id: str
    changes: tuple[ConsentChange, ...]


async def record_consents(
    deps: Dependencies,
    actor: Actor,
    command: RecordConsents,
) -> ConsentLedger:
    """``PUT /customers/{id}/consents``: append one entry per changed channel (400 naming
    ``consents[i].field`` for a bad one; nothing is written then) and answer the ledger."""
    repositories = _repositories(deps)
    require_admin(actor)
    customer_id, changes = command.customer_id, command.changes

    async def work(uow: UnitOfWork) -> tuple[ConsentLedger, list[DomainEvent]]:
        repo = repositories(uow)
        organization_id = actor.organization_id
        if not await repo.lock_customer(organization_id, customer_id):
            raise NotFound(_CUSTOMER, customer_id)
        now = deps.clock.now()
        current = await repo.current_consents(organization_id, customer_id)
        entries = new_entries(
            changes,
            current,
            ids=(deps.ids.new_id("cns") for _ in changes),
            organization_id=organization_id,
            customer_id=customer_id,
            actor_id=actor.user_id,
            now=now,
        )
        if not entries:
            return await _ledger(repo, organization_id, customer_id), []
        await repo.append_consents(entries)
        event = ConsentChanged(
            organization_id=organization_id,
            occurred_at=now,
            customer_id=customer_id,
            channels={e.channel.value: e.granted for e in entries},
        )
        return await _ledger(repo, organization_id, customer_id), [event]

    return await transaction_as(deps, actor, work)


# --- requests ----------------------------------------------------------------------------------


@frozen(kw_only=True)
class CreatePrivacyRequest:
    """``POST /privacy-requests``; ``received_at`` None means now."""

    customer_id: str
    type: RequestType
    received_at: datetime | None = None
    notes: str | None = None


def _received_at(raw: datetime | None, now: datetime) -> datetime:
    if raw is None:
        return now
    if raw.tzinfo is None:
        raise ValidationFailed.single("receivedAt", "must carry a time zone (Z or an offset)")
    if raw > now:
        raise ValidationFailed.single("receivedAt", "must not be in the future")
    if raw.date() < PDPL_IN_FORCE:
        raise ValidationFailed.single(
            "receivedAt", f"must not be before {PDPL_IN_FORCE.isoformat()} (the PDPL in force)"
        )
    return raw


def _notes(notes: str | None) -> str | None:
    if notes is None:
        return None
    return clean_text("notes", notes, max_length=NOTES_MAX, multiline=True) or None


async def create_privacy_request(
    deps: Dependencies,
    actor: Actor,
    command: CreatePrivacyRequest,
) -> PrivacyRequest:
    """Log a request of the customer with its clock: ``dueAt`` is the end of the local day
    (the organization's time zone) 30 days after receipt."""
    repositories = _repositories(deps)
    require_admin(actor)
    now = deps.clock.now()
    errors: list[FieldError] = []
    received_at = now
    notes = None
    for check in ("receivedAt", "notes"):
        try:
            if check == "receivedAt":
                received_at = _received_at(command.received_at, now)
            else:
                notes = _notes(command.notes)
        except ValidationFailed as bad:
            errors.extend(bad.errors)
    if errors:
        raise ValidationFailed(errors)

    async def work(uow: UnitOfWork) -> tuple[PrivacyRequest, list[DomainEvent]]:
        repo = repositories(uow)
        organization_id = actor.organization_id
        if not await repo.customer_exists(organization_id, command.customer_id):
            raise NotFound(_CUSTOMER, command.customer_id)
        zone = (await settings_in(deps, uow, organization_id)).zone
        due_at = due_at_for(received_at, zone)
        request = PrivacyRequest(
            id=deps.ids.new_id("prq"),
            organization_id=organization_id,
            customer_id=command.customer_id,
            type=command.type,
            status=RequestStatus.RECEIVED,
            received_at=received_at,
            due_at=due_at,
            original_due_at=due_at,
            created_at=now,
            updated_at=now,
            created_by=actor.user_id,
            notes=notes,
        )
        await repo.add_request(request)
        event = PrivacyRequestCreated(
            organization_id=organization_id,
            occurred_at=now,
            request_id=request.id,
            customer_id=request.customer_id,
            request_type=request.type.value,
            due_at=request.due_at,
        )
        return request, [event]

    return await transaction_as(deps, actor, work)


async def get_privacy_request(deps: Dependencies, actor: Actor, request_id: str) -> PrivacyRequest:
    """One request of the organization (404 otherwise)."""
    repositories = _repositories(deps)
    require_admin(actor)
    async with deps.uow(read_only=True) as uow:
        found = await repositories(uow).get_request(actor.organization_id, request_id)
    if found is None:
        raise NotFound(_REQUEST, request_id)
    return found


@frozen(kw_only=True)
class ListPrivacyRequests:
    """``GET /privacy-requests``: paging and filters (all given ones must hold)."""

    page: int = 1
    limit: int = REQUESTS_DEFAULT_LIMIT
    statuses: tuple[RequestStatus, ...] = ()
    types: tuple[RequestType, ...] = ()
    customer_id: str | None = None
    overdue: bool | None = None
    due_soon: bool | None = None


async def list_privacy_requests(
    deps: Dependencies,
    actor: Actor,
    params: ListPrivacyRequests,
) -> Page[PrivacyRequest]:
    """The organization's requests, newest received first. ``overdue=true``: open and past
    ``dueAt``; ``dueSoon=true``: open, not overdue, due by the end of the local day seven days
    from today; ``false``: every other request."""
    repositories = _repositories(deps)
    require_admin(actor)
    errors: list[FieldError] = []
    if params.page < 1:
        errors.append(FieldError("page", "must be at least 1"))
    if not 1 <= params.limit <= MAX_LIMIT:
        errors.append(FieldError("limit", f"must be between 1 and {MAX_LIMIT}"))
    if errors:
        raise ValidationFailed(errors)
    now = deps.clock.now()
    zone = await organization_zone(deps, actor.organization_id)
    where = RequestFilter(
        now=now,
        due_soon_until=due_soon_until(now, zone),
        statuses=params.statuses,
        types=params.types,
        customer_id=params.customer_id,
        overdue=params.overdue,
        due_soon=params.due_soon,
    )
    async with deps.uow(read_only=True) as uow:
        return await repositories(uow).list_requests(
            actor.organization_id, where, page=params.page, limit=params.limit
        )


_Apply = Callable[[PrivacyRequest, datetime, tzinfo], PrivacyRequest]
"""A change of a loaded request at ``now`` in the organization's zone (status, extension)."""

_EVENT_FIELDS = ("status", "due_at", "extended_at", "closed_at")
"""What a request's ``privacy_request.updated`` event says changed."""


def _changed_fields(before: PrivacyRequest, after: PrivacyRequest) -> dict[str, object]:
    return {
        camel_case(name): jsonable(getattr(after, name))
        for name in _EVENT_FIELDS
        if getattr(before, name) != getattr(after, name)
    }


@frozen(kw_only=True)
class PrivacyRequestCommand:
    """A change of one privacy request: the request's id. Every request change's command is one
    of these, so the field is declared here only; the routes take no ``If-Match`` (the
    request's stored version guards the save)."""

    request_id: str


@frozen(kw_only=True)
class ChangeRequestStatus(PrivacyRequestCommand):
    """``PATCH /privacy-requests/{id}``: the new ``status`` (``reason`` required to reject)."""

    status: RequestStatus
    reason: str | None = None


@frozen(kw_only=True)
class ExtendPrivacyRequest(PrivacyRequestCommand):
    """``POST /privacy-requests/{id}/extend``: the one extension by ``days`` (1–30)."""

    reason: str
    days: int = EXTENSION_DAYS_MAX


async def _update_request(
    deps: Dependencies,
    actor: Actor,
    command: PrivacyRequestCommand,
    apply: _Apply,
) -> PrivacyRequest:
    repositories = _repositories(deps)
    request_id = command.request_id

    async def work(uow: UnitOfWork) -> tuple[PrivacyRequest, list[DomainEvent]]:
        repo = repositories(uow)
        current = await repo.get_request(actor.organization_id, request_id, for_update=True)
        if current is None:
            raise NotFound(_REQUEST, request_id)
        now = deps.clock.now()
        zone = (await settings_in(deps, uow, actor.organization_id)).zone
        changed = apply(current, now, zone)
        await repo.save_request(changed, expected_version=current.version)
        changed = evolve(changed, version=current.version + 1)
        event = PrivacyRequestUpdated(
            organization_id=actor.organization_id,
            occurred_at=now,
            request_id=changed.id,
            customer_id=changed.customer_id,
            status=changed.status.value,
            changes=_changed_fields(current, changed),
        )
        return changed, [event]

    return await transaction_as(deps, actor, work)


async def change_request_status(
    deps: Dependencies,
    actor: Actor,
    command: ChangeRequestStatus,
) -> PrivacyRequest:
    """Move the request along ``received → in_progress → completed | rejected`` (422 naming
    ``status`` otherwise; 400 on ``reason`` for a rejection without one)."""
    require_admin(actor)

    def apply(request: PrivacyRequest, now: datetime, zone: tzinfo) -> PrivacyRequest:
        return change_status(request, command.status, command.reason, now)

    return await _update_request(deps, actor, command, apply)


async def extend_privacy_request(
    deps: Dependencies,
    actor: Actor,
    command: ExtendPrivacyRequest,
) -> PrivacyRequest:
    """Use the request's one extension: ``dueAt`` moves ``days`` (1–30) local days later;
    only before ``dueAt``, with a reason, while the request is open (422 naming the field)."""
    require_admin(actor)

    def apply(request: PrivacyRequest, now: datetime, zone: tzinfo) -> PrivacyRequest:
        return extend(request, command.days, command.reason, now, zone)

    return await _update_request(deps, actor, command, apply)


async def privacy_request_stats(deps: Dependencies, actor: Actor) -> PrivacyRequestStats:
    """The organization's open, overdue and due-soon request counts (admins; the customer
    statistics show them to admins only)."""
    repositories = _repositories(deps)
    require_admin(actor)
    now = deps.clock.now()
    zone = await organization_zone(deps, actor.organization_id)
    async with deps.uow(read_only=True) as uow:
        return await repositories(uow).request_stats(
            actor.organization_id, now, due_soon_until(now, zone)
        )


# --- the access export -------------------------------------------------------------------------


@frozen(kw_only=True)
class PersonalData:
    """Everything held about a customer (rules §8 access export), each relation bounded by
    :data:`EXPORT_RELATION_LIMIT`; ``truncated`` names the relations that hold more."""

    customer: Customer
    exported_at: datetime
    interactions: tuple[Interaction, ...]
    appointments: tuple[Appointment, ...]
    reminders: tuple[Reminder, ...]
    documents: tuple[Document, ...]
    actions: tuple[CustomerAction, ...]
    consents: dict[ConsentChannel, ConsentEntry]
    consent_history: tuple[ConsentEntry, ...]
    privacy_requests: tuple[PrivacyRequest, ...]
    audit: tuple[AuditEntry, ...]
    truncated: tuple[str, ...] = ()


def _bounded(name: str, rows: Sequence[T], truncated: list[str]) -> tuple[T, ...]:
    if len(rows) > EXPORT_RELATION_LIMIT:
        truncated.append(name)
    return tuple(rows[:EXPORT_RELATION_LIMIT])


async def export_personal_data(
    deps: Dependencies,
    actor: Actor,
    customer_id: str,
) -> PersonalData:
    """``GET /customers/{id}/personal-data``: one document of everything held about the
    customer, read in the transaction that appends its audit entry (a constant number of
    bounded statements: one per relation)."""
    repositories = _repositories(deps)
    log = present(deps.audit, "audit")
    require_admin(actor)
    organization_id = actor.organization_id
    limit = EXPORT_RELATION_LIMIT + 1  # one more tells that a relation was cut

    async def work(uow: UnitOfWork) -> tuple[PersonalData, list[DomainEvent]]:
        customer = await uow.customers.get(organization_id, customer_id)
        if customer is None:
            raise NotFound(_CUSTOMER, customer_id)
        repo = repositories(uow)
        relations = await uow.relations.list_for_customer(
            organization_id, customer_id, _RELATION_KINDS, limit
        )
        action_ids = await repo.customer_action_ids(organization_id, customer_id, limit)
        actions = await uow.actions.get_many(organization_id, action_ids[:EXPORT_RELATION_LIMIT])
        current = await repo.current_consents(organization_id, customer_id)
        history = await repo.consent_history(organization_id, customer_id, limit)
        requests = await repo.customer_requests(organization_id, customer_id, limit)
        truncated: list[str] = []
        now = deps.clock.now()
        data = PersonalData(
            customer=customer,
            exported_at=now,
            interactions=_bounded(
                "interactions", cast(list[Interaction], relations["interactions"]), truncated
            ),
            appointments=_bounded(
                "appointments", cast(list[Appointment], relations["appointments"]), truncated
            ),
            reminders=_bounded(
                "reminders", cast(list[Reminder], relations["reminders"]), truncated
            ),
            documents=_bounded(
                "documents", cast(list[Document], relations["documents"]), truncated
            ),
            actions=tuple(actions[i] for i in action_ids[:EXPORT_RELATION_LIMIT] if i in actions),
            consents=current,
            consent_history=_bounded("consentHistory", history, truncated),
            privacy_requests=_bounded("privacyRequests", requests, truncated),
            audit=(),
            truncated=tuple(truncated),
        )
        if len(action_ids) > EXPORT_RELATION_LIMIT:
            data = evolve(data, truncated=(*data.truncated, "actions"))
        event = PersonalDataExported(
            organization_id=organization_id,
            occurred_at=now,
            customer_id=customer_id,
            user_id=actor.user_id,
        )
        return data, [event]

    data = await transaction_as(deps, actor, work)
    # The audit trail is read after the export's own entry is committed, so it shows it: pages
    # of the timeline (at most MAX_LIMIT each) up to the export's bound.
    audit: list[AuditEntry] = []
    cursor = ""
    while True:
        page = await log.customer_page(
            organization_id, customer_id, PageRequest(limit=MAX_LIMIT, cursor=cursor)
        )
        audit.extend(page.items)
        if not page.has_next or page.next_cursor is None:
            break
        if len(audit) >= EXPORT_RELATION_LIMIT:
            return evolve(
                data,
                audit=tuple(audit[:EXPORT_RELATION_LIMIT]),
                truncated=(*data.truncated, "audit"),
            )
        cursor = page.next_cursor
    return evolve(data, audit=tuple(audit))

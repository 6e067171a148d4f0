"""The audit trail as data: who changed what, field by field (issue 10).

Every write appends one :class:`AuditEntry` per entity it changed — a customer, one of its
relations (property interest, interaction, appointment, reminder, document), an action or an
action's note, an employee, the organization's settings — and one per export. An entry says who
(``actor_id``, ``actor_name``), why (``request_id``), what (``action``, ``entity_type``,
``entity_id``) and how (``changes``: ``{field, from, to}`` with the API's camelCase field names
and JSON values). Entries are append-only; personal values (:data:`PERSONAL_FIELDS`) can be
masked (:func:`mask_changes`), which is what the erasure of a customer does to its entries.

Everything here is pure: the repositories record :class:`Change` records (an entity before and
after a write), :func:`entries_for` turns them into entries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Final

import attrs
from attrs import frozen

from customers_hub.domain.assignment import AssignmentRule
from customers_hub.domain.enums import ActionStatus, ReminderStatus
from customers_hub.domain.fields import personal_fields
from customers_hub.domain.model import (
    ActionNote,
    Appointment,
    Customer,
    CustomerAction,
    CustomerFields,
    Document,
    Employee,
    Interaction,
    PropertyInterest,
    Reminder,
)
from customers_hub.domain.naming import camel_case
from customers_hub.domain.privacy import ConsentEntry, PrivacyRequest
from customers_hub.domain.settings import OrganizationSettings

__all__ = [
    "MASK",
    "PERSONAL_FIELDS",
    "AuditEntry",
    "AuditSubject",
    "Change",
    "DraftEntry",
    "EntityType",
    "FieldChange",
    "Write",
    "diff",
    "entries_for",
    "is_personal",
    "jsonable",
    "mask_changes",
]

MASK: Final = "***"
"""What a masked personal value reads as."""

PERSONAL_FIELDS: Final[frozenset[str]] = frozenset(
    {
        # The customer's identity and contact (rules §8 erasure list).
        "name",
        "nameEn",
        "phone",
        "whatsapp",
        "email",
        "nationalId",
        "dateOfBirth",
        "address",
        "latitude",
        "longitude",
        "sourceDetails",
        # KSA compliance records naming people or their files.
        "tenantName",
        "landlordName",
        "contractNumber",
        "beneficiaryNumber",
        # Free text of the customer and its relations, and texts that carry the customer's name
        # (system actions' titles, an action's customerName, a document's file name).
        "notes",
        "description",
        "content",
        "feedback",
        "outcome",
        "location",
        "dismissReason",
        "title",
        "titleEn",
        "customerName",
        # Fields declared personal where they are declared (domain.fields.writable).
        *(camel_case(name) for name in personal_fields(CustomerFields)),
    }
)
"""Personal fields, by the last segment of their camelCase path (``ksaCompliance.ejar.tenantName``
is personal because ``tenantName`` is). Ids, stages, dates of the process, amounts and
counters are not: statistics stay explainable after an erasure."""


class EntityType(StrEnum):
    """What an entry is about (``entityType``)."""

    CUSTOMER = "customer"
    PROPERTY_INTEREST = "propertyInterest"
    INTERACTION = "interaction"
    APPOINTMENT = "appointment"
    REMINDER = "reminder"
    DOCUMENT = "document"
    ACTION = "action"
    ACTION_NOTE = "actionNote"
    EMPLOYEE = "employee"
    ORGANIZATION_SETTINGS = "organizationSettings"
    EXPORT = "export"
    IMPORT = "import"
    ASSIGNMENT_RULE = "assignmentRule"
    CONSENT = "consent"
    PRIVACY_REQUEST = "privacyRequest"


AuditSubject = (
    Customer
    | PropertyInterest
    | Interaction
    | Appointment
    | Reminder
    | Document
    | CustomerAction
    | ActionNote
    | Employee
    | OrganizationSettings
    | AssignmentRule
    | ConsentEntry
    | PrivacyRequest
)
"""What a :class:`Change` records."""


@frozen
class FieldChange:
    """One field of an entry: its camelCase path and JSON values before and after."""

    field: str
    from_: object
    to: object

    def to_json(self) -> dict[str, object]:
        """The stored and wire form ``{field, from, to}``."""
        return {"field": self.field, "from": self.from_, "to": self.to}

    @classmethod
    def from_json(cls, value: Mapping[str, object]) -> FieldChange:
        """The inverse of :meth:`to_json`."""
        return cls(str(value["field"]), value.get("from"), value.get("to"))


class Write(StrEnum):
    """What a repository did to a row."""

    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"


@frozen
class Change:
    """One entity written by a unit of work, as the repository saw it.

    ``before`` is None for an insert and for an update of a row the repository had not loaded
    (its stored state is unknown: the entry then lists the values written); ``after`` is None
    for a delete. ``customer_id`` is the customer whose timeline shows it (None for employees
    and settings). ``context`` holds fields the entry shows besides the entity's own (the
    assignment rule that chose a new customer's assignee: ``assignmentRuleId``).
    """

    write: Write
    entity_type: EntityType
    organization_id: str
    entity_id: str
    customer_id: str | None
    before: AuditSubject | None
    after: AuditSubject | None
    context: tuple[FieldChange, ...] = ()


@frozen(kw_only=True)
class AuditEntry:
    """One line of the audit trail."""

    id: str
    organization_id: str
    at: datetime
    actor_id: str
    actor_name: str
    action: str
    entity_type: str
    entity_id: str
    customer_id: str | None
    changes: tuple[FieldChange, ...] = ()
    request_id: str | None = None


# --- values and differences ------------------------------------------------------------------


def jsonable(value: object, *, instant: Callable[[datetime], str] = datetime.isoformat) -> object:
    """``value`` as JSON: enums by value, days in ISO 8601 and instants through ``instant`` (ISO
    8601 by default; the real-time events write theirs with ``Z``), money and numbers as JSON
    numbers (whole ones as integers, like the API), tuples as lists, attrs objects as camelCase
    objects. The one converter of the audit trail, the outbox and the real-time events."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Enum):
        return jsonable(value.value, instant=instant)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, instant=instant) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v, instant=instant) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    cls = type(value)
    if attrs.has(cls):
        return {
            camel_case(a.name): jsonable(getattr(value, a.name), instant=instant)
            for a in attrs.fields(cls)
        }
    return str(value)


def _empty(value: object) -> bool:
    return value is None or value == () or value == {} or value == ""


def diff(
    before: object | None,
    after: object | None,
    *,
    skip: Iterable[str] = (),
    names: Mapping[str, str] | None = None,
    prefix: str = "",
) -> tuple[FieldChange, ...]:
    """The fields that differ between two attrs objects of one class, in declaration order.

    A nested attrs object (preferences, compliance records) is compared field by field under
    a dotted path (``preferences.budgetMax``). ``None`` on one side stands for an object with
    nothing set: an insert lists the fields it sets, a delete the fields it removes. ``skip``
    names attributes (snake_case, top level) that are not diffed; ``names`` gives the API name
    of a top-level attribute whose name is not its camelCase form.
    """
    subject = after if after is not None else before
    if subject is None:
        return ()
    skipped = frozenset(skip)
    changes: list[FieldChange] = []
    cls = type(subject)
    if not attrs.has(cls):
        raise TypeError(f"{cls.__name__} is not an attrs class")
    for attribute in attrs.fields(cls):
        if attribute.name in skipped:
            continue
        old = getattr(before, attribute.name) if before is not None else None
        new = getattr(after, attribute.name) if after is not None else None
        if old == new:
            continue
        path = prefix + (names or {}).get(attribute.name, camel_case(attribute.name))
        nested = old if old is not None else new
        if attrs.has(type(nested)) and (old is None or new is None or type(old) is type(new)):
            changes.extend(diff(old, new, prefix=path + "."))
            continue
        if (before is None and _empty(new)) or (after is None and _empty(old)):
            continue
        changes.append(FieldChange(path, jsonable(old), jsonable(new)))
    return tuple(changes)


# --- personal values --------------------------------------------------------------------------


def is_personal(field: str) -> bool:
    """True when the field (a camelCase path) holds a personal value (:data:`PERSONAL_FIELDS`)."""
    return field.rsplit(".", 1)[-1] in PERSONAL_FIELDS


def _masked(value: object) -> object:
    return None if value is None else MASK


def mask_changes(changes: Sequence[FieldChange]) -> tuple[FieldChange, ...]:
    """``changes`` with every personal value replaced by :data:`MASK` (an absent value stays
    null, so an entry still shows that a value was set or removed). Idempotent."""
    return tuple(
        FieldChange(c.field, _masked(c.from_), _masked(c.to)) if is_personal(c.field) else c
        for c in changes
    )


# --- entries of a unit of work's changes --------------------------------------------------

# Bookkeeping and aggregate parts that are entries of their own (interests, notes) or derived
# for reads (the insights).
_NOT_DIFFED: Final[Mapping[EntityType, frozenset[str]]] = {
    EntityType.CUSTOMER: frozenset(
        {"id", "organization_id", "version", "updated_at", "stage_history", "property_interests"}
        | {"ai_insights", "created_at"}
    ),
    EntityType.ACTION: frozenset(
        {"id", "organization_id", "version", "updated_at", "notes", "created_at"}
    ),
    EntityType.APPOINTMENT: frozenset({"id", "updated_at", "created_at"}),
    EntityType.EMPLOYEE: frozenset({"id", "organization_id"}),
    # The round-robin pointer moves with every assignment: bookkeeping, not a change of the rule.
    EntityType.ASSIGNMENT_RULE: frozenset(
        {"id", "organization_id", "version", "updated_at", "created_at", "last_employee_id"}
    ),
    EntityType.CONSENT: frozenset({"id", "organization_id", "customer_id"}),
    EntityType.PRIVACY_REQUEST: frozenset(
        {"id", "organization_id", "version", "updated_at", "created_at"}
    ),
}

# Attributes the API names otherwise than in camelCase (the wire's ``msgspec.field(name=…)``).
_API_NAMES: Final[Mapping[EntityType, Mapping[str, str]]] = {
    EntityType.APPOINTMENT: {"at": "datetime"},
    EntityType.REMINDER: {"at": "datetime"},
}

# Customer fields a write of a relation recomputes: a customer save changing only these is
# explained by the relation's own entry in the same transaction.
_DERIVED_CUSTOMER_FIELDS: Final = frozenset(
    {
        "leadScore",
        "lastContactAt",
        "lastContactType",
        "nextFollowUpDate",
        "totalInteractions",
        "positiveInboundInteractions",
        "totalAppointments",
        "totalPropertyViews",
        "responseRate",
        "avgResponseTime",
    }
)

_ACTION_STATUS_VERBS: Final[Mapping[ActionStatus, str]] = {
    ActionStatus.IN_PROGRESS: "started",
    ActionStatus.COMPLETED: "completed",
    ActionStatus.DISMISSED: "dismissed",
    ActionStatus.SNOOZED: "snoozed",
    ActionStatus.PENDING: "reopened",
}


def _customer_action(write: Write, before: Customer | None, after: Customer | None) -> str:
    if write is Write.INSERT:
        return "customer.created"
    if write is Write.DELETE:
        return "customer.permanently_deleted"  # a soft delete is an update (``deletedAt``)
    if before is None or after is None:
        return "customer.updated"
    if before.erased_at is None and after.erased_at is not None:
        return "customer.erased"
    if before.deleted_at is None and after.deleted_at is not None:
        return "customer.deleted"
    if before.deleted_at is not None and after.deleted_at is None:
        return "customer.restored"
    if before.stage != after.stage:
        return "customer.stage_changed"
    if before.assigned_employee_id != after.assigned_employee_id:
        return "customer.assigned"
    return "customer.updated"


_INSERT_VERBS: Final[Mapping[EntityType, str]] = {
    EntityType.PROPERTY_INTEREST: "added",
    EntityType.INTERACTION: "logged",
    EntityType.APPOINTMENT: "scheduled",
    EntityType.DOCUMENT: "uploaded",
    EntityType.ACTION_NOTE: "added",
    EntityType.CONSENT: "changed",  # one entry per channel change (the ledger is append-only)
}


def _update_verb(change: Change) -> str:
    before, after = change.before, change.after
    if isinstance(before, CustomerAction) and isinstance(after, CustomerAction):
        return _ACTION_STATUS_VERBS[after.status] if before.status != after.status else "updated"
    if (
        isinstance(before, Reminder)
        and isinstance(after, Reminder)
        and before.status != after.status
        and after.status is ReminderStatus.COMPLETED
    ):
        return "completed"
    if (
        isinstance(before, Employee)
        and isinstance(after, Employee)
        and before.is_active
        and not after.is_active
    ):
        return "deactivated"
    return "updated"


def _action_name(change: Change) -> str:
    """The entry's ``action``: ``{entityType}.{what happened}`` (the customer's and the
    settings' names are those of their domain events)."""
    kind, write = change.entity_type, change.write
    if kind is EntityType.CUSTOMER:
        before, after = change.before, change.after
        assert isinstance(before, Customer | None)
        assert isinstance(after, Customer | None)
        return _customer_action(write, before, after)
    if kind is EntityType.ORGANIZATION_SETTINGS:
        return "organization.settings_updated"
    if write is Write.INSERT:
        verb = _INSERT_VERBS.get(kind, "created")
    elif write is Write.DELETE:
        verb = "removed" if kind is EntityType.PROPERTY_INTEREST else "deleted"
    else:
        verb = _update_verb(change)
    return f"{kind.value}.{verb}"


@frozen
class DraftEntry:
    """An entry before it has an id, a time and an author (what :func:`entries_for` makes)."""

    organization_id: str
    action: str
    entity_type: str
    entity_id: str
    customer_id: str | None
    changes: tuple[FieldChange, ...]


def _draft(change: Change) -> DraftEntry | None:
    kind = change.entity_type
    if change.before is None and change.after is None:
        return None  # made and removed by the same write
    changes = (
        diff(
            change.before,
            change.after,
            skip=_NOT_DIFFED.get(kind, ()),
            names=_API_NAMES.get(kind),
        )
        + change.context
    )
    if change.write is Write.UPDATE and not changes:
        return None  # written, but nothing an entry would show changed
    if isinstance(change.after, Customer) and change.after.erased_at is not None:
        # Rules §8: an entry about an erased customer (its erasure's own) holds no personal value.
        changes = mask_changes(changes)
    return DraftEntry(
        organization_id=change.organization_id,
        action=_action_name(change),
        entity_type=kind.value,
        entity_id=change.entity_id,
        customer_id=change.customer_id,
        changes=changes,
    )


def entries_for(changes: Sequence[Change]) -> list[DraftEntry]:
    """The entries of one unit of work's changes, in the order they were written.

    An entity written several times in one transaction gives one entry from its first
    ``before`` to its last ``after``. A customer save that only moved derived fields (lead
    score, counters, last contact) is left out when another entry of the same transaction
    concerns that customer: the interaction or appointment explains it.
    """
    merged: dict[tuple[EntityType, str], Change] = {}
    for change in changes:
        key = (change.entity_type, change.entity_id)
        first = merged.get(key)
        if first is None:
            merged[key] = change
        else:
            # An insert stays an insert; whatever follows a delete is a delete.
            write = change.write if change.write is Write.DELETE else first.write
            merged[key] = attrs.evolve(
                first, write=write, after=change.after, context=first.context + change.context
            )
    drafts = [d for d in (_draft(c) for c in merged.values()) if d is not None]
    explained = {d.customer_id for d in drafts if d.entity_type != EntityType.CUSTOMER.value}
    return [
        d
        for d in drafts
        if not (
            d.entity_type == EntityType.CUSTOMER.value
            and d.action == "customer.updated"
            and d.customer_id in explained
            and all(c.field in _DERIVED_CUSTOMER_FIELDS for c in d.changes)
        )
    ]

"""Domain events on the wire: real-time messages, their routing, and the cache they invalidate.

Pure functions, no I/O. After a commit the composition root, for each domain event,

1. calls :func:`invalidation_for` and gives the result to the cache (before the use case
   answers, so a read that follows a write never sees the old data);
2. calls :func:`to_outbound` and publishes ``outbound.to_message()`` on the event bus of the
   event's organization; each WebSocket connection then keeps what matches its channels
   (:meth:`OutboundEvent.matches`) and its scope (:meth:`OutboundEvent.scope`, checked with
   ``domain.access.scope_filter(actor, …).admits``) and sends ``outbound.payload``;
3. when :func:`refreshes_stats` holds, pushes ``stats.updated`` to ``stats`` subscribers — each
   connection computes its own numbers (an agent's are not an admin's) and builds the message
   with :func:`stats_updated`; debounce it (one per connection per second or so).

Payloads follow the API document: ``{"event": name, "data": {...}, "timestamp": ISO-8601 Z}``
with ``action.created`` → ``{"action": {id, customerId, type, priority}}``, ``action.updated`` →
``{actionId, changes}`` (completion, dismissal and snoozing are ``action.updated`` with the new
``status``, as the document's example shows), ``customer.stage_changed`` → ``{customerId,
fromStage, toStage, changedBy}``, ``customer.assigned`` → ``{customerId, previousEmployee,
newEmployee}``, ``customer.updated`` → ``{customerId, changes}``, ``stats.updated`` →
``{"stats": {pending, overdue, today}}``. The event name is the domain event's ``name``; events the
document does not show get ``customerId``/``actionId`` plus their own ids
(``customer.created`` → ``{"customer": {id, source}, "createdBy"}`` like ``action.created``).
``employee.saved`` is not broadcast, nor are the privacy events (``customer.consent_changed``,
``privacy_request.*``, ``customer.personal_data_exported``: admin-only data, while the
``customers`` channel reaches agents); webhooks still receive them from the outbox.

Channels: customer events go to ``customers``, action events to ``actions``; action events and
``customer.assigned`` also go to ``employee:{id}`` of every employee the event touches (the
assignee, the previous assignee).

Cache invalidation (tags of :class:`~customers_hub.application.caching.CacheTag`) — the
document's list, widened where a view embeds the changed data, because a cached view must never
outlive a committed change:

============================== ==============================================================
event                          tags
============================== ==============================================================
customer.created               customer:{id}, customer:list, customer:stats, filters:options,
                               customer:records (so do all the rows below that say "lists")
customer.updated               … + actions (action views embed the customer's name, city, …);
                               of a relation only (change keys ``appointments.…``,
                               ``reminders.…``, ``documents.…``): customer:{id};
                               ``properties.…``: customer:{id}, customer:list
customer.stage_changed         customer:{id}, lists, customer:stats, filters:options,
                               actions:stats ("stage change: clear customer cache and stats")
customer.assigned              customer:{id}, lists, stats, filters:options, actions,
                               actions:stats (agents' action scope follows the customer)
customer.deleted / .restored   as customer.assigned
customer.merged / .unmerged    as customer.assigned, for the survivor and every source (their
                               relations and actions moved)
customer.erased                as customer.assigned (lists, search and action views embed the
                               erased name)
customer.score_changed,        customer:{id}, customer:list, customer:stats (totalInteractions,
customer.interaction_logged    lastContactAt and the score are counted by the statistics)
customer.property_added,       customer:{id}, customer:list (list rows embed the interests and
customer.appointment_scheduled the appointment count)
customer.reminder_created,     customer:{id} (the row is unchanged; only details that include
customer.document_uploaded     the relation show it)
action.created / .updated      actions, actions:stats ("new action: clear actions:* and
                               actions:stats:*")
action.note_added              actions
employee.saved                 employees (every view that embeds an employee's name, and the
                               employee list)
customers.exported             none (an audit event of a read; not broadcast either)
customers.imported             customer:list, customer:stats, filters:options, customer:{id} of
                               each updated customer; actions, actions:stats when it created
                               actions (once per committed batch; not broadcast)
organization.settings_updated  every organization-wide tag and settings (a new time zone moves
                               "today" and every local date a view shows)
customer.consent_changed       customer:{id} (``include=consents``), customer:list (``consent=``)
privacy_request.created,       customer:stats (its ``privacyRequests`` block)
privacy_request.updated
personal data export           none (``customer.personal_data_exported``, an audit event of a
                               read)
any other event                every organization-wide tag (fail safe)
============================== ==============================================================

Lists are cleared for the whole organization, not only "for old and new employee": a manager's
or admin's list spans employees, and one tag per organization keeps it O(1). A write of one
customer's relations (a note, a reminder …) never invalidates another customer's details, the
filter options, the action views and statistics or the employee list (its workload numbers
follow ``customer:records``, which only writes of the customers' own records touch).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from attrs import frozen

from customers_hub.application.caching import CacheTag, Invalidation
from customers_hub.domain import audit
from customers_hub.domain.access import RecordScope
from customers_hub.domain.events import (
    ActionCreated,
    ActionNoteAdded,
    ActionUpdated,
    AppointmentScheduled,
    ConsentChanged,
    CustomerAssigned,
    CustomerCreated,
    CustomerDeleted,
    CustomerErased,
    CustomerMerged,
    CustomerRestored,
    CustomersExported,
    CustomersImported,
    CustomerStageChanged,
    CustomerUnmerged,
    CustomerUpdated,
    DocumentUploaded,
    DomainEvent,
    EmployeeSaved,
    InteractionLogged,
    LeadScoreChanged,
    OrganizationSettingsUpdated,
    PersonalDataExported,
    PrivacyRequestCreated,
    PrivacyRequestUpdated,
    PropertyInterestAdded,
    ReminderCreated,
)
from customers_hub.domain.model import Employee

__all__ = [
    "CHANNELS",
    "CHANNEL_ACTIONS",
    "CHANNEL_CUSTOMERS",
    "CHANNEL_STATS",
    "STATS_UPDATED",
    "OutboundEvent",
    "employee_channel",
    "invalidation_for",
    "jsonable",
    "refreshes_stats",
    "stats_updated",
    "to_outbound",
    "wire_timestamp",
]

CHANNEL_ACTIONS: Final = "actions"
CHANNEL_CUSTOMERS: Final = "customers"
CHANNEL_STATS: Final = "stats"
CHANNELS: Final = frozenset({CHANNEL_ACTIONS, CHANNEL_CUSTOMERS, CHANNEL_STATS})
"""The fixed channels; ``employee:{id}`` are the others."""
STATS_UPDATED: Final = "stats.updated"
_EMPLOYEE_PREFIX: Final = "employee:"


def employee_channel(employee_id: str) -> str:
    """``employee:{id}``."""
    return f"{_EMPLOYEE_PREFIX}{employee_id}"


def wire_timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with ``Z``, to the second (as the response envelopes)."""
    if moment.tzinfo is None:
        raise ValueError("event times must be timezone-aware")
    value = moment.astimezone(UTC).replace(microsecond=0)
    return value.isoformat().replace("+00:00", "Z")


def _wire_instant(moment: datetime) -> str:
    return wire_timestamp(moment) if moment.tzinfo is not None else moment.isoformat()


def jsonable(value: Any) -> Any:
    """``value`` as JSON data, by the audit trail's converter (:func:`domain.audit.jsonable`),
    with aware instants as the envelopes write them (UTC ``Z``, to the second)."""
    return audit.jsonable(value, instant=_wire_instant)


@frozen(eq=True)
class OutboundEvent:
    """One real-time message and where it may go.

    ``payload`` is exactly what a WebSocket client receives; the rest routes it.
    """

    organization_id: str
    event: str
    data: Mapping[str, Any]
    timestamp: str
    channels: tuple[str, ...]
    employee_ids: tuple[str, ...] = ()
    customer_id: str | None = None
    action_id: str | None = None

    @property
    def payload(self) -> dict[str, Any]:
        """``{"event", "data", "timestamp"}`` as the API document shows."""
        return {"event": self.event, "data": dict(self.data), "timestamp": self.timestamp}

    def matches(self, subscribed: Iterable[str]) -> bool:
        """True when one of ``subscribed`` channels carries this event."""
        wanted = set(subscribed)
        return any(channel in wanted for channel in self.channels)

    def scope(self, employees: Mapping[str, Employee] | None = None) -> RecordScope:
        """The event's record scope for ``ScopeFilter.admits``; ``employees`` (by id) supplies
        the managers of the touched employees. No employee: only organization-wide readers."""
        known = employees or {}
        return RecordScope.of(self.organization_id, [known.get(i, i) for i in self.employee_ids])

    def to_message(self) -> dict[str, Any]:
        """The JSON object put on the event bus."""
        return {
            "organizationId": self.organization_id,
            "channels": list(self.channels),
            "employeeIds": list(self.employee_ids),
            "customerId": self.customer_id,
            "actionId": self.action_id,
            "payload": self.payload,
        }

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> OutboundEvent:
        """Read back :meth:`to_message`; ``ValueError`` when it is not one."""
        try:
            payload = message["payload"]
            org, event, data = message["organizationId"], payload["event"], payload["data"]
            timestamp, channels = payload["timestamp"], message["channels"]
            employee_ids = message.get("employeeIds") or []
            customer_id, action_id = message.get("customerId"), message.get("actionId")
        except (KeyError, TypeError) as error:
            raise ValueError(f"not an event message: {error}") from error
        texts = [org, event, timestamp, *channels, *employee_ids]
        if not all(isinstance(t, str) for t in texts) or not isinstance(data, Mapping):
            raise ValueError("not an event message: wrong field types")
        if not all(i is None or isinstance(i, str) for i in (customer_id, action_id)):
            raise ValueError("not an event message: wrong id types")
        return cls(
            organization_id=org,
            event=event,
            data=dict(data),
            timestamp=timestamp,
            channels=tuple(channels),
            employee_ids=tuple(employee_ids),
            customer_id=customer_id,
            action_id=action_id,
        )


def _ids(*groups: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for group in groups for i in group if i))


def _customer_event(event: DomainEvent, customer_id: str, data: Mapping[str, Any]) -> OutboundEvent:
    return OutboundEvent(
        organization_id=event.organization_id,
        event=event.name,
        data=data,
        timestamp=wire_timestamp(event.occurred_at),
        channels=(CHANNEL_CUSTOMERS,),
        employee_ids=_ids(event.employee_ids),
        customer_id=customer_id,
    )


def _action_event(
    event: DomainEvent,
    action_id: str,
    customer_id: str,
    data: Mapping[str, Any],
    extra_employees: Iterable[str | None] = (),
) -> OutboundEvent:
    employee_ids = _ids(event.employee_ids, extra_employees)
    return OutboundEvent(
        organization_id=event.organization_id,
        event=event.name,
        data=data,
        timestamp=wire_timestamp(event.occurred_at),
        channels=(CHANNEL_ACTIONS, *(employee_channel(i) for i in employee_ids)),
        employee_ids=employee_ids,
        customer_id=customer_id,
        action_id=action_id,
    )


def to_outbound(event: DomainEvent) -> OutboundEvent | None:
    """The real-time message of ``event``, or ``None`` for events not broadcast."""
    match event:
        case ActionCreated():
            return _action_event(
                event,
                event.action_id,
                event.customer_id,
                {
                    "action": {
                        "id": event.action_id,
                        "customerId": event.customer_id,
                        "type": event.action_type.value,
                        "priority": event.priority.value,
                    }
                },
                (event.assigned_to,),
            )
        case ActionUpdated():
            return _action_event(
                event,
                event.action_id,
                event.customer_id,
                {"actionId": event.action_id, "changes": jsonable(event.changes)},
            )
        case ActionNoteAdded():
            return OutboundEvent(
                organization_id=event.organization_id,
                event=event.name,
                data={"actionId": event.action_id, "noteId": event.note_id},
                timestamp=wire_timestamp(event.occurred_at),
                channels=(CHANNEL_ACTIONS,),
                employee_ids=_ids(event.employee_ids),
                action_id=event.action_id,
            )
        case CustomerStageChanged():
            return _customer_event(
                event,
                event.customer_id,
                {
                    "customerId": event.customer_id,
                    "fromStage": jsonable(event.from_stage),
                    "toStage": event.to_stage.value,
                    "changedBy": event.changed_by,
                },
            )
        case CustomerAssigned():
            employee_ids = _ids(event.employee_ids, (event.previous_employee, event.new_employee))
            return OutboundEvent(
                organization_id=event.organization_id,
                event=event.name,
                data={
                    "customerId": event.customer_id,
                    "previousEmployee": event.previous_employee,
                    "newEmployee": event.new_employee,
                },
                timestamp=wire_timestamp(event.occurred_at),
                channels=(CHANNEL_CUSTOMERS, *(employee_channel(i) for i in employee_ids)),
                employee_ids=employee_ids,
                customer_id=event.customer_id,
            )
        case CustomerCreated():
            return _customer_event(
                event,
                event.customer_id,
                {
                    "customer": {"id": event.customer_id, "source": event.source},
                    "createdBy": event.created_by_id,
                },
            )
        case CustomerUpdated():
            return _customer_event(
                event,
                event.customer_id,
                {"customerId": event.customer_id, "changes": jsonable(event.changes)},
            )
        case _:
            return _other_customer_event(event)


def _other_customer_event(event: DomainEvent) -> OutboundEvent | None:
    data: dict[str, Any]
    match event:
        case CustomerDeleted():
            data = {"customerId": event.customer_id, "permanent": event.permanent}
        case CustomerRestored():
            data = {"customerId": event.customer_id}
        case CustomerMerged() | CustomerUnmerged():
            data = {
                "customerId": event.customer_id,
                "sourceIds": list(event.source_ids),
                "mergeId": event.merge_id,
            }
        case CustomerErased():
            data = {"customerId": event.customer_id, "restricted": event.restricted}
        case LeadScoreChanged():
            data = {
                "customerId": event.customer_id,
                "previousScore": event.previous_score,
                "newScore": event.new_score,
            }
        case PropertyInterestAdded():
            data = {
                "customerId": event.customer_id,
                "interestId": event.interest_id,
                "propertyId": event.property_id,
            }
        case InteractionLogged():
            data = {
                "customerId": event.customer_id,
                "interactionId": event.interaction_id,
                "agentId": event.agent_id,
                "followUpRequired": event.follow_up_required,
                "followUpDate": jsonable(event.follow_up_date),
            }
        case AppointmentScheduled():
            data = {
                "customerId": event.customer_id,
                "appointmentId": event.appointment_id,
                "type": event.appointment_type,
                "datetime": jsonable(event.at),
                "title": event.title,
            }
        case ReminderCreated():
            data = {"customerId": event.customer_id, "reminderId": event.reminder_id}
        case DocumentUploaded():
            data = {"customerId": event.customer_id, "documentId": event.document_id}
        case _:
            return None
    return _customer_event(event, data["customerId"], data)


def stats_updated(
    organization_id: str,
    stats: Mapping[str, int],
    at: datetime,
    *,
    employee_ids: Iterable[str] = (),
) -> OutboundEvent:
    """``stats.updated`` with one connection's numbers (``pending``, ``overdue``, ``today``)."""
    return OutboundEvent(
        organization_id=organization_id,
        event=STATS_UPDATED,
        data={"stats": dict(stats)},
        timestamp=wire_timestamp(at),
        channels=(CHANNEL_STATS,),
        employee_ids=tuple(employee_ids),
    )


_ACTION_STAT_EVENTS: Final = (
    ActionCreated,
    ActionUpdated,
    CustomerAssigned,
    CustomerDeleted,
    CustomerRestored,
)


def refreshes_stats(event: DomainEvent) -> bool:
    """True when ``event`` can change the inbox numbers of ``stats.updated``."""
    return isinstance(event, _ACTION_STAT_EVENTS)


_ORGANIZATION_TAGS: Final = frozenset(
    {
        CacheTag.CUSTOMER_LIST,
        CacheTag.CUSTOMER_STATS,
        CacheTag.FILTER_OPTIONS,
        CacheTag.ACTIONS,
        CacheTag.ACTION_STATS,
        CacheTag.EMPLOYEES,
        CacheTag.CUSTOMER_RECORDS,
    }
)
_CUSTOMER_VIEWS: Final = (CacheTag.CUSTOMER_LIST, CacheTag.CUSTOMER_STATS)
_CUSTOMER_FILTERS: Final = (*_CUSTOMER_VIEWS, CacheTag.FILTER_OPTIONS, CacheTag.CUSTOMER_RECORDS)

# A write of one customer's relations invalidates that customer and only the families whose
# numbers or rows it moves — never another customer, the filter options, the actions or the
# employee list. By what the write changes on the customer row:
_ROW_UNCHANGED: Final = ()  # reminders, documents: only the details that include them
_ROW_SHOWN: Final = (CacheTag.CUSTOMER_LIST,)  # list rows embed interests, updatedAt, counts
# An interaction moves totalInteractions and lastContactAt, which the statistics' engagement
# numbers count; a new score moves their lead-score block.
_ROW_COUNTED: Final = (CacheTag.CUSTOMER_LIST, CacheTag.CUSTOMER_STATS)
_RELATION_TAGS: Final[Mapping[type[DomainEvent], tuple[str, ...]]] = {
    InteractionLogged: _ROW_COUNTED,
    LeadScoreChanged: _ROW_COUNTED,
    PropertyInterestAdded: _ROW_SHOWN,
    AppointmentScheduled: _ROW_SHOWN,  # totalAppointments
    ReminderCreated: _ROW_UNCHANGED,
    DocumentUploaded: _ROW_UNCHANGED,
}
# ``customer.updated`` of a relation (``relation_changed``): its change keys name the relation.
_RELATION_CHANGES: Final[Mapping[str, tuple[str, ...]]] = {
    "properties": _ROW_SHOWN,  # an interest's status: the row's interests and score
    "appointments": _ROW_UNCHANGED,
    "reminders": _ROW_UNCHANGED,
    "documents": _ROW_UNCHANGED,
}


def _relation_update_tags(event: CustomerUpdated) -> tuple[str, ...] | None:
    """The families a ``customer.updated`` of relations only invalidates (besides the customer),
    or None when it changed the customer's own fields."""
    families: set[str] = set()
    for key in event.changes:
        relation, dot, _rest = key.partition(".")
        tags = _RELATION_CHANGES.get(relation) if dot else None
        if tags is None:
            return None
        families.update(tags)
    return tuple(sorted(families)) if event.changes else None


def _tags(event: DomainEvent) -> Iterable[str]:
    match event:
        case CustomerCreated():
            return (CacheTag.customer(event.customer_id), *_CUSTOMER_FILTERS)
        case CustomerUpdated():
            relations = _relation_update_tags(event)
            if relations is not None:
                return (CacheTag.customer(event.customer_id), *relations)
            return (CacheTag.customer(event.customer_id), *_CUSTOMER_FILTERS, CacheTag.ACTIONS)
        case CustomerStageChanged():
            return (
                CacheTag.customer(event.customer_id),
                *_CUSTOMER_FILTERS,
                CacheTag.ACTION_STATS,
            )
        case CustomerAssigned() | CustomerDeleted() | CustomerRestored() | CustomerErased():
            return (
                CacheTag.customer(event.customer_id),
                *_CUSTOMER_FILTERS,
                CacheTag.ACTIONS,
                CacheTag.ACTION_STATS,
            )
        case CustomerMerged() | CustomerUnmerged():
            return (
                *(CacheTag.customer(i) for i in (event.customer_id, *event.source_ids)),
                *_CUSTOMER_FILTERS,
                CacheTag.ACTIONS,
                CacheTag.ACTION_STATS,
            )
        case (
            InteractionLogged()
            | LeadScoreChanged()
            | PropertyInterestAdded()
            | AppointmentScheduled()
            | ReminderCreated()
            | DocumentUploaded()
        ):
            return (CacheTag.customer(event.customer_id), *_RELATION_TAGS[type(event)])
        case ActionCreated() | ActionUpdated():
            return (CacheTag.ACTIONS, CacheTag.ACTION_STATS)
        case ActionNoteAdded():
            return (CacheTag.ACTIONS,)
        case EmployeeSaved():
            return (CacheTag.EMPLOYEES,)
        case CustomersExported():
            return ()  # an audit event of a read: every cached view stays right
        case CustomersImported():
            # Once per committed batch, whatever its size: lists, stats, updated customers.
            return (
                *_CUSTOMER_FILTERS,
                *(CacheTag.customer(i) for i in event.updated_ids),
                *((CacheTag.ACTIONS, CacheTag.ACTION_STATS) if event.actions_created else ()),
            )
        case OrganizationSettingsUpdated():
            # A new time zone moves "today" and every local date a view shows.
            return (*_ORGANIZATION_TAGS, CacheTag.SETTINGS)
        case ConsentChanged():
            # The details with include=consents, and lists filtered by consent=.
            return (CacheTag.customer(event.customer_id), CacheTag.CUSTOMER_LIST)
        case PrivacyRequestCreated() | PrivacyRequestUpdated():
            return (CacheTag.CUSTOMER_STATS,)  # the statistics' privacyRequests block
        case PersonalDataExported():
            return ()  # an audit event of a read
    # An event this table does not know yet: drop every view of the organization.
    customer_id = getattr(event, "customer_id", None)
    extra = (CacheTag.customer(customer_id),) if isinstance(customer_id, str) else ()
    return (*_ORGANIZATION_TAGS, *extra)


def invalidation_for(event: DomainEvent) -> Invalidation:
    """The cache tags ``event`` invalidates in its organization (see the module table)."""
    return Invalidation(event.organization_id, frozenset(_tags(event)))

"""Domain events: frozen, past tense, one per state change.

Each event names its organization and the employees whose scope it touches, so a publisher can
route it (WebSocket channels ``employee:{id}``) without loading anything. ``name`` is the wire
name of the API document's real-time events.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, TypedDict

from attrs import field, frozen

from customers_hub.domain.enums import ActionStatus, ActionType, Priority, Stage

if TYPE_CHECKING:
    from customers_hub.domain.model import CustomerAction


@frozen(kw_only=True)
class DomainEvent:
    """Common fields of every event."""

    name: ClassVar[str] = "domain.event"
    organization_id: str
    occurred_at: datetime
    # Employees whose scope the change touches (assignee, previous assignee, …).
    employee_ids: tuple[str, ...] = ()


class EventHead(TypedDict):
    """The common fields of :class:`DomainEvent` as keyword arguments (``Event(**head, …)``),
    for an operation that describes one change with several events."""

    organization_id: str
    occurred_at: datetime
    employee_ids: tuple[str, ...]


@frozen(kw_only=True)
class CustomerCreated(DomainEvent):
    """A customer was created (at ``new_lead``)."""

    name: ClassVar[str] = "customer.created"
    customer_id: str
    source: str
    created_by_id: str


@frozen(kw_only=True)
class CustomerUpdated(DomainEvent):
    """Fields of a customer changed; ``changes`` maps camelCase field names to new values."""

    name: ClassVar[str] = "customer.updated"
    customer_id: str
    changes: dict[str, object] = field(factory=dict)


@frozen(kw_only=True)
class CustomerStageChanged(DomainEvent):
    """A customer moved to another lifecycle stage."""

    name: ClassVar[str] = "customer.stage_changed"
    customer_id: str
    from_stage: Stage | None
    to_stage: Stage
    changed_by: str


@frozen(kw_only=True)
class CustomerAssigned(DomainEvent):
    """A customer was assigned to another employee."""

    name: ClassVar[str] = "customer.assigned"
    customer_id: str
    previous_employee: str | None
    new_employee: str | None


@frozen(kw_only=True)
class CustomerDeleted(DomainEvent):
    """A customer was soft-deleted (``permanent=False``) or removed for good."""

    name: ClassVar[str] = "customer.deleted"
    customer_id: str
    permanent: bool


@frozen(kw_only=True)
class CustomerRestored(DomainEvent):
    """A soft-deleted customer was restored."""

    name: ClassVar[str] = "customer.restored"
    customer_id: str


@frozen(kw_only=True)
class CustomerMerged(DomainEvent):
    """Sources were merged into a survivor (rules §10; the sources are soft-deleted)."""

    name: ClassVar[str] = "customer.merged"
    customer_id: str  # the survivor
    source_ids: tuple[str, ...]
    merge_id: str


@frozen(kw_only=True)
class CustomerUnmerged(DomainEvent):
    """A merge was undone: its sources are back with what came from them."""

    name: ClassVar[str] = "customer.unmerged"
    customer_id: str  # the survivor
    source_ids: tuple[str, ...]
    merge_id: str


@frozen(kw_only=True)
class CustomerErased(DomainEvent):
    """A customer's personal data was erased (rules §8); ``restricted``: it is kept, hidden,
    for its contract until ``restricted_until``. ``reason`` never holds the erased values."""

    name: ClassVar[str] = "customer.erased"
    customer_id: str
    restricted: bool
    restricted_until: datetime | None = None
    reason: str | None = None


@frozen(kw_only=True)
class LeadScoreChanged(DomainEvent):
    """A customer's lead score was recomputed to a different value."""

    name: ClassVar[str] = "customer.score_changed"
    customer_id: str
    previous_score: int
    new_score: int


@frozen(kw_only=True)
class PropertyInterestAdded(DomainEvent):
    """A property was added to a customer's interests."""

    name: ClassVar[str] = "customer.property_added"
    customer_id: str
    interest_id: str
    property_id: str


@frozen(kw_only=True)
class InteractionLogged(DomainEvent):
    """An interaction with a customer was logged."""

    name: ClassVar[str] = "customer.interaction_logged"
    customer_id: str
    interaction_id: str
    follow_up_required: bool
    follow_up_date: datetime | None
    agent_id: str


@frozen(kw_only=True)
class AppointmentScheduled(DomainEvent):
    """An appointment with a customer was scheduled."""

    name: ClassVar[str] = "customer.appointment_scheduled"
    customer_id: str
    appointment_id: str
    appointment_type: str
    at: datetime
    title: str


@frozen(kw_only=True)
class ReminderCreated(DomainEvent):
    """A reminder about a customer was created."""

    name: ClassVar[str] = "customer.reminder_created"
    customer_id: str
    reminder_id: str


@frozen(kw_only=True)
class DocumentUploaded(DomainEvent):
    """A document was stored for a customer."""

    name: ClassVar[str] = "customer.document_uploaded"
    customer_id: str
    document_id: str


@frozen(kw_only=True)
class ActionCreated(DomainEvent):
    """An inbox action was created, by a person or by the system (``auto_generated``)."""

    name: ClassVar[str] = "action.created"
    action_id: str
    customer_id: str
    action_type: ActionType
    priority: Priority
    assigned_to: str | None
    auto_generated: bool = False

    @classmethod
    def of(
        cls,
        action: CustomerAction,
        *,
        occurred_at: datetime,
        auto_generated: bool,
        employee_ids: tuple[str, ...] | None = None,
    ) -> ActionCreated:
        """The event of ``action`` just created; ``employee_ids`` default to its assignee."""
        if employee_ids is None:
            employee_ids = (action.assigned_to,) if action.assigned_to else ()
        return cls(
            organization_id=action.organization_id,
            occurred_at=occurred_at,
            employee_ids=employee_ids,
            action_id=action.id,
            customer_id=action.customer_id,
            action_type=action.type,
            priority=action.priority,
            assigned_to=action.assigned_to,
            auto_generated=auto_generated,
        )


@frozen(kw_only=True)
class ActionUpdated(DomainEvent):
    """Fields or status of an action changed; ``changes`` maps camelCase names to new values."""

    name: ClassVar[str] = "action.updated"
    action_id: str
    customer_id: str
    changes: dict[str, object] = field(factory=dict)
    status: ActionStatus | None = None


@frozen(kw_only=True)
class ActionNoteAdded(DomainEvent):
    """A note was added to an action."""

    name: ClassVar[str] = "action.note_added"
    action_id: str
    note_id: str


@frozen(kw_only=True)
class EmployeeSaved(DomainEvent):
    """An employee was created or changed."""

    name: ClassVar[str] = "employee.saved"
    employee_id: str


@frozen(kw_only=True)
class CustomersExported(DomainEvent):
    """Customers were exported to a file (an audit event: nothing changed, nothing is cached
    differently, nothing is broadcast). ``filters`` names the filters used, free text redacted."""

    name: ClassVar[str] = "customers.exported"
    user_id: str
    file_format: str
    rows: int
    fields: tuple[str, ...]
    filters: dict[str, object] = field(factory=dict)
    completed: bool = True


@frozen(kw_only=True)
class OrganizationSettingsUpdated(DomainEvent):
    """An admin changed the organization's settings (rules §9); ``changes`` maps camelCase
    setting names to their new values. A change of ``timeZone`` moves "today"."""

    name: ClassVar[str] = "organization.settings_updated"
    updated_by: str
    changes: dict[str, object] = field(factory=dict)


# --- privacy (rules §8) ---


@frozen(kw_only=True)
class ConsentChanged(DomainEvent):
    """An admin recorded consent changes of a customer; ``channels`` maps each changed channel
    to whether it is now granted."""

    name: ClassVar[str] = "customer.consent_changed"
    customer_id: str
    channels: dict[str, bool] = field(factory=dict)


@frozen(kw_only=True)
class PrivacyRequestCreated(DomainEvent):
    """A data subject's request was logged."""

    name: ClassVar[str] = "privacy_request.created"
    request_id: str
    customer_id: str
    request_type: str
    due_at: datetime


@frozen(kw_only=True)
class PrivacyRequestUpdated(DomainEvent):
    """A request changed status or was extended; ``changes`` maps camelCase fields to their new
    values."""

    name: ClassVar[str] = "privacy_request.updated"
    request_id: str
    customer_id: str
    status: str
    changes: dict[str, object] = field(factory=dict)


@frozen(kw_only=True)
class PersonalDataExported(DomainEvent):
    """An admin exported everything held about a customer (an access request's answer): an
    audit event of a read, like :class:`CustomersExported`."""

    name: ClassVar[str] = "customer.personal_data_exported"
    customer_id: str
    user_id: str


@frozen(kw_only=True)
class CustomersImported(DomainEvent):
    """A batch of an import job was committed (issue 12): its counts (``created``, ``updated``,
    ``skipped``, ``failed``), the job's totals so far (``totals``), the customers it updated
    (their cached views must go) and ``final`` on the job's last event (then ``status``)."""

    name: ClassVar[str] = "customers.imported"
    job_id: str
    user_id: str
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    totals: dict[str, int] = field(factory=dict)
    updated_ids: tuple[str, ...] = ()
    final: bool = False
    status: str = "running"
    actions_created: bool = False

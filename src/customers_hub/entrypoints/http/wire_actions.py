"""The wire format of the inbox and the team: actions, notes, action statistics, employees.

The same conventions as :mod:`customers_hub.entrypoints.http.wire` (camelCase keys, datetimes
ISO-8601 UTC with ``Z``, money as JSON numbers, optional values the record lacks omitted):

* :class:`ActionOut` is the API document's ``CustomerAction`` model, field for field, plus
  ``updatedAt``, ``outcome``, ``dismissReason`` and ``version`` (the ``ETag`` of single-action
  responses is ``"v<version>"``). ``metadata`` is always present (``{}`` when empty). ``notes``
  appears when the action was read with its notes (a single action, the answer of a write), never
  in lists; ``customer`` (a short summary of the customer) only on ``GET /customers/actions/{id}``.
* :class:`ActionStatsOut` is endpoint 15's ``stats`` object. ``timeline`` averages are hours;
  ``completionRate`` is a percentage; each is ``null`` when there is nothing to average.
* :class:`EmployeeOut` is endpoint 29's employee. ``role`` is what a person reads (the job title
  when known — "Senior Sales Agent" — else the English label of the access role), exactly as the
  ``assignedEmployee`` embedded in a customer; ``accessRole`` is the access role itself
  (``admin``, ``sales_manager``, ``sales_agent``, ``viewer``), the value the ``role`` filter and
  the employee write bodies take.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import msgspec
from msgspec import UNSET, UnsetType

from customers_hub.application.queries import ActionStats, EmployeeWorkload
from customers_hub.domain.enums import (
    ActionStatus,
    ActionType,
    CustomerSource,
    Priority,
    PropertyType,
    Role,
    Stage,
)
from customers_hub.domain.model import ActionNote, Customer, CustomerAction, Employee, FalLicence
from customers_hub.entrypoints.http.wire import Wire, wire_keys
from customers_hub.entrypoints.http.wire.commands import body_of
from customers_hub.entrypoints.http.wire.convert import from_wire, out_of, to_wire
from customers_hub.entrypoints.http.wire.customer_parts import role_label

__all__ = [
    "ACTION_KEYS",
    "ActionCustomerOut",
    "ActionCustomerPreferencesOut",
    "ActionNoteOut",
    "ActionOut",
    "ActionStatsOut",
    "ActionTimelineOut",
    "ActionTotalsOut",
    "DueDatesOut",
    "EmployeeOut",
    "EmployeeStatsOut",
    "FalLicenceWire",
    "action_customer_to_wire",
    "action_stats_to_wire",
    "action_to_wire",
    "employee_to_wire",
    "note_to_wire",
]


# ---------------------------------------------------------------------------------------------
# Actions


_ActionNoteFields: Any = out_of(ActionNote)


class ActionNoteOut(_ActionNoteFields):  # type: ignore[misc]  # fields made from the entity
    """A note on an action (``createdBy`` is the author's name, ``createdById`` their id)."""


def note_to_wire(note: ActionNote) -> ActionNoteOut:
    """The wire form of an action note."""
    return to_wire(note, ActionNoteOut)


class ActionCustomerPreferencesOut(Wire, kw_only=True):
    """What the customer looks for, in short."""

    property_type: list[PropertyType]
    budget_min: float | UnsetType = UNSET
    budget_max: float | UnsetType = UNSET


class ActionCustomerOut(Wire, kw_only=True):
    """The customer summary of ``GET /customers/actions/{id}``."""

    id: str
    name: str
    name_en: str | UnsetType = UNSET
    phone: str
    email: str | UnsetType = UNSET
    city: str | UnsetType = UNSET
    stage: Stage
    priority: Priority
    assigned_employee_id: str | UnsetType = UNSET
    preferences: ActionCustomerPreferencesOut


def action_customer_to_wire(customer: Customer) -> ActionCustomerOut:
    """The short form of an action's customer."""
    return to_wire(customer, ActionCustomerOut)


class ActionOut(Wire, kw_only=True):
    """An inbox action (the document's ``CustomerAction``).

    Every key but ``id`` is optional in the schema because ``fields=`` may select a subset;
    without it, every key the action has a value for is present.
    """

    id: str
    customer_id: str | UnsetType = UNSET
    customer_name: str | UnsetType = UNSET
    customer: ActionCustomerOut | UnsetType = UNSET
    type: ActionType | UnsetType = UNSET
    title: str | UnsetType = UNSET
    description: str | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    status: ActionStatus | UnsetType = UNSET
    source: CustomerSource | UnsetType = UNSET
    due_date: datetime | UnsetType = UNSET
    snoozed_until: datetime | UnsetType = UNSET
    assigned_to: str | UnsetType = UNSET
    assigned_to_name: str | UnsetType = UNSET
    created_at: datetime | UnsetType = UNSET
    updated_at: datetime | UnsetType = UNSET
    completed_at: datetime | UnsetType = UNSET
    completed_by: str | UnsetType = UNSET
    outcome: str | UnsetType = UNSET
    dismiss_reason: str | UnsetType = UNSET
    metadata: dict[str, Any] | UnsetType = UNSET
    notes: list[ActionNoteOut] | UnsetType = UNSET
    version: int | UnsetType = UNSET


ACTION_KEYS: Final = wire_keys(ActionOut)
"""The wire keys of an action (what ``fields=`` accepts on the actions endpoints)."""


def action_to_wire(
    action: CustomerAction, *, customer: Customer | None = None, with_notes: bool = False
) -> ActionOut:
    """The wire form of an action; ``customer`` adds the summary, ``with_notes`` the notes."""
    return to_wire(
        action,
        ActionOut,
        customer=action_customer_to_wire(customer) if customer is not None else UNSET,
        notes=[note_to_wire(n) for n in action.notes] if with_notes else UNSET,
    )


# ---------------------------------------------------------------------------------------------
# Action statistics


class ActionTotalsOut(Wire, kw_only=True):
    """How many actions in each (effective) status."""

    pending: int
    in_progress: int
    completed: int
    dismissed: int
    snoozed: int


class DueDatesOut(Wire, kw_only=True):
    """Open actions (pending, in progress) by due date, in the organization's time zone."""

    overdue: int
    today: int
    this_week: int
    this_month: int
    no_due_date: int


class ActionTimelineOut(Wire, kw_only=True):
    """Averages in hours and the completion rate in percent (``null``: nothing to measure)."""

    avg_completion_time: float | None
    avg_response_time: float | None
    completion_rate: float | None


class ActionStatsOut(Wire, kw_only=True):
    """``GET /customers/actions/stats``: ``byType``, ``byPriority`` and ``bySource`` count the
    open actions (pending, in progress); ``total`` counts every status."""

    total: ActionTotalsOut
    by_type: dict[str, int]
    by_priority: dict[str, int]
    by_source: dict[str, int]
    due_dates: DueDatesOut
    timeline: ActionTimelineOut


def _count(values: Mapping[str, int], *keys: str) -> int:
    for key in keys:
        if key in values:
            return int(values[key])
    return 0


def action_stats_to_wire(stats: ActionStats) -> ActionStatsOut:
    """The wire form of the action statistics."""
    total, due = stats.total, stats.due_dates
    return ActionStatsOut(
        total=ActionTotalsOut(
            pending=_count(total, "pending"),
            in_progress=_count(total, "inProgress", "in_progress"),
            completed=_count(total, "completed"),
            dismissed=_count(total, "dismissed"),
            snoozed=_count(total, "snoozed"),
        ),
        by_type=dict(stats.by_type),
        by_priority=dict(stats.by_priority),
        by_source=dict(stats.by_source),
        due_dates=DueDatesOut(
            overdue=_count(due, "overdue"),
            today=_count(due, "today"),
            this_week=_count(due, "thisWeek", "week"),
            this_month=_count(due, "thisMonth", "month"),
            no_due_date=_count(due, "noDueDate", "no_date"),
        ),
        timeline=ActionTimelineOut(
            avg_completion_time=stats.avg_completion_time,
            avg_response_time=stats.avg_response_time,
            completion_rate=stats.completion_rate,
        ),
    )


# ---------------------------------------------------------------------------------------------
# Employees


_FalLicenceFields: Any = body_of(FalLicence)


class FalLicenceWire(_FalLicenceFields):  # type: ignore[misc]  # fields made from the record
    """A broker's REGA FAL licence (the same shape in and out)."""

    def to_domain(self) -> FalLicence:
        """The domain value."""
        return from_wire(self, FalLicence)


class EmployeeStatsOut(Wire, kw_only=True):
    """Workload of an employee (``includeStats=true``); ``avgResponseTime`` in hours."""

    assigned_customers: int
    pending_actions: int
    completed_this_month: int
    avg_response_time: float | None


# ``role`` is the label (module docstring), ``accessRole`` the access role; never the organization.
_EmployeeFields: Any = out_of(
    Employee,
    nested={FalLicence: FalLicenceWire},
    skip=("organization_id", "role"),
    extra=(
        ("role", str, msgspec.field()),
        ("access_role", Role, msgspec.field()),
        ("stats", EmployeeStatsOut | UnsetType, msgspec.field(default=UNSET)),
    ),
)


class EmployeeOut(_EmployeeFields):  # type: ignore[misc]  # fields made from the entity
    """An employee (endpoint 29); see the module docstring for ``role`` and ``accessRole``."""


def employee_to_wire(employee: Employee, workload: EmployeeWorkload | None = None) -> EmployeeOut:
    """The wire form of an employee, with ``stats`` when ``workload`` is given."""
    return to_wire(
        employee,
        EmployeeOut,
        role=role_label(employee),
        access_role=employee.role,
        stats=to_wire(workload, EmployeeStatsOut) if workload is not None else UNSET,
    )

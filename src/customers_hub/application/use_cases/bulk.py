"""Bulk operations on inbox actions (API endpoints 19–23), answered per item.

Every bulk use case runs the same way:

1. The request as a whole — :func:`~customers_hub.domain.access.decide_bulk`: the role and the
   token allow bulk work at all (viewers never: 403); ``actionIds`` is a non-empty list of ids
   (repeats removed, first occurrence kept) of at most :data:`MAX_BULK_IDS` distinct ids (400);
   a ``sales_agent`` sends at most 25 ids and never reassigns (403). Then the operation's own
   input (blank dismiss reason, snooze date out of range, unknown or inactive assignee) is
   checked once for the whole request (400 / 422): it would fail every item alike.
2. One transaction: the actions in one query, their customers in one, the employees that decide
   their scope (and the target assignee) in one.
3. Per item, in request order: an id that is missing — or of another organization, which reads
   exactly the same — fails with ``"Action not found"``; an action out of the caller's scope
   (:func:`~customers_hub.domain.access.decide_bulk_item`) or whose transition the machine refuses
   (a terminal action, say) fails with its reason and error code; the others are changed.
4. All changed actions are written with one set-based ``save_many``. An action whose version
   moved between the read and the write (another request changed it in the meantime) is not
   written and is reported in ``failed`` with code ``CONCURRENT_UPDATE`` — the caller may retry
   that id; nothing else is rolled back. Events are published after the commit, for written
   actions only.

An item that is already as asked (assigning to its current assignee, say) succeeds without a
write or an event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Final

from attrs import frozen

from customers_hub.application.context import Dependencies
from customers_hub.application.errors import ConcurrentUpdate
from customers_hub.application.ports import UnitOfWork
from customers_hub.application.use_cases.action_moves import (
    ActionChange,
    completing,
    dismissing,
    snoozing,
)
from customers_hub.application.use_cases.catalog import dedupe
from customers_hub.application.write_context import transaction_as
from customers_hub.domain import access, inbox
from customers_hub.domain.access import (
    Allowed,
    AssignmentDecision,
    Forbidden,
    Hidden,
    Operation,
    RecordScope,
)
from customers_hub.domain.enums import ActionStatus, Priority
from customers_hub.domain.errors import (
    AssignmentRejected,
    FieldError,
    InvalidActionTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from customers_hub.domain.events import DomainEvent
from customers_hub.domain.model import Actor, CustomerAction, Employee
from customers_hub.domain.unset import UNSET, Unset
from customers_hub.domain.validation import (
    FREE_TEXT_MAX_LENGTH,
    ID_MAX_LENGTH,
    SHORT_TEXT_MAX_LENGTH,
    Errors,
    clean_text,
    clean_texts,
    validate_scheduled_at,
)

__all__ = [
    "CONFLICT_REASON",
    "MAX_BULK_IDS",
    "NOT_FOUND_REASON",
    "ActionUpdates",
    "BulkAssign",
    "BulkComplete",
    "BulkDismiss",
    "BulkFailure",
    "BulkResult",
    "BulkSnooze",
    "BulkUpdate",
    "bulk_assign",
    "bulk_complete",
    "bulk_dismiss",
    "bulk_snooze",
    "bulk_update",
]

MAX_BULK_IDS: Final = 500
"""At most this many distinct ids in one bulk request, whoever sends it (agents: 25)."""

NOT_FOUND_REASON: Final = "Action not found"
"""The reason of a missing id — and, identically, of another organization's action."""

CONFLICT_REASON: Final = "Action was changed by another request; try again"
"""The reason of an action whose version moved between the read and the write."""

_NOTES_MAX_LENGTH: Final = FREE_TEXT_MAX_LENGTH
_UPDATABLE_STATUSES: Final = frozenset({ActionStatus.PENDING, ActionStatus.IN_PROGRESS})


# --- commands and result -------------------------------------------------------------------------


@frozen(kw_only=True)
class ActionUpdates:
    """The fields ``POST /customers/actions/bulk`` may set on every action (``UNSET``: keep).

    ``status`` may be ``pending`` or ``in_progress`` (the other statuses have their own bulk
    endpoints); ``due_date=None`` clears the due date; ``assigned_to`` reassigns (it cannot clear
    the assignee in bulk).
    """

    priority: Priority | Unset = UNSET
    due_date: datetime | Unset | None = UNSET
    status: ActionStatus | Unset = UNSET
    assigned_to: str | Unset | None = UNSET

    @property
    def is_empty(self) -> bool:
        """True when nothing is to change."""
        return all(
            v is UNSET for v in (self.priority, self.due_date, self.status, self.assigned_to)
        )


@frozen(kw_only=True)
class BulkUpdate:
    """``POST /customers/actions/bulk`` with ``operation: "update"``."""

    action_ids: Sequence[str]
    updates: ActionUpdates


@frozen(kw_only=True)
class BulkComplete:
    """``POST /customers/actions/bulk/complete``: each action gets its own copy of ``notes``."""

    action_ids: Sequence[str]
    notes: str | None = None
    outcome: str | None = None


@frozen(kw_only=True)
class BulkDismiss:
    """``POST /customers/actions/bulk/dismiss``; ``reason`` is required."""

    action_ids: Sequence[str]
    reason: str | None
    notes: str | None = None


@frozen(kw_only=True)
class BulkSnooze:
    """``POST /customers/actions/bulk/snooze``."""

    action_ids: Sequence[str]
    snoozed_until: datetime
    notes: str | None = None


@frozen(kw_only=True)
class BulkAssign:
    """``POST /customers/actions/bulk/assign`` (the body's ``assignedToName`` is not trusted: the
    name comes from the employee record)."""

    action_ids: Sequence[str]
    assigned_to: str


@frozen
class BulkFailure:
    """One item that was not changed: ``{"id", "reason", "code"}`` in the response."""

    id: str
    reason: str
    code: str


@frozen
class BulkResult:
    """The per-item answer of a bulk request.

    ``requested_ids`` — the distinct ids in request order; ``succeeded_ids`` and ``failed``
    partition them. ``count`` is the response's ``updatedCount``/``completedCount``/
    ``dismissedCount``/``snoozedCount``/``assignedCount``; :meth:`statuses` its ``actions``
    list; ``assignee`` the ``assignedTo: {id, name}`` of a reassignment.
    """

    requested_ids: tuple[str, ...]
    succeeded_ids: tuple[str, ...]
    failed: tuple[BulkFailure, ...]
    assignee: Employee | None = None

    @property
    def count(self) -> int:
        """How many actions succeeded."""
        return len(self.succeeded_ids)

    def statuses(self) -> list[tuple[str, str]]:
        """``(id, "success" | "failed")`` for every requested id, in request order."""
        ok = set(self.succeeded_ids)
        return [(i, "success" if i in ok else "failed") for i in self.requested_ids]


# --- the shared procedure ------------------------------------------------------------------------


def _check_ids(raw: Sequence[object]) -> tuple[str, ...]:
    """The distinct ids of ``actionIds`` in request order (400 on ``actionIds`` otherwise)."""
    errors: list[FieldError] = []
    if isinstance(raw, str) or not raw:
        raise ValidationFailed.single("actionIds", "must be a non-empty list of action ids")
    cleaned = clean_texts(
        "actionIds",
        raw,
        max_length=ID_MAX_LENGTH,
        errors=errors,
        blank="must be a non-empty string",
    )
    if errors:
        raise ValidationFailed(errors)
    ids = dedupe(cleaned)
    if len(ids) > MAX_BULK_IDS:
        raise ValidationFailed.single("actionIds", f"must have at most {MAX_BULK_IDS} distinct ids")
    return ids


def _allow_bulk(actor: Actor, count: int, *, reassigns: bool) -> None:
    decision = access.decide_bulk(actor, Operation.BULK_ACTIONS, count, reassigns=reassigns)
    access.enforce_decision(decision, resource_type="action", resource_id="")


def _code(decision: AssignmentDecision) -> str:
    if isinstance(decision, Hidden):
        return NotFound.code
    if isinstance(decision, Forbidden):
        return PermissionDenied.code
    return AssignmentRejected.code


def _clean(
    field_name: str,
    text: str | None,
    *,
    max_length: int = _NOTES_MAX_LENGTH,
    multiline: bool = True,
) -> str | None:
    """``text`` through :func:`clean_text` (400 on ``field_name``); blank is ``None``."""
    errors = Errors()
    cleaned = errors.text(field_name, text, max_length=max_length, multiline=multiline)
    errors.raise_if_any()
    return cleaned


def _assignee(employee: Employee | None, actor: Actor, field_name: str) -> Employee:
    """The target of a reassignment: an active employee of the organization (422 otherwise)."""
    if employee is None or employee.organization_id != actor.organization_id:
        raise AssignmentRejected(access.UNKNOWN_ASSIGNEE_REASON, {"field": field_name})
    if not employee.is_active:
        raise AssignmentRejected("assignee is not an active employee", {"field": field_name})
    return employee


async def _run(
    deps: Dependencies,
    actor: Actor,
    raw_ids: Sequence[object],
    make_change: Callable[[Employee | None], ActionChange],
    *,
    check_input: Callable[[datetime], None] | None = None,
    target_id: str | None = None,
    target_field: str = "assignedTo",
) -> BulkResult:
    """The procedure of the module docstring; ``make_change`` gets the loaded target assignee."""
    reassigns = target_id is not None
    _allow_bulk(actor, 0, reassigns=reassigns)  # the role and token first: a viewer gets 403
    ids = _check_ids(raw_ids)
    _allow_bulk(actor, len(ids), reassigns=reassigns)
    if check_input is not None:
        check_input(deps.clock.now())

    async def work(uow: UnitOfWork) -> tuple[BulkResult, list[DomainEvent]]:
        now = deps.clock.now()
        organization_id = actor.organization_id
        actions = await uow.actions.get_many(organization_id, ids)
        customer_ids = list(dict.fromkeys(a.customer_id for a in actions.values()))
        customers = (
            await uow.customers.get_many(organization_id, customer_ids) if customer_ids else {}
        )
        employee_ids = [
            *(a.assigned_to for a in actions.values()),
            *(c.assigned_employee_id for c in customers.values()),
            target_id,
        ]
        wanted = list(dict.fromkeys(i for i in employee_ids if i))
        employees = await uow.employees.get_many(organization_id, wanted) if wanted else {}
        target = (
            _assignee(employees.get(target_id), actor, target_field)
            if target_id is not None
            else None
        )
        change = make_change(target)

        failed: dict[str, BulkFailure] = {}
        succeeded: list[str] = []
        writes: list[tuple[CustomerAction, int]] = []
        events: dict[str, list[DomainEvent]] = {}
        for action_id in ids:
            action = actions.get(action_id)
            if action is None or action.organization_id != organization_id:
                failed[action_id] = BulkFailure(action_id, NOT_FOUND_REASON, NotFound.code)
                continue
            customer = customers.get(action.customer_id)
            record = RecordScope.for_action(
                action, customer.assigned_employee_id if customer else None, employees
            )
            decision = access.decide_bulk_item(actor, record, reassigns=reassigns, target=target)
            if not isinstance(decision, Allowed):
                reason = access.failure_reason(decision, resource_type="action") or ""
                failed[action_id] = BulkFailure(action_id, reason, _code(decision))
                continue
            try:
                updated, emitted = change(action, now)
            except InvalidActionTransition as refused:
                failed[action_id] = BulkFailure(action_id, refused.message, refused.code)
                continue
            except ValidationFailed as bad:
                failed[action_id] = BulkFailure(action_id, str(bad), bad.code)
                continue
            succeeded.append(action_id)
            if updated != action:
                writes.append((updated, action.version))
                events[action_id] = emitted
        moved = await uow.actions.save_many(writes) if writes else set()
        for action_id in moved:
            failed[action_id] = BulkFailure(action_id, CONFLICT_REASON, ConcurrentUpdate.code)
        result = BulkResult(
            requested_ids=ids,
            succeeded_ids=tuple(i for i in succeeded if i not in moved),
            failed=tuple(failed[i] for i in ids if i in failed),
            assignee=target,
        )
        published = [e for i in ids if i in events and i not in moved for e in events[i]]
        return result, published

    return await transaction_as(deps, actor, work)


# --- use cases -----------------------------------------------------------------------------------


async def bulk_update(deps: Dependencies, actor: Actor, command: BulkUpdate) -> BulkResult:
    """Set ``priority``, ``dueDate``, ``status`` and/or ``assignedTo`` on many actions."""
    updates = command.updates
    errors: list[FieldError] = []
    if updates.is_empty:
        errors.append(FieldError("updates", "must change at least one field"))
    if updates.status is not UNSET and updates.status not in _UPDATABLE_STATUSES:
        errors.append(
            FieldError(
                "updates.status",
                "must be pending or in_progress; complete, dismiss and snooze have their own "
                "bulk operations",
            )
        )
    naive_due = isinstance(updates.due_date, datetime) and updates.due_date.utcoffset() is None
    if naive_due:
        errors.append(FieldError("updates.dueDate", "must include a time zone"))
    target_id: str | None = None
    if updates.assigned_to is not UNSET:
        try:
            target_id = clean_text(
                "updates.assignedTo", updates.assigned_to or "", max_length=ID_MAX_LENGTH
            )
        except ValidationFailed as failure:
            errors.extend(failure.errors)
        else:
            if not target_id:
                errors.append(FieldError("updates.assignedTo", "must name an employee"))
                target_id = None

    def check_input(now: datetime) -> None:
        if isinstance(updates.due_date, datetime) and not naive_due:
            try:
                validate_scheduled_at(updates.due_date, now, field="updates.dueDate")
            except ValidationFailed as failure:
                errors.extend(failure.errors)
        if errors:
            raise ValidationFailed(errors)

    def make_change(target: Employee | None) -> ActionChange:
        def change(
            action: CustomerAction, now: datetime
        ) -> tuple[CustomerAction, list[DomainEvent]]:
            return inbox.update_action(
                action,
                now=now,
                priority=updates.priority,
                due_date=updates.due_date,
                status=updates.status,
                assigned_to=target.id if target is not None else UNSET,
                assigned_to_name=target.name if target is not None else UNSET,
            )

        return change

    return await _run(
        deps,
        actor,
        command.action_ids,
        make_change,
        check_input=check_input,
        target_id=target_id,
        target_field="updates.assignedTo",
    )


async def bulk_complete(deps: Dependencies, actor: Actor, command: BulkComplete) -> BulkResult:
    """Complete many actions; each gets the ``notes`` as its own note."""
    notes = _clean("notes", command.notes)
    outcome = _clean("outcome", command.outcome)

    change = completing(
        deps, actor, outcome=outcome if outcome is not None else command.outcome, notes=notes
    )
    return await _run(deps, actor, command.action_ids, lambda _target: change)


async def bulk_dismiss(deps: Dependencies, actor: Actor, command: BulkDismiss) -> BulkResult:
    """Dismiss many actions with one ``reason`` (400 on ``reason`` when blank)."""
    notes = _clean("notes", command.notes)
    reason = _clean("reason", command.reason, max_length=SHORT_TEXT_MAX_LENGTH, multiline=False)

    def check_input(now: datetime) -> None:
        del now
        if reason is None:
            raise ValidationFailed.single("reason", "A reason is required to dismiss actions")

    change = dismissing(deps, actor, reason=reason, notes=notes)
    return await _run(
        deps, actor, command.action_ids, lambda _target: change, check_input=check_input
    )


async def bulk_snooze(deps: Dependencies, actor: Actor, command: BulkSnooze) -> BulkResult:
    """Snooze many actions until ``snoozed_until`` (400 unless within the next 365 days)."""
    notes = _clean("notes", command.notes)

    def check_input(now: datetime) -> None:
        inbox.check_snooze_until(command.snoozed_until, now)

    change = snoozing(deps, actor, until=command.snoozed_until, notes=notes)
    return await _run(
        deps, actor, command.action_ids, lambda _target: change, check_input=check_input
    )


async def bulk_assign(deps: Dependencies, actor: Actor, command: BulkAssign) -> BulkResult:
    """Assign many actions to one active employee (managers: within the team; agents: never)."""
    errors = Errors()
    target_id = errors.text(
        "assignedTo", command.assigned_to, max_length=ID_MAX_LENGTH, required=True
    )
    if target_id is None:
        # The role check comes first even here: a viewer learns nothing about the input.
        _allow_bulk(actor, 0, reassigns=True)
        errors.raise_if_any()

    def make_change(target: Employee | None) -> ActionChange:
        assert target is not None  # _run loads and checks the target before this

        def change(
            action: CustomerAction, now: datetime
        ) -> tuple[CustomerAction, list[DomainEvent]]:
            return inbox.update_action(
                action, now=now, assigned_to=target.id, assigned_to_name=target.name
            )

        return change

    return await _run(deps, actor, command.action_ids, make_change, target_id=target_id)

"""The requests inbox (rules §2): the action state machine as data, plus pure functions.

:data:`ALLOWED_TRANSITIONS` is the status matrix of §2. Every operation takes ``now`` and returns
``(new_action, events)``; a refused operation raises and changes nothing.

Conventions where the rules are silent:

* **Effective status.** A snoozed action whose ``snoozed_until`` is at or before ``now`` *is*
  pending (:func:`effective_status`); every operation starts from that status, so a passed snooze
  counts as pending (``reopen`` of it is ``pending → pending`` and is refused). A snoozed action
  without a ``snoozed_until`` (which the operations here never produce) counts as pending too:
  nothing would ever wake it otherwise. The first write after the wake-up also materializes it
  (``status=pending``, ``snoozedUntil=None`` appear in that write's ``changes``);
  :func:`wake_if_due` materializes it on its own, for the periodic job.
* **Leaving ``snoozed``** by any transition clears ``snoozed_until``.
* **Input before state.** Bad input (blank dismiss reason, snooze date out of range, blank title)
  is reported (400) before a forbidden transition (422).
* **Notes on an operation.** ``complete``/``dismiss``/``snooze`` append their ``notes`` as an
  :class:`ActionNote` (id ``note_id``, which is then required) and emit :class:`ActionNoteAdded`
  after :class:`ActionUpdated`. Blank notes are ignored. Reasons, outcomes and notes are stored
  stripped.
* **Notes on a terminal action** are allowed (§2); adding one moves ``updated_at`` and
  ``version`` (the stored record changed) but no other field.
* **``update_action``'s ``status``** only moves between ``pending`` and ``in_progress`` (through the
  machine); ``completed``, ``dismissed`` and ``snoozed`` need what their own operation carries
  (caller, reason, date), so asking for them here is a 400 on ``status``. A ``status`` equal to
  the current effective status is no change. A field set to its current value is no change.
* **No change, no write.** An operation that changes nothing (an update with nothing new,
  snoozing again to the same date) returns the action as is, with no event and no version bump.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from types import MappingProxyType
from typing import Final
from zoneinfo import ZoneInfo

import attrs

from customers_hub.domain.enums import ActionStatus, DueDateBucket, Priority
from customers_hub.domain.errors import FieldError, InvalidActionTransition, ValidationFailed
from customers_hub.domain.events import ActionNoteAdded, ActionUpdated, DomainEvent, EventHead
from customers_hub.domain.model import ActionNote, Actor, CustomerAction
from customers_hub.domain.unset import UNSET, Unset
from customers_hub.domain.validation.texts import stripped_or_none

_P, _IP, _C, _D, _S = (
    ActionStatus.PENDING,
    ActionStatus.IN_PROGRESS,
    ActionStatus.COMPLETED,
    ActionStatus.DISMISSED,
    ActionStatus.SNOOZED,
)

ALLOWED_TRANSITIONS: Mapping[ActionStatus, frozenset[ActionStatus]] = MappingProxyType(
    {
        _P: frozenset({_IP, _C, _D, _S}),
        _IP: frozenset({_P, _C, _D, _S}),
        _S: frozenset({_P, _IP, _C, _D, _S}),  # snoozed → snoozed: a new date
        _C: frozenset(),  # terminal
        _D: frozenset(),  # terminal
    }
)
"""The status matrix of rules §2: ``to in ALLOWED_TRANSITIONS[from]``."""

OPEN_STATUSES: frozenset[ActionStatus] = frozenset({_P, _IP})
"""Statuses in which an action past its due date is overdue."""

MAX_SNOOZE: Final = timedelta(days=365)
"""A snooze ends at most this long after ``now`` (inclusive)."""

TITLE_MAX_LENGTH: Final = 500
"""Longest action title (the ``customer_actions.title`` column of the API document)."""

DEFAULT_TIME_ZONE: Final[tzinfo] = ZoneInfo("Asia/Riyadh")
"""The organization time zone used when none is configured."""

PRIORITY_ORDER: tuple[Priority, ...] = tuple(sorted(Priority, key=lambda p: p.rank, reverse=True))
"""Priorities from most to least urgent: urgent, high, medium, low."""


def priority_sort_key(priority: Priority) -> int:
    """Sort key of a priority: larger is more urgent (sort descending for urgent first)."""
    return priority.rank


# --- effective status and wake-up ----------------------------------------------------------------


def is_snooze_due(action: CustomerAction, now: datetime) -> bool:
    """True for a snoozed action whose snooze has ended (``snoozed_until <= now``)."""
    return action.status is _S and (action.snoozed_until is None or action.snoozed_until <= now)


def effective_status(action: CustomerAction, now: datetime) -> ActionStatus:
    """The status reported everywhere: a snoozed action whose snooze has ended is ``pending``."""
    return _P if is_snooze_due(action, now) else action.status


def status_matches(
    action: CustomerAction, statuses: Collection[ActionStatus], now: datetime
) -> bool:
    """True when the effective status of ``action`` is one of ``statuses`` (list filters)."""
    return effective_status(action, now) in statuses


def wake_if_due(action: CustomerAction, now: datetime) -> tuple[CustomerAction, list[DomainEvent]]:
    """Materialize a passed snooze (``pending``, no ``snoozed_until``) and emit ``action.updated``.

    Returns ``(action, [])`` unchanged when there is nothing to wake.
    """
    if not is_snooze_due(action, now):
        return action, []
    return _commit(action, _woken(action, now), now)


def _woken(action: CustomerAction, now: datetime) -> CustomerAction:
    # The wake-up without the bookkeeping (updated_at, version): the base of every write.
    if not is_snooze_due(action, now):
        return action
    return attrs.evolve(action, status=_P, snoozed_until=None)


# --- overdue and due-date buckets ----------------------------------------------------------------


def is_overdue(action: CustomerAction, now: datetime) -> bool:
    """``due_date < now`` and the effective status is ``pending`` or ``in_progress``."""
    return (
        action.due_date is not None
        and action.due_date < now
        and effective_status(action, now) in OPEN_STATUSES
    )


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """Wall-clock midnight of ``day`` in ``tz``, as a UTC instant."""
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def local_today(now: datetime, tz: tzinfo = DEFAULT_TIME_ZONE) -> date:
    """The calendar day that ``now`` falls on in ``tz``."""
    return now.astimezone(tz).date()


def bucket_bounds(
    bucket: DueDateBucket, now: datetime, tz: tzinfo = DEFAULT_TIME_ZONE
) -> tuple[datetime | None, datetime | None]:
    """The half-open UTC range ``[start, end)`` of ``due_date`` for a due-date bucket.

    ``None`` is an open end. ``today`` is the local day of ``now``; ``week`` runs from the start of
    that day to the same local time 7 days later. Two buckets need more than the range:

    * ``overdue`` is ``(None, now)`` **and** an effective status in :data:`OPEN_STATUSES`. In SQL:
      ``due_date < :now AND (status IN ('pending', 'in_progress') OR (status = 'snoozed' AND
      (snoozed_until IS NULL OR snoozed_until <= :now)))``.
    * ``no_date`` is ``(None, None)`` meaning ``due_date IS NULL`` (not "any date").
    """
    if bucket is DueDateBucket.OVERDUE:
        return None, now
    if bucket is DueDateBucket.NO_DATE:
        return None, None
    return _day_range(now, tz, days=1 if bucket is DueDateBucket.TODAY else 7)


def _day_range(now: datetime, tz: tzinfo, *, days: int) -> tuple[datetime, datetime]:
    # From local midnight of today to local midnight ``days`` calendar days later (wall clock,
    # so a DST change inside the range does not shift the end off midnight).
    today = local_today(now, tz)
    return local_midnight(today, tz), local_midnight(today + timedelta(days=days), tz)


def month_bounds(now: datetime, tz: tzinfo = DEFAULT_TIME_ZONE) -> tuple[datetime, datetime]:
    """The UTC range ``[start, end)`` of the local calendar month of ``now`` (stats' thisMonth)."""
    today = local_today(now, tz)
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return local_midnight(first, tz), local_midnight(following, tz)


def in_bucket(
    action: CustomerAction, bucket: DueDateBucket, now: datetime, tz: tzinfo = DEFAULT_TIME_ZONE
) -> bool:
    """True when ``action`` is in the due-date ``bucket`` at ``now`` (see :func:`bucket_bounds`)."""
    if bucket is DueDateBucket.NO_DATE:
        return action.due_date is None
    if bucket is DueDateBucket.OVERDUE:
        return is_overdue(action, now)
    start, end = _day_range(now, tz, days=1 if bucket is DueDateBucket.TODAY else 7)
    return action.due_date is not None and start <= action.due_date < end


# --- writing: diff, bookkeeping, events ----------------------------------------------------------

# Fields an ``action.updated`` event reports, with their camelCase API names.
_CHANGE_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "status": "status",
        "title": "title",
        "description": "description",
        "priority": "priority",
        "due_date": "dueDate",
        "snoozed_until": "snoozedUntil",
        "assigned_to": "assignedTo",
        "assigned_to_name": "assignedToName",
        "completed_at": "completedAt",
        "completed_by": "completedBy",
        "outcome": "outcome",
        "dismiss_reason": "dismissReason",
    }
)


def _employee_ids(*assignees: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a for a in assignees if a))


class _About(EventHead):
    """The fields every event about a change of an action shares."""

    action_id: str


def _commit(
    before: CustomerAction, after: CustomerAction, now: datetime
) -> tuple[CustomerAction, list[DomainEvent]]:
    """Stamp ``after`` (updated_at, version+1) and describe it with events.

    An operation that ends where it started (snoozing again to the same date) writes nothing.
    """
    if after == before:
        return before, []
    changes = {
        api: getattr(after, name)
        for name, api in _CHANGE_NAMES.items()
        if getattr(after, name) != getattr(before, name)
    }
    saved = attrs.evolve(after, updated_at=now, version=before.version + 1)
    about: _About = {
        "organization_id": after.organization_id,
        "occurred_at": now,
        "employee_ids": _employee_ids(after.assigned_to, before.assigned_to),
        "action_id": after.id,
    }
    events: list[DomainEvent] = []
    if changes:
        events.append(
            ActionUpdated(
                **about, customer_id=after.customer_id, changes=changes, status=after.status
            )
        )
    added = after.notes[len(before.notes) :]
    events.extend(ActionNoteAdded(**about, note_id=note.id) for note in added)
    return saved, events


def _refuse(current: ActionStatus, to: ActionStatus, message: str) -> InvalidActionTransition:
    return InvalidActionTransition(
        message, details={"fromStatus": current.value, "toStatus": to.value}
    )


def _moved(action: CustomerAction, to: ActionStatus, now: datetime) -> CustomerAction:
    """``action`` (woken) moved to ``to``, or raise when the machine forbids it."""
    current = effective_status(action, now)
    if to not in ALLOWED_TRANSITIONS[current]:
        raise _refuse(current, to, f"An action cannot go from {current.value} to {to.value}")
    woken = _woken(action, now)
    return attrs.evolve(
        woken,
        status=to,
        # Only a snoozed action has a wake-up time; leaving snoozed drops it.
        snoozed_until=woken.snoozed_until if to is _S else None,
    )


def _with_note(
    action: CustomerAction,
    notes: str | None,
    note_id: str | None,
    *,
    actor: Actor,
    now: datetime,
) -> CustomerAction:
    content = stripped_or_none(notes)
    if content is None:
        return action
    if note_id is None:
        # A programming error of the caller, not bad input: the note would be silently lost.
        raise ValueError("note_id is required when notes are given")
    note = ActionNote(
        id=note_id,
        action_id=action.id,
        content=content,
        created_by=actor.display_name,
        created_by_id=actor.user_id,
        created_at=now,
    )
    return attrs.evolve(action, notes=(*action.notes, note))


def _is_aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() is not None


def _require_aware(field: str, value: datetime) -> None:
    if not _is_aware(value):
        raise ValidationFailed.single(field, "must include a time zone")


# --- transitions ---------------------------------------------------------------------------------


def start(
    action: CustomerAction, *, actor: Actor, now: datetime
) -> tuple[CustomerAction, list[DomainEvent]]:
    """Move to ``in_progress`` (from pending or snoozed)."""
    del actor  # part of every transition's signature; starting records nothing about the caller
    return _commit(action, _moved(action, _IP, now), now)


def reopen(
    action: CustomerAction, *, actor: Actor, now: datetime
) -> tuple[CustomerAction, list[DomainEvent]]:
    """Move back to ``pending`` (from in_progress, or un-snooze a snoozed action early)."""
    del actor
    return _commit(action, _moved(action, _P, now), now)


def complete(
    action: CustomerAction,
    *,
    actor: Actor,
    now: datetime,
    outcome: str | None = None,
    notes: str | None = None,
    note_id: str | None = None,
) -> tuple[CustomerAction, list[DomainEvent]]:
    """Move to ``completed``: ``completed_at=now``, ``completed_by=actor.user_id``, outcome kept."""
    moved = _moved(action, _C, now)
    done = attrs.evolve(
        moved,
        completed_at=now,
        completed_by=actor.user_id,
        outcome=stripped_or_none(outcome) if outcome is not None else moved.outcome,
    )
    return _commit(action, _with_note(done, notes, note_id, actor=actor, now=now), now)


def dismiss(
    action: CustomerAction,
    *,
    actor: Actor,
    now: datetime,
    reason: str | None,
    notes: str | None = None,
    note_id: str | None = None,
) -> tuple[CustomerAction, list[DomainEvent]]:
    """Move to ``dismissed``; ``reason`` is required (400 on field ``reason``) and kept."""
    kept = stripped_or_none(reason)
    if kept is None:
        raise ValidationFailed.single("reason", "A reason is required to dismiss an action")
    moved = attrs.evolve(_moved(action, _D, now), dismiss_reason=kept)
    return _commit(action, _with_note(moved, notes, note_id, actor=actor, now=now), now)


def check_snooze_until(until: datetime, now: datetime) -> None:
    """Raise ``ValidationFailed`` on ``snoozedUntil`` unless ``now < until <= now + 365 days``."""
    _require_aware("snoozedUntil", until)
    if until <= now:
        raise ValidationFailed.single("snoozedUntil", "must be in the future")
    if until > now + MAX_SNOOZE:
        raise ValidationFailed.single("snoozedUntil", "must be at most one year ahead")


def snooze(
    action: CustomerAction,
    *,
    actor: Actor,
    now: datetime,
    until: datetime,
    notes: str | None = None,
    note_id: str | None = None,
) -> tuple[CustomerAction, list[DomainEvent]]:
    """Move to ``snoozed`` until ``until`` (a snoozed action may be snoozed again to a new date)."""
    check_snooze_until(until, now)
    moved = attrs.evolve(_moved(action, _S, now), snoozed_until=until)
    return _commit(action, _with_note(moved, notes, note_id, actor=actor, now=now), now)


# Statuses ``update_action`` may set; the others need their own operation's data.
_UPDATABLE_STATUSES: frozenset[ActionStatus] = frozenset({_P, _IP})
_STATUS_NEEDS_OPERATION = (
    "must be pending or in_progress here; complete, dismiss and snooze have their own operations"
)


def update_action(
    action: CustomerAction,
    *,
    now: datetime,
    title: str | Unset = UNSET,
    description: str | Unset | None = UNSET,
    priority: Priority | Unset = UNSET,
    due_date: datetime | Unset | None = UNSET,
    assigned_to: str | Unset | None = UNSET,
    assigned_to_name: str | Unset | None = UNSET,
    status: ActionStatus | Unset = UNSET,
) -> tuple[CustomerAction, list[DomainEvent]]:
    """Change the given fields (``UNSET`` = not given, ``None`` = clear).

    A terminal action refuses any change (:class:`InvalidActionTransition`). ``status`` goes
    through the machine and may only be ``pending`` or ``in_progress`` (see the module docstring).
    Whether ``assigned_to`` is an active employee of the organization is the caller's check.
    """
    current = effective_status(action, now)
    errors: list[FieldError] = []
    if title is not UNSET:
        title = title.strip()
        if not title:
            errors.append(FieldError("title", "must not be empty"))
        elif len(title) > TITLE_MAX_LENGTH:
            errors.append(FieldError("title", f"must be at most {TITLE_MAX_LENGTH} characters"))
    if due_date is not UNSET and due_date is not None and not _is_aware(due_date):
        errors.append(FieldError("dueDate", "must include a time zone"))
    if status is not UNSET and status is not current and status not in _UPDATABLE_STATUSES:
        errors.append(FieldError("status", _STATUS_NEEDS_OPERATION))
    if errors:
        raise ValidationFailed(errors)

    target = attrs.evolve(
        action,
        title=action.title if title is UNSET else title,
        description=action.description if description is UNSET else stripped_or_none(description),
        priority=action.priority if priority is UNSET else priority,
        due_date=action.due_date if due_date is UNSET else due_date,
        assigned_to=action.assigned_to if assigned_to is UNSET else assigned_to,
        assigned_to_name=action.assigned_to_name if assigned_to_name is UNSET else assigned_to_name,
    )
    wanted = current if status is UNSET else status
    if target == action and wanted is current:
        return action, []
    if current.is_terminal:
        raise _refuse(current, wanted, f"A {current.value} action can no longer be changed")
    base = _moved(action, wanted, now) if wanted is not current else _woken(action, now)
    updated = attrs.evolve(
        base,
        title=target.title,
        description=target.description,
        priority=target.priority,
        due_date=target.due_date,
        assigned_to=target.assigned_to,
        assigned_to_name=target.assigned_to_name,
    )
    return _commit(action, updated, now)


def add_note(
    action: CustomerAction, note: ActionNote, *, now: datetime
) -> tuple[CustomerAction, list[DomainEvent]]:
    """Append ``note`` (allowed on terminal actions too) and emit ``action.note_added``."""
    if note.action_id != action.id:
        raise ValueError(f"note {note.id} belongs to action {note.action_id}, not {action.id}")
    if not note.content.strip():
        raise ValidationFailed.single("content", "must not be empty")
    return _commit(action, attrs.evolve(action, notes=(*action.notes, note)), now)

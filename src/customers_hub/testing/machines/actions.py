"""The action machine: one action driven through the inbox by random commands."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Final

import attrs
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from hypothesis.strategies import SearchStrategy

from customers_hub.domain import inbox
from customers_hub.domain.enums import ActionStatus
from customers_hub.domain.errors import (
    InvalidActionTransition,
    ValidationFailed,
)
from customers_hub.domain.events import (
    ActionNoteAdded,
    ActionUpdated,
    DomainEvent,
)
from customers_hub.domain.model import (
    ActionNote,
    Actor,
    CustomerAction,
)
from customers_hub.testing.machines.model import (
    _COMMAND_TARGETS,
    Outcome,
    _has_text,
    _outcome_of,
    _same_text,
    model_action_command,
    model_effective_status,
)
from customers_hub.testing.strategies import (
    actions,
    actors,
)

# --- the action machine --------------------------------------------------------------------

_OUTCOME_TEXT: Final = st.none() | st.sampled_from(("", " ", "تم التواصل", " agreed to visit "))
_DISMISS_REASON: Final = st.sampled_from(
    (None, "", "   ", "العميل غير مهتم", " duplicate ", "رقم خاطئ")
)
_ACTION_NOTE_TEXT: Final = st.none() | st.sampled_from(("", "  ", "اتصلت ولم يرد", " call back "))
# Snooze offsets from now: past, now itself, within a year, beyond a year; never near the
# one-year boundary, where "a year" (365 or 366 days) is a matter of reading.
_SNOOZE_OFFSETS: Final = st.one_of(
    st.integers(-30 * 86_400, 0).map(lambda s: timedelta(seconds=s)),
    st.integers(1, 364 * 86_400).map(lambda s: timedelta(seconds=s)),
    st.integers(367 * 86_400, 3 * 365 * 86_400).map(lambda s: timedelta(seconds=s)),
)
_CLOCK_STEPS: Final = st.one_of(
    st.integers(1, 3600).map(lambda s: timedelta(seconds=s)),
    st.integers(1, 60).map(lambda d: timedelta(days=d)),
)
# Fields that adding a note to a terminal action may touch: the notes, and the record's
# bookkeeping (when it was last written, its version).
_NOTE_FIELDS: Final = frozenset({"notes", "updated_at", "version"})


def _changed_fields(before: CustomerAction, after: CustomerAction) -> set[str]:
    return {
        field.name
        for field in attrs.fields(CustomerAction)
        if field.name not in _NOTE_FIELDS
        and getattr(before, field.name) != getattr(after, field.name)
    }


class ActionMachine(RuleBasedStateMachine):
    """One inbox action moved by random operations while a clock advances, checked against
    :data:`MODEL_ACTION_MOVES` and :func:`model_action_command`.

    Rules: start, reopen, complete (with or without outcome and notes), dismiss (with a blank or
    real reason), snooze (to a date in the past, now, within a year or beyond), add a note,
    advance the clock (also exactly to the end of a snooze).

    Invariants: a terminal action absorbs — after ``completed``/``dismissed`` no field changes
    except that notes grow (and the record's ``updated_at``/``version`` bookkeeping); notes only
    ever grow; a snoozed action's effective status is ``pending`` exactly from ``snoozed_until``
    on and ``snoozed`` before; fields agree with the status (completed has ``completed_at`` and
    ``completed_by``, dismissed a reason, snoozed a ``snoozed_until``).

    Hooks to override (see the module docstring): :meth:`initial_actions`, :meth:`on_start`,
    :meth:`perform_start`, :meth:`perform_reopen`, :meth:`perform_complete`,
    :meth:`perform_dismiss`, :meth:`perform_snooze`, :meth:`perform_add_note`,
    :meth:`observe_action`, :meth:`observe_effective_status`.
    """

    action: CustomerAction
    """The action as the machine last received it from a hook."""
    now: datetime
    """The machine's clock; only :meth:`advance_time` and :meth:`sleep_until_snooze_ends` move
    it."""
    actor: Actor
    """Who performs every operation of the run."""

    def __init__(self) -> None:
        super().__init__()
        self._note_numbers = 0
        self._terminal: CustomerAction | None = None
        self._notes_seen: tuple[ActionNote, ...] = ()

    # --- hooks -------------------------------------------------------------------------------

    def initial_actions(self) -> SearchStrategy[CustomerAction]:
        """Where a run starts; default: any action, mostly open ones."""
        open_mostly = (
            ActionStatus.PENDING,
            ActionStatus.PENDING,
            ActionStatus.IN_PROGRESS,
            ActionStatus.SNOOZED,
            ActionStatus.COMPLETED,
            ActionStatus.DISMISSED,
        )
        return actions(status=st.sampled_from(open_mostly))

    def initial_actors(self, action: CustomerAction) -> SearchStrategy[Actor]:
        """Who performs the operations; default: any role of the action's organization."""
        return actors(organization_id=action.organization_id)

    def on_start(self, action: CustomerAction) -> None:
        """Called once with the initial action (store it in your system here)."""

    def perform_start(
        self, action: CustomerAction, *, actor: Actor, now: datetime
    ) -> tuple[CustomerAction, Sequence[DomainEvent]]:
        """Move to ``in_progress``."""
        return inbox.start(action, actor=actor, now=now)

    def perform_reopen(
        self, action: CustomerAction, *, actor: Actor, now: datetime
    ) -> tuple[CustomerAction, Sequence[DomainEvent]]:
        """Move back to ``pending``."""
        return inbox.reopen(action, actor=actor, now=now)

    def perform_complete(
        self,
        action: CustomerAction,
        *,
        actor: Actor,
        now: datetime,
        outcome: str | None,
        notes: str | None,
        note_id: str,
    ) -> tuple[CustomerAction, Sequence[DomainEvent]]:
        """Complete, keeping ``outcome`` and appending ``notes`` as note ``note_id``."""
        return inbox.complete(
            action, actor=actor, now=now, outcome=outcome, notes=notes, note_id=note_id
        )

    def perform_dismiss(
        self,
        action: CustomerAction,
        *,
        actor: Actor,
        now: datetime,
        reason: str | None,
        notes: str | None,
        note_id: str,
    ) -> tuple[CustomerAction, Sequence[DomainEvent]]:
        """Dismiss with ``reason`` (blank ones must be refused)."""
        return inbox.dismiss(
            action, actor=actor, now=now, reason=reason, notes=notes, note_id=note_id
        )

    def perform_snooze(
        self,
        action: CustomerAction,
        *,
        actor: Actor,
        now: datetime,
        until: datetime,
        notes: str | None,
        note_id: str,
    ) -> tuple[CustomerAction, Sequence[DomainEvent]]:
        """Snooze until ``until``."""
        return inbox.snooze(action, actor=actor, now=now, until=until, notes=notes, note_id=note_id)

    def perform_add_note(
        self, action: CustomerAction, note: ActionNote, *, now: datetime
    ) -> tuple[CustomerAction, Sequence[DomainEvent]]:
        """Append ``note``."""
        return inbox.add_note(action, note, now=now)

    def observe_action(self) -> CustomerAction:
        """The action as the system under test holds it now; the invariants check this."""
        return self.action

    def observe_effective_status(self, action: CustomerAction, now: datetime) -> ActionStatus:
        """The status the system reports for ``action`` at ``now``."""
        return inbox.effective_status(action, now)

    # --- helpers -----------------------------------------------------------------------------

    def _next_note_id(self) -> str:
        self._note_numbers += 1
        return f"note_machine_{self._note_numbers}"

    def _attempt(
        self,
        command: str,
        expected: frozenset[Outcome],
        call: Callable[[], tuple[CustomerAction, Sequence[DomainEvent]]],
    ) -> tuple[CustomerAction, Sequence[DomainEvent]] | None:
        before = self.action
        described = (
            f"{command} on {before.status} (effective "
            f"{model_effective_status(before.status, before.snoozed_until, self.now)}) at "
            f"{self.now.isoformat()}"
        )
        try:
            after, events = call()
        except (InvalidActionTransition, ValidationFailed) as refusal:
            outcome = _outcome_of(refusal)
            assert outcome in expected, f"{described}: {outcome}, model expects {set(expected)}"
            assert self.observe_action() == before, "a refused operation changed the action"
            event(f"{command} refused: {outcome.value}")
            return None
        assert Outcome.ACCEPTED in expected, f"{described}: accepted, model expects {expected}"
        assert after.notes[: len(before.notes)] == before.notes
        assert after.status.value == _COMMAND_TARGETS[command], (command, after.status)
        if _changed_fields(before, after):
            # A change is announced; a no-op (snoozing again to the same date) need not be.
            updates = [e for e in events if isinstance(e, ActionUpdated)]
            assert any(e.status is after.status for e in updates), events
        self.action = after
        if after.status.is_terminal:
            self._terminal = after
        event(f"{command} accepted")
        return after, events

    def _expect(
        self, command: str, *, reason: str | None = None, until: datetime | None = None
    ) -> frozenset[Outcome]:
        effective = model_effective_status(self.action.status, self.action.snoozed_until, self.now)
        return model_action_command(command, effective, now=self.now, reason=reason, until=until)

    def _check_notes(
        self, before: CustomerAction, after: CustomerAction, notes: str | None
    ) -> None:
        if _has_text(notes):
            assert len(after.notes) == len(before.notes) + 1
            assert _same_text(after.notes[-1].content, notes)
            assert after.notes[-1].created_by_id == self.actor.user_id
        else:
            assert after.notes == before.notes

    # --- rules -------------------------------------------------------------------------------

    @initialize(data=st.data())
    def start_with_action(self, data: st.DataObject) -> None:
        """Draw the initial action and the actor; the clock starts at its ``updated_at``."""
        action = data.draw(self.initial_actions(), label="initial action")
        self.actor = data.draw(self.initial_actors(action), label="actor")
        self.action = action
        self.now = action.updated_at
        self._notes_seen = action.notes
        if action.status.is_terminal:
            self._terminal = action
        self.on_start(action)

    @rule()
    def start(self) -> None:
        """Start working on the action (→ ``in_progress``)."""
        self._attempt(
            "start",
            self._expect("start"),
            lambda: self.perform_start(self.action, actor=self.actor, now=self.now),
        )

    @rule()
    def reopen(self) -> None:
        """Put the action back to ``pending``."""
        self._attempt(
            "reopen",
            self._expect("reopen"),
            lambda: self.perform_reopen(self.action, actor=self.actor, now=self.now),
        )

    @rule(outcome=_OUTCOME_TEXT, notes=_ACTION_NOTE_TEXT)
    def complete(self, outcome: str | None, notes: str | None) -> None:
        """Complete the action (→ ``completed``), keeping outcome and notes."""
        before, note_id = self.action, self._next_note_id()
        done = self._attempt(
            "complete",
            self._expect("complete"),
            lambda: self.perform_complete(
                before,
                actor=self.actor,
                now=self.now,
                outcome=outcome,
                notes=notes,
                note_id=note_id,
            ),
        )
        if done is not None:
            after = done[0]
            assert after.completed_at == self.now
            assert after.completed_by == self.actor.user_id
            if _has_text(outcome):
                assert _same_text(after.outcome, outcome), (after.outcome, outcome)
            self._check_notes(before, after, notes)

    @rule(reason=_DISMISS_REASON, notes=_ACTION_NOTE_TEXT)
    def dismiss(self, reason: str | None, notes: str | None) -> None:
        """Dismiss the action (→ ``dismissed``); a blank reason must be refused."""
        before, note_id = self.action, self._next_note_id()
        done = self._attempt(
            "dismiss",
            self._expect("dismiss", reason=reason),
            lambda: self.perform_dismiss(
                before,
                actor=self.actor,
                now=self.now,
                reason=reason,
                notes=notes,
                note_id=note_id,
            ),
        )
        if done is not None:
            assert _same_text(done[0].dismiss_reason, reason), (done[0].dismiss_reason, reason)
            self._check_notes(before, done[0], notes)

    @rule(offset=_SNOOZE_OFFSETS, notes=_ACTION_NOTE_TEXT)
    def snooze(self, offset: timedelta, notes: str | None) -> None:
        """Snooze to ``now + offset`` (valid only strictly ahead and within a year)."""
        before, note_id, until = self.action, self._next_note_id(), self.now + offset
        done = self._attempt(
            "snooze",
            self._expect("snooze", until=until),
            lambda: self.perform_snooze(
                before, actor=self.actor, now=self.now, until=until, notes=notes, note_id=note_id
            ),
        )
        if done is not None:
            assert done[0].snoozed_until == until
            self._check_notes(before, done[0], notes)

    @rule(
        content=st.sampled_from(("اتصلت ولم يرد", "أرسلت العروض", "Customer asked for a discount"))
    )
    def add_note(self, content: str) -> None:
        """Add a note; allowed in every status, terminal ones included."""
        before = self.action
        note = ActionNote(
            id=self._next_note_id(),
            action_id=before.id,
            content=content,
            created_by=self.actor.display_name,
            created_by_id=self.actor.user_id,
            created_at=self.now,
        )
        after, events = self.perform_add_note(before, note, now=self.now)
        assert after.notes == (*before.notes, note)
        assert after.status is before.status
        assert any(isinstance(e, ActionNoteAdded) and e.note_id == note.id for e in events)
        self.action = after

    @rule(step=_CLOCK_STEPS)
    def advance_time(self, step: timedelta) -> None:
        """Let time pass."""
        self.now += step

    @precondition(
        lambda self: (
            self.action.status is ActionStatus.SNOOZED
            and self.action.snoozed_until is not None
            and self.action.snoozed_until > self.now
        )
    )
    @rule()
    def sleep_until_snooze_ends(self) -> None:
        """Move the clock exactly to ``snoozed_until``: the boundary where it becomes pending."""
        assert self.action.snoozed_until is not None
        self.now = self.action.snoozed_until

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def terminal_absorbs(self) -> None:
        """After ``completed``/``dismissed``, no field changes except notes (which may grow)."""
        if self._terminal is None:
            return
        action, frozen_at = self.observe_action(), self._terminal
        assert not _changed_fields(frozen_at, action), _changed_fields(frozen_at, action)
        assert action.notes[: len(frozen_at.notes)] == frozen_at.notes

    @invariant()
    def notes_only_grow(self) -> None:
        """Notes are never edited or removed."""
        notes = self.observe_action().notes
        assert notes[: len(self._notes_seen)] == self._notes_seen
        self._notes_seen = notes

    @invariant()
    def snoozed_is_pending_exactly_from_its_end(self) -> None:
        """A snoozed action reads ``snoozed`` before ``snoozed_until`` and ``pending`` from it
        on (checked just before, at, and at the clock); any other status reads as itself."""
        action = self.observe_action()
        until = action.snoozed_until
        if action.status is not ActionStatus.SNOOZED:
            assert self.observe_effective_status(action, self.now) is action.status
            return
        if until is None:
            return  # fields_agree_with_status reports it
        for moment in (until - timedelta(microseconds=1), until, self.now):
            expected = ActionStatus.PENDING if moment >= until else ActionStatus.SNOOZED
            assert self.observe_effective_status(action, moment) is expected, (moment, until)

    @invariant()
    def fields_agree_with_status(self) -> None:
        """Completed has when and by whom; dismissed has a reason; snoozed has an end."""
        action = self.observe_action()
        if action.status is ActionStatus.COMPLETED:
            assert action.completed_at is not None
            assert action.completed_by
        if action.status is ActionStatus.DISMISSED:
            assert _has_text(action.dismiss_reason)
        if action.status is ActionStatus.SNOOZED:
            assert action.snoozed_until is not None

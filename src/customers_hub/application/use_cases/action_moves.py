"""The inbox moves that carry the caller's text — complete, dismiss, snooze — as changes of one
action, shared by the single-action use cases (:mod:`.actions`) and the bulk ones (:mod:`.bulk`).

Each function takes input already cleaned by its caller and returns an :data:`ActionChange`: the
state machine's move applied to one loaded action at ``now``. A note gets an id only when it will
be written (non-blank), so a move without notes draws no id.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from customers_hub.application.context import Dependencies
from customers_hub.domain import inbox
from customers_hub.domain.events import DomainEvent
from customers_hub.domain.model import Actor, CustomerAction

__all__ = ["ActionChange", "completing", "dismissing", "moving", "note_id", "snoozing"]

ActionChange = Callable[[CustomerAction, datetime], tuple[CustomerAction, list[DomainEvent]]]
"""One action's change at ``now``: the changed action and its events."""


def note_id(deps: Dependencies, notes: str | None) -> str | None:
    """A new note id when ``notes`` will be written (not blank), else ``None``."""
    return deps.ids.new_id("note") if notes is not None and notes.strip() else None


def moving(
    deps: Dependencies,
    actor: Actor,
    move: Callable[..., tuple[CustomerAction, list[DomainEvent]]],
    notes: str | None,
    **arguments: object,
) -> ActionChange:
    """The change that applies the state machine's ``move`` (``inbox.complete``, …) with
    ``notes`` and the move's own ``arguments``."""

    def change(action: CustomerAction, now: datetime) -> tuple[CustomerAction, list[DomainEvent]]:
        return move(
            action, actor=actor, now=now, notes=notes, note_id=note_id(deps, notes), **arguments
        )

    return change


def completing(
    deps: Dependencies, actor: Actor, *, outcome: str | None, notes: str | None
) -> ActionChange:
    """Complete the action with ``outcome`` (``None`` keeps the stored one) and ``notes``."""
    return moving(deps, actor, inbox.complete, notes, outcome=outcome)


def dismissing(
    deps: Dependencies, actor: Actor, *, reason: str | None, notes: str | None
) -> ActionChange:
    """Dismiss the action for ``reason`` (the machine refuses a blank one) with ``notes``."""
    return moving(deps, actor, inbox.dismiss, notes, reason=reason)


def snoozing(
    deps: Dependencies, actor: Actor, *, until: datetime, notes: str | None
) -> ActionChange:
    """Snooze the action until ``until`` with ``notes``."""
    return moving(deps, actor, inbox.snooze, notes, until=until)

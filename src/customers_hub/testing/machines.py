"""Reusable Hypothesis state machines for the customer lifecycle and the actions inbox.

Each machine drives the domain through random sequences of operations and checks every answer
against a *plain model*: a short, independent re-statement of rules §1 and §2 written with
strings, dicts and sets (:func:`model_stage_change`, :data:`MODEL_ACTION_MOVES`,
:func:`model_action_command`). The model predicts which outcomes are acceptable; where the rules
leave the precedence of two failures open (a non-admin re-opening without a reason; a bad snooze
date on a terminal action) every applicable error is accepted.

Run one in a test module::

    from hypothesis import settings
    from customers_hub.testing import LifecycleMachine

    TestLifecycle = LifecycleMachine.TestCase
    TestLifecycle.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)

Check your own system with the same rules by subclassing and overriding the hooks (methods whose
names start with ``perform_``, ``observe_`` or ``on_``, and the strategies ``initial_…``). For
instance, to check that a repository-backed use case behaves like the domain::

    class RepositoryLifecycle(LifecycleMachine):
        def on_start(self, customer):
            self.repo = InMemoryCustomerRepository([customer])

        def perform_stage_change(self, customer, request, *, actor, entry_id, now):
            change_stage_use_case(self.repo, customer.id, request, actor=actor, now=now)
            return self.repo.get(customer.id), self.bus.drain()

        def perform_edit(self, before, after):
            self.repo.save(after)
            return after

        def observe_customer(self):
            return self.repo.get(self.customer.id)

    TestRepositoryLifecycle = RepositoryLifecycle.TestCase

A ``perform_…`` hook must raise the domain's errors (:class:`InvalidStageTransition`,
:class:`PermissionDenied`, :class:`InvalidActionTransition`, :class:`ValidationFailed`) exactly
when the domain would, and return ``(new_value, events)`` otherwise. Release what ``on_start``
acquired in ``teardown()`` (a method of every :class:`~hypothesis.stateful.RuleBasedStateMachine`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from itertools import pairwise
from typing import Final

import attrs
from attrs import frozen
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

from customers_hub.domain import inbox, lifecycle
from customers_hub.domain.enums import ActionStatus, PropertyInterestStatus, Role, Stage
from customers_hub.domain.errors import (
    InvalidActionTransition,
    InvalidStageTransition,
    PermissionDenied,
    ValidationFailed,
)
from customers_hub.domain.events import (
    ActionNoteAdded,
    ActionUpdated,
    CustomerStageChanged,
    DomainEvent,
)
from customers_hub.domain.lifecycle import StageChangeRequest
from customers_hub.domain.model import (
    SYSTEM_ACTOR_ID,
    ActionNote,
    Actor,
    Customer,
    CustomerAction,
    StageChange,
)
from customers_hub.testing.strategies import (
    actions,
    actors,
    customers,
    property_interests,
    reasons,
    sar_amounts,
)

__all__ = [
    "MODEL_ACTION_MOVES",
    "MODEL_STAGE_ORDER",
    "ActionMachine",
    "GuardFacts",
    "LifecycleMachine",
    "Outcome",
    "model_action_command",
    "model_effective_status",
    "model_guards_hold",
    "model_stage_change",
]


class Outcome(Enum):
    """What an operation answered, as the plain models predict it."""

    ACCEPTED = "accepted"
    INVALID_TRANSITION = "invalid_transition"  # 422 INVALID_STAGE/ACTION_TRANSITION
    PERMISSION_DENIED = "permission_denied"  # 403 PERMISSION_DENIED
    VALIDATION_FAILED = "validation_failed"  # 400 VALIDATION_ERROR


def _outcome_of(error: Exception) -> Outcome:
    if isinstance(error, InvalidStageTransition | InvalidActionTransition):
        return Outcome.INVALID_TRANSITION
    if isinstance(error, PermissionDenied):
        return Outcome.PERMISSION_DENIED
    if isinstance(error, ValidationFailed):
        return Outcome.VALIDATION_FAILED
    raise error  # anything else is a bug of the system under test, not a refusal


def _has_text(text: str | None) -> bool:
    return bool(text and text.strip())


def _normalized(text: str | None) -> str | None:
    return (text.strip() or None) if text else None


def _same_text(stored: str | None, sent: str | None) -> bool:
    # Whether stored text keeps what was sent; storing it stripped, blank as None, is fine.
    return _normalized(stored) == _normalized(sent)


# --- plain model of rules §1 ---------------------------------------------------------------

MODEL_STAGE_ORDER: Final[tuple[str, ...]] = (
    "new_lead",
    "qualified",
    "property_matching",
    "site_visit",
    "negotiation",
    "contract_prep",
    "down_payment",
    "closing",
    "post_sale",
)
"""The nine stages in lifecycle order, as wire strings."""

# Entering a stage at or after the key needs the fact (guards are cumulative).
_MODEL_GUARD_FROM: Final[Mapping[str, str]] = {
    "live_interest": "site_visit",
    "deal_value": "contract_prep",
    "payment": "closing",
}


@frozen
class GuardFacts:
    """The customer data the stage guards read, computed here independently of the domain."""

    live_interest: bool
    deal_value: bool
    payment: bool

    @classmethod
    def of(cls, customer: Customer) -> GuardFacts:
        """The facts of ``customer`` now."""
        return cls(
            live_interest=any(
                i.status != PropertyInterestStatus.REJECTED for i in customer.property_interests
            ),
            deal_value=(customer.total_deal_value or Decimal(0)) > 0,
            payment=(customer.paid_amount or Decimal(0)) > 0,
        )


def model_guards_hold(stage: Stage | str, facts: GuardFacts) -> bool:
    """Whether a customer with ``facts`` may be in ``stage`` (rules §1 guard table)."""
    position = MODEL_STAGE_ORDER.index(str(stage))
    return all(
        getattr(facts, fact) or position < MODEL_STAGE_ORDER.index(from_stage)
        for fact, from_stage in _MODEL_GUARD_FROM.items()
    )


def model_stage_change(
    from_stage: Stage | str,
    to_stage: Stage | str,
    *,
    reason: str | None,
    role: Role | str,
    facts: GuardFacts,
) -> frozenset[Outcome]:
    """The outcomes rules §1 allow for a stage change request.

    ``{ACCEPTED}`` when every rule passes; otherwise the set of the errors of every rule that
    refuses (any of them is an acceptable answer).
    """
    here, there = MODEL_STAGE_ORDER.index(str(from_stage)), MODEL_STAGE_ORDER.index(str(to_stage))
    if here == there:
        return frozenset({Outcome.INVALID_TRANSITION})
    failures: set[Outcome] = set()
    reasoned = _has_text(reason)
    if str(from_stage) == "post_sale":  # re-open: admin only, with a reason
        if str(role) != "admin":
            failures.add(Outcome.PERMISSION_DENIED)
        if not reasoned:
            failures.add(Outcome.INVALID_TRANSITION)
    if str(to_stage) == "post_sale" and str(from_stage) != "closing":
        failures.add(Outcome.INVALID_TRANSITION)
    if (there < here or there - here > 1) and not reasoned:
        failures.add(Outcome.INVALID_TRANSITION)
    if not model_guards_hold(to_stage, facts):
        failures.add(Outcome.INVALID_TRANSITION)
    return frozenset(failures) if failures else frozenset({Outcome.ACCEPTED})


# --- plain model of rules §2 ---------------------------------------------------------------

MODEL_ACTION_MOVES: Final[Mapping[str, frozenset[str]]] = {
    "pending": frozenset({"in_progress", "completed", "dismissed", "snoozed"}),
    "in_progress": frozenset({"pending", "completed", "dismissed", "snoozed"}),
    "snoozed": frozenset({"pending", "in_progress", "completed", "dismissed", "snoozed"}),
    "completed": frozenset(),
    "dismissed": frozenset(),
}
"""The action status matrix of rules §2 as wire strings: ``to in MODEL_ACTION_MOVES[from]``."""

_COMMAND_TARGETS: Final[Mapping[str, str]] = {
    "start": "in_progress",
    "reopen": "pending",
    "complete": "completed",
    "dismiss": "dismissed",
    "snooze": "snoozed",
}

MODEL_MAX_SNOOZE: Final = timedelta(days=365)
"""Snoozes end at most this far ahead; the machine never draws dates near this boundary."""


def model_effective_status(
    status: ActionStatus | str, snoozed_until: datetime | None, now: datetime
) -> str:
    """The status reported at ``now``: a snooze that has ended (``until <= now``) is pending."""
    if str(status) == "snoozed" and snoozed_until is not None and snoozed_until <= now:
        return "pending"
    return str(status)


def model_action_command(
    command: str,
    effective: ActionStatus | str,
    *,
    now: datetime,
    reason: str | None = None,
    until: datetime | None = None,
) -> frozenset[Outcome]:
    """The outcomes rules §2 allow for ``command`` (start, reopen, complete, dismiss, snooze) on
    an action whose effective status is ``effective``."""
    failures: set[Outcome] = set()
    if _COMMAND_TARGETS[command] not in MODEL_ACTION_MOVES[str(effective)]:
        failures.add(Outcome.INVALID_TRANSITION)
    if command == "dismiss" and not _has_text(reason):
        failures.add(Outcome.VALIDATION_FAILED)
    if command == "snooze" and (until is None or not now < until <= now + MODEL_MAX_SNOOZE):
        failures.add(Outcome.VALIDATION_FAILED)
    return frozenset(failures) if failures else frozenset({Outcome.ACCEPTED})


# --- the lifecycle machine -----------------------------------------------------------------

_NOTES: Final = st.none() | st.sampled_from(("", "  ", "اتصال متابعة", " notes with spaces "))
_AMOUNTS: Final = sar_amounts(min_value=Decimal("1000"))
# Mostly real amounts, so guards pass often enough for runs to go deep; sometimes none or zero.
_MONEY: Final = st.one_of(_AMOUNTS, _AMOUNTS, st.none(), st.just(Decimal(0)))


class LifecycleMachine(RuleBasedStateMachine):
    """One customer moved through the lifecycle by random requests, checked against
    :func:`model_stage_change`.

    Rules: request a stage change (to any stage, or to the next one, with or without reason and
    notes, as a drawn role); add a property interest; reject one; set the deal value; set the
    paid amount.

    Invariants: the history grows by exactly one entry per accepted change (its length is
    ``1 + accepted changes`` for a fresh customer) and never changes
    otherwise (append-only); its last ``to_stage`` is the stage; entries chain
    (``from_stage`` = previous ``to_stage``) from the system ``new_lead`` entry; every entered
    stage's guards held at the moment of entering; ``post_sale`` is only entered from
    ``closing``.

    Hooks to override (see the module docstring): :meth:`initial_customers`,
    :meth:`on_start`, :meth:`perform_stage_change`, :meth:`perform_edit`,
    :meth:`observe_customer`.
    """

    customer: Customer
    """The customer as the machine last received it from a hook."""
    now: datetime
    """The machine's clock; it moves forward before every operation."""

    def __init__(self) -> None:
        super().__init__()
        self.accepted_changes = 0
        self._entry_numbers = 0
        self._property_numbers = 0
        self._initial_history_length = 0
        self._history_seen: tuple[StageChange, ...] = ()
        # (entry, facts of the customer when the entry was made) for every accepted change.
        self._entered: list[tuple[StageChange, GuardFacts]] = []

    # --- hooks -------------------------------------------------------------------------------

    def initial_customers(self) -> SearchStrategy[Customer]:
        """Where a run starts; default: half the time a fresh customer at ``new_lead`` (history
        of one), otherwise a customer at any stage (with a history of its own)."""
        return customers(stage=Stage.NEW_LEAD) | customers()

    def on_start(self, customer: Customer) -> None:
        """Called once with the initial customer (store it in your system here)."""

    def perform_stage_change(
        self,
        customer: Customer,
        request: StageChangeRequest,
        *,
        actor: Actor,
        entry_id: str,
        now: datetime,
    ) -> tuple[Customer, Sequence[DomainEvent]]:
        """Apply ``request``; raise the domain's refusal or return ``(customer, events)``."""
        return lifecycle.change_stage(customer, request, actor=actor, entry_id=entry_id, now=now)

    def perform_edit(self, before: Customer, after: Customer) -> Customer:
        """Store a change of the customer's data (interests, deal value, paid amount); return
        the customer as stored. Default: ``after`` as is."""
        return after

    def observe_customer(self) -> Customer:
        """The customer as the system under test holds it now; the invariants check this."""
        return self.customer

    # --- helpers -----------------------------------------------------------------------------

    def _tick(self, minutes: int = 5) -> datetime:
        self.now = self.now + timedelta(minutes=minutes)
        return self.now

    def _edit(self, after: Customer) -> None:
        # ``after`` is the current customer with some data changed.
        before = self.customer
        self.customer = self.perform_edit(before, attrs.evolve(after, updated_at=self._tick()))

    # --- rules -------------------------------------------------------------------------------

    @initialize(data=st.data())
    def start_with_customer(self, data: st.DataObject) -> None:
        """Draw the initial customer."""
        customer = data.draw(self.initial_customers(), label="initial customer")
        self.customer = customer
        self.now = customer.updated_at
        self._initial_history_length = len(customer.stage_history)
        self._history_seen = customer.stage_history
        self.on_start(customer)

    @rule(
        data=st.data(),
        to_stage=st.sampled_from(Stage),
        reason=reasons(),
        notes=_NOTES,
        role=st.sampled_from(Role),
    )
    def request_stage_change(
        self,
        data: st.DataObject,
        to_stage: Stage,
        reason: str | None,
        notes: str | None,
        role: Role,
    ) -> None:
        """Ask for a move to any stage; the model predicts acceptance or the refusal."""
        self._request(data, to_stage, reason=reason, notes=notes, role=role)

    @precondition(lambda self: self.customer.stage is not Stage.POST_SALE)
    @rule(data=st.data(), reason=reasons(), notes=_NOTES, role=st.sampled_from(Role))
    def request_next_stage(
        self, data: st.DataObject, reason: str | None, notes: str | None, role: Role
    ) -> None:
        """Ask for the next stage, so runs get deep into the lifecycle (guards decide)."""
        following = list(Stage)[list(Stage).index(self.customer.stage) + 1]
        self._request(data, following, reason=reason, notes=notes, role=role)

    def _request(
        self,
        data: st.DataObject,
        to_stage: Stage,
        *,
        reason: str | None,
        notes: str | None,
        role: Role,
    ) -> None:
        before = self.customer
        actor = data.draw(actors(organization_id=before.organization_id, role=role), label="actor")
        minutes = data.draw(st.integers(1, 60 * 24 * 3), label="minutes later")
        request = StageChangeRequest(to_stage=to_stage, notes=notes, reason=reason)
        facts = GuardFacts.of(before)
        expected = model_stage_change(before.stage, to_stage, reason=reason, role=role, facts=facts)
        self._entry_numbers += 1
        entry_id = f"stage_machine_{self._entry_numbers}"
        now = self._tick(minutes)
        try:
            after, events = self.perform_stage_change(
                before, request, actor=actor, entry_id=entry_id, now=now
            )
        except (InvalidStageTransition, PermissionDenied) as refusal:
            outcome = _outcome_of(refusal)
            assert outcome in expected, (
                f"{before.stage} → {to_stage} (reason={reason!r}, role={role}, {facts}) "
                f"refused with {outcome}, model expects {set(expected)}"
            )
            assert self.observe_customer() == before, "a refused change changed the customer"
            event(f"stage change refused: {outcome.value}")
            return
        assert Outcome.ACCEPTED in expected, (
            f"{before.stage} → {to_stage} (reason={reason!r}, role={role}, {facts}) accepted, "
            f"model expects {set(expected)}"
        )
        self._check_accepted(before, after, events, request, actor, now)
        self.customer = after
        self.accepted_changes += 1
        event(f"stage change accepted into {after.stage.value}")
        self._entered.append((after.stage_history[-1], GuardFacts.of(after)))

    def _check_accepted(
        self,
        before: Customer,
        after: Customer,
        events: Sequence[DomainEvent],
        request: StageChangeRequest,
        actor: Actor,
        now: datetime,
    ) -> None:
        entry = after.stage_history[-1]
        assert after.stage is request.to_stage
        assert after.updated_at == now
        assert (entry.from_stage, entry.to_stage) == (before.stage, request.to_stage)
        assert entry.changed_by_id == actor.user_id
        assert entry.changed_at == now
        assert not entry.auto_generated
        assert _same_text(entry.reason, request.reason), (entry.reason, request.reason)
        assert _same_text(entry.notes, request.notes), (entry.notes, request.notes)
        # A stage change moves the stage only: the guarded data stay as they were.
        assert GuardFacts.of(after) == GuardFacts.of(before)
        moved = [e for e in events if isinstance(e, CustomerStageChanged)]
        assert len(moved) == 1, events
        assert (moved[0].customer_id, moved[0].from_stage, moved[0].to_stage) == (
            before.id,
            before.stage,
            request.to_stage,
        )
        assert moved[0].organization_id == before.organization_id

    @rule(data=st.data(), status=st.sampled_from(PropertyInterestStatus))
    def add_property_interest(self, data: st.DataObject, status: PropertyInterestStatus) -> None:
        """Add an interest in a new property (any status, rejected included)."""
        self._property_numbers += 1
        interest = data.draw(
            property_interests(
                status=status,
                property_id=f"prop_machine_{self._property_numbers}",
                added_at=self.now,
            ),
            label="interest",
        )
        self._edit(
            attrs.evolve(
                self.customer, property_interests=(*self.customer.property_interests, interest)
            )
        )

    @precondition(lambda self: GuardFacts.of(self.customer).live_interest)
    @rule(pick=st.integers(0, 20))
    def reject_property_interest(self, pick: int) -> None:
        """Mark one non-rejected interest as rejected."""
        interests = list(self.customer.property_interests)
        live = [n for n, i in enumerate(interests) if i.status != PropertyInterestStatus.REJECTED]
        chosen = live[pick % len(live)]
        interests[chosen] = attrs.evolve(interests[chosen], status=PropertyInterestStatus.REJECTED)
        self._edit(attrs.evolve(self.customer, property_interests=tuple(interests)))

    @rule(value=_MONEY)
    def set_deal_value(self, value: Decimal | None) -> None:
        """Set (or clear) ``total_deal_value``."""
        self._edit(attrs.evolve(self.customer, total_deal_value=value))

    @rule(value=_MONEY)
    def set_paid_amount(self, value: Decimal | None) -> None:
        """Set (or clear) ``paid_amount``."""
        self._edit(attrs.evolve(self.customer, paid_amount=value))

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def history_grows_by_one_per_accepted_change(self) -> None:
        """``len(history) == initial length + accepted changes`` (1 + accepted by default)."""
        history = self.observe_customer().stage_history
        assert len(history) == self._initial_history_length + self.accepted_changes

    @invariant()
    def last_entry_is_the_stage(self) -> None:
        """The last history entry's ``to_stage`` is the current stage."""
        customer = self.observe_customer()
        assert customer.stage_history[-1].to_stage is customer.stage

    @invariant()
    def history_chains_from_the_system_entry(self) -> None:
        """The first entry is ``None → new_lead`` by the system; each next entry starts where
        the previous one ended."""
        history = self.observe_customer().stage_history
        first = history[0]
        assert (first.from_stage, first.to_stage) == (None, Stage.NEW_LEAD)
        assert first.auto_generated
        assert first.changed_by_id == SYSTEM_ACTOR_ID
        for previous, entry in pairwise(history):
            assert entry.from_stage is previous.to_stage, (previous, entry)

    @invariant()
    def history_is_append_only(self) -> None:
        """Entries once seen never change or disappear."""
        history = self.observe_customer().stage_history
        assert history[: len(self._history_seen)] == self._history_seen
        self._history_seen = history

    @invariant()
    def entered_stages_met_their_guards(self) -> None:
        """Every stage entered by this run had its guards met at the moment of entering."""
        for entry, facts in self._entered:
            assert model_guards_hold(entry.to_stage, facts), (entry, facts)

    @invariant()
    def post_sale_entered_only_from_closing(self) -> None:
        """Every move into ``post_sale`` came from ``closing``."""
        for entry in self.observe_customer().stage_history:
            if entry.to_stage is Stage.POST_SALE:
                assert entry.from_stage is Stage.CLOSING, entry


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
